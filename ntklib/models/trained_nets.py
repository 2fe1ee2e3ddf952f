"""Finite fully connected ReLU classifiers trained by minibatch SGD: the trained-net baselines of Section 4,
in two parameterisations and with optional AUX variables. (ntklib.models.mlp is Section 1's JAX trainer for the
standard parameterisation; this module adds what Section 4 compares.)

Written in NumPy with explicit backpropagation (checked against JAX autodiff in the tests), not on optax like
the other trainers: the nets here are small and every UCI data set and fold has its own shapes, so JAX would
compile for each of them. Measured by ``make bench`` (section 5): the same 500 steps of momentum SGD take
0.23 s in NumPy, 0.13 s in JAX + optax (ntklib.models.mlp.train_sgd) once compiled, and 8.2 s on a new shape
(3 synthetic UCI-sized sets, a loaded 2-core machine); the UCI benchmark trains 1,440 such nets.

- Parameterisations (Arora et al. 2020 compare both on UCI): ``"standard"``, z = h W + b with He
  initialisation W ~ N(0, 2 / fan_in) for hidden layers, N(0, 1 / fan_in) for the readout, b = 0 (He et al.
  2015); ``"ntk"``, z = (W_std / sqrt(fan_in)) h W + b_std b with W, b ~ N(0, 1), W_std = sqrt(2) for hidden
  layers and 1 for the readout, b_std = 0.1 (Jacot et al. 2018; neural-tangents' stax.Dense). At
  initialisation both compute the same function in distribution, up to the small bias; under SGD the NTK
  parameterisation scales every layer's step by 1 / fan_in relative to the standard one.
- Losses: ``"cce"`` (softmax cross-entropy) or ``"mse"`` (1/2 ||out - e_y||^2 on one-hot targets), averaged
  over the minibatch.
- AUX (Hu, Li & Yu, ICLR 2020; lecture Section 4): one trainable b_i in R^C per training example, added to
  the output inside the loss only, l(f(x_i) + sqrt(lam) b_i, y~_i); b starts at 0 and is trained with the
  weights. lam = 0 is plain training; predictions never use b. (For the squared loss on a linearised net this
  is kernel ridge regression with ridge lam, whatever the loss's overall scale: ntklib.models.noisy.)
- SGD with heavy-ball momentum, v <- mu v + g, p <- p - lr v, on the minibatches of a fresh permutation per
  epoch (the last incomplete batch is dropped).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits   # a scikit-learn dependency

from .. import _validate
from .deepnets import draw_layers

PARAMETERIZATIONS = ("standard", "ntk")
LOSSES = ("cce", "mse")
NTK_W_STD, NTK_B_STD = math.sqrt(2.0), 0.1


def init_params(seed: int, d_in: int, d_out: int, depth: int, width: int, parameterization: str = "standard",
                dtype=np.float32) -> list:
    """[(W, b)] for ``depth`` hidden ReLU layers of ``width`` and a linear readout; W is (fan_in, fan_out). The
    draws are ntklib.models.deepnets.draw_layers' (the one MLP's): standard, W ~ N(0, gain / fan_in) with gain 2
    (hidden) or 1 (readout) and b = 0; ntk, W, b ~ N(0, 1) (the scales are in the forward pass)."""
    _check_param(parameterization)
    seed = _validate.seed(seed)
    dtype = _validate.float_dtype(dtype)
    sizes = [_validate.positive_int(d_in, "d_in")] + [_validate.positive_int(width, "width")] * \
        _validate.positive_int(depth, "depth") + [_validate.positive_int(d_out, "d_out")]
    if parameterization == "standard":
        layers = draw_layers(seed, sizes, sigma_w2=[2.0] * depth + [1.0], sigma_b2=0.0)
    else:
        layers = draw_layers(seed, sizes, sigma_w2=[float(fi) for fi in sizes[:-1]], sigma_b2=1.0)
    return [(l["W"].astype(dtype), l["b"].astype(dtype)) for l in layers]


def _check_param(p):
    if not isinstance(p, str) or p not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {p!r}")


def _scales(params, parameterization):
    """Per layer (a, c) with z = a (h W) + c b."""
    if parameterization == "standard":
        return [(1.0, 1.0)] * len(params)
    last = len(params) - 1
    return [((NTK_W_STD if k < last else 1.0) / math.sqrt(W.shape[0]), NTK_B_STD) for k, (W, _) in enumerate(params)]


def _check_params(params, d_in=None):
    """params as [(W, b)] with chained shapes; d_in: the input width the first layer must take."""
    ok = isinstance(params, (list, tuple)) and len(params) > 0
    if ok:
        try:
            shapes = [(np.shape(W), np.shape(b)) for W, b in params]
        except (TypeError, ValueError):
            ok = False
    if ok:
        ok = all(len(w) == 2 and b == (w[1],) for w, b in shapes) and \
            all(shapes[k][0][1] == shapes[k + 1][0][0] for k in range(len(shapes) - 1))
    if not ok:
        raise _validate.ArgumentTypeError(f"params must be a non-empty list of (W, b) layers with W (fan_in, fan_out) "
                                          f"and b (fan_out,), as from trained_nets.init_params; got "
                                          f"{_validate._show(params)}")
    if d_in is not None and shapes[0][0][0] != d_in:
        raise ValueError(f"X has {d_in} features but params' first layer takes {shapes[0][0][0]}")


def forward(params, X, parameterization: str = "standard", *, keep: bool = False):
    """Outputs (logits) on the rows of X; with ``keep`` also the layer inputs and pre-activations."""
    _check_param(parameterization)
    _check_params(params)
    X = _validate.matrix(X, "X")
    _check_params(params, X.shape[1])
    _validate.flag(keep, "keep")
    return _forward(params, X, parameterization, keep=keep)


def _forward(params, X, parameterization: str = "standard", *, keep: bool = False):
    h, ins, pre = X, [], []
    scales = _scales(params, parameterization)
    for k, ((W, b), (a, c)) in enumerate(zip(params, scales)):
        ins.append(h)
        z = a * (h @ W) + c * b
        pre.append(z)
        h = np.maximum(z, 0) if k < len(params) - 1 else z
    return (h, ins, pre) if keep else h


def loss_and_grads(params, X, Y, parameterization: str = "standard", loss: str = "cce", b_aux=None,
                   sqrt_lam: float = 0.0):
    """Mean minibatch loss of out = f(X) + sqrt_lam * b_aux against one-hot Y, its gradients [(dW, db)] and
    its gradient in b_aux (None without AUX). Explicit backpropagation."""
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    _check_param(parameterization)
    X = _validate.matrix(X, "X")
    _check_params(params, X.shape[1])
    Y = _validate.matrix(Y, "Y")
    n_out = np.shape(params[-1][0])[1]
    if Y.shape != (X.shape[0], n_out):
        raise ValueError(f"Y must be one-hot targets of shape {(X.shape[0], n_out)}, got {Y.shape}")
    if b_aux is not None:
        b_aux = _validate.matrix(b_aux, "b_aux")
        if b_aux.shape != Y.shape:
            raise ValueError(f"b_aux must have Y's shape {Y.shape}, got {b_aux.shape}")
    sqrt_lam = _validate.nonnegative(sqrt_lam, "sqrt_lam")
    return _loss_and_grads(params, X, Y, parameterization, loss, b_aux, sqrt_lam)


def _loss_and_grads(params, X, Y, parameterization, loss, b_aux, sqrt_lam):
    out, ins, pre = _forward(params, X, parameterization, keep=True)
    if b_aux is not None:
        out = out + sqrt_lam * b_aux
    B = X.shape[0]
    if loss == "cce":
        z = out - out.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -float(np.sum(Y * logp)) / B
        g = (np.exp(logp) - Y) / B
    else:
        r = out - Y
        value = 0.5 * float(np.sum(r * r)) / B
        g = r / B
    g_aux = sqrt_lam * g if b_aux is not None else None
    grads = [None] * len(params)
    scales = _scales(params, parameterization)
    for k in range(len(params) - 1, -1, -1):
        (W, _), (a, c) = params[k], scales[k]
        grads[k] = (a * (ins[k].T @ g), c * g.sum(axis=0))
        if k:
            g = (a * (g @ W.T)) * (pre[k - 1] > 0)
    return value, grads, g_aux


@dataclass
class TrainResult:
    """One configuration of :func:`train`: accuracy on each evaluation set after the recorded epochs."""

    lr: float
    aux_lambda: float
    seed: int
    epochs: np.ndarray     # 1-based epoch numbers at which the evaluation sets were scored
    history: dict          # eval-set name -> accuracy at those epochs
    train_loss: np.ndarray  # mean minibatch loss of each recorded epoch (with the AUX term, on the noisy labels)
    params: list           # final weights (AUX variables are not kept: predictions never use them)
    diverged_epoch: int | None = None   # first epoch whose loss blew up (on_divergence="return"); None if stable

    def best(self, on: str) -> int:
        """Index (into ``epochs``) of the highest accuracy on eval set ``on``, first on ties: early stopping."""
        return int(np.argmax(self.history[on]))


def train(X, labels, n_classes: int, *, depth: int = 2, width: int = 256, parameterization: str = "standard",
          loss: str = "cce", lr=0.05, aux_lambda=0.0, seed=0, epochs: int = 100, batch_size: int = 128,
          momentum: float = 0.9, eval_sets: dict | None = None, eval_every: int = 1,
          dtype=np.float32, on_divergence: str = "raise", n_jobs: int | None = 1) -> list[TrainResult]:
    """Train one net per configuration by minibatch SGD with momentum and score it on ``eval_sets``.

    ``labels``: one label vector (n,) in 0..C-1, or k of them (k, n) (e.g. several noise levels); ``lr``,
    ``aux_lambda`` and ``seed`` are scalars or length-k lists (scalars broadcast). ``eval_sets`` maps a name to
    (X, y) with clean labels, scored every ``eval_every`` epochs and after the last one. The configurations are
    independent: they run in ``n_jobs`` joblib processes (None: one per CPU, ntklib.theory._fast.workers()), each
    with one BLAS thread, so the results do not depend on ``n_jobs``.

    A run whose mean epoch loss becomes non-finite or exceeds 1e6 x max(its initial loss, 1) (or whose weights
    become non-finite) raises ``_validate.TrainingDiverged`` naming the epoch and the loss; with
    ``on_divergence="return"`` the result is returned with ``diverged_epoch`` set instead (training continues
    while the weights stay finite, and stops at the epoch they do not).
    """
    dtype = _validate.float_dtype(dtype)
    on_divergence = _validate.on_divergence(on_divergence)
    X = _validate.matrix(X, "X").astype(dtype)
    n = X.shape[0]
    C = _validate.positive_int(n_classes, "n_classes")
    if C < 2:
        raise ValueError(f"need at least 2 classes, got {C}")
    L = _validate._array(labels, "labels")
    L = L[None] if L.ndim == 1 else L
    if L.ndim != 2 or L.shape[1] != n or L.shape[0] == 0:
        raise ValueError(f"labels must be (n,) or (k, n) with n = {n} rows of X, got shape {np.shape(labels)}")
    if L.dtype.kind not in "iu":
        if not np.all(np.isfinite(L)) or not np.all(L == np.round(L)):
            raise ValueError("labels must be integer class indices (no NaN, inf or fractions)")
        L = L.astype(int)
    if L.min() < 0 or L.max() >= C:
        raise ValueError(f"labels must be in 0..{C - 1}")
    _check_param(parameterization)
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    depth = _validate.positive_int(depth, "depth")
    width = _validate.positive_int(width, "width")
    epochs = _validate.positive_int(epochs, "epochs")
    eval_every = _validate.positive_int(eval_every, "eval_every")
    batch = min(_validate.positive_int(batch_size, "batch_size"), n)
    momentum = _validate.momentum(momentum)
    k = max(len(L), *(np.size(v) for v in (lr, aux_lambda, seed)))

    def bcast(v, name):
        try:
            v = np.atleast_1d(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            raise _validate.ArgumentTypeError(f"{name} must be a number or a list of numbers, got "
                                              f"{_validate._show(v)}") from None
        if v.ndim != 1 or len(v) not in (1, k):
            raise ValueError(f"{name} has {v.size} entries; expected 1 or {k}")
        return np.broadcast_to(v, (k,)).copy()

    for v, name in ((lr, "lr"), (aux_lambda, "aux_lambda"), (seed, "seed")):
        if isinstance(v, (bool, np.bool_, str, bytes)) or np.asarray(v).dtype.kind == "b":
            raise _validate.ArgumentTypeError(f"{name} must be a number or a list of numbers, got {_validate._show(v)}")
    lrs, lams, seeds = bcast(lr, "lr"), bcast(aux_lambda, "aux_lambda"), bcast(seed, "seed")
    seeds = np.array([_validate.integer(s, "seed", minimum=0, maximum=_validate.SEED_MAX - 1) for s in seeds.tolist()])
    if len(L) not in (1, k):
        raise ValueError(f"labels has {len(L)} rows; expected 1 or {k}")
    L = np.broadcast_to(L, (k, n))
    if np.any(lrs <= 0) or not np.all(np.isfinite(lrs)):
        raise ValueError(f"lr must be a positive finite number, got {_validate._show(lr)}")
    if np.any(lams < 0) or not np.all(np.isfinite(lams)):
        raise ValueError(f"aux_lambda must be a finite number >= 0, got {_validate._show(aux_lambda)}")
    evals = {}
    if eval_sets is not None and not isinstance(eval_sets, dict):
        raise _validate.ArgumentTypeError(f"eval_sets must be a dict name -> (X, y), got {type(eval_sets).__name__}")
    for name, pair in (eval_sets or {}).items():
        try:
            Xv, yv = pair
        except (TypeError, ValueError):
            raise ValueError(f"eval_sets[{name!r}] must be an (X, y) pair, got {_validate._show(pair)}") from None
        Xv = _validate.matrix(Xv, f"eval_sets[{name!r}] X").astype(dtype)
        if Xv.shape[1] != X.shape[1]:
            raise ValueError(f"eval set {name!r} has {Xv.shape[1]} features, X has {X.shape[1]}")
        yv = _validate._array(yv, f"eval_sets[{name!r}] y")
        if yv.shape != (Xv.shape[0],):
            raise ValueError(f"eval_sets[{name!r}] y must be 1-D with one label per row of its X ({Xv.shape[0]}), "
                             f"got shape {yv.shape}")
        evals[name] = (Xv, yv)
    if n_jobs is None:
        from ..theory._fast import workers
        n_jobs = workers()
    n_jobs = min(_validate.positive_int(n_jobs, "n_jobs"), k)
    eye = np.eye(C, dtype=dtype)
    marks = sorted({e for e in range(eval_every, epochs + 1, eval_every)} | {epochs})
    calls = [(X, eye[L[j]], lrs[j], lams[j], seeds[j], depth, width, parameterization, loss, epochs, batch, momentum,
              evals, marks, dtype.type, on_divergence) for j in range(k)]
    if n_jobs == 1:
        return [_train_one(*c) for c in calls]
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs)(delayed(_train_one)(*c) for c in calls)


def _train_one(X, Y, lr, lam, seed, depth, width, parameterization, loss, epochs, batch, momentum, evals, marks, dtype,
               on_divergence="raise"):
    # minibatch matmuls are small: one BLAS thread is faster, and far faster on a busy machine
    with threadpool_limits(1):
        return _train_one_net(X, Y, lr, lam, seed, depth, width, parameterization, loss, epochs, batch, momentum,
                              evals, marks, dtype, on_divergence)


def _train_one_net(X, Y, lr, lam, seed, depth, width, parameterization, loss, epochs, batch, momentum, evals, marks,
                   dtype, on_divergence):
    n, C = Y.shape
    rng = np.random.default_rng(seed + 1)
    params = init_params(seed, X.shape[1], C, depth, width, parameterization, dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        loss0 = _loss_and_grads(params, X, Y, parameterization, loss, None, 0.0)[0]   # the reference for divergence
    diverged = None
    vel = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    aux = lam > 0
    sqrt_lam = dtype(math.sqrt(lam))
    b_aux = np.zeros((n, C), dtype) if aux else None
    v_aux = np.zeros((n, C), dtype) if aux else None
    hist = {name: [] for name in evals}
    losses = []
    for e in range(1, epochs + 1):
        perm = rng.permutation(n)
        epoch_loss = []
        with np.errstate(over="ignore", invalid="ignore"):        # divergence is reported below
            for s in range(n // batch):
                idx = perm[s * batch:(s + 1) * batch]
                value, grads, g_aux = _loss_and_grads(params, X[idx], Y[idx], parameterization, loss,
                                                     b_aux[idx] if aux else None, sqrt_lam)
                epoch_loss.append(value)
                for (W, b), (vW, vb), (gW, gb) in zip(params, vel, grads):
                    vW *= momentum
                    vW += gW
                    vb *= momentum
                    vb += gb
                    W -= lr * vW
                    b -= lr * vb
                if aux:
                    v_aux *= momentum
                    v_aux[idx] += g_aux
                    b_aux -= lr * v_aux
        finite = np.all(np.isfinite(params[-1][0]))
        mean_loss = float(np.mean(epoch_loss)) if epoch_loss else loss0
        if diverged is None and (not finite or _validate.first_divergence([mean_loss], loss0) is not None):
            diverged = e
            if on_divergence == "raise":
                state = ("the weights are not finite" if not finite else
                         "it is not finite" if not math.isfinite(mean_loss) else
                         f"it exceeds 1e6 x max(the initial loss {loss0:.4g}, 1)")
                raise _validate.TrainingDiverged(
                    f"training diverged (lr = {lr}, {parameterization}, {loss}) at epoch {e}: the mean loss of epoch "
                    f"{e} is {mean_loss:.4g} ({state}); use a smaller learning rate (or pass on_divergence='return' "
                    f"to get the flagged result)", step=e, loss=mean_loss)
        if not finite:          # on_divergence="return": nothing more to train
            break
        if e in marks:
            losses.append(float(np.mean(epoch_loss)))
            for name, (Xv, yv) in evals.items():
                hist[name].append(float(np.mean(np.argmax(_forward(params, Xv, parameterization), axis=1) == yv)))
    return TrainResult(float(lr), float(lam), int(seed), np.array(marks[:len(losses)]),
                       {name: np.array(v) for name, v in hist.items()}, np.array(losses), params, diverged)


def predict(params, X, parameterization: str = "standard") -> np.ndarray:
    """Class predictions (argmax of the outputs)."""
    _check_param(parameterization)
    _check_params(params)
    X = _validate.matrix(X, "X").astype(params[0][0].dtype)
    _check_params(params, X.shape[1])
    return np.argmax(_forward(params, X, parameterization), axis=1)
