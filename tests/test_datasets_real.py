"""The real data files, checked against the statistics published in the shared data READMEs.

The data directory is conftest's ``shared_data`` (``$NTK_DATA_DIR`` or ``<repo>/../shared/data``); a
test whose files are absent is skipped, never failed.  Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

import ntklib.datasets as D
from ntklib import tolerances as tol
from ntklib.datasets import _registry

from conftest import data_absent


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for name in list(_registry.MIRRORS):
        monkeypatch.setitem(_registry.MIRRORS, name, [])


@pytest.fixture(scope="module")
def root(shared_data) -> Path:
    return shared_data


def require(name: str, root: Path) -> None:
    try:
        D.ensure_files(name, root, download=False)
    except D.DataMissingError:
        data_absent(name, f"{name} not available in {root}")


def require_paths(*paths: Path, name: str) -> None:
    missing = [p for p in paths if not p.exists()]
    if missing:
        data_absent(name, f"missing {missing[0]}")


# --------------------------------------------------------------------------- images

MNIST_COUNTS = {  # shared data README, section 1
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}


@pytest.mark.parametrize("split, first", [("train", [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
                                          ("test", [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])])
def test_mnist(root, split, first):
    require("mnist", root)
    images, labels = D.load_mnist(split, data_dir=root, download=False)
    n = 60_000 if split == "train" else 10_000
    assert images.shape == (n, 28, 28) and labels.shape == (n,)
    assert images.dtype == labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_COUNTS[split]
    assert labels[:10].tolist() == first
    assert images.max() == 255 and images[:, 0, 0].max() == 0  # corners are background


def test_two_class_mnist(root):
    require("mnist", root)
    d = D.two_class("mnist", n_train=500, n_test=200, seed=0, data_dir=root, download=False)
    assert d.X_train.shape == (500, 784) and d.X_test.shape == (200, 784)
    np.testing.assert_allclose(np.linalg.norm(d.X_train, axis=1), 1.0, rtol=tol.ROUNDOFF_RTOL)
    np.testing.assert_allclose(np.linalg.norm(d.X_test, axis=1), 1.0, rtol=tol.ROUNDOFF_RTOL)
    _, train_labels = D.load_mnist("train", data_dir=root, download=False)
    np.testing.assert_array_equal(d.y_train, 2.0 * train_labels[d.train_idx] - 1.0)  # 0 -> -1, 1 -> +1
    assert set(np.unique(d.y_test)) == {-1.0, 1.0}
    assert len(np.unique(d.train_idx)) == 500
    again = D.two_class("mnist", n_train=500, n_test=200, seed=0, data_dir=root, download=False)
    np.testing.assert_array_equal(again.X_train, d.X_train)
    np.testing.assert_array_equal(again.y_test, d.y_test)
    other = D.two_class("mnist", n_train=500, n_test=200, seed=1, data_dir=root, download=False)
    assert not np.array_equal(other.train_idx, d.train_idx)


@pytest.mark.parametrize("split", ["train", "test"])
def test_fashion_mnist(root, split):
    require("fashion-mnist", root)
    images, labels = D.load_fashion_mnist(split, data_dir=root, download=False)
    n = 60_000 if split == "train" else 10_000
    assert images.shape == (n, 28, 28)
    assert np.bincount(labels).tolist() == [n // 10] * 10  # balanced (Xiao et al. 2017)
    first = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5] if split == "train" else [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert labels[:10].tolist() == first
    d = D.two_class("fashion-mnist", 100, 50, seed=0, data_dir=root, download=False)
    np.testing.assert_allclose(np.linalg.norm(d.X_train, axis=1), 1.0)


DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def test_debian_fashion_mnist_is_upstream_with_rewritten_gzip_header():
    """Restoring the stored name and original mtime gives the upstream file's digest."""
    require_paths(*(DEBIAN / f.name for f in _registry.REGISTRY["fashion-mnist"].files), name="fashion-mnist")
    for f in _registry.REGISTRY["fashion-mnist"].files:
        data = (DEBIAN / f.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256[1]
        member = f.name.removesuffix(".gz")
        mtime = 1504176606 if member.startswith("train") else 1504176627  # 2017-08-31 UTC
        upstream = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + b"\x00\x03"
                    + member.encode() + b"\0" + data[10:])
        assert hashlib.sha256(upstream).hexdigest() == f.sha256[0]


def test_cifar10(root):
    require("cifar10", root)
    images, labels = D.load_cifar10("train", data_dir=root, download=False)
    assert images.shape == (50_000, 32, 32, 3)
    assert labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # CIFAR-10 README sanity values
    assert np.bincount(labels[:10_000]).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert np.bincount(labels).tolist() == [5000] * 10
    _, test_labels = D.load_cifar10("test", data_dir=root, download=False)
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert D.cifar_or_standin(root) == "cifar10"


# --------------------------------------------------------------------------- UCI

@pytest.fixture(scope="module")
def uci90(root):
    require_paths(*(root / "uci" / n / f"{n}.txt" for n in D.uci_benchmark_names()), name="uci")
    return {name: D.load_uci(name, data_dir=root) for name in D.uci_benchmark_names(root)}


@pytest.mark.parametrize("name, n, d, c", [  # shared data README, section 3 table
    ("abalone", 4177, 8, 3), ("iris", 150, 4, 3), ("arrhythmia", 452, 262, 13),
    ("balloons", 16, 4, 2), ("bank", 4521, 16, 2), ("libras", 360, 90, 15),
    ("low-res-spect", 531, 100, 9), ("lung-cancer", 32, 56, 3),
])
def test_uci_shapes(uci90, name, n, d, c):
    ds = uci90[name]
    assert ds.X.shape == (n, d) and ds.y.shape == (n,) and ds.n_classes == c
    assert ds.X_test is None


def test_uci_all_90_benchmark_sets(uci90):
    assert len(uci90) == 90
    for name, ds in uci90.items():
        n = len(ds.y)
        assert n <= 5000 and ds.X_test is None, name  # Arora et al.'s selection rule
        assert np.bincount(ds.y, minlength=ds.n_classes).min() > 0, name
        # Features are standardised column-wise (mean 0, sd 1): a misaligned column would show.
        np.testing.assert_allclose(ds.X.mean(axis=0), 0, atol=tol.UCI_FILE_PRECISION_ATOL, err_msg=name)
        np.testing.assert_allclose(ds.X.std(axis=0, ddof=1), 1, atol=tol.UCI_FILE_PRECISION_ATOL, err_msg=name)
        assert len(ds.folds) == 4, name
        for _, test in ds.folds:  # the loader checked that each pair partitions 0..n-1
            assert abs(len(test) - n / 4) <= 0.5, name  # a quarter, rounded either way
        assert abs(len(ds.train_val_split[0]) - len(ds.train_val_split[1])) <= 1, name


def test_uci_set_with_separate_test_file(root):
    require_paths(root / "uci" / "annealing" / "annealing_train_R.dat", name="uci")
    ds = D.load_uci("annealing", data_dir=root)
    assert ds.X.shape == (798, 31) and ds.X_test.shape == (100, 31) and ds.n_classes == 5


def test_uci_incomplete_set_raises_missing(root):
    path = root / "uci" / "adult" / "adult_train_R.dat"
    require_paths(root / "uci" / "adult" / "adult.txt", name="uci")
    if path.exists():
        pytest.skip("this data directory has the full adult set")
    with pytest.raises(D.DataMissingError, match="adult_train_R.dat"):
        D.load_uci("adult", data_dir=root)


# --------------------------------------------------------------------------- graphs

GRAPH_STATS = {  # graphs/README.md: graphs, sorted class counts, nodes, edges, tags, test/train per fold
    "MUTAG": (188, [63, 125], 3371, 3721, 7, (18, 170)),
    "PTC": (344, [152, 192], 8792, 8931, 19, (34, 310)),
    "NCI1": (4110, [2053, 2057], 122747, 132753, 37, (411, 3699)),
    "PROTEINS": (1113, [450, 663], 43471, 81044, 3, (111, 1002)),
    "IMDBBINARY": (1000, [500, 500], 19773, 96531, 1, (100, 900)),
    "IMDBMULTI": (1500, [500, 500, 500], 19502, 98903, 1, (150, 1350)),
}


@pytest.mark.parametrize("name", D.graph_dataset_names())
def test_graph_statistics(root, name):
    require_paths(root / "graphs" / name / f"{name}.txt", name="graphs")
    n_graphs, class_counts, nodes, edges, n_tags, (n_test, n_train) = GRAPH_STATS[name]
    ds = D.load_graphs(name, data_dir=root, degree_as_tag=False)
    assert len(ds.graphs) == len(ds.labels) == n_graphs
    assert sorted(np.bincount(ds.labels).tolist()) == class_counts
    assert sum(g.n_nodes for g in ds.graphs) == nodes
    assert sum(int(g.adjacency.sum()) for g in ds.graphs) // 2 == edges
    assert ds.graphs[0].n_tags == n_tags
    assert len(ds.folds) == 10
    assert all((len(te), len(tr)) == (n_test, n_train) for tr, te in ds.folds)
    # Test blocks of the folds are disjoint (one permutation cut into 10 blocks).
    tests = np.concatenate([te for _, te in ds.folds])
    assert len(np.unique(tests)) == len(tests) == 10 * (n_graphs // 10)
    f = ds.graphs[0].features
    assert f.shape == (ds.graphs[0].n_nodes, n_tags) and (f.sum(axis=1) == 1).all()


def test_imdb_degree_tags(root):
    require_paths(root / "graphs" / "IMDBBINARY" / "IMDBBINARY.txt", name="graphs")
    ds = D.load_graphs("IMDBBINARY", data_dir=root)
    assert ds.degree_as_tag
    g = ds.graphs[0]
    assert ds.graphs[0].n_tags > 1
    # Same degree <=> same tag.
    deg = g.adjacency.sum(axis=1)
    np.testing.assert_array_equal(deg[:, None] == deg[None, :], g.tags[:, None] == g.tags[None, :])
