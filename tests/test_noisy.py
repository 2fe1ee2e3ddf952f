"""RDI and AUX (Hu et al. 2020): the losses as the slides write them, the exact lambda mapping for the
linearised model (closed form, to round-off), the wide-net limit, label-noise transition matrices, bad input."""
import jax.numpy as jnp
import numpy as np
import pytest

from ntklib import datasets, tolerances as tol
from ntklib.theory import kernels, linalg, regression
from ntklib.models import networks, noisy
from conftest import sphere


@pytest.fixture
def setup(rng):
    X, Xt = sphere(rng, 12, 5), sphere(rng, 7, 5)
    y = np.sign(X[:, 0] + 0.3 * X[:, 1])
    return X, Xt, y, networks.init_two_layer(0, 200, 5, "relu")


def _kernels(net, X, Xt):
    act = net.activation
    return (kernels.empirical_ntk_two_layer(net.W, net.a, X, activation=act),
            kernels.empirical_ntk_two_layer(net.W, net.a, Xt, X, activation=act))


def test_losses_are_the_slides_formulas(setup, rng):
    X, _, y, net = setup
    W = net.W + 0.1 * rng.standard_normal(net.W.shape)
    b = rng.standard_normal(len(y))
    lam = 0.7
    f = networks.TwoLayerNet(W, net.a)(X)
    assert np.isclose(float(noisy.rdi_loss(W, net.W, net.a, X, y, lam)),
                      0.5 * np.sum((f - y) ** 2) + 0.5 * lam * np.sum((W - net.W) ** 2), rtol=tol.ROUNDOFF_RTOL)
    assert np.isclose(float(noisy.aux_loss(W, b, net.W, net.a, X, y, lam)),
                      0.5 * np.sum((f + np.sqrt(lam) * b - y) ** 2), rtol=tol.ROUNDOFF_RTOL)


def test_linearization_is_first_order_taylor(setup, rng):
    X, _, _, net = setup
    E = rng.standard_normal(net.W.shape)
    for act in ("relu", "erf"):
        at_w0 = noisy.forward_linearized(net.W, net.W, net.a, X, act)
        np.testing.assert_allclose(at_w0, networks.forward(net.W, net.a, X, act), atol=tol.ROUNDOFF_TIGHT_ATOL)
        # linear in W: f_lin(W0 + s E) - f_lin(W0) = s * <grad f(W0), E>, checked against jax.jvp of the net
        _, jvp = __import__("jax").jvp(lambda W: networks.forward(W, net.a, X, act), (jnp.asarray(net.W),), (jnp.asarray(E),))
        lin = noisy.forward_linearized(net.W + 1e-3 * E, net.W, net.a, X, act) - at_w0
        np.testing.assert_allclose(lin, 1e-3 * np.asarray(jvp), atol=tol.ROUNDOFF_ATOL)


def test_plain_training_is_networks_gd(setup):
    X, Xt, y, net = setup
    mine = noisy.train(net, X, y, "plain", 5.0, 0.05, 200, 50, Xt)   # lam ignored for plain
    ref = networks.gd_train(net, X, y, 0.05, 200, 50, Xt)
    np.testing.assert_allclose(mine.u, ref.u, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(mine.f_test, ref.f_test, atol=tol.ROUNDOFF_ATOL)
    assert mine.lam == 0.0 and np.all(mine.b == 0)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_linearized_rdi_and_aux_are_the_same_gd_and_match_the_closed_form(setup, activation):
    # Theorem 5, exact: for the linearised model the W iterates of RDI and AUX coincide, b_k = sqrt(lam) alpha_k,
    # and the test predictions are f0 + K alpha_k with alpha_k in closed form.
    X, Xt, y, _ = setup
    net = networks.init_two_layer(3, 200, 5, activation)
    lam, eta, steps = 0.5, 0.05, 400
    rdi = noisy.train(net, X, y, "rdi", lam, eta, steps, 50, Xt, linearized=True)
    aux = noisy.train(net, X, y, "aux", lam, eta, steps, 50, Xt, linearized=True)
    np.testing.assert_allclose(rdi.final.W, aux.final.W, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(rdi.f_test, aux.f_test, atol=tol.ROUNDOFF_ATOL)
    H, K = _kernels(net, X, Xt)
    u0, f0 = net(X), net(Xt)
    closed = regression.ridge_gd_predictor(K, H, y, lam, eta, rdi.steps, f0_x=f0, u0=u0)
    np.testing.assert_allclose(rdi.f_test, closed, atol=tol.ROUNDOFF_ATOL)
    alpha = regression.ridge_gd_coefficients(H, y, lam, eta, aux.steps, u0=u0)
    np.testing.assert_allclose(aux.b, np.sqrt(lam) * alpha, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(rdi.u, u0 + alpha @ H, atol=tol.ROUNDOFF_ATOL)                 # train outputs: u0 + H alpha
    np.testing.assert_allclose(aux.fitted(), u0 + alpha @ (H + lam * np.eye(len(y))), atol=tol.ROUNDOFF_ATOL)


def test_limit_is_kernel_ridge_with_ridge_exactly_lambda(setup):
    X, Xt, y, net = setup
    H, K = _kernels(net, X, Xt)
    u0, f0 = net(X), net(Xt)
    lam, eta = 0.3, 0.05
    limit = regression.ridge_gd_predictor(K, H, y, lam, eta, [np.inf], f0_x=f0, u0=u0)[0]
    np.testing.assert_allclose(limit, f0 + regression.kernel_regression(K, H, y - u0, ridge=lam), atol=tol.ROUNDOFF_ATOL)
    # long training on the linearised model reaches it (rate >= lam); a different ridge does not match
    tr = noisy.train(net, X, y, "aux", lam, eta, 4000, 4000, Xt, linearized=True)
    np.testing.assert_allclose(tr.f_test[-1], limit, atol=tol.CONVERGED_ATOL)
    other = f0 + regression.kernel_regression(K, H, y - u0, ridge=2 * lam)
    assert np.abs(tr.f_test[-1] - other).max() > 1e-3
    # finite k matches the iteration alpha <- alpha - eta ((H + lam I) alpha - (y - u0)) literally
    alpha = np.zeros(len(y))
    for _ in range(37):
        alpha = alpha - eta * ((H + lam * np.eye(len(y))) @ alpha - (y - u0))
    np.testing.assert_allclose(regression.ridge_gd_coefficients(H, y, lam, eta, [37], u0=u0)[0], alpha, atol=tol.ROUNDOFF_TIGHT_ATOL)


def test_zero_ridge_steps_and_singular_kernels():
    H = np.diag([2.0, 0.0])           # singular: finite k is fine (alpha grows like eta k), the limit is not
    a = regression.ridge_gd_coefficients(H, [1.0, 1.0], 0.0, 0.1, [0, 10])
    np.testing.assert_allclose(a[0], 0.0)
    np.testing.assert_allclose(a[1], [(1 - 0.8**10) / 2, 1.0])
    with pytest.raises(ValueError, match="does not converge"):
        regression.ridge_gd_coefficients(H, [1.0, 1.0], 0.0, 0.1, [np.inf])
    with pytest.raises(ValueError, match="does not converge"):
        regression.ridge_gd_coefficients(np.eye(2), [1.0, 1.0], 0.0, 2.5, [np.inf])   # eta too large


def test_wide_net_approaches_kernel_ridge_with_H_star(rng):
    # Theorem 5 for the real (nonlinear) net: the gap to f_ridge with the infinite-width H* shrinks with width.
    X, Xt = sphere(rng, 10, 4), sphere(rng, 6, 4)
    y = np.sign(X[:, 0])
    lam, eta, steps = 1.0, 0.1, 300
    ridge = regression.kernel_regression(kernels.ntk_two_layer(Xt, X), kernels.ntk_two_layer(X), y, ridge=lam)
    gaps = {}
    for m in (200, 20_000):
        net = networks.init_two_layer(7, m, 4, "relu", antisymmetric=True)
        for method in ("rdi", "aux"):
            tr = noisy.train(net, X, y, method, lam, eta, steps, steps, Xt)
            gaps[method, m] = np.abs(tr.f_test[-1] - ridge).max()
    for method in ("rdi", "aux"):
        assert gaps[method, 20_000] < tol.HU_WIDE_NET_RTOL * np.abs(ridge).max()
        assert gaps[method, 20_000] < gaps[method, 200] / 3


def test_transition_matrices():
    P = noisy.symmetric_transition_matrix(0.4, 4)
    np.testing.assert_allclose(P.sum(axis=0), 1.0)
    np.testing.assert_allclose(np.diag(P), 0.6)
    np.testing.assert_allclose(P[1, 0], 0.4 / 3)
    y = np.random.default_rng(0).integers(0, 4, 40_000)
    yn = datasets.symmetric_flip(y, 0.4, seed=1, num_classes=4)
    E = noisy.empirical_transition_matrix(y, yn, 4)
    assert np.abs(E - P).max() < tol.MC_SIGMAS * np.sqrt(0.25 / 10_000)      # binomial standard error per column
    pm = np.where(y[:1000] % 2, 1, -1)
    E2 = noisy.empirical_transition_matrix(pm, -pm)
    np.testing.assert_allclose(E2, [[0, 1], [1, 0]])


def test_bad_input(setup):
    X, Xt, y, net = setup
    with pytest.raises(ValueError, match="method"):
        noisy.train(net, X, y, "ridge", 1.0)
    with pytest.raises(ValueError, match="lam"):
        noisy.train(net, X, y, "rdi", -1.0)
    with pytest.raises(ValueError, match="eta"):
        noisy.train(net, X, y, "aux", 1.0, eta=0.0)
    with pytest.raises(ValueError, match="multiple"):
        noisy.train(net, X, y, "aux", 1.0, steps=10, record_every=3)
    with pytest.raises(ValueError, match="length"):
        noisy.train(net, X, y[:-1], "aux", 1.0)
    with pytest.raises(ValueError, match="features"):
        noisy.train(net, X[:, :3], y, "aux", 1.0)
    with pytest.raises(ValueError, match="probability"):
        noisy.symmetric_transition_matrix(1.5, 3)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2, got 1"):
        noisy.symmetric_transition_matrix(0.1, 1)
    with pytest.raises(ValueError, match="0..1"):
        noisy.empirical_transition_matrix([0, 1, 2], [0, 1, 1], 2)


def test_ridge_path_matches_cholesky_solves(setup):
    X, Xt, y, _ = setup
    H, K = kernels.ntk_two_layer(X), kernels.ntk_two_layer(Xt, X)
    lams = [1e-3, 0.5, 12.0]
    path = regression.ridge_path(K, H, y, lams)
    for row, lam in zip(path, lams):
        np.testing.assert_allclose(row, regression.kernel_regression(K, H, y, ridge=lam), atol=tol.LINALG_ATOL)
    with pytest.raises(ValueError, match="lams"):
        regression.ridge_path(K, H, y, [-1.0])
    with pytest.raises(ValueError, match="singular"):
        regression.ridge_path(K, np.diag([1.0] + [0.0] * 11), y, [0.0])


def test_one_step_is_minus_eta_times_the_gradient_of_the_slide_losses(setup):
    import jax
    X, _, y, net = setup
    lam, eta = 0.4, 0.03
    g_rdi = jax.grad(noisy.rdi_loss)(jnp.asarray(net.W), net.W, net.a, X, y, lam)
    np.testing.assert_allclose(noisy.train(net, X, y, "rdi", lam, eta, 1, 1).final.W, net.W - eta * np.asarray(g_rdi),
                               atol=tol.ROUNDOFF_TIGHT_ATOL)
    # AUX from b = 0: the first step moves W like plain training and b by -eta sqrt(lam) (f - y)
    tr = noisy.train(net, X, y, "aux", lam, eta, 1, 1)
    g_w, g_b = jax.grad(noisy.aux_loss, argnums=(0, 1))(jnp.asarray(net.W), jnp.zeros(len(y)), net.W, net.a, X, y, lam)
    np.testing.assert_allclose(tr.final.W, net.W - eta * np.asarray(g_w), atol=tol.ROUNDOFF_TIGHT_ATOL)
    np.testing.assert_allclose(tr.b[-1], -eta * np.asarray(g_b), atol=tol.ROUNDOFF_TIGHT_ATOL)
    np.testing.assert_allclose(tr.b[-1], -eta * np.sqrt(lam) * (net(X) - y), atol=tol.ROUNDOFF_TIGHT_ATOL)


def test_ridge_flow_predictor(setup):
    X, Xt, y, _ = setup
    H, K = kernels.ntk_two_layer(X), kernels.ntk_two_layer(Xt, X)
    t = [0.0, 0.5, 3.0, 1e9]
    np.testing.assert_allclose(regression.ridge_flow_predictor(K, H, y, 0.0, t), regression.gradient_flow_predictor(K, H, y, t),
                               atol=tol.LINALG_ATOL)
    lam = 0.7
    np.testing.assert_allclose(regression.ridge_flow_predictor(K, H, y, lam, t),
                               regression.gradient_flow_predictor(K, H + lam * np.eye(len(y)), y, t), atol=tol.LINALG_ATOL)
    np.testing.assert_allclose(regression.ridge_flow_predictor(K, H, y, lam, [1e9])[0], regression.ridge_path(K, H, y, [lam])[0],
                               atol=tol.LINALG_ATOL)
    # several label vectors at once, with a shared eigendecomposition
    Y = np.stack([y, -y, np.ones_like(y)])
    eig = linalg.eigh_psd(H)
    out = regression.ridge_path(K, H, Y, [0.1, 1.0], eig=eig)
    assert out.shape == (3, 2, len(Xt))
    np.testing.assert_allclose(out[1], -regression.ridge_path(K, H, y, [0.1, 1.0]), atol=tol.ROUNDOFF_ATOL)
    assert regression.ridge_flow_predictor(K, H, Y, lam, t, eig=eig).shape == (3, 4, len(Xt))
    with pytest.raises(ValueError, match="last dimension"):
        regression.ridge_path(K, H, y[:-1], [1.0])
    with pytest.raises(ValueError, match="times"):
        regression.ridge_flow_predictor(K, H, y, lam, [-1.0])


def test_train_many_equals_separate_runs(setup):
    X, Xt, y, net = setup
    configs = [("plain", 0.0, False), ("rdi", 0.5, True), ("aux", 0.5, False), ("aux", 2.0, True)]
    many = noisy.train_many(net, X, y, configs, 0.05, 60, 20, Xt)
    for (method, lam, lin), tr in zip(configs, many):
        one = noisy.train(net, X, y, method, lam, 0.05, 60, 20, Xt, linearized=lin)
        assert (tr.method, tr.lam, tr.linearized) == (method, lam, lin)
        np.testing.assert_allclose(tr.f_test, one.f_test, atol=tol.ROUNDOFF_TIGHT_ATOL)
        np.testing.assert_allclose(tr.b, one.b, atol=tol.ROUNDOFF_TIGHT_ATOL)
    with pytest.raises(ValueError, match="configs"):
        noisy.train_many(net, X, y, [])


def test_closest_ridge_recovers_the_ridge_of_a_cholesky_solve(rng):
    # The reference is kernel_regression (a Cholesky solve, no eigendecomposition), at ridges on and off the grid.
    X = sphere(rng, 30, 4)
    H = kernels.ntk_two_layer(X)
    Xt = sphere(rng, 12, 4)
    K = kernels.ntk_two_layer(Xt, X)
    y = rng.standard_normal(30)
    grid = np.logspace(-3, 3, 601)
    for lam in (grid[150], grid[400], 0.05):
        f = regression.kernel_regression(K, H, y, ridge=lam)
        got = regression.closest_ridge(K, H, y, f, grid)
        assert abs(np.log10(got / lam)) <= np.diff(np.log10(grid))[0] / 2 + tol.ROUNDOFF_ATOL, (lam, got)
    with pytest.raises(ValueError, match="f_x has length 3"):
        regression.closest_ridge(K, H, y, np.ones(3), grid)

