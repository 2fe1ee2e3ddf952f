"""ntklib.models.mlp: the SGD-trained classifiers of Section 1 (Zhang et al. 2017, Neyshabur et al. 2018)."""
import jax.numpy as jnp
import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib.models import mlp


def test_init_shapes_and_he_scaling():
    p = mlp.init_classifier(0, 50, [4000], 3)
    assert [layer["W"].shape for layer in p] == [(50, 4000), (4000, 3)] and mlp.n_params(p) == 50 * 4000 + 4000 + 4000 * 3 + 3
    assert np.var(np.asarray(p[0]["W"])) == pytest.approx(2 / 50, rel=tol.INIT_VARIANCE_RTOL)    # He: 2 / fan_in
    assert np.var(np.asarray(p[1]["W"])) == pytest.approx(1 / 4000, rel=tol.INIT_VARIANCE_RTOL)  # output layer: 1 / fan_in
    assert not np.asarray(p[0]["b"]).any()


def test_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    p = mlp.init_classifier(1, 5, [7], 4, dtype=jnp.float64)
    X, y = rng.standard_normal((9, 5)), rng.integers(0, 4, 9)
    h = np.maximum(X @ np.asarray(p[0]["W"]), 0) @ np.asarray(p[1]["W"])
    ref = np.mean(np.log(np.exp(h).sum(1)) - h[np.arange(9), y])
    assert float(mlp.cross_entropy(p, jnp.asarray(X), jnp.asarray(y))) == pytest.approx(ref, rel=tol.ROUTES_RTOL)


def test_sgd_memorises_random_labels_and_is_deterministic():
    rng = np.random.default_rng(0)
    X, y = mlp.standardize_images(rng.random((64, 6, 6))), rng.integers(0, 3, 64)
    runs = [mlp.train_sgd(mlp.init_classifier(3, 36, [256], 3), X, y, lr=0.05, epochs=400, seed=5, batch=16,
                          stop_loss=0.01) for _ in range(2)]
    assert runs[0].stopped_early and runs[0].final_loss <= 0.01
    assert mlp.error_rate(runs[0].params, X, y) == 0.0
    np.testing.assert_array_equal(runs[0].epoch_loss, runs[1].epoch_loss)
    r = runs[0]
    assert r.steps_per_epoch == 4 and r.steps[-1] == 4 * len(r.epoch_loss) and len(r.epoch_loss) % 5 == 0
    assert r.steps_to(r.epoch_loss.min()) <= r.steps[-1] and r.steps_to(-1.0) == float("inf")


def test_standardize_images():
    Z = mlp.standardize_images(np.arange(2 * 3 * 3).reshape(2, 3, 3))
    assert Z.shape == (2, 9) and Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(1), 0, atol=tol.FLOAT32_ROUNDOFF_ATOL)
    np.testing.assert_allclose(Z.std(1), 1, atol=tol.FLOAT32_ROUNDOFF_ATOL)


@pytest.mark.parametrize("bad, match", [
    (dict(y=np.full(8, 0.5)), "integer class labels"),
    (dict(y=np.full(8, 5)), "outputs"),
    (dict(batch=9), "larger than"),
    (dict(lr=0.0), "lr"),
])
def test_bad_inputs(bad, match):
    args = dict(X=np.ones((8, 3)), y=np.zeros(8, int), lr=0.1, epochs=1, seed=0, batch=4) | bad
    with pytest.raises(ValueError, match=match):
        mlp.train_sgd(mlp.init_classifier(0, 3, [4], 2), **args)


def test_train_sgd_is_heavy_ball_momentum_on_softmax_regression():
    # no hidden layer: softmax regression, whose mean cross-entropy gradient is X^T (P - Y) / n in closed form;
    # batch = n makes each epoch one full-batch step, so three epochs are three momentum steps
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    params = mlp.init_classifier(2, 4, [], 3, dtype=jnp.float64)
    lr, mu = 0.3, 0.8
    run = mlp.train_sgd(params, X, y, lr=lr, epochs=3, seed=0, batch=12, momentum=mu, check_every=1)
    W, b = (np.asarray(params[0][k], np.float64) for k in ("W", "b"))
    vW, vb, Y = np.zeros_like(W), np.zeros_like(b), np.eye(3)[y]
    for _ in range(3):
        Z = X @ W + b
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        vW, vb = mu * vW + X.T @ (P - Y) / 12, mu * vb + (P - Y).mean(0)
        W, b = W - lr * vW, b - lr * vb
    np.testing.assert_allclose(np.asarray(run.params[0]["W"]), W, rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(np.asarray(run.params[0]["b"]), b, rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)
