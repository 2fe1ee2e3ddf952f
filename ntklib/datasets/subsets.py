"""The lecture's binary task: two classes of an image data set, ±1 labels, unit-norm inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .images import load_images
from .transforms import unit_norm


@dataclass(frozen=True, eq=False)
class TwoClassData:
    """A seeded two-class subsample; see :func:`two_class`.  Arrays are read-only."""

    X_train: np.ndarray  # (n_train, d) float64, unit rows
    y_train: np.ndarray  # (n_train,) float64 in {-1, +1}
    X_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)
    name: str  # data set, e.g. "mnist"
    classes: tuple[int, int]  # original class ids mapped to (-1, +1)
    seed: int
    train_idx: np.ndarray  # rows of the train split that were drawn, in order
    test_idx: np.ndarray  # rows of the test split

    def __post_init__(self):
        for a in (self.X_train, self.y_train, self.X_test, self.y_test, self.train_idx, self.test_idx):
            a.flags.writeable = False


def _draw(images, labels, classes, n, rng, split):
    pool = np.flatnonzero(np.isin(labels, classes))
    if n > pool.size:
        raise ValueError(f"asked for {n} {split} examples of classes {classes}, "
                         f"only {pool.size} exist")
    idx = pool[rng.permutation(pool.size)[:n]]
    X = unit_norm(images.reshape(len(images), -1)[idx])
    y = np.where(labels[idx] == classes[1], 1.0, -1.0)
    return X, y, idx


def two_class(name: str, n_train: int, n_test: int, seed: int,
              classes: tuple[int, int] = (0, 1),
              data_dir: str | os.PathLike | None = None, download: bool = True) -> TwoClassData:
    """Seeded two-class subset of image data set ``name`` (mnist, fashion-mnist, cifar10).

    * Labels: ``classes[0]`` -> -1, ``classes[1]`` -> +1 (so for the default
      ``(0, 1)``, ``y = 2 * label - 1``).
    * Inputs: images flattened (row-major; for CIFAR-10 height, width, RGB),
      converted to float64 and scaled to unit Euclidean norm, the setting of
      the NTK theory (inputs on the sphere).
    * Sampling: uniform without replacement from the union of the two classes
      (not class-balanced), training points from the train split and test
      points from the test split, using ``np.random.default_rng(seed)``.  Each
      split is drawn as a prefix of a random permutation, so for a fixed seed
      the training sets are nested (a larger ``n_train`` extends the smaller
      one) and the test set does not depend on ``n_train``.
    """
    a, b = (int(c) for c in classes)
    if a == b:
        raise ValueError(f"classes must be two different labels, got {classes}")
    if int(n_train) != n_train or n_train < 1 or int(n_test) != n_test or n_test < 0:
        raise ValueError(f"need n_train >= 1 and n_test >= 0, got {n_train}, {n_test}")
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in (("train", int(n_train)), ("test", int(n_test))):
        images, labels = load_images(name, split, data_dir=data_dir, download=download)
        if not np.isin((a, b), labels).all():
            raise ValueError(f"classes {classes} not both present in {name}; labels are "
                             f"{np.unique(labels).tolist()}")
        splits[split] = _draw(images, labels, (a, b), n, rng, split)
    (X_tr, y_tr, i_tr), (X_te, y_te, i_te) = splits["train"], splits["test"]
    return TwoClassData(X_tr, y_tr, X_te, y_te, name, (a, b), seed, i_tr, i_te)
