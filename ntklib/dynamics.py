"""Lemma 1: the outputs on the training set evolve as du/dt = -H(t) (u(t) - y).

- ``spectral_solution``: the closed form for a constant kernel, u(t) = y + exp(-t H) (u(0) - y),
  computed in the eigenbasis of H (lecture Section 3, "Understanding optimization").
- ``gd_solution``: the discrete-time analogue for GD with step eta, u_k = y + (I - eta H)^k (u_0 - y).
- ``integrate``: a numerical integration of the ODE with a constant or time-varying H(t), the
  independent reference for the closed forms.
- ``ode_residual``: how well Lemma 1 holds along a real GD step of the slide model.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from . import _validate, kernels, networks
from . import tolerances as tol


def _eigh_psd(H, name="H"):
    H = _validate.kernel(H, name)
    lam, V = np.linalg.eigh(H)
    if lam[0] < -tol.PSD_RTOL * max(abs(lam[-1]), 1.0):
        raise _validate.NotPositiveDefiniteError(
            f"{name} is not positive semidefinite: smallest eigenvalue {lam[0]:.3g}; the dynamics would diverge")
    return np.clip(lam, 0.0, None), V


def _start(y, u0, n):
    y = _validate.vector(y, "y", n)
    u0 = np.zeros(n) if u0 is None else _validate.vector(u0, "u0", n)
    return y, u0


def spectral_solution(H, y, t, u0=None) -> np.ndarray:
    """u(t) = y + V exp(-t Lambda) V^T (u0 - y) for each t (u0 = 0 by default). Returns (len(t), n)."""
    lam, V = _eigh_psd(H)
    y, u0 = _start(y, u0, len(lam))
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if np.any(t < 0):
        raise ValueError("times t must be >= 0")
    coef = V.T @ (u0 - y)
    return y + (np.exp(-np.outer(t, lam)) * coef) @ V.T


def gd_solution(H, y, eta: float, steps, u0=None) -> np.ndarray:
    """u_k = y + (I - eta H)^k (u0 - y) for each k in `steps`: GD on the linear model. Returns (len(steps), n)."""
    lam, V = _eigh_psd(H)
    y, u0 = _start(y, u0, len(lam))
    eta = _validate.positive(eta, "eta")
    k = np.atleast_1d(np.asarray(steps))
    coef = V.T @ (u0 - y)
    return y + (np.power.outer(1.0 - eta * lam, k).T * coef) @ V.T


def integrate(H: np.ndarray | Callable[[float], np.ndarray], y, t, u0=None, rtol: float = 1e-10) -> np.ndarray:
    """Integrate du/dt = -H(t)(u - y) numerically (scipy DOP853) and return u at times t, (len(t), n).

    H is a matrix (constant kernel) or a function t -> H(t).
    """
    H_of_t = H if callable(H) else (lambda _t, H=_validate.kernel(H): H)
    n = np.asarray(H_of_t(0.0)).shape[0]
    y, u0 = _start(y, u0, n)
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if np.any(np.diff(t) < 0) or t[0] < 0:
        raise ValueError("times t must be non-negative and increasing")
    sol = solve_ivp(lambda s, u: -H_of_t(s) @ (u - y), (0.0, t[-1]), u0, t_eval=t, method="DOP853",
                    rtol=rtol, atol=rtol * max(1.0, np.abs(y).max()))
    if not sol.success:
        raise RuntimeError(f"ODE integration failed: {sol.message}")
    return sol.y.T


def ode_residual(net: networks.TwoLayerNet, X, y, eta: float) -> float:
    """Relative residual of Lemma 1 over one GD step of the slide model from `net`:

        || (u_{k+1} - u_k) / eta + H(t_k) (u_k - y) || / || H(t_k) (u_k - y) ||.

    Lemma 1 is exact for gradient flow; for GD this residual is O(eta) and vanishes as eta -> 0.
    """
    u = net(X)
    H = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation=net.activation)
    drift = H @ (u - _validate.vector(y, "y", len(u)))
    u_next = networks.gd_step(net, X, y, eta)(X)
    return float(np.linalg.norm((u_next - u) / eta + drift) / np.linalg.norm(drift))
