"""Fully connected ReLU classifiers trained by minibatch SGD with momentum (JAX), for Section 1.

Section 1 of the lecture shows two experiments run with practical networks, not the slide model:
fitting random labels and random pixels (Zhang et al. 2017) and the test error of two-layer nets of
growing width (Neyshabur et al. 2018). Both use the standard parameterisation and softmax cross-entropy:

    logits(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L,    W_l ~ N(0, g / fan_in), b_l = 0,

with g = 2 for hidden layers (He initialisation) and g = 1 for the output layer, trained by SGD with
heavy-ball momentum, v <- mu v + grad, w <- w - lr v, on minibatches drawn without replacement each
epoch (the last incomplete batch of an epoch is dropped). Everything is seeded: the same seed gives
the same run.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate


def init_mlp(seed: int, d_in: int, hidden: list[int] | tuple[int, ...], n_out: int, dtype=jnp.float32) -> list:
    """Parameters [(W_1, b_1), ..., (W_L, b_L)] with W_l of shape (fan_in, fan_out)."""
    sizes = [_validate.positive_int(d_in, "d_in"), *(_validate.positive_int(h, "hidden width") for h in hidden),
             _validate.positive_int(n_out, "n_out")]
    keys = jax.random.split(jax.random.PRNGKey(seed), len(sizes) - 1)
    params = []
    for layer, (key, fan_in, fan_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
        gain = 1.0 if layer == len(sizes) - 2 else 2.0
        W = jax.random.normal(key, (fan_in, fan_out), dtype) * jnp.sqrt(gain / fan_in).astype(dtype)
        params.append((W, jnp.zeros(fan_out, dtype)))
    return params


def n_params(params) -> int:
    return int(sum(W.size + b.size for W, b in params))


@jax.jit
def logits(params, X):
    h = X
    for W, b in params[:-1]:
        h = jax.nn.relu(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def cross_entropy(params, X, y):
    """Mean softmax cross-entropy of integer labels y (0..C-1)."""
    z = logits(params, X)
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])


_loss_jit = jax.jit(cross_entropy)


@partial(jax.jit, static_argnames=("batch", "epochs"))
def _run_epochs(params, velocity, X, y, key, lr, momentum, batch, epochs):
    """`epochs` epochs of SGD with momentum; returns the new state and each epoch's mean minibatch loss."""
    n_batches = X.shape[0] // batch

    def one_epoch(state, key):
        order = jax.random.permutation(key, X.shape[0])[: n_batches * batch].reshape(n_batches, batch)

        def step(state, idx):
            p, v = state
            loss, g = jax.value_and_grad(cross_entropy)(p, X[idx], y[idx])
            v = jax.tree.map(lambda v, g: momentum * v + g, v, g)
            p = jax.tree.map(lambda p, v: p - lr * v, p, v)
            return (p, v), loss

        state, losses = jax.lax.scan(step, state, order)
        return state, losses.mean()

    (params, velocity), epoch_loss = jax.lax.scan(one_epoch, (params, velocity), jax.random.split(key, epochs))
    return params, velocity, epoch_loss


@dataclass
class SGDRun:
    """What :func:`train_sgd` returns."""

    params: list
    epoch_loss: np.ndarray   # mean minibatch loss of each epoch (Zhang et al.'s "average loss")
    steps_per_epoch: int
    final_loss: float        # cross-entropy on the whole training set at the end
    stopped_early: bool      # True if final_loss reached stop_loss before max_epochs

    @property
    def steps(self) -> np.ndarray:
        """SGD step count at the end of each epoch."""
        return self.steps_per_epoch * np.arange(1, len(self.epoch_loss) + 1)

    def steps_to(self, level: float) -> float:
        """First step (end of epoch) at which the epoch's average loss is <= level; inf if never."""
        hit = np.flatnonzero(self.epoch_loss <= level)
        return float(self.steps[hit[0]]) if hit.size else float("inf")


def train_sgd(params, X, y, *, lr: float, epochs: int, seed: int, batch: int = 100, momentum: float = 0.9,
              stop_loss: float | None = None, check_every: int = 5) -> SGDRun:
    """Train by minibatch SGD with momentum for at most `epochs` epochs.

    If `stop_loss` is given, training stops at the first multiple of `check_every` epochs at which the
    cross-entropy on the whole training set is <= stop_loss (the stopping rule of Neyshabur et al. 2018).
    """
    X = jnp.asarray(_validate.matrix(X, "X"), params[0][0].dtype)
    y = np.asarray(y)
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError(f"y must be {X.shape[0]} non-negative integer class labels, got {y.dtype} {y.shape}")
    if y.max() >= params[-1][0].shape[1]:
        raise ValueError(f"label {y.max()} but the net has {params[-1][0].shape[1]} outputs")
    batch = _validate.positive_int(batch, "batch")
    if batch > X.shape[0]:
        raise ValueError(f"batch {batch} is larger than the {X.shape[0]} training points")
    epochs = _validate.positive_int(epochs, "epochs")
    check_every = _validate.positive_int(check_every, "check_every")
    lr = _validate.positive(lr, "lr")
    y = jnp.asarray(y, jnp.int32)
    velocity = jax.tree.map(jnp.zeros_like, params)
    key = jax.random.PRNGKey(seed)
    losses, done, final, stopped = [], 0, None, False
    while done < epochs:
        chunk = min(check_every, epochs - done)
        key, sub = jax.random.split(key)
        params, velocity, epoch_loss = _run_epochs(params, velocity, X, y, sub, lr, momentum, batch, chunk)
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
    X = np.asarray(X)
    y = np.asarray(y)
    wrong = 0
    for i in range(0, len(X), chunk):
        z = logits(params, jnp.asarray(X[i:i + chunk], params[0][0].dtype))
        wrong += int(np.sum(np.asarray(jnp.argmax(z, axis=1)) != y[i:i + chunk]))
    return wrong / len(X)


def standardize_images(images) -> np.ndarray:
    """Flatten images and standardise each one to zero mean and unit variance over its pixels
    (the per-image whitening of Zhang et al. 2017); float32."""
    Z = np.asarray(images).reshape(len(images), -1).astype(np.float32)
    Z = Z - Z.mean(axis=1, keepdims=True)
    return Z / np.maximum(Z.std(axis=1, keepdims=True), 1e-6)
