"""The 121 UCI classification sets as preprocessed by Fernández-Delgado et al. (2014).

Reference: M. Fernández-Delgado, E. Cernadas, S. Barro, D. Amorim, "Do we
Need Hundreds of Classifiers to Solve Real World Classification Problems?",
JMLR 15(90):3133-3181, 2014; the 90-set benchmark of S. Arora, S. S. Du, Z. Li,
R. Salakhutdinov, R. Wang, D. Yu, "Harnessing the Power of Infinitely Wide
Deep Nets on Small-data Tasks", ICLR 2020.  Data: UCI ML Repository (Dua &
Graff).

Layout of ``<data_dir>/uci/<name>/``, as in the authors' ``data.tar.gz`` (``python -m ntklib data
--fetch uci`` keeps the four files below of each of the 90 benchmark sets):

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

from ._download import fetch_command, verify_sha256
from ._errors import DataCorruptError, DataMissingError, reading
from ._paths import ENV_VAR, describe_root, resolve_root
from ._registry import CHECKSUM_DIR, MIRRORS, REGISTRY
from ._status import fetch

#: The committed list of the 90 benchmark sets (one name per line).  The rule
#: that selects them (Arora et al. 2020): the sets with at most 5,000 samples
#: in total (n_patrons1 + n_patrons2) and no separate test file (no fich2);
#: applied to the 121 sets it gives exactly these 90 (tests/test_datasets_fetch.py
#: re-derives it from the data).
BENCHMARK_LIST = CHECKSUM_DIR / "arora2020_90.txt"
MAX_SAMPLES = 5000

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


def _missing(path: Path, root: Path, explicit: bool, what: str, failure: str = "") -> DataMissingError:
    archive = (MIRRORS.get("uci") or [""])[0] + "data.tar.gz"
    return DataMissingError(
        f"{what} not found: {path}\nData directory: {describe_root(root, explicit)}.\n"
        + (f"Download failed: {failure}\n" if failure else "")
        + f"Fix: run `{fetch_command('uci')}` (unpacks the 90 benchmark sets from {archive}, "
        f"Fernández-Delgado et al. 2014), or set ${ENV_VAR} to a directory that contains uci/.")


def uci_benchmark_names(data_dir: PathLike = None) -> list[str]:
    """The 90 data set names of the Arora et al. (2020) benchmark, in alphabetical order.

    Read from the list committed with ntklib (``checksums/arora2020_90.txt``),
    not from the data directory; ``data_dir`` is accepted for backwards
    compatibility and ignored.
    """
    return BENCHMARK_LIST.read_text(encoding="ascii").split()


def is_benchmark_set(info: dict[str, str]) -> bool:
    """Arora et al.'s selection rule on a set's ``<name>.txt`` fields."""
    total = int(info["n_patrons1"]) + int(info.get("n_patrons2", 0))
    return "fich2" not in info and total <= MAX_SAMPLES


def _read_info(path: Path) -> dict[str, str]:
    info = {}
    with reading(path, fetch_command("uci")):
        text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise DataCorruptError(f"{path}: line {line!r} is not 'key= value'")
            info[key.strip()] = value.strip()
    return info


def _read_data(path: Path, rows: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    with reading(path, fetch_command("uci")), open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
    if header != [""] + [f"f{i}" for i in range(1, d + 1)] + ["clase"]:
        raise DataCorruptError(f"{path}: header does not match d={d} features")
    try:
        with reading(path, fetch_command("uci")):
            table = np.loadtxt(path, delimiter="\t", skiprows=1, ndmin=2, encoding="utf-8")
    except DataCorruptError:
        raise
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
    with reading(path, fetch_command("uci")):
        text = path.read_text(encoding="utf-8")
    try:
        lines = [np.array(line.split(), dtype=np.int64)
                 for line in text.splitlines() if line.strip()]
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


def _verify(folder: Path, rel_files: list[str]) -> None:
    """Check the files of one set against the committed digests (sets outside the 90 have none)."""
    digests = {f.name: f.sha256 for f in REGISTRY["uci"].files}
    for rel in rel_files:
        verify_sha256(folder.parent / rel, digests.get(rel, ()), fetch_command("uci"))


def load_uci(name: str, data_dir: PathLike = None, download: bool = True) -> UCIDataset:
    """Load preprocessed UCI set ``name`` (a folder name, e.g. ``"iris"``), fully validated.

    The files of the 90 benchmark sets are checked against the sha256 digests
    committed with ntklib (cached per process); then, for every set: row
    count and column count against ``<name>.txt``, row numbering, labels in
    0..c-1, and that every index line pair partitions the rows.  A missing
    benchmark set is downloaded first if ``download`` (:func:`ntklib.datasets.fetch`).
    """
    if Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"invalid UCI data set name {name!r}")
    root = resolve_root(data_dir)
    folder = root / "uci" / name
    info_path = folder / f"{name}.txt"
    failure = ""
    registered = [root / "uci" / f.name for f in REGISTRY["uci"].files if f.name.startswith(f"{name}/")]
    if download and not all(p.is_file() for p in [info_path, *registered]) and name in uci_benchmark_names():
        st = fetch(["uci"], data_dir)[0]
        failure = "" if st.state == "verified" else st.detail
    if not info_path.is_file():
        raise _missing(info_path, root, data_dir is not None, f"UCI data set {name!r}", failure)
    _verify(folder, [f"{name}/{name}.txt"])
    info = _read_info(info_path)
    try:
        d, c = int(info["n_entradas"]), int(info["n_clases"])
        files = [(info[f"fich{k}"], int(info[f"n_patrons{k}"])) for k in (1, 2) if k == 1 or "fich2" in info]
    except (KeyError, ValueError) as e:
        raise DataCorruptError(f"{info_path}: missing or bad field {e}") from e
    needed = [fname for fname, _ in files] + ["conxuntos.dat", "conxuntos_kfold.dat"]
    for fname in needed:
        if Path(fname).name != fname:
            raise DataCorruptError(f"{info_path}: file name {fname!r} must not contain a path")
        if not (folder / fname).is_file():
            raise _missing(folder / fname, root, data_dir is not None, f"file of UCI set {name!r}")
    _verify(folder, [f"{name}/{fname}" for fname in needed])
    tables = [_read_data(folder / fname, rows, d, c) for fname, rows in files]
    (X, y), test = tables[0], (tables[1] if len(tables) > 1 else (None, None))
    (train_val,) = _read_splits(folder / "conxuntos.dat", 2, len(y))
    folds = _read_splits(folder / "conxuntos_kfold.dat", 8, len(y))
    return UCIDataset(name, X, y, c, train_val, tuple(folds), *test)
