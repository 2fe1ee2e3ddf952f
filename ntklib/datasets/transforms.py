"""Input normalisation and label noise for the lecture's experiments.

* :func:`unit_norm`: NTK results for fully connected nets are stated for inputs
  on the unit sphere (Jacot, Gabriel & Hongler 2018; Arora et al. 2019), where
  the kernel depends only on the angle between inputs.
* :func:`random_labels`, :func:`corrupt_labels`: the randomisation tests of
  Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep learning requires
  rethinking generalization", ICLR 2017.
* :func:`symmetric_flip`: symmetric label noise, i.e. the transition matrix
  ``T = (1 - p) I + p / (C - 1) (11^T - I)`` (e.g. Patrini et al., CVPR 2017).

Labels are either ``{-1, +1}`` (binary tasks) or integers ``0..C-1``.
"""

from __future__ import annotations

import numpy as np

from .._validate import unit_norm  # one implementation, shared with the kernels


def _check_p(p: float) -> float:
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"p must be in [0, 1], got {p}")
    return float(p)


def _domain(y: np.ndarray, num_classes: int | None) -> np.ndarray:
    """The label alphabet: {-1, +1} for signed labels, else 0..num_classes-1."""
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if num_classes is None:
        if y.size and np.isin(y, (-1, 1)).all():
            return np.array([-1, 1], dtype=y.dtype)
        num_classes = int(y.max()) + 1 if y.size else 0
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes, got num_classes={num_classes}")
    domain = np.arange(num_classes).astype(y.dtype)
    if not np.isin(y, domain).all():
        raise ValueError(f"labels must be integers in 0..{num_classes - 1} (or all in {{-1, +1}})")
    return domain


def random_labels(n: int, seed: int) -> np.ndarray:
    """``n`` i.i.d. uniform labels in {-1.0, +1.0} (float64), from ``default_rng(seed)``."""
    if int(n) != n or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}")
    return np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=int(n))


def corrupt_labels(y: np.ndarray, p: float, seed: int,
                   num_classes: int | None = None) -> np.ndarray:
    """Replace a fraction ``p`` of the labels by labels drawn uniformly at random.

    Exactly ``round(p * n)`` positions, chosen uniformly without replacement,
    get a label drawn uniformly from the whole alphabet, so a replaced label
    can equal the original (as in Zhang et al. 2017, where p = 1 gives fully
    random labels); the expected fraction of changed labels is ``p (C-1)/C``.
    Zhang et al. corrupt each label independently with probability p; fixing
    the count instead keeps the expectation and removes one source of
    variance.  The alphabet is {-1, +1} if all labels are ±1, else
    ``0..num_classes-1`` (default ``max(y) + 1``).  Returns a new array.
    """
    y = np.asarray(y)
    p = _check_p(p)
    domain = _domain(y, num_classes)
    rng = np.random.default_rng(seed)
    out = y.copy()
    idx = rng.choice(y.size, size=round(p * y.size), replace=False)
    out[idx] = domain[rng.integers(0, domain.size, size=idx.size)]
    return out


def symmetric_flip(y: np.ndarray, p: float, seed: int,
                   num_classes: int | None = None) -> np.ndarray:
    """Flip each label independently with probability ``p`` to a *different* class.

    The new class is uniform over the other ``C - 1`` classes (for ±1 labels:
    the sign is flipped), i.e. label noise with the symmetric transition
    matrix above.  Alphabet as in :func:`corrupt_labels`.  Returns a new array.
    """
    y = np.asarray(y)
    p = _check_p(p)
    domain = _domain(y, num_classes)
    rng = np.random.default_rng(seed)
    flip = rng.random(y.size) < p
    pos = np.searchsorted(domain, y[flip])
    shift = rng.integers(1, domain.size, size=pos.size)  # never 0: always a different class
    out = y.copy()
    out[flip] = domain[(pos + shift) % domain.size]
    return out
