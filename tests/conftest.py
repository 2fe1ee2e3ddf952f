"""Shared test setup: float64 JAX (closed forms are compared to round-off), hypothesis settings, data."""
import os
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

# No deadline: the first call of a jitted function compiles. Derandomised so CI is reproducible.
settings.register_profile("ntk", deadline=None, derandomize=True, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ntk")


def sphere(rng, n, d):
    """n points uniformly on the unit sphere in R^d (the slides' ||x|| = 1)."""
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# The datasets a run insists on (space-separated names, e.g. "mnist uci graphs"): CI sets it, so a missing or
# misplaced data directory fails the real-data tests instead of skipping every one of them.
REQUIRED_DATA = set(os.environ.get("NTK_REQUIRE_DATA", "").split())


def data_absent(name: str, why: str):
    """Skip a test whose dataset `name` is absent here, or fail if this run requires it (NTK_REQUIRE_DATA)."""
    if name in REQUIRED_DATA or "all" in REQUIRED_DATA:
        pytest.fail(f"{why}, but NTK_REQUIRE_DATA requires {name!r}: point NTK_DATA_DIR at the data directory",
                    pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data (CI has it beside the clone); skip the test cleanly where it is absent, unless
    NTK_REQUIRE_DATA names a dataset (then fail)."""
    env = os.environ.get("NTK_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        if REQUIRED_DATA:
            pytest.fail(f"data directory not found at {path}, but NTK_REQUIRE_DATA={' '.join(sorted(REQUIRED_DATA))}",
                        pytrace=False)
        pytest.skip(f"shared data directory not found at {path}")
    return path


# neural-tangents is the independent reference of many cross-checks, but it is an extra (`ntklib[nt]`): it
# imports only on the pinned jax 0.5.3. Without it (the core on the newest JAX) those tests skip, saying why.
try:
    from neural_tangents import stax as nt_stax
except ImportError:
    nt_stax = None
needs_nt = pytest.mark.skipif(nt_stax is None, reason="neural-tangents is not installed (pip install 'ntklib[nt]'; "
                                                       "it needs jax 0.5.3)")


@pytest.fixture
def offline_data(monkeypatch):
    """No test may reach the internet or a system copy: default mirror lists are emptied, Debian's
    Fashion-MNIST folder is not searched, and no download failure is remembered from another test."""
    import dataclasses

    from ntklib.datasets import _registry, _status
    for name in list(_registry.MIRRORS):
        monkeypatch.setitem(_registry.MIRRORS, name, [])
    monkeypatch.setitem(_registry.REGISTRY, "fashion-mnist",
                        dataclasses.replace(_registry.REGISTRY["fashion-mnist"], system_dirs=()))
    monkeypatch.setattr(_status, "_FAILED", {})
