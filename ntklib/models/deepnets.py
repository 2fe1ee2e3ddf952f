"""Deep fully connected ReLU networks in standard parameterisation: initialisation, their NTK, training
(full-batch GD, minibatch SGD, Adam) and training of their linearisation around any checkpoint.

The network (Seleznova & Kutyniok 2022; the lecture's Theorem 7) with L weight layers and
widths n_0, ..., n_L is

    z_1 = x W_1 + b_1,   z_l = relu(z_{l-1}) W_l + b_l  (l = 2..L),   f(x) = z_L,
    W_l ~ N(0, sigma_w^2 / n_{l-1}) entrywise,   b_l ~ N(0, sigma_b^2)  (or no biases at all),

"standard parameterisation": the 1/sqrt(fan-in) sits in the initial variance, not in the forward pass, so
gradients and the NTK scale with the widths. ``parameterization="ntk"`` in ``mlp_apply`` and ``mlp_ntk`` gives
instead the NTK parameterisation of Jacot et al. (2018) and neural-tangents, z_l = h W_l / sqrt(n_{l-1}) + beta b_l
(ntklib.models.jacot draws its weights).
sigma_w^2 < 2, = 2 and > 2 are the ordered phase, the edge of chaos and the chaotic phase for ReLU
(Poole et al. 2016; Hayou et al. 2019). Parameters are a tuple of dicts {"W": (n_in, n_out), "b": (n_out,)},
a JAX pytree; "b" is absent for bias-free nets.

The linearisation around an anchor w~ (Lee et al. 2019, "Wide neural networks of any depth evolve as linear
models under gradient descent"; Fort et al. 2020),

    f_lin(w, x) = f(w~, x) + J_f(w~, x) (w - w~),

is what "training along the tangent space at w(t~)" trains (lecture Section 5, "The time evolution of
data-dependent NTK"); under gradient flow on the squared loss its outputs follow du/dt = -H_{t~}(u - y).

``init_depth_family`` / ``family_ntk`` give the NTK of nets of every depth 1..L at once (the NTK's dispersion
and off-diagonal structure at initialisation by phase, Seleznova & Kutyniok 2022, as sampled by their
``ntk_sample_mlp.py``), and
``infinite_width_ntk`` its width-M Gaussian-recursion mean from neural-tangents, the reference.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax

from .. import _validate

Params = tuple  # tuple of {"W": array, "b": array} dicts, one per layer


# --------------------------------------------------------------------------------------------------
# the network


def _check_sizes(sizes) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise _validate.ArgumentTypeError(f"sizes must be a list of layer widths (n_0, ..., n_L), got "
                                          f"{_validate._show(sizes)}")
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list the input width and at least one layer width, got {sizes}")
    return tuple(_validate.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes))


def _check_variances(sigma_w2, sigma_b2):
    sigma_w2 = _validate.positive(sigma_w2, "sigma_w2")
    sigma_b2 = _validate.nonnegative(sigma_b2, "sigma_b2")
    return sigma_w2, sigma_b2


def _check_seed(seed):
    """An int seed, or a tuple of them (default_rng's entropy), each in 0..2^32-1."""
    if isinstance(seed, tuple):
        if not seed:
            raise ValueError("seed must be a non-negative integer or a non-empty tuple of them, got ()")
        return tuple(_validate.seed(s, f"seed[{i}]") for i, s in enumerate(seed))
    return _validate.seed(seed)


def _check_dtype(dtype):
    if dtype is None:
        return jnp.zeros(()).dtype
    try:
        dt = jnp.dtype(dtype)
    except TypeError:
        raise _validate.ArgumentTypeError(f"dtype must be a floating-point dtype, got {_validate._show(dtype)}") from None
    if not jnp.issubdtype(dt, jnp.floating):
        raise ValueError(f"dtype must be a floating-point dtype, got {dt}")
    return dt


def _check_apply_fn(apply_fn):
    if not callable(apply_fn):
        raise _validate.ArgumentTypeError(f"apply_fn must be a function apply_fn(params, X), got "
                                          f"{_validate._show(apply_fn)}")


def _check_params(params, name: str = "params"):
    """A tuple of {"W": ..., "b": ...} layers (init_mlp's format); works on traced arrays (shapes only)."""
    ok = isinstance(params, (tuple, list)) and len(params) > 0 and all(isinstance(l, dict) and "W" in l for l in params)
    if not ok or any(jnp.ndim(l["W"]) not in (2, 3) for l in params):
        raise _validate.ArgumentTypeError(f"{name} must be a tuple of {{'W', 'b'}} layers as from deepnets.init_mlp, "
                                          f"got {_validate._show(params)}")


def _draw(seed, sizes, sigma_w2, sigma_b2, bias):
    """NumPy draws of one net, layer by layer (W_l then b_l), from default_rng(seed); the variances are one number
    or one per layer."""
    rng = np.random.default_rng(seed)
    per_layer = lambda v: v if isinstance(v, (list, tuple)) else [v] * (len(sizes) - 1)
    layers = []
    for n_in, n_out, sw2, sb2 in zip(sizes[:-1], sizes[1:], per_layer(sigma_w2), per_layer(sigma_b2)):
        layer = {"W": rng.standard_normal((n_in, n_out)) * np.sqrt(sw2 / n_in)}
        if bias:
            layer["b"] = rng.standard_normal(n_out) * np.sqrt(sb2)
        layers.append(layer)
    return layers


def draw_layers(seed, sizes: Sequence[int], sigma_w2=2.0, sigma_b2=0.0) -> list[dict]:
    """The draws of :func:`init_mlp` as float64 NumPy layers {"W": (n_{l-1}, n_l), "b": (n_l,)}, for trainers written
    in NumPy (ntklib.models.trained_nets): W_l ~ N(0, sigma_w2 / n_{l-1}), b_l ~ N(0, sigma_b2), drawn W_l then b_l
    from default_rng(seed). ``sigma_w2`` and ``sigma_b2`` are one number or a list with one per layer (e.g. gain 2
    for the hidden layers and 1 for the read-out; sigma_w2 = n_{l-1} draws W_l ~ N(0, 1) exactly)."""
    seed = _check_seed(seed)
    sizes = _check_sizes(sizes)
    n_layers = len(sizes) - 1
    variances = []
    for v, name, check in ((sigma_w2, "sigma_w2", _validate.positive), (sigma_b2, "sigma_b2", _validate.nonnegative)):
        if isinstance(v, (list, tuple)):
            if len(v) != n_layers:
                raise ValueError(f"{name} must be a number or a list of {n_layers} (one per layer), got {len(v)} values")
            v = [check(x, f"{name}[{i}]") for i, x in enumerate(v)]
        else:
            v = check(v, name)
        variances.append(v)
    return _draw(seed, sizes, *variances, True)


def _group(layers, scan_hidden):
    """Stack the longest run of identical hidden layers (n -> n) into one entry with a leading axis."""
    if not scan_hidden:
        return layers
    shape = lambda l: tuple((k, v.shape) for k, v in sorted(l.items()))
    hidden = list(range(len(layers) - 1))
    best = (0, 0)
    i = 0
    while i < len(hidden):
        j = i
        while j + 1 < len(hidden) and shape(layers[j + 1]) == shape(layers[i]) and layers[i]["W"].shape[0] == layers[i]["W"].shape[1]:
            j += 1
        if j - i + 1 > best[1] - best[0]:
            best = (i, j + 1)
        i = j + 1
    a, b = best
    if b - a < 2:
        return layers
    stacked = {k: np.stack([l[k] for l in layers[a:b]]) for k in layers[a]}
    return layers[:a] + [stacked] + layers[b:]


def init_mlp(seed, sizes: Sequence[int], sigma_w2: float = 2.0, sigma_b2: float = 0.0, bias: bool = True,
             dtype=None, scan_hidden: bool = False) -> Params:
    """Draw a ReLU net of widths ``sizes = (n_0, ..., n_L)``: W_l ~ N(0, sigma_w2 / n_{l-1}), b_l ~ N(0, sigma_b2).

    Draws come from ``np.random.default_rng(seed)`` (an int or a tuple of ints). ``bias=False`` gives the
    weights-only net of Theorem 7 on the slides. ``dtype`` defaults to JAX's default float.
    ``scan_hidden=True`` stores the longest run of equal square hidden layers as ONE entry whose arrays
    have a leading layer axis; :func:`mlp_apply` then runs them with ``jax.lax.scan``, so compiling a deep
    net takes seconds instead of minutes. The numbers drawn are the same either way (see :func:`layers`).
    """
    seed = _check_seed(seed)
    sizes = _check_sizes(sizes)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    bias, scan_hidden = _validate.flag(bias, "bias"), _validate.flag(scan_hidden, "scan_hidden")
    dtype = _check_dtype(dtype)
    grouped = _group(_draw(seed, sizes, sigma_w2, sigma_b2, bias), scan_hidden)
    return tuple({k: jnp.asarray(v, dtype) for k, v in l.items()} for l in grouped)


def init_mlp_batch(seed: int, count: int, sizes: Sequence[int], sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                   bias: bool = True, dtype=None, scan_hidden: bool = False) -> Params:
    """``count`` independent initialisations stacked along a leading axis (for jax.vmap over networks).

    Initialisation i is ``init_mlp((seed, i), ...)``, so any chunk of a batch can be drawn on its own
    with :func:`init_mlp_at`.
    """
    count = _validate.positive_int(count, "count")
    return init_mlp_at(seed, range(count), sizes, sigma_w2, sigma_b2, bias, dtype, scan_hidden)


def init_mlp_at(seed: int, indices, sizes: Sequence[int], sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                bias: bool = True, dtype=None, scan_hidden: bool = False) -> Params:
    """The initialisations number ``indices`` of :func:`init_mlp_batch` (same seed), stacked."""
    seed = _validate.seed(seed)
    if isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__"):
        raise _validate.ArgumentTypeError(f"indices must be a list of non-negative integers, got "
                                          f"{_validate._show(indices)}")
    indices = [_validate.nonnegative_int(i, "indices entry") for i in indices]
    sizes = _check_sizes(sizes)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    bias, scan_hidden = _validate.flag(bias, "bias"), _validate.flag(scan_hidden, "scan_hidden")
    dtype = _check_dtype(dtype)
    nets = [_group(_draw((int(seed), int(i)), sizes, sigma_w2, sigma_b2, bias), scan_hidden) for i in indices]
    if not nets:
        raise ValueError("indices is empty")
    return tuple({k: jnp.asarray(np.stack([net[l][k] for net in nets]), dtype) for k in nets[0][l]}
                 for l in range(len(nets[0])))


def layers(params: Params) -> Params:
    """The layers one by one: entries stacked by ``scan_hidden=True`` are split back into 2-D layers."""
    _check_params(params)
    out = []
    for layer in params:
        if layer["W"].ndim == 3:
            out.extend({k: v[i] for k, v in layer.items()} for i in range(layer["W"].shape[0]))
        else:
            out.append(layer)
    return tuple(out)


PARAMETERIZATIONS = ("standard", "ntk")


def mlp_apply(params: Params, X, parameterization: str = "standard", beta=1.0):
    """f(x) for each row of X (or for a single 1-D input): ReLU hidden layers, linear read-out. Returns (n, n_L).

    ``parameterization``: "standard" (this module's net, z_l = h W_l + b_l) or "ntk" (Jacot et al. 2018, Section 2:
    z_l = h W_l / sqrt(n_{l-1}) + beta b_l, ntklib.models.jacot's net). ``beta`` (ntk only) may be a traced
    scalar, so ``train(..., apply_args=("ntk", beta))`` compiles once for every beta."""
    _check_params(params)
    _validate.choice(parameterization, "parameterization", PARAMETERIZATIONS)
    n_in = params[0]["W"].shape[-2]
    if jnp.ndim(X) not in (1, 2) or jnp.shape(X)[-1] != n_in:
        raise ValueError(f"X must be (n, {n_in}) or ({n_in},) for this network, got shape {jnp.shape(X)}")
    h = X
    for layer in params[:-1]:
        if layer["W"].ndim == 3:                        # a stack of identical hidden layers
            h = jax.lax.scan(lambda h, l: (jax.nn.relu(_affine(l, h, parameterization, beta)), None), h, layer)[0]
        else:
            h = jax.nn.relu(_affine(layer, h, parameterization, beta))
    return _affine(params[-1], h, parameterization, beta)


def _affine(layer, h, parameterization="standard", beta=1.0):
    if parameterization == "ntk":                       # the 1/sqrt(fan-in) in the forward pass, beta on the bias
        z = h @ layer["W"] / math.sqrt(layer["W"].shape[-2])
        return z + beta * layer["b"] if "b" in layer else z
    z = h @ layer["W"]
    return z + layer["b"] if "b" in layer else z


def num_params(params: Params) -> int:
    """The number of trainable parameters (all array entries of the pytree)."""
    if not jax.tree_util.tree_leaves(params):
        raise _validate.ArgumentTypeError(f"params must be a pytree of arrays, got {_validate._show(params)}")
    return int(sum(np.prod(np.shape(leaf)) for leaf in jax.tree_util.tree_leaves(params)))


def _check_net_input(params, X, name="X"):
    _check_params(params)
    X = _validate.matrix(X, name)
    n_in = params[0]["W"].shape[-2]
    if X.shape[1] != n_in:
        raise ValueError(f"{name} has {X.shape[1]} features but the network's input width is {n_in}")
    return X


def mlp_ntk(params: Params, X1, X2=None, parameterization: str = "standard", beta=1.0) -> np.ndarray:
    """Empirical NTK of the ReLU net, traced over the outputs: Theta(x, x') = sum_k <grad f_k(x), grad f_k(x')>.

    Layer-wise formula (Jacot et al. 2018; the "structured derivatives" of Novak et al. 2022): with
    h_{l-1} the input of layer l and delta_{l,k} = d f_k / d z_l,

        standard:  Theta(x, x') = sum_l [<h_{l-1}(x), h_{l-1}(x')> + 1_bias] * sum_k <delta_{l,k}(x), delta_{l,k}(x')>,
        ntk:       Theta(x, x') = sum_l [<h_{l-1}(x), h_{l-1}(x')> / n_{l-1} + beta^2 1_bias] * sum_k <...>,

    since d f_k / d W_l = h_{l-1} delta_{l,k}^T (times 1/sqrt(n_{l-1}) in the NTK parameterisation, where
    d f_k / d b_l = beta delta_{l,k}). One forward and one backward pass per input instead of the
    (n k) x (#params) Jacobian: a width-10,000 net on 512 inputs takes seconds. Equal to
    ntklib.models.evolution.empirical_ntk (tested); Jacot et al.'s Theorem 1 is its infinite-width limit.
    """
    X1 = _check_net_input(params, X1, "X1")
    X2 = X1 if X2 is None else _check_net_input(params, X2, "X2")
    _validate.choice(parameterization, "parameterization", PARAMETERIZATIONS)
    beta = _validate.nonnegative(beta, "beta")
    dt = params[0]["W"].dtype
    widths = [layer["W"].shape[-1] for layer in params]
    _validate.memory(_validate.nbytes(*[(len(X1) + len(X2), w) for w in widths], (len(X1), len(X2)), dtype=dt) * 3,
                     "the layer features of the NTK")
    out = _mlp_ntk(layers(params), jnp.asarray(X1, dt), jnp.asarray(X2, dt), jnp.asarray(beta, dt), X2 is X1,
                   parameterization)
    return np.asarray(out, dtype=np.float64)


@partial(jax.jit, static_argnames=("same", "parameterization"))
def _mlp_ntk(params, X1, X2, beta, same, parameterization):
    h1, d1 = _layer_features(params, X1, parameterization, beta)
    h2, d2 = (h1, d1) if same else _layer_features(params, X2, parameterization, beta)
    K = 0.0
    for l, layer in enumerate(params):
        if parameterization == "ntk":
            gram = h1[l] @ h2[l].T / layer["W"].shape[0] + (beta ** 2 if "b" in layer else 0.0)
        else:
            gram = h1[l] @ h2[l].T + (1.0 if "b" in layer else 0.0)
        K = K + gram * jnp.einsum("ikm,jkm->ij", d1[l], d2[l])
    return K


def _layer_features(params, X, parameterization, beta):
    """Inputs h_{l-1} of each layer (n, n_{l-1}) and backward vectors delta_l = df/dz_l (n, k, n_l)."""
    hs, masks, h = [X], [], X
    for layer in params[:-1]:
        z = _affine(layer, h, parameterization, beta)
        masks.append((z > 0).astype(z.dtype))   # relu'(z); JAX's relu has derivative 0 at 0, as here
        h = z * masks[-1]
        hs.append(h)
    k = params[-1]["W"].shape[1]
    d = jnp.broadcast_to(jnp.eye(k, dtype=X.dtype), (X.shape[0], k, k))
    deltas = [d]
    for l in range(len(params) - 2, -1, -1):
        W = params[l + 1]["W"]
        d = ((d @ W.T) / math.sqrt(W.shape[0]) if parameterization == "ntk" else d @ W.T) * masks[l][:, None, :]
        deltas.append(d)
    return hs, deltas[::-1]


# --------------------------------------------------------------------------------------------------
# losses and optimisers


def mse(outputs, targets):
    """Squared loss (1/n) sum_i 1/2 ||f(x_i) - y_i||^2 (as in Seleznova & Kutyniok's experiments)."""
    _same_shape(outputs, targets, "outputs")
    r = outputs - targets
    return 0.5 * jnp.mean(jnp.sum(r * r, axis=-1))


def cross_entropy(logits, targets):
    """Softmax cross-entropy with one-hot (or probability) targets, averaged over samples."""
    _same_shape(logits, targets, "logits")
    return -jnp.mean(jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1), axis=-1))


def _same_shape(outputs, targets, name):
    """No silent broadcasting of (n, k) outputs against (n,) or (1, k) targets (shapes only: works under jit)."""
    if jnp.ndim(outputs) == 0 or jnp.shape(outputs) != jnp.shape(targets):
        raise ValueError(f"{name} and targets must have the same (n, k) shape, got {jnp.shape(outputs)} and "
                         f"{jnp.shape(targets)}")


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


@dataclass(frozen=True)
class SGD:
    """Heavy-ball SGD, b <- momentum * b + g, w <- w - lr * b (optax.sgd); with full batches and momentum 0
    this is gradient descent."""

    lr: float
    momentum: float = 0.0


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1), bias-corrected, eps added to sqrt(v_hat) (optax.adam);
    Seleznova & Kutyniok train with it."""

    lr: float
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8


def _check_optimizer(opt):
    if isinstance(opt, SGD):
        _validate.positive(opt.lr, "SGD lr")
        if not 0 <= opt.momentum < 1:
            raise ValueError(f"SGD momentum must be in [0, 1), got {opt.momentum!r}")
    elif isinstance(opt, Adam):
        _validate.positive(opt.lr, "Adam lr")
        _validate.probability(opt.b1, "Adam b1")
        _validate.probability(opt.b2, "Adam b2")
        _validate.positive(opt.eps, "Adam eps")
    else:
        raise TypeError(f"optimizer must be deepnets.SGD or deepnets.Adam, got {type(opt).__name__}")
    return opt


def _hyper(opt, dtype):
    """Hyper-parameters as traced arrays, so a new learning rate does not recompile the training loop."""
    if isinstance(opt, SGD):
        vals = (opt.lr, opt.momentum)
    else:
        vals = (opt.lr, opt.b1, opt.b2, opt.eps)
    return tuple(jnp.asarray(v, dtype) for v in vals)


def _transformation(kind, hyper) -> optax.GradientTransformation:
    """The optax optimiser of ``kind`` ("sgd" or "adam") with the hyper-parameters of :func:`_hyper`."""
    if kind == "sgd":
        lr, momentum = hyper
        return optax.sgd(lr, momentum=momentum)
    # optax.adam is Adam exactly as written before: eps outside the square root (eps_root = 0), both moments
    # bias-corrected; only the rounding order differs ((1 - b2) * g**2, lr * (m_hat / (sqrt(v_hat) + eps))).
    lr, b1, b2, eps = hyper
    return optax.adam(lr, b1=b1, b2=b2, eps=eps)


# --------------------------------------------------------------------------------------------------
# training


@dataclass
class Trajectory:
    """What :func:`train` records. ``records[i]`` is taken after ``steps[i]`` optimiser steps."""

    steps: np.ndarray              # step index of each record (0 first)
    records: list                  # callback(step, params) at each record (the parameters by default)
    batch_loss: np.ndarray         # loss on the batch used at each step, (steps,)
    final: Any = None              # parameters after the last step
    diverged_step: int | None = None  # first step whose loss was not finite (on_divergence="return"), else None


def minibatch_indices(n: int, batch_size: int | None, steps: int, seed: int) -> np.ndarray | None:
    """Row indices of each step's batch, (steps, batch_size): epochs of seeded random permutations
    (``np.random.default_rng(seed)``), the last partial batch of each epoch dropped. None for full batches."""
    n = _validate.positive_int(n, "n")
    steps = _validate.nonnegative_int(steps, "steps")
    seed = _validate.seed(seed)
    if batch_size is None:
        return None
    batch_size = _validate.positive_int(batch_size, "batch_size")
    if batch_size >= n:
        return None
    rng = np.random.default_rng(seed)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    rows = [rng.permutation(n)[: per_epoch * batch_size].reshape(per_epoch, batch_size) for _ in range(max(epochs, 1))]
    return np.concatenate(rows)[:steps].astype(np.int32)


def train(apply_fn: Callable, params, X, Y, *, optimizer, steps: int, loss: str = "mse",
          batch_size: int | None = None, seed: int = 0, record_every: int | None = None,
          callback: Callable | None = None, apply_args: tuple = (), on_divergence: str = "raise") -> Trajectory:
    """Train ``apply_fn(params, X, *apply_args)`` on (X, Y) and record along the way.

    - ``optimizer``: :class:`SGD` (full batch: gradient descent) or :class:`Adam`.
    - ``loss``: "mse" or "cross_entropy" (Y one-hot); ``batch_size=None`` trains on the full batch, else on
      seeded minibatches (:func:`minibatch_indices`).
    - Every ``record_every`` steps (and at step 0) ``callback(step, params)`` is stored in ``records``
      (default: the parameters themselves). ``steps`` must be a multiple of ``record_every``.
    - ``apply_args`` are extra, untrained arguments of ``apply_fn`` (e.g. the anchor of :func:`linearize`);
      passing them as data keeps one compiled training loop per apply_fn.
    - A loss that is not finite raises :class:`ntklib._validate.TrainingDiverged` naming the step; with
      ``on_divergence="return"`` training stops there and the trajectory says where (``diverged_step``).
    """
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    _check_optimizer(optimizer)
    _check_apply_fn(apply_fn)
    if callback is not None and not callable(callback):
        raise _validate.ArgumentTypeError(f"callback must be a function callback(step, params), got "
                                          f"{_validate._show(callback)}")
    if not isinstance(apply_args, tuple):
        raise _validate.ArgumentTypeError(f"apply_args must be a tuple, got {type(apply_args).__name__}")
    if not jax.tree_util.tree_leaves(params):
        raise _validate.ArgumentTypeError(f"params must be a pytree of arrays, got {_validate._show(params)}")
    steps = _validate.nonnegative_int(steps, "steps")
    seed = _validate.seed(seed)
    on_divergence = _validate.choice(on_divergence, "on_divergence", _validate.DIVERGENCE_ACTIONS)
    if batch_size is not None:
        _validate.positive_int(batch_size, "batch_size")
    record_every = steps if record_every is None else _validate.positive_int(record_every, "record_every")
    if steps and steps % record_every:
        raise ValueError(f"steps={steps} must be a multiple of record_every={record_every}")
    X = _validate.matrix(X, "X")
    Y = _validate.matrix(Y, "Y") if np.ndim(Y) == 2 else _validate.vector(Y, "Y", X.shape[0])[:, None]
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    Xj, Yj = jnp.asarray(X, dt), jnp.asarray(Y, dt)
    idx = minibatch_indices(X.shape[0], batch_size, steps, seed)
    kind = "sgd" if isinstance(optimizer, SGD) else "adam"
    hyper = _hyper(optimizer, dt)
    state = _transformation(kind, hyper).init(params)
    callback = callback or (lambda step, p: p)
    rec_steps, records, losses = [0], [callback(0, params)], []
    for start in range(0, steps, record_every) if steps else ():
        chunk = None if idx is None else jnp.asarray(idx[start:start + record_every])
        params, state, chunk_loss = _run_chunk(apply_fn, loss, kind, record_every, params, state, hyper,
                                               Xj, Yj, chunk, tuple(apply_args))
        chunk_loss = np.asarray(chunk_loss)
        losses.append(chunk_loss)
        bad = np.flatnonzero(~np.isfinite(chunk_loss))
        if bad.size:
            step, value = start + int(bad[0]) + 1, float(chunk_loss[bad[0]])
            if on_divergence == "raise":
                raise _validate.TrainingDiverged(
                    f"train: the {loss} loss became {value} at step {step} of {steps}: training diverged; lower the "
                    f"optimizer's learning rate (or pass on_divergence='return' to get the flagged trajectory)",
                    step, value)
            return Trajectory(np.array(rec_steps), records, np.concatenate(losses), params, step)
        rec_steps.append(start + record_every)
        records.append(callback(start + record_every, params))
    return Trajectory(np.array(rec_steps), records, np.concatenate(losses) if losses else np.zeros(0), params)


@partial(jax.jit, static_argnames=("apply_fn", "loss", "kind", "n_steps"))
def _run_chunk(apply_fn, loss, kind, n_steps, params, state, hyper, X, Y, idx, apply_args):
    loss_fn = LOSSES[loss]
    opt = _transformation(kind, hyper)

    def objective(p, xb, yb):
        return loss_fn(apply_fn(p, xb, *apply_args), yb)

    def step(carry, rows):
        p, s = carry
        xb, yb = (X, Y) if rows is None else (X[rows], Y[rows])
        value, g = jax.value_and_grad(objective)(p, xb, yb)
        updates, s = opt.update(g, s, p)
        return (optax.apply_updates(p, updates), s), value

    (params, state), values = jax.lax.scan(step, (params, state), idx, length=n_steps)
    return params, state, values


def evaluate(apply_fn: Callable, params, X, Y, loss: str = "mse", apply_args: tuple = (),
             batch_size: int = 2048) -> tuple[float, float]:
    """(loss, accuracy) of ``apply_fn(params, X, *apply_args)`` on (X, Y one-hot or +-1), in batches.

    Accuracy is argmax agreement for k > 1 outputs and sign agreement for a scalar output.
    """
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    _check_apply_fn(apply_fn)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    X = _validate.matrix(X, "X")
    Y = _targets(Y, X.shape[0])
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    outs = np.concatenate([np.asarray(_predict(apply_fn, params, jnp.asarray(X[i:i + batch_size], dt), tuple(apply_args)))
                           for i in range(0, X.shape[0], batch_size)]).astype(np.float64)
    value = float(LOSSES[loss](jnp.asarray(outs), jnp.asarray(Y)))
    if Y.shape[1] == 1:
        acc = float(np.mean(np.sign(outs[:, 0]) == np.sign(Y[:, 0])))
    else:
        acc = float(np.mean(outs.argmax(1) == Y.argmax(1)))
    return value, acc


def _targets(Y, n):
    Y = _validate._array(Y, "Y", "biuf").astype(np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"Y must be (n,) or (n, k) with n = {n} rows of X, got shape {Y.shape}")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains NaN or inf")
    return Y


@partial(jax.jit, static_argnames="apply_fn")
def _predict(apply_fn, params, X, apply_args):
    return apply_fn(params, X, *apply_args)


# --------------------------------------------------------------------------------------------------
# linearisation


@functools.lru_cache(maxsize=None)
def linearize(apply_fn: Callable) -> Callable:
    """The first-order Taylor model of ``apply_fn`` around an anchor (Lee et al. 2019):

        f_lin(w, X, anchor) = f(anchor, X) + J_f(anchor, X) (w - anchor),

    computed with one forward-mode product (jax.jvp), never forming J. Training f_lin from w = anchor is
    "training along the tangent space at w(t~)" (Fort et al. 2020): the kernel stays H_{t~} exactly.
    Pass the anchor through ``train(..., apply_args=(anchor,))``. The same function object is returned for
    the same ``apply_fn``, so jit caches one compilation.
    """
    _check_apply_fn(apply_fn)
    def f_lin(params, X, anchor):
        delta = jax.tree_util.tree_map(lambda w, a: w - a, params, anchor)
        f0, df = jax.jvp(lambda p: apply_fn(p, X), (anchor,), (delta,))
        return f0 + df

    f_lin.__name__ = f"linearized_{getattr(apply_fn, '__name__', 'fn')}"
    f_lin.__doc__ = f"Linearisation of {getattr(apply_fn, '__name__', 'apply_fn')} around an anchor (see deepnets.linearize)."
    return f_lin


# --------------------------------------------------------------------------------------------------
# loss-landscape probes for the slides' "mode connectivity" and "sharp minima" bullets


def interpolate(params_a, params_b, alpha: float):
    """(1 - alpha) * params_a + alpha * params_b, leaf by leaf: the straight path between two networks
    along which linear mode connectivity is measured (Frankle et al. 2020; Fort et al. 2020)."""
    alpha = _validate.real(alpha, "alpha")
    if jax.tree_util.tree_structure(params_a) != jax.tree_util.tree_structure(params_b):
        raise ValueError("params_a and params_b have different structures")
    return jax.tree_util.tree_map(lambda a, b: (1 - alpha) * a + alpha * b, params_a, params_b)


def sharpness(apply_fn: Callable, params, X, Y, loss: str = "mse", iters: int = 30, seed: int = 0) -> float:
    """The largest-magnitude eigenvalue of the Hessian of the full-batch training loss at ``params``.

    Power iteration on Hessian-vector products (forward-over-reverse, jax.jvp of jax.grad; Pearlmutter
    1994), started from a seeded Gaussian vector; ``iters`` products. At a minimum the Hessian is positive
    semidefinite, so this is the top eigenvalue: the "sharpness" that GD with step lr can only settle in if
    it is <= 2 / lr (the slides' "small learning rate cannot escape sharp minima").
    """
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    _check_apply_fn(apply_fn)
    iters = _validate.positive_int(iters, "iters")
    seed = _validate.seed(seed)
    X = _validate.matrix(X, "X")
    Y = _targets(Y, X.shape[0])
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    v = jnp.asarray(np.random.default_rng(seed).standard_normal(flat.shape), dt)
    v = v / jnp.linalg.norm(v)
    lam = 0.0
    for _ in range(iters):
        hv = _hvp(apply_fn, loss, params, jnp.asarray(X, dt), jnp.asarray(Y, dt), unravel(v))
        hv = jax.flatten_util.ravel_pytree(hv)[0]
        lam = float(jnp.vdot(v, hv))
        v = hv / jnp.linalg.norm(hv)
    return lam


@partial(jax.jit, static_argnames=("apply_fn", "loss"))
def _hvp(apply_fn, loss, params, X, Y, v):
    g = jax.grad(lambda p: LOSSES[loss](apply_fn(p, X), Y))
    return jax.jvp(g, (params,), (v,))[1]


# --------------------------------------------------------------------------------------------------
# the NTK of a whole family of depths at once (Seleznova & Kutyniok 2022: NTK dispersion by depth and phase)


def init_depth_family(seed, count: int, n0: int, width: int, depth: int, sigma_w2: float = 2.0,
                      sigma_b2: float = 0.0, bias: bool = True, dtype=None, start: int = 0) -> dict:
    """``count`` independent draws of a *family* of ReLU nets of every depth l = 1..``depth``.

    Net l is ``n0 -> width (l hidden layers) -> 1`` in standard parameterisation (Seleznova & Kutyniok 2022:
    W^l_ij ~ N(0, sigma_w^2 / n_{l-1}), b^l_i ~ N(0, sigma_b^2)): the first l hidden layers of
    one deep draw, followed by a read-out layer ``R[l-1]`` (and read-out bias ``c[l-1]``) of its own. Each
    net l therefore has exactly the distribution of a freshly drawn depth-l net; nets of different depths
    of one draw are dependent (they share layers), which does not matter for per-depth moments over draws.

    Draw i uses ``np.random.default_rng((seed, i))``, for i = ``start`` .. ``start + count - 1`` (so a large
    batch can be drawn and evaluated in chunks, each chunk equal to the corresponding slice). Returns a dict
    of arrays with a leading axis of size ``count``: ``W1`` (n0, width), ``W`` (depth, width, width) (entry j is W_{j+2}; the last one is unused),
    ``b`` (depth, width), ``R`` (depth, width), ``c`` (depth,), and the flag ``bias`` (a Python bool: with
    ``bias=False`` the nets have no biases at all, trained or not). ``sigma_b2 = 0`` with ``bias=True`` is
    the setting of Seleznova & Kutyniok's code: biases that start at zero and are trained (they enter the NTK).
    """
    seed = _validate.seed(seed)
    count = _validate.positive_int(count, "count")
    n0, width, depth = (_validate.positive_int(v, k) for v, k in ((n0, "n0"), (width, "width"), (depth, "depth")))
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    bias = _validate.flag(bias, "bias")
    dtype = _check_dtype(dtype)
    start = _validate.nonnegative_int(start, "start")
    _validate.memory(_validate.nbytes((count, depth, width, width), dtype=np.float64),
                     f"init_depth_family with count = {count}, depth = {depth}, width = {width}")
    out = {k: [] for k in ("W1", "W", "b", "R", "c")}
    for i in range(int(start), int(start) + count):
        rng = np.random.default_rng((int(seed), int(i)))
        out["W1"].append(rng.standard_normal((n0, width)) * np.sqrt(sigma_w2 / n0))
        W = rng.standard_normal((depth, width, width)) * np.sqrt(sigma_w2 / width)
        W[-1] = 0.0                                   # no layer above the deepest hidden layer
        out["W"].append(W)
        out["R"].append(rng.standard_normal((depth, width)) * np.sqrt(sigma_w2 / width))
        s_b = np.sqrt(sigma_b2) if bias else 0.0
        out["b"].append(rng.standard_normal((depth, width)) * s_b)
        out["c"].append(rng.standard_normal(depth) * s_b)
    fam = {k: jnp.asarray(np.stack(v), dtype) for k, v in out.items()}
    fam["bias"] = bool(bias)
    return fam


def family_member(family: dict, i: int, l: int) -> Params:
    """Draw i's net of depth l (l hidden layers) as ordinary :func:`init_mlp`-style parameters."""
    _check_family(family)
    count, depth = family["b"].shape[:2]
    i = _validate.integer(i, "i", minimum=0, maximum=count - 1)
    l = _validate.integer(l, "l", minimum=1, maximum=depth)
    g = lambda k: np.asarray(family[k][i])
    layers_ = [{"W": g("W1"), "b": g("b")[0]}]
    layers_ += [{"W": g("W")[j - 2], "b": g("b")[j - 1]} for j in range(2, l + 1)]
    layers_ += [{"W": g("R")[l - 1][:, None], "b": g("c")[l - 1:l]}]
    if not family["bias"]:
        layers_ = [{"W": layer["W"]} for layer in layers_]
    return tuple({k: jnp.asarray(v) for k, v in layer.items()} for layer in layers_)


def _check_family(family):
    keys = ("W1", "W", "b", "R", "c", "bias")
    if not isinstance(family, dict) or any(k not in family for k in keys):
        raise _validate.ArgumentTypeError(f"family must be the dict of deepnets.init_depth_family (keys {keys}), got "
                                          f"{_validate._show(family)}")


def family_ntk(family: dict, X, anchor: int = 0, chunk: int = 64) -> np.ndarray:
    """Theta_l(x_anchor, x_i) for every depth l = 1..depth, every input x_i (rows of X) and every draw.

    Returns an array (count, depth, n). The layer-wise NTK formula of :func:`mlp_ntk` for a scalar output,

        Theta_l(x, x') = sum_{j <= l+1} [<h_{j-1}(x), h_{j-1}(x')> + 1_bias] <delta^l_j(x), delta^l_j(x')>,

    is evaluated for all depths in one backward sweep: delta^l_j = D_j W_{j+1} delta^l_{j+1} with the
    activation masks D_j of the shared forward pass, one column per depth l, so the cost is
    O(n depth^2 width^2) per draw instead of O(n depth^3 width^2) for separate nets. Equal to
    :func:`mlp_ntk` of :func:`family_member` (tested) and, in mean, to the infinite-width NTK of
    neural-tangents' standard parameterisation (tested).
    """
    _check_family(family)
    X = _validate.matrix(X, "X")
    if X.shape[1] != family["W1"].shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the nets' input width is {family['W1'].shape[1]}")
    anchor = _validate.integer(anchor, "anchor", minimum=0, maximum=X.shape[0] - 1)
    chunk = _validate.positive_int(chunk, "chunk")
    arrays = {k: v for k, v in family.items() if k != "bias"}
    Xj = jnp.asarray(X, family["W1"].dtype)
    beta = 1.0 if family["bias"] else 0.0
    count = family["W1"].shape[0]
    parts = [np.asarray(_family_ntk_batch(jax.tree_util.tree_map(lambda a: a[i:i + chunk], arrays), Xj, anchor, beta))
             for i in range(0, count, chunk)]
    return np.concatenate(parts).astype(np.float64)


@partial(jax.jit, static_argnames=("anchor", "beta"))
def _family_ntk_batch(arrays, X, anchor, beta):
    return jax.vmap(lambda a: _family_ntk_one(a, X, anchor, beta))(arrays)


def _family_ntk_one(a, X, anchor, beta):
    depth, width = a["b"].shape
    # forward: h_1 .. h_depth and masks D_1 .. D_depth, all inputs at once
    z1 = X @ a["W1"] + a["b"][0]

    def fwd(h, wb):
        W, b = wb
        z = h @ W + b
        return jax.nn.relu(z), (jax.nn.relu(z), (z > 0).astype(z.dtype))

    h1 = jax.nn.relu(z1)
    _, (hs, Ds) = jax.lax.scan(fwd, h1, (a["W"][:-1], a["b"][1:]))
    hs = jnp.concatenate([h1[None], hs])                          # (depth, n, width): h_1 .. h_depth
    Ds = jnp.concatenate([(z1 > 0).astype(z1.dtype)[None], Ds])   # (depth, n, width): D_1 .. D_depth
    gram_in = X @ X[anchor]                                       # <h_0(x_i), h_0(x_a)>
    grams = hs @ hs[:, anchor, :, None]                           # (depth, n, 1): <h_j(x_i), h_j(x_a)>
    grams = grams[..., 0]
    prev_grams = jnp.concatenate([gram_in[None], grams[:-1]])     # <h_{j-1}, h_{j-1}'> for j = 1..depth
    onehot = jnp.eye(depth, dtype=X.dtype)

    def bwd(G, xs):
        W_next, D, R, g_prev, e = xs
        # G: (n, width, depth), column l holds delta^l_{j+1}; step down to layer j, then start column l = j
        G = D[:, :, None] * (jnp.einsum("pq,iql->ipl", W_next, G) + R[None, :, None] * e[None, None, :])
        contrib = (g_prev + beta)[:, None] * jnp.einsum("ipl,pl->il", G, G[anchor])
        return G, contrib

    n = X.shape[0]
    G0 = jnp.zeros((n, width, depth), X.dtype)
    xs = (a["W"], Ds, a["R"], prev_grams, onehot)
    _, contribs = jax.lax.scan(bwd, G0, xs, reverse=True)        # (depth j, n, depth l)
    theta = contribs.sum(axis=0).T                                # (depth l, n)
    return theta + grams + beta                                   # read-out layer: weights and bias


def infinite_width_ntk(X, width: int, depth: int, sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                       bias: bool = True) -> np.ndarray:
    """The NTK of ``n0 -> width (depth hidden ReLU layers) -> 1`` in standard parameterisation as computed by
    neural-tangents' ``stax`` (``Dense(..., W_std, b_std, parameterization="standard")``): the width-M
    expectation E[Theta] of the Gaussian-process recursion (Sohl-Dickstein et al. 2020; Jacot et al. 2018).
    On the diagonal it is the exact finite-width mean for ReLU nets (Hanin & Nica 2020, bias-free; tested by
    Monte Carlo with and without biases in tests/test_deepnets.py); off the diagonal it has O(depth / width)
    finite-width corrections. The reference of :func:`family_ntk`. ``bias=True, sigma_b2=0`` keeps the trainable zero-initialised biases' "+1" per layer.
    """
    X = _validate.matrix(X, "X")
    width, depth = _validate.positive_int(width, "width"), _validate.positive_int(depth, "depth")
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    bias = _validate.flag(bias, "bias")
    from neural_tangents import stax

    b_std = float(np.sqrt(sigma_b2)) if bias else None
    dense = lambda n: stax.Dense(n, W_std=float(np.sqrt(sigma_w2)), b_std=b_std, parameterization="standard")
    net = []
    for _ in range(depth):
        net += [dense(width), stax.Relu()]
    kernel_fn = stax.serial(*net, dense(1))[2]
    return np.asarray(kernel_fn(jnp.asarray(X, jnp.float64), None, "ntk"), dtype=np.float64)
