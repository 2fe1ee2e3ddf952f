"""The convolutional NTK (Arora, Du, Hu, Li, Salakhutdinov & Wang, "On exact computation with an infinitely wide
neural net", NeurIPS 2019; lecture Section 4, "Graph NTK and CNTK"), computed exactly with neural-tangents
(Novak et al., ICLR 2020), and the finite CNN it is the limit of.

Architecture (NTK parameterisation, as in Arora et al.): ``depth`` blocks of stax.Conv(width, (3, 3),
padding SAME, W_std = sqrt(2)) + stax.Relu, then a readout: ``"vanilla"`` flattens the last feature map
(stax.Flatten, Arora et al.'s "CNTK-V") or ``"gap"`` averages it over positions (stax.GlobalAvgPool,
"CNTK-GAP"), then stax.Dense(n_out, W_std = 1). The kernel for ``width`` -> infinity is kernel_fn's 'ntk'.
The vanilla CNTK only needs each position's covariance with itself across images, the GAP CNTK all pairs of
positions, so GAP costs about (height x width) times more.

Classification as in Arora et al.: kernel regression on one-hot labels minus 1/C (ntklib.regression with a
tiny ridge for numerical safety), argmax. The finite CNN is trained by full-batch gradient descent with
momentum on the same squared loss, from the same initialisation scheme.
"""
from __future__ import annotations

import math

import numpy as np

from . import _validate

READOUTS = ("vanilla", "gap")


def architecture(depth: int = 2, readout: str = "gap", width: int = 64, n_out: int = 10, W_std: float = math.sqrt(2.0),
                 b_std: float = 0.0):
    """(init_fn, apply_fn, kernel_fn) of the CNN, from neural_tangents.stax."""
    from neural_tangents import stax
    depth = _validate.positive_int(depth, "depth")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    b = None if b_std == 0 else b_std
    layers = []
    for _ in range(depth):
        layers += [stax.Conv(width, (3, 3), padding="SAME", W_std=W_std, b_std=b), stax.Relu()]
    layers += [stax.Flatten() if readout == "vanilla" else stax.GlobalAvgPool(), stax.Dense(n_out, W_std=1.0, b_std=b)]
    return stax.serial(*layers)


def prepare_images(images, pool: int = 1, mean=None, std=None):
    """uint8 images (n, h, w) or (n, h, w, c) -> float64 (n, h/pool, w/pool, c), average-pooled by ``pool`` and
    standardised per channel (with the given mean/std, e.g. the training set's). Returns (X, mean, std)."""
    A = np.asarray(images, dtype=np.float64) / 255.0
    if A.ndim == 3:
        A = A[..., None]
    if A.ndim != 4:
        raise ValueError(f"images must be (n, h, w) or (n, h, w, c), got shape {np.shape(images)}")
    pool = _validate.positive_int(pool, "pool")
    n, h, w, c = A.shape
    if h % pool or w % pool:
        raise ValueError(f"pool = {pool} must divide the image size {h} x {w}")
    A = A.reshape(n, h // pool, pool, w // pool, pool, c).mean(axis=(2, 4))
    mean = A.mean(axis=(0, 1, 2)) if mean is None else mean
    std = A.std(axis=(0, 1, 2)) if std is None else std
    return (A - mean) / std, mean, std


def ntk(X1, X2=None, depth: int = 2, readout: str = "gap", batch_size: int = 16) -> np.ndarray:
    """The infinite-width NTK between image stacks (n, h, w, c), computed by neural-tangents in blocks of
    ``batch_size`` x ``batch_size`` images (the GAP kernel holds (batch, batch, h w, h w) covariances, so
    unbatched it needs n1 n2 (h w)^2 floats); ``batch_size`` must divide both stack sizes (0: no batching)."""
    import neural_tangents as nt
    _, _, kernel_fn = architecture(depth, readout, width=1)
    n1, n2 = len(X1), len(X1 if X2 is None else X2)
    if batch_size:
        if n1 % batch_size or n2 % batch_size:
            raise ValueError(f"batch_size = {batch_size} must divide both stack sizes ({n1}, {n2})")
        kernel_fn = nt.batch(kernel_fn, batch_size=batch_size, store_on_device=False)
    return np.asarray(kernel_fn(X1, X2, "ntk"))


def one_hot_targets(y, n_classes: int) -> np.ndarray:
    """One-hot labels minus 1/C (Arora et al.'s regression targets)."""
    y = np.asarray(y)
    return np.eye(n_classes)[y] - 1.0 / n_classes


def kernel_classify(K_test_train, K_train, y_train, n_classes: int, rel_ridge: float = 1e-6) -> np.ndarray:
    """Predicted classes of kernel regression on one-hot targets, with ridge rel_ridge * mean(diag K_train)."""
    from .regression import kernel_regression
    K_train = _validate.kernel(K_train, "K_train")
    ridge = rel_ridge * float(np.mean(np.diag(K_train)))
    Y = one_hot_targets(y_train, n_classes)
    out = np.stack([kernel_regression(K_test_train, K_train, Y[:, c], ridge=ridge) for c in range(n_classes)], axis=1)
    return np.argmax(out, axis=1)


def train_cnn(X, y, X_test, n_classes: int, depth: int = 2, readout: str = "gap", width: int = 64,
              steps: int = 300, lr: float = 1.0, momentum: float = 0.9, seed: int = 0, record_every: int = 0):
    """Train the finite CNN (NTK parameterisation) by full-batch GD with momentum on 1/2 mean ||f(x) - t||^2
    (t = one-hot minus 1/C). Returns (test predictions after training, list of (step, test predictions) every
    ``record_every`` steps). A stable lr is about 2 n / lambda_max(NTK) (the NTK of the loss is Theta / n).
    Runs in float32 (convolutions are several times faster; a trained net needs no float64)."""
    from jax.experimental import disable_x64
    steps = _validate.positive_int(steps, "steps")
    with disable_x64():
        return _train_cnn(np.asarray(X, np.float32), np.asarray(y), np.asarray(X_test, np.float32), n_classes, depth,
                          readout, width, steps, float(lr), float(momentum), seed, record_every)


def _train_cnn(X, y, X_test, n_classes, depth, readout, width, steps, lr, momentum, seed, record_every):
    import jax
    import jax.numpy as jnp
    init_fn, apply_fn, _ = architecture(depth, readout, width, n_out=n_classes)
    X, X_test = jnp.asarray(X), jnp.asarray(X_test)
    T = jnp.asarray(one_hot_targets(y, n_classes), jnp.float32)
    _, params = init_fn(jax.random.PRNGKey(seed), X.shape)
    loss = lambda p: 0.5 * jnp.mean(jnp.sum((apply_fn(p, X) - T) ** 2, axis=1))
    grad = jax.grad(loss)
    predict = jax.jit(lambda p: jnp.argmax(apply_fn(p, X_test), axis=1))
    vel = jax.tree_util.tree_map(jnp.zeros_like, params)
    step_fn = jax.jit(lambda p, v: _momentum_step(p, v, grad(p), lr, momentum))
    history = []
    for k in range(1, steps + 1):
        params, vel = step_fn(params, vel)
        if record_every and k % record_every == 0:
            history.append((k, np.asarray(predict(params))))
    if not all(bool(jnp.all(jnp.isfinite(a))) for a in jax.tree_util.tree_leaves(params)):
        raise FloatingPointError(f"CNN training diverged with lr = {lr}; use a smaller step")
    return np.asarray(predict(params)), history


def _momentum_step(params, vel, g, lr, momentum):
    import jax
    vel = jax.tree_util.tree_map(lambda v, gg: momentum * v + gg, vel, g)
    return jax.tree_util.tree_map(lambda p, v: p - lr * v, params, vel), vel
