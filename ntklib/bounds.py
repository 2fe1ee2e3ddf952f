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

from . import _validate


def hoeffding_entry_deviation(m, n: int, delta: float):
    """Entrywise deviation sqrt(2 log(2 n^2 / delta) / m) that holds for all n^2 entries w.p. 1 - delta."""
    n = _validate.positive_int(n, "n")
    delta = _validate.probability(delta, "delta", open_interval=True)
    m = np.asarray(m, dtype=np.float64)
    if np.any(m <= 0):
        raise ValueError("width m must be positive")
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
    t = np.asarray(t, dtype=np.float64)
    r = np.asarray(residual_l1, dtype=np.float64)
    if t.shape != r.shape or t.ndim != 1:
        raise ValueError(f"t and residual_l1 must be 1-D of equal length, got {t.shape} and {r.shape}")
    steps = np.concatenate([[0.0], np.cumsum(np.diff(t) * (r[1:] + r[:-1]) / 2)])
    return steps / math.sqrt(m)


def lemma3_movement_bound(t: float, n: int, m, c: float = 1.0):
    """The O(t n / sqrt m) bound on max_r ||w_r(t) - w_r(0)|| when |u_i - y_i| <= c on [0, t]."""
    n = _validate.positive_int(n, "n")
    return c * float(t) * n / np.sqrt(np.asarray(m, dtype=np.float64))


def lemma3_kernel_change_bound(max_move, n: int):
    """||H(t) - H(0)||_2 <= 2 n max_r ||w_r(t) - w_r(0)|| for a smooth activation with |sigma''| <= 1."""
    n = _validate.positive_int(n, "n")
    return 2.0 * n * np.asarray(max_move, dtype=np.float64)


def lemma3_width(eps: float, t: float, n: int, c: float = 1.0, slide_exponent: bool = False) -> int:
    """Width that makes ||H(t) - H(0)||_2 <= eps: 4 c^2 t^2 n^4 / eps^2 from the proof, or the slide's
    n^6 t^2 / eps^2 when ``slide_exponent`` (constants set to 1 there, since the slide gives none)."""
    eps = _validate.positive(eps, "eps")
    n = _validate.positive_int(n, "n")
    if slide_exponent:
        return math.ceil(n**6 * t**2 / eps**2)
    return math.ceil(4.0 * c * c * t * t * n**4 / eps**2)


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
        return H
    return Cholesky(_validate.cholesky(H, name))


def _labels(y, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2:
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows, expected {n} (one per training point)")
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
    z = _whiten(H, y)
    ns = np.asarray(ns)
    if ns.ndim != 1 or np.any(ns < 1) or np.any(ns > z.shape[0]) or np.any(ns != np.round(ns)):
        raise ValueError(f"ns must be sample sizes in 1..{z.shape[0]}, got {ns!r}")
    return np.cumsum(z * z, axis=0)[ns.astype(int) - 1]


def generalization_bound(H, y):
    """The a-priori bound on the classification error of f_ker for labels +-1 (lecture Section 3; Arora et
    al. 2019a, Thm 5.1 with the slide's constants): sqrt(2 y^T H^-1 y / n). H is the kernel or its
    :class:`Cholesky`; an (n, k) y gives k bounds."""
    q = rkhs_norm_sq(H, y)
    n = np.shape(y)[0]
    return math.sqrt(2.0 * q / n) if isinstance(q, float) else np.sqrt(2.0 * q / n)


def generalization_bound_prefixes(H, y, ns) -> np.ndarray:
    """sqrt(2 y[:n]^T H[:n, :n]^-1 y[:n] / n) for every n in ``ns`` (see :func:`rkhs_norm_sq_prefixes`)."""
    ns_arr = np.asarray(ns, dtype=np.float64)
    q = rkhs_norm_sq_prefixes(H, y, ns)
    return np.sqrt(2.0 * q / (ns_arr[:, None] if q.ndim == 2 else ns_arr))


def power_law_exponent(ns, values) -> tuple[float, float]:
    """Least-squares fit of log(values) = log(c) + alpha log(ns); returns (alpha, c). E.g. alpha = -1/2 for a
    bound that scales like 1/sqrt(n)."""
    ns = np.asarray(ns, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if ns.shape != values.shape or ns.ndim != 1 or len(ns) < 2:
        raise ValueError(f"need two 1-D arrays of equal length >= 2, got {ns.shape} and {values.shape}")
    if np.any(ns <= 0) or np.any(values <= 0):
        raise ValueError("a power law needs positive sample sizes and values")
    alpha, logc = np.polyfit(np.log(ns), np.log(values), 1)
    return float(alpha), float(math.exp(logc))


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
    lam = np.asarray(lam, dtype=np.float64)
    if np.any(lam <= 0):
        raise ValueError("lam must be positive")
    n = len(y)
    return c / (1.0 - 2.0 * p) * (np.sqrt(lam) * math.sqrt(rkhs_norm_sq(H, y) / n) + 1.0 / np.sqrt(lam))
