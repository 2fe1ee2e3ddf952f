"""Theorem 4 (informal; Arora et al. 2019a): the training loss along the eigenvectors of H*.

With H* = sum_i lambda_i v_i v_i^T (lambda_1 >= ... >= lambda_n) and u(t) following du/dt = -H*(u - y),
each component v_i.(u(t) - y) decays like exp(-lambda_i t), so the squared training error is

    ||u(t) - y||^2 = sum_i exp(-2 lambda_i t) (v_i . (y - u(0)))^2      (gradient flow)
    ||u_k  - y||^2 = sum_i (1 - eta lambda_i)^(2k) (v_i . (y - u(0)))^2  (GD with step eta)

The slides state it with u(0) = 0, i.e. projections (v_i . y)^2; a non-zero start u0 replaces y by y - u0.
Note the slides' "training loss" here is sum_i (f(x_i) - y_i)^2, twice the 1/2-scaled loss that is trained.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from .dynamics import _eigh_psd


def eigendecomposition(H) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues in decreasing order (clipped at 0 for round-off) and the matching eigenvectors (columns)."""
    lam, V = _eigh_psd(H)
    return lam[::-1], V[:, ::-1]


def projections(H, y, u0=None) -> np.ndarray:
    """(v_i . (y - u0))^2 for i = 1..n in decreasing-eigenvalue order; they sum to ||y - u0||^2."""
    lam, V = eigendecomposition(H)
    r = _validate.vector(y, "y", len(lam)) - (0.0 if u0 is None else _validate.vector(u0, "u0", len(lam)))
    return (V.T @ r) ** 2


def predicted_loss_flow(H, y, t, u0=None) -> np.ndarray:
    """Theorem 4's ||u(t) - y||^2 = sum_i exp(-2 lambda_i t) (v_i . (y - u0))^2, for each t."""
    lam, _ = eigendecomposition(H)
    p = projections(H, y, u0)
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if np.any(t < 0):
        raise ValueError("times t must be >= 0")
    return np.exp(-2.0 * np.outer(t, lam)) @ p


def predicted_loss_gd(H, y, eta: float, steps, u0=None) -> np.ndarray:
    """The GD analogue sum_i (1 - eta lambda_i)^(2k) (v_i . (y - u0))^2, for each k in steps."""
    lam, _ = eigendecomposition(H)
    eta = _validate.positive(eta, "eta")
    p = projections(H, y, u0)
    k = np.atleast_1d(np.asarray(steps))
    return np.power.outer(1.0 - eta * lam, 2 * k).T @ p
