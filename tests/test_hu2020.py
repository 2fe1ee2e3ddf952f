"""ntklib.models.noisy_sweep (the companion page 04a_hu2020): GD in the span of the training inputs against GD on W
(ntklib.models.noisy, autodiff), the paper's lambda against a directly minimised loss, exact-rate label noise, early
stopping, the stable step against the linear recursion, bad input."""
import numpy as np
import pytest

from ntklib import _validate
from ntklib import tolerances as tol
from ntklib.theory import kernels, regression
from ntklib.models import networks, noisy, noisy_sweep
from conftest import sphere


@pytest.fixture
def data(rng):
    X, Xe = sphere(rng, 12, 5), sphere(rng, 9, 5)
    y1, y2 = np.sign(X[:, 0] + 0.2), np.sign(X[:, 1] - 0.1)
    return X, Xe, y1, y2


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_span_iterates_are_those_of_gd_on_w(data, activation):
    # two routes to the same iterates: noisy.train_many updates W by jax.grad of the loss; train_span updates
    # the span coefficients and pre-activations by hand. Several runs, labels and step sizes at once.
    X, Xe, y1, y2 = data
    net = networks.init_two_layer(3, 80, 5, activation)
    configs = [("plain", 0.0, y1), ("rdi", 0.7, y2), ("aux", 0.7, y1), ("aux", 3.0, y2), ("rdi", 3.0, y1)]
    etas = [0.05, 0.05, 0.04, 0.03, 0.03]
    runs = noisy_sweep.train_span(net, X, configs, etas, [0, 10, 30, 120], Xe)
    for (method, lam, y), eta, run in zip(configs, etas, runs):
        ref = noisy.train_many(net, X, y, [(method, lam, False)], eta, 120, 10, Xe)[0]
        at = [0, 1, 3, 12]
        assert run.method == method and run.lam == lam and run.eta == eta
        np.testing.assert_allclose(run.u, ref.u[at], atol=tol.SPAN_GD_ATOL)
        np.testing.assert_allclose(run.f_eval, ref.f_test[at], atol=tol.SPAN_GD_ATOL)
        np.testing.assert_allclose(run.b, ref.b[at], atol=tol.SPAN_GD_ATOL)
        np.testing.assert_allclose(run.weights(net, X).W, ref.final.W, atol=tol.SPAN_GD_ATOL)
        assert run.distance == pytest.approx(np.linalg.norm(ref.final.W - net.W), abs=tol.SPAN_GD_ATOL)
        np.testing.assert_allclose(run.fitted(), ref.fitted()[at], atol=tol.SPAN_GD_ATOL)


def test_span_float32_follows_float64(data):
    X, Xe, y1, _ = data
    net64 = networks.init_two_layer(0, 60, 5)
    net32 = networks.TwoLayerNet(net64.W.astype(np.float32), net64.a.astype(np.float32))
    r64 = noisy_sweep.train_span(net64, X, [("aux", 1.0, y1)], 0.05, [0, 50], Xe)[0]
    r32 = noisy_sweep.train_span(net32, X.astype(np.float32), [("aux", 1.0, y1)], 0.05, [0, 50], Xe.astype(np.float32))[0]
    assert r32.f_eval.dtype == np.float32
    np.testing.assert_allclose(r32.f_eval, r64.f_eval, atol=tol.FLOAT32_ATOL)


def _features(rng, n, p):
    J = rng.standard_normal((n, p)) / np.sqrt(p)
    return J


@pytest.mark.parametrize("lam_paper", [0.3, 1.0, 2.5])
def test_paper_lambda_gives_the_ridge_of_the_papers_losses(rng, lam_paper):
    # A model linear in its parameters, f(theta, x) = phi(x) . theta with theta(0) = 0 (the linearised net).
    # The paper's RDI loss 1/2 ||J theta - y||^2 + lambda^2/2 ||theta||^2 is minimised by least squares on the
    # stacked system [J; lambda I] theta = [y; 0]; its AUX loss 1/2 ||J theta + lambda b - y||^2, run by GD from 0,
    # ends at the minimum-norm solution of [J, lambda I] (theta, b) = y (lstsq). Both predictions must be kernel
    # ridge regression with ridge ridge_from_paper_lambda(lambda) and the kernel phi . phi'.
    n, p = 15, 60
    J, Jt = _features(rng, n, p), _features(rng, 7, p)
    y = np.sign(rng.standard_normal(n))
    ridge = noisy_sweep.ridge_from_paper_lambda(lam_paper)
    krr = regression.kernel_regression(Jt @ J.T, J @ J.T, y, ridge=ridge)
    theta_rdi = np.linalg.lstsq(np.vstack([J, lam_paper * np.eye(p)]), np.concatenate([y, np.zeros(p)]), rcond=None)[0]
    theta_b = np.linalg.lstsq(np.hstack([J, lam_paper * np.eye(n)]), y, rcond=None)[0]
    np.testing.assert_allclose(Jt @ theta_rdi, krr, atol=tol.CLOSED_FORM_ATOL)
    np.testing.assert_allclose(Jt @ theta_b[:p], krr, atol=tol.CLOSED_FORM_ATOL)
    assert noisy_sweep.paper_lambda_from_ridge(ridge) == pytest.approx(lam_paper)
    np.testing.assert_allclose(noisy_sweep.ridge_from_paper_lambda(np.array([lam_paper, 2.0])), [ridge, 4.0])


def test_rdi_at_the_paper_lambda_converges_to_kernel_ridge_for_a_wide_net(rng):
    # Theorem 5 with the paper's lambda: a wide net trained to convergence on RDI / AUX with ridge lambda^2 is close
    # to kernel ridge regression with H* and ridge lambda^2 (not lambda, not 2 lambda^2).
    X, Xt = sphere(rng, 10, 4), sphere(rng, 6, 4)
    y = np.sign(X[:, 0])
    lam_paper = 1.5
    ridge = noisy_sweep.ridge_from_paper_lambda(lam_paper)
    net = networks.init_two_layer(1, 20_000, 4, antisymmetric=True)
    H = kernels.ntk_two_layer(X)
    eta = noisy_sweep.stable_step(np.linalg.eigvalsh(H)[-1], ridge)
    steps = int(np.ceil(30 / (eta * ridge)))
    runs = noisy_sweep.train_span(net, X, [("rdi", ridge, y), ("aux", ridge, y)], eta, [0, steps], Xt)
    f = {lam: regression.kernel_regression(kernels.ntk_two_layer(Xt, X), H, y, ridge=lam) for lam in (lam_paper, ridge, 2 * ridge)}
    for run in runs:
        gaps = {lam: np.abs(run.f_eval[-1] - v).max() for lam, v in f.items()}
        assert gaps[ridge] < tol.HU_WIDE_NET_RTOL * np.abs(f[ridge]).max()
        assert min(gaps[lam_paper], gaps[2 * ridge]) > tol.HU_WIDE_NET_RTOL * np.abs(f[ridge]).max()


def test_flip_fraction_flips_exactly_the_rate(rng):
    y = np.sign(rng.standard_normal(101))
    for p in (0.0, 0.1, 0.37, 0.5, 1.0):
        out = noisy_sweep.flip_fraction(y, p, seed=4)
        assert np.sum(out != y) == round(p * y.size)
        assert np.all((out == y) | (out == -y))
        np.testing.assert_array_equal(out, noisy_sweep.flip_fraction(y, p, seed=4))
    assert not np.array_equal(noisy_sweep.flip_fraction(y, 0.3, 1), noisy_sweep.flip_fraction(y, 0.3, 2))
    # the flipped positions are uniform: each position is flipped about p of the time over seeds
    freq = np.mean([noisy_sweep.flip_fraction(y, 0.3, s) != y for s in range(400)], axis=0)
    assert abs(freq.mean() - round(0.3 * 101) / 101) < tol.ROUNDOFF_ATOL
    assert np.abs(freq - freq.mean()).max() < tol.MC_SIGMAS * np.sqrt(0.3 * 0.7 / 400)
    with pytest.raises(ValueError, match="-1/\\+1"):
        noisy_sweep.flip_fraction([0, 1, 1], 0.2, 0)
    with pytest.raises(ValueError, match="p must be a probability"):
        noisy_sweep.flip_fraction(y, 1.5, 0)


def test_early_stopping_picks_the_best_record_earliest_on_ties(rng):
    y = np.sign(rng.standard_normal(40))
    F = rng.standard_normal((6, 40))
    acc = [(np.sign(f) == y).mean() for f in F]
    assert noisy_sweep.early_stopping_index(F, y) == int(np.flatnonzero(np.isclose(acc, max(acc)))[0])
    G = np.vstack([-y, y, y, 0.5 * y])                     # records 1-3 are all perfect: stop at the first
    assert noisy_sweep.early_stopping_index(G, y) == 1
    with pytest.raises(ValueError, match="y_val must hold -1/\\+1"):
        noisy_sweep.early_stopping_index(G, np.zeros(40))
    with pytest.raises(ValueError, match="y_val has length"):
        noisy_sweep.early_stopping_index(G, y[:5])


def test_stable_step_is_the_stability_limit_of_the_linear_recursion(rng):
    # alpha <- alpha - eta ((H + lam I) alpha - y): converges for eta = stable_step(...) with fraction < 1 and
    # diverges just above the limit 2 / (lambda_max + lam)
    A = rng.standard_normal((8, 8))
    H = A @ A.T
    y = rng.standard_normal(8)
    lmax, lam = np.linalg.eigvalsh(H)[-1], 0.4

    def run(eta, k=4000):
        alpha = np.zeros(8)
        for _ in range(k):
            alpha = alpha - eta * ((H + lam * np.eye(8)) @ alpha - y)
        return alpha

    sol = np.linalg.solve(H + lam * np.eye(8), y)
    np.testing.assert_allclose(run(noisy_sweep.stable_step(lmax, lam, 0.99)), sol, atol=tol.CONVERGED_ATOL)
    assert np.abs(run(1.01 * noisy_sweep.stable_step(lmax, lam, 0.999999), 3000)).max() > tol.DIVERGED_LOSS_FACTOR
    with pytest.raises(ValueError, match="fraction"):
        noisy_sweep.stable_step(lmax, lam, 1.0)
    with pytest.raises(ValueError, match="lambda_max"):
        noisy_sweep.stable_step(-1.0)


@pytest.mark.parametrize("fraction", [0.3, 0.9, 0.99])
def test_convergence_steps_bound_every_mode_of_the_linear_recursion(rng, fraction):
    # simulate alpha <- alpha - eta ((H + lam I) alpha - y) and measure when the error to the solution, in every
    # eigen-direction, has shrunk by e^-decay: at the step count returned, never one step before for the worst mode
    A = rng.standard_normal((6, 6))
    H = A @ A.T
    lam, decay = 0.5, 4.0
    ev, V = np.linalg.eigh(H + lam * np.eye(6))
    eta = noisy_sweep.stable_step(ev[-1] - lam, lam, fraction)
    k = noisy_sweep.convergence_steps(eta, ev[0], ev[-1], decay)
    y = V @ np.ones(6)                                   # every mode excited equally
    sol = np.linalg.solve(H + lam * np.eye(6), y)
    alpha, ratios = np.zeros(6), []
    for _ in range(k):
        alpha = alpha - eta * ((H + lam * np.eye(6)) @ alpha - y)
        ratios.append(np.abs(V.T @ (alpha - sol)) / np.abs(V.T @ sol))
    assert ratios[-1].max() <= np.exp(-decay) * (1 + tol.LINALG_RTOL)
    if k > 1:
        assert ratios[-2].max() > np.exp(-decay)
    with pytest.raises(ValueError, match="does not converge"):
        noisy_sweep.convergence_steps(2.5 / ev[-1], ev[0], ev[-1])
    with pytest.raises(ValueError, match="lam_lo <= lam_hi"):
        noisy_sweep.convergence_steps(eta, ev[-1], ev[0])


def test_divergence_is_reported_or_flagged(data):
    X, _, y1, _ = data
    net = networks.init_two_layer(0, 40, 5)
    with pytest.raises(_validate.TrainingDiverged, match="train_span \\(plain"):
        noisy_sweep.train_span(net, X, [("plain", 0.0, y1)], 50.0, [0, 10, 200])
    run = noisy_sweep.train_span(net, X, [("plain", 0.0, y1)], 50.0, [0, 10, 200], on_divergence="return")[0]
    assert run.diverged_step in (10, 200)


def test_bad_input_names_the_argument(data):
    X, Xe, y1, y2 = data
    net = networks.init_two_layer(0, 20, 5)
    ok = [("rdi", 1.0, y1)]
    cases = [
        (dict(configs="rdi"), TypeError, "configs must be a non-empty list"),
        (dict(configs=[]), ValueError, "configs must be a non-empty list"),
        (dict(configs=[("rdi", 1.0)]), ValueError, "triples"),
        (dict(configs=[("rdi", 1.0, y1), ("ridge", 1.0, y2)]), ValueError, "configs\\[1\\] method"),
        (dict(configs=[("aux", -1.0, y1)]), ValueError, "configs\\[0\\] lam"),
        (dict(configs=[("aux", 1.0, y1[:5])]), ValueError, "configs\\[0\\] y has length 5"),
        (dict(eta=[0.1, 0.1]), ValueError, "eta must be one step size or one per configuration"),
        (dict(eta=-0.1), ValueError, "eta\\[0\\]"),
        (dict(record_steps=[0, 10, 5]), ValueError, "record_steps must be"),
        (dict(record_steps=[]), ValueError, "record_steps must be"),
        (dict(record_steps=[0, 2.5]), ValueError, "record_steps must be"),
        (dict(X_eval=Xe[:, :3]), ValueError, "X_eval has 3 features"),
        (dict(X=X[:, :3]), ValueError, "X has 3 features"),
        (dict(on_divergence="ignore"), ValueError, "on_divergence"),
    ]
    for kwargs, err, msg in cases:
        args = dict(net=net, X=X, configs=ok, eta=0.1, record_steps=[0, 5], X_eval=None) | kwargs
        with pytest.raises(err, match=msg):
            noisy_sweep.train_span(**args)
    run = noisy_sweep.train_span(net, X, ok, 0.1, [0, 5])[0]
    assert run.f_eval is None
    with pytest.raises(ValueError, match="must be those of the run"):
        run.weights(net, X[:5])
    with pytest.raises(ValueError, match="lam_paper"):
        noisy_sweep.ridge_from_paper_lambda(-1.0)
    with pytest.raises(ValueError, match="ridge"):
        noisy_sweep.paper_lambda_from_ridge(np.array([1.0, -2.0]))
