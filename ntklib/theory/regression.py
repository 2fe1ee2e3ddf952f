"""Kernel regression with the NTK: the predictor a wide net trained by gradient flow converges to
(lecture Section 2, "Equivalence to kernel regression", Eq. (1)).

    f(x, t) = f0(x) + k(x, X) H^-1 (I - exp(-t H)) (y - u0)      (gradient-flow predictor at time t)
    f*(x)   = k(x, X) H^-1 y                                     (t -> infinity, f0 = 0, u0 = 0)
    f_ridge = k(x, X) (H + lambda I)^-1 y                        (kernel ridge; lecture Section 4)
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

from .. import _validate
from .bounds import Cholesky, _labels
from .dynamics import _times
from .linalg import eigh_psd
from .spectrum import Spectrum, _checked


def _factor(L: Cholesky) -> np.ndarray:
    from .bounds import cholesky
    return cholesky(L).L


def _cross(K_xX, n):
    K_xX = _validate.matrix(K_xX, "K_xX")
    if K_xX.shape[1] != n:
        raise ValueError(f"K_xX has {K_xX.shape[1]} columns but the training kernel is {n} x {n}")
    return K_xX


def kernel_regression(K_xX, H, y, ridge: float = 0.0) -> np.ndarray:
    """k(x, X) (H + ridge I)^-1 y (Eq. (1) at t -> infinity; kernel ridge for ridge > 0) via a Cholesky solve;
    a non-PD H is an error that names its smallest eigenvalue. K_xX is the (n_test, n) kernel between test
    and training points. H may also be a precomputed ``bounds.Cholesky`` of H + ridge I (then ``ridge`` must
    be 0: the factor already holds it), so several label vectors share one factorisation; y may be (n, k)."""
    ridge = float(_validate._scalar(ridge, "ridge"))
    if ridge < 0 or not np.isfinite(ridge):
        raise ValueError(f"ridge must be >= 0 and finite, got {ridge!r}")
    if isinstance(H, Cholesky):
        if ridge:
            raise ValueError(f"pass ridge=0 with a Cholesky factor (got ridge={ridge!r}): factor H + ridge*I instead")
        L = _factor(H)
        n = L.shape[0]
    else:
        H = _validate.kernel(H)
        n = H.shape[0]
        L = None
    y = _labels(y, n)
    K_xX = _cross(K_xX, n)
    if L is None:
        L = _validate.cholesky(H + ridge * np.eye(n) if ridge else H, "H + ridge*I" if ridge else "H")
    return K_xX @ cho_solve((L, True), y, check_finite=False)


def gradient_flow_predictor(K_xX, H, y, t, f0_x=None, u0=None) -> np.ndarray:
    """f(x, t) = f0(x) + k(x, X) V diag((1 - e^{-t lam}) / lam) V^T (y - u0) for each t; (len(t), n_test).

    (1 - e^{-t lam}) / lam -> t as lam -> 0, so a singular H is fine at finite t. H is the kernel or a
    precomputed ``spectrum.Spectrum`` of it (the formula does not depend on the eigenvalues' order).
    """
    if isinstance(H, Spectrum):
        H = _checked(H)
        n = H.n
    else:
        H = _validate.kernel(H)
        n = H.shape[0]
    y = _validate.vector(y, "y", n)
    u0 = np.zeros(n) if u0 is None else _validate.vector(u0, "u0", n)
    K_xX = _cross(K_xX, n)
    f0 = np.zeros(K_xX.shape[0]) if f0_x is None else _validate.vector(f0_x, "f0_x", K_xX.shape[0])
    t = _times(t, "t", max(n, K_xX.shape[0]))
    lam, V = (np.asarray(H.lam, dtype=np.float64), np.asarray(H.V, dtype=np.float64)) if isinstance(H, Spectrum) \
        else eigh_psd(H)
    tl = np.outer(t, lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(tl > 1e-12, -np.expm1(-tl) / np.where(lam > 0, lam, 1.0), t[:, None] * np.ones_like(lam))
    coef = g * (V.T @ (y - u0))            # (len(t), n) in the eigenbasis
    return f0 + coef @ (K_xX @ V).T
