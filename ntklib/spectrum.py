"""Theorem 4 (informal; Arora et al. 2019a): the training loss along the eigenvectors of H*.

With H* = sum_i lambda_i v_i v_i^T (lambda_1 >= ... >= lambda_n) and u(t) following du/dt = -H*(u - y),
each component v_i.(u(t) - y) decays like exp(-lambda_i t), so the squared training error is

    ||u(t) - y||^2 = sum_i exp(-2 lambda_i t) (v_i . (y - u(0)))^2      (gradient flow)
    ||u_k  - y||^2 = sum_i (1 - eta lambda_i)^(2k) (v_i . (y - u(0)))^2  (GD with step eta)

The slides state it with u(0) = 0, i.e. projections (v_i . y)^2; a non-zero start u0 replaces y by y - u0.
Note the slides' "training loss" here is sum_i (f(x_i) - y_i)^2, twice the 1/2-scaled loss that is trained.

One eigendecomposition serves every quantity: ``eigendecomposition(H)`` returns a :class:`Spectrum`, and
every function here accepts either the kernel matrix H (decomposed on the spot) or that Spectrum, so at
n = 10,000 the O(n^3) decomposition is done once and each projection, loss curve or RKHS norm costs one
O(n^2) product V^T y.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from . import _validate
from .dynamics import _eigh_psd


class Spectrum(NamedTuple):
    """Eigenvalues of a PSD kernel in decreasing order (clipped at 0 for round-off) and the matching
    eigenvectors as columns: H = V diag(lam) V^T. Unpacks as ``lam, V = spectrum.eigendecomposition(H)``."""
    lam: np.ndarray
    V: np.ndarray

    @property
    def n(self) -> int:
        return len(self.lam)


def eigendecomposition(H, dtype=np.float64) -> Spectrum:
    """Eigenvalues in decreasing order (clipped at 0 for round-off) and the matching eigenvectors (columns).

    ``dtype=np.float32`` runs LAPACK's single-precision divide-and-conquer solver (ssyevd; measured 3x faster
    than float64 at n = 3000 on this project's 2-core machine, and half the memory: at n = 10,000 400 MB
    instead of 800 MB per matrix). Its eigenvalues are accurate to about
    1e-6 * lambda_max in absolute terms, enough for the projections and loss curves of Theorem 4 but not
    for y^T H^-1 y, which weights the smallest eigenvalues most (use ``bounds.rkhs_norm_sq``, float64
    Cholesky, for that). The result is returned in float64 either way.
    """
    if isinstance(H, Spectrum):
        return H
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if dtype == np.float64:
        lam, V = _eigh_psd(H)
    else:
        H = _validate.kernel(H)
        # LAPACK ssyevd (divide and conquer), on a float32 copy it may overwrite
        lam, V = scipy.linalg.eigh(H.astype(np.float32), driver="evd", overwrite_a=True, check_finite=False)
        lam = lam.astype(np.float64)
        # float32 round-off puts eigenvalues of size ~eps32 * lambda_max on either side of 0
        if lam[0] < -1e-5 * max(abs(lam[-1]), 1.0):
            raise _validate.NotPositiveDefiniteError(
                f"H is not positive semidefinite: smallest eigenvalue {lam[0]:.3g} (float32 solver)")
        lam = np.clip(lam, 0.0, None)
        V = V.astype(np.float64)
    return Spectrum(np.ascontiguousarray(lam[::-1]), np.ascontiguousarray(V[:, ::-1]))


def _residual(spec: Spectrum, y, u0):
    r = _validate.vector(y, "y", spec.n)
    return r if u0 is None else r - _validate.vector(u0, "u0", spec.n)


def projections(H, y, u0=None) -> np.ndarray:
    """(v_i . (y - u0))^2 for i = 1..n in decreasing-eigenvalue order; they sum to ||y - u0||^2 (the
    terms of Theorem 4). ``H`` is the kernel or its :class:`Spectrum`."""
    spec = eigendecomposition(H)
    return (spec.V.T @ _residual(spec, y, u0)) ** 2


def predicted_loss_flow(H, y, t, u0=None) -> np.ndarray:
    """Theorem 4's ||u(t) - y||^2 = sum_i exp(-2 lambda_i t) (v_i . (y - u0))^2, for each t.
    ``H`` is the kernel or its :class:`Spectrum`."""
    spec = eigendecomposition(H)
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if np.any(t < 0):
        raise ValueError("times t must be >= 0")
    return np.exp(-2.0 * np.outer(t, spec.lam)) @ projections(spec, y, u0)


def predicted_loss_gd(H, y, eta: float, steps, u0=None) -> np.ndarray:
    """The GD analogue sum_i (1 - eta lambda_i)^(2k) (v_i . (y - u0))^2, for each k in steps.
    ``H`` is the kernel or its :class:`Spectrum`."""
    spec = eigendecomposition(H)
    eta = _validate.positive(eta, "eta")
    k = np.atleast_1d(np.asarray(steps))
    if np.any(k < 0):
        raise ValueError("steps must be >= 0")
    return np.power.outer(1.0 - eta * spec.lam, 2 * k).T @ projections(spec, y, u0)


def rkhs_norm_sq(H, y) -> float:
    """y^T H^-1 y = sum_i (v_i . y)^2 / lambda_i from the eigendecomposition (Arora et al. 2019a, the
    complexity measure of the generalization bound). Needs a float64 :class:`Spectrum` of a positive
    definite H; ``bounds.rkhs_norm_sq`` (Cholesky) is the cheaper route when no spectrum is at hand."""
    spec = eigendecomposition(H)
    if spec.lam[-1] <= 0:
        raise _validate.NotPositiveDefiniteError(
            f"H is singular (smallest eigenvalue {spec.lam[-1]:.3g}); y^T H^-1 y is undefined")
    return float(projections(spec, y).dot(1.0 / spec.lam))
