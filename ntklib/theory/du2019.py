"""The quantities of Du, Zhai, Poczos & Singh (ICLR 2019), "Gradient descent provably optimizes
over-parameterized neural networks", with the constants their proofs give (companion page 02b_du2019).

Model and training as in the lecture's Section 2 (ntklib.models.networks): f(W, a, x) = (1/sqrt m) sum_r a_r relu(w_r.x),
a_r ~ Unif{-1, +1} fixed, w_r(0) ~ N(0, I), ||x_i|| = 1, loss L(W) = sum_i 1/2 (f(W, a, x_i) - y_i)^2 (their Eq. 2),
GD W(k+1) = W(k) - eta dL/dW (their Eq. 3). H^infty is ntklib.theory.kernels.ntk_two_layer(X) and lambda_0 its smallest
eigenvalue (their Assumption 3.1); u(k) are the outputs on the training inputs, r0 = ||y - u(0)||_2.

* Theorem 3.2 / Lemma 3.3 (gradient flow): if lambda_min(H(s)) >= lambda_0 / 2 on [0, t], then
  ||y - u(t)||^2 <= exp(-lambda_0 t) r0^2 and ||w_r(t) - w_r(0)|| <= 2 sqrt(n) r0 / (sqrt(m) lambda_0).
* Theorem 4.1 (GD, step eta = O(lambda_0 / n^2), m = Omega(n^6 / (lambda_0^4 delta^3))): w.p. 1 - delta
  ||y - u(k)||^2 <= (1 - eta lambda_0 / 2)^k r0^2 for every k (Condition 4.1), and then Corollary 4.1:
  ||w_r(k) - w_r(0)|| <= 4 sqrt(n) r0 / (sqrt(m) lambda_0) =: R'.
* Lemma 3.2: a pattern 1[w_r.x_i >= 0] can differ from its initial value only if |w_r(0).x_i| < R (R the distance
  moved), which has probability P(|z| < R) <= 2 R / sqrt(2 pi) for z ~ N(0, 1); summing over (i, j, r) and Markov's
  inequality give ||H - H(0)||_2 <= 4 n^2 R / (sqrt(2 pi) delta) w.p. 1 - delta, which is <= lambda_0 / 4 for
  R = sqrt(2 pi) delta lambda_0 / (16 n^2) (the lemma's "c delta lambda_0 / n^2" with the proof's c = sqrt(2 pi)/16).
  The theorems hold once R' < R; that is the width they ask for.

The constants 2 and 4 are the proofs': Lemma 3.3 integrates ||dw_r/ds|| <= sqrt(n/m) ||y - u(s)|| <=
sqrt(n/m) exp(-lambda_0 s / 2) r0, and Corollary 4.1 sums eta sqrt(n/m) (1 - eta lambda_0 / 2)^(k/2) r0 using
1 - sqrt(1 - x) >= x / 2.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from .. import _validate
from .bounds import _reals

METHODS = ("gd", "flow")


def _lam0(lam0) -> float:
    return _validate.positive(lam0, "lam0")


def gd_rate_bound(eta: float, lam0: float) -> float:
    """Theorem 4.1's per-step factor 1 - eta lambda_0 / 2 on ||y - u(k)||^2 (needs eta lambda_0 < 2)."""
    eta, lam0 = _validate.positive(eta, "eta"), _lam0(lam0)
    if eta * lam0 >= 2:
        raise ValueError(f"eta must satisfy eta * lam0 < 2 for Theorem 4.1's factor 1 - eta lam0 / 2 to be a "
                         f"contraction, got eta = {eta!r} with lam0 = {lam0!r}")
    return 1.0 - eta * lam0 / 2.0


def gd_loss_bound(steps, eta: float, lam0: float, r0_sq: float):
    """Theorem 4.1 (Condition 4.1): ||y - u(k)||^2 <= (1 - eta lambda_0 / 2)^k ||y - u(0)||^2, for each k in ``steps``
    (non-negative integers); ``r0_sq`` = ||y - u(0)||^2."""
    k = _reals(steps, "steps", what="non-negative whole step counts", integer=True)
    r0_sq = _validate.nonnegative(r0_sq, "r0_sq")
    return r0_sq * gd_rate_bound(eta, lam0) ** k


def flow_loss_bound(t, lam0: float, r0_sq: float):
    """Theorem 3.2 / Lemma 3.3: ||y - u(t)||^2 <= exp(-lambda_0 t) ||y - u(0)||^2 under gradient flow, for each t."""
    t = _reals(t, "t", what="finite times >= 0")
    lam0, r0_sq = _lam0(lam0), _validate.nonnegative(r0_sq, "r0_sq")
    return r0_sq * np.exp(-lam0 * t)


def worst_bound_ratio(steps, sq_residual, eta: float, lam0: float) -> float:
    """max over the recorded steps k >= 1 of ||y - u(k)||^2 / [(1 - eta lambda_0 / 2)^k ||y - u(0)||^2]: at most 1
    iff the run obeys Theorem 4.1's rate. ``steps`` must start at 0 (``sq_residual[0]`` = ||y - u(0)||^2 > 0)."""
    k = _reals(steps, "steps", what="non-negative whole step counts", integer=True)
    r = _reals(sq_residual, "sq_residual", what="finite squared residuals >= 0")
    if k.ndim != 1 or k.shape != r.shape or k.size < 2:
        raise ValueError(f"steps and sq_residual must be 1-D of equal length >= 2, got shapes {k.shape} and {r.shape}")
    if k[0] != 0 or np.any(np.diff(k) <= 0):
        raise ValueError(f"steps must start at 0 and increase, got {_validate._show(k.tolist())}")
    if r[0] <= 0:
        raise ValueError("sq_residual[0] = ||y - u(0)||^2 must be positive (the bound is relative to it), got 0")
    return float(np.max(r[1:] / gd_loss_bound(k[1:], eta, lam0, r[0])))


def movement_radius(n: int, r0: float, m, lam0: float, method: str = "gd"):
    """The radius R' within which every w_r stays: 4 sqrt(n) r0 / (sqrt(m) lambda_0) for GD (Corollary 4.1) or
    2 sqrt(n) r0 / (sqrt(m) lambda_0) for gradient flow (Lemma 3.3); r0 = ||y - u(0)||_2, m a width or array."""
    n = _validate.positive_int(n, "n")
    r0 = _validate.nonnegative(r0, "r0")
    m = _reals(m, "m", what="a positive integer width (or an array of them)", positive=True, integer=True)
    lam0 = _lam0(lam0)
    method = _validate.choice(method, "method", METHODS)
    return (4.0 if method == "gd" else 2.0) * math.sqrt(n) * r0 / (np.sqrt(m) * lam0)


def stability_radius(n: int, lam0: float, delta: float) -> float:
    """Lemma 3.2's R = sqrt(2 pi) delta lambda_0 / (16 n^2): w.p. 1 - delta over W(0), every W with all
    ||w_r - w_r(0)|| <= R has ||H(W) - H(0)||_2 <= lambda_0 / 4 (by Markov on sum_ij |H_ij - H_ij(0)|)."""
    n = _validate.positive_int(n, "n")
    lam0 = _lam0(lam0)
    delta = _validate.probability(delta, "delta", open_interval=True)
    return math.sqrt(2.0 * math.pi) * delta * lam0 / (16.0 * n * n)


def theorem_width(n: int, lam0: float, r0: float, delta: float) -> int:
    """The smallest width m with R'(m) < R (Corollary 4.1's radius inside Lemma 3.2's), the condition under which
    the proof of Theorem 4.1 goes through: m > (4 sqrt(n) r0 / (lambda_0 R))^2 = 4096 n^5 r0^2 / (2 pi delta^2
    lambda_0^4). With r0^2 = O(n / delta) (Markov) this is the theorem's m = Omega(n^6 / (lambda_0^4 delta^3))."""
    n = _validate.positive_int(n, "n")
    lam0 = _lam0(lam0)
    r0 = _validate.positive(r0, "r0")
    R = stability_radius(n, lam0, delta)
    bound = (4.0 * math.sqrt(n) * r0 / (lam0 * R)) ** 2
    if not math.isfinite(bound):
        raise ValueError(f"theorem_width: the width for n = {n}, lam0 = {lam0!r}, r0 = {r0!r}, delta = {delta!r} "
                         f"exceeds the float range")
    return math.floor(bound) + 1


def theorem_step(n: int, lam0: float) -> float:
    """The step size scale of Theorem 4.1, eta = O(lambda_0 / n^2), with the O's unstated constant set to 1."""
    return _lam0(lam0) / _validate.positive_int(n, "n") ** 2


def flip_probability(R, bound: bool = False):
    """P(|z| < R) for z ~ N(0, 1), i.e. P(|w.x| < R) for w ~ N(0, I) and ||x|| = 1: the chance that the pattern
    1[w_r.x_i >= 0] can change when w_r moves by at most R (proof of Lemma 3.2). Exact, erf(R / sqrt 2), or with
    ``bound`` the lemma's anti-concentration bound 2 R / sqrt(2 pi)."""
    R = _reals(R, "R", what="a radius >= 0 (or an array of them)")
    bound = _validate.flag(bound, "bound")
    return 2.0 * R / math.sqrt(2.0 * math.pi) if bound else erf(R / math.sqrt(2.0))


def linear_rate(steps, values, start: int = 0) -> float:
    """Per-step factor rho of a linearly (geometrically) converging sequence, values[k] ~ C rho^k: exp of the
    least-squares slope of log(values) against k over the steps >= ``start``. Compare with gd_rate_bound."""
    k = _reals(steps, "steps", what="non-negative whole step counts", integer=True)
    v = _reals(values, "values", what="positive finite values (the log of a converging loss)", positive=True)
    start = _validate.nonnegative_int(start, "start")
    if k.ndim != 1 or k.shape != v.shape:
        raise ValueError(f"steps and values must be 1-D of equal length, got shapes {k.shape} and {v.shape}")
    keep = k >= start
    if np.unique(k[keep]).size < 2:
        raise ValueError(f"linear_rate needs at least two different steps >= start = {start}, got "
                         f"{_validate._show(k[keep].tolist())}")
    return float(np.exp(np.polyfit(k[keep], np.log(v[keep]), 1)[0]))
