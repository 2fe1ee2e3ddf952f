"""Many noisy-label GD runs at once, at the scale of Hu, Li & Yu (ICLR 2020)'s MNIST experiment.

ntklib.models.noisy trains the slide model f(W, x) = (1/sqrt m) sum_r a_r sigma(w_r . x) (only W trained) on the plain,
RDI or AUX loss, one label vector per call, updating W (m, d). A sweep over noise levels, seeds and ridges needs
hundreds of such runs; :func:`train_span` computes the *same iterates* for many runs at once, each with its own
labels, method, ridge and step size, in the span of the training inputs:

    every gradient of the three losses w.r.t. w_r is a combination of the x_i (for RDI because W - W0 is one
    too), so W_k = W0 + B_k^T X with B_k (n, m), and the pre-activations Z_k = X W_k^T follow

        r   = f(W_k, X) + sqrt(lam_aux) b_k - y                      (residual; b = 0 unless AUX)
        D   = r_i a_r sigma'(Z_ir) / sqrt m + lam_rdi B_k            (dl/dW = D^T X)
        B_{k+1} = B_k - eta D,   Z_{k+1} = Z_k - eta G D,   b_{k+1} = b_k - eta sqrt(lam_aux) r,   G = X X^T.

A step costs 2 n^2 m flops instead of the 4 n d m of updating W: 3x fewer for MNIST (d = 784) with n = 500.
Held-out outputs are X_eval W_k^T = X_eval W0^T + (X_eval X^T) B_k, computed only at the recorded steps.

The losses are ntklib.models.noisy's (the slides'): RDI 1/2 sum_i r_i^2 + lam/2 ||W - W0||_F^2, AUX with sqrt(lam) b_i;
both give kernel ridge regression with ridge lam (ntklib.models.noisy). Hu et al. write the same losses with lambda^2/2
||theta - theta(0)||^2 and lambda b_i, so that their ridge is lambda^2 (:func:`ridge_from_paper_lambda`).

Also here: label noise at an exact rate (:func:`flip_fraction`, the paper's "noise rate = fraction of corrupted
labels") and early stopping on a held-out, noisily labelled validation set (:func:`early_stopping_index`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate
from ..theory import activations
from .._jaxcompat import x64_for
from .networks import TwoLayerNet, _checked, span_steps
from .noisy import METHODS, _flag_divergence


# --- the paper's conventions ----------------------------------------------------------------------------

def ridge_from_paper_lambda(lam_paper):
    """Hu et al.'s lambda -> ntklib's (the slides') lam, which is the ridge of the limiting kernel regression.

    The paper regularises RDI by lambda^2/2 ||theta - theta(0)||^2 and writes AUX as f(theta, x_i) + lambda b_i; the
    slides (ntklib.models.noisy) write lam/2 ||W - W0||^2 and sqrt(lam) b_i. The losses coincide for lam = lambda^2, the
    ridge of the paper's kernel ridge regression k(x, X)(k(X, X) + lambda^2 I)^-1 y~."""
    lam_paper = np.asarray(lam_paper, dtype=np.float64) if np.ndim(lam_paper) else _validate.nonnegative(lam_paper, "lam_paper")
    if np.ndim(lam_paper) and (not np.all(np.isfinite(lam_paper)) or np.any(lam_paper < 0)):
        raise ValueError(f"lam_paper must be finite and >= 0, got {lam_paper!r}")
    return lam_paper ** 2


def paper_lambda_from_ridge(ridge):
    """Inverse of :func:`ridge_from_paper_lambda`: the paper's lambda = sqrt(ridge)."""
    ridge = np.asarray(ridge, dtype=np.float64) if np.ndim(ridge) else _validate.nonnegative(ridge, "ridge")
    if np.ndim(ridge) and (not np.all(np.isfinite(ridge)) or np.any(ridge < 0)):
        raise ValueError(f"ridge must be finite and >= 0, got {ridge!r}")
    return np.sqrt(ridge)


def flip_fraction(y, p: float, seed: int) -> np.ndarray:
    """Flip exactly round(p n) of the +-1 labels y, at positions drawn uniformly without replacement from
    ``default_rng(seed)``: a noise *rate* that is the fraction of corrupted labels (ntklib.datasets.symmetric_flip
    flips each label independently, so its fraction is only p on average). Returns a new array."""
    y = _validate._array(y, "y")
    if y.ndim != 1 or y.size == 0 or not np.isin(y, (-1, 1)).all():
        raise ValueError(f"y must be a non-empty 1-D array of -1/+1 labels, got shape {y.shape}")
    p = _validate.probability(p, "p")
    rng = np.random.default_rng(_validate.seed(seed))
    out = y.copy()
    idx = rng.choice(y.size, size=int(round(p * y.size)), replace=False)
    out[idx] = -out[idx]
    return out


def early_stopping_index(f_val, y_val) -> int:
    """The record to stop at: the one whose outputs ``f_val`` (records, n_val) classify the held-out labels
    ``y_val`` (+-1, possibly noisy) best by sign; the earliest such record on ties. With symmetric noise at rate
    p < 1/2 the noisy accuracy is p + (1 - 2p) x the clean one, so it ranks the records as the clean accuracy
    would, up to sampling error."""
    f_val = _validate.matrix(f_val, "f_val")
    y_val = _validate.vector(y_val, "y_val", f_val.shape[1])
    if not np.isin(y_val, (-1, 1)).all():
        raise ValueError("y_val must hold -1/+1 labels")
    return int(np.argmax((np.sign(f_val) == y_val).mean(axis=1)))


def stable_step(lambda_max: float, lam: float = 0.0, fraction: float = 0.9) -> float:
    """A GD step of ``fraction`` times the stability limit 2 / lambda_max(H + lam I) = 2 / (lambda_max + lam) of the
    linearised dynamics (ntklib.models.noisy); lambda_max is the largest eigenvalue of the NTK H(0) of the net trained."""
    lambda_max = _validate.positive(lambda_max, "lambda_max")
    lam = _validate.nonnegative(lam, "lam")
    fraction = _validate.probability(fraction, "fraction", open_interval=True)
    return 2.0 * fraction / (lambda_max + lam)


def convergence_steps(eta: float, lam_lo: float, lam_hi: float, decay: float = 6.0) -> int:
    """GD steps after which every mode of a quadratic with Hessian eigenvalues in [lam_lo, lam_hi] has shrunk by
    e^-decay: a mode mu contracts by |1 - eta mu| per step, the slowest being an end of the interval (the small
    eigenvalue for a small step, the large one near the stability limit eta = 2 / lam_hi). For RDI/AUX with ridge
    lam on a net with NTK H(0): lam_lo = lam, lam_hi = lambda_max(H(0)) + lam (the linearised dynamics)."""
    eta = _validate.positive(eta, "eta")
    lam_lo = _validate.positive(lam_lo, "lam_lo")
    lam_hi = _validate.positive(lam_hi, "lam_hi")
    decay = _validate.positive(decay, "decay")
    if lam_hi < lam_lo:
        raise ValueError(f"need lam_lo <= lam_hi, got {lam_lo} and {lam_hi}")
    rate = max(abs(1.0 - eta * lam_lo), abs(1.0 - eta * lam_hi))
    if rate >= 1.0:
        raise ValueError(f"GD does not converge: eta = {eta} must be in (0, 2 / lam_hi) = (0, {2 / lam_hi:.4g})")
    return max(1, math.ceil(decay / -math.log(rate))) if rate > 0 else 1


# --- many runs in the span of the training inputs -------------------------------------------------------

@dataclass
class SpanRun:
    """One run of :func:`train_span` (arrays have one row per recorded step)."""

    method: str
    lam: float                 # ntklib's lam (= the ridge; the paper's lambda is sqrt(lam)), 0 for plain
    eta: float
    steps: np.ndarray          # recorded step indices
    u: np.ndarray              # f(W_k, x_i) on the training inputs, (records, n)
    b: np.ndarray              # AUX variables b_k (zeros otherwise), (records, n)
    f_eval: np.ndarray | None  # outputs on X_eval, (records, n_eval)
    B: np.ndarray              # final span coefficients: W = W0 + B^T X, (n, m)
    distance: float            # ||W - W0||_F at the last step
    diverged_step: int | None = None

    @property
    def paper_lambda(self) -> float:
        return math.sqrt(self.lam)

    def fitted(self) -> np.ndarray:
        """What the loss compares with the labels: u + sqrt(lam) b for AUX, u otherwise."""
        return self.u + math.sqrt(self.lam) * self.b if self.method == "aux" else self.u

    def weights(self, net: TwoLayerNet, X) -> TwoLayerNet:
        """The trained net W = W0 + B^T X (``net`` and ``X`` as passed to train_span)."""
        X = _validate.matrix(X, "X")
        if X.shape[0] != self.B.shape[0] or net.W.shape[0] != self.B.shape[1]:
            raise ValueError(f"net and X must be those of the run: B is {self.B.shape}, X {X.shape}, W {net.W.shape}")
        return TwoLayerNet((net.W + self.B.T @ X.astype(net.W.dtype)).astype(net.W.dtype), net.a, net.activation)


@partial(jax.jit, static_argnames=("activation", "with_eval"))
def _record(Z, B, Ze0, C, a, activation, with_eval):
    sigma, _ = activations.get(activation)
    ascaled = a / jnp.sqrt(jnp.asarray(Z.shape[2], Z.dtype))
    u = sigma(Z) @ ascaled
    if not with_eval:
        return u, None
    return u, jax.lax.map(lambda Bk: sigma(Ze0 + C @ Bk) @ ascaled, B)   # one run at a time: (n_eval, m) memory


@jax.jit
def _distance(B, G):
    return jnp.sqrt(jnp.maximum(jnp.einsum("kim,ij,kjm->k", B, G, B), 0.0))   # ||B^T X||_F^2 = tr(B^T G B)


def _configs(configs, n):
    if isinstance(configs, (str, bytes)) or not np.iterable(configs):
        raise TypeError(f"configs must be a non-empty list of (method, lam, y), got {configs!r}")
    configs = list(configs)
    if not configs or any(isinstance(c, (str, bytes)) or not np.iterable(c) or len(c) != 3 for c in configs):
        raise ValueError("configs must be a non-empty list of (method, lam, y) triples, e.g. [('rdi', 4.0, y_noisy)]")
    out = []
    for i, (method, lam, y) in enumerate(configs):
        _validate.choice(method, f"configs[{i}] method", METHODS)
        lam = _validate.nonnegative(lam, f"configs[{i}] lam")
        y = _validate.vector(y, f"configs[{i}] y", n)
        out.append((method, 0.0 if method == "plain" else lam, y))
    return out


def _record_steps(record_steps):
    try:
        s = np.asarray(record_steps)
    except (TypeError, ValueError):
        s = None
    if s is None or s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iuf" or not np.all(np.isfinite(s)) \
            or np.any(s < 0) or np.any(s % 1) or np.any(np.diff(s) <= 0):
        raise ValueError(f"record_steps must be a non-empty, strictly increasing 1-D list of step counts >= 0, got {record_steps!r}")
    return s.astype(np.int64)


def train_span(net: TwoLayerNet, X, configs, eta, record_steps, X_eval=None,
               on_divergence: str = "raise") -> list[SpanRun]:
    """Full-batch GD from ``net`` (= W0) for every ``(method, lam, y)`` in ``configs`` at once (module docstring).

    ``method``: "plain", "rdi" or "aux" with ntklib.models.noisy's losses and ridge ``lam`` (ignored for plain); ``y``:
    that run's (noisy) labels. ``eta``: one step size, or one per run. Training runs to ``record_steps[-1]`` and
    records the outputs on X (and on ``X_eval``, if given) at every step in ``record_steps``. The iterates are those
    of ntklib.models.noisy.train_many (tested to round-off); computations use the net's dtype. A loss that becomes
    non-finite or grows DIVERGED_LOSS_FACTOR-fold raises TrainingDiverged, unless on_divergence="return".
    """
    _checked(net)
    X = _validate.matrix(X, "X")
    n, d = X.shape
    if d != net.W.shape[1]:
        raise ValueError(f"X has {d} features but the net expects {net.W.shape[1]}")
    runs = _configs(configs, n)
    k, m = len(runs), net.width
    etas = np.broadcast_to(np.asarray(eta, dtype=np.float64), (k,)) if np.ndim(eta) == 0 else np.asarray(eta, dtype=np.float64)
    if etas.shape != (k,):
        raise ValueError(f"eta must be one step size or one per configuration ({k}), got shape {np.shape(eta)}")
    for i, e in enumerate(etas):
        _validate.positive(e, f"eta[{i}]")
    steps = _record_steps(record_steps)
    on_divergence = _validate.on_divergence(on_divergence)
    if X_eval is not None:
        X_eval = _validate.matrix(X_eval, "X_eval")
        if X_eval.shape[1] != d:
            raise ValueError(f"X_eval has {X_eval.shape[1]} features, X has {d}")
    n_eval = 0 if X_eval is None else X_eval.shape[0]
    dt = net.W.dtype
    _validate.memory(_validate.nbytes((4 * k, n, m), (k * len(steps), 2 * n + n_eval), (2 * n_eval + n, m), dtype=dt),
                     f"noisy_sweep.train_span with {k} runs, n = {n}, width m = {m}, {len(steps)} records")
    with x64_for(dt):
        out = _train_span(net, X, runs, etas, steps, X_eval, dt)
    _flag_divergence(out, [y for _, _, y in runs], on_divergence, "noisy_sweep.train_span")
    return out


def _train_span(net, X, runs, etas, steps, X_eval, dt):
    k, n = len(runs), X.shape[0]
    Xj = jnp.asarray(X, dt)
    W0, a = jnp.asarray(net.W), jnp.asarray(net.a)
    G = Xj @ Xj.T
    Z = jnp.broadcast_to((Xj @ W0.T)[None], (k, n, net.width))
    B = jnp.zeros((k, n, net.width), dt)
    b = jnp.zeros((k, n), dt)
    Y = jnp.asarray(np.stack([y for _, _, y in runs]), dt)
    lam_rdi = jnp.asarray([lam if meth == "rdi" else 0.0 for meth, lam, _ in runs], dt)
    sqrt_aux = jnp.asarray([math.sqrt(lam) if meth == "aux" else 0.0 for meth, lam, _ in runs], dt)
    eta = jnp.asarray(etas, dt)
    with_eval = X_eval is not None
    Ze0 = jnp.asarray(X_eval, dt) @ W0.T if with_eval else None
    C = jnp.asarray(X_eval, dt) @ Xj.T if with_eval else None
    us, bs, fs, done = [], [], [], 0
    for s in steps:
        if s > done:
            Z, B, b = span_steps(Z, B, b, Xj, G, a, Y, lam_rdi, sqrt_aux, eta, int(s - done), net.activation)
            done = int(s)
        u, f = _record(Z, B, Ze0, C, a, net.activation, with_eval)
        us.append(np.asarray(u))
        bs.append(np.asarray(b))
        fs.append(None if f is None else np.asarray(f))
    dist = np.asarray(_distance(B, G))
    Bn = np.asarray(B)
    U, Bb = np.stack(us, axis=1), np.stack(bs, axis=1)
    F = np.stack(fs, axis=1) if with_eval else None
    return [SpanRun(meth, lam, float(etas[i]), steps.copy(), U[i], Bb[i], None if F is None else F[i], Bn[i],
                    float(dist[i])) for i, (meth, lam, _) in enumerate(runs)]
