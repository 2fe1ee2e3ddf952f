"""Theorem 4's predicted loss against the simulated linear dynamics; generalization bounds against
closed cases."""
import math

import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib.theory import bounds, dynamics, kernels, spectrum
from conftest import sphere


@pytest.fixture
def setup(rng):
    X = sphere(rng, 12, 5)
    return kernels.ntk_two_layer(X), np.sign(rng.standard_normal(12)), rng.standard_normal(12) * 0.3


def test_projections_sum_to_the_squared_norm_and_are_ordered(setup):
    H, y, u0 = setup
    lam, V = spectrum.eigendecomposition(H)
    assert np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(V @ np.diag(lam) @ V.T, H, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(spectrum.projections(H, y).sum(), y @ y)
    np.testing.assert_allclose(spectrum.projections(H, y, u0).sum(), (y - u0) @ (y - u0))


def test_flow_loss_matches_integrated_dynamics(setup):
    H, y, u0 = setup
    t = np.linspace(0, 15, 7)
    for start in (None, u0):
        u = dynamics.integrate(H, y, t, start)
        np.testing.assert_allclose(spectrum.predicted_loss_flow(H, y, t, start), ((u - y) ** 2).sum(axis=1), rtol=tol.ODE_LOSS_RTOL)


def test_gd_loss_matches_literal_iteration(setup):
    H, y, u0 = setup
    eta, u, losses = 0.2, u0.copy(), []
    for _ in range(30):
        losses.append(((u - y) ** 2).sum())
        u = u - eta * H @ (u - y)
    np.testing.assert_allclose(spectrum.predicted_loss_gd(H, y, eta, range(30), u0), losses, rtol=tol.ROUTES_RTOL)


def test_label_on_one_eigenvector_decays_at_its_rate(setup):
    H, _, _ = setup
    lam, V = spectrum.eigendecomposition(H)
    t = np.array([0.0, 1.0, 3.0])
    np.testing.assert_allclose(spectrum.predicted_loss_flow(H, V[:, 2], t), np.exp(-2 * lam[2] * t), rtol=tol.ROUTES_RTOL)


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


# --- one eigendecomposition / one Cholesky factor, against independent references -----------------------

@pytest.fixture
def mid(rng):
    """A well-conditioned NTK (n = 60 points in d = 30) with true-ish and random labels."""
    X = sphere(rng, 60, 30)
    return kernels.ntk_two_layer(X), np.sign(X[:, 0] + 0.1), np.sign(rng.standard_normal(60))


def test_functions_accept_a_precomputed_spectrum(mid):
    H, y, _ = mid
    spec = spectrum.eigendecomposition(H)
    assert isinstance(spec, spectrum.Spectrum) and spectrum.eigendecomposition(spec) is spec
    np.testing.assert_array_equal(spectrum.projections(spec, y), spectrum.projections(H, y))
    np.testing.assert_array_equal(spectrum.predicted_loss_gd(spec, y, 0.1, [0, 5, 50]),
                                  spectrum.predicted_loss_gd(H, y, 0.1, [0, 5, 50]))
    np.testing.assert_array_equal(spectrum.predicted_loss_flow(spec, y, [0.0, 2.0]),
                                  spectrum.predicted_loss_flow(H, y, [0.0, 2.0]))


def test_projections_against_direct_sums(mid):
    # (v_i . y)^2 by an explicit double loop for a few i, and the moments sum p_i lam_i = y^T H y,
    # sum p_i / lam_i = y^T H^-1 y (explicit inverse), which involve every projection
    H, y, _ = mid
    lam, V = spectrum.eigendecomposition(H)
    p = spectrum.projections(H, y)
    for i in (0, 7, 59):
        assert math.isclose(p[i], sum(V[j, i] * y[j] for j in range(60)) ** 2, rel_tol=1e-10, abs_tol=1e-12)
    assert math.isclose(p @ lam, y @ H @ y, rel_tol=tol.LINALG_RTOL)
    assert math.isclose(p @ (1 / lam), y @ np.linalg.inv(H) @ y, rel_tol=tol.LINALG_RTOL)


def test_rkhs_norm_three_ways(mid):
    # Cholesky + triangular solve (bounds), eigendecomposition (spectrum), explicit inverse (reference)
    H, y, yr = mid
    ref = [v @ np.linalg.inv(H) @ v for v in (y, yr)]
    for v, r in zip((y, yr), ref):
        assert math.isclose(bounds.rkhs_norm_sq(H, v), r, rel_tol=tol.LINALG_RTOL)
        assert math.isclose(spectrum.rkhs_norm_sq(H, v), r, rel_tol=tol.LINALG_RTOL)
        assert math.isclose(bounds.generalization_bound(H, v), math.sqrt(2 * r / 60), rel_tol=tol.LINALG_RTOL)
    # several label vectors against one factor
    chol = bounds.cholesky(H)
    np.testing.assert_allclose(bounds.rkhs_norm_sq(chol, np.column_stack([y, yr])), ref, rtol=tol.LINALG_RTOL)
    np.testing.assert_allclose(bounds.generalization_bound(chol, np.column_stack([y, yr])),
                               np.sqrt(2 * np.array(ref) / 60), rtol=tol.LINALG_RTOL)
    assert math.isclose(bounds.rademacher_bound(chol, y), bounds.rademacher_bound(H, y), rel_tol=tol.LINALG_RTOL)


def test_bound_for_every_prefix_from_one_factor(mid):
    H, y, yr = mid
    ns = [1, 5, 17, 60]
    Y = np.column_stack([y, yr])
    got = bounds.rkhs_norm_sq_prefixes(H, Y, ns)
    for row, n in zip(got, ns):
        Hn = H[:n, :n]
        np.testing.assert_allclose(row, [v[:n] @ np.linalg.inv(Hn) @ v[:n] for v in (y, yr)], rtol=tol.LINALG_RTOL)
    np.testing.assert_allclose(bounds.generalization_bound_prefixes(H, y, ns),
                               [bounds.generalization_bound(H[:n, :n], y[:n]) for n in ns], rtol=tol.LINALG_RTOL)
    chol = bounds.cholesky(H)
    np.testing.assert_allclose(chol.leading(17).L, np.linalg.cholesky(H[:17, :17]), rtol=tol.ROUNDOFF_RTOL, atol=tol.FEW_OPS_ATOL)
    with pytest.raises(ValueError, match="sample sizes"):
        bounds.rkhs_norm_sq_prefixes(H, y, [0, 5])
    with pytest.raises(ValueError, match="sample sizes"):
        bounds.rkhs_norm_sq_prefixes(H, y, [61])
    with pytest.raises(ValueError, match="exceeds"):
        chol.leading(61)


def test_float32_eigendecomposition_within_tolerance(mid):
    H, y, yr = mid
    s64 = spectrum.eigendecomposition(H)
    s32 = spectrum.eigendecomposition(H, dtype=np.float32)
    assert s32.lam.dtype == np.float64 and np.all(np.diff(s32.lam) <= 0)
    lmax = s64.lam[0]
    np.testing.assert_allclose(s32.lam, s64.lam, rtol=0, atol=tol.EIG_FLOAT32_RTOL * lmax)
    for v in (y, yr):
        c32, c64 = np.cumsum(spectrum.projections(s32, v)), np.cumsum(spectrum.projections(s64, v))
        np.testing.assert_allclose(c32 / (v @ v), c64 / (v @ v), atol=10 * tol.EIG_FLOAT32_RTOL)
        steps = [0, 1, 10, 100, 1000]
        np.testing.assert_allclose(spectrum.predicted_loss_gd(s32, v, 1 / lmax, steps) / (v @ v),
                                   spectrum.predicted_loss_gd(s64, v, 1 / lmax, steps) / (v @ v),
                                   atol=10 * tol.EIG_FLOAT32_RTOL)
    with pytest.raises(ValueError, match="float32 or float64"):
        spectrum.eigendecomposition(H, dtype=np.int32)


def test_power_law_exponent_recovers_the_exponent():
    ns = np.array([1000, 2000, 4000, 10000])
    alpha, c = bounds.power_law_exponent(ns, 3.0 * ns ** -0.5)
    assert math.isclose(alpha, -0.5, abs_tol=1e-12) and math.isclose(c, 3.0, rel_tol=1e-10)
    with pytest.raises(ValueError, match="positive"):
        bounds.power_law_exponent(ns, [1, 0, 1, 1])
    with pytest.raises(ValueError, match="equal length"):
        bounds.power_law_exponent(ns, [1, 2])


def test_singular_kernel_errors_name_the_problem():
    H = np.ones((3, 3))
    with pytest.raises(ValueError, match="not .numerically. positive definite"):
        bounds.cholesky(H)
    with pytest.raises(ValueError, match="singular"):
        spectrum.rkhs_norm_sq(H, np.ones(3))
