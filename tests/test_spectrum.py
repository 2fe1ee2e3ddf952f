"""Theorem 4's predicted loss against the simulated linear dynamics; generalization bounds against
closed cases."""
import math

import numpy as np
import pytest

from ntklib import bounds, dynamics, kernels, spectrum
from conftest import sphere


@pytest.fixture
def setup(rng):
    X = sphere(rng, 12, 5)
    return kernels.ntk_two_layer(X), np.sign(rng.standard_normal(12)), rng.standard_normal(12) * 0.3


def test_projections_sum_to_the_squared_norm_and_are_ordered(setup):
    H, y, u0 = setup
    lam, V = spectrum.eigendecomposition(H)
    assert np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(V @ np.diag(lam) @ V.T, H, atol=1e-12)
    np.testing.assert_allclose(spectrum.projections(H, y).sum(), y @ y)
    np.testing.assert_allclose(spectrum.projections(H, y, u0).sum(), (y - u0) @ (y - u0))


def test_flow_loss_matches_integrated_dynamics(setup):
    H, y, u0 = setup
    t = np.linspace(0, 15, 7)
    for start in (None, u0):
        u = dynamics.integrate(H, y, t, start)
        np.testing.assert_allclose(spectrum.predicted_loss_flow(H, y, t, start), ((u - y) ** 2).sum(axis=1), rtol=1e-7)


def test_gd_loss_matches_literal_iteration(setup):
    H, y, u0 = setup
    eta, u, losses = 0.2, u0.copy(), []
    for _ in range(30):
        losses.append(((u - y) ** 2).sum())
        u = u - eta * H @ (u - y)
    np.testing.assert_allclose(spectrum.predicted_loss_gd(H, y, eta, range(30), u0), losses, rtol=1e-10)


def test_label_on_one_eigenvector_decays_at_its_rate(setup):
    H, _, _ = setup
    lam, V = spectrum.eigendecomposition(H)
    t = np.array([0.0, 1.0, 3.0])
    np.testing.assert_allclose(spectrum.predicted_loss_flow(H, V[:, 2], t), np.exp(-2 * lam[2] * t), rtol=1e-10)


def test_bounds_closed_cases():
    n = 8
    H = 2.0 * np.eye(n)
    y = np.ones(n)
    assert math.isclose(bounds.rkhs_norm_sq(H, y), n / 2)
    assert math.isclose(bounds.generalization_bound(H, y), 1.0)               # sqrt(2 * (n/2) / n)
    assert math.isclose(bounds.rademacher_bound(H, y, 0.5),
                        2 * math.sqrt(n / 2) * math.sqrt(2 * n) / n + math.sqrt(math.log(2) / n))
    # Theorem 6: minimised at lam = 1 / sqrt(y^T H^-1 y / n) = sqrt(2), where it equals 2 * 2^(-1/4) / (1 - 2p)
    lam = np.logspace(-2, 2, 401)
    b = bounds.theorem6_bound(H, y, lam, 0.25)
    assert math.isclose(lam[np.argmin(b)], math.sqrt(2), rel_tol=0.03)
    assert math.isclose(b.min(), 2 * 2 ** -0.25 / 0.5, rel_tol=1e-3)


def test_bound_inputs_are_checked():
    with pytest.raises(ValueError, match="p < 1/2"):
        bounds.theorem6_bound(np.eye(2), np.ones(2), 1.0, 0.5)
    with pytest.raises(ValueError, match="not .numerically. positive definite"):
        bounds.generalization_bound(np.zeros((2, 2)), np.ones(2))
