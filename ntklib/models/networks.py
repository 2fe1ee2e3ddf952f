"""The slide model and its training by full-batch gradient descent (JAX).

    f(a, W, x) = (1/sqrt(m)) sum_r a_r sigma(w_r . x),   w_r(0) ~ N(0, I),  only W is trained,
    loss l(W) = 1/2 sum_i (f(W, x_i) - y_i)^2                                   (lecture Section 2)

Gradient flow dW/dt = -grad l(W) is approximated by gradient descent with a small step eta;
step k corresponds to time t = k * eta.

``ode_residual`` measures how well Lemma 1 (ntklib.theory.dynamics) holds along one real GD step of the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate
from ..theory import activations, kernels
from ..theory.activations import A_SECOND_MOMENT
from .._jaxcompat import x64_for

# E[a_r^2] for the output weights. The slides write a_r ~ Unif[-1, 1] (E[a^2] = 1/3) but then drop a_r^2
# from H(0); that is exact for Du et al. (2019b)'s a_r ~ Unif{-1, +1}, which is ntklib's default.


@dataclass(frozen=True)
class TwoLayerNet:
    """Parameters of the slide model: W (m, d) trained, a (m,) fixed."""

    W: np.ndarray
    a: np.ndarray
    activation: str = "relu"

    def __post_init__(self):
        # shapes and dtypes only: a net with NaN weights may be returned on purpose (on_divergence="return");
        # functions that compute with a net check its values (_checked).
        for key, ndim in (("W", 2), ("a", 1)):
            v = np.asarray(getattr(self, key))
            if v.dtype.kind != "f" or v.dtype not in (np.float32, np.float64):
                raise TypeError(f"TwoLayerNet.{key} must be a float32 or float64 array, got dtype {v.dtype}")
            if v.ndim != ndim or v.size == 0:
                raise ValueError(f"TwoLayerNet.{key} must be a non-empty {ndim}-D array, got shape {v.shape}")
        if np.shape(self.a)[0] != np.shape(self.W)[0]:
            raise ValueError(f"TwoLayerNet.a has length {np.shape(self.a)[0]} but W has {np.shape(self.W)[0]} rows "
                             f"(one output weight per hidden unit)")
        activations.get(self.activation)

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def __call__(self, X) -> np.ndarray:
        _checked(self)
        X = _validate.matrix(X, "X")
        if X.shape[1] != self.W.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but the net expects {self.W.shape[1]}")
        with x64_for(self.W.dtype):     # float64 weights compute in float64 whatever JAX's global x64 flag
            return np.asarray(_forward(jnp.asarray(self.W), jnp.asarray(self.a), jnp.asarray(X, self.W.dtype),
                                       self.activation))


def _checked(net, name: str = "net") -> "TwoLayerNet":
    """A TwoLayerNet with finite weights (training from or evaluating NaN weights only propagates NaN)."""
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"{name} must be a ntklib.models.networks.TwoLayerNet (e.g. from init_two_layer), got {type(net).__name__}")
    for key in ("W", "a"):
        if not np.all(np.isfinite(np.asarray(getattr(net, key)))):
            raise ValueError(f"{name}.{key} contains NaN or inf (a diverged run?); start from a finite net")
    return net


def init_two_layer(seed: int, width: int, dim: int, activation: str = "relu",
                   a_init: str = "rademacher", antisymmetric: bool = False, dtype=np.float64) -> TwoLayerNet:
    """w_r(0) ~ N(0, I_d); a_r ~ Unif{-1, +1} ("rademacher") or Unif[-1, 1] ("uniform").

    ``antisymmetric``: the second half of the neurons copies the first half's w_r with -a_r, so
    f(x, 0) = 0 exactly: the slides' assumption u(0) = 0, met without shrinking the output.
    """
    seed = _validate.seed(seed)
    width = _validate.positive_int(width, "width")
    dim = _validate.positive_int(dim, "dim")
    activations.get(activation)
    if not isinstance(a_init, str) or a_init not in A_SECOND_MOMENT:
        raise ValueError(f"unknown a_init {a_init!r}; choose one of {sorted(A_SECOND_MOMENT)}")
    antisymmetric = _validate.flag(antisymmetric, "antisymmetric")
    dtype = _validate.float_dtype(dtype)
    # W is drawn in float64, then stacked (antisymmetric) and cast: up to three (width, dim) copies
    _validate.memory(_validate.nbytes((width, dim)) * 3, f"init_two_layer's (width, dim) = ({width}, {dim}) weights")
    if antisymmetric and width % 2:
        raise ValueError(f"an antisymmetric initialisation needs an even width, got {width}")
    rng = np.random.default_rng(seed)
    half = width // 2 if antisymmetric else width
    W = rng.standard_normal((half, dim))
    a = rng.choice([-1.0, 1.0], half) if a_init == "rademacher" else rng.uniform(-1.0, 1.0, half)
    if antisymmetric:
        W, a = np.vstack([W, W]), np.concatenate([a, -a])
    return TwoLayerNet(W.astype(dtype), a.astype(dtype), activation)


def _shapes(W, a, X, W0=None, y=None, b=None):
    """Shape checks that also work on JAX tracers (these functions run inside jit and grad), so a mismatch
    names the argument instead of failing in XLA's dot_general."""
    m, d = _dims(W, "W", 2)
    if _dims(a, "a", 1) != (m,):
        raise ValueError(f"a has shape {jnp.shape(a)}, expected ({m},): one output weight per row of W {jnp.shape(W)}")
    if W0 is not None and jnp.shape(W0) != (m, d):
        raise ValueError(f"W0 has shape {jnp.shape(W0)}, expected W's shape {(m, d)}")
    n, dx = _dims(X, "X", 2)
    if dx != d:
        raise ValueError(f"X has {dx} features but W has input dimension {d}")
    for v, name in ((y, "y"), (b, "b")):
        if v is not None and jnp.shape(v) != (n,):
            raise ValueError(f"{name} has shape {jnp.shape(v)}, expected ({n},): one entry per row of X")


def _dims(v, name, ndim):
    shape = jnp.shape(v)
    if len(shape) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {shape}")
    return shape


def _dtype(W):
    return np.dtype(getattr(W, "dtype", np.float64))


def forward(W, a, X, activation: str = "relu"):
    """f(W, x) = (1/sqrt m) sum_r a_r sigma(w_r . x) for each row of X, on arrays: JAX tracers too, so the losses
    of ntklib.models.noisy differentiate it. A TwoLayerNet called on X computes the same; float64 weights compute
    in float64 whatever JAX's global x64 flag."""
    _shapes(W, a, X)
    with x64_for(_dtype(W)):
        return _forward(W, a, X, activation)


@partial(jax.jit, static_argnames="activation")
def _forward(W, a, X, activation):
    sigma, _ = activations.get(activation)
    return sigma(X @ W.T) @ a / jnp.sqrt(W.shape[0])


def _loss(W, a, X, y, activation):
    r = _forward(W, a, X, activation) - y
    return 0.5 * jnp.dot(r, r)


@partial(jax.jit, static_argnames=("activation", "steps"))
def _gd(W, a, X, y, eta, activation, steps):
    grad = jax.grad(_loss)
    return jax.lax.fori_loop(0, steps, lambda _, W: W - eta * grad(W, a, X, y, activation), W)


def gd_step(net: TwoLayerNet, X, y, eta: float, steps: int = 1, on_divergence: str = "raise") -> TwoLayerNet:
    """`steps` steps of full-batch gradient descent on l(W) with step size eta (a stays fixed).

    Non-finite weights after the steps (eta too large) raise TrainingDiverged, unless on_divergence="return"."""
    _checked(net)
    X = _validate.matrix(X, "X")
    y = _validate.vector(y, "y", X.shape[0])
    eta = _validate.positive(eta, "eta")
    steps = _validate.positive_int(steps, "steps")
    on_divergence = _validate.on_divergence(on_divergence)
    if X.shape[1] != net.W.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the net expects {net.W.shape[1]}")
    dt = net.W.dtype
    with x64_for(dt):
        W = np.asarray(_gd(jnp.asarray(net.W), jnp.asarray(net.a), jnp.asarray(X, dt), jnp.asarray(y, dt), dt.type(eta),
                           net.activation, steps))
    if on_divergence == "raise" and not np.all(np.isfinite(W)):
        raise _validate.diverged("gd_step", steps, float("nan"), f"Use a smaller eta than {eta}")
    return TwoLayerNet(W, net.a, net.activation)


@dataclass
class Trajectory:
    """What gd_train records every `record_every` steps (arrays have one row per record)."""

    steps: np.ndarray            # step index k of each record (k = 0 first)
    eta: float
    u: np.ndarray                # outputs on the training inputs, (records, n)
    f_test: np.ndarray | None    # outputs on the test inputs, (records, n_test)
    max_move: np.ndarray         # max_r ||w_r(t) - w_r(0)||_2                      (Lemma 3)
    snapshots: dict = field(default_factory=dict)   # step -> TwoLayerNet
    final: TwoLayerNet | None = None
    diverged_step: int | None = None   # first recorded step whose loss blew up (on_divergence="return")
    # with track_patterns=True: fraction of the n m activation patterns 1[w_r.x_i >= 0] that differ from step 0
    # (Du et al. 2019, Section 5; the patterns whose stability Lemma 3.2 controls), one entry per record
    pattern_changes: np.ndarray | None = None

    @property
    def t(self) -> np.ndarray:
        """Gradient-flow time of each record, t = k * eta."""
        return self.steps * self.eta


@partial(jax.jit, static_argnames=("activation", "via_gram", "ridge", "aux"))
def span_steps(Z, B, b, X, G, a, Y, lam_rdi, sqrt_aux, eta, n_steps, activation, via_gram=True, ridge=True, aux=True):
    """``n_steps`` full-batch GD steps of K runs of the slide model at once, in the span of the training inputs
    (the one GD loop of the slide model: gd_train runs it with K = 1, ntklib.models.noisy_sweep with many).

    Every gradient dl/dw_r is a combination of the x_i (for RDI because W - W0 is one too), so W = W0 + B^T X, and
    the pre-activations Z = X W^T change by -eta X X^T D per step: exactly the iterates of updating W. Per run k
    (arrays have a leading axis K): residual r = f(W, X) + sqrt_aux b - y, D = r_i a_r sigma'(Z_ir) / sqrt m +
    lam_rdi B (dl/dW = D^T X), then B -= eta D, Z -= eta G D, b -= eta sqrt_aux r: the plain loss for
    lam_rdi = sqrt_aux = 0, RDI with ridge lam_rdi, AUX with sqrt_aux = sqrt(lam) (ntklib.models.noisy's losses).
    The product is G D (O(n^2 m), G = X X^T) with ``via_gram``, else X (X^T D) (O(n m d), what updating W costs:
    cheaper when n > 2 d). ``ridge=False`` / ``aux=False`` promise lam_rdi = 0 / sqrt_aux = 0 for every run and
    drop those terms from the step (plain GD: two fewer passes over the (n, m) arrays per step)."""
    sigma, dsigma = activations.get(activation)
    ascaled = a / jnp.sqrt(jnp.asarray(Z.shape[2], Z.dtype))
    e3 = eta[:, None, None]

    def gram_times(D):     # G D for every run; one run as a 2-D product (measured 1.5-2x faster than the 3-D form)
        if D.shape[0] == 1:
            return (G @ D[0] if via_gram else X @ (X.T @ D[0]))[None]
        return jnp.einsum("ij,kjm->kim", G, D) if via_gram else jnp.einsum("id,kdm->kim", X, jnp.einsum("id,kim->kdm", X, D))

    def step(_, state):
        Z, B, b = state
        r = sigma(Z) @ ascaled - Y                                               # (K, n)
        if aux:
            r = r + sqrt_aux[:, None] * b
        D = r[:, :, None] * dsigma(Z) * ascaled                                  # (K, n, m)
        if ridge:
            D = D + lam_rdi[:, None, None] * B
        return Z - e3 * gram_times(D), B - e3 * D, (b - (eta * sqrt_aux)[:, None] * r) if aux else b

    return jax.lax.fori_loop(0, n_steps, step, (Z, B, b))


def gd_train(net: TwoLayerNet, X, y, eta: float, steps: int, record_every: int = 1, X_test=None,
             snapshot_steps=(), on_divergence: str = "raise", track_patterns: bool = False) -> Trajectory:
    """Train the slide model by full-batch GD and record outputs and weight movement along the way.

    The iterates are those of ``gd_step``; they are computed in the span of the training inputs (see
    ``span_steps``), which is exact and, when n < d, several times faster than updating W. ``snapshot_steps`` (multiples of
    record_every, or 0) keep the full parameters at those steps, e.g. to compute H(t) with
    ntklib.theory.kernels.empirical_ntk_two_layer.

    A loss 1/2 ||u - y||^2 that becomes non-finite or grows DIVERGED_LOSS_FACTOR-fold (ntklib.tolerances) raises
    TrainingDiverged at the first record where it does; with on_divergence="return" training runs to the end and
    the trajectory's ``diverged_step`` says where.

    ``track_patterns``: also record, at every record, the fraction of the n m activation patterns
    1[w_r(k).x_i >= 0] that differ from those at step 0 (``Trajectory.pattern_changes``; the quantity of Du et al.
    2019's Figure 1b, whose smallness Lemma 3.2 uses). It costs O(n m) per record, next to O(n^2 m) per step.
    """
    _checked(net)
    X = _validate.matrix(X, "X")
    y = _validate.vector(y, "y", X.shape[0])
    eta, steps, record_every = _validate.gd_schedule(eta, steps, record_every)
    on_divergence = _validate.on_divergence(on_divergence)
    track_patterns = _validate.flag(track_patterns, "track_patterns")
    if isinstance(snapshot_steps, (str, bytes)) or not np.iterable(snapshot_steps):
        raise TypeError(f"snapshot_steps must be a list of step numbers, got {snapshot_steps!r}")
    snapshot_steps = [_validate.nonnegative_int(s, "snapshot_steps entry") for s in snapshot_steps]
    bad = [s for s in snapshot_steps if s % record_every or not 0 <= s <= steps]
    if bad:
        raise ValueError(f"snapshot_steps {bad} are not multiples of record_every={record_every} within 0..{steps}")
    if X.shape[1] != net.W.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the net expects {net.W.shape[1]}")
    if X_test is not None:
        X_test = _validate.matrix(X_test, "X_test")
        if X_test.shape[1] != X.shape[1]:
            raise ValueError(f"X_test has {X_test.shape[1]} features but X has {X.shape[1]}")
    n, m, d = X.shape[0], net.width, X.shape[1]
    n_test = 0 if X_test is None else X_test.shape[0]
    records = steps // record_every + 1
    _validate.memory(_validate.nbytes((n, n), (n, m), (n, m), (n_test, m), (n_test, n), (records, n + n_test),
                                      *[(m, d)] * (len(snapshot_steps) + 1), dtype=net.W.dtype),
                     f"gd_train with n = {n} points, width m = {m}, {records} records")
    with x64_for(net.W.dtype):          # float64 nets train in float64 whatever JAX's global x64 flag
        return _gd_train(net, X, y, eta, steps, record_every, X_test, snapshot_steps, on_divergence, track_patterns)


def _gd_train(net, X, y, eta, steps, record_every, X_test, snapshot_steps, on_divergence, track_patterns=False):
    dt = net.W.dtype
    sigma, _ = activations.get(net.activation)
    Xj, W0, a = jnp.asarray(X, dt), jnp.asarray(net.W), jnp.asarray(net.a)
    G = Xj @ Xj.T
    Z = Xj @ W0.T
    B = jnp.zeros_like(Z)
    # one run of span_steps: plain GD (no ridge, no auxiliary variables)
    b, Y, zero, eta_k = jnp.zeros((1, len(y)), dt), jnp.asarray(y, dt)[None], jnp.zeros(1, dt), jnp.full(1, eta, dt)
    active0 = Z >= 0 if track_patterns else None     # the patterns 1[w_r(0).x_i >= 0], (n, m)
    if X_test is not None:
        Xt = jnp.asarray(X_test, dt)
        Zt0, Gt = Xt @ W0.T, Xt @ Xj.T
    scale = 1.0 / np.sqrt(net.width)
    rec_steps, us, fs, moves, snaps, changed = [], [], [], [], {}, []
    loss0, diverged_step = None, None
    for k in range(0, steps + 1, record_every):
        if k:
            Z, B, b = (v[0] for v in span_steps(Z[None], B[None], b, Xj, G, a, Y, zero, zero, eta_k, record_every,
                                                net.activation, X.shape[0] <= 2 * X.shape[1], ridge=False, aux=False))
            b = b[None]
        rec_steps.append(k)
        us.append(np.asarray(sigma(Z) @ a) * scale)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = 0.5 * float(np.sum((us[-1].astype(np.float64) - y) ** 2))
        loss0 = loss if loss0 is None else loss0
        if diverged_step is None and _validate.first_divergence([loss], loss0) is not None:
            diverged_step = k
            if on_divergence == "raise":
                raise _validate.diverged("gd_train", k, loss, f"Use a smaller eta than {eta} (GD on this loss "
                                         f"is stable for eta < 2 / lambda_max(H))")
        if X_test is not None:
            fs.append(np.asarray(sigma(Zt0 + Gt @ B) @ a) * scale)
        # ||w_r(t) - w_r(0)||^2 = B[:, r]^T G B[:, r]
        moves.append(float(np.sqrt(max(float(jnp.max(jnp.sum(B * (G @ B), axis=0))), 0.0))))
        if track_patterns:  # exact counts per neuron (int32), summed in int64, then the fraction in float64
            per_neuron = np.asarray(jnp.sum((Z >= 0) != active0, axis=0, dtype=jnp.int32))
            changed.append(int(per_neuron.sum(dtype=np.int64)) / Z.size)
        if k in snapshot_steps or k == steps:
            cur = TwoLayerNet(np.asarray(W0 + B.T @ Xj), net.a, net.activation)
            if k in snapshot_steps:
                snaps[k] = cur
    return Trajectory(np.array(rec_steps), float(eta), np.array(us), np.array(fs) if fs else None,
                      np.array(moves), snaps, cur, diverged_step, np.array(changed) if track_patterns else None)


def ode_residual(net: TwoLayerNet, X, y, eta: float) -> float:
    """Relative residual of Lemma 1 over one GD step of the slide model from `net`:

        || (u_{k+1} - u_k) / eta + H(t_k) (u_k - y) || / || H(t_k) (u_k - y) ||.

    Lemma 1 is exact for gradient flow; for GD this residual is O(eta) and vanishes as eta -> 0.
    A float64 net computes in float64 whatever JAX's global x64 flag.
    """
    if not isinstance(net, TwoLayerNet):
        raise _validate.ArgumentTypeError(
            f"net must be a ntklib.models.networks.TwoLayerNet, got {_validate._show(net)} of type {type(net).__name__}")
    eta = _validate.positive(eta, "eta")
    with x64_for(net.W.dtype):
        u = np.asarray(net(X), dtype=np.float64)
        y = _validate.vector(y, "y", len(u))
        H = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation=net.activation)
        drift = np.asarray(H, dtype=np.float64) @ (u - y)
        norm = float(np.linalg.norm(drift))
        if not norm > 0:
            raise ValueError("ode_residual is undefined: H(t_k) (u_k - y) = 0 (the net already fits y, or the "
                             "kernel annihilates the residual); use labels y the net does not fit")
        u_next = np.asarray(gd_step(net, X, y, eta)(X), dtype=np.float64)
    return float(np.linalg.norm((u_next - u) / eta + drift) / norm)
