"""Loaders for MNIST, Fashion-MNIST and CIFAR-10 as plain uint8 numpy arrays.

References: LeCun, Bottou, Bengio & Haffner (1998), Proc. IEEE 86(11) (MNIST);
Xiao, Rasul & Vollgraf (2017), arXiv:1708.07747 (Fashion-MNIST); Krizhevsky
(2009), "Learning Multiple Layers of Features from Tiny Images" (CIFAR-10).
"""

from __future__ import annotations

import os

import numpy as np

from . import cifar
from ._download import ensure_files
from ._errors import DataCorruptError
from ._paths import resolve_root
from ._registry import REGISTRY
from ._status import fetch, status
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

IMAGE_DATASETS = ("mnist", "fashion-mnist", "cifar10")
_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

#: Records per canonical CIFAR-10 batch file (checked on load).
CIFAR10_BATCH_RECORDS = 10_000

PathLike = str | os.PathLike | None


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")


def _load_idx_pair(name: str, split: str, data_dir: PathLike, download: bool):
    _check_split(split)
    files = ensure_files(name, data_dir, download)
    prefix = "train" if split == "train" else "t10k"
    img_path = files[f"{prefix}-images-idx3-ubyte.gz"]
    lab_path = files[f"{prefix}-labels-idx1-ubyte.gz"]
    images = read_idx(img_path, IMAGES_MAGIC)
    labels = read_idx(lab_path, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise DataCorruptError(f"{img_path}: images are {images.shape[1:]}, expected (28, 28)")
    if len(images) != len(labels):
        raise DataCorruptError(f"{img_path} has {len(images)} images but {lab_path} "
                               f"has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataCorruptError(f"{lab_path}: label {labels.max()} outside 0..9")
    return images, labels


def load_mnist(split: str = "train", data_dir: PathLike = None,
               download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` -> (images uint8 (N, 28, 28), labels uint8 (N,)); N = 60000 / 10000.

    Pixels are 0 (background) to 255 (ink).  Files are sha256-verified.
    """
    return _load_idx_pair("mnist", split, data_dir, download)


def load_fashion_mnist(split: str = "train", data_dir: PathLike = None,
                       download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``split`` -> (images uint8 (N, 28, 28), labels uint8 (N,)).

    Same format and sizes as MNIST (10 clothing classes).  Also found in
    Debian's ``/usr/share/datasets/fashion-mnist/`` when not in the data dir.
    """
    return _load_idx_pair("fashion-mnist", split, data_dir, download)


def load_cifar10(split: str = "train", data_dir: PathLike = None,
                 download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 ``split`` -> (images uint8 (N, 32, 32, 3) RGB, labels uint8 (N,)).

    Train = ``data_batch_1..5.bin`` in order (50000), test = ``test_batch.bin``
    (10000).  Downloading fetches the sha256-verified binary archive
    (~170 MB) and unpacks the six batch files.
    """
    _check_split(split)
    files = ensure_files("cifar10", data_dir, download)
    names = ([f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)]
             if split == "train" else ["cifar-10-batches-bin/test_batch.bin"])
    parts = [cifar.read_cifar_batch(files[n], CIFAR10_BATCH_RECORDS) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


_LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist, "cifar10": load_cifar10}


def load_images(name: str, split: str = "train", data_dir: PathLike = None,
                download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch to the loader of ``name`` in ``{"mnist", "fashion-mnist", "cifar10"}``."""
    if name not in _LOADERS:
        raise ValueError(f"unknown image data set {name!r}; choose from {IMAGE_DATASETS}")
    return _LOADERS[name](split, data_dir=data_dir, download=download)


def cifar_or_standin(data_dir: PathLike = None, download: bool = True) -> str:
    """``"cifar10"`` if CIFAR-10 is in the data dir or can be downloaded, else ``"fashion-mnist"``.

    CIFAR-10 cannot always be had offline; Fashion-MNIST is the agreed
    stand-in, and pages using it must say so (see :func:`dataset_label`).
    "In the data dir" means the six batch files, or the archive that loading
    unpacks into them.  A damaged copy still counts as present, so loading it
    is an error rather than a silent switch.  Without it, and if
    ``download``, one download is tried (offline this fails at once, on the
    DNS lookup); a failed attempt is remembered for the rest of the process,
    so repeated calls do not retry it.
    """
    spec = REGISTRY["cifar10"]
    if spec.archive is not None and (resolve_root(data_dir) / spec.folder / spec.archive.name).is_file():
        return "cifar10"
    state = status("cifar10", data_dir).state
    if state in ("verified", "corrupt"):
        return "cifar10"
    if download and fetch(["cifar10"], data_dir)[0].state == "verified":
        return "cifar10"
    return "fashion-mnist"


def dataset_label(name: str, standin_for: str | None = None) -> str:
    """Human-readable name for pages, e.g. ``"Fashion-MNIST (stand-in for CIFAR-10)"``.

    ``standin_for`` is the data set that ``name`` replaces, if any; e.g.
    ``dataset_label(n, "cifar10" if n != "cifar10" else None)``.
    """
    if name not in _LABELS or (standin_for is not None and standin_for not in _LABELS):
        raise ValueError(f"unknown image data set {name!r}/{standin_for!r}; choose from {IMAGE_DATASETS}")
    if standin_for is None or standin_for == name:
        return _LABELS[name]
    return f"{_LABELS[name]} (stand-in for {_LABELS[standin_for]})"
