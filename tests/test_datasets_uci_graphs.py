"""UCI (Fernández-Delgado et al. 2014 layout) and GIN-format graph readers on files written here.

The files written here are not the canonical ones, so the committed digest
lists are emptied for these tests (no digest = structural checks only), except
where a test registers the toy files' own digests to test verification on load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import ntklib.datasets as D
from ntklib.datasets import _registry, _status


@pytest.fixture(autouse=True)
def toy_registry(monkeypatch):
    """No network, and no digests for the toy files (they are not the canonical ones)."""
    for name in list(_registry.MIRRORS):
        monkeypatch.setitem(_registry.MIRRORS, name, [])
    for name in ("uci", "graphs"):
        monkeypatch.setitem(_registry.REGISTRY, name,
                            dataclasses.replace(_registry.REGISTRY[name], files=()))
    monkeypatch.setattr(_status, "_FAILED", {})


def register_digests(monkeypatch, name: str, folder: Path) -> None:
    """Register the current digest of every file under ``folder`` (relative to <root>/<name>/)."""
    base = folder.parent
    files = tuple(_registry.FileSpec(p.relative_to(base).as_posix(),
                                     (hashlib.sha256(p.read_bytes()).hexdigest(),))
                  for p in sorted(folder.rglob("*")) if p.is_file())
    monkeypatch.setitem(_registry.REGISTRY, name, dataclasses.replace(_registry.REGISTRY[name], files=files))

# --------------------------------------------------------------------------- UCI writers


def write_uci(root: Path, name: str, X, y, c: int, train_val, folds, test=None) -> Path:
    """One data set folder in the layout of the shared README, section 3."""
    folder = root / "uci" / name
    folder.mkdir(parents=True)
    d = X.shape[1]

    def table(fname, X, y):
        lines = ["\t".join([""] + [f"f{j}" for j in range(1, d + 1)] + ["clase"])]
        lines += ["\t".join([str(i + 1)] + [f"{v:g}" for v in row] + [str(lab)])
                  for i, (row, lab) in enumerate(zip(X, y, strict=True))]
        (folder / fname).write_text("\n".join(lines) + "\n")

    info = [f"n_entradas= {d}", f"n_clases= {c}", f"n_arquivos= {1 if test is None else 2}"]
    if test is None:
        table(f"{name}_R.dat", X, y)
        info += [f"fich1= {name}_R.dat", f"n_patrons1= {len(y)}"]
    else:
        table(f"{name}_train_R.dat", X, y)
        table(f"{name}_test_R.dat", *test)
        info += [f"fich1= {name}_train_R.dat", f"n_patrons1= {len(y)}",
                 f"fich2= {name}_test_R.dat", f"n_patrons2= {len(test[1])}"]
    info += [f"n_patrons_entrena= {len(train_val[0])}", f"n_patrons_valida= {len(train_val[1])}",
             "n_conxuntos= 1"]
    (folder / f"{name}.txt").write_text("\n".join(info) + "\n")
    lines = lambda parts: "".join(" ".join(map(str, p)) + " \n" for p in parts)  # noqa: E731
    (folder / "conxuntos.dat").write_text(lines(train_val))
    (folder / "conxuntos_kfold.dat").write_text(lines([p for f in folds for p in f]))
    return folder


def toy_uci(root: Path, name="toy", test=None, **overrides):
    rng = np.random.default_rng(0)
    n = 8
    args = dict(X=np.round(rng.standard_normal((n, 3)), 4), y=np.array([0, 1, 2, 0, 1, 2, 0, 1]), c=3,
                train_val=([0, 2, 4, 6], [1, 3, 5, 7]),
                folds=[([1, 2, 3, 4, 5, 6], [0, 7]), ([0, 2, 3, 4, 5, 7], [1, 6]),
                       ([0, 1, 3, 5, 6, 7], [2, 4]), ([0, 1, 2, 4, 6, 7], [3, 5])])
    args.update(overrides)
    write_uci(root, name, test=test, **args)
    return args


def test_uci_round_trip(tmp_path):
    args = toy_uci(tmp_path)
    ds = D.load_uci("toy", data_dir=tmp_path)
    np.testing.assert_allclose(ds.X, args["X"])
    np.testing.assert_array_equal(ds.y, args["y"])
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64 and ds.n_classes == 3
    np.testing.assert_array_equal(ds.train_val_split[0], [0, 2, 4, 6])  # 0-based, as stored
    assert len(ds.folds) == 4
    for (tr, te), (etr, ete) in zip(ds.folds, args["folds"], strict=True):
        np.testing.assert_array_equal(tr, etr)
        np.testing.assert_array_equal(te, ete)
    assert ds.X_test is None and ds.y_test is None


def test_uci_separate_test_file(tmp_path):
    Xt, yt = np.array([[1.5, 2.0, -1.0], [0.0, 0.0, 1.0]]), np.array([2, 0])
    toy_uci(tmp_path, test=(Xt, yt))
    ds = D.load_uci("toy", data_dir=tmp_path)
    assert ds.X.shape == (8, 3)
    np.testing.assert_allclose(ds.X_test, Xt)
    np.testing.assert_array_equal(ds.y_test, yt)


def test_uci_indices_must_partition_rows(tmp_path):
    # A 1-based reading of the index files would look like this: row 8 does not exist.
    toy_uci(tmp_path, train_val=([1, 3, 5, 7], [2, 4, 6, 8]))
    with pytest.raises(D.DataCorruptError, match=r"conxuntos\.dat: lines 1-2 are not a partition"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_overlapping_fold_rejected(tmp_path):
    toy_uci(tmp_path, folds=[([1, 2, 3, 4, 5, 6], [0, 7])] * 3 + [([0, 1, 2], [2, 3, 4, 5, 6, 7])])
    with pytest.raises(D.DataCorruptError, match=r"conxuntos_kfold\.dat: lines 7-8"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_bad_label_and_row_count(tmp_path):
    toy_uci(tmp_path, y=np.array([0, 1, 2, 0, 1, 3, 0, 1]))
    with pytest.raises(D.DataCorruptError, match=r"toy_R\.dat: class labels must be integers in 0\.\.2"):
        D.load_uci("toy", data_dir=tmp_path)
    folder = tmp_path / "uci" / "toy"
    info = (folder / "toy.txt").read_text().replace("n_patrons1= 8", "n_patrons1= 9")
    (folder / "toy.txt").write_text(info)
    with pytest.raises(D.DataCorruptError, match=r"table is \(8, 5\), expected \(9, 5\)"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_row_numbers_are_one_based(tmp_path):
    toy_uci(tmp_path)
    path = tmp_path / "uci" / "toy" / "toy_R.dat"
    lines = path.read_text().splitlines()
    lines[1:] = [f"{i}\t" + line.split("\t", 1)[1] for i, line in enumerate(lines[1:])]  # 0-based
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(D.DataCorruptError, match="row numbers 1..8"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_bad_header_and_cells(tmp_path):
    toy_uci(tmp_path)
    path = tmp_path / "uci" / "toy" / "toy_R.dat"
    text = path.read_text()
    path.write_text(text.replace("\tf3\t", "\tf4\t", 1))
    with pytest.raises(D.DataCorruptError, match="header"):
        D.load_uci("toy", data_dir=tmp_path)
    path.write_text(text.replace("\n2\t", "\n2\tNA\t", 1))
    with pytest.raises(D.DataCorruptError, match="unreadable row"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_bad_description(tmp_path):
    toy_uci(tmp_path)
    info = tmp_path / "uci" / "toy" / "toy.txt"
    info.write_text(info.read_text().replace("fich1= toy_R.dat\n", ""))
    with pytest.raises(D.DataCorruptError, match=r"toy\.txt: missing or bad field 'fich1'"):
        D.load_uci("toy", data_dir=tmp_path)
    info.write_text("n_entradas 3\n")
    with pytest.raises(D.DataCorruptError, match="not 'key= value'"):
        D.load_uci("toy", data_dir=tmp_path)


def test_uci_missing(tmp_path):
    with pytest.raises(D.DataMissingError) as err:
        D.load_uci("iris", data_dir=tmp_path)
    assert str(tmp_path / "uci" / "iris" / "iris.txt") in str(err.value)
    assert "NTK_DATA_DIR" in str(err.value)
    toy_uci(tmp_path)
    (tmp_path / "uci" / "toy" / "conxuntos_kfold.dat").unlink()
    with pytest.raises(D.DataMissingError, match="conxuntos_kfold.dat"):
        D.load_uci("toy", data_dir=tmp_path)
    with pytest.raises(ValueError, match="invalid UCI data set name"):
        D.load_uci("../uci", data_dir=tmp_path)


def test_uci_missing_benchmark_set_tries_fetch_and_names_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(_registry.REGISTRY, "uci", dataclasses.replace(
        _registry.REGISTRY["uci"], files=_registry._read_sums("uci.sha256")))
    with pytest.raises(D.DataMissingError) as err:
        D.load_uci("iris", data_dir=tmp_path)  # a benchmark set: fetch is tried (no mirror here)
    msg = str(err.value)
    assert "python -m ntklib data --fetch uci" in msg and "data.tar.gz" in msg
    assert "Download failed" in msg


def test_uci_benchmark_names_are_the_committed_list(tmp_path):
    (tmp_path / "uci").mkdir()
    (tmp_path / "uci" / "ARORA2020_90_DATASETS.txt").write_text("abalone\niris\n")  # ignored
    names = D.uci_benchmark_names(tmp_path)
    assert names == D.uci_benchmark_names() and len(names) == 90 == len(set(names))
    assert names == sorted(names) and {"abalone", "iris", "zoo"} <= set(names)
    assert "adult" not in names and "annealing" not in names  # > 5000 samples / separate test file


# --------------------------------------------------------------------------- verification on load


def test_uci_altered_file_is_corrupt_naming_file_and_fix(tmp_path, monkeypatch):
    toy_uci(tmp_path)
    register_digests(monkeypatch, "uci", tmp_path / "uci" / "toy")
    D.load_uci("toy", data_dir=tmp_path)  # the registered bytes load
    for fname, old, new in [("toy_R.dat", "\t1\n", "\t2\n"),  # one label
                            ("toy_R.dat", "\t0.", "\t1."),  # one feature
                            ("conxuntos.dat", "0 2 4 6", "0 2 6 4")]:  # same partition, other order
        path = tmp_path / "uci" / "toy" / fname
        good = path.read_text()
        assert old in good
        path.write_text(good.replace(old, new, 1))
        with pytest.raises(D.DataCorruptError) as err:
            D.load_uci("toy", data_dir=tmp_path)
        assert str(path) in str(err.value) and "sha256 mismatch" in str(err.value)
        assert "python -m ntklib data --fetch uci" in str(err.value)
        path.write_text(good)
    D.load_uci("toy", data_dir=tmp_path)


def test_graph_altered_tag_is_corrupt(tmp_path, monkeypatch):
    folder = write_graphs(tmp_path, "MUTAG", TOY_GRAPHS, TOY_FOLDS)
    register_digests(monkeypatch, "graphs", folder)
    D.load_graphs("MUTAG", data_dir=tmp_path)
    path = folder / "MUTAG.txt"
    path.write_text(path.read_text().replace("\n9 0\n", "\n8 0\n", 1))  # a node tag; still valid
    with pytest.raises(D.DataCorruptError) as err:
        D.load_graphs("MUTAG", data_dir=tmp_path)
    assert str(path) in str(err.value) and "python -m ntklib data --fetch graphs" in str(err.value)


def test_graph_altered_fold_is_corrupt(tmp_path, monkeypatch):
    folder = write_graphs(tmp_path, "PTC", TOY_GRAPHS, TOY_FOLDS)
    register_digests(monkeypatch, "graphs", folder)
    path = folder / "10fold_idx" / "train_idx-3.txt"
    path.write_text("".join(reversed(path.read_text().splitlines(keepends=True))))  # still a partition
    with pytest.raises(D.DataCorruptError, match="train_idx-3.txt: sha256 mismatch"):
        D.load_graphs("PTC", data_dir=tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_files_are_data_errors_naming_the_file(tmp_path):
    toy_uci(tmp_path)
    path = tmp_path / "uci" / "toy" / "toy_R.dat"
    path.chmod(0)
    try:
        with pytest.raises(D.DataError, match=f"{path}: cannot read the file"):
            D.load_uci("toy", data_dir=tmp_path)
    finally:
        path.chmod(0o644)


def test_permission_error_is_a_data_error(tmp_path, monkeypatch):
    """The same path as above, forced (the suite may run as root, which ignores file modes)."""
    folder = write_graphs(tmp_path, "MUTAG", TOY_GRAPHS, TOY_FOLDS)
    target = folder / "MUTAG.txt"
    real = Path.read_text

    def deny(self, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(D.DataError, match=f"{target}: cannot read the file .*Permission denied") as err:
        D.load_graphs("MUTAG", data_dir=tmp_path)
    assert not isinstance(err.value, D.DataMissingError)


def test_invalid_utf8_is_corrupt_naming_the_file(tmp_path):
    toy_uci(tmp_path)
    info = tmp_path / "uci" / "toy" / "toy.txt"
    info.write_bytes(info.read_bytes().replace(b"n_clases", b"n_clas\xe9s"))
    with pytest.raises(D.DataCorruptError, match=f"{info}: not valid UTF-8"):
        D.load_uci("toy", data_dir=tmp_path)
    folder = write_graphs(tmp_path, "NCI1", TOY_GRAPHS, TOY_FOLDS)
    fold = folder / "10fold_idx" / "test_idx-2.txt"
    fold.write_bytes(b"\xff\xfe1\n")
    with pytest.raises(D.DataCorruptError, match=f"{fold}: not valid UTF-8"):
        D.load_graphs("NCI1", data_dir=tmp_path)
    data = tmp_path / "uci" / "toy" / "toy_R.dat"
    info.write_bytes(info.read_bytes().replace(b"n_clas\xe9s", b"n_clases"))
    data.write_bytes(data.read_bytes().replace(b"\n3\t", b"\n3\xc3\t", 1))
    with pytest.raises(D.DataCorruptError, match=f"{data}: not valid UTF-8"):
        D.load_uci("toy", data_dir=tmp_path)


# --------------------------------------------------------------------------- graphs


def write_graphs(root: Path, name: str, graphs, folds) -> Path:
    """graphs: list of (label, tags, neighbour lists), in the GIN text format."""
    folder = root / "graphs" / name
    (folder / "10fold_idx").mkdir(parents=True)
    lines = [str(len(graphs))]
    for label, tags, nbrs in graphs:
        lines.append(f"{len(tags)} {label}")
        lines += [" ".join(map(str, [t, len(nb), *nb])) for t, nb in zip(tags, nbrs, strict=True)]
    (folder / f"{name}.txt").write_text("\n".join(lines) + "\n")
    for k, (train, test) in enumerate(folds, start=1):
        (folder / "10fold_idx" / f"train_idx-{k}.txt").write_text("".join(f"{i}\n" for i in train))
        (folder / "10fold_idx" / f"test_idx-{k}.txt").write_text("".join(f"{i}\n" for i in test))
    return folder


TOY_GRAPHS = [
    (2, [5, 2, 5], [[1], [0, 2], [1]]),  # path 0-1-2
    (0, [9, 5], [[], []]),  # two isolated nodes
    (2, [2, 2, 2], [[1, 2], [0, 2], [0, 1]]),  # triangle
]
TOY_FOLDS = [([k % 3, (k + 1) % 3], [(k + 2) % 3]) for k in range(10)]


def test_graphs_round_trip_and_remapping(tmp_path):
    write_graphs(tmp_path, "MUTAG", TOY_GRAPHS, TOY_FOLDS)
    ds = D.load_graphs("MUTAG", data_dir=tmp_path)
    assert len(ds.graphs) == 3 and ds.n_classes == 2 and not ds.degree_as_tag
    np.testing.assert_array_equal(ds.labels, [0, 1, 0])  # raw 2, 0, 2: order of first appearance
    np.testing.assert_array_equal(ds.graphs[0].adjacency, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert ds.graphs[0].adjacency.dtype == np.uint8
    np.testing.assert_array_equal(ds.graphs[1].adjacency, np.zeros((2, 2)))
    # raw tags 5, 2, 5 | 9, 5 | 2, 2, 2  ->  0, 1, 0 | 2, 0 | 1, 1, 1
    assert [g.tags.tolist() for g in ds.graphs] == [[0, 1, 0], [2, 0], [1, 1, 1]]
    np.testing.assert_array_equal(ds.graphs[1].features, [[0, 0, 1], [1, 0, 0]])
    assert ds.graphs[2].n_nodes == 3 and ds.graphs[2].n_tags == 3
    assert len(ds.folds) == 10
    np.testing.assert_array_equal(ds.folds[0][0], [0, 1])
    np.testing.assert_array_equal(ds.folds[0][1], [2])


def test_graphs_degree_as_tag(tmp_path):
    write_graphs(tmp_path, "IMDBBINARY", TOY_GRAPHS, TOY_FOLDS)
    ds = D.load_graphs("IMDBBINARY", data_dir=tmp_path)
    assert ds.degree_as_tag  # default for the IMDB sets, which have no node labels
    # degrees 1, 2, 1 | 0, 0 | 2, 2, 2  ->  0, 1, 0 | 2, 2 | 1, 1, 1
    assert [g.tags.tolist() for g in ds.graphs] == [[0, 1, 0], [2, 2], [1, 1, 1]]
    raw = D.load_graphs("IMDBBINARY", data_dir=tmp_path, degree_as_tag=False)
    assert [g.tags.tolist() for g in raw.graphs] == [[0, 1, 0], [2, 0], [1, 1, 1]]


@pytest.mark.parametrize("graphs, message", [
    ([(0, [0, 0], [[1], []])] + TOY_GRAPHS[1:], "graph 0 is not undirected"),
    ([(0, [0, 0], [[0, 1], [0]])] + TOY_GRAPHS[1:], "graph 0 is not undirected"),  # self-loop
    ([(0, [0, 0], [[1, 1], [0, 0]])] + TOY_GRAPHS[1:], "lists a neighbour twice"),
    ([(0, [0, 0], [[2], [0]])] + TOY_GRAPHS[1:], r"neighbour index outside 0\.\.1"),
])
def test_graphs_bad_structure(tmp_path, graphs, message):
    write_graphs(tmp_path, "PTC", graphs, TOY_FOLDS)
    with pytest.raises(D.DataCorruptError, match=message):
        D.load_graphs("PTC", data_dir=tmp_path)


def test_graphs_malformed_text(tmp_path):
    folder = write_graphs(tmp_path, "NCI1", TOY_GRAPHS, TOY_FOLDS)
    path = folder / "NCI1.txt"
    good = path.read_text()
    path.write_text(good.replace("\n5 1 1\n", "\n5 2 1\n", 1))  # degree says 2, one neighbour
    with pytest.raises(D.DataCorruptError, match=r"NCI1\.txt: graph 0, node 0: expected"):
        D.load_graphs("NCI1", data_dir=tmp_path)
    path.write_text("\n".join(good.splitlines()[:-2]) + "\n")
    with pytest.raises(D.DataCorruptError, match="truncated"):
        D.load_graphs("NCI1", data_dir=tmp_path)
    path.write_text(good + "1 0\n0 0\n")
    with pytest.raises(D.DataCorruptError, match="after the 3 declared graphs"):
        D.load_graphs("NCI1", data_dir=tmp_path)
    path.write_text(good.replace("\n5 1 1\n", "\nx 1 1\n", 1))
    with pytest.raises(D.DataCorruptError, match="malformed"):
        D.load_graphs("NCI1", data_dir=tmp_path)


def test_graphs_folds_must_partition(tmp_path):
    folds = TOY_FOLDS[:9] + [([0, 1], [1])]
    write_graphs(tmp_path, "PROTEINS", TOY_GRAPHS, folds)
    with pytest.raises(D.DataCorruptError, match="fold 10 train/test do not partition"):
        D.load_graphs("PROTEINS", data_dir=tmp_path)


def test_graphs_missing_and_unknown(tmp_path):
    folder = write_graphs(tmp_path, "MUTAG", TOY_GRAPHS, TOY_FOLDS)
    (folder / "10fold_idx" / "test_idx-7.txt").unlink()
    with pytest.raises(D.DataMissingError) as err:
        D.load_graphs("MUTAG", data_dir=tmp_path)
    assert str(folder / "10fold_idx" / "test_idx-7.txt") in str(err.value)
    assert "NTK_DATA_DIR" in str(err.value) and "1 file(s) missing" in str(err.value)
    with pytest.raises(ValueError, match="unknown graph data set"):
        D.load_graphs("COLLAB", data_dir=tmp_path)
    assert D.graph_dataset_names() == ("MUTAG", "PTC", "NCI1", "PROTEINS", "IMDBBINARY", "IMDBMULTI")
