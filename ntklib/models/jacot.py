"""Jacot, Gabriel & Hongler (2018), "Neural Tangent Kernel: Convergence and Generalization in Neural
Networks" (NeurIPS): their network, its training on their least-squares cost, the limiting Gaussian
distribution of the trained network function, and kernel principal components w.r.t. the data.

**The network** (their Section 2, the "NTK parameterisation"): layers 0 (input) to L (output) of widths
n_0, ..., n_L, with

    alpha^(0)(x) = x,    alpha~^(l+1)(x) = W^(l) alpha^(l)(x) / sqrt(n_l) + beta b^(l),
    alpha^(l)(x) = sigma(alpha~^(l)(x)),    f_theta(x) = alpha~^(L)(x),    W^(l)_ij, b^(l)_j ~ N(0, 1),

sigma = ReLU and beta = 0.1 in their experiments (Section 6). ntklib stores W^(l) transposed, shape
(n_l, n_{l+1}), in the tuple-of-{"W", "b"} format of ``ntklib.models.deepnets``, so these parameters train with
``deepnets.train`` and their kernels come from ``ntklib.models.evolution``. The infinite-width kernels of their
Proposition 1 (the NNGP Sigma^(L)) and Theorem 1 (the NTK Theta^(L)_inf) are
``kernels.fc_relu_ntk(X, depth=L - 1, W_std=1.0, b_std=beta, return_nngp=True)``: neural-tangents' NTK
parameterisation is exactly this one and ``depth`` counts the L - 1 hidden layers (tested against
neural-tangents and against a Monte Carlo average of this module's networks).

**The cost and time** (their Section 5): C(f) = 1/2 ||f - f*||^2_{p_in} = 1/(2N) sum_i ||f(x_i) - y_i||^2 for
the empirical distribution p_in of x_1..x_N, which is ``deepnets.mse``. Gradient descent with learning rate eta
reaches their time t = eta * steps ("200 steps ... with learning rate 1.0 (i.e. at t = 200)"). Kernel
gradient descent with a fixed kernel K moves the function by d f_t / dt = -(1/N) sum_i K(., x_i)(f_t(x_i) - y_i),
i.e. by the operator Pi(f)(x) = (1/N) sum_i f(x_i) K(x_i, x) (their Eq. for Pi): its eigenvalues are those of
the matrix K(X, X) / N and are the paper's lambda_i; its eigenfunctions are the kernel principal components.

- ``init_ntk_mlp``: their initialisation; ``ntk_mlp_apply`` and ``ntk_mlp_ntk``: the network and its empirical
  NTK, which are ``deepnets.mlp_apply`` and ``deepnets.mlp_ntk`` with ``parameterization="ntk"`` (one MLP, one
  layer-wise NTK formula, cheap for wide nets on many inputs).
- ``train_gd``: exact full-batch gradient descent on C for nets too wide for dense weight updates (width
  10,000: two 10^4 x 10^4 hidden matrices): each hidden-to-hidden update has rank N, so it is stored in factored
  form and the dense matrices are never rewritten during training.
- ``linearised_outputs``: the outputs of the linearised network (kernel frozen) along gradient descent.
- ``limiting_gaussian``: the Gaussian distribution of the infinite-width network function after training to
  time t (their Section 5), the "t -> infinity" distribution of their Fig. 2.
- ``kernel_pca``: the (non-centred) kernel principal components of their Section 5 / Fig. 3 and the predicted
  convergence along them.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import norm

from .. import _validate
from . import deepnets
from .deepnets import _check_params, _check_seed, _check_sizes
from ..theory.spectrum import eigendecomposition

DEFAULT_BETA = 0.1   # their Section 6: "the value of the parameter beta is chosen as 0.1"


# --------------------------------------------------------------------------------------------------
# the network


def _beta(beta) -> float:
    return _validate.nonnegative(beta, "beta")


def init_ntk_mlp(seed, sizes, dtype=np.float64):
    """Parameters of their network with widths ``sizes = (n_0, ..., n_L)``: every W^(l), b^(l) entry ~ N(0, 1).

    ``seed`` is an int or a tuple of ints (numpy's SeedSequence entropy). Layer l draws W^(l) then b^(l) from its
    own stream, ``default_rng(SeedSequence(seed).spawn(L)[l])``, so the layers are drawn in parallel threads (a
    width-10,000 net has 2e8 parameters) and the result does not depend on the threads. Drawn in ``dtype``
    (float32 or float64; numpy draws different numbers in the two precisions, so a seed means one net per
    precision). Returns a tuple of {"W": (n_l, n_{l+1}), "b": (n_{l+1},)} JAX arrays (ntklib.models.deepnets' format).
    """
    seed = _check_seed(seed)
    sizes = _check_sizes(sizes)
    dtype = _validate.float_dtype(dtype)
    _validate.memory(_validate.nbytes(*[(a + 1, b) for a, b in zip(sizes[:-1], sizes[1:])], dtype=dtype),
                     f"a network of widths {sizes}")
    streams = np.random.SeedSequence(seed).spawn(len(sizes) - 1)

    def draw(l):
        rng = np.random.default_rng(streams[l])
        W = rng.standard_normal((sizes[l], sizes[l + 1]), dtype=dtype)
        return {"W": jnp.asarray(W), "b": jnp.asarray(rng.standard_normal(sizes[l + 1], dtype=dtype))}

    with ThreadPoolExecutor(max_workers=max(1, min(len(streams), os.cpu_count() or 1))) as pool:
        return tuple(pool.map(draw, range(len(streams))))


def ntk_mlp_apply(params, X, beta=DEFAULT_BETA):
    """f_theta(x) for each row of X, (n, n_L): their Section 2 recursion with ReLU (the module docstring), i.e.
    ``deepnets.mlp_apply(params, X, "ntk", beta)``. ``beta`` may be a traced scalar, so
    ``deepnets.train(ntk_mlp_apply, ..., apply_args=(beta,))`` compiles once."""
    return deepnets.mlp_apply(params, X, "ntk", beta)


def ntk_mlp_ntk(params, X1, X2=None, beta=DEFAULT_BETA) -> np.ndarray:
    """Empirical NTK of their network, traced over the outputs, by the layer-wise formula of
    ``deepnets.mlp_ntk(params, X1, X2, "ntk", beta)`` (their Theorem 1's recursion is its infinite-width limit)."""
    _beta(beta)
    return deepnets.mlp_ntk(params, X1, X2, "ntk", beta)


# --------------------------------------------------------------------------------------------------
# exact gradient descent for very wide nets


class GDRun(NamedTuple):
    """What :func:`train_gd` returns: ``outputs[k]`` = f on the inputs of step k before that step, shape
    (steps + 1, N, n_L) (a fixed X: its row ``steps`` is f(X) after the last step; per-step batches: f on the last
    batch after the last step); ``loss[k]`` = the cost on those inputs; ``params`` after the last step (dense)."""

    params: tuple
    outputs: np.ndarray
    loss: np.ndarray


def train_gd(params, X, Y, lr: float, steps: int, beta=DEFAULT_BETA, factored: bool | None = None) -> GDRun:
    """Gradient descent on their cost C = 1/(2N) sum_i ||f(x_i) - y_i||^2, for very wide nets.

    Exactly the iteration theta <- theta - lr * grad C (every parameter trained, as in their Section 6; the same
    as ``deepnets.train(ntk_mlp_apply, ..., optimizer=SGD(lr), loss="mse")``, tested), organised for widths
    where a dense update of a hidden n x n matrix per step costs more than the step itself: the gradient of a
    hidden-to-hidden W^(l) is alpha^T delta / sqrt(n_l), of rank N, so the updates are stored as factors
    U (n_l x steps N) and V (steps N x n_{l+1}) with W^(l)(t) = W^(l)(0) + U V, the backward pass multiplies by a
    transposed copy of W^(l)(0) (contiguous, hence fast), and W^(l)(0) is never rewritten. The dense matrices
    are assembled once at the end. The forward and backward passes are written out (ReLU, their recursion).

    ``X`` (N, n_0) with ``Y`` (N,) or (N, n_L): full-batch gradient descent on that data set. ``X`` (steps, N, n_0)
    with ``Y`` (steps, N[, n_L]): step k uses the k-th batch (stochastic gradient descent on fresh inputs; the cost
    of each step is C on its batch). ``factored=None`` factors the updates when the hidden matrices are wider than
    4 x steps x N (where the factors are much smaller than the matrices; the factored products cost O(steps N)
    per step each), and otherwise updates the matrices in place; ``True``/``False`` force either. Memory
    (factored): two copies of each hidden matrix plus the factors (2 x n x steps N numbers per hidden layer).
    """
    _check_params(params)
    beta = _beta(beta)
    lr = _validate.positive(lr, "lr")
    steps = _validate.nonnegative_int(steps, "steps")
    if any(layer["W"].ndim != 2 or "b" not in layer for layer in params):
        raise ValueError("train_gd takes their network: one (n_in, n_out) matrix and a bias per layer")
    n_in, k_out = params[0]["W"].shape[0], params[-1]["W"].shape[1]
    batched = np.ndim(X) == 3
    Xb = _validate.array(X, "X", 3) if batched else _validate.matrix(X, "X")[None]
    if Xb.shape[-1] != n_in:
        raise ValueError(f"X has {Xb.shape[-1]} features but the network's input width is {n_in}")
    if batched and Xb.shape[0] != steps:
        raise ValueError(f"X holds {Xb.shape[0]} batches but steps={steps}: give one batch (N, {n_in}) per step")
    N = Xb.shape[1]
    base = Xb.shape[:-1] if batched else Xb.shape[1:-1]          # (steps, N) or (N,)
    Yb = _validate._array(Y, "Y", "biuf").astype(np.float64)
    if Yb.shape == base:
        Yb = Yb[..., None]
    if Yb.shape != base + (k_out,) or not np.all(np.isfinite(Yb)):
        raise ValueError(f"Y must hold finite targets of shape {base} or {base + (k_out,)} (one per input and output), "
                         f"got shape {Yb.shape}")
    Yb = Yb if batched else Yb[None]
    dt = params[0]["W"].dtype
    L = len(params)
    R = max(steps, 1) * N
    if factored is None:
        factored = L > 2 and min(min(params[l]["W"].shape) for l in range(1, L - 1)) > 4 * R
    hidden = tuple(range(1, L - 1)) if _validate.flag(factored, "factored") else ()   # updates kept factored
    _validate.memory(sum(_validate.nbytes(params[l]["W"].shape, (params[l]["W"].shape[0] + params[l]["W"].shape[1], R),
                                          dtype=dt) for l in hidden), "the factored weight updates")
    small = tuple({"W": layer["W"], "b": layer["b"]} if l not in hidden else {"b": layer["b"]}
                  for l, layer in enumerate(params))
    W0 = tuple(params[l]["W"] for l in hidden)
    W0T = tuple(_transpose(w) for w in W0)               # a contiguous copy: the backward pass reads it row-wise
    U = tuple(jnp.zeros((w.shape[0], R), dt) for w in W0)
    V = tuple(jnp.zeros((R, w.shape[1]), dt) for w in W0)
    Xj, Yj = jnp.asarray(Xb, dt), jnp.asarray(Yb, dt)
    small, U, V, outs = _gd_scan(small, U, V, W0, W0T, Xj, Yj, jnp.asarray(lr, dt), jnp.asarray(beta, dt),
                                 hidden, steps, batched)
    last = Xj[-1] if batched else Xj[0]
    final_out, _ = _forward(small, W0, U, V, last, jnp.asarray(beta, dt), hidden)
    outputs = np.concatenate([np.asarray(outs, np.float64).reshape(steps, N, k_out),
                              np.asarray(final_out, np.float64)[None]])
    dense = list(small)
    for i, l in enumerate(hidden):
        dense[l] = {"W": _assemble(W0[i], U[i], V[i]), "b": small[l]["b"]}
    del W0T, U, V
    targets = np.concatenate([Yb, Yb[-1:]]) if batched else np.broadcast_to(Yb, (steps + 1,) + Yb.shape[1:])
    loss = 0.5 * np.mean(np.sum((outputs - targets) ** 2, axis=-1), axis=-1)
    return GDRun(tuple(dense), outputs, loss)


@jax.jit
def _assemble(W0, U, V):
    return W0 + U @ V


@jax.jit
def _transpose(W):
    return W.T


def _forward(small, W0, U, V, X, beta, hidden):
    """Outputs and, per layer, its input alpha and the ReLU mask of its output (None for the read-out)."""
    hs, masks, h = [], [], X
    L, i = len(small), 0
    for l in range(L):
        hs.append(h)
        if l in hidden:
            zw = h @ W0[i] + (h @ U[i]) @ V[i]
            n_in = W0[i].shape[0]
            i += 1
        else:
            zw = h @ small[l]["W"]
            n_in = small[l]["W"].shape[0]
        z = zw / math.sqrt(n_in) + beta * small[l]["b"]
        if l < L - 1:
            masks.append((z > 0).astype(z.dtype))
            h = z * masks[-1]
    return z, (hs, masks)


@partial(jax.jit, static_argnames=("hidden", "steps", "batched"), donate_argnums=(1, 2))
def _gd_scan(small, U, V, W0, W0T, Xs, Ys, lr, beta, hidden, steps, batched):
    N, L = Xs.shape[1], len(small)

    def step(carry, s):
        small, U, V = carry
        X, Y = (Xs[s], Ys[s]) if batched else (Xs[0], Ys[0])
        f, (hs, masks) = _forward(small, W0, U, V, X, beta, hidden)
        delta = (f - Y) / N                               # dC/df for C = 1/(2N) sum ||f - y||^2
        new, U, V, i = list(small), list(U), list(V), len(hidden) - 1
        for l in range(L - 1, -1, -1):
            layer = small[l]
            gb = beta * jnp.sum(delta, axis=0)
            if l in hidden:
                n_in = W0[i].shape[0]
                back = delta @ W0T[i] + (delta @ V[i].T) @ U[i].T if l > 0 else None
                U[i] = jax.lax.dynamic_update_slice(U[i], hs[l].T, (0, s * N))
                V[i] = jax.lax.dynamic_update_slice(V[i], -(lr / math.sqrt(n_in)) * delta, (s * N, 0))
                new[l] = {"b": layer["b"] - lr * gb}
                i -= 1
            else:
                n_in = layer["W"].shape[0]
                back = delta @ layer["W"].T if l > 0 else None
                new[l] = {"W": layer["W"] - lr * (hs[l].T @ delta) / math.sqrt(n_in), "b": layer["b"] - lr * gb}
            if l > 0:
                delta = back / math.sqrt(n_in) * masks[l - 1]
        return (tuple(new), tuple(U), tuple(V)), f

    (small, U, V), outs = jax.lax.scan(step, (small, U, V), jnp.arange(steps))
    return small, U, V, outs


def linearised_outputs(K, f0, Y, lr: float) -> np.ndarray:
    """What the linearised network (its NTK frozen at K) outputs on the inputs of each gradient-descent step.

    Their Section 5 with the kernel fixed, step by step (the note's section 3 ODE, discretised): with batch B_s
    (N inputs) at step s, e_r = f_r(B_r) - y_r and learning rate lr on the cost C of each batch,

        f_s(B_s) = f_0(B_s) - (lr / N) sum_{r < s} K(B_s, B_r) e_r.

    ``K``: the kernel on all the batches' inputs, batch after batch (S N x S N); ``f0``, ``Y``: the initial outputs
    and targets on them, (S, N). Returns f_s(B_s), (S, N). When every batch is the same data set this is
    y + (I - lr K(X, X) / N)^s (f_0 - y) (``dynamics.gd_solution``). Equals training the first-order Taylor model
    (``deepnets.linearize``) by the same steps (tested).
    """
    f0 = _validate.array(f0, "f0", 2)
    S, N = f0.shape
    Y = _validate.array(Y, "Y", 2)
    if Y.shape != (S, N):
        raise ValueError(f"Y must be ({S}, {N}) like f0 (one target per input of each step), got shape {Y.shape}")
    K = _validate.kernel(K, "K")
    if K.shape != (S * N, S * N):
        raise ValueError(f"K must be the {S * N} x {S * N} kernel on the inputs of all {S} steps, got shape {K.shape}")
    lr = _validate.positive(lr, "lr")
    out, err = np.empty((S, N)), np.empty((S, N))
    for s in range(S):
        rows = K[s * N:(s + 1) * N, :s * N]
        out[s] = f0[s] - (lr / N) * (rows @ err[:s].ravel())
        err[s] = out[s] - Y[s]
    return out


# --------------------------------------------------------------------------------------------------
# the limiting Gaussian distribution of the trained network (their Section 5, Fig. 2)


class Gaussian(NamedTuple):
    """Mean (n_x,) and covariance (n_x, n_x) of the network function at the points x."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def percentile(self, q) -> np.ndarray:
        """The q-th percentile (0 < q < 100) of the marginal at each point."""
        q = _validate.real(q, "q")
        if not 0 < q < 100:
            raise ValueError(f"q must be a percentile strictly between 0 and 100, got {q!r}")
        return self.mean + norm.ppf(q / 100.0) * self.std


def limiting_gaussian(ntk_xX, ntk_XX, nngp_xx, nngp_xX, nngp_XX, y, t=None) -> Gaussian:
    """The distribution of the infinite-width network function at the points x after training to time t.

    Their Section 5 with K = Theta_inf (Theorem 2: the NTK stays fixed): on the cost C the function follows
    f_t = f* + e^{-t Pi}(f_0 - f*), linear in the initial function f_0, which is the centred Gaussian process of
    covariance Sigma (the NNGP, their Proposition 1); so f_t is Gaussian. Writing
    A(x) = Theta(x, X) Theta(X, X)^-1 (I - e^{-t Theta(X, X) / N}) (the solution on the data, extended to x by the
    kernel; their formula for f_inf at t = None, i.e. t -> infinity, where A = Theta(x, X) Theta(X, X)^-1):

        f_t(x) = A y + f_0(x) - A f_0(X),
        mean   = A y                      (at t -> infinity: kernel regression with the NTK, their "MAP estimate")
        cov    = Sigma(x, x') - A Sigma(X, x') - Sigma(x, X) A^T + A Sigma(X, X) A^T,

    which vanishes at the data points as t -> infinity. ``ntk_xX``, ``nngp_xX``: (n_x, N); ``ntk_XX``, ``nngp_XX``:
    (N, N); ``nngp_xx``: (n_x, n_x); ``y``: (N,). Equals neural-tangents' ``predict.gradient_descent_mse_ensemble``
    (its time unit is the same, the cost being the mean) and a Monte Carlo over Gaussian initial functions
    integrated by an ODE solver (tested).
    """
    Theta = _validate.kernel(ntk_XX, "ntk_XX")
    Sigma = _validate.kernel(nngp_XX, "nngp_XX")
    N = Theta.shape[0]
    if Sigma.shape != Theta.shape:
        raise ValueError(f"nngp_XX must be {N} x {N} like ntk_XX, got shape {Sigma.shape}")
    y = _validate.vector(y, "y", N)
    Txx = _validate.matrix(ntk_xX, "ntk_xX")
    Sxx_cross = _validate.matrix(nngp_xX, "nngp_xX")
    if Txx.shape[1] != N or Sxx_cross.shape != Txx.shape:
        raise ValueError(f"ntk_xX and nngp_xX must both be (n_x, {N}), got shapes {Txx.shape} and {Sxx_cross.shape}")
    Sxx = _validate.kernel(nngp_xx, "nngp_xx")
    if Sxx.shape != (Txx.shape[0], Txx.shape[0]):
        raise ValueError(f"nngp_xx must be {Txx.shape[0]} x {Txx.shape[0]} (one row per point x), got shape {Sxx.shape}")
    L = _validate.cholesky(Theta, "ntk_XX")
    from scipy.linalg import cho_solve
    if t is None:
        B = np.eye(N)
    else:
        t = _validate.nonnegative(t, "t")
        lam, Q = np.linalg.eigh(Theta)
        B = (Q * -np.expm1(-t * np.clip(lam, 0.0, None) / N)) @ Q.T      # I - exp(-t Theta / N)
    A = Txx @ cho_solve((L, True), B, check_finite=False)                  # Theta(x, X) Theta^-1 (I - e^{-t Theta/N})
    mean = A @ y
    SA = Sxx_cross @ A.T
    cov = Sxx - SA - SA.T + A @ Sigma @ A.T
    return Gaussian(mean, 0.5 * (cov + cov.T))


# --------------------------------------------------------------------------------------------------
# kernel principal components w.r.t. the empirical distribution (their Section 5, Fig. 3)


class KernelPCA(NamedTuple):
    """Eigenvalues ``lam`` (decreasing) of Pi = K / N and the eigenfunctions' values on the data, ``values``
    (N, k): f^(i)(x_j), normalised to ||f^(i)||_{p_in} = 1, i.e. (1/N) sum_j f^(i)(x_j)^2 = 1, each signed so that
    its mean over the data is >= 0."""

    lam: np.ndarray
    values: np.ndarray

    @property
    def N(self) -> int:
        return self.values.shape[0]

    def coefficients(self, r) -> np.ndarray:
        """<r, f^(i)>_{p_in} = (1/N) sum_j r(x_j) f^(i)(x_j) for a function given by its values r on the data:
        (k,) for r of shape (N,), (m, k) for m functions (m, N)."""
        r = _validate._array(r, "r", "fiu").astype(np.float64)
        if r.shape[-1] != self.N or r.ndim not in (1, 2) or not np.all(np.isfinite(r)):
            raise ValueError(f"r must hold finite values on the {self.N} data points, shape ({self.N},) or (m, {self.N}), "
                             f"got shape {r.shape}")
        return r @ self.values / self.N

    def extend(self, K_xX) -> np.ndarray:
        """f^(i)(x) at new points: the eigen-equation Pi f = lambda f read at x,
        f^(i)(x) = (1/(N lambda_i)) sum_j K(x, x_j) f^(i)(x_j); (n_x, k). Exact on the data."""
        K_xX = _validate.matrix(K_xX, "K_xX")
        if K_xX.shape[1] != self.N:
            raise ValueError(f"K_xX must have one column per data point ({self.N}), got shape {K_xX.shape}")
        if np.any(self.lam <= 0):
            raise ValueError("extend needs positive eigenvalues; keep only the components with lam > 0")
        return K_xX @ self.values / (self.N * self.lam)

    def gd_decay(self, lr: float, steps) -> np.ndarray:
        """How the component of the residual f_t - f* along f^(i) shrinks under gradient descent on C with
        learning rate ``lr`` and the kernel frozen (their Section 5; the linearised dynamics):
        (1 - lr lambda_i)^k for each k in ``steps``, shape (len(steps), k); exp(-lambda_i t) at t = lr k as lr -> 0."""
        lr = _validate.positive(lr, "lr")
        k = _validate._array(steps, "steps", "iu")
        if k.ndim != 1 or np.any(k < 0):
            raise ValueError(f"steps must be a 1-D array of non-negative step counts, got {steps!r}")
        return np.power.outer(1.0 - lr * self.lam, k.astype(np.int64)).T


def kernel_pca(K, k: int | None = None) -> KernelPCA:
    """The first ``k`` (default all) non-centred kernel principal components of the data w.r.t. the kernel K
    (their Section 5: the eigenfunctions of Pi(f)(x) = (1/N) sum_i f(x_i) K(x_i, x)), from the eigendecomposition
    of K / N (``spectrum.eigendecomposition``). The paper computed its first three by power iteration (tested to
    agree)."""
    K = _validate.kernel(K, "K")
    N = K.shape[0]
    k = N if k is None else _validate.integer(k, "k", minimum=1, maximum=N)
    spec = eigendecomposition(K / N)
    V = spec.V[:, :k] * np.sqrt(N)
    signs = np.where(V.sum(axis=0) < 0, -1.0, 1.0)
    return KernelPCA(spec.lam[:k].copy(), V * signs)
