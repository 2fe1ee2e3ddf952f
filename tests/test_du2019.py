"""Du et al. (2019)'s bounds (ntklib.theory.du2019) against things computed independently of their formulas: numerical
integration and literal iteration of the output dynamics, gradient descent on real networks, exactly solvable
one-point and orthogonal-input networks, and Monte Carlo of the random initialisation."""
import math

import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib.theory import du2019, dynamics, kernels
from ntklib.models import networks
from conftest import sphere


def _kernel_with_min_eigenvalue(rng, n, lam_min, lam_max):
    """A random symmetric H with eigenvalues in [lam_min, lam_max], lam_min attained; returns H and that eigenvector."""
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([[lam_min], rng.uniform(lam_min, lam_max, n - 1)])
    return (V * lam) @ V.T, V[:, 0]


def test_flow_bound_holds_and_is_attained_along_the_slowest_direction(rng):
    # Lemma 3.3: if lambda_min(H) >= lambda_0 / 2 then ||y - u(t)||^2 <= exp(-lambda_0 t) ||y - u(0)||^2, with
    # equality when lambda_min(H) = lambda_0 / 2 and y - u(0) is its eigenvector. The ODE is integrated numerically.
    lam0 = 0.6
    H, v = _kernel_with_min_eigenvalue(rng, 5, lam0 / 2, 2.0)
    y, t = rng.standard_normal(5), np.linspace(0.0, 8.0, 9)
    u = dynamics.integrate(H, y, t, u0=y - 1.7 * v, rtol=tol.ODE_SOLVER_RTOL)
    np.testing.assert_allclose(np.sum((u - y) ** 2, axis=1), du2019.flow_loss_bound(t, lam0, 1.7**2), rtol=tol.ODE_RTOL)
    u0 = rng.standard_normal(5)                                    # a generic start: below the bound
    u = dynamics.integrate(H, y, t, u0=u0, rtol=tol.ODE_SOLVER_RTOL)
    slack = 1 + tol.ODE_GLOBAL_ERROR_FACTOR * tol.ODE_SOLVER_RTOL                 # the integrator's error
    assert np.all(np.sum((u - y) ** 2, axis=1) <= du2019.flow_loss_bound(t, lam0, np.sum((u0 - y) ** 2)) * slack)


def test_gd_bound_holds_for_literal_iteration_of_the_linear_model(rng):
    # Theorem 4.1's rate for GD on the outputs, u(k+1) = u(k) - eta H (u(k) - y), iterated literally.
    lam0, eta = 0.5, 0.8
    H, v = _kernel_with_min_eigenvalue(rng, 6, lam0 / 2, 1.0 / eta)   # eta lambda_max <= 1
    y = rng.standard_normal(6)
    for u in (y - v, y + rng.standard_normal(6)):
        r0_sq, sq = np.sum((u - y) ** 2), []
        for _ in range(60):
            sq.append(np.sum((u - y) ** 2))
            u = u - eta * H @ (u - y)
        assert du2019.worst_bound_ratio(np.arange(60), sq, eta, lam0) <= 1.0
        assert np.all(np.array(sq) <= du2019.gd_loss_bound(np.arange(60), eta, lam0, r0_sq) * (1 + tol.ROUNDOFF_RTOL))
    # along the slowest direction the loss falls like (1 - eta lam0 / 2)^(2k): slower than a bound (1 - eta lam0)^k
    # would claim, so the factor 1/2 in the rate is needed
    u, sq = y - v, []
    for _ in range(40):
        sq.append(np.sum((u - y) ** 2))
        u = u - eta * H @ (u - y)
    np.testing.assert_allclose(sq, (1 - eta * lam0 / 2) ** (2 * np.arange(40)), rtol=tol.GD_RTOL)
    assert sq[-1] > (1 - eta * lam0) ** 39


def test_theorem41_and_corollary41_hold_for_a_wide_network(rng):
    # A real over-parameterised ReLU net trained by GD obeys the rate (Theorem 4.1) with lambda_0 of H^infty, and
    # every neuron stays within Corollary 4.1's R'; its patterns barely change (Lemma 3.2).
    n, d, m, eta = 8, 10, 20_000, 0.5
    X, y = sphere(rng, n, d), rng.standard_normal(n)
    lam0 = np.linalg.eigvalsh(kernels.ntk_two_layer(X))[0]
    net = networks.init_two_layer(3, m, d)
    tr = networks.gd_train(net, X, y, eta, 200, record_every=5, track_patterns=True)
    sq = np.sum((tr.u - y) ** 2, axis=1)
    assert sq[-1] < 1e-6 * sq[0]
    assert du2019.worst_bound_ratio(tr.steps, sq, eta, lam0) <= 1.0
    assert tr.max_move.max() <= du2019.movement_radius(n, math.sqrt(sq[0]), m, lam0)
    assert tr.pattern_changes[-1] <= du2019.flip_probability(tr.max_move.max(), bound=True)


def _one_point_net(m, r0):
    """n = 1, x = e_1, every neuron active with margin (w_r.x in [1, 2]), so H(k) = 1 for all k: the dynamics are
    exactly linear, u(k) - y = (1 - eta)^k (u(0) - y), and each w_r moves along x by (eta / sqrt m) sum_k |u(k) - y|."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((m, 3))
    W[:, 0] = rng.uniform(1.0, 2.0, m)
    net = networks.TwoLayerNet(W, np.repeat([1.0, -1.0], m // 2))
    X = np.array([[1.0, 0.0, 0.0]])
    return net, X, net(X) - r0


def test_movement_radius_constant_is_exact_for_one_point():
    # lambda_min(H) = 1 = lambda_0 / 2 with lambda_0 = 2; the movement eta sum_k (1 - eta)^k |r0| / sqrt(m) -> |r0| /
    # sqrt(m), which is Lemma 3.3's flow radius 2 sqrt(n) r0 / (sqrt(m) lambda_0) exactly; Corollary 4.1's GD radius
    # (constant 4) is twice it.
    m, r0 = 64, 0.05
    net, X, y = _one_point_net(m, r0)
    tr = networks.gd_train(net, X, y, 0.5, 120, record_every=120, track_patterns=True)
    assert tr.pattern_changes[-1] == 0.0
    assert np.all(np.linalg.norm(tr.final.W - net.W, axis=1) == pytest.approx(r0 / math.sqrt(m), rel=tol.ROUNDOFF_RTOL))
    assert du2019.movement_radius(1, r0, m, 2.0, method="flow") == pytest.approx(tr.max_move[-1], rel=tol.ROUNDOFF_RTOL)
    assert du2019.movement_radius(1, r0, m, 2.0) == pytest.approx(2 * tr.max_move[-1], rel=tol.ROUNDOFF_RTOL)


def test_movement_radius_holds_for_orthogonal_inputs(rng):
    # n orthonormal inputs, every neuron active on each: H = I exactly, and ||w_r(inf) - w_r(0)|| = ||r0||_2 / sqrt(m)
    # (the residuals add up orthogonally), below R' = 2 sqrt(n) ||r0|| / (sqrt(m) lambda_0) with lambda_0 = 2.
    n, m = 4, 32
    X = np.eye(n)
    W = rng.uniform(1.0, 2.0, (m, n))
    net = networks.TwoLayerNet(W, np.repeat([1.0, -1.0], m // 2))
    y = net(X) + 0.01 * rng.standard_normal(n)
    tr = networks.gd_train(net, X, y, 1.0, 1)                      # eta = 1, H = I: one step reaches y
    np.testing.assert_allclose(tr.u[-1], y, atol=tol.ROUNDOFF_ATOL)
    r0 = np.linalg.norm(tr.u[0] - y)
    np.testing.assert_allclose(tr.max_move[-1], r0 / math.sqrt(m), rtol=tol.GD_RTOL)
    assert tr.max_move[-1] <= du2019.movement_radius(n, r0, m, 2.0, method="flow")


def test_stability_radius_by_monte_carlo_of_the_lemma32_argument(rng):
    # Lemma 3.2's proof: |H_ij(W) - H_ij(0)| <= (1/m) sum_r 1[A_ir or A_jr], A_ir = {|w_r(0).x_i| < R}; its expectation
    # summed over (i, j) must be at most delta lambda_0 / 4 at R = stability_radius (Markov then gives the lemma), and
    # is close to it (the union bound loses only the n diagonal terms' halves: ratio ~ 1 - 1/(2n)), so a constant off
    # by a factor 2 fails. The expectation is estimated by Monte Carlo over w ~ N(0, I).
    n, d, delta = 3, 4, 0.5
    X = sphere(rng, n, d)
    lam0 = np.linalg.eigvalsh(kernels.ntk_two_layer(X))[0]
    R = du2019.stability_radius(n, lam0, delta)
    A = np.abs(rng.standard_normal((2_000_000, d)) @ X.T) < R          # (samples, n)
    union = (A[:, :, None] | A[:, None, :]).mean(axis=0).sum()
    ratio = union / (delta * lam0 / 4)
    assert 0.75 <= ratio <= 1.0 + tol.MC_SIGMAS * math.sqrt(4 * n * n / (2_000_000 * 2 * R / math.sqrt(2 * math.pi)))
    assert ratio == pytest.approx(1 - 1 / (2 * n), abs=tol.DU2019_UNION_RATIO_ATOL)


def test_theorem_width_is_where_the_two_radii_cross():
    n, lam0, r0, delta = 2, 0.5, 1.0, 0.5
    m = du2019.theorem_width(n, lam0, r0, delta)
    R = du2019.stability_radius(n, lam0, delta)
    assert du2019.movement_radius(n, r0, m, lam0) < R <= du2019.movement_radius(n, r0, m - 1, lam0)
    # the closed form of the docstring: 4096 n^5 r0^2 / (2 pi delta^2 lambda_0^4)
    assert m == math.floor(4096 * n**5 * r0**2 / (2 * math.pi * delta**2 * lam0**4)) + 1
    assert du2019.theorem_step(1000, 0.25) == pytest.approx(2.5e-7)


def test_flip_probability_against_monte_carlo(rng):
    d, N = 7, 400_000
    x = sphere(rng, 1, d)[0]
    z = rng.standard_normal((N, d)) @ x
    for R in (0.01, 0.3, 1.5):
        p = du2019.flip_probability(R)
        assert abs(np.mean(np.abs(z) < R) - p) <= tol.MC_SIGMAS * math.sqrt(p * (1 - p) / N)
        assert p <= du2019.flip_probability(R, bound=True)
    assert du2019.flip_probability(1e-6) == pytest.approx(du2019.flip_probability(1e-6, bound=True), rel=tol.LEADING_ORDER_RTOL)


def test_linear_rate_recovers_geometric_sequences():
    k = np.arange(0, 101)
    assert du2019.linear_rate(k, 3.0 * 0.9**k) == pytest.approx(0.9, rel=tol.ROUNDOFF_RTOL)
    mixed = 0.95**k + 5 * 0.5**k                                 # the slower term dominates late
    assert du2019.linear_rate(k, mixed, start=60) == pytest.approx(0.95, rel=tol.ROUNDOFF_RTOL)
    assert du2019.linear_rate(k, mixed) < 0.95


@pytest.mark.parametrize("call, exc, match", [
    (lambda: du2019.gd_rate_bound(-0.1, 0.2), ValueError, "eta"),
    (lambda: du2019.gd_rate_bound(0.1, 0.0), ValueError, "lam0"),
    (lambda: du2019.gd_rate_bound(10.0, 0.5), ValueError, "eta must satisfy"),
    (lambda: du2019.gd_loss_bound([0, 1.5], 0.1, 0.2, 1.0), ValueError, "steps"),
    (lambda: du2019.gd_loss_bound([0, 1], 0.1, 0.2, -1.0), ValueError, "r0_sq"),
    (lambda: du2019.flow_loss_bound(-1.0, 0.2, 1.0), ValueError, "t must be"),
    (lambda: du2019.worst_bound_ratio([1, 2], [1.0, 0.5], 0.1, 0.2), ValueError, "steps must start at 0"),
    (lambda: du2019.worst_bound_ratio([0, 1], [0.0, 0.0], 0.1, 0.2), ValueError, "sq_residual"),
    (lambda: du2019.worst_bound_ratio([0, 1, 2], [1.0, 0.5], 0.1, 0.2), ValueError, "equal length"),
    (lambda: du2019.movement_radius(10, 1.0, 0, 0.2), ValueError, "m must be"),
    (lambda: du2019.movement_radius(10, 1.0, 100, 0.2, method="euler"), ValueError, "method"),
    (lambda: du2019.movement_radius(0, 1.0, 100, 0.2), ValueError, "n must be"),
    (lambda: du2019.stability_radius(10, 0.2, 1.0), ValueError, "delta"),
    (lambda: du2019.theorem_width(10, 0.2, 0.0, 0.1), ValueError, "r0"),
    (lambda: du2019.flip_probability(-0.5), ValueError, "R must be"),
    (lambda: du2019.flip_probability(0.5, bound="yes"), TypeError, "bound"),
    (lambda: du2019.linear_rate([0, 1, 2], [1.0, 0.0, 0.5]), ValueError, "values"),
    (lambda: du2019.linear_rate([0, 1, 2], [1.0, 0.5, 0.2], start=2), ValueError, "two different steps"),
    (lambda: du2019.linear_rate([0, 1], [1.0, 0.5, 0.2]), ValueError, "equal length"),
    (lambda: du2019.linear_rate([0, 1], "ab"), TypeError, "values"),
    (lambda: networks.gd_train(networks.init_two_layer(0, 4, 2), np.eye(2), [0.0, 1.0], 0.1, 2, track_patterns="yes"),
     TypeError, "track_patterns must be True or False"),
])
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
