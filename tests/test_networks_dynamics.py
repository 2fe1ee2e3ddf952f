"""The slide model's GD against the slides' gradient formula and finite differences; Lemma 1's closed
forms against numerical integration and literal iteration; kernel regression against its limits."""
import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib.theory import dynamics, kernels, regression
from ntklib.models import networks
from conftest import sphere


@pytest.fixture
def problem(rng):
    X = sphere(rng, 8, 5)
    return X, np.sin(3 * X[:, 0]) + X[:, 1], networks.init_two_layer(0, 64, 5, "erf")


def test_gd_step_uses_the_slides_gradient(problem):
    # dl/dw_r = (1/sqrt m) sum_i (u_i - y_i) a_r sigma'(w_r.x_i) x_i   (proof of Lemma 3)
    X, y, net = problem
    eta = 0.05
    r = net(X) - y
    S = np.exp(-0.5 * (X @ net.W.T) ** 2) * net.a                 # erf: sigma' = exp(-z^2/2)
    grad = (S * r[:, None]).T @ X / np.sqrt(net.width)
    np.testing.assert_allclose(networks.gd_step(net, X, y, eta).W, net.W - eta * grad, atol=tol.ROUNDOFF_ATOL)


def test_gradient_matches_finite_differences(problem):
    X, y, net = problem
    loss = lambda W: 0.5 * np.sum((networks.TwoLayerNet(W, net.a, "erf")(X) - y) ** 2)
    g = (net.W - networks.gd_step(net, X, y, 1.0).W)             # eta = 1: W - W' = grad
    E = np.zeros_like(net.W)
    for (r, k) in [(0, 0), (5, 3), (63, 4)]:
        E[:] = 0
        E[r, k] = 1e-6
        fd = (loss(net.W + E) - loss(net.W - E)) / 2e-6
        assert abs(fd - g[r, k]) < tol.FD_ATOL


def test_antisymmetric_init_starts_at_zero_output(rng):
    X = sphere(rng, 5, 3)
    net = networks.init_two_layer(1, 10, 3, antisymmetric=True)
    np.testing.assert_allclose(net(X), 0.0, atol=tol.FEW_OPS_ATOL)
    np.testing.assert_allclose(net.W[:5], net.W[5:])
    with pytest.raises(ValueError, match="even"):
        networks.init_two_layer(1, 7, 3, antisymmetric=True)


def test_trajectory_records_and_movement(problem):
    X, y, net = problem
    traj = networks.gd_train(net, X, y, 0.01, 40, record_every=10, X_test=X[:3], snapshot_steps=(0, 40))
    assert traj.u.shape == (5, 8) and traj.f_test.shape == (5, 3)
    np.testing.assert_allclose(traj.t, [0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(traj.u[-1], traj.final(X))
    np.testing.assert_allclose(traj.max_move[-1], np.linalg.norm(traj.final.W - net.W, axis=1).max())
    assert traj.max_move[0] == 0 and set(traj.snapshots) == {0, 40}


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("n,d", [(6, 9), (12, 3)])   # both products: G D (n <= 2d) and X (X^T D)
def test_gd_train_equals_direct_gd_steps(rng, activation, n, d):
    # gd_train runs GD in the span of the inputs; it must give exactly the iterates of gd_step on W.
    X, Xt = sphere(rng, n, d), sphere(rng, 4, d)
    y = np.sign(X[:, 0])
    net = networks.init_two_layer(2, 40, d, activation)
    traj = networks.gd_train(net, X, y, 0.05, 30, record_every=10, X_test=Xt, snapshot_steps=(20,))
    cur = net
    for i, k in enumerate(traj.steps):
        if k:
            cur = networks.gd_step(cur, X, y, 0.05, steps=10)
        np.testing.assert_allclose(traj.u[i], cur(X), atol=tol.ROUNDOFF_ATOL)
        np.testing.assert_allclose(traj.f_test[i], cur(Xt), atol=tol.ROUNDOFF_ATOL)
        np.testing.assert_allclose(traj.max_move[i], np.linalg.norm(cur.W - net.W, axis=1).max(), atol=tol.ROUNDOFF_ATOL)
        if k == 20:
            np.testing.assert_allclose(traj.snapshots[20].W, cur.W, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(traj.final.W, cur.W, atol=tol.ROUNDOFF_ATOL)


@pytest.mark.parametrize("n,d", [(30, 20), (30, 10)])   # both products: G D (n <= 2d) and X (X^T D)
def test_gd_train_tracks_pattern_changes_of_the_direct_iterates(rng, n, d):
    # track_patterns counts the (i, r) with 1[w_r(k).x_i >= 0] != 1[w_r(0).x_i >= 0]; recount them on gd_step's W.
    # A narrow net with a large step, so that many patterns change.
    X, y = sphere(rng, n, d), rng.standard_normal(n)
    net = networks.init_two_layer(5, 50, d)
    traj = networks.gd_train(net, X, y, 0.5, 40, record_every=8, track_patterns=True)
    assert networks.gd_train(net, X, y, 0.5, 8).pattern_changes is None     # off by default
    cur, active0 = net, X @ net.W.T >= 0
    for i, k in enumerate(traj.steps):
        if k:
            cur = networks.gd_step(cur, X, y, 0.5, steps=8)
        assert traj.pattern_changes[i] == np.mean((X @ cur.W.T >= 0) != active0)
    assert traj.pattern_changes[0] == 0 and traj.pattern_changes[-1] > 0.01


def test_gd_train_float32_matches_float64_within_the_page_tolerances(rng):
    # The float32 run of 02b_du2019 against float64 on the same net (tolerances measured at the page's sizes).
    n = d = 100
    X, y = sphere(rng, n, d), rng.standard_normal(n)
    out = {dt: networks.gd_train(networks.init_two_layer(1, 400, d, dtype=dt), X, y, 0.3, 100, record_every=5,
                                 track_patterns=True) for dt in (np.float32, np.float64)}
    lo, hi = out[np.float32], out[np.float64]
    loss = lambda tr: np.sum((tr.u - y) ** 2, axis=1)
    np.testing.assert_allclose(loss(lo), loss(hi), rtol=tol.DU2019_FLOAT32_LOSS_RTOL)
    np.testing.assert_allclose(lo.max_move, hi.max_move, rtol=tol.DU2019_FLOAT32_MOVE_RTOL)
    np.testing.assert_allclose(lo.pattern_changes, hi.pattern_changes, rtol=tol.DU2019_FLOAT32_PATTERN_RTOL)


def test_spectral_solution_matches_integration(rng):
    X = sphere(rng, 10, 4)
    H, y, u0 = kernels.ntk_two_layer(X), rng.standard_normal(10), rng.standard_normal(10)
    t = np.linspace(0, 20, 9)
    np.testing.assert_allclose(dynamics.spectral_solution(H, y, t, u0), dynamics.integrate(H, y, t, u0),
                               rtol=tol.ODE_RTOL, atol=tol.ODE_RTOL)


def test_time_varying_integration_matches_commuting_closed_form(rng):
    # H(t) = g(t) H0 commutes with itself, so u(t) = y + exp(-G(t) H0)(u0 - y) with G = int g.
    H0 = kernels.ntk_two_layer(sphere(rng, 6, 3))
    y = rng.standard_normal(6)
    g, G = (lambda s: 1 + np.sin(s)), (lambda s: s + 1 - np.cos(s))
    t = np.linspace(0, 5, 6)
    expected = np.array([dynamics.spectral_solution(H0, y, G(s))[0] for s in t])
    np.testing.assert_allclose(dynamics.integrate(lambda s: g(s) * H0, y, t), expected, atol=tol.ODE_RTOL)


def test_gd_solution_matches_literal_iteration(rng):
    H = kernels.ntk_two_layer(sphere(rng, 7, 3))
    y, u, eta = rng.standard_normal(7), rng.standard_normal(7), 0.3
    expected = [u.copy()]
    for _ in range(5):
        u = u - eta * H @ (u - y)
        expected.append(u.copy())
    np.testing.assert_allclose(dynamics.gd_solution(H, y, eta, range(6), expected[0]), expected, atol=tol.ROUNDOFF_ATOL)


def test_ode_residual_is_first_order_in_the_step(problem):
    X, y, net = problem
    etas = [1e-2, 1e-3, 1e-4]
    r = [networks.ode_residual(net, X, y, eta) for eta in etas]
    slope = np.polyfit(np.log(etas), np.log(r), 1)[0]
    assert abs(slope - 1) < tol.EXPONENT_FIT_ATOL and r[-1] < tol.FIRST_ORDER_FACTOR * etas[-1]


def test_predictor_time_derivative_matches_finite_differences(rng):
    # d f(x, t)/dt = -k(x, X)(u(t) - y): the slide's dynamics of the prediction at any x.
    X, Z = sphere(rng, 8, 4), sphere(rng, 3, 4)
    H, K = kernels.ntk_two_layer(X), kernels.ntk_two_layer(Z, X)
    y, t, h = rng.standard_normal(8), 0.7, 1e-5
    f = lambda s: regression.gradient_flow_predictor(K, H, y, s)[0]
    u = dynamics.spectral_solution(H, y, t)[0]
    np.testing.assert_allclose((f(t + h) - f(t - h)) / (2 * h), -K @ (u - y), atol=tol.FD_ATOL)


def test_predictor_limits(rng):
    X, Z = sphere(rng, 8, 4), sphere(rng, 3, 4)
    H, K = kernels.ntk_two_layer(X), kernels.ntk_two_layer(Z, X)
    y = rng.standard_normal(8)
    # at the training points the predictor is the Lemma 1 solution; as t -> inf it is kernel regression
    np.testing.assert_allclose(regression.gradient_flow_predictor(H, H, y, [0.5, 2.0]),
                               dynamics.spectral_solution(H, y, [0.5, 2.0]), atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(regression.gradient_flow_predictor(K, H, y, 1e7)[0],
                               regression.kernel_regression(K, H, y), atol=tol.CONVERGED_ATOL)
    # interpolation at the training points, and the f0/u0 shift
    np.testing.assert_allclose(regression.kernel_regression(H, H, y), y, atol=tol.LINALG_ATOL)
    f0, u0 = rng.standard_normal(3), rng.standard_normal(8)
    np.testing.assert_allclose(regression.gradient_flow_predictor(K, H, y, 1e7, f0, u0)[0],
                               f0 + regression.kernel_regression(K, H, y - u0), atol=tol.CONVERGED_ATOL)


def test_singular_kernel_ok_at_finite_time_but_not_for_the_inverse(rng):
    X = sphere(rng, 3, 3)
    X = np.vstack([X, X[:1]])                       # duplicate input: H is singular
    H = kernels.ntk_two_layer(X)
    y = np.array([1.0, -1.0, 0.5, 1.0])
    assert np.all(np.isfinite(regression.gradient_flow_predictor(H, H, y, 3.0)))
    with pytest.raises(ValueError, match="not .numerically. positive definite: smallest eigenvalue"):
        regression.kernel_regression(H, H, y)
    np.testing.assert_allclose(regression.kernel_regression(H, H, y, ridge=1e-3)[:3], y[:3], atol=tol.SMALL_RIDGE_FIT_ATOL)


def test_kernel_regression_shares_one_factor_across_label_vectors(rng):
    from ntklib.theory import bounds, spectrum
    X, Z = sphere(rng, 20, 6), sphere(rng, 7, 6)
    H, K = kernels.ntk_two_layer(X), kernels.ntk_two_layer(Z, X)
    Y = np.column_stack([np.sign(X[:, 0]), X[:, 1]])
    ref = K @ np.linalg.inv(H) @ Y                               # explicit inverse as the reference
    np.testing.assert_allclose(regression.kernel_regression(K, bounds.cholesky(H), Y), ref, rtol=tol.LINALG_RTOL,
                               atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(regression.kernel_regression(K, H, Y[:, 1]), ref[:, 1], rtol=tol.LINALG_RTOL,
                               atol=tol.ROUNDOFF_ATOL)
    with pytest.raises(ValueError, match="ridge=0"):
        regression.kernel_regression(K, bounds.cholesky(H), Y, ridge=0.1)
    # the gradient-flow predictor from a precomputed (decreasing-order) spectrum equals the one from H
    t = [0.5, 50.0]
    np.testing.assert_allclose(regression.gradient_flow_predictor(K, spectrum.eigendecomposition(H), Y[:, 0], t),
                               regression.gradient_flow_predictor(K, H, Y[:, 0], t), rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)
