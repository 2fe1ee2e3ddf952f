"""ntklib.models.trained_nets: explicit backprop against JAX autodiff, the two parameterisations, AUX, SGD, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib._jaxcompat import enable_x64
from ntklib.models import deepnets, trained_nets as tn


def _jax_loss(params, X, Y, parameterization, loss, b_aux, sqrt_lam):
    h = X
    last = len(params) - 1
    for k, (W, b) in enumerate(params):
        if parameterization == "ntk":
            a = (tn.NTK_W_STD if k < last else 1.0) / np.sqrt(W.shape[0])
            z = a * (h @ W) + tn.NTK_B_STD * b
        else:
            z = h @ W + b
        h = jax.nn.relu(z) if k < last else z
    out = h + sqrt_lam * b_aux
    if loss == "cce":
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(out), axis=1))
    return 0.5 * jnp.mean(jnp.sum((out - Y) ** 2, axis=1))


@pytest.mark.parametrize("parameterization", ["standard", "ntk"])
@pytest.mark.parametrize("loss", ["cce", "mse"])
def test_backprop_matches_autodiff(rng, parameterization, loss):
    params = tn.init_params(3, 6, 4, 3, 16, parameterization, dtype=np.float64)
    X, Y = rng.standard_normal((9, 6)), np.eye(4)[rng.integers(0, 4, 9)]
    b_aux, s = rng.standard_normal((9, 4)), 0.7
    value, grads, g_aux = tn.loss_and_grads(params, X, Y, parameterization, loss, b_aux, s)
    jp = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    ref_v = _jax_loss(jp, X, Y, parameterization, loss, jnp.asarray(b_aux), s)
    ref_g, ref_b = jax.grad(_jax_loss, argnums=(0, 5))(jp, X, Y, parameterization, loss, jnp.asarray(b_aux), s)
    assert value == pytest.approx(float(ref_v), rel=tol.ROUNDOFF_RTOL)
    for (gW, gb), (rW, rb) in zip(grads, ref_g):
        np.testing.assert_allclose(gW, rW, atol=tol.ROUNDOFF_ATOL)
        np.testing.assert_allclose(gb, rb, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(g_aux, ref_b, atol=tol.ROUNDOFF_ATOL)


@pytest.mark.parametrize("parameterization", ["standard", "ntk"])
def test_forward_is_the_one_mlp(rng, parameterization):
    # trained_nets' net is deepnets' MLP (ntklib.models.deepnets.mlp_apply, JAX): the same draws (draw_layers)
    # and the same function; the ntk parameterisation's W_std = sqrt(2) of the hidden layers folded into W, its
    # bias scale into beta
    params = tn.init_params(3, 6, 4, 3, 16, parameterization, dtype=np.float64)
    sizes = [6, 16, 16, 16, 4]
    gains = [2.0, 2.0, 2.0, 1.0] if parameterization == "standard" else [float(n) for n in sizes[:-1]]
    draws = deepnets.draw_layers(3, sizes, sigma_w2=gains, sigma_b2=0.0 if parameterization == "standard" else 1.0)
    for (W, b), layer in zip(params, draws):
        np.testing.assert_array_equal(W, layer["W"])
        np.testing.assert_array_equal(b, layer["b"])
    w_std = [tn.NTK_W_STD] * 3 + [1.0] if parameterization == "ntk" else [1.0] * 4
    jp = tuple({"W": jnp.asarray(W * s), "b": jnp.asarray(b)} for (W, b), s in zip(params, w_std))
    X = rng.standard_normal((9, 6))
    with enable_x64():
        ref = deepnets.mlp_apply(jp, jnp.asarray(X), parameterization, tn.NTK_B_STD)
    np.testing.assert_allclose(tn.forward(params, X, parameterization), ref, rtol=tol.ROUNDOFF_RTOL)


def test_results_do_not_depend_on_n_jobs(rng):
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    kw = dict(depth=1, width=32, lr=0.05, aux_lambda=[0.0, 1.0, 3.0], seed=[1, 2, 3], epochs=5, batch_size=8,
              eval_sets={"train": (X, y)})
    one, two = tn.train(X, y, 3, n_jobs=1, **kw), tn.train(X, y, 3, n_jobs=2, **kw)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a.train_loss, b.train_loss)
        np.testing.assert_array_equal(a.params[-1][0], b.params[-1][0])


def test_initialisations():
    he = tn.init_params(0, 200, 3, 2, 2000, "standard", dtype=np.float64)
    assert np.var(he[0][0]) == pytest.approx(2 / 200, rel=tol.INIT_VARIANCE_RTOL)
    # the output layer has only 6,000 weights: MC_SIGMAS relative standard errors sqrt(2 / n) = 9%
    assert np.var(he[-1][0]) == pytest.approx(1 / 2000, rel=tol.MC_SIGMAS * np.sqrt(2 / he[-1][0].size))
    assert not he[0][1].any()
    ntk = tn.init_params(0, 200, 3, 2, 2000, "ntk", dtype=np.float64)
    assert np.var(ntk[0][0]) == pytest.approx(1.0, rel=tol.INIT_VARIANCE_RTOL)
    # same output scale at initialisation (in distribution): compare the output variance over inputs
    X = np.random.default_rng(1).standard_normal((400, 200))
    v_he, v_ntk = np.var(tn.forward(he, X, "standard")), np.var(tn.forward(ntk, X, "ntk"))
    assert v_ntk == pytest.approx(v_he, rel=tol.OUTPUT_VARIANCE_RTOL)


def test_sgd_fits_and_is_deterministic(rng):
    X = rng.standard_normal((64, 5))
    y = rng.integers(0, 3, 64)
    runs = tn.train(X, y, 3, depth=1, width=256, lr=[0.05, 0.05], seed=[4, 4], epochs=150, batch_size=16,
                    eval_sets={"train": (X, y)}, eval_every=50)
    assert runs[0].history["train"][-1] == 1.0                      # memorises random labels
    np.testing.assert_array_equal(runs[0].history["train"], runs[1].history["train"])
    np.testing.assert_array_equal(runs[0].epochs, [50, 100, 150])
    np.testing.assert_array_equal(tn.predict(runs[0].params, X), y)
    h = runs[0].history["train"]
    assert runs[0].best("train") == np.flatnonzero(h == h.max())[0]


def test_one_step_is_momentum_sgd(rng):
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 2, 8)
    p0 = tn.init_params(7, 4, 2, 1, 5, "ntk", dtype=np.float64)
    _, g, _ = tn.loss_and_grads(p0, X, np.eye(2)[y], "ntk", "mse")
    run = tn.train(X, y, 2, depth=1, width=5, parameterization="ntk", loss="mse", lr=0.1, seed=7, epochs=1,
                   batch_size=8, dtype=np.float64)[0]
    for (W, b), (W0, b0), (gW, gb) in zip(run.params, p0, g):
        np.testing.assert_allclose(W, W0 - 0.1 * gW, atol=tol.FEW_OPS_ATOL)
        np.testing.assert_allclose(b, b0 - 0.1 * gb, atol=tol.FEW_OPS_ATOL)


def test_aux_absorbs_flipped_labels():
    # with a large lambda the auxiliary variables absorb the flipped labels and the net generalises better
    rng = np.random.default_rng(1234)
    X, Xt = rng.standard_normal((200, 10)), rng.standard_normal((1000, 10))
    y, yt = (X[:, 0] > 0).astype(int), (Xt[:, 0] > 0).astype(int)
    noisy = np.where(rng.random(200) < 0.3, 1 - y, y)
    kw = dict(depth=1, width=128, lr=0.05, epochs=300, batch_size=50, eval_sets={"test": (Xt, yt)}, eval_every=300)
    plain, aux = (r.history["test"][-1] for r in tn.train(X, noisy, 2, aux_lambda=[0.0, 1000.0], **kw))
    assert aux > plain + 0.05


@pytest.mark.parametrize("bad, match", [
    (dict(labels=np.full(8, 0.5)), "integer"),
    (dict(labels=np.full(8, 5)), "0..1"),
    (dict(labels=np.zeros((2, 7), int)), "shape"),
    (dict(lr=0.0), "lr"),
    (dict(lr=[0.1, 0.2], aux_lambda=[0, 1, 2]), "entries"),
    (dict(aux_lambda=-1.0), "aux_lambda"),
    (dict(parameterization="mup"), "parameterization"),
    (dict(loss="hinge"), "loss"),
    (dict(momentum=1.0), "momentum"),
    (dict(eval_sets={"v": (np.ones((3, 2)), np.zeros(3))}), "features"),
])
def test_bad_input(bad, match):
    args = dict(X=np.ones((8, 3)), labels=np.zeros(8, int), n_classes=2, epochs=1) | bad
    X, labels, C = args.pop("X"), args.pop("labels"), args.pop("n_classes")
    with pytest.raises(ValueError, match=match):
        tn.train(X, labels, C, **args)


def test_divergence_is_reported(rng):
    X, y = 100 * rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    with pytest.raises(FloatingPointError, match="diverged"):
        tn.train(X, y, 2, loss="mse", lr=50.0, epochs=20, batch_size=4)
