"""Width requirements and deviation bounds of Lemmas 2 and 3 (lecture Section 2), with the constants
their proofs on the slides actually give.

Lemma 2 (Du et al. 2019b): each entry of H(0) is a mean of m i.i.d. terms in [-1, 1], so Hoeffding
gives |H(0)_ij - H*_ij| <= sqrt(2 log(2 n^2 / delta) / m) for all (i, j) at once with probability
1 - delta (union bound over n^2 entries), and ||H(0) - H*||_2 <= ||.||_F <= n * that.
Note: the slide's proof says "<= eps/n^2" per entry but then uses eps/n; eps/n is what makes the
Frobenius norm <= eps, and is what is implemented here.

Lemma 3: ||w_r(t) - w_r(0)|| <= (1/sqrt m) int_0^t ||u(s) - y||_1 ds = O(t n / sqrt m); with
|sigma''| <= 1 each entry of H moves by at most 2 max_r ||w_r(t) - w_r(0)||, so
||H(t) - H(0)||_2 <= 2 n max_r ||dw_r||, which is <= eps once m >= 4 C^2 t^2 n^4 / eps^2. The slide
states m = Omega(n^6 t^2 / eps^2); its own proof gives n^4 (n^6 is a valid but looser requirement).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular

from .. import _validate


def _reals(x, name: str, *, what: str, positive: bool = False, integer: bool = False):
    """A finite real scalar or array, each entry >= 0 (> 0 if ``positive``; whole if ``integer``); returned as a
    float64 array of the same shape (0-d for a scalar)."""
    if x is None:
        raise _validate.ArgumentTypeError(f"{name} must be {what}, got None")
    A = _validate._array(x, name, "fiu")
    if A.size == 0:
        raise ValueError(f"{name} is empty: shape {A.shape}")
    A = A.astype(np.float64, copy=False)
    fin = np.isfinite(A)
    bad = ~fin | ((A <= 0) if positive else (A < 0))
    if integer:
        bad |= A != np.floor(np.where(fin, A, 0))
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        where = f"{name}[{', '.join(map(str, i))}] = " if A.ndim else f"{name} = "
        raise ValueError(f"{name} must be {what}, got {where}{A[i].item()!r}")
    return A


def _width(m, name: str = "m"):
    return _reals(m, name, what="a positive integer width (or an array of them)", positive=True, integer=True)


def hoeffding_entry_deviation(m, n: int, delta: float):
    """Entrywise deviation sqrt(2 log(2 n^2 / delta) / m) that holds for all n^2 entries w.p. 1 - delta."""
    n = _validate.positive_int(n, "n")
    delta = _validate.probability(delta, "delta", open_interval=True)
    m = _width(m)
    return np.sqrt(2.0 * math.log(2.0 * n * n / delta) / m)


def hoeffding_spectral_deviation(m, n: int, delta: float):
    """Lemma 2's bound on ||H(0) - H*||_2 at width m: n times the entrywise deviation (via Frobenius)."""
    return n * hoeffding_entry_deviation(m, n, delta)


def lemma2_width(eps: float, delta: float, n: int) -> int:
    """Smallest m for which Lemma 2's proof guarantees ||H(0) - H*||_2 <= eps w.p. 1 - delta:
    m >= 2 n^2 log(2 n^2 / delta) / eps^2."""
    eps = _validate.positive(eps, "eps")
    n = _validate.positive_int(n, "n")
    delta = _validate.probability(delta, "delta", open_interval=True)
    return math.ceil(2.0 * n * n * math.log(2.0 * n * n / delta) / eps**2)


def lemma3_movement(t, residual_l1, m: int):
    """A-posteriori form of Lemma 3's first step: (1/sqrt m) int_0^t ||u(s) - y||_1 ds, integrated
    with the trapezoidal rule from a recorded trajectory (times t, residual l1 norms at those times).
    It bounds max_r ||w_r(t) - w_r(0)|| when |a_r| <= 1, ||x_i|| = 1 and |sigma'| <= 1 (ReLU included)."""
    m = _validate.positive_int(m, "m")
    t = _validate._array(t, "t", "fiu").astype(np.float64, copy=False)
    r = _validate._array(residual_l1, "residual_l1", "fiu").astype(np.float64, copy=False)
    if t.shape != r.shape or t.ndim != 1 or t.size == 0:
        raise ValueError(f"t and residual_l1 must be 1-D of equal, non-zero length, got {t.shape} and {r.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError(f"times t must be finite, >= 0 and increasing, got {_validate._show(t.tolist())}")
    _reals(r, "residual_l1", what="finite l1 norms >= 0")
    steps = np.concatenate([[0.0], np.cumsum(np.diff(t) * (r[1:] + r[:-1]) / 2)])
    return steps / math.sqrt(m)


def lemma3_movement_bound(t: float, n: int, m, c: float = 1.0):
    """The O(t n / sqrt m) bound on max_r ||w_r(t) - w_r(0)|| when |u_i - y_i| <= c on [0, t]."""
    t = _validate.nonnegative(t, "t")
    n = _validate.positive_int(n, "n")
    m = _width(m)
    c = _validate.positive(c, "c")
    return c * t * n / np.sqrt(m)


def lemma3_kernel_change_bound(max_move, n: int):
    """||H(t) - H(0)||_2 <= 2 n max_r ||w_r(t) - w_r(0)|| for a smooth activation with |sigma''| <= 1."""
    n = _validate.positive_int(n, "n")
    max_move = _reals(max_move, "max_move", what="a finite weight movement >= 0 (or an array of them)")
    return 2.0 * n * max_move


def lemma3_width(eps: float, t: float, n: int, c: float = 1.0, slide_exponent: bool = False) -> int:
    """Width that makes ||H(t) - H(0)||_2 <= eps: 4 c^2 t^2 n^4 / eps^2 from the proof, or the slide's
    n^6 t^2 / eps^2 when ``slide_exponent`` (constants set to 1 there, since the slide gives none)."""
    eps = _validate.positive(eps, "eps")
    t = _validate.nonnegative(t, "t")
    n = _validate.positive_int(n, "n")
    c = _validate.positive(c, "c")
    slide_exponent = _validate.flag(slide_exponent, "slide_exponent")
    try:
        width = n**6 * t**2 / eps**2 if slide_exponent else 4.0 * c * c * t * t * n**4 / eps**2
    except (OverflowError, ZeroDivisionError):
        width = math.inf
    if not math.isfinite(width):
        raise ValueError(f"lemma3_width: the width for eps={eps!r}, t={t!r}, n={n}, c={c!r} exceeds the float range "
                         f"(1e308); use a smaller t or n, or a larger eps")
    return math.ceil(width)


# --- Generalization (lecture Section 3, "Understanding generalization"; Arora et al. 2019a) ----------

class Cholesky(NamedTuple):
    """Lower Cholesky factor L of a positive definite kernel, H = L L^T (float64). Every bound below
    accepts it in place of H, so one O(n^3 / 3) factorisation serves all label vectors; each further
    y^T H^-1 y is one O(n^2) triangular solve."""
    L: np.ndarray

    @property
    def n(self) -> int:
        return self.L.shape[0]

    def leading(self, n: int) -> "Cholesky":
        """The factor of the leading n x n block H[:n, :n]: the block L[:n, :n] (no refactorisation)."""
        n = _validate.positive_int(n, "n")
        if n > self.n:
            raise ValueError(f"n = {n} exceeds the factor's size {self.n}")
        return Cholesky(self.L[:n, :n])


def cholesky(H, name: str = "H") -> Cholesky:
    """Factor H = L L^T once (float64; a non-PD H is an error naming its smallest eigenvalue)."""
    if isinstance(H, Cholesky):
        L = np.asarray(H.L)
        if L.ndim != 2 or L.shape[0] != L.shape[1] or L.size == 0 or L.dtype.kind != "f":
            raise ValueError(f"{name}: Cholesky.L must be a non-empty square float matrix, got shape {L.shape}, "
                             f"dtype {L.dtype}")
        d = np.diagonal(L)
        if not np.all(np.isfinite(d) & (d > 0)):
            i = int(np.flatnonzero(~(np.isfinite(d) & (d > 0)))[0])
            raise ValueError(f"{name}: Cholesky.L must have a finite positive diagonal (the factor of a positive "
                             f"definite kernel), got L[{i}, {i}] = {float(d[i])!r}")
        return H
    return Cholesky(_validate.cholesky(H, name))


def _labels(y, n: int) -> np.ndarray:
    """A label vector (n,) or a matrix (n, k) of k label vectors, finite (also regression's targets)."""
    y = _validate._array(y, "y", "biuf")
    if y.ndim == 2:
        if y.shape[0] != n or y.shape[1] == 0:
            raise ValueError(f"y has shape {y.shape}, expected ({n},) or ({n}, k) (one row per training point)")
        y = y.astype(np.float64, copy=False)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        return y
    return _validate.vector(y, "y", n)


def _whiten(H, y) -> np.ndarray:
    """z = L^-1 y by forward substitution (O(n^2) per column): y^T H^-1 y = ||z||^2."""
    L = cholesky(H).L
    return solve_triangular(L, _labels(y, L.shape[0]), lower=True, check_finite=False)


def rkhs_norm_sq(H, y):
    """y^T H^-1 y, the squared RKHS norm of the kernel interpolant f_ker = k(., X) H^-1 y (lecture Section 3,
    "Understanding generalization"; Arora et al. 2019a, Sec. 5), as ||L^-1 y||^2 with H = L L^T: one
    triangular solve, no inverse. H is the kernel (must be PD) or its :class:`Cholesky`; y is a label vector
    (returns a float) or an (n, k) matrix of k label vectors (returns k values)."""
    z = _whiten(H, y)
    out = np.einsum("i...,i...->...", z, z)
    return float(out) if out.ndim == 0 else out


def rkhs_norm_sq_prefixes(H, y, ns) -> np.ndarray:
    """y[:n]^T H[:n, :n]^-1 y[:n] for every n in ``ns``, from one factorisation of the full H.

    The Cholesky factor of a leading principal submatrix is the leading block of the full factor,
    L[:n, :n], and forward substitution never looks ahead, so z[:n] = L[:n, :n]^-1 y[:n] and the value at
    n is sum_{i < n} z_i^2. With nested training sets (the first n points of a larger draw) this gives the
    bound for every sample size at the cost of one. Returns (len(ns),) or (len(ns), k) for (n, k) labels."""
    ns = _sizes(ns, cholesky(H).n)
    z = _whiten(H, y)
    return np.cumsum(z * z, axis=0)[ns - 1]


def _sizes(ns, n: int) -> np.ndarray:
    A = _validate._array(ns, "ns", "fiu")
    if A.ndim != 1 or A.size == 0:
        raise ValueError(f"ns must be a non-empty 1-D array of sample sizes in 1..{n}, got shape {A.shape}")
    fin = np.isfinite(A)
    bad = ~fin | (A < 1) | (A > n) | (A != np.floor(np.where(fin, A, 0)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"ns must be sample sizes in 1..{n}, got ns[{i}] = {A[i].item()!r}")
    return A.astype(int)


def generalization_bound(H, y):
    """The a-priori bound on the classification error of f_ker for labels +-1 (lecture Section 3; Arora et
    al. 2019a, Thm 5.1 with the slide's constants): sqrt(2 y^T H^-1 y / n). H is the kernel or its
    :class:`Cholesky`; an (n, k) y gives k bounds."""
    q = rkhs_norm_sq(H, y)
    n = np.shape(y)[0]
    return math.sqrt(2.0 * q / n) if isinstance(q, float) else np.sqrt(2.0 * q / n)


def generalization_bound_prefixes(H, y, ns) -> np.ndarray:
    """sqrt(2 y[:n]^T H[:n, :n]^-1 y[:n] / n) for every n in ``ns`` (see :func:`rkhs_norm_sq_prefixes`)."""
    q = rkhs_norm_sq_prefixes(H, y, ns)
    ns_arr = np.asarray(ns, dtype=np.float64)
    return np.sqrt(2.0 * q / (ns_arr[:, None] if q.ndim == 2 else ns_arr))


def power_law_exponent(ns, values) -> tuple[float, float]:
    """Least-squares fit of log(values) = log(c) + alpha log(ns); returns (alpha, c). E.g. alpha = -1/2 for a
    bound that scales like 1/sqrt(n)."""
    ns = _validate._array(ns, "ns", "fiu").astype(np.float64, copy=False)
    values = _validate._array(values, "values", "fiu").astype(np.float64, copy=False)
    if ns.shape != values.shape or ns.ndim != 1 or len(ns) < 2:
        raise ValueError(f"ns and values: need two 1-D arrays of equal length >= 2, got {ns.shape} and {values.shape}")
    _reals(ns, "ns", what="positive finite sample sizes (a power law needs positive sample sizes and values)",
           positive=True)
    _reals(values, "values", what="positive finite values (a power law needs positive sample sizes and values)",
           positive=True)
    if np.ptp(ns) == 0:
        raise ValueError(f"ns must hold at least two different sample sizes to fit a power law, got {ns.tolist()}")
    alpha, logc = np.polyfit(np.log(ns), np.log(values), 1)
    return float(alpha), float(math.exp(logc))


def power_law_constant(ns, values, alpha: float) -> float:
    """The constant c of the power law values ~ c ns^alpha with the exponent ``alpha`` fixed: the least-squares
    fit in log space, c = exp(mean(log values - alpha log ns)). E.g. Lemma 2's (1 - delta)-quantile of
    ||H(0) - H*||_2 fitted as c m^(-1/2) gives the width c^2 / eps^2 that suffices in practice."""
    ns = _validate._array(ns, "ns", "fiu").astype(np.float64, copy=False)
    values = _validate._array(values, "values", "fiu").astype(np.float64, copy=False)
    if ns.shape != values.shape or ns.ndim != 1 or len(ns) < 1:
        raise ValueError(f"ns and values: need two 1-D arrays of equal length >= 1, got {ns.shape} and {values.shape}")
    _reals(ns, "ns", what="positive finite sample sizes", positive=True)
    _reals(values, "values", what="positive finite values (a power law needs positive values)", positive=True)
    alpha = _validate.real(alpha, "alpha")
    return float(np.exp(np.mean(np.log(values) - alpha * np.log(ns))))


def theorem6_optimal_alpha(H, y) -> float:
    """The alpha of lam = n^alpha that minimises Theorem 6's bound (theorem6_bound): sqrt(lam) sqrt(R / n) +
    1 / sqrt(lam), with R = y^T H^-1 y, is smallest at lam* = sqrt(n / R), i.e. alpha* = log(n / R) / (2 log n).
    The slide says "set lam = n^alpha" without saying which alpha."""
    n = cholesky(H).n if isinstance(H, Cholesky) else _validate.kernel(H).shape[0]
    if n < 2:
        raise ValueError(f"H must be at least 2 x 2 (alpha = log(lam) / log(n) needs n >= 2), got n = {n}")
    return 0.5 * math.log(n / rkhs_norm_sq(H, y)) / math.log(n)


def rademacher_bound(H, y, delta: float = 0.05) -> float:
    """Bartlett & Mendelson (2002) form: 2 sqrt(y^T H^-1 y) sqrt(tr H) / n + sqrt(log(1/delta) / n),
    bounding E|f_ker(x) - y| with probability 1 - delta. H is the kernel or its :class:`Cholesky`."""
    delta = _validate.probability(delta, "delta", open_interval=True)
    if isinstance(H, Cholesky):
        trace, n = float((H.L * H.L).sum()), H.n          # tr(L L^T) = ||L||_F^2
    else:
        H = _validate.kernel(H)
        trace, n = float(np.trace(H)), H.shape[0]
    return 2.0 * math.sqrt(rkhs_norm_sq(H, y)) * math.sqrt(trace) / n + math.sqrt(math.log(1 / delta) / n)


def theorem6_bound(H, y, lam, p: float, c: float = 1.0):
    """Theorem 6 (informal; Hu et al. 2020): the clean-distribution error of kernel ridge regression on
    labels flipped with probability p < 1/2 is at most (c / (1 - 2p)) (sqrt(lam) sqrt(y^T H^-1 y / n) + 1/sqrt(lam)),
    with y the true labels. The slide gives no constant; ``c`` defaults to 1, so only the shape in lam, p
    and n is meaningful. ``lam`` may be an array (e.g. lam = n^alpha)."""
    p = _validate.probability(p, "p")
    if p >= 0.5:
        raise ValueError(f"Theorem 6 needs a flip probability p < 1/2, got {p}")
    lam = _reals(lam, "lam", what="positive and finite (lam must be positive; a ridge, or an array of them)",
                 positive=True)
    c = _validate.positive(c, "c")
    n = cholesky(H).n if isinstance(H, Cholesky) else _validate.kernel(H).shape[0]
    _validate.vector(y, "y", n)
    return c / (1.0 - 2.0 * p) * (np.sqrt(lam) * math.sqrt(rkhs_norm_sq(H, y) / n) + 1.0 / np.sqrt(lam))
