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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data (CI has it beside the clone); skip the test cleanly where it is absent."""
    env = os.environ.get("NTK_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
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
