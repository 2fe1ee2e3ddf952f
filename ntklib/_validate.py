"""Input checks shared by every ntklib module: bad input gets a clear error naming the problem."""
from __future__ import annotations

import numpy as np

from . import tolerances as tol


class NotPositiveDefiniteError(ValueError):
    """A kernel matrix that must be inverted is not (numerically) positive definite."""


def matrix(X, name: str = "X", *, unit_norm: bool = False) -> np.ndarray:
    """Return X as a finite 2-D float array (n, d) with n, d >= 1; optionally check unit-norm rows."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(bad)})")
    if unit_norm:
        norms = np.linalg.norm(X, axis=1)
        worst = int(np.argmax(np.abs(norms - 1.0)))
        if abs(norms[worst] - 1.0) > tol.UNIT_NORM_ATOL:
            raise ValueError(
                f"{name}: the slide model assumes unit-norm inputs (||x|| = 1), but row {worst} has norm "
                f"{norms[worst]:.6g}. Normalise first with ntklib.unit_norm({name})."
            )
    return X


def pair(X, Z, *, unit_norm: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (train, test) pair of input matrices with matching feature dimension."""
    X = matrix(X, "X", unit_norm=unit_norm)
    Z = X if Z is None else matrix(Z, "Z", unit_norm=unit_norm)
    if Z.shape[1] != X.shape[1]:
        raise ValueError(f"X and Z have different feature dimensions: {X.shape[1]} vs {Z.shape[1]}")
    return X, Z


def vector(y, name: str = "y", n: int | None = None) -> np.ndarray:
    """Return y as a finite 1-D float64 array, of length n if given."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} has length {y.shape[0]}, expected {n} (one entry per training point)")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or inf")
    return y


def kernel(H, name: str = "H") -> np.ndarray:
    """Return H as a finite, square, symmetric float64 matrix."""
    H = matrix(H, name).astype(np.float64, copy=False)
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"{name} must be square, got shape {H.shape}")
    scale = max(np.abs(H).max(), np.finfo(float).tiny)
    asym = np.abs(H - H.T).max()
    if asym > tol.SYMMETRY_RTOL * scale:
        raise ValueError(f"{name} is not symmetric: max |{name} - {name}^T| = {asym:.3g} (max |{name}| = {scale:.3g})")
    return H


def cholesky(H, name: str = "H") -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive definite kernel, or a clear error naming the
    smallest eigenvalue and suggesting a ridge."""
    H = kernel(H, name)
    try:
        L = np.linalg.cholesky(H)
        pivots = np.diag(L) ** 2
        # Cholesky of an exactly singular matrix (e.g. a duplicated input) can succeed on round-off and
        # then solve to garbage; a pivot this small relative to the largest means numerically singular.
        if pivots.min() > tol.CHOLESKY_PIVOT_RTOL * pivots.max():
            return L
    except np.linalg.LinAlgError:
        pass
    eig = np.linalg.eigvalsh(H)
    raise NotPositiveDefiniteError(
        f"{name} is not (numerically) positive definite: smallest eigenvalue {eig[0]:.3g}, largest {eig[-1]:.3g}. "
        f"Add a ridge (e.g. ridge={max(1e-10, -2 * eig[0], 1e-8 * eig[-1]):.1e}) or remove duplicate inputs.")


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive(value, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def gd_schedule(eta, steps, record_every) -> tuple[float, int, int]:
    """A GD run's step size, step count and recording interval (steps a multiple of record_every)."""
    eta = positive(eta, "eta")
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    record_every = positive_int(record_every, "record_every")
    if steps % record_every:
        raise ValueError(f"steps={steps} must be a multiple of record_every={record_every}")
    return eta, steps, record_every


def probability(value, name: str, *, open_interval: bool = False) -> float:
    value = float(value)
    lo_ok = value > 0 if open_interval else value >= 0
    hi_ok = value < 1 if open_interval else value <= 1
    if not (np.isfinite(value) and lo_ok and hi_ok):
        rng = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be a probability in {rng}, got {value!r}")
    return value


def unit_norm(X) -> np.ndarray:
    """Scale each row of X to unit Euclidean norm (the slide model's ||x|| = 1); a zero row is an error."""
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[0] == 0 and X.shape[1] > 0:   # no rows: nothing to scale
        return X.astype(np.float64)
    X = matrix(X, "X").astype(np.float64, copy=False)
    scale = np.abs(X).max(axis=1, keepdims=True)   # divide by the largest entry first: no under/overflow
    if np.any(scale == 0):
        raise ValueError(f"X: row {int(np.argmin(scale))} is all zeros; it cannot be scaled to unit norm")
    X = X / scale
    return X / np.linalg.norm(X, axis=1, keepdims=True)
