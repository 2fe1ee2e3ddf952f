"""The 121 UCI classification sets as preprocessed by Fernández-Delgado et al. (2014).

Reference: M. Fernández-Delgado, E. Cernadas, S. Barro, D. Amorim, "Do we
Need Hundreds of Classifiers to Solve Real World Classification Problems?",
JMLR 15(90):3133-3181, 2014; the 90-set benchmark of S. Arora, S. S. Du, Z. Li,
R. Salakhutdinov, R. Wang, D. Yu, "Harnessing the Power of Infinitely Wide
Deep Nets on Small-data Tasks", ICLR 2020.  Data: UCI ML Repository (Dua &
Graff).

Layout of ``<data_dir>/uci/<name>/`` (see the shared data README, section 3):

* ``<name>.txt``: ``key= value`` lines (``n_entradas`` = d, ``n_clases`` = c,
  ``fich1``/``n_patrons1`` = data file and rows, optional ``fich2``/
  ``n_patrons2`` = separate test file).
* data files: tab-separated; a header line (empty cell, ``f1..fd``,
  ``clase``), then per row: its 1-based row number, d standardised
  features, the class 0..c-1.
* ``conxuntos.dat``: 2 lines of 0-based row indices (train, validation);
  ``conxuntos_kfold.dat``: 8 lines, 4 (train, test) pairs.  Every line pair
  partitions the rows of ``fich1``.  The 4 test sets are drawn independently,
  so they overlap across folds: this is not a partition into 4 blocks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import DataCorruptError, DataMissingError
from ._paths import ENV_VAR, describe_root, resolve_root

BENCHMARK_LIST = "ARORA2020_90_DATASETS.txt"

PathLike = str | os.PathLike | None
Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class UCIDataset:
    """One preprocessed UCI set; index arrays are 0-based rows of ``X``."""

    name: str
    X: np.ndarray  # (n, d) float64, standardised features
    y: np.ndarray  # (n,) int64, classes 0..n_classes-1
    n_classes: int
    train_val_split: Split  # (train_idx, val_idx), for hyper-parameter selection
    folds: tuple[Split, ...]  # 4 x (train_idx, test_idx)
    X_test: np.ndarray | None = None  # the separate test file, for the sets that have one
    y_test: np.ndarray | None = None


def _missing(path: Path, root: Path, explicit: bool, what: str) -> DataMissingError:
    return DataMissingError(
        f"{what} not found: {path}\nData directory: {describe_root(root, explicit)}.\n"
        f"The UCI collection must be at <data dir>/uci/<name>/ (Fernández-Delgado et al. 2014, "
        f"http://persoal.citius.usc.es/manuel.fernandez.delgado/papers/jmlr/data.tar.gz); "
        f"set ${ENV_VAR} to a directory that contains uci/.")


def uci_benchmark_names(data_dir: PathLike = None) -> list[str]:
    """The 90 data set names of the Arora et al. (2020) benchmark, from ``uci/ARORA2020_90_DATASETS.txt``."""
    root = resolve_root(data_dir)
    path = root / "uci" / BENCHMARK_LIST
    if not path.is_file():
        raise _missing(path, root, data_dir is not None, "UCI benchmark list")
    return path.read_text().split()


def _read_info(path: Path) -> dict[str, str]:
    info = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise DataCorruptError(f"{path}: line {line!r} is not 'key= value'")
            info[key.strip()] = value.strip()
    return info


def _read_data(path: Path, rows: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
    if header != [""] + [f"f{i}" for i in range(1, d + 1)] + ["clase"]:
        raise DataCorruptError(f"{path}: header does not match d={d} features")
    try:
        table = np.loadtxt(path, delimiter="\t", skiprows=1, ndmin=2)
    except ValueError as e:
        raise DataCorruptError(f"{path}: unreadable row ({e})") from e
    if table.shape != (rows, d + 2):
        raise DataCorruptError(f"{path}: table is {table.shape}, expected ({rows}, {d + 2})")
    if not np.array_equal(table[:, 0], np.arange(1, rows + 1)):
        raise DataCorruptError(f"{path}: first column is not the row numbers 1..{rows}")
    y = table[:, -1]
    if not (np.isin(y, np.arange(c))).all():
        raise DataCorruptError(f"{path}: class labels must be integers in 0..{c - 1}")
    return np.ascontiguousarray(table[:, 1:-1]), y.astype(np.int64)


def _read_splits(path: Path, n_lines: int, n: int) -> list[Split]:
    try:
        lines = [np.array(line.split(), dtype=np.int64)
                 for line in path.read_text().splitlines() if line.strip()]
    except ValueError as e:
        raise DataCorruptError(f"{path}: non-integer index ({e})") from e
    if len(lines) != n_lines:
        raise DataCorruptError(f"{path}: {len(lines)} index lines, expected {n_lines}")
    pairs = list(zip(lines[0::2], lines[1::2], strict=True))
    for k, (a, b) in enumerate(pairs):
        if not np.array_equal(np.sort(np.concatenate([a, b])), np.arange(n)):
            raise DataCorruptError(f"{path}: lines {2 * k + 1}-{2 * k + 2} are not a partition "
                                   f"of the 0-based rows 0..{n - 1}")
    return pairs


def load_uci(name: str, data_dir: PathLike = None) -> UCIDataset:
    """Load preprocessed UCI set ``name`` (a folder name, e.g. ``"iris"``), fully validated.

    Checks: row count and column count against ``<name>.txt``, row numbering,
    labels in 0..c-1, and that every index line pair partitions the rows.
    """
    if Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"invalid UCI data set name {name!r}")
    root = resolve_root(data_dir)
    folder = root / "uci" / name
    info_path = folder / f"{name}.txt"
    if not info_path.is_file():
        raise _missing(info_path, root, data_dir is not None, f"UCI data set {name!r}")
    info = _read_info(info_path)
    try:
        d, c = int(info["n_entradas"]), int(info["n_clases"])
        files = [(info[f"fich{k}"], int(info[f"n_patrons{k}"])) for k in (1, 2) if k == 1 or "fich2" in info]
    except (KeyError, ValueError) as e:
        raise DataCorruptError(f"{info_path}: missing or bad field {e}") from e
    tables = []
    for fname, rows in files:
        path = folder / fname
        if not path.is_file():
            raise _missing(path, root, data_dir is not None, f"data file of UCI set {name!r}")
        tables.append(_read_data(path, rows, d, c))
    (X, y), test = tables[0], (tables[1] if len(tables) > 1 else (None, None))
    for f in ("conxuntos.dat", "conxuntos_kfold.dat"):
        if not (folder / f).is_file():
            raise _missing(folder / f, root, data_dir is not None, f"split file of UCI set {name!r}")
    (train_val,) = _read_splits(folder / "conxuntos.dat", 2, len(y))
    folds = _read_splits(folder / "conxuntos_kfold.dat", 8, len(y))
    return UCIDataset(name, X, y, c, train_val, tuple(folds), *test)
