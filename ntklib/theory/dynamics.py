"""Lemma 1: the outputs on the training set evolve as du/dt = -H(t) (u(t) - y).

- ``spectral_solution``: the closed form for a constant kernel, u(t) = y + exp(-t H) (u(0) - y),
  computed in the eigenbasis of H (lecture Section 3, "Understanding optimization").
- ``gd_solution``: the discrete-time analogue for GD with step eta, u_k = y + (I - eta H)^k (u_0 - y).
- ``integrate``: a numerical integration of the ODE with a constant or time-varying H(t), the
  independent reference for the closed forms.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import logsumexp

from .. import _validate
from .. import tolerances as tol
from .linalg import eigh_psd

# integrate() refuses a horizon with lambda_max * t_max above this: an explicit solver needs about that many
# steps (its step is limited by stability to a few / lambda_max), so a larger one would run for hours.
MAX_STIFFNESS = 1e6


def _grid(values, name: str, n: int | None, what: str) -> np.ndarray:
    """A scalar or non-empty 1-D real array (not yet checked entry by entry), after refusing an output of
    (len, n) float64 values that cannot fit in memory."""
    if values is None:
        raise _validate.ArgumentTypeError(f"{name} must be a number or a 1-D array of {what}, got None")
    A = _validate._array(values, name, "fiu")
    if A.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array of {what}, got shape {A.shape}")
    A = A.reshape(-1)
    if A.size == 0:
        raise ValueError(f"{name} is empty: give at least one of the {what}")
    if n is not None:
        _validate.memory(_validate.nbytes((A.size, n)), f"{A.size} {what} x {n} points")
    return A


def _times(t, name: str = "t", n: int | None = None) -> np.ndarray:
    """Times as a non-empty 1-D float64 array, each finite and >= 0."""
    T = _grid(t, name, n, "times").astype(np.float64, copy=False)
    bad = ~np.isfinite(T) | (T < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"times {name} must be >= 0 and finite, got {name}[{i}] = {float(T[i])!r}")
    return T


MAX_STEPS = 2**53


def _steps(k, name: str = "steps", n: int | None = None) -> np.ndarray:
    """GD step counts as a non-empty 1-D int64 array of non-negative integers (whole floats accepted)."""
    K = _grid(k, name, n, "steps")
    if K.dtype.kind == "f":
        fin = np.isfinite(K)
        bad = ~fin | (K != np.floor(np.where(fin, K, 0))) | (K < 0) | (K > MAX_STEPS)
    else:
        bad = (K < 0) | (K > MAX_STEPS)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = K[i].item()
        raise ValueError(f"{name} must be non-negative integers (GD step counts, at most 2^53), "
                         f"got {name}[{i}] = {v!r}")
    return K.astype(np.int64)


def _gd_divergence(lam, coef2, eta: float, k, on_divergence: str, what: str) -> None:
    """Raise TrainingDiverged if sum_i (1 - eta lam_i)^(2k) coef2_i (the GD loss at step k) exceeds
    DIVERGED_LOSS_FACTOR * max(loss at step 0, 1) for some k in ``k``; computed in logs, so it never overflows.
    It can only happen for eta > 2 / lambda_max."""
    if on_divergence != "raise" or lam.size == 0 or eta * lam.max() <= 2.0:
        return
    keep = coef2 > 0
    if not keep.any():
        return
    loss0 = float(coef2.sum())
    with np.errstate(divide="ignore"):
        log_r = np.log(np.abs(1.0 - eta * lam[keep]))
    log_c = np.log(coef2[keep])
    kk = k.astype(np.float64)[:, None]
    expo = np.where(kk == 0, 0.0, 2.0 * kk * log_r)
    log_loss = logsumexp(expo + log_c, axis=1)
    limit = math.log(tol.DIVERGED_LOSS_FACTOR * max(loss0, 1.0))
    bad = np.flatnonzero(log_loss > limit)
    if bad.size:
        i = int(bad[0])
        step, ll = int(k[i]), float(log_loss[i])
        loss = math.exp(ll) if ll < 700 else math.inf
        shown = f"{loss:.4g}" if math.isfinite(loss) else f"about 10^{ll / math.log(10):.0f}"
        raise _validate.TrainingDiverged(
            f"{what} diverged: eta = {eta:g} exceeds the stability limit 2/lambda_max = {2.0 / lam.max():.4g} "
            f"(lambda_max = {lam.max():.4g}), and the loss at step {step} is {shown}, more than "
            f"{tol.DIVERGED_LOSS_FACTOR:.0e} x max(its start, 1). Use eta < 2/lambda_max "
            f"(or pass on_divergence='return' to get the result anyway).", step=step, loss=loss)


def _start(y, u0, n):
    y = _validate.vector(y, "y", n)
    u0 = np.zeros(n) if u0 is None else _validate.vector(u0, "u0", n)
    return y, u0


def spectral_solution(H, y, t, u0=None) -> np.ndarray:
    """u(t) = y + V exp(-t Lambda) V^T (u0 - y) for each t (u0 = 0 by default). Returns (len(t), n).
    H must be symmetric PSD; times t finite and >= 0."""
    H = _validate.kernel(H)
    n = H.shape[0]
    y, u0 = _start(y, u0, n)
    t = _times(t, "t", n)
    lam, V = eigh_psd(H)
    coef = V.T @ (u0 - y)
    return y + (np.exp(-np.outer(t, lam)) * coef) @ V.T


def gd_solution(H, y, eta: float, steps, u0=None, *, on_divergence: str = "raise") -> np.ndarray:
    """u_k = y + (I - eta H)^k (u0 - y) for each k in `steps`: GD on the linear model. Returns (len(steps), n).

    Steps are non-negative integers. For eta > 2/lambda_max GD diverges: a loss above
    DIVERGED_LOSS_FACTOR x max(its start, 1) raises :class:`~ntklib._validate.TrainingDiverged` (naming eta
    and the limit), unless ``on_divergence="return"``."""
    H = _validate.kernel(H)
    n = H.shape[0]
    y, u0 = _start(y, u0, n)
    eta = _validate.positive(eta, "eta")
    k = _steps(steps, "steps", n)
    on_divergence = _validate.on_divergence(on_divergence)
    lam, V = eigh_psd(H)
    coef = V.T @ (u0 - y)
    _gd_divergence(lam, coef**2, eta, k, on_divergence, "GD on the linear model")
    with np.errstate(over="ignore", invalid="ignore"):
        return y + (np.power.outer(1.0 - eta * lam, k).T * coef) @ V.T


def _kernel_of_t(H):
    """(t -> H(t), H(0) validated): H is a kernel matrix or a function of t returning one."""
    if callable(H):
        return H, _validate.kernel(H(0.0), "H(0)")
    H0 = _validate.kernel(H)
    return (lambda _t, H=H0: H), H0


def integrate(H: np.ndarray | Callable[[float], np.ndarray], y, t, u0=None, rtol: float = 1e-10) -> np.ndarray:
    """Integrate du/dt = -H(t)(u - y) numerically (scipy DOP853) and return u at times t, (len(t), n).

    H is a matrix (constant kernel) or a function t -> H(t). Times must be finite, non-negative and
    increasing; rtol positive and finite (the absolute tolerance is rtol * max(1, max|y|)). A horizon with
    lambda_max(H(0)) * t_max > MAX_STIFFNESS is refused (an explicit solver would need that many steps):
    use ``spectral_solution`` for a constant kernel.
    """
    H_of_t, H0 = _kernel_of_t(H)
    n = H0.shape[0]
    y, u0 = _start(y, u0, n)
    rtol = _validate.positive(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be a relative tolerance in (0, 1), got {rtol!r}")
    t = _grid(t, "t", n, "times").astype(np.float64, copy=False)
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0) or t[0] < 0:
        raise ValueError(f"times t must be finite, non-negative and increasing, got {_validate._show(t.tolist())}")
    stiffness = float(np.abs(np.linalg.eigvalsh(H0)).max()) * float(t[-1])
    if stiffness > MAX_STIFFNESS:
        raise ValueError(f"times t reach {float(t[-1]):g}, and lambda_max(H(0)) * t_max = {stiffness:.3g} exceeds "
                         f"{MAX_STIFFNESS:.0e}: the explicit solver would need about that many steps. Use a shorter "
                         f"horizon, or dynamics.spectral_solution for a constant kernel")
    if t[-1] == 0:
        return np.tile(u0, (len(t), 1))
    atol = rtol * max(1.0, float(np.abs(y).max()))

    def rhs(s, u):
        Hs = np.asarray(H_of_t(s), dtype=np.float64)
        if Hs.shape != (n, n):
            raise ValueError(f"H(t) must be {n} x {n} at every t, got shape {Hs.shape} at t = {s:g}")
        return -Hs @ (u - y)

    grid, where = np.unique(t, return_inverse=True)     # scipy needs strictly increasing output times
    sol = solve_ivp(rhs, (0.0, float(t[-1])), u0, t_eval=grid, method="DOP853", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"ODE integration failed: {sol.message}")
    return sol.y.T[where.reshape(-1)]

