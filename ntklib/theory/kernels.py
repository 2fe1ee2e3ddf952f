"""Neural tangent kernels: closed forms at infinite width and the empirical kernel of a finite net.

Slide model (lecture Section 2, "Coupling ultra-wide NNs and NTK"; Du et al. 2019b):
    f(a, W, x) = (1/sqrt(m)) sum_r a_r sigma(w_r . x),   w_r(0) ~ N(0, I),  ||x|| = 1,  only W trained.
Its NTK with respect to W is
    [H(W)]_ij = x_i.x_j * (1/m) sum_r a_r^2 sigma'(w_r.x_i) sigma'(w_r.x_j)           (slide formula)
    H*_ij     = x_i.x_j * E[a^2] * E_{w~N(0,I)}[sigma'(w.x_i) sigma'(w.x_j)]         (m -> infinity)
The slides drop a_r^2, which is exact for a_r ~ Unif{-1, +1} (Du et al.) but not for the slides'
a_r ~ Unif[-1, 1], where E[a^2] = 1/3; ``a_init`` selects which (see ntklib.theory.activations.A_SECOND_MOMENT).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _fast, activations
from .. import _validate
from .activations import A_SECOND_MOMENT


def _cos(X, Z):
    return np.clip(X @ Z.T, -1.0, 1.0)


def ntk_two_layer(X, Z=None, activation: str = "relu", a_init: str = "rademacher", dtype=None) -> np.ndarray:
    """Infinite-width NTK H* of the slide model (first layer trained), between rows of X and Z.

    For unit-norm x, z with c = x.z, (u, v) = (w.x, w.z) is Gaussian with correlation c, and
    - relu: E[1[u>0] 1[v>0]] = (pi - arccos c) / (2 pi)                  (Cho & Saul 2009, arc-cosine kernel)
    - erf:  E[exp(-(u^2+v^2)/2)] = det(I + Sigma)^(-1/2) = (4 - c^2)^(-1/2)  (Gaussian integral)
    so H*(x, z) = E[a^2] * c * E[...]. Inputs must have unit norm, as the slides assume.

    ``dtype``: float64 or float32 arithmetic; by default float32 only if the inputs are float32. Computed
    by ntklib.theory._fast (BLAS Gram matrix + one fused pass; Z=None computes one triangle and mirrors it, so H is
    exactly symmetric); ``_ntk_two_layer_reference`` is the formula above in plain numpy, for the tests.
    """
    X, Z0 = _validate.pair(X, Z, unit_norm=True)
    if not isinstance(a_init, str):
        raise ValueError(f"unknown a_init {a_init!r}; choose one of {sorted(A_SECOND_MOMENT)}")
    a2 = _a_second_moment(a_init)
    activations.get(activation)  # an unknown activation raises the standard error
    if dtype is not None:
        _validate.float_dtype(dtype)
    _validate.memory(_validate.nbytes((len(X), len(Z0)), (len(X), len(Z0))),  # the Gram matrix and the kernel
                     f"an n x n_Z = {len(X)} x {len(Z0)} kernel")
    return _fast.two_layer(X, None if Z is None else Z0, activation, a2, _dtype(dtype, X, Z0))


def _ntk_two_layer_reference(X, Z=None, activation: str = "relu", a_init: str = "rademacher") -> np.ndarray:
    """ntk_two_layer's closed form evaluated literally in numpy (float64 for float64 input)."""
    X, Z = _validate.pair(X, Z, unit_norm=True)
    a2 = _a_second_moment(a_init)
    c = _cos(X, Z)
    if activation == "relu":
        e = (np.pi - np.arccos(c)) / (2 * np.pi)
    elif activation == "erf":
        e = 1.0 / np.sqrt(4.0 - c * c)
    else:
        activations.get(activation)  # raises the standard error
    return a2 * c * e


def _dtype(dtype, *arrays) -> np.dtype:
    """The arithmetic precision: the requested one (float32 or float64), else float32 only if every
    input is float32 (so float64 input gives float64 results, as before)."""
    if dtype is None:
        return np.dtype(np.float32 if all(x.dtype == np.float32 for x in arrays) else np.float64)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _a_second_moment(a_init: str) -> float:
    try:
        return A_SECOND_MOMENT[a_init]
    except KeyError:
        raise ValueError(f"unknown a_init {a_init!r}; choose one of {sorted(A_SECOND_MOMENT)}") from None


@partial(jax.jit, static_argnames="activation")
def _empirical(W, a, X, Z, activation):
    _, dsigma = activations.get(activation)
    Sx = dsigma(X @ W.T) * a          # (n, m): a_r sigma'(w_r . x_i)
    Sz = dsigma(Z @ W.T) * a
    return (X @ Z.T) * (Sx @ Sz.T) / W.shape[0]


def empirical_ntk_two_layer(W, a, X, Z=None, activation: str = "relu", dtype=None) -> np.ndarray:
    """Empirical NTK H(W) of the slide model with respect to W, between rows of X and Z.

    H(W) = (X Z^T) * (S_X S_Z^T) / m with S_ir = a_r sigma'(w_r . x_i) (the slide's formula for
    [H(0)]_ij, valid at any W): two Gram matrices and an elementwise product, O(n^2 (d + m)) time and
    O(n^2 + n m) memory, instead of materialising the (n, m d) Jacobian. ntklib.theory._fast sums S S^T over
    chunks of _fast.WIDTH_CHUNK hidden units in BLAS (memory O(n^2 + n * chunk)); ``dtype`` as in
    ntk_two_layer (by default float32 only if W and X are float32).
    """
    X, Z0 = _validate.pair(X, Z)
    W = _validate.matrix(W, "W")
    a = _validate.vector(a, "a", W.shape[0])
    if W.shape[1] != X.shape[1]:
        raise ValueError(f"W has input dimension {W.shape[1]} but X has {X.shape[1]} features")
    activations.get(activation)
    if dtype is not None:
        _validate.float_dtype(dtype)
    _validate.memory(_validate.nbytes((len(X), len(Z0)), (len(X), len(Z0)), (len(X) + len(Z0), min(W.shape[0], 4096))),
                     f"an n x n_Z = {len(X)} x {len(Z0)} empirical kernel")
    return _fast.empirical_two_layer(W, a, X, None if Z is None else Z0, activation, _dtype(dtype, W, X))


def _empirical_reference(W, a, X, Z=None, activation: str = "relu") -> np.ndarray:
    """The empirical NTK's formula as one jitted JAX expression (the previous implementation)."""
    X, Z = _validate.pair(X, Z)
    dtype = jnp.result_type(W.dtype, X.dtype)
    out = _empirical(jnp.asarray(W, dtype), jnp.asarray(a, dtype), jnp.asarray(X, dtype), jnp.asarray(Z, dtype), activation)
    return np.asarray(out)


def fc_relu_ntk(X, Z=None, depth: int = 1, W_std: float = np.sqrt(2.0), b_std: float = 0.0,
                n_fixed: int = 0, return_nngp: bool = False, dtype=None):
    """NTK (and NNGP) of a fully connected ReLU net at infinite width, NTK parameterisation.

    The architecture is neural-tangents'
        stax.serial(*[Dense(w, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std))
    with every Dense normalised by its fan-in, so this function and nt's ``kernel_fn`` agree to round-off
    (tested). Recursion (Jacot et al. 2018; Arora et al. 2019, Eq. 4-6), for each hidden layer:
        Sigma <- W_std^2 E[relu(u) relu(v)] + b_std^2,   Theta <- W_std^2 Theta E[1[u>0] 1[v>0]] + Sigma,
    with the arc-cosine closed forms for the two Gaussian expectations. ``n_fixed`` bottom Dense layers
    are not trained (their Sigma term is left out of Theta), as in Arora et al. (2020)'s UCI experiments.

    ``dtype`` as in ntk_two_layer. Computed by ntklib.theory._fast: the Gram matrix in BLAS, then every layer in
    one fused pass; for Z=None the diagonal (cos = 1 exactly) is evaluated in float64, which is more
    accurate than the literal recursion ``_fc_relu_ntk_reference`` there (whose float64 round-off in
    cos ~ 1 - 1e-16 becomes ~1e-8 after the arccos).
    """
    X, Z0 = _validate.pair(X, Z)
    n_fixed = _validate.nonnegative_int(n_fixed, "n_fixed")   # 1.5 would silently act as 2
    W_std, b_std = _validate.positive(W_std, "W_std"), _validate.nonnegative(b_std, "b_std")
    return_nngp = _validate.flag(return_nngp, "return_nngp")
    if dtype is not None:
        _validate.float_dtype(dtype)
    _validate.memory(_validate.nbytes(*[(len(X), len(Z0))] * 3), f"an n x n_Z = {len(X)} x {len(Z0)} kernel")
    depth, w2, b2 = _fc_relu_args(depth, n_fixed, W_std, b_std)
    return _fast.fc_relu(X, None if Z is None else Z0, depth, w2, b2, n_fixed, return_nngp, _dtype(dtype, X, Z0))


def fc_relu_ntk_all(X, Z=None, max_depth: int = 4, W_std: float = np.sqrt(2.0), b_std: float = 0.0,
                    dtype=None, keys=None) -> dict:
    """Every fc_relu_ntk up to ``max_depth`` hidden layers at once: {(depth, n_fixed): NTK} for depth =
    0..max_depth and n_fixed = 0..depth, in that order. One recursion gives them all (Arora et al. 2019,
    Eq. 4-6): the kernel of a shallower net is an intermediate layer of the deeper one, and n_fixed only
    decides which layers' Sigma terms are summed into Theta. Entry (depth, n_fixed) equals
    fc_relu_ntk(X, Z, depth, W_std, b_std, n_fixed) for depth >= 1 (tested; n_fixed = depth is the NNGP);
    depth = 0 is the linear kernel W_std^2 x.z / d + b_std^2 (a net whose only layer is the readout).
    These are the 15 kernels of Arora et al. (2020)'s UCI experiments for max_depth = 4 (ntklib.experiments.uci_benchmark).
    ``dtype`` as in ntk_two_layer; memory is that of the (max_depth + 1)(max_depth + 2) / 2 results, or of
    only those listed in ``keys`` (an iterable of (depth, n_fixed); the others are not stored)."""
    X, Z0 = _validate.pair(X, Z)
    max_depth = _validate.nonnegative_int(max_depth, "max_depth")
    W_std, b_std = _validate.positive(W_std, "W_std"), _validate.nonnegative(b_std, "b_std")
    if dtype is not None:
        _validate.float_dtype(dtype)
    _, w2, b2 = _fc_relu_args(max(max_depth, 1), 0, W_std, b_std)
    if keys is not None:
        keys = [tuple(int(v) for v in k) for k in keys]
        bad = [k for k in keys if not (len(k) == 2 and 0 <= k[1] <= k[0] <= max_depth)]
        if bad:
            raise ValueError(f"keys must be (depth, n_fixed) with 0 <= n_fixed <= depth <= {max_depth}, got {bad}")
    n_kernels = (max_depth + 1) * (max_depth + 2) // 2 if keys is None else len(keys)
    _validate.memory(_validate.nbytes(*[(len(X), len(Z0))] * (n_kernels + 2)),   # the results, the Gram matrix, a layer
                     f"{n_kernels} kernels of n x n_Z = {len(X)} x {len(Z0)}")
    return _fast.fc_relu_all(X, None if Z is None else Z0, max_depth, w2, b2, _dtype(dtype, X, Z0), keys)


def _fc_relu_args(depth, n_fixed, W_std, b_std):
    depth = _validate.positive_int(depth, "depth")
    if not 0 <= n_fixed <= depth:
        raise ValueError(f"n_fixed must be in 0..depth={depth}, got {n_fixed}")
    return depth, float(W_std) ** 2, float(b_std) ** 2


def _fc_relu_ntk_reference(X, Z=None, depth: int = 1, W_std: float = np.sqrt(2.0), b_std: float = 0.0,
                           n_fixed: int = 0, return_nngp: bool = False):
    """fc_relu_ntk's recursion evaluated literally in numpy (float64 for float64 input)."""
    X, Z = _validate.pair(X, Z)
    depth, w2, b2 = _fc_relu_args(depth, n_fixed, W_std, b_std)
    d = X.shape[1]
    nngp = w2 * (X @ Z.T) / d + b2
    qx = w2 * np.einsum("ij,ij->i", X, X) / d + b2
    qz = w2 * np.einsum("ij,ij->i", Z, Z) / d + b2
    ntk = nngp.copy() if n_fixed == 0 else np.zeros_like(nngp)
    for layer in range(1, depth + 1):
        norm = np.sqrt(np.outer(qx, qz))
        cos = np.clip(np.divide(nngp, norm, out=np.zeros_like(nngp), where=norm > 0), -1.0, 1.0)
        theta = np.arccos(cos)
        nngp = w2 * norm * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi) + b2
        ntk = w2 * ntk * (np.pi - theta) / (2 * np.pi) + (nngp if layer >= n_fixed else 0.0)
        qx, qz = w2 * qx / 2 + b2, w2 * qz / 2 + b2
    return (ntk, nngp) if return_nngp else ntk
