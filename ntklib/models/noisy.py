"""Training with noisy labels: the RDI and AUX losses of Hu, Li & Yu (ICLR 2020), lecture Section 4.

The slide model f(W, x) = (1/sqrt m) sum_r a_r sigma(w_r . x) (only W trained, ntklib.models.networks) is
trained on noisy labels y~ with one of (slides, "NTK viewpoint"):

    plain: l(W)    = 1/2 sum_i (f(W, x_i) - y~_i)^2
    RDI:   l(W)    = 1/2 sum_i (f(W, x_i) - y~_i)^2 + lam/2 ||W - W(0)||_F^2      (distance to initialisation)
    AUX:   l(W, b) = 1/2 sum_i (f(W, x_i) + sqrt(lam) b_i - y~_i)^2,   b(0) = 0     (one auxiliary variable each)

or the same losses on the linearisation f_lin(W, x) = f(W0, x) + <grad_W f(W0, x), W - W0>.

Theorem 5 (Hu et al. 2020), made exact for the linearised model (its closed forms, ``ridge_gd_predictor``,
``ridge_flow_predictor`` and ``ridge_path``, are in ntklib.theory.regression; the forward pass is the slide
model's, ntklib.models.networks.forward). Write J for the (n, m d) Jacobian at W0,
H = J J^T = H(0) the empirical NTK, u0 = f(W0, X), and A = H + lam I. Starting from W0 (and b = 0), the
iterates of GD with step eta stay in the span of J^T, W_k - W0 = J^T alpha_k, and both losses give the same
recursion alpha_{k+1} = alpha_k - eta (A alpha_k - (y~ - u0)) (for AUX, b_k = sqrt(lam) alpha_k). Hence

    f_k(x) = f0(x) + k(x, X) A^-1 [I - (I - eta A)^k] (y~ - u0)          (identical for RDI and AUX)
           -> f0(x) + k(x, X) (H + lam I)^-1 (y~ - u0)   as k -> infinity,  if eta < 2 / lambda_max(A):

kernel ridge regression with ridge *exactly lam*, the slides' lambda (with the slides' factors 1/2 and
lam/2; a regulariser lam ||W - W0||^2 without the 1/2, as in Hu et al.'s text, gives ridge 2 lam; a mean
loss 1/(2n) sum_i gives ridge n lam). As the width grows H(0) -> H* (Lemma 2) and the network stays close to
its linearisation (Lemma 3), so the trained wide net approaches f_ridge with H*: that is the theorem.

Label noise follows a transition matrix P_ij = Pr[class j -> class i] (slides, "Setting");
:func:`symmetric_transition_matrix` is the one of ntklib.datasets.symmetric_flip.
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
from .networks import TwoLayerNet, _checked, _dtype, _shapes, forward

METHODS = ("plain", "rdi", "aux")


# --- the model and the losses (JAX; W0 is the initialisation, a the fixed output weights) --------------

def _lam_ok(lam):
    if not isinstance(lam, jax.core.Tracer):     # a concrete value can be checked; a traced one cannot
        _validate.nonnegative(lam, "lam")


def forward_linearized(W, W0, a, X, activation: str = "relu"):
    """f_lin(W, x) = f(W0, x) + (1/sqrt m) sum_r a_r sigma'(w0_r . x) (w_r - w0_r) . x: the first-order
    Taylor expansion of the slide model around W0 (its gradient in w_r is (1/sqrt m) a_r sigma'(w_r.x) x)."""
    _shapes(W, a, X, W0)
    sigma, dsigma = activations.get(activation)
    with x64_for(_dtype(W)):
        Z0 = X @ W0.T
        return (sigma(Z0) @ a + jnp.sum(dsigma(Z0) * a * (X @ (W - W0).T), axis=1)) / jnp.sqrt(W.shape[0])


def rdi_loss(W, W0, a, X, y, lam, activation: str = "relu", linearized: bool = False):
    """RDI: 1/2 sum_i (f(W, x_i) - y_i)^2 + lam/2 ||W - W0||_F^2 (slides, "Method 1")."""
    _shapes(W, a, X, W0, y)
    _lam_ok(lam)
    with x64_for(_dtype(W)):
        f = forward_linearized(W, W0, a, X, activation) if linearized else forward(W, a, X, activation)
        r = f - y
        return 0.5 * jnp.dot(r, r) + 0.5 * lam * jnp.sum((W - W0) ** 2)


def aux_loss(W, b, W0, a, X, y, lam, activation: str = "relu", linearized: bool = False):
    """AUX: 1/2 sum_i (f(W, x_i) + sqrt(lam) b_i - y_i)^2 (slides, "Method 2"); b has one entry per example."""
    _shapes(W, a, X, W0, y, b)
    _lam_ok(lam)
    with x64_for(_dtype(W)):
        f = forward_linearized(W, W0, a, X, activation) if linearized else forward(W, a, X, activation)
        r = f + jnp.sqrt(lam) * b - y
        return 0.5 * jnp.dot(r, r)


def _model(W, W0, a, Z, activation, linearized):
    return forward_linearized(W, W0, a, Z, activation) if linearized else forward(W, a, Z, activation)


def _objective(params, W0, a, X, y, lam_rdi, lam_aux, activation, linearized):
    # one traced objective for every method (no recompilation per method):
    # plain = (0, 0), RDI = (lam, 0), AUX = (0, lam); equal to rdi_loss / aux_loss (tested)
    W, b = params
    r = _model(W, W0, a, X, activation, linearized) + jnp.sqrt(lam_aux) * b - y
    return 0.5 * jnp.dot(r, r) + 0.5 * lam_rdi * jnp.sum((W - W0) ** 2)


@partial(jax.jit, static_argnames=("activation", "linearized", "inner", "outer"))
def _run(W0, a, X, y, X_test, lam_rdi, lam_aux, eta, activation, linearized, inner, outer):
    """GD for k configurations at once (vmapped over lam_rdi and lam_aux of shape (k,))."""
    grad = jax.grad(_objective)

    def one(lam_rdi, lam_aux):
        def record(params):
            W, b = params
            return (_model(W, W0, a, X, activation, linearized), _model(W, W0, a, X_test, activation, linearized), b,
                    jnp.sqrt(jnp.sum((W - W0) ** 2, axis=1)).max())

        def chunk(params, _):
            params = jax.lax.fori_loop(0, inner, lambda _, p: jax.tree_util.tree_map(
                lambda v, g: v - eta * g, p, grad(p, W0, a, X, y, lam_rdi, lam_aux, activation, linearized)), params)
            return params, record(params)

        start = (W0, jnp.zeros_like(y))
        final, recs = jax.lax.scan(chunk, start, None, length=outer)
        first = record(start)
        return final, jax.tree_util.tree_map(lambda r0, r: jnp.concatenate([r0[None], r]), first, recs)

    return jax.vmap(one)(lam_rdi, lam_aux)


@dataclass
class NoisyTrajectory:
    """What :func:`train` records every ``record_every`` GD steps (one row per record, step 0 first)."""

    method: str
    lam: float
    linearized: bool
    steps: np.ndarray          # GD step index k of each record
    eta: float
    u: np.ndarray              # network outputs f(W_k, x_i) on the training inputs (without sqrt(lam) b), (records, n)
    f_test: np.ndarray | None  # outputs on X_test, (records, n_test)
    b: np.ndarray              # AUX variables b_k (zeros for plain and RDI), (records, n)
    max_move: np.ndarray       # max_r ||w_r(k) - w_r(0)||
    final: TwoLayerNet         # W after the last step (a as at initialisation)
    diverged_step: int | None = None   # first recorded step whose loss blew up (on_divergence="return")

    @property
    def t(self) -> np.ndarray:
        """Gradient-flow time t = k eta of each record."""
        return self.steps * self.eta

    def fitted(self) -> np.ndarray:
        """What the loss compares with y~: u + sqrt(lam) b for AUX, u otherwise."""
        return self.u + math.sqrt(self.lam) * self.b if self.method == "aux" else self.u


def train(net: TwoLayerNet, X, y, method: str, lam: float = 0.0, eta: float = 0.01, steps: int = 1000,
          record_every: int = 100, X_test=None, linearized: bool = False, on_divergence: str = "raise") -> NoisyTrajectory:
    """Full-batch GD from ``net`` (= W0) on the plain, RDI or AUX loss of the slide model or its linearisation.

    ``method``: "plain" (lam ignored), "rdi" or "aux". Every step updates W (and b for AUX) by -eta * gradient.
    A loss that becomes non-finite or grows DIVERGED_LOSS_FACTOR-fold (ntklib.tolerances) raises TrainingDiverged
    naming the first such recorded step, unless on_divergence="return" (then ``diverged_step`` says where).
    """
    return train_many(net, X, y, [(method, lam, linearized)], eta, steps, record_every, X_test, on_divergence)[0]


def train_many(net: TwoLayerNet, X, y, configs, eta: float = 0.01, steps: int = 1000, record_every: int = 100,
               X_test=None, on_divergence: str = "raise") -> list[NoisyTrajectory]:
    """:func:`train` for several ``(method, lam, linearized)`` configurations from the same initialisation, in
    one compiled, vectorised program (JAX compiles once per shape, not once per configuration)."""
    _checked(net)
    X = _validate.matrix(X, "X")
    y = _validate.vector(y, "y", X.shape[0])
    if X.shape[1] != net.W.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the net expects {net.W.shape[1]}")
    if isinstance(configs, (str, bytes)) or not np.iterable(configs) or \
            not all(np.iterable(c) and not isinstance(c, str) for c in configs):
        raise TypeError(f"configs must be a non-empty list of (method, lam, linearized), got {configs!r}")
    configs = [tuple(c) for c in configs]
    if not configs or any(len(c) != 3 for c in configs):
        raise ValueError(f"configs must be a non-empty list of (method, lam, linearized), got {configs!r}")
    clean = []
    for method, lam, lin in configs:
        _validate.choice(method, "method", METHODS)
        lam = _validate.nonnegative(lam, "lam")
        lin = _validate.flag(lin, "linearized")
        clean.append((method, 0.0 if method == "plain" else lam, lin))
    eta, steps, record_every = _validate.gd_schedule(eta, steps, record_every)
    on_divergence = _validate.on_divergence(on_divergence)
    Xt = X[:1] if X_test is None else _validate.matrix(X_test, "X_test")
    if Xt.shape[1] != X.shape[1]:
        raise ValueError(f"X_test has {Xt.shape[1]} features, X has {X.shape[1]}")
    (n, d), m, k = X.shape, net.width, len(clean)
    records = steps // record_every + 1
    # per configuration: W, its gradient and W - W0 (m, d), and the records of u, f_test and b
    _validate.memory(_validate.nbytes((3 * k * m, d), (k * records, 2 * n + Xt.shape[0]), (k * Xt.shape[0], m),
                                      dtype=net.W.dtype),
                     f"noisy.train_many with {k} configurations, width m = {m}, d = {d}, {records} records")
    with x64_for(net.W.dtype):         # float64 nets train in float64 whatever JAX's global x64 flag
        out = _train_many(net, X, y, clean, eta, steps, record_every, X_test, Xt)
    _flag_divergence(out, [y] * len(out), on_divergence, "noisy.train")
    return out


def _flag_divergence(runs, labels, on_divergence: str, what: str) -> None:
    """Set each run's ``diverged_step`` to its first recorded step whose data loss 1/2 ||fitted - y||^2 is
    non-finite or grew DIVERGED_LOSS_FACTOR-fold (ntklib.tolerances), and raise TrainingDiverged there when
    on_divergence="raise". ``runs`` have ``fitted()``, ``steps``, ``method``, ``lam`` and ``eta`` (a
    NoisyTrajectory or a noisy_sweep.SpanRun); ``labels`` are their label vectors."""
    for tr, y in zip(runs, labels):
        with np.errstate(over="ignore", invalid="ignore"):
            r = tr.fitted().astype(np.float64) - y
            losses = 0.5 * np.sum(r * r, axis=1)     # the data term: what a diverging step blows up
        j = _validate.first_divergence(losses, losses[0])
        if j is not None:
            tr.diverged_step = int(tr.steps[j])
            if on_divergence == "raise":
                raise _validate.diverged(f"{what} ({tr.method}, lam = {tr.lam:g})", tr.diverged_step, float(losses[j]),
                                         f"Use a smaller eta than {tr.eta:g} (GD is stable for "
                                         f"eta < 2 / lambda_max(H + lam I), see noisy_sweep.stable_step)")


def _train_many(net, X, y, clean, eta, steps, record_every, X_test, Xt):
    dt = net.W.dtype
    rec = np.arange(0, steps + 1, record_every)
    out = [None] * len(clean)
    for lin in sorted({li for _, _, li in clean}):      # one compiled program per model (net, linearisation)
        idx = [k for k, c in enumerate(clean) if c[2] == lin]
        lam_rdi = jnp.asarray([clean[k][1] if clean[k][0] == "rdi" else 0.0 for k in idx], dt)
        lam_aux = jnp.asarray([clean[k][1] if clean[k][0] == "aux" else 0.0 for k in idx], dt)
        (W, _), (u, ft, b, move) = _run(jnp.asarray(net.W), jnp.asarray(net.a), jnp.asarray(X, dt),
                                        jnp.asarray(y, dt), jnp.asarray(Xt, dt), lam_rdi, lam_aux, dt.type(eta),
                                        net.activation, lin, record_every, steps // record_every)
        for j, k in enumerate(idx):
            m, lam, li = clean[k]
            out[k] = NoisyTrajectory(m, lam, li, rec, eta, np.asarray(u[j]), None if X_test is None else np.asarray(ft[j]),
                                     np.asarray(b[j]), np.asarray(move[j]),
                                     TwoLayerNet(np.asarray(W[j]), net.a, net.activation))
    return out


# --- label noise ----------------------------------------------------------------------------------------

def symmetric_transition_matrix(p: float, n_classes: int) -> np.ndarray:
    """P_ij = Pr[class j -> class i] for symmetric flips at rate p: P = (1 - p) I + p / (C - 1) (1 1^T - I).
    Columns sum to 1. This is the noise of ntklib.datasets.symmetric_flip."""
    p = _validate.probability(p, "p")
    C = _validate.integer(n_classes, "n_classes", minimum=2)
    _validate.memory(_validate.nbytes((C, C)) * 3, f"a {C} x {C} transition matrix")
    return (1 - p) * np.eye(C) + p / (C - 1) * (np.ones((C, C)) - np.eye(C))


def empirical_transition_matrix(y_clean, y_noisy, n_classes: int | None = None) -> np.ndarray:
    """The observed P_ij = #{clean j, noisy i} / #{clean j} (labels 0..C-1, or -1/+1 mapped to 0/1)."""
    yc, yn = _validate._array(y_clean, "y_clean"), _validate._array(y_noisy, "y_noisy")
    if yc.shape != yn.shape or yc.ndim != 1 or yc.size == 0:
        raise ValueError(f"y_clean and y_noisy must be 1-D, non-empty and of equal length, got {yc.shape} and {yn.shape}")
    if np.isin(yc, (-1, 1)).all() and np.isin(yn, (-1, 1)).all():
        yc, yn = (yc > 0).astype(int), (yn > 0).astype(int)
    C = None if n_classes is None else _validate.integer(n_classes, "n_classes", minimum=2)
    yc, yn = _validate.labels(yc, "y_clean", n_classes=C), _validate.labels(yn, "y_noisy", n_classes=C)
    C = int(max(yc.max(), yn.max()) + 1) if C is None else C
    _validate.memory(_validate.nbytes((C, C)) * 3, f"a {C} x {C} transition matrix")
    counts = np.zeros((C, C))
    np.add.at(counts, (yn, yc), 1.0)
    col = counts.sum(axis=0, keepdims=True)
    return np.divide(counts, col, out=np.full_like(counts, np.nan), where=col > 0)
