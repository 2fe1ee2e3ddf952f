"""Neural tangent kernels: closed forms at infinite width and the empirical kernel of a finite net.

Slide model (lecture Section 2, "Coupling ultra-wide NNs and NTK"; Du et al. 2019b):
    f(a, W, x) = (1/sqrt(m)) sum_r a_r sigma(w_r . x),   w_r(0) ~ N(0, I),  ||x|| = 1,  only W trained.
Its NTK with respect to W is
    [H(W)]_ij = x_i.x_j * (1/m) sum_r a_r^2 sigma'(w_r.x_i) sigma'(w_r.x_j)           (slide formula)
    H*_ij     = x_i.x_j * E[a^2] * E_{w~N(0,I)}[sigma'(w.x_i) sigma'(w.x_j)]         (m -> infinity)
The slides drop a_r^2, which is exact for a_r ~ Unif{-1, +1} (Du et al.) but not for the slides'
a_r ~ Unif[-1, 1], where E[a^2] = 1/3; ``a_init`` selects which (see ntklib.networks.A_SECOND_MOMENT).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate, activations
from .networks import A_SECOND_MOMENT


def _cos(X, Z):
    return np.clip(X @ Z.T, -1.0, 1.0)


def ntk_two_layer(X, Z=None, activation: str = "relu", a_init: str = "rademacher") -> np.ndarray:
    """Infinite-width NTK H* of the slide model (first layer trained), between rows of X and Z.

    For unit-norm x, z with c = x.z, (u, v) = (w.x, w.z) is Gaussian with correlation c, and
    - relu: E[1[u>0] 1[v>0]] = (pi - arccos c) / (2 pi)                  (Cho & Saul 2009, arc-cosine kernel)
    - erf:  E[exp(-(u^2+v^2)/2)] = det(I + Sigma)^(-1/2) = (4 - c^2)^(-1/2)  (Gaussian integral)
    so H*(x, z) = E[a^2] * c * E[...]. Inputs must have unit norm, as the slides assume.
    """
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


def empirical_ntk_two_layer(W, a, X, Z=None, activation: str = "relu") -> np.ndarray:
    """Empirical NTK H(W) of the slide model with respect to W, between rows of X and Z.

    H(W) = (X Z^T) * (S_X S_Z^T) / m with S_ir = a_r sigma'(w_r . x_i) (the slide's formula for
    [H(0)]_ij, valid at any W): two Gram matrices and an elementwise product, O(n^2 (d + m)) time and
    O(n^2 + n m) memory, instead of materialising the (n, m d) Jacobian.
    """
    X, Z = _validate.pair(X, Z)
    W = _validate.matrix(W, "W")
    a = _validate.vector(a, "a", W.shape[0])
    if W.shape[1] != X.shape[1]:
        raise ValueError(f"W has input dimension {W.shape[1]} but X has {X.shape[1]} features")
    dtype = jnp.result_type(W.dtype, X.dtype)
    out = _empirical(jnp.asarray(W, dtype), jnp.asarray(a, dtype), jnp.asarray(X, dtype), jnp.asarray(Z, dtype), activation)
    return np.asarray(out)


def fc_relu_ntk(X, Z=None, depth: int = 1, W_std: float = np.sqrt(2.0), b_std: float = 0.0,
                n_fixed: int = 0, return_nngp: bool = False):
    """NTK (and NNGP) of a fully connected ReLU net at infinite width, NTK parameterisation.

    The architecture is neural-tangents'
        stax.serial(*[Dense(w, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std))
    with every Dense normalised by its fan-in, so this function and nt's ``kernel_fn`` agree to round-off
    (tested). Recursion (Jacot et al. 2018; Arora et al. 2019, Eq. 4-6), for each hidden layer:
        Sigma <- W_std^2 E[relu(u) relu(v)] + b_std^2,   Theta <- W_std^2 Theta E[1[u>0] 1[v>0]] + Sigma,
    with the arc-cosine closed forms for the two Gaussian expectations. ``n_fixed`` bottom Dense layers
    are not trained (their Sigma term is left out of Theta), as in Arora et al. (2020)'s UCI experiments.
    """
    X, Z = _validate.pair(X, Z)
    depth = _validate.positive_int(depth, "depth")
    if not 0 <= n_fixed <= depth:
        raise ValueError(f"n_fixed must be in 0..depth={depth}, got {n_fixed}")
    w2, b2 = float(W_std) ** 2, float(b_std) ** 2
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
