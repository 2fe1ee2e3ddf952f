"""ntklib.models.cntk: the CNTK of the architecture against Monte Carlo of the finite CNN it describes, image
preparation, kernel classification, the finite CNN trainer, bad input."""
import jax
import numpy as np
import pytest
from conftest import needs_nt

from ntklib import tolerances as tol
from ntklib.models import cntk

pytestmark = needs_nt   # cntk is neural-tangents' CNTK and its CNN (the `nt` extra)


@pytest.mark.slow
@pytest.mark.parametrize("readout", ["vanilla", "gap"])
def test_cntk_is_the_mean_empirical_ntk_of_the_trained_architecture(rng, readout):
    # Ties the kernel to the finite CNN that train_cnn trains (cntk.architecture); the independent reference is
    # test_cntk_matches_monte_carlo_of_an_independent_cnn below.
    import neural_tangents as nt
    X = rng.standard_normal((3, 4, 4, 1))
    K = cntk.ntk(X, None, depth=2, readout=readout, batch_size=0)
    init_fn, apply_fn, _ = cntk.architecture(2, readout, width=256, n_out=1)
    emp = nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,))
    E = np.stack([np.asarray(emp(X, None, init_fn(jax.random.PRNGKey(s), X.shape)[1])) for s in range(12)])
    z = np.abs(E.mean(0) - K) / (E.std(0) / np.sqrt(len(E)) + tol.ROUNDOFF_ATOL)
    assert z.max() < tol.MC_SIGMAS and np.abs(E.mean(0) - K).max() < tol.MC_MEAN_RTOL * np.abs(K).max()


def _own_cnn(params, x, readout):
    """The CNN of cntk.architecture written here from scratch (no neural-tangents): NTK parameterisation,
    3 x 3 SAME convolutions scaled by 1/sqrt(9 c_in) (W_std = sqrt 2), ReLU, then GAP or flatten, and a dense
    readout scaled by 1/sqrt(fan-in) (W_std = 1). x: (n, h, w, c)."""
    import jax.numpy as jnp
    from jax import lax
    h = x
    for W in params[:-1]:
        h = lax.conv_general_dilated(h, W, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jnp.maximum(np.sqrt(2.0) / np.sqrt(9 * W.shape[2]) * h, 0.0)
    h = h.mean(axis=(1, 2)) if readout == "gap" else h.reshape(len(h), -1)
    return h @ params[-1][:, 0] / np.sqrt(h.shape[1])


@pytest.mark.slow
@pytest.mark.parametrize("readout", ["vanilla", "gap"])
def test_cntk_matches_monte_carlo_of_an_independent_cnn(rng, readout):
    # Independent of neural-tangents' finite nets: the empirical NTK J J^T of the CNN above (its Jacobian by
    # JAX autodiff), averaged over initialisations, estimates the kernel that cntk.ntk computes in closed form.
    X = rng.standard_normal((3, 4, 4, 1))
    K = cntk.ntk(X, None, depth=2, readout=readout, batch_size=0)
    width, draws = 128, 24
    fan = width * (1 if readout == "gap" else 16)

    def draw(s):
        k = jax.random.split(jax.random.PRNGKey(s), 3)
        return [jax.random.normal(k[0], (3, 3, 1, width)), jax.random.normal(k[1], (3, 3, width, width)),
                jax.random.normal(k[2], (fan, 1))]

    jac = jax.jit(jax.jacrev(lambda p: _own_cnn(p, X, readout)))
    E = []
    for s in range(draws):
        J = np.concatenate([np.asarray(g).reshape(len(X), -1) for g in jac(draw(s))], axis=1)
        E.append(J @ J.T)
    E = np.stack(E)
    z = np.abs(E.mean(0) - K) / (E.std(0, ddof=1) / np.sqrt(draws))
    assert z.max() < tol.MC_SIGMAS and np.abs(E.mean(0) - K).max() < tol.MC_MEAN_RTOL * np.abs(K).max()
    # and the test can tell kernels apart: the other readout's kernel is far outside the Monte Carlo error
    other = cntk.ntk(X, None, depth=2, readout="gap" if readout == "vanilla" else "vanilla", batch_size=0)
    assert (np.abs(E.mean(0) - other) / (E.std(0, ddof=1) / np.sqrt(draws))).max() > 3 * tol.MC_SIGMAS


def test_batched_kernel_equals_unbatched(rng):
    X, Z = rng.standard_normal((4, 4, 4, 1)), rng.standard_normal((2, 4, 4, 1))
    np.testing.assert_allclose(cntk.ntk(Z, X, 1, "gap", batch_size=2), cntk.ntk(Z, X, 1, "gap", batch_size=0), rtol=tol.ROUTES_RTOL)
    with pytest.raises(ValueError, match="divide"):
        cntk.ntk(Z, X, 1, "gap", batch_size=3)
    # the training Gram from its upper blocks equals the unbatched kernel, for both readouts. Its diagonal blocks
    # are cross kernels K(A, A), as neural-tangents' own batching computes them; the unbatched K(X, None) takes
    # the exact self-covariance there, so the two are two float64 evaluations of the same closed form.
    for readout in ("gap", "vanilla"):
        np.testing.assert_allclose(cntk.ntk(X, None, 2, readout, batch_size=2), cntk.ntk(X, None, 2, readout, batch_size=0),
                                   rtol=0, atol=tol.CLOSED_FORM_ATOL)


def test_prepare_images():
    imgs = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    X, mu, sd = cntk.prepare_images(imgs, pool=2)
    assert X.shape == (2, 2, 2, 1)
    np.testing.assert_allclose(X.mean(), 0, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(X.std(), 1, atol=tol.ROUNDOFF_ATOL)
    pooled = imgs.reshape(2, 2, 2, 2, 2).mean(axis=(2, 4)) / 255.0
    np.testing.assert_allclose(X[..., 0], (pooled - mu) / sd)
    with pytest.raises(ValueError, match="divide"):
        cntk.prepare_images(imgs, pool=3)
    with pytest.raises(ValueError, match="readout"):
        cntk.architecture(readout="max")


def test_kernel_classify_recovers_training_labels(rng):
    X = rng.standard_normal((30, 5))
    y = rng.integers(0, 3, 30)
    K = X @ X.T + 30 * np.eye(30)            # (near) interpolation: training points get their own label back
    np.testing.assert_array_equal(cntk.kernel_classify(K, K, y, 3), y)
    np.testing.assert_allclose(cntk.one_hot_targets([0, 2], 3), [[2 / 3, -1 / 3, -1 / 3], [-1 / 3, -1 / 3, 2 / 3]])


def test_train_cnn_fits_its_training_set(rng):
    X = rng.standard_normal((16, 4, 4, 1))
    y = rng.integers(0, 2, 16)
    lam = np.linalg.eigvalsh(cntk.ntk(X, None, 1, "vanilla", batch_size=0))[-1]
    pred, hist = cntk.train_cnn(X, y, X, 2, depth=1, readout="vanilla", width=64, steps=200, lr=1.0 * 16 / lam,
                                record_every=100)
    assert np.mean(pred == y) == 1.0 and [k for k, _ in hist] == [100, 200]
    with pytest.raises(FloatingPointError, match="diverged"):
        cntk.train_cnn(X, y, X, 2, depth=1, readout="vanilla", width=64, steps=50, lr=1e4)


def test_train_cnn_step_is_heavy_ball_momentum():
    # the step train_cnn iterates, on 1/2 ||w - c||^2 (gradient w - c): v <- mu v + g, w <- w - lr v
    import jax.numpy as jnp
    c, w0 = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.7, -1.1])
    state, step = cntk._momentum_gd(lambda p: 0.5 * jnp.sum((p["w"] - c) ** 2), {"w": jnp.asarray(w0)}, 0.1, 0.9)
    p, w, v = {"w": jnp.asarray(w0)}, w0.copy(), np.zeros(3)
    for _ in range(3):
        p, state, value = step(p, state)
        assert float(value) == pytest.approx(0.5 * np.sum((w - c) ** 2), rel=tol.ROUNDOFF_RTOL)   # the loss before the step
        v = 0.9 * v + (w - c)
        w = w - 0.1 * v
    np.testing.assert_allclose(np.asarray(p["w"]), w, rtol=tol.ROUNDOFF_RTOL)
