"""How the empirical NTK moves during training (lecture Section 5, "The gap from kernel learning to deep
learning").

- ``empirical_ntk``: the NTK of any JAX network on a probe batch, traced over the outputs,
  Theta(x, x') = sum_k <d f_k(x)/dw, d f_k(x')/dw>, by an explicit Jacobian contraction (the reference;
  ntklib.models.deepnets.mlp_ntk is the fast layer-wise formula for the ReLU nets used in the book).
- ``ntk_row``: one row Theta(x0, X) of the empirical NTK of any JAX network, with one reverse-mode and one
  forward-mode product per output and no Jacobian: for nets whose Jacobian does not fit in memory.
- ``kernel_distance`` and ``kernel_velocity``: Fort et al. (2020): the kernel distance
  S(K, K') = 1 - <K, K'>_F / (||K||_F ||K'||_F) and the kernel velocity v(t) = S(K_t, K_{t+dt}) / dt.
- ``one_step_ntk_change``: Theta(x, x) before and after one gradient-descent step on a single sample
  (x, y) with the loss 1/2 ||f(x) - y||^2, the quantity of Seleznova & Kutyniok (2022), Theorem 7 on the
  slides: E[Delta Theta(x, x)] / E[Theta(x, x)].
- ``class_structure``: the NTK's class-block means Theta_d (diagonal), Theta_c (same class), Theta_n
  (different classes) of Seleznova & Kutyniok (2022), whose ratios the slides track.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate


def _check_fn(apply_fn, params):
    if not callable(apply_fn):
        raise _validate.ArgumentTypeError(f"apply_fn must be a function apply_fn(params, X), got "
                                          f"{_validate._show(apply_fn)}")
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves or not all(hasattr(leaf, "dtype") for leaf in leaves):
        raise _validate.ArgumentTypeError(f"params must be a pytree of arrays, got {_validate._show(params)}")
    if np.dtype(leaves[0].dtype).kind != "f":
        raise _validate.ArgumentTypeError(f"params must hold floating-point arrays, got dtype {leaves[0].dtype}")


# --------------------------------------------------------------------------------------------------
# the empirical NTK


def empirical_ntk(apply_fn: Callable, params, X1, X2=None, *, chunk_size: int = 16) -> np.ndarray:
    """Empirical NTK of ``apply_fn(params, X) -> (n, k)`` between the rows of X1 and X2, traced over outputs.

    Theta(x, x') = sum_k sum_p (d f_k(x) / d w_p)(d f_k(x') / d w_p), computed blockwise from per-example
    Jacobians (jax.jacrev) so memory is O(chunk_size * k * #params); independent of the network's structure. This is
    the sum over the k outputs (as in Seleznova & Kutyniok's code); neural-tangents'
    ``empirical_ntk_fn(apply_fn, trace_axes=(-1,))`` returns the mean, i.e. this divided by k (tested).
    """
    _check_fn(apply_fn, params)
    X1 = _validate.matrix(X1, "X1")
    X2 = X1 if X2 is None else _validate.matrix(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 and X2 have different feature dimensions: {X1.shape[1]} vs {X2.shape[1]}")
    chunk_size = _validate.positive_int(chunk_size, "chunk_size")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    A, B = jnp.asarray(X1, dt), jnp.asarray(X2, dt)
    rows = []
    for i in range(0, A.shape[0], chunk_size):
        rows.append(np.concatenate([np.asarray(_ntk_block(apply_fn, params, A[i:i + chunk_size], B[j:j + chunk_size]))
                                    for j in range(0, B.shape[0], chunk_size)], axis=1))
    return np.concatenate(rows, axis=0).astype(np.float64)


def _per_example_jacobian(apply_fn, params, X):
    f = lambda p, x: jnp.reshape(apply_fn(p, x[None]), (-1,))
    return jax.vmap(jax.jacrev(f), (None, 0))(params, X)   # leaves (n, k, *leaf.shape)


@partial(jax.jit, static_argnames="apply_fn")
def _ntk_block(apply_fn, params, A, B):
    Ja, Jb = _per_example_jacobian(apply_fn, params, A), _per_example_jacobian(apply_fn, params, B)
    parts = jax.tree_util.tree_map(
        lambda a, b: jnp.einsum("ikp,jkp->ij", a.reshape(a.shape[0], a.shape[1], -1), b.reshape(b.shape[0], b.shape[1], -1)),
        Ja, Jb)
    return sum(jax.tree_util.tree_leaves(parts))


def ntk_row(apply_fn: Callable, params, x0, X, *, chunk_size: int = 256) -> np.ndarray:
    """One row of the empirical NTK, Theta(x0, x) for every row x of X, traced over the outputs, (len(X),).

    Theta(x0, X) = sum_k J_k(X) J_k(x0)^T with J_k = d f_k / dw: for each output k, one vector-Jacobian product
    gives the gradient v_k = J_k(x0)^T (a pytree shaped like ``params``), and one Jacobian-vector product of
    w -> f(w, X) in the direction v_k gives J(X) v_k, whose k-th column is J_k(X) J_k(x0)^T. Memory is that of
    two copies of the parameters plus one forward pass on ``chunk_size`` rows, so it works where the Jacobian
    (len(X) x #params) does not fit: a width-10,000 net with 2e8 parameters. Equals the row of
    :func:`empirical_ntk` (tested).
    """
    _check_fn(apply_fn, params)
    x0 = _validate.vector(x0, "x0")
    X = _validate.matrix(X, "X")
    if X.shape[1] != x0.shape[0]:
        raise ValueError(f"x0 and X have different feature dimensions: {x0.shape[0]} vs {X.shape[1]}")
    chunk_size = _validate.positive_int(chunk_size, "chunk_size")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    a, B = jnp.asarray(x0[None], dt), jnp.asarray(X, dt)
    k = int(np.prod(jax.eval_shape(lambda p: apply_fn(p, a), params).shape))
    row = np.zeros(X.shape[0])
    for j in range(k):
        v = _output_gradient(apply_fn, params, a, j)
        row += np.concatenate([np.asarray(_jvp_column(apply_fn, params, v, B[i:i + chunk_size], j), np.float64)
                               for i in range(0, B.shape[0], chunk_size)])
        del v
    return row


@partial(jax.jit, static_argnames=("apply_fn", "k"))
def _output_gradient(apply_fn, params, a, k):
    return jax.grad(lambda p: jnp.reshape(apply_fn(p, a), (-1,))[k])(params)


@partial(jax.jit, static_argnames=("apply_fn", "k"))
def _jvp_column(apply_fn, params, v, B, k):
    _, tangent = jax.jvp(lambda p: apply_fn(p, B), (params,), (v,))
    return jnp.reshape(tangent, (B.shape[0], -1))[:, k]


# --------------------------------------------------------------------------------------------------
# kernel distance and velocity (Fort et al. 2020)


def kernel_distance(K1, K2) -> float:
    """S(K1, K2) = 1 - <K1, K2>_F / (||K1||_F ||K2||_F), the kernel distance of Fort et al. (2020).

    One minus the cosine similarity of the kernels as vectors: S(K, cK) = 0 for c > 0, S is symmetric,
    and S is in [0, 1] for positive semidefinite K1, K2 (then <K1, K2>_F = tr(K1 K2) >= 0). Insensitive to
    the kernel's overall scale, so it measures a change of the kernel's *shape*.
    """
    K1 = _validate.matrix(K1, "K1").astype(np.float64)
    K2 = _validate.matrix(K2, "K2").astype(np.float64)
    if K1.shape != K2.shape:
        raise ValueError(f"K1 and K2 must have the same shape, got {K1.shape} and {K2.shape}")
    n1, n2 = np.linalg.norm(K1), np.linalg.norm(K2)
    if n1 == 0 or n2 == 0:
        raise ValueError("the kernel distance is undefined for a zero kernel (||K||_F = 0)")
    return float(1.0 - np.sum((K1 / n1) * (K2 / n2)))


def distances_from(kernels, reference) -> np.ndarray:
    """S(reference, K_t) for each kernel K_t in ``kernels`` (e.g. the distance from initialisation)."""
    reference = _validate.matrix(reference, "reference")
    kernels = _kernel_list(kernels)
    return np.array([kernel_distance(reference, K) for K in kernels])


def _kernel_list(kernels) -> list:
    if isinstance(kernels, (str, bytes)) or not hasattr(kernels, "__iter__") or \
            (isinstance(kernels, np.ndarray) and kernels.ndim != 3):
        raise _validate.ArgumentTypeError(f"kernels must be a list of kernel matrices, got {_validate._show(kernels)}")
    kernels = list(kernels)
    if not kernels:
        raise ValueError("kernels is empty")
    return kernels


def kernel_velocity(kernels, times) -> tuple[np.ndarray, np.ndarray]:
    """Kernel velocity v(t_i) = S(K_{t_i}, K_{t_{i+1}}) / (t_{i+1} - t_i), as defined by Fort et al. (2020).

    Returns (t_i, v(t_i)) for i = 0..len-2. S between nearby kernels shrinks with the gap (S ~ dt^2 for a
    smooth path, ~ dt for a diffusive one), so velocities are only comparable at one fixed gap dt: record
    the kernels at evenly spaced times.
    """
    kernels = _kernel_list(kernels)
    times = _validate._array(times, "times", "biuf").astype(np.float64)
    if times.ndim == 1 and not np.all(np.isfinite(times)):
        raise ValueError(f"times must be finite, but times[{int(np.flatnonzero(~np.isfinite(times))[0])}] = "
                         f"{float(times[~np.isfinite(times)][0])!r}")
    if times.ndim != 1 or len(times) != len(kernels) or len(times) < 2:
        raise ValueError(f"need one time per kernel and at least two kernels, got {len(times)} times and {len(kernels)} kernels")
    if np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing")
    v = np.array([kernel_distance(a, b) for a, b in zip(kernels[:-1], kernels[1:])]) / np.diff(times)
    return times[:-1], v


def relative_change(K0, K1) -> float:
    """||K1 - K0||_F / ||K0||_F: the size of a kernel change, including its scale (unlike S)."""
    K0 = _validate.matrix(K0, "K0").astype(np.float64)
    K1 = _validate.matrix(K1, "K1").astype(np.float64)
    if K0.shape != K1.shape:
        raise ValueError(f"K0 and K1 must have the same shape, got {K0.shape} and {K1.shape}")
    norm = np.linalg.norm(K0)
    if norm == 0:
        raise ValueError("the relative change is undefined for K0 = 0")
    return float(np.linalg.norm(K1 - K0) / norm)


# --------------------------------------------------------------------------------------------------
# one gradient step on one sample (Seleznova & Kutyniok 2022, Theorem 7 on the slides)


class OneStep(NamedTuple):
    """Theta(x, x) before and after the step, and the step's change Delta Theta(x, x) = after - before."""

    theta: np.ndarray
    theta_next: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        return self.theta_next - self.theta


def one_step_ntk_change(apply_fn: Callable, params, x, y, lr: float, *, batched: bool = False) -> OneStep:
    """Theta(x, x) before and after ONE gradient-descent step on the single sample (x, y).

    The step is w' = w - lr * grad_w l(w) with l(w) = 1/2 ||f(w, x) - y||^2, i.e. w' = w - lr (f - y)^T J;
    Theta(x, x) = sum_k ||d f_k(x)/dw||^2 is the diagonal of the traced NTK at the same x. This is the
    "single GD update on a sample (x, y)" of Theorem 7 (Seleznova & Kutyniok 2022): averaging
    ``delta`` and ``theta`` over initialisations gives E[Delta Theta(x, x)] / E[Theta(x, x)].

    ``batched=True``: ``params`` holds many initialisations stacked along a leading axis (e.g. from
    ntklib.models.deepnets.init_mlp_batch) and the result has one entry per initialisation.
    """
    _check_fn(apply_fn, params)
    x = _validate.vector(x, "x")
    y = np.atleast_1d(_validate._array(y, "y", "biuf").astype(np.float64))
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be a finite scalar or 1-D target, got {y!r}")
    lr = _validate.positive(lr, "lr")
    _validate.flag(batched, "batched")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    xs, ys, lrs = jnp.asarray(x, dt), jnp.asarray(y, dt), jnp.asarray(lr, dt)
    theta, theta_next = _jit_one_step(apply_fn, bool(batched), params, xs, ys, lrs)
    return OneStep(np.asarray(theta, np.float64), np.asarray(theta_next, np.float64))


def ntk_diagonal(apply_fn: Callable, params, x, *, batched: bool = False) -> np.ndarray:
    """Theta(x, x) = sum_k ||d f_k(x)/dw||^2 at one input x; ``batched=True`` for stacked initialisations
    (one value per initialisation, e.g. to measure the dispersion E[Theta^2] / E[Theta]^2 over them)."""
    _check_fn(apply_fn, params)
    x = _validate.vector(x, "x")
    _validate.flag(batched, "batched")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    return np.asarray(_jit_theta_diag(apply_fn, bool(batched), params, jnp.asarray(x, dt)), np.float64)


@partial(jax.jit, static_argnames=("apply_fn", "batched"))
def _jit_theta_diag(apply_fn, batched, params, x):
    if not batched:
        return _theta_diag(apply_fn, params, x)
    return jax.vmap(lambda p: _theta_diag(apply_fn, p, x))(params)


def _theta_diag(apply_fn, params, x):
    out = lambda p: jnp.reshape(apply_fn(p, x[None]), (-1,))
    if jax.eval_shape(out, params).shape == (1,):     # scalar output: one gradient (compiles much faster)
        J = jax.grad(lambda p: out(p)[0])(params)
    else:
        J = jax.jacrev(out)(params)
    return sum(jnp.sum(leaf * leaf) for leaf in jax.tree_util.tree_leaves(J))


def _one_step(apply_fn, params, x, y, lr):
    loss = lambda p: 0.5 * jnp.sum((jnp.reshape(apply_fn(p, x[None]), (-1,)) - y) ** 2)
    g = jax.grad(loss)(params)
    stepped = jax.tree_util.tree_map(lambda w, gw: w - lr * gw, params, g)
    return _theta_diag(apply_fn, params, x), _theta_diag(apply_fn, stepped, x)


@partial(jax.jit, static_argnames=("apply_fn", "batched"))
def _jit_one_step(apply_fn, batched, params, x, y, lr):
    if not batched:
        return _one_step(apply_fn, params, x, y, lr)
    return jax.vmap(lambda p: _one_step(apply_fn, p, x, y, lr))(params)


# --------------------------------------------------------------------------------------------------
# class structure of the NTK (Seleznova & Kutyniok 2022)


class ClassStructure(NamedTuple):
    """Block means of a kernel on a labelled probe set; ``ratio_c``, ``ratio_n`` are the slides' ratios."""

    theta_d: float   # mean of the diagonal, Theta(x_i, x_i)
    theta_c: float   # mean over same-class pairs (i, j)
    theta_n: float   # mean over different-class pairs

    @property
    def ratio_c(self) -> float:
        return self.theta_c / self.theta_d

    @property
    def ratio_n(self) -> float:
        return self.theta_n / self.theta_d


def class_structure(K, labels, *, include_diagonal: bool = True) -> ClassStructure:
    """Theta_d, Theta_c and Theta_n of a kernel K on points with class ``labels``.

    Theta_d is the mean of K_ii; Theta_c the mean of K_ij over ordered same-class pairs; Theta_n over
    different-class pairs. Seleznova & Kutyniok's code takes Theta_c as the mean of the whole same-class
    diagonal blocks of the class-sorted kernel, *including* the diagonal (``include_diagonal=True``,
    the default); ``False`` averages over i != j only. The result does not depend on the order of the points.
    """
    K = _validate.kernel(K, "K")
    _validate.flag(include_diagonal, "include_diagonal")
    labels = _labels_array(labels)
    if labels.ndim != 1 or labels.shape[0] != K.shape[0]:
        raise ValueError(f"labels must be 1-D with one entry per row of K ({K.shape[0]}), got shape {labels.shape}")
    same = labels[:, None] == labels[None, :]
    if same.all():
        raise ValueError("class_structure needs at least two classes among the labels")
    if not include_diagonal:
        same = same & ~np.eye(len(labels), dtype=bool)
        if not same.any():
            raise ValueError("every class has a single point: no same-class pairs off the diagonal")
    return ClassStructure(float(np.mean(np.diag(K))), float(K[same].mean()),
                          float(K[labels[:, None] != labels[None, :]].mean()))


def _labels_array(labels) -> np.ndarray:
    """Class labels as an array: numbers (finite) or strings; NaN would make every NaN point its own class."""
    try:
        labels = np.asarray(labels)
    except ValueError as err:
        raise ValueError(f"labels must be a 1-D array of class labels: {err}") from None
    if labels.dtype.kind == "O" or (labels.dtype.kind not in "biufUS"):
        raise _validate.ArgumentTypeError(f"labels must hold numbers or strings, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("labels contains NaN or inf")
    return labels


def class_sorted_probe(labels, per_class: int, seed: int, classes=None) -> np.ndarray:
    """Indices of a probe set with ``per_class`` points of each class, drawn with default_rng(seed) and
    sorted by class (so the class blocks of a kernel on it are contiguous, as in Seleznova & Kutyniok)."""
    labels = _labels_array(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be 1-D and non-empty, got shape {labels.shape}")
    per_class = _validate.positive_int(per_class, "per_class")
    seed = _validate.seed(seed)
    if classes is not None:
        classes = _labels_array(classes)
        if classes.ndim != 1 or classes.size == 0:
            raise ValueError(f"classes must be a non-empty 1-D list of labels, got shape {classes.shape}")
        if len(np.unique(classes)) != len(classes):
            raise ValueError("classes lists a class twice")
    classes = np.unique(labels) if classes is None else classes
    rng = np.random.default_rng(seed)
    out = []
    for c in classes:
        pool = np.flatnonzero(labels == c)
        if pool.size < per_class:
            raise ValueError(f"class {c!r} has {pool.size} points, fewer than per_class={per_class}")
        out.append(np.sort(rng.choice(pool, per_class, replace=False)))
    return np.concatenate(out)
