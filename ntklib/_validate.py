"""Input checks shared by every ntklib module: bad input gets a clear error naming the problem.

Every error names the argument, the value it got and what is expected, and is raised before any heavy
work: TypeError for a value of the wrong kind (a string for a number, a float array for labels),
ValueError for a value of the right kind out of range, MemoryError for a size that cannot fit.
"""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

from . import tolerances as tol


class NotPositiveDefiniteError(ValueError):
    """A kernel matrix that must be inverted is not (numerically) positive definite."""


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (a string for a number, True for a count). A TypeError, and also a
    ValueError because ntklib raised ValueError for these before (callers that catch it keep working)."""


class TrainingDiverged(FloatingPointError):
    """Training produced a non-finite or exploding loss. ``step`` is the first recorded step at which it did,
    ``loss`` the loss there; functions that raise it accept ``on_divergence="return"`` to get the flagged result."""

    def __init__(self, message: str, step=None, loss=None):
        super().__init__(message)
        self.step, self.loss = step, loss


DIVERGENCE_ACTIONS = ("raise", "return")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value) -> str:
    return type(value).__name__


def _unwrap(value):
    """A 0-d numpy or JAX array (e.g. jnp.float32(0.1)) as the scalar it holds; anything else unchanged."""
    if not isinstance(value, (numbers.Number, str, bytes)) and hasattr(value, "__array__") and np.ndim(value) == 0:
        return np.asarray(value)[()]
    return value


def _scalar(value, name: str):
    """A Python/numpy real scalar (or 0-d array of one) as a Python number; TypeError for anything else."""
    value = _unwrap(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise ArgumentTypeError(f"{name} must be a real number, got {_show(value)} of type {_kind(value)}")
    return value


def real(value, name: str) -> float:
    """``value`` as a finite float."""
    value = float(_scalar(value, name))
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def positive(value, name: str) -> float:
    value = float(_scalar(value, name))
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def nonnegative(value, name: str) -> float:
    value = float(_scalar(value, name))
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def momentum(value, name: str = "momentum") -> float:
    """A heavy-ball momentum coefficient, in [0, 1) (at 1 or above the velocity never decays)."""
    value = float(_scalar(value, name))
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int: integers, and floats with a whole value (2.0), are accepted; 1.5, NaN, inf,
    strings and booleans are not (no silent rounding or truncation)."""
    if minimum == 1 and maximum is None:
        expected = "a positive integer"
    elif minimum == 0 and maximum is None:
        expected = "a non-negative integer"
    elif minimum is not None and maximum is not None:
        expected = f"an integer in {minimum}..{maximum}"
    elif minimum is not None:
        expected = f"an integer >= {minimum}"
    else:
        expected = "an integer"
    value = _unwrap(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise ArgumentTypeError(f"{name} must be {expected}, got {_show(value)} of type {_kind(value)}")
    if not isinstance(value, (numbers.Integral, np.integer)):
        if not math.isfinite(value) or value != math.floor(value):
            raise ValueError(f"{name} must be {expected}, got {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def positive_int(value, name: str) -> int:
    return integer(value, name, minimum=1)


def nonnegative_int(value, name: str) -> int:
    return integer(value, name, minimum=0)


# numpy's default_rng takes any non-negative integer; jax.random.PRNGKey needs one that fits 32 bits when
# JAX's x64 mode is off. One range for both, so a seed means the same thing everywhere.
SEED_MAX = 2**32 - 1


def seed(value, name: str = "seed") -> int:
    return integer(value, name, minimum=0, maximum=SEED_MAX)


def flag(value, name: str) -> bool:
    """A boolean switch: True/False (or numpy's), not a truthy string or number."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {_show(value)} of type {_kind(value)}")
    return bool(value)


def directory_arg(value, name: str):
    """A folder argument (str or path-like) as a Path; it need not exist yet (caches create it)."""
    from pathlib import Path
    if isinstance(value, (bool, bytes)) or not isinstance(value, (str, os.PathLike)) or str(value) == "":
        raise ArgumentTypeError(f"{name} must be a folder path (str or pathlib.Path), got {_show(value)}")
    return Path(value)


def choice(value, name: str, options) -> str:
    """One of a fixed set of names."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {_show(value)}")
    return value


def on_divergence(value) -> str:
    return choice(value, "on_divergence", DIVERGENCE_ACTIONS)


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """float32 or float64 (ntklib's two precisions); integer dtypes would truncate weights silently."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {_show(dtype)}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64, got {dt}")
    return dt


def _array(X, name: str, kinds: str = "fiu") -> np.ndarray:
    try:
        A = np.asarray(X)
        if A.dtype.kind == "O":     # e.g. a list mixing numbers and numpy scalars: numeric if it converts
            A = A.astype(np.float64)
    except (ValueError, TypeError) as err:   # ragged nested lists, None entries
        raise (TypeError if "float" in str(err) else ValueError)(
            f"{name} must be a rectangular real numeric array: {err}") from None
    if A.dtype.kind not in kinds:
        raise TypeError(f"{name} must be a real numeric array, got dtype {A.dtype}")
    return A


def _all_finite(X) -> bool:
    """Whether every entry is finite. A NaN or inf makes the sum NaN or inf, so a finite sum proves it without
    the boolean temporary of np.isfinite (8x smaller than X, but a pass of its own); only an overflowing sum
    of finite entries, or a non-finite entry, takes the exact check."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(X.sum()):
            return True
    return bool(np.all(np.isfinite(X)))


def array(X, name: str, ndim: int) -> np.ndarray:
    """A finite, non-empty real array with ``ndim`` dimensions; integers become float64."""
    X = _array(X, name)
    if X.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {X.shape}")
    if X.size == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if not _all_finite(X):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    return X


def matrix(X, name: str = "X", *, unit_norm: bool = False) -> np.ndarray:
    """Return X as a finite 2-D float array (n, d) with n, d >= 1; optionally check unit-norm rows."""
    X = _array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if not _all_finite(X):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
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
    y = _array(y, name, "biuf").astype(np.float64, copy=False)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} has length {y.shape[0]}, expected {n} (one entry per training point)")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or inf")
    return y


def labels(y, name: str = "y", n: int | None = None, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels 0..n_classes-1 as a 1-D int64 array (whole-valued floats accepted: 3.0 is class 3;
    -1, 1.5 or NaN are errors, not silently wrapped or truncated)."""
    y = _array(y, name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels, got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} has length {y.shape[0]}, expected {n} (one label per point)")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.floor(np.where(np.isfinite(y), y, 0)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} must hold integer class labels, but {name}[{i}] = {float(y[i])!r}")
    y = y.astype(np.int64)
    lo, hi = int(y.min()), int(y.max())
    top = f"{n_classes - 1}" if n_classes is not None else "..."
    if lo < 0 or (n_classes is not None and hi >= n_classes):
        i = int(np.flatnonzero((y < 0) | (y >= (n_classes if n_classes is not None else np.inf)))[0])
        raise ValueError(f"{name} must hold class labels in 0..{top}, but {name}[{i}] = {int(y[i])}")
    return y


def kernel(H, name: str = "H") -> np.ndarray:
    """Return H as a finite, square, symmetric float64 matrix."""
    H = matrix(H, name).astype(np.float64, copy=False)
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"{name} must be square, got shape {H.shape}")
    scale = max(float(H.max()), -float(H.min()), np.finfo(float).tiny)
    asym = _max_asymmetry(H)
    if asym > tol.SYMMETRY_RTOL * scale:
        raise ValueError(f"{name} is not symmetric: max |{name} - {name}^T| = {asym:.3g} (max |{name}| = {scale:.3g})")
    return H


def _max_asymmetry(H, tile: int = 256) -> float:
    """max |H - H^T| of a square matrix, compared tile by tile (a tile and its mirror image both fit in cache):
    no (n, n) temporary, and at n = 10,000 about 15x faster than np.abs(H - H.T).max()."""
    n, worst = H.shape[0], 0.0
    for i in range(0, n, tile):
        for j in range(i, n, tile):
            worst = max(worst, float(np.abs(H[i:i + tile, j:j + tile] - H[j:j + tile, i:i + tile].T).max()))
    return worst


def cholesky(H, name: str = "H") -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive definite kernel, or a clear error naming the
    smallest eigenvalue and suggesting a ridge."""
    from scipy.linalg import cholesky as lapack_cholesky
    H = kernel(H, name)
    try:
        # scipy's LAPACK, not numpy's: at n = 10,000 numpy's build took 6.8-7.7 s against 3.6 s (book: Performance)
        L = lapack_cholesky(H, lower=True, check_finite=False)   # finite: checked above
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


def gd_schedule(eta, steps, record_every) -> tuple[float, int, int]:
    """A GD run's step size, step count and recording interval (steps a multiple of record_every)."""
    eta = positive(eta, "eta")
    steps = nonnegative_int(steps, "steps")
    record_every = positive_int(record_every, "record_every")
    if steps % record_every:
        raise ValueError(f"steps={steps} must be a multiple of record_every={record_every}")
    return eta, steps, record_every


def probability(value, name: str, *, open_interval: bool = False) -> float:
    value = float(_scalar(value, name))
    lo_ok = value > 0 if open_interval else value >= 0
    hi_ok = value < 1 if open_interval else value <= 1
    if not (np.isfinite(value) and lo_ok and hi_ok):
        rng = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be a probability in {rng}, got {value!r}")
    return value


# --- memory ---------------------------------------------------------------------------------------------

def physical_memory() -> int:
    """Bytes of physical memory on this machine (os.sysconf); 0 where the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def available_memory() -> int:
    """Bytes of memory currently free (os.sysconf); 0 where the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "bytes" else f"{int(n)} bytes"
        n /= 1024
    return f"{n:.3g} EiB"   # pragma: no cover


def memory(nbytes: int, what: str) -> None:
    """Refuse, before allocating, a computation whose arrays need more than this machine's physical memory
    (an attempt would swap for hours or die in an out-of-memory error deep inside numpy or XLA). Requests
    that fit in physical memory but not in what is free now are left to run: free memory excludes
    reclaimable caches, so refusing them would refuse runs that work."""
    limit = physical_memory()
    if limit and nbytes > limit:
        raise MemoryError(f"{what} would need {_bytes(nbytes)} of memory, more than this machine's "
                          f"{_bytes(limit)} ({_bytes(available_memory())} free now); use smaller inputs")


def nbytes(*shapes, dtype=np.float64) -> int:
    """Bytes of arrays of the given shapes (exact Python integers: no overflow for absurd sizes)."""
    return sum(math.prod(int(s) for s in shape) for shape in shapes) * np.dtype(dtype).itemsize


# --- training -------------------------------------------------------------------------------------------

def first_divergence(losses, reference: float):
    """Index of the first non-finite loss, or of the first loss above DIVERGED_LOSS_FACTOR times
    max(reference, 1) (e.g. the loss at step 0); None if training stayed bounded."""
    losses = np.asarray(losses, dtype=np.float64)
    bound = tol.DIVERGED_LOSS_FACTOR * max(float(reference), 1.0) if math.isfinite(reference) else -np.inf
    bad = ~np.isfinite(losses) | (losses > bound)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def diverged(what: str, step, loss, knob: str) -> TrainingDiverged:
    """The error for a training run whose loss blew up at ``step``."""
    state = "is not finite" if not math.isfinite(loss) else f"exceeds {tol.DIVERGED_LOSS_FACTOR:.0e} x its start"
    return TrainingDiverged(f"{what} diverged: the loss at step {step} is {loss:.4g} ({state}). {knob} "
                            f"(or pass on_divergence='return' to get the flagged result).", step=step, loss=loss)


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
