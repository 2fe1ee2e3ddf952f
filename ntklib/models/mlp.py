"""Fully connected ReLU classifiers trained by minibatch SGD with momentum (JAX), for Section 1.

Section 1 of the lecture shows two experiments run with practical networks, not the slide model:
fitting random labels and random pixels (Zhang et al. 2017) and the test error of two-layer nets of
growing width (Neyshabur et al. 2018). Both use the standard parameterisation and softmax cross-entropy:

    logits(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L,    W_l ~ N(0, g / fan_in), b_l = 0,

with g = 2 for hidden layers (He initialisation) and g = 1 for the output layer, trained by SGD with
heavy-ball momentum, v <- mu v + grad, w <- w - lr v (optax.sgd(lr, momentum=mu)), on minibatches drawn
without replacement each epoch (the last incomplete batch of an epoch is dropped). Everything is seeded:
the same seed gives the same run. The net is ntklib.models.deepnets' MLP (its draws, parameter format and
forward pass); only the classification training is this module's.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _validate
from .._jaxcompat import x64_for
from . import deepnets


def init_classifier(seed: int, d_in: int, hidden: list[int] | tuple[int, ...], n_out: int, dtype=jnp.float32):
    """He-initialised classifier (module docstring): W_l ~ N(0, 2 / fan_in) for hidden layers, N(0, 1 / fan_in) for
    the read-out, b_l = 0, drawn by deepnets.draw_layers (the one MLP's draws, from default_rng(seed)). Returns
    deepnets' parameter format, a tuple of {"W": (fan_in, fan_out), "b": (fan_out,)} layers, whose forward pass is
    deepnets.mlp_apply."""
    seed = _validate.seed(seed)
    if isinstance(hidden, (str, bytes)) or not np.iterable(hidden):
        raise TypeError(f"hidden must be a list of hidden-layer widths (e.g. [512]), got {hidden!r}")
    sizes = [_validate.positive_int(d_in, "d_in"), *(_validate.positive_int(h, "hidden width") for h in hidden),
             _validate.positive_int(n_out, "n_out")]
    dtype = _validate.float_dtype(dtype)
    _validate.memory(_validate.nbytes(*[(a, b) for a, b in zip(sizes[:-1], sizes[1:])], dtype=np.float64) * 2,
                     f"init_classifier with layer sizes {sizes}")
    layers = deepnets.draw_layers(seed, sizes, sigma_w2=[2.0] * (len(sizes) - 2) + [1.0], sigma_b2=0.0)
    with x64_for(dtype):                # float64 parameters stay float64 whatever JAX's global x64 flag
        return tuple({"W": jnp.asarray(l["W"], dtype), "b": jnp.zeros(l["b"].shape, dtype)} for l in layers)


def _structure(params) -> list[int]:
    """Layer sizes [d_in, ..., n_out] of params (init_classifier's format); a clear error for anything else. Shapes
    only, so it also works on JAX tracers."""
    if isinstance(params, (str, bytes)) or not isinstance(params, (list, tuple)) or not params:
        raise TypeError(f"params must be a non-empty tuple of {{'W', 'b'}} layers from init_classifier, "
                        f"got {type(params).__name__}")
    sizes = None
    for i, layer in enumerate(params):
        if not isinstance(layer, dict) or set(layer) != {"W", "b"}:
            raise TypeError(f"params[{i}] must be a {{'W', 'b'}} layer, got {_validate._show(layer)}")
        sW, sb = jnp.shape(layer["W"]), jnp.shape(layer["b"])
        if len(sW) != 2 or sb != (sW[1],):
            raise ValueError(f"params[{i}] must be W (fan_in, fan_out) and b (fan_out,), got shapes {sW} and {sb}")
        if sizes is None:
            sizes = [sW[0]]
        elif sW[0] != sizes[-1]:
            raise ValueError(f"params[{i}] has fan_in {sW[0]} but the previous layer has {sizes[-1]} outputs")
        sizes.append(sW[1])
    return sizes


def _inputs(params, X, y=None):
    sizes = _structure(params)
    if len(jnp.shape(X)) != 2 or jnp.shape(X)[1] != sizes[0]:
        raise ValueError(f"X must be (n, {sizes[0]}) for a net with {sizes[0]} inputs, got shape {jnp.shape(X)}")
    if y is not None:
        if jnp.shape(y) != (jnp.shape(X)[0],):
            raise ValueError(f"y must be ({jnp.shape(X)[0]},): one label per row of X, got shape {jnp.shape(y)}")
        if not isinstance(y, jax.core.Tracer):
            _validate.labels(np.asarray(y), "y", n_classes=sizes[-1])
    return sizes


def _finite_params(params):
    _structure(params)
    for i, layer in enumerate(params):
        for name, v in layer.items():
            if jnp.asarray(v).dtype not in (jnp.float32, jnp.float64):
                raise TypeError(f"params[{i}] {name} must be float32 or float64, got {jnp.asarray(v).dtype}")
            if not bool(jnp.all(jnp.isfinite(v))):
                raise ValueError(f"params[{i}] {name} contains NaN or inf (a diverged run?)")
    return np.dtype(jnp.asarray(params[0]["W"]).dtype)


def n_params(params) -> int:
    _structure(params)
    return int(sum(np.size(v) for layer in params for v in layer.values()))


def logits(params, X):
    """The net's outputs (n, n_out) on the rows of X."""
    _inputs(params, X)
    with x64_for(_dtype(params)):      # float64 parameters compute in float64 whatever JAX's global x64 flag
        return _logits(params, X)


def _dtype(params):
    return np.dtype(getattr(params[0]["W"], "dtype", np.float32))


@jax.jit
def _logits(params, X):
    return deepnets.mlp_apply(params, X)     # the one MLP forward pass (standard parameterisation)


def cross_entropy(params, X, y):
    """Mean softmax cross-entropy of integer labels y (0..C-1)."""
    _inputs(params, X, y)
    with x64_for(_dtype(params)):
        z = _logits(params, X)
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])


_loss_jit = jax.jit(cross_entropy)


@partial(jax.jit, static_argnames=("batch", "epochs"))
def _run_epochs(params, opt_state, X, y, key, lr, momentum, batch, epochs):
    """`epochs` epochs of SGD with momentum; returns the new state and each epoch's mean minibatch loss."""
    n_batches = X.shape[0] // batch
    opt = optax.sgd(lr, momentum=momentum)

    def one_epoch(state, key):
        order = jax.random.permutation(key, X.shape[0])[: n_batches * batch].reshape(n_batches, batch)

        def step(state, idx):
            p, s = state
            loss, g = jax.value_and_grad(cross_entropy)(p, X[idx], y[idx])
            updates, s = opt.update(g, s, p)
            return (optax.apply_updates(p, updates), s), loss

        state, losses = jax.lax.scan(step, state, order)
        return state, losses.mean()

    (params, opt_state), epoch_loss = jax.lax.scan(one_epoch, (params, opt_state), jax.random.split(key, epochs))
    return params, opt_state, epoch_loss


@dataclass
class SGDRun:
    """What :func:`train_sgd` returns."""

    params: tuple
    epoch_loss: np.ndarray   # mean minibatch loss of each epoch (Zhang et al.'s "average loss")
    steps_per_epoch: int
    final_loss: float        # cross-entropy on the whole training set at the end
    stopped_early: bool      # True if final_loss reached stop_loss before max_epochs
    diverged_epoch: int | None = None   # first epoch (1-based) whose loss blew up (on_divergence="return")

    @property
    def steps(self) -> np.ndarray:
        """SGD step count at the end of each epoch."""
        return self.steps_per_epoch * np.arange(1, len(self.epoch_loss) + 1)

    def steps_to(self, level: float) -> float:
        """First step (end of epoch) at which the epoch's average loss is <= level; inf if never."""
        hit = np.flatnonzero(self.epoch_loss <= level)
        return float(self.steps[hit[0]]) if hit.size else float("inf")


def train_sgd(params, X, y, *, lr: float, epochs: int, seed: int, batch: int = 100, momentum: float = 0.9,
              stop_loss: float | None = None, check_every: int = 5, on_divergence: str = "raise") -> SGDRun:
    """Train by minibatch SGD with momentum for at most `epochs` epochs.

    If `stop_loss` is given, training stops at the first multiple of `check_every` epochs at which the
    cross-entropy on the whole training set is <= stop_loss (the stopping rule of Neyshabur et al. 2018).
    An epoch loss that becomes non-finite or grows DIVERGED_LOSS_FACTOR-fold (ntklib.tolerances) raises
    TrainingDiverged, unless on_divergence="return" (then ``diverged_epoch`` says where).
    """
    dtype = _finite_params(params)
    X = _validate.matrix(X, "X")
    sizes = _inputs(params, X)
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must be integer class labels, got dtype {y.dtype}")
    y = _validate.labels(y, "y", X.shape[0])
    if y.max() >= sizes[-1]:
        raise ValueError(f"y holds label {y.max()} but the net has {sizes[-1]} outputs (classes 0..{sizes[-1] - 1})")
    batch = _validate.positive_int(batch, "batch")
    if batch > X.shape[0]:
        raise ValueError(f"batch {batch} is larger than the {X.shape[0]} training points")
    epochs = _validate.positive_int(epochs, "epochs")
    check_every = _validate.positive_int(check_every, "check_every")
    lr = _validate.positive(lr, "lr")
    momentum = _validate.momentum(momentum)
    seed = _validate.seed(seed)
    stop_loss = None if stop_loss is None else _validate.real(stop_loss, "stop_loss")
    on_divergence = _validate.on_divergence(on_divergence)
    # X on the device plus, per minibatch step, each layer's activations and gradients
    _validate.memory(_validate.nbytes(X.shape, (4 * batch, sum(sizes)), dtype=dtype),
                     f"train_sgd on {X.shape[0]} x {X.shape[1]} inputs")
    with x64_for(dtype):                # float64 parameters train in float64 whatever JAX's global x64 flag
        run = _train_sgd(params, jnp.asarray(X, dtype), jnp.asarray(y, jnp.int32), lr, epochs, seed, batch, momentum,
                         stop_loss, check_every)
    with x64_for(dtype):
        loss0 = float(_loss_jit(params, jnp.asarray(X, dtype), jnp.asarray(y, jnp.int32)))
    j = _validate.first_divergence(np.append(run.epoch_loss, run.final_loss), loss0)
    if j is not None:
        run.diverged_epoch = min(j + 1, len(run.epoch_loss))
        loss = float(np.append(run.epoch_loss, run.final_loss)[j])
        if on_divergence == "raise":
            raise _validate.diverged(f"train_sgd (epoch {run.diverged_epoch})",
                                     run.diverged_epoch * run.steps_per_epoch, loss, f"Use a smaller lr than {lr}")
    return run


def _train_sgd(params, X, y, lr, epochs, seed, batch, momentum, stop_loss, check_every):
    opt_state = optax.sgd(lr, momentum=momentum).init(params)   # the zero velocity
    key = jax.random.PRNGKey(seed)
    losses, done, final, stopped = [], 0, None, False
    while done < epochs:
        chunk = min(check_every, epochs - done)
        key, sub = jax.random.split(key)
        params, opt_state, epoch_loss = _run_epochs(params, opt_state, X, y, sub, lr, momentum, batch, chunk)
        losses.append(np.asarray(epoch_loss))
        done += chunk
        if stop_loss is not None:
            final = float(_loss_jit(params, X, y))
            if final <= stop_loss:
                stopped = True
                break
    if final is None:
        final = float(_loss_jit(params, X, y))
    return SGDRun(params, np.concatenate(losses), X.shape[0] // batch, final, stopped)


def error_rate(params, X, y, chunk: int = 5000) -> float:
    """Fraction of misclassified points (computed in chunks to bound memory)."""
    dtype = _finite_params(params)
    X = _validate.matrix(X, "X")
    sizes = _inputs(params, X)
    y = _validate.labels(y, "y", X.shape[0], sizes[-1])
    chunk = _validate.positive_int(chunk, "chunk")
    wrong = 0
    with x64_for(dtype):
        for i in range(0, len(X), chunk):
            z = _logits(params, jnp.asarray(X[i:i + chunk], dtype))
            wrong += int(np.sum(np.asarray(jnp.argmax(z, axis=1)) != y[i:i + chunk]))
    return wrong / len(X)


def standardize_images(images) -> np.ndarray:
    """Flatten images and standardise each one to zero mean and unit variance over its pixels
    (the per-image whitening of Zhang et al. 2017); float32."""
    A = _validate._array(images, "images")
    if A.ndim < 2:
        raise ValueError(f"images must be (n, ...) with at least one pixel per image, got shape {A.shape}")
    A = _validate.array(A, "images", A.ndim)
    Z = A.reshape(len(A), -1).astype(np.float32)
    Z = Z - Z.mean(axis=1, keepdims=True)
    return Z / np.maximum(Z.std(axis=1, keepdims=True), 1e-6)
