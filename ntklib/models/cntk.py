"""The convolutional NTK (Arora, Du, Hu, Li, Salakhutdinov & Wang, "On exact computation with an infinitely wide
neural net", NeurIPS 2019; lecture Section 4, "Graph NTK and CNTK"), computed exactly with neural-tangents
(Novak et al., ICLR 2020), and the finite CNN it is the limit of.

Architecture (NTK parameterisation, as in Arora et al.): ``depth`` blocks of stax.Conv(width, (3, 3),
padding SAME, W_std = sqrt(2)) + stax.Relu, then a readout: ``"vanilla"`` flattens the last feature map
(stax.Flatten, Arora et al.'s "CNTK-V") or ``"gap"`` averages it over positions (stax.GlobalAvgPool,
"CNTK-GAP"), then stax.Dense(n_out, W_std = 1). The kernel for ``width`` -> infinity is kernel_fn's 'ntk'.
The vanilla CNTK only needs each position's covariance with itself across images, the GAP CNTK all pairs of
positions, so GAP costs about (height x width) times more.

Classification as in Arora et al.: kernel regression on one-hot labels minus 1/C (ntklib.theory.regression with a
tiny ridge for numerical safety), argmax. The finite CNN is trained by full-batch gradient descent with
heavy-ball momentum (optax.sgd) on the same squared loss, from the same initialisation scheme.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _validate
from .._jaxcompat import disable_x64, x64_for

READOUTS = ("vanilla", "gap")


def architecture(depth: int = 2, readout: str = "gap", width: int = 64, n_out: int = 10, W_std: float = math.sqrt(2.0),
                 b_std: float = 0.0):
    """(init_fn, apply_fn, kernel_fn) of the CNN, from neural_tangents.stax."""
    depth = _validate.positive_int(depth, "depth")
    _validate.choice(readout, "readout", READOUTS)
    width = _validate.positive_int(width, "width")
    n_out = _validate.positive_int(n_out, "n_out")
    W_std = _validate.positive(W_std, "W_std")
    b_std = _validate.nonnegative(b_std, "b_std")
    from neural_tangents import stax
    b = None if b_std == 0 else b_std
    layers = []
    for _ in range(depth):
        layers += [stax.Conv(width, (3, 3), padding="SAME", W_std=W_std, b_std=b), stax.Relu()]
    layers += [stax.Flatten() if readout == "vanilla" else stax.GlobalAvgPool(), stax.Dense(n_out, W_std=1.0, b_std=b)]
    return stax.serial(*layers)


def prepare_images(images, pool: int = 1, mean=None, std=None):
    """uint8 images (n, h, w) or (n, h, w, c) -> float64 (n, h/pool, w/pool, c), average-pooled by ``pool`` and
    standardised per channel (with the given mean/std, e.g. the training set's). Returns (X, mean, std)."""
    A = _validate._array(images, "images")
    if A.ndim not in (3, 4):
        raise ValueError(f"images must be (n, h, w) or (n, h, w, c), got shape {A.shape}")
    A = _validate.array(A, "images", A.ndim).astype(np.float64, copy=False) / 255.0
    if A.ndim == 3:
        A = A[..., None]
    pool = _validate.positive_int(pool, "pool")
    n, h, w, c = A.shape
    if h % pool or w % pool:
        raise ValueError(f"pool = {pool} must divide the image size {h} x {w}")
    stats = [None if v is None else _validate.vector(np.ravel(v), name) for v, name in ((mean, "mean"), (std, "std"))]
    for v, name in zip(stats, ("mean", "std")):
        if v is not None and v.shape[0] not in (1, c):
            raise ValueError(f"{name} must have one entry per channel ({c}), got {v.shape[0]}")
    A = A.reshape(n, h // pool, pool, w // pool, pool, c).mean(axis=(2, 4))
    mean = A.mean(axis=(0, 1, 2)) if mean is None else stats[0]
    std = A.std(axis=(0, 1, 2)) if std is None else stats[1]
    if np.any(std <= 0):
        raise ValueError(f"std must be > 0 in every channel, got {std}: a constant channel cannot be standardised "
                         f"(pass std explicitly, e.g. the training set's)")
    return (A - mean) / std, mean, std


def _stack(X, name):
    return _validate.array(X, name, 4)


def ntk(X1, X2=None, depth: int = 2, readout: str = "gap", batch_size: int = 16) -> np.ndarray:
    """The infinite-width NTK between image stacks (n, h, w, c), computed by neural-tangents in blocks of
    ``batch_size`` x ``batch_size`` images (the GAP kernel holds (batch, batch, h w, h w) covariances, so
    unbatched it needs n1 n2 (h w)^2 floats); ``batch_size`` must divide both stack sizes (0: no batching)."""
    X1 = _stack(X1, "X1")
    X2 = None if X2 is None else _stack(X2, "X2")
    if X2 is not None and X2.shape[1:] != X1.shape[1:]:
        raise ValueError(f"X1 and X2 must hold images of the same (h, w, c), got {X1.shape[1:]} and {X2.shape[1:]}")
    batch_size = _validate.nonnegative_int(batch_size, "batch_size")
    depth = _validate.positive_int(depth, "depth")
    _validate.choice(readout, "readout", READOUTS)
    n1, n2 = len(X1), len(X1 if X2 is None else X2)
    if batch_size and (n1 % batch_size or n2 % batch_size):
        raise ValueError(f"batch_size = {batch_size} must divide both stack sizes ({n1}, {n2})")
    # the largest intermediate: per block of b1 x b2 images, one covariance per pair of positions (GAP) or per
    # position (vanilla), a few at once
    hw = X1.shape[1] * X1.shape[2]
    b1, b2 = (batch_size, batch_size) if batch_size else (n1, n2)
    per_pair = hw * hw if readout == "gap" else hw
    _validate.memory(_validate.nbytes((n1, n2), (4 * b1 * b2, per_pair), dtype=X1.dtype),
                     f"cntk.ntk ({readout}) of {n1} x {n2} images of {X1.shape[1]} x {X1.shape[2]} in blocks of "
                     f"{b1} x {b2}")
    import neural_tangents as nt
    _, _, kernel_fn = architecture(depth, readout, width=1)
    with x64_for(X1.dtype):             # float64 images give a float64 kernel whatever JAX's global x64 flag
        if batch_size and X2 is None:
            return _symmetric_blocks(kernel_fn, X1, batch_size)
        if batch_size:
            kernel_fn = nt.batch(kernel_fn, batch_size=batch_size, store_on_device=False)
        return np.asarray(kernel_fn(X1, X2, "ntk"))


def _symmetric_blocks(kernel_fn, X, b: int) -> np.ndarray:
    """K(X, X) from its blocks on and above the diagonal only (the kernel is symmetric): about half the
    work of computing every block, which for the GAP readout is most of a CNTK's cost."""
    import jax
    block = jax.jit(lambda a, c: kernel_fn(a, c, "ntk"))
    n = len(X)
    K = np.empty((n, n), dtype=X.dtype)
    for i in range(0, n, b):
        for j in range(i, n, b):
            K[i:i + b, j:j + b] = np.asarray(block(X[i:i + b], X[j:j + b]))
            K[j:j + b, i:i + b] = K[i:i + b, j:j + b].T
    return K


def one_hot_targets(y, n_classes: int) -> np.ndarray:
    """One-hot labels minus 1/C (Arora et al.'s regression targets)."""
    n_classes = _validate.integer(n_classes, "n_classes", minimum=2)
    y = _validate.labels(y, "y", n_classes=n_classes)
    _validate.memory(_validate.nbytes((len(y), n_classes)), f"one-hot targets for {len(y)} labels and {n_classes} classes")
    return np.eye(n_classes)[y] - 1.0 / n_classes


def kernel_classify(K_test_train, K_train, y_train, n_classes: int, rel_ridge: float = 1e-6) -> np.ndarray:
    """Predicted classes of kernel regression on one-hot targets, with ridge rel_ridge * mean(diag K_train)."""
    from ..theory.regression import kernel_regression
    K_train = _validate.kernel(K_train, "K_train")
    K_test_train = _validate.matrix(K_test_train, "K_test_train")
    if K_test_train.shape[1] != K_train.shape[0]:
        raise ValueError(f"K_test_train has {K_test_train.shape[1]} columns but K_train is "
                         f"{K_train.shape[0]} x {K_train.shape[0]}")
    n_classes = _validate.integer(n_classes, "n_classes", minimum=2)
    y_train = _validate.labels(y_train, "y_train", K_train.shape[0], n_classes)
    rel_ridge = _validate.nonnegative(rel_ridge, "rel_ridge")
    ridge = rel_ridge * float(np.mean(np.diag(K_train)))
    Y = one_hot_targets(y_train, n_classes)
    out = np.stack([kernel_regression(K_test_train, K_train, Y[:, c], ridge=ridge) for c in range(n_classes)], axis=1)
    return np.argmax(out, axis=1)


def train_cnn(X, y, X_test, n_classes: int, depth: int = 2, readout: str = "gap", width: int = 64,
              steps: int = 300, lr: float = 1.0, momentum: float = 0.9, seed: int = 0, record_every: int = 0,
              on_divergence: str = "raise"):
    """Train the finite CNN (NTK parameterisation) by full-batch GD with momentum on 1/2 mean ||f(x) - t||^2
    (t = one-hot minus 1/C). Returns (test predictions after training, list of (step, test predictions) every
    ``record_every`` steps). A stable lr is about 2 n / lambda_max(NTK) (the NTK of the loss is Theta / n).
    Runs in float32 (convolutions are several times faster; a trained net needs no float64). A non-finite
    loss raises TrainingDiverged naming the first such step, unless on_divergence="return"."""
    X, X_test = _stack(X, "X"), _stack(X_test, "X_test")
    if X_test.shape[1:] != X.shape[1:]:
        raise ValueError(f"X_test must hold images of X's (h, w, c) = {X.shape[1:]}, got {X_test.shape[1:]}")
    n_classes = _validate.integer(n_classes, "n_classes", minimum=2)
    y = _validate.labels(y, "y", len(X), n_classes)
    depth = _validate.positive_int(depth, "depth")
    _validate.choice(readout, "readout", READOUTS)
    width = _validate.positive_int(width, "width")
    steps = _validate.positive_int(steps, "steps")
    lr = _validate.positive(lr, "lr")
    momentum = _validate.momentum(momentum)
    seed = _validate.seed(seed)
    record_every = _validate.nonnegative_int(record_every, "record_every")
    on_divergence = _validate.on_divergence(on_divergence)
    n, h, w, c = X.shape
    # parameters, velocity and gradient (3 depth conv kernels) and each layer's activations and their gradients
    _validate.memory(_validate.nbytes((3 * depth * 9 * width, max(width, c)), (4 * depth * (n + len(X_test)) * h * w, width),
                                      dtype=np.float32), f"train_cnn with {n} images of {h} x {w}, width {width}")
    with disable_x64():
        return _train_cnn(X.astype(np.float32), y, X_test.astype(np.float32), n_classes, depth,
                          readout, width, steps, lr, momentum, seed, record_every, on_divergence)


def _train_cnn(X, y, X_test, n_classes, depth, readout, width, steps, lr, momentum, seed, record_every,
               on_divergence="raise"):
    import jax
    import jax.numpy as jnp
    init_fn, apply_fn, _ = architecture(depth, readout, width, n_out=n_classes)
    X, X_test = jnp.asarray(X), jnp.asarray(X_test)
    T = jnp.asarray(one_hot_targets(y, n_classes), jnp.float32)
    _, params = init_fn(jax.random.PRNGKey(seed), X.shape)
    loss = lambda p: 0.5 * jnp.mean(jnp.sum((apply_fn(p, X) - T) ** 2, axis=1))
    predict = jax.jit(lambda p: jnp.argmax(apply_fn(p, X_test), axis=1))
    opt_state, step_fn = _momentum_gd(loss, params, lr, momentum)
    history, losses = [], []
    for k in range(1, steps + 1):
        params, opt_state, value = step_fn(params, opt_state)
        losses.append(value)                # kept on the device: no synchronisation per step
        if record_every and k % record_every == 0:
            history.append((k, np.asarray(predict(params))))
    losses.append(loss(params))             # after the last step
    losses = np.asarray(jnp.stack(losses), dtype=np.float64)
    j = _validate.first_divergence(losses, losses[0])
    if j is not None and on_divergence == "raise":
        raise _validate.diverged("train_cnn", j, float(losses[j]), f"Use a smaller lr than {lr}; a stable lr is "
                                 f"about 2 n / lambda_max(NTK)")
    return np.asarray(predict(params)), history


def _momentum_gd(loss, params, lr, momentum):
    """Gradient descent with heavy-ball momentum on ``loss(params)``, v <- momentum v + g, w <- w - lr v
    (optax.sgd): the zero initial state and a jitted step (params, state) -> (params, state, loss before the step)."""
    import jax
    import optax
    opt = optax.sgd(lr, momentum=momentum)

    def step(p, s):
        value, g = jax.value_and_grad(loss)(p)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s, value

    return opt.init(params), jax.jit(step)
