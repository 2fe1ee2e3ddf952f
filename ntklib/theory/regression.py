"""Kernel regression with the NTK: the predictor a wide net trained by gradient flow converges to
(lecture Section 2, "Equivalence to kernel regression", Eq. (1)).

    f(x, t) = f0(x) + k(x, X) H^-1 (I - exp(-t H)) (y - u0)      (gradient-flow predictor at time t)
    f*(x)   = k(x, X) H^-1 y                                     (t -> infinity, f0 = 0, u0 = 0)
    f_ridge = k(x, X) (H + lambda I)^-1 y                        (kernel ridge; lecture Section 4)

and, for the RDI and AUX losses of Section 4 (Hu et al. 2020, Theorem 5; ntklib.models.noisy), kernel ridge
regression along GD (``ridge_gd_predictor``) and gradient flow (``ridge_flow_predictor``, of which the
gradient-flow predictor above is the case lambda = 0), and many ridges from one eigendecomposition (``ridge_path``).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

from .. import _validate
from .bounds import Cholesky, _labels
from .dynamics import _times
from .linalg import eigh_psd
from .spectrum import Spectrum, _checked


def _factor(L: Cholesky) -> np.ndarray:
    from .bounds import cholesky
    return cholesky(L).L


def _cross(K_xX, n):
    K_xX = _validate.matrix(K_xX, "K_xX")
    if K_xX.shape[1] != n:
        raise ValueError(f"K_xX has {K_xX.shape[1]} columns but the training kernel is {n} x {n}")
    return K_xX


def kernel_regression(K_xX, H, y, ridge: float = 0.0) -> np.ndarray:
    """k(x, X) (H + ridge I)^-1 y (Eq. (1) at t -> infinity; kernel ridge for ridge > 0) via a Cholesky solve;
    a non-PD H is an error that names its smallest eigenvalue. K_xX is the (n_test, n) kernel between test
    and training points. H may also be a precomputed ``bounds.Cholesky`` of H + ridge I (then ``ridge`` must
    be 0: the factor already holds it), so several label vectors share one factorisation; y may be (n, k)."""
    ridge = float(_validate._scalar(ridge, "ridge"))
    if ridge < 0 or not np.isfinite(ridge):
        raise ValueError(f"ridge must be >= 0 and finite, got {ridge!r}")
    if isinstance(H, Cholesky):
        if ridge:
            raise ValueError(f"pass ridge=0 with a Cholesky factor (got ridge={ridge!r}): factor H + ridge*I instead")
        L = _factor(H)
        n = L.shape[0]
    else:
        H = _validate.kernel(H)
        n = H.shape[0]
        L = None
    y = _labels(y, n)
    K_xX = _cross(K_xX, n)
    if L is None:
        L = _validate.cholesky(H + ridge * np.eye(n) if ridge else H, "H + ridge*I" if ridge else "H")
    return K_xX @ cho_solve((L, True), y, check_finite=False)


def gradient_flow_predictor(K_xX, H, y, t, f0_x=None, u0=None) -> np.ndarray:
    """f(x, t) = f0(x) + k(x, X) V diag((1 - e^{-t lam}) / lam) V^T (y - u0) for each t; (len(t), n_test).

    (1 - e^{-t lam}) / lam -> t as lam -> 0, so a singular H is fine at finite t. H is the kernel or a
    precomputed ``spectrum.Spectrum`` of it (the formula does not depend on the eigenvalues' order).
    """
    if isinstance(H, Spectrum):
        H = _checked(H)
        n = H.n
    else:
        H = _validate.kernel(H)
        n = H.shape[0]
    y = _validate.vector(y, "y", n)
    u0 = np.zeros(n) if u0 is None else _validate.vector(u0, "u0", n)
    K_xX = _cross(K_xX, n)
    f0 = np.zeros(K_xX.shape[0]) if f0_x is None else _validate.vector(f0_x, "f0_x", K_xX.shape[0])
    t = _times(t, "t", max(n, K_xX.shape[0]))
    eig = (np.asarray(H.lam, dtype=np.float64), np.asarray(H.V, dtype=np.float64)) if isinstance(H, Spectrum) \
        else eigh_psd(H)
    return f0 + ridge_flow_predictor(K_xX, None, y - u0, 0.0, t, eig=eig)   # plain training is ridge 0


# --- kernel ridge regression along GD and gradient flow (Hu et al. 2020, Theorem 5; ntklib.models.noisy) ---

def _step_counts(steps) -> np.ndarray:
    """Step counts: whole numbers >= 0, or np.inf for the limit."""
    try:
        k = np.atleast_1d(np.asarray(steps, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"steps must be a list of step counts >= 0 (np.inf for the limit), got {steps!r}") from None
    if k.ndim != 1 or k.size == 0 or np.any(np.isnan(k)) or np.any(k < 0) or np.any(k[np.isfinite(k)] % 1):
        raise ValueError(f"steps must be a 1-D list of whole step counts >= 0 (np.inf for the limit), got {steps!r}")
    return k


def ridge_gd_coefficients(H, y, lam: float, eta: float, steps, u0=None) -> np.ndarray:
    """alpha_k = (H + lam I)^-1 [I - (I - eta (H + lam I))^k] (y - u0) for each k: the dual coefficients of
    GD on RDI or AUX for the linearised model (module docstring). ``steps`` may include np.inf (the ridge
    solution). Returns (len(steps), n)."""
    H = _validate.kernel(H, "H")
    n = H.shape[0]
    y = _validate.vector(y, "y", n)
    u0 = np.zeros(n) if u0 is None else _validate.vector(u0, "u0", n)
    lam = _validate.nonnegative(lam, "lam")
    eta = _validate.positive(eta, "eta")
    k = _step_counts(steps)
    _validate.memory(_validate.nbytes((n, n), (n, n), (len(k), n), (len(k), n)),
                     f"ridge_gd_coefficients with n = {n} and {len(k)} step counts")
    lam_h, V = eigh_psd(H)
    mu = lam_h + lam
    q = 1.0 - eta * mu
    finite = np.isfinite(k)
    if not finite.all() and (np.any(mu <= 0) or np.any(np.abs(q) >= 1)):
        raise ValueError(f"GD does not converge: the limit needs H + lam I positive definite (smallest eigenvalue "
                         f"{mu.min():.3g}) and eta in (0, 2 / lambda_max(H + lam I)) = (0, {2 / mu.max():.4g}), got {eta}")
    kk = np.where(finite, k, 0.0)[:, None]
    with np.errstate(over="ignore"):
        pw = np.where(finite[:, None], q[None, :] ** kk, 0.0)      # (1 - eta mu)^k, -> 0 in the limit
    if not np.all(np.isfinite(pw)):
        raise _validate.TrainingDiverged(
            f"GD with eta = {eta} diverges: |1 - eta mu| = {np.abs(q).max():.4g} > 1 for the largest eigenvalue mu of "
            f"H + lam I, and (1 - eta mu)^k overflows at k = {int(k[finite].max())}; use eta < {2 / mu.max():.4g}")
    safe = np.where(mu > 0, mu, 1.0)
    g = np.where(mu > 0, (1.0 - pw) / safe, eta * kk)              # (1 - (1 - eta mu)^k) / mu  (-> eta k at mu = 0)
    return (g * (V.T @ (y - u0))) @ V.T


def ridge_gd_predictor(K_xX, H, y, lam: float, eta: float, steps, f0_x=None, u0=None) -> np.ndarray:
    """f_k(x) = f0(x) + k(x, X) alpha_k: the test predictions of the linearised slide model after k GD steps on
    RDI or AUX (the same for both), and with k = np.inf kernel ridge regression with ridge lam. (len(steps), n_test)."""
    K_xX = _validate.matrix(K_xX, "K_xX")
    H = _validate.kernel(H, "H")
    if K_xX.shape[1] != H.shape[0]:
        raise ValueError(f"K_xX has {K_xX.shape[1]} columns but H is {H.shape[0]} x {H.shape[0]}")
    f0 = 0.0 if f0_x is None else _validate.vector(f0_x, "f0_x", K_xX.shape[0])
    alpha = ridge_gd_coefficients(H, y, lam, eta, steps, u0)
    return f0 + alpha @ K_xX.T


def _eig(H, eig):
    if eig is None:
        return eigh_psd(H)
    if not isinstance(eig, (tuple, list)) or len(eig) != 2:
        raise TypeError(f"eig must be the pair (eigenvalues, eigenvectors) returned by ntklib.theory.linalg.eigh_psd(H), "
                        f"got {type(eig).__name__}")
    lam_h = _validate.vector(eig[0], "eig[0] (eigenvalues)")
    V = _validate.matrix(eig[1], "eig[1] (eigenvectors)").astype(np.float64, copy=False)
    if V.shape != (len(lam_h), len(lam_h)) or np.any(lam_h < 0):
        raise ValueError(f"eig must be ntklib.theory.linalg.eigh_psd(H)'s (eigenvalues >= 0, square eigenvector "
                         f"matrix), got shapes "
                         f"{lam_h.shape} and {V.shape}")
    return lam_h, V


def _spectral(K_xX, H, y, eig):
    K_xX = _validate.matrix(K_xX, "K_xX")
    y = _validate._array(y, "y").astype(np.float64, copy=False)
    if y.ndim not in (1, 2) or y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite, 1-D (n,) or 2-D (k, n), got shape {y.shape}" +
                         ("" if y.size == 0 or np.all(np.isfinite(y)) else " with NaN or inf"))
    lam_h, V = _eig(H, eig)
    n = len(lam_h)
    if y.shape[-1] != n:
        raise ValueError(f"y must be finite with last dimension n = {n} (one label per training point), got shape {y.shape}")
    if K_xX.shape[1] != n:
        raise ValueError(f"K_xX has {K_xX.shape[1]} columns but H is {n} x {n}")
    return lam_h, y @ V, K_xX @ V


def _ridges(lams, name="lams"):
    try:
        lams = np.atleast_1d(np.asarray(lams, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a list of ridges >= 0, got {lams!r}") from None
    if lams.ndim != 1 or lams.size == 0 or np.any(~np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"{name} must be finite and >= 0 (a non-empty 1-D list), got {lams!r}")
    return lams


def ridge_path(K_xX, H, y, lams, eig=None) -> np.ndarray:
    """f_ridge(x) = k(x, X) (H + lam I)^-1 y for many ridges at once, from one eigendecomposition of H
    (pass ``eig=`` ntklib.theory.linalg.eigh_psd(H) to reuse one across calls)
    (the slides' f_ridge; ntklib.theory.regression.kernel_regression does one ridge by Cholesky).
    y is (n,) or (k, n) for k label vectors; returns (len(lams), n_test) or (k, len(lams), n_test)."""
    lams = _ridges(lams)
    lam_h, yV, KV = _spectral(K_xX, H, y, eig)
    mu = lam_h + lams[:, None]
    if np.any(mu <= 0):
        raise _validate.NotPositiveDefiniteError("H + lam I is singular for lam = 0; use a positive ridge")
    return np.einsum("...j,lj,tj->...lt", yV, 1.0 / mu, KV)


def closest_ridge(K_xX, H, y, f_x, lams, eig=None) -> float:
    """The ridge on the grid ``lams`` whose kernel ridge predictor k(x, X) (H + lam I)^-1 y is closest to the
    predictions ``f_x`` in the largest deviation over the test points: which ridge a trained net implements
    (Hu et al. 2020, Theorem 5: RDI and AUX with the slides' lam give ridge exactly lam). One eigendecomposition
    serves the whole grid (:func:`ridge_path`); ties go to the smaller ridge."""
    lams = _ridges(lams)
    K_xX = _validate.matrix(K_xX, "K_xX")
    f_x = _validate.vector(f_x, "f_x", K_xX.shape[0])
    if np.ndim(y) != 1:
        raise ValueError(f"y must be one label vector (n,), got shape {np.shape(y)}")
    path = ridge_path(K_xX, H, y, lams, eig)
    return float(lams[np.argmin(np.abs(path - f_x).max(axis=1))])


def ridge_flow_predictor(K_xX, H, y, lam: float, t, eig=None) -> np.ndarray:
    """Gradient flow on RDI or AUX for the linearised (or infinitely wide) net, started at f = 0:
    f(x, t) = k(x, X) (H + lam I)^-1 (I - exp(-t (H + lam I))) y; lam = 0 is plain training (Section 2's
    gradient_flow_predictor). y is (n,) or (k, n); returns (len(t), n_test) or (k, len(t), n_test).
    t = np.inf is the limit, which needs H + lam I positive definite."""
    lam = _validate.nonnegative(lam, "lam")
    try:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"times t must be a list of numbers >= 0, got {t!r}") from None
    if t.ndim != 1 or t.size == 0 or np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"times t must be >= 0 (a non-empty 1-D list, np.inf for the limit), got {t!r}")
    lam_h, yV, KV = _spectral(K_xX, H, y, eig)
    mu = lam_h + lam
    if np.any(np.isinf(t)) and np.any(mu <= 0):
        raise _validate.NotPositiveDefiniteError(
            f"t = inf needs H + lam I positive definite (smallest eigenvalue {mu.min():.3g}); use a positive lam")
    return np.einsum("...j,sj,tj->...st", yV, _flow_gain(t, mu), KV)


def _flow_gain(t, mu) -> np.ndarray:
    """(1 - exp(-t mu)) / mu for every pair (t, mu), (len(t), len(mu)): how far gradient flow has moved along an
    eigenvector of H + lam I with eigenvalue mu by time t. It tends to t as t mu -> 0, so a zero eigenvalue is
    fine at finite t, and to 1 / mu as t -> inf."""
    tm = np.outer(t, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tm > 1e-12, -np.expm1(-tm) / np.where(mu > 0, mu, 1.0), t[:, None] * np.ones_like(mu))
