"""The slide model and its training by full-batch gradient descent (JAX).

    f(a, W, x) = (1/sqrt(m)) sum_r a_r sigma(w_r . x),   w_r(0) ~ N(0, I),  only W is trained,
    loss l(W) = 1/2 sum_i (f(W, x_i) - y_i)^2                                   (lecture Section 2)

Gradient flow dW/dt = -grad l(W) is approximated by gradient descent with a small step eta;
step k corresponds to time t = k * eta.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate, activations

# E[a_r^2] for the output weights. The slides write a_r ~ Unif[-1, 1] (E[a^2] = 1/3) but then drop a_r^2
# from H(0); that is exact for Du et al. (2019b)'s a_r ~ Unif{-1, +1}, which is ntklib's default.
A_SECOND_MOMENT = {"rademacher": 1.0, "uniform": 1.0 / 3.0}


@dataclass(frozen=True)
class TwoLayerNet:
    """Parameters of the slide model: W (m, d) trained, a (m,) fixed."""

    W: np.ndarray
    a: np.ndarray
    activation: str = "relu"

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def __call__(self, X) -> np.ndarray:
        X = _validate.matrix(X, "X")
        if X.shape[1] != self.W.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but the net expects {self.W.shape[1]}")
        return np.asarray(_forward(jnp.asarray(self.W), jnp.asarray(self.a), jnp.asarray(X, self.W.dtype), self.activation))


def init_two_layer(seed: int, width: int, dim: int, activation: str = "relu",
                   a_init: str = "rademacher", antisymmetric: bool = False, dtype=np.float64) -> TwoLayerNet:
    """w_r(0) ~ N(0, I_d); a_r ~ Unif{-1, +1} ("rademacher") or Unif[-1, 1] ("uniform").

    ``antisymmetric``: the second half of the neurons copies the first half's w_r with -a_r, so
    f(x, 0) = 0 exactly: the slides' assumption u(0) = 0, met without shrinking the output.
    """
    width = _validate.positive_int(width, "width")
    dim = _validate.positive_int(dim, "dim")
    activations.get(activation)
    if a_init not in A_SECOND_MOMENT:
        raise ValueError(f"unknown a_init {a_init!r}; choose one of {sorted(A_SECOND_MOMENT)}")
    if antisymmetric and width % 2:
        raise ValueError(f"an antisymmetric initialisation needs an even width, got {width}")
    rng = np.random.default_rng(seed)
    half = width // 2 if antisymmetric else width
    W = rng.standard_normal((half, dim))
    a = rng.choice([-1.0, 1.0], half) if a_init == "rademacher" else rng.uniform(-1.0, 1.0, half)
    if antisymmetric:
        W, a = np.vstack([W, W]), np.concatenate([a, -a])
    return TwoLayerNet(W.astype(dtype), a.astype(dtype), activation)


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


def gd_step(net: TwoLayerNet, X, y, eta: float, steps: int = 1) -> TwoLayerNet:
    """`steps` steps of full-batch gradient descent on l(W) with step size eta (a stays fixed)."""
    X = _validate.matrix(X, "X")
    y = _validate.vector(y, "y", X.shape[0])
    eta = _validate.positive(eta, "eta")
    steps = _validate.positive_int(steps, "steps")
    dt = net.W.dtype
    W = _gd(jnp.asarray(net.W), jnp.asarray(net.a), jnp.asarray(X, dt), jnp.asarray(y, dt), dt.type(eta), net.activation, steps)
    return TwoLayerNet(np.asarray(W), net.a, net.activation)


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

    @property
    def t(self) -> np.ndarray:
        """Gradient-flow time of each record, t = k * eta."""
        return self.steps * self.eta


@partial(jax.jit, static_argnames=("activation", "steps", "via_gram"))
def _gd_span(Z, B, X, G, a, y, eta, activation, steps, via_gram):
    """`steps` GD steps in the span of the training inputs. Every gradient dl/dw_r is a combination of the
    x_i, so W(t) = W(0) + B^T X and the pre-activations Z = X W^T change by -eta X X^T D per step: exactly
    the iterates of updating W. The product is G D (O(n^2 m), G = X X^T) when n <= 2d, else X (X^T D)
    (O(n m d), what updating W directly costs)."""
    sigma, dsigma = activations.get(activation)
    scale = 1.0 / jnp.sqrt(Z.shape[1])

    def step(_, carry):
        Z, B = carry
        r = sigma(Z) @ a * scale - y                       # residual u - y
        D = (r[:, None] * dsigma(Z)) * (a * scale)         # dl/dw_r = sum_i D_ir x_i
        dZ = G @ D if via_gram else X @ (X.T @ D)
        return Z - eta * dZ, B - eta * D

    return jax.lax.fori_loop(0, steps, step, (Z, B))


def gd_train(net: TwoLayerNet, X, y, eta: float, steps: int, record_every: int = 1, X_test=None,
             snapshot_steps=()) -> Trajectory:
    """Train the slide model by full-batch GD and record outputs and weight movement along the way.

    The iterates are those of ``gd_step``; they are computed in the span of the training inputs (see
    ``_gd_span``), which is exact and, when n < d, several times faster than updating W. ``snapshot_steps`` (multiples of
    record_every, or 0) keep the full parameters at those steps, e.g. to compute H(t) with
    ntklib.kernels.empirical_ntk_two_layer.
    """
    X = _validate.matrix(X, "X")
    y = _validate.vector(y, "y", X.shape[0])
    eta, steps, record_every = _validate.gd_schedule(eta, steps, record_every)
    bad = [s for s in snapshot_steps if s % record_every or not 0 <= s <= steps]
    if bad:
        raise ValueError(f"snapshot_steps {bad} are not multiples of record_every={record_every} within 0..{steps}")
    if X.shape[1] != net.W.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the net expects {net.W.shape[1]}")
    if X_test is not None:
        X_test = _validate.matrix(X_test, "X_test")
    dt = net.W.dtype
    sigma, _ = activations.get(net.activation)
    Xj, W0, a = jnp.asarray(X, dt), jnp.asarray(net.W), jnp.asarray(net.a)
    G = Xj @ Xj.T
    Z = Xj @ W0.T
    B = jnp.zeros_like(Z)
    if X_test is not None:
        Xt = jnp.asarray(X_test, dt)
        Zt0, Gt = Xt @ W0.T, Xt @ Xj.T
    scale = 1.0 / np.sqrt(net.width)
    rec_steps, us, fs, moves, snaps = [], [], [], [], {}
    for k in range(0, steps + 1, record_every):
        if k:
            Z, B = _gd_span(Z, B, Xj, G, a, jnp.asarray(y, dt), dt.type(eta), net.activation, record_every,
                            X.shape[0] <= 2 * X.shape[1])
        rec_steps.append(k)
        us.append(np.asarray(sigma(Z) @ a) * scale)
        if X_test is not None:
            fs.append(np.asarray(sigma(Zt0 + Gt @ B) @ a) * scale)
        # ||w_r(t) - w_r(0)||^2 = B[:, r]^T G B[:, r]
        moves.append(float(np.sqrt(max(float(jnp.max(jnp.sum(B * (G @ B), axis=0))), 0.0))))
        if k in snapshot_steps or k == steps:
            cur = TwoLayerNet(np.asarray(W0 + B.T @ Xj), net.a, net.activation)
            if k in snapshot_steps:
                snaps[k] = cur
    return Trajectory(np.array(rec_steps), float(eta), np.array(us), np.array(fs) if fs else None,
                      np.array(moves), snaps, cur)
