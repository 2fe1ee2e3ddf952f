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

from .. import _validate
from .dynamics import _gd_divergence, _steps, _times
from .linalg import eigh_psd


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
        return _checked(H)
    dtype = _validate.float_dtype(dtype)
    if dtype == np.float64:
        lam, V = eigh_psd(H)
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


def _checked(spec: Spectrum, name: str = "H") -> Spectrum:
    """A Spectrum built by hand: lam finite, >= 0 and 1-D; V square with one column per eigenvalue."""
    lam, V = np.asarray(spec.lam), np.asarray(spec.V)
    if lam.ndim != 1 or lam.size == 0 or lam.dtype.kind not in "fiu":
        raise ValueError(f"{name}: Spectrum.lam must be a non-empty 1-D real array, got shape {lam.shape}, "
                         f"dtype {lam.dtype}")
    if V.shape != (lam.size, lam.size) or V.dtype.kind not in "fiu":
        raise ValueError(f"{name}: Spectrum.V must be {lam.size} x {lam.size} (one eigenvector column per eigenvalue), "
                         f"got shape {V.shape}, dtype {V.dtype}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"{name}: Spectrum.lam must hold finite eigenvalues >= 0 of a PSD kernel, got "
                         f"{_validate._show(lam.tolist())}")
    return spec


def _kernel(H, name: str = "H"):
    """Cheap checks of H (a kernel matrix or a Spectrum) before any decomposition; returns (H, n)."""
    if isinstance(H, Spectrum):
        return _checked(H, name), H.n
    H = _validate.kernel(H, name)
    return H, H.shape[0]


def _residual(spec: Spectrum, y, u0):
    r = _validate.vector(y, "y", spec.n)
    return r if u0 is None else r - _validate.vector(u0, "u0", spec.n)


def projections(H, y, u0=None) -> np.ndarray:
    """(v_i . (y - u0))^2 for i = 1..n in decreasing-eigenvalue order; they sum to ||y - u0||^2 (the
    terms of Theorem 4). ``H`` is the kernel or its :class:`Spectrum`."""
    H, n = _kernel(H)
    _validate.vector(y, "y", n)
    if u0 is not None:
        _validate.vector(u0, "u0", n)
    spec = eigendecomposition(H)
    return (spec.V.T @ _residual(spec, y, u0)) ** 2


def predicted_loss_flow(H, y, t, u0=None) -> np.ndarray:
    """Theorem 4's ||u(t) - y||^2 = sum_i exp(-2 lambda_i t) (v_i . (y - u0))^2, for each t.
    ``H`` is the kernel or its :class:`Spectrum`."""
    H, n = _kernel(H)
    _validate.vector(y, "y", n)
    if u0 is not None:
        _validate.vector(u0, "u0", n)
    t = _times(t, "t", n)
    spec = eigendecomposition(H)
    return np.exp(-2.0 * np.outer(t, spec.lam)) @ projections(spec, y, u0)


def predicted_loss_gd(H, y, eta: float, steps, u0=None, *, on_divergence: str = "raise") -> np.ndarray:
    """The GD analogue sum_i (1 - eta lambda_i)^(2k) (v_i . (y - u0))^2, for each k in steps (non-negative
    integers). ``H`` is the kernel or its :class:`Spectrum`. For eta > 2/lambda_max the loss grows without
    bound: past DIVERGED_LOSS_FACTOR x max(its start, 1) that raises
    :class:`~ntklib._validate.TrainingDiverged` naming eta and the limit, unless ``on_divergence="return"``."""
    H, n = _kernel(H)
    _validate.vector(y, "y", n)
    if u0 is not None:
        _validate.vector(u0, "u0", n)
    eta = _validate.positive(eta, "eta")
    k = _steps(steps, "steps", n)
    on_divergence = _validate.on_divergence(on_divergence)
    spec = eigendecomposition(H)
    p = projections(spec, y, u0)
    _gd_divergence(spec.lam, p, eta, k, on_divergence, "GD (Theorem 4's predicted loss)")
    with np.errstate(over="ignore", invalid="ignore"):
        return np.power.outer(1.0 - eta * spec.lam, 2 * k).T @ p


def rkhs_norm_sq(H, y) -> float:
    """y^T H^-1 y = sum_i (v_i . y)^2 / lambda_i from the eigendecomposition (Arora et al. 2019a, the
    complexity measure of the generalization bound). Needs a float64 :class:`Spectrum` of a positive
    definite H; ``bounds.rkhs_norm_sq`` (Cholesky) is the cheaper route when no spectrum is at hand."""
    H, n = _kernel(H)
    _validate.vector(y, "y", n)
    spec = eigendecomposition(H)
    if spec.lam[-1] <= 0:
        raise _validate.NotPositiveDefiniteError(
            f"H is singular (smallest eigenvalue {spec.lam[-1]:.3g}); y^T H^-1 y is undefined")
    return float(projections(spec, y).dot(1.0 / spec.lam))
