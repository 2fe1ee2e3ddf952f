"""ntklib.models.jacot (Jacot, Gabriel & Hongler 2018) against independent references: neural-tangents' kernels and
predictions, a Monte Carlo over initialisations of the network, an explicit Jacobian contraction, automatic
differentiation (deepnets.train), an ODE solution by the matrix exponential of the joint system, and power
iteration (the paper's method for the kernel principal components)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from conftest import needs_nt

from ntklib import tolerances as tol
from ntklib.theory import kernels
from ntklib.models import deepnets as dn
from ntklib.models import evolution as ev
from ntklib.models import jacot


def _circle(n, rng):
    g = rng.uniform(-np.pi, np.pi, n)
    return np.stack([np.cos(g), np.sin(g)], axis=1)


# ------------------------------------------------------------------------------------------------ the network

@needs_nt
@pytest.mark.parametrize("hidden,beta", [(1, 0.1), (3, 0.1), (4, 1.0)])
def test_limit_kernels_are_their_recursion_as_neural_tangents_computes_it(rng, hidden, beta):
    # Their Proposition 1 and Theorem 1 for an L = hidden + 1 net: neural-tangents' NTK parameterisation with
    # W_std = 1, b_std = beta; kernels.fc_relu_ntk's depth counts the hidden layers.
    from neural_tangents import stax
    X, Z = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    _, _, kernel_fn = stax.serial(*[stax.Dense(64, W_std=1.0, b_std=beta), stax.Relu()] * hidden,
                                  stax.Dense(1, W_std=1.0, b_std=beta))
    k = kernel_fn(X, Z, ("ntk", "nngp"))
    ntk, nngp = kernels.fc_relu_ntk(X, Z, depth=hidden, W_std=1.0, b_std=beta, return_nngp=True)
    np.testing.assert_allclose(ntk, np.asarray(k.ntk), atol=tol.CLOSED_FORM_ATOL)
    np.testing.assert_allclose(nngp, np.asarray(k.nngp), atol=tol.CLOSED_FORM_ATOL)


def test_network_matches_its_limit_kernels_on_average(rng):
    # Monte Carlo over initialisations of ntk_mlp_apply's network: the mean empirical NTK is Theta_inf and the
    # second moment of the outputs is Sigma (their Theorem 1 and Proposition 1), up to the O(1/n) bias of a
    # width-256 net (measured 1%, well inside the Monte Carlo error of 300 draws).
    X = rng.standard_normal((4, 3))
    ntk, nngp = kernels.fc_relu_ntk(X, depth=3, W_std=1.0, b_std=0.1, return_nngp=True)
    apply = jax.jit(jacot.ntk_mlp_apply)
    draws, K, F = 300, [], []
    for s in range(draws):
        p = jacot.init_ntk_mlp((7, s), (3, 256, 256, 256, 1))
        K.append(jacot.ntk_mlp_ntk(p, X))
        F.append(np.asarray(apply(p, X))[:, 0])
    K, F = np.array(K), np.array(F)
    FF = F[:, :, None] * F[:, None, :]
    for samples, ref in ((K, ntk), (FF, nngp)):
        se = samples.std(axis=0, ddof=1) / np.sqrt(draws)
        assert np.all(np.abs(samples.mean(axis=0) - ref) <= tol.MC_SIGMAS * se)


def test_network_is_their_recursion_written_out(rng):
    # alpha~(l+1) = W alpha / sqrt(n_l) + beta b, relu in between, by hand in numpy
    p = jacot.init_ntk_mlp(3, (3, 5, 4, 2))
    X = rng.standard_normal((6, 3))
    h = X
    for i, layer in enumerate(p):
        W, b = np.asarray(layer["W"]), np.asarray(layer["b"])
        z = h @ W / np.sqrt(W.shape[0]) + 0.1 * b
        h = np.maximum(z, 0) if i < len(p) - 1 else z
    np.testing.assert_allclose(np.asarray(jacot.ntk_mlp_apply(p, X)), h, rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(np.asarray(jacot.ntk_mlp_apply(p, X[0])), h[0], rtol=tol.ROUTES_RTOL)


def test_init_is_standard_normal_deterministic_and_per_layer():
    p = jacot.init_ntk_mlp((1, 2), (30, 40, 50, 1), dtype=np.float32)
    q = jacot.init_ntk_mlp((1, 2), (30, 40, 50, 1), dtype=np.float32)
    for a, b in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(q)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert a.dtype == jnp.float32
    W = np.asarray(p[1]["W"]).ravel()
    assert abs(W.mean()) < tol.MC_SIGMAS / np.sqrt(W.size) and abs(W.var() - 1) < tol.MC_SIGMAS * np.sqrt(2 / W.size)
    assert [l["W"].shape for l in p] == [(30, 40), (40, 50), (50, 1)]
    other = jacot.init_ntk_mlp((1, 3), (30, 40, 50, 1), dtype=np.float32)
    assert not np.allclose(np.asarray(p[1]["W"]), np.asarray(other[1]["W"]))


@pytest.mark.parametrize("sizes", [(3, 7, 6, 1), (2, 5, 5, 5, 3)])
def test_layerwise_ntk_equals_the_jacobian_contraction(rng, sizes):
    p = jacot.init_ntk_mlp(0, sizes)
    X1, X2 = rng.standard_normal((5, sizes[0])), rng.standard_normal((3, sizes[0]))
    for beta in (0.1, 1.0):
        apply = lambda q, X, beta=beta: jacot.ntk_mlp_apply(q, X, beta)
        np.testing.assert_allclose(jacot.ntk_mlp_ntk(p, X1, X2, beta=beta), ev.empirical_ntk(apply, p, X1, X2),
                                   rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(jacot.ntk_mlp_ntk(p, X1), ev.empirical_ntk(jacot.ntk_mlp_apply, p, X1), rtol=tol.ROUTES_RTOL)


# ------------------------------------------------------------------------------------------------ training

@pytest.mark.parametrize("sizes,factored", [((2, 9, 9, 9, 1), True), ((2, 9, 9, 9, 1), False), ((3, 6, 5, 2), True),
                                            ((3, 6, 2), None)])
def test_train_gd_is_gradient_descent_by_autodiff(rng, sizes, factored):
    # the hand-written forward/backward pass with factored hidden updates = deepnets.train (jax.grad) with SGD
    p = jacot.init_ntk_mlp(5, sizes)
    X = rng.standard_normal((7, sizes[0]))
    Y = rng.standard_normal((7, sizes[-1]))
    steps, lr = 25, 0.7
    run = jacot.train_gd(p, X, Y, lr, steps, beta=0.3, factored=factored)
    ref = dn.train(jacot.ntk_mlp_apply, p, X, Y, optimizer=dn.SGD(lr), steps=steps, loss="mse", record_every=1,
                   apply_args=(0.3,), callback=lambda s, q: np.asarray(jacot.ntk_mlp_apply(q, X, 0.3)))
    np.testing.assert_allclose(run.outputs, np.array(ref.records), rtol=tol.GD_RTOL, atol=tol.ROUNDOFF_TIGHT_ATOL)
    np.testing.assert_allclose(run.loss[:-1], ref.batch_loss, rtol=tol.GD_RTOL)
    for a, b in zip(jax.tree_util.tree_leaves(run.params), jax.tree_util.tree_leaves(ref.final)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol.GD_RTOL, atol=tol.ROUNDOFF_TIGHT_ATOL)


def test_train_gd_chooses_factored_updates_for_wide_nets(rng):
    # factored and dense storage give the same iterates; the default factors only where the factors are small
    p = jacot.init_ntk_mlp(1, (2, 200, 200, 1))
    X, y = rng.standard_normal((3, 2)), rng.standard_normal(3)
    a, b = jacot.train_gd(p, X, y, 1.0, 10, factored=True), jacot.train_gd(p, X, y, 1.0, 10, factored=False)
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=tol.GD_RTOL, atol=tol.ROUNDOFF_TIGHT_ATOL)
    assert jacot.train_gd(p, X, y, 1.0, 0).outputs.shape == (1, 3, 1)


# ------------------------------------------------------------------------------------------------ the limiting Gaussian

def _kernels(X, Xs, hidden=3):
    T, S = kernels.fc_relu_ntk(np.vstack([Xs, X]), depth=hidden, W_std=1.0, b_std=0.1, return_nngp=True)
    m = len(Xs)
    return T[:m, m:], T[m:, m:], S[:m, :m], S[:m, m:], S[m:, m:]


@needs_nt
@pytest.mark.parametrize("t", [None, 30.0, 500.0])
def test_limiting_gaussian_equals_neural_tangents_ensemble_prediction(rng, t):
    import neural_tangents as nt
    from neural_tangents import stax
    X, Xs, y = _circle(4, rng), _circle(9, rng), rng.standard_normal(4)
    _, _, kernel_fn = stax.serial(*[stax.Dense(64, W_std=1.0, b_std=0.1), stax.Relu()] * 3,
                                  stax.Dense(1, W_std=1.0, b_std=0.1))
    predict = nt.predict.gradient_descent_mse_ensemble(kernel_fn, X, y[:, None], learning_rate=1.0)
    ref = predict(t=t, x_test=Xs, get="ntk", compute_cov=True)
    ours = jacot.limiting_gaussian(*_kernels(X, Xs), y, t=t)
    scale = np.abs(np.asarray(ref.covariance)).max()
    np.testing.assert_allclose(ours.mean, np.asarray(ref.mean)[:, 0], atol=tol.CLOSED_FORM_ATOL)
    np.testing.assert_allclose(ours.cov, np.asarray(ref.covariance), atol=tol.CLOSED_FORM_ATOL * max(scale, 1.0))


@pytest.mark.parametrize("t", [None, 40.0])
def test_limiting_gaussian_is_kernel_gradient_descent_on_gaussian_initial_functions(rng, t):
    # Monte Carlo: draw f_0 ~ N(0, Sigma) jointly on (X, x), move it by the joint linear ODE
    # d/dt [f(X), f(x)] = -(1/N) [Theta(X, X); Theta(x, X)] (f(X) - y) solved by a matrix exponential (t = None:
    # a long time), and compare the sample mean and covariance with the closed form.
    X, Xs, y = _circle(4, rng), _circle(5, rng), rng.standard_normal(4)
    T, S = kernels.fc_relu_ntk(np.vstack([X, Xs]), depth=3, W_std=1.0, b_std=0.1, return_nngp=True)
    N, m, draws = 4, 5, 40_000
    f0 = rng.multivariate_normal(np.zeros(N + m), S, size=draws, method="eigh")
    A = np.zeros((N + m + 1, N + m + 1))              # augmented with a constant 1 for the -y source term
    A[:N + m, :N] = -T[:, :N] / N
    A[:N + m, -1] = T[:, :N] @ y / N
    E = scipy.linalg.expm(A * (2000.0 if t is None else t))
    ft = (np.hstack([f0, np.ones((draws, 1))]) @ E.T)[:, N:N + m]
    ours = jacot.limiting_gaussian(T[N:, :N], T[:N, :N], S[N:, N:], S[N:, :N], S[:N, :N], y, t=t)
    sd = np.sqrt(np.diag(ours.cov))
    assert np.all(np.abs(ft.mean(axis=0) - ours.mean) <= tol.MC_SIGMAS * sd / np.sqrt(draws))
    emp = np.cov(ft, rowvar=False)
    se = np.sqrt((ours.cov ** 2 + np.outer(np.diag(ours.cov), np.diag(ours.cov))) / draws)   # Gaussian 2nd moments
    assert np.all(np.abs(emp - ours.cov) <= tol.MC_SIGMAS * se + tol.ROUNDOFF_ATOL)


def test_limiting_gaussian_vanishes_at_the_data_and_its_percentiles(rng):
    X, y = _circle(4, rng), rng.standard_normal(4)
    g = jacot.limiting_gaussian(*_kernels(X, X), y)
    np.testing.assert_allclose(g.mean, y, atol=tol.LINALG_ATOL)
    assert np.abs(g.cov).max() < tol.LINALG_ATOL
    Xs = _circle(6, rng)
    g = jacot.limiting_gaussian(*_kernels(X, Xs), y)
    np.testing.assert_allclose(g.percentile(50), g.mean, rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(g.percentile(90) - g.mean, 1.2815515655446004 * g.std, rtol=tol.ROUNDOFF_RTOL)
    np.testing.assert_allclose(g.percentile(10) - g.mean, -(g.percentile(90) - g.mean), rtol=tol.ROUNDOFF_RTOL)


# ------------------------------------------------------------------------------------------------ kernel PCA

def test_kernel_pca_matches_power_iteration_and_predicts_linear_gd(rng):
    X = rng.standard_normal((30, 5))
    K = kernels.fc_relu_ntk(X, depth=3, W_std=1.0, b_std=0.1)
    N = len(X)
    pca = jacot.kernel_pca(K, k=3)
    # power iteration with deflation on Pi = K / N (the paper's method): an independent eigen-solver
    P, lam_pi = K / N, []
    for i in range(3):
        v = np.ones(N) + rng.standard_normal(N) * 0.1
        for _ in range(3000):
            v = P @ v
            v /= np.linalg.norm(v)
        lam_pi.append(v @ P @ v)
        np.testing.assert_allclose(np.abs(v * np.sqrt(N)), np.abs(pca.values[:, i]), atol=tol.LINALG_ATOL)
        P = P - lam_pi[-1] * np.outer(v, v)
    np.testing.assert_allclose(pca.lam, lam_pi, rtol=tol.LINALG_RTOL)
    # orthonormal in L2(p_in), exact on the data under extend(), and the mean of each is >= 0
    np.testing.assert_allclose(pca.coefficients(pca.values.T), np.eye(3), atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(pca.extend(K), pca.values, rtol=tol.LINALG_RTOL, atol=tol.ROUNDOFF_ATOL)
    assert np.all(pca.values.mean(axis=0) >= 0)
    # the error along f^(i) under GD on the linear model r <- r - lr (K/N) r, simulated step by step
    r0, lr, steps = rng.standard_normal(N), 0.5, np.arange(0, 41, 10)
    r, out = r0.copy(), []
    for k in range(41):
        if k in steps:
            out.append(pca.coefficients(r))
        r = r - lr * (K / N) @ r
    np.testing.assert_allclose(np.array(out), pca.gd_decay(lr, steps) * pca.coefficients(r0), rtol=tol.GD_RTOL,
                               atol=tol.ROUNDOFF_TIGHT_ATOL)


# ------------------------------------------------------------------------------------------------ bad input

def test_bad_input_is_a_clear_error(rng):
    p = jacot.init_ntk_mlp(0, (2, 4, 4, 1))
    X, y = rng.standard_normal((3, 2)), rng.standard_normal(3)
    with pytest.raises(ValueError, match="sizes"):
        jacot.init_ntk_mlp(0, (2,))
    with pytest.raises(ValueError, match="dtype"):
        jacot.init_ntk_mlp(0, (2, 3), dtype=np.int32)
    with pytest.raises(ValueError, match="seed"):
        jacot.init_ntk_mlp(-1, (2, 3))
    with pytest.raises(ValueError, match="X must be"):
        jacot.ntk_mlp_apply(p, rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="X1 has 5 features"):
        jacot.ntk_mlp_ntk(p, rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="beta"):
        jacot.ntk_mlp_ntk(p, X, beta=-1.0)
    with pytest.raises(ValueError, match="lr"):
        jacot.train_gd(p, X, y, 0.0, 10)
    with pytest.raises(ValueError, match="steps"):
        jacot.train_gd(p, X, y, 1.0, -1)
    with pytest.raises(ValueError, match="Y"):
        jacot.train_gd(p, X, rng.standard_normal(4), 1.0, 1)
    with pytest.raises(ValueError, match="factored"):
        jacot.train_gd(p, X, y, 1.0, 1, factored="yes")
    T, Tt, S, Sx, St = _kernels(_circle(3, rng), _circle(2, rng))
    with pytest.raises(ValueError, match="y has length"):
        jacot.limiting_gaussian(T, Tt, S, Sx, St, np.ones(4))
    with pytest.raises(ValueError, match="ntk_xX and nngp_xX"):
        jacot.limiting_gaussian(T, Tt, S, Sx[:, :2], St, np.ones(3))
    with pytest.raises(ValueError, match="nngp_xx"):
        jacot.limiting_gaussian(T, Tt, S[:1, :1], Sx, St, np.ones(3))
    with pytest.raises(ValueError, match="ntk_XX"):
        jacot.limiting_gaussian(T, np.ones((3, 3)), S, Sx, St, np.ones(3))
    with pytest.raises(ValueError, match="t must be"):
        jacot.limiting_gaussian(T, Tt, S, Sx, St, np.ones(3), t=-1.0)
    g = jacot.limiting_gaussian(T, Tt, S, Sx, St, np.ones(3))
    with pytest.raises(ValueError, match="percentile"):
        g.percentile(100)
    K = kernels.fc_relu_ntk(X, depth=1)
    with pytest.raises(ValueError, match="k must be"):
        jacot.kernel_pca(K, k=4)
    pca = jacot.kernel_pca(K)
    with pytest.raises(ValueError, match="steps"):
        pca.gd_decay(0.1, [-1])
    with pytest.raises(ValueError, match="r must hold"):
        pca.coefficients(np.ones(5))
    with pytest.raises(ValueError, match="K_xX"):
        pca.extend(np.ones((2, 5)))
    with pytest.raises(ValueError, match="not symmetric"):
        jacot.kernel_pca(np.array([[1.0, 0.5], [0.0, 1.0]]))


# ------------------------------------------------------------------------------------------------ linearised dynamics

def test_linearised_outputs_are_the_taylor_model_trained_by_the_same_steps(rng):
    # deepnets.linearize (a jvp around the initial parameters) trained by SGD on the same batches, against the
    # kernel recursion; and the fixed-data special case against dynamics.gd_solution
    from ntklib.theory import dynamics
    p = jacot.init_ntk_mlp(2, (2, 8, 8, 1))
    pool = rng.standard_normal((24, 2))
    y = np.sin(pool[:, 0]) * pool[:, 1]
    steps, N, lr = 6, 4, 0.8
    idx = dn.minibatch_indices(len(pool), N, steps, 3)
    f_lin = dn.linearize(jacot.ntk_mlp_apply)
    tr = dn.train(f_lin, p, pool, y, optimizer=dn.SGD(lr), steps=steps, loss="mse", batch_size=N, seed=3,
                  record_every=1, apply_args=(p,), callback=lambda s, q: q)
    ref = np.array([np.asarray(f_lin(tr.records[s], pool[idx[s]], p))[:, 0] for s in range(steps)])
    B = pool[idx].reshape(-1, 2)
    K = jacot.ntk_mlp_ntk(p, B)
    f0 = np.asarray(jacot.ntk_mlp_apply(p, B))[:, 0].reshape(steps, N)
    np.testing.assert_allclose(jacot.linearised_outputs(K, f0, y[idx], lr), ref, rtol=tol.GD_RTOL, atol=tol.ROUNDOFF_ATOL)
    X = pool[:N]
    KX = jacot.ntk_mlp_ntk(p, X)
    fX = np.asarray(jacot.ntk_mlp_apply(p, X))[:, 0]
    same = jacot.linearised_outputs(np.kron(np.ones((steps, steps)), KX), np.tile(fX, (steps, 1)),
                                    np.tile(y[:N], (steps, 1)), lr)
    np.testing.assert_allclose(same, dynamics.gd_solution(KX / N, y[:N], lr, np.arange(steps), fX), rtol=tol.ROUTES_RTOL)


def test_train_gd_on_per_step_batches_is_sgd_by_autodiff(rng):
    p = jacot.init_ntk_mlp(4, (2, 7, 7, 7, 1))
    pool = rng.standard_normal((30, 2))
    y = pool[:, 0] * pool[:, 1]
    steps, N, lr = 12, 5, 1.0
    idx = dn.minibatch_indices(len(pool), N, steps, 9)
    run = jacot.train_gd(p, pool[idx], y[idx], lr, steps, factored=True)
    ref = dn.train(jacot.ntk_mlp_apply, p, pool, y, optimizer=dn.SGD(lr), steps=steps, loss="mse", batch_size=N,
                   seed=9, record_every=1, callback=lambda s, q: q)
    outs = np.array([np.asarray(jacot.ntk_mlp_apply(ref.records[s], pool[idx[s]]))[:, 0] for s in range(steps)])
    np.testing.assert_allclose(run.outputs[:steps, :, 0], outs, rtol=tol.GD_RTOL, atol=tol.ROUNDOFF_TIGHT_ATOL)
    np.testing.assert_allclose(run.loss[:steps], ref.batch_loss, rtol=tol.GD_RTOL)
    np.testing.assert_allclose(run.outputs[steps, :, 0], np.asarray(jacot.ntk_mlp_apply(ref.final, pool[idx[-1]]))[:, 0],
                               rtol=tol.GD_RTOL)
    with pytest.raises(ValueError, match="batches but steps"):
        jacot.train_gd(p, pool[idx], y[idx], lr, steps + 1)
    with pytest.raises(ValueError, match="K must be"):
        jacot.linearised_outputs(np.eye(3), np.zeros((2, 2)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="Y must be"):
        jacot.linearised_outputs(np.eye(4), np.zeros((2, 2)), np.zeros((2, 3)), 0.1)
