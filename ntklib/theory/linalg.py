"""Linear algebra shared by the theory modules: one PSD eigendecomposition, used by every quantity that
needs the spectrum of a kernel matrix (the dynamics of Lemma 1, Theorem 4's projections, kernel ridge
regression along gradient flow)."""
from __future__ import annotations

import numpy as np

from .. import _validate
from .. import tolerances as tol


def eigh_psd(H, name: str = "H") -> tuple[np.ndarray, np.ndarray]:
    """(lam, V) with H = V diag(lam) V^T, lam ascending, for a symmetric positive semidefinite H.

    Round-off negatives down to -PSD_RTOL * max(|lam_max|, 1) are clipped to 0; a more negative eigenvalue means
    H is not a kernel matrix and raises NotPositiveDefiniteError (every dynamics built on it would diverge)."""
    H = _validate.kernel(H, name)
    lam, V = np.linalg.eigh(H)
    if lam[0] < -tol.PSD_RTOL * max(abs(lam[-1]), 1.0):
        raise _validate.NotPositiveDefiniteError(
            f"{name} is not positive semidefinite: smallest eigenvalue {lam[0]:.3g}; the dynamics would diverge")
    return np.clip(lam, 0.0, None), V
