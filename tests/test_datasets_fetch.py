"""status(), fetch(), `python -m ntklib data`, archives and mirrors, against a server on 127.0.0.1.

Every source is exercised in its real layout with small files written here:
MNIST/Fashion-MNIST ``.gz`` files, CIFAR-10's and the UCI collection's
``.tar.gz``, GIN's ``dataset.zip``; the registry's digests are patched to
those of the test files.  The last section checks the committed digest lists
and the 90-set list against the shared real data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import data_absent  # noqa: E402
from _http_server import NoLength, Truncated, serve  # noqa: E402
from test_datasets import cifar_bytes, fake_idx_files, sha  # noqa: E402
from test_datasets_uci_graphs import TOY_FOLDS, TOY_GRAPHS, toy_uci, write_graphs  # noqa: E402

import ntklib.datasets as D  # noqa: E402
from ntklib.datasets import _download, _registry, images  # noqa: E402


pytestmark = pytest.mark.usefixtures("offline_data")  # conftest: no internet, no system copy


def set_files(monkeypatch, name: str, files: dict[str, bytes], **changes) -> None:
    """Register ``files`` ({path relative to the data set folder: bytes}) with their digests."""
    specs = tuple(_registry.FileSpec(rel, (sha(data),) if data is not None else ())
                  for rel, data in files.items())
    monkeypatch.setitem(_registry.REGISTRY, name,
                        dataclasses.replace(_registry.REGISTRY[name], files=specs, **changes))


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], dirs=()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for d in dirs:
            zf.writestr(zipfile.ZipInfo(d), b"")  # directory entries, as `zip -r` writes them
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_temporaries(root: Path) -> bool:
    return not [p for p in root.rglob(".*") if p.name.endswith((".part", ".tmp"))]


# --------------------------------------------------------------------------- sources in their layouts

def uci_source(tmp_path: Path) -> tuple[dict[str, bytes], bytes]:
    """Two toy sets in the Fernández-Delgado layout; the archive also holds files we do not keep."""
    src = tmp_path / "src"
    toy_uci(src, "iris")
    toy_uci(src, "zoo")
    files = tree(src / "uci")
    extra = {"iris/iris.data": b"5.1,3.5,1.4,0.2,Iris-setosa\n", "zoo/zoo.cost": b"0 1\n1 0\n",
             "iris/arff/iris.arff": b"@relation iris\n"}
    return files, tar_gz({**files, **extra})


def graph_source(tmp_path: Path) -> tuple[dict[str, bytes], bytes]:
    """Two toy sets in GIN's dataset.zip layout: dataset/<NAME>/<NAME>.txt, .mat, 10fold_idx/."""
    src = tmp_path / "src"
    write_graphs(src, "MUTAG", TOY_GRAPHS, TOY_FOLDS)
    write_graphs(src, "PTC", TOY_GRAPHS[::-1], TOY_FOLDS)
    files = tree(src / "graphs")
    members = {f"dataset/{rel}": data for rel, data in files.items()}
    members["dataset/MUTAG/MUTAG.mat"] = b"MATLAB 5.0 MAT-file"
    dirs = ["dataset/", "dataset/MUTAG/", "dataset/MUTAG/10fold_idx/"]
    return files, zip_bytes(members, dirs)


def cifar_source():
    rng = np.random.default_rng(5)
    files = {}
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        imgs = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
        files[f"cifar-10-batches-bin/{b}.bin"] = cifar_bytes(imgs, np.array([0, 1, 2], np.uint8))
    extra = {"cifar-10-batches-bin/batches.meta.txt": b"airplane\n", "cifar-10-batches-bin/readme.html": b"<p>"}
    return files, tar_gz({**files, **extra})


@pytest.fixture
def small_cifar_registry(monkeypatch):
    files, archive = cifar_source()
    monkeypatch.setattr(images, "CIFAR10_BATCH_RECORDS", 3)
    set_files(monkeypatch, "cifar10", {k: None for k in files},
              archive=_registry.FileSpec("cifar-10-binary.tar.gz", (sha(archive),)))
    return files, archive


# --------------------------------------------------------------------------- fetch per source

@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_fetch_gz_files_second_mirror_after_404(tmp_path, monkeypatch, name):
    files = {k: v[1] for k, v in fake_idx_files(name, seed=11).items()}
    set_files(monkeypatch, name, files)
    assert D.status(name, tmp_path).state == "missing"
    with serve({f"/good/{k}": v for k, v in files.items()}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, name, [url + "/gone/", url + "/good/"])
        (st,) = D.fetch([name], tmp_path)
    assert st.state == "verified" and st.files == (4, 4) and st.size == sum(map(len, files.values()))
    assert tree(tmp_path / name) == files
    assert sorted(requested) == sorted([f"/gone/{k}" for k in files] + [f"/good/{k}" for k in files])
    images_, _ = D.load_images(name, "test", data_dir=tmp_path, download=False)
    assert images_.shape == (20, 28, 28)
    assert no_temporaries(tmp_path)


def test_fetch_cifar_tar_gz(tmp_path, monkeypatch, small_cifar_registry):
    files, archive = small_cifar_registry
    with serve({"/b/cifar-10-binary.tar.gz": archive}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/a/", url + "/b/"])
        (st,) = D.fetch("cifar10", tmp_path)
    assert st.state == "verified" and st.files == (6, 6), st
    manifest = "".join(f"{sha(files[rel])}  {rel}\n" for rel in sorted(files)).encode()
    # Batches only (no archive, no meta files), and the digests taken from the verified archive.
    assert tree(tmp_path / "cifar10") == {**files, "SHA256SUMS": manifest}
    assert requested == ["/a/cifar-10-binary.tar.gz", "/b/cifar-10-binary.tar.gz"]
    assert D.load_cifar10("train", data_dir=tmp_path, download=False)[0].shape == (15, 32, 32, 3)
    assert no_temporaries(tmp_path)
    # A batch altered after unpacking is caught on load, though it still has a valid structure.
    batch = tmp_path / "cifar10" / "cifar-10-batches-bin" / "test_batch.bin"
    data = bytearray(batch.read_bytes())
    data[1] ^= 0xFF  # one pixel
    batch.write_bytes(bytes(data))
    assert D.read_cifar_batch(batch, records=3)[0].shape == (3, 32, 32, 3)
    with pytest.raises(D.DataCorruptError, match=r"test_batch\.bin: sha256 mismatch"):
        D.load_cifar10("test", data_dir=tmp_path, download=False)
    assert D.status("cifar10", tmp_path).state == "corrupt"


def test_fetch_cifar_checksum_mismatch(tmp_path, monkeypatch, small_cifar_registry):
    _, archive = small_cifar_registry
    other = archive[:4] + bytes([archive[4] ^ 1]) + archive[5:]  # gzip time stamp: unpacks fine
    with serve({"/c/cifar-10-binary.tar.gz": other}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/c/"])
        (st,) = D.fetch(["cifar10"], tmp_path)
    assert st.state == "missing" and "sha256" in st.detail and st.fix.startswith("`python -m ntklib data")
    assert not (tmp_path / "cifar10").exists() or not tree(tmp_path / "cifar10")
    assert no_temporaries(tmp_path)


def test_fetch_uci_tar_gz_keeps_only_registered_files(tmp_path, monkeypatch):
    files, archive = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    with serve({"/jmlr/data.tar.gz": archive}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "uci", [url + "/jmlr/"])
        (st,) = D.fetch(["uci"], tmp_path / "data")
    assert st.state == "verified" and st.files == (8, 8)
    assert tree(tmp_path / "data" / "uci") == files  # no .data, .cost or arff copies
    ds = D.load_uci("zoo", data_dir=tmp_path / "data", download=False)
    assert ds.X.shape == (8, 3)
    assert no_temporaries(tmp_path / "data")


def test_fetch_uci_member_mismatch_unpacks_nothing(tmp_path, monkeypatch):
    files, _ = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    altered = dict(files)
    altered["zoo/zoo_R.dat"] = files["zoo/zoo_R.dat"].replace(b"\t1\n", b"\t2\n", 1)
    with serve({"/jmlr/data.tar.gz": tar_gz(altered)}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "uci", [url + "/jmlr/"])
        (st,) = D.fetch(["uci"], tmp_path / "data")
    assert st.state == "missing" and "zoo/zoo_R.dat: sha256" in st.detail
    assert not (tmp_path / "data" / "uci").exists()  # all or nothing: iris was fine but not moved
    assert no_temporaries(tmp_path / "data")


def test_fetch_uci_partial_fills_in_missing_files(tmp_path, monkeypatch):
    files, archive = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    root = tmp_path / "data"
    (root / "uci" / "iris").mkdir(parents=True)
    (root / "uci" / "iris" / "iris.txt").write_bytes(files["iris/iris.txt"])
    st = D.status("uci", root)
    assert (st.state, st.files) == ("partial", (1, 8))
    with serve({"/u/data.tar.gz": archive}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "uci", [url + "/u/"])
        (st,) = D.fetch(["uci"], root)
    assert st.state == "verified" and tree(root / "uci") == files


def test_load_uci_fetches_a_benchmark_set_with_a_missing_file(tmp_path, monkeypatch):
    files, archive = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    root = tmp_path / "data"
    for rel, data in files.items():
        if rel != "iris/conxuntos_kfold.dat":
            (root / "uci" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "uci" / rel).write_bytes(data)
    with serve({"/u/data.tar.gz": archive}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "uci", [url + "/u/"])
        ds = D.load_uci("iris", data_dir=root)
    assert requested == ["/u/data.tar.gz"] and len(ds.folds) == 4
    assert (root / "uci" / "iris" / "conxuntos_kfold.dat").read_bytes() == files["iris/conxuntos_kfold.dat"]


def test_tar_members_cannot_escape_the_target(tmp_path, monkeypatch):
    files, _ = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    evil = {"../escaped.txt": b"x", "iris/../../escaped2.txt": b"x", "/tmp/ntk-abs-escape.txt": b"x"}
    archive = tmp_path / "data" / "uci" / "data.tar.gz"  # user-supplied archive
    archive.parent.mkdir(parents=True)
    archive.write_bytes(tar_gz({**evil, **files}))
    (st,) = D.fetch(["uci"], tmp_path / "data")
    assert st.state == "verified"
    assert tree(tmp_path / "data" / "uci") == {**files, "data.tar.gz": archive.read_bytes()}
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/ntk-abs-escape.txt").exists()


def test_fetch_graphs_zip(tmp_path, monkeypatch):
    files, archive = graph_source(tmp_path)
    set_files(monkeypatch, "graphs", files)
    with serve({"/master/dataset.zip": archive}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "graphs", [url + "/raw/", url + "/master/"])
        ds = D.load_graphs("PTC", data_dir=tmp_path / "data")  # fetched on first use
    assert requested == ["/raw/dataset.zip", "/master/dataset.zip"]
    assert len(ds.graphs) == 3 and len(ds.folds) == 10
    assert tree(tmp_path / "data" / "graphs") == files  # no .mat, no dataset/ level
    assert D.status("graphs", tmp_path / "data").state == "verified"
    assert no_temporaries(tmp_path / "data")


def test_zip_members_cannot_escape_the_target(tmp_path, monkeypatch):
    files, _ = graph_source(tmp_path)
    set_files(monkeypatch, "graphs", files)
    members = {f"dataset/{rel}": data for rel, data in files.items()}
    members["../../escaped.txt"] = b"x"
    members["dataset/../../escaped2.txt"] = b"x"
    members["/tmp/absolute-escape.txt"] = b"x"
    archive = tmp_path / "data" / "graphs" / "dataset.zip"  # user-supplied archive
    archive.parent.mkdir(parents=True)
    archive.write_bytes(zip_bytes(members))
    (st,) = D.fetch(["graphs"], tmp_path / "data")
    assert st.state == "verified"
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {f"data/graphs/{rel}" for rel in files} | {"data/graphs/dataset.zip"} | {
        f"src/graphs/{rel}" for rel in files}
    assert not Path("/tmp/absolute-escape.txt").exists()


def test_truncated_archive_download_is_rejected(tmp_path, monkeypatch):
    files, archive = graph_source(tmp_path)
    set_files(monkeypatch, "graphs", files)
    with serve({"/g/dataset.zip": Truncated(archive[: len(archive) // 2], len(archive))}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "graphs", [url + "/g/"])
        (st,) = D.fetch(["graphs"], tmp_path / "data")
    assert st.state == "missing" and "interrupted" in st.detail
    assert not (tmp_path / "data" / "graphs").exists() and no_temporaries(tmp_path / "data")


def test_archive_without_length_is_verified_by_its_members(tmp_path, monkeypatch):
    """No Content-Length: a cut archive fails to unpack; a whole one is accepted member by member."""
    files, archive = uci_source(tmp_path)
    set_files(monkeypatch, "uci", files)
    with serve({"/cut/data.tar.gz": NoLength(archive[:-200]), "/ok/data.tar.gz": NoLength(archive)}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "uci", [url + "/cut/"])
        (st,) = D.fetch(["uci"], tmp_path / "data")
        assert st.state == "missing" and not (tmp_path / "data" / "uci").exists()
        (st,) = D.fetch(["uci"], tmp_path / "data", mirrors={"uci": [url + "/ok/"]})
    assert st.state == "verified"


def test_download_without_length_or_checksum_never_gets_final_name(tmp_path):
    body = b"0123456789" * 1000
    dest = tmp_path / "f.bin"
    with serve({"/f": NoLength(body[:500])}) as (url, _):
        with pytest.raises(D.DataMissingError, match="no Content-Length and no checksum"):
            D.download_file([url + "/f"], dest)
        assert not dest.exists() and no_temporaries(tmp_path)
        # With a digest, the same response is checked and (being short) rejected.
        with pytest.raises(D.DataMissingError, match="sha256"):
            D.download_file([url + "/f"], dest, (sha(body),))
        assert not dest.exists()


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path, monkeypatch):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    files = {k: v[1] for k, v in fake_idx_files("mnist", seed=2).items()}
    set_files(monkeypatch, "mnist", files)
    folder = tmp_path / "mnist"
    folder.mkdir()
    stale_part = folder / f".train-images-idx3-ubyte.gz.{dead}-abc123_x.part"
    stale_part.write_bytes(b"half a download")
    stale_dir = tmp_path / f".uci.{dead}-q1w2e3.tmp"
    (stale_dir / "iris").mkdir(parents=True)
    live_part = folder / f".t10k-images-idx3-ubyte.gz.{__import__('os').getpid()}-zz.part"
    live_part.write_bytes(b"being written by this process")
    unrelated = folder / "notes.part"
    unrelated.write_bytes(b"not ours")
    with serve({f"/m/{k}": v for k, v in files.items()}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/m/"])
        (st,) = D.fetch(["mnist"], tmp_path)
    assert st.state == "verified"
    assert not stale_part.exists() and not stale_dir.exists()
    assert live_part.exists() and unrelated.exists()


# --------------------------------------------------------------------------- status, fetch contract

def test_status_states_and_fix(tmp_path, monkeypatch):
    files = {k: v[1] for k, v in fake_idx_files("mnist", seed=3).items()}
    set_files(monkeypatch, "mnist", files)
    st = D.status("mnist", tmp_path)
    assert (st.state, st.files, st.size) == ("missing", (0, 4), None)
    assert st.fix.startswith("`python -m ntklib data --fetch mnist`") and st.licence
    (tmp_path / "mnist").mkdir()
    for k, v in files.items():
        (tmp_path / "mnist" / k).write_bytes(v)
    st = D.status("mnist", tmp_path)
    assert (st.state, st.fix, st.where) == ("verified", "", str(tmp_path / "mnist"))
    bad = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"x" + files["t10k-labels-idx1-ubyte.gz"])
    st = D.status("mnist", tmp_path)
    assert st.state == "corrupt" and str(bad) in st.detail and f"delete {bad}" in st.fix
    assert st.files == (3, 4)
    (st,) = D.fetch(["mnist"], tmp_path)  # a damaged file is reported, never replaced
    assert st.state == "corrupt" and bad.read_bytes().startswith(b"x")
    with pytest.raises(ValueError, match="unknown data set 'svhn'"):
        D.status("svhn")
    with pytest.raises(ValueError, match="unknown data set 'svhn'"):
        D.fetch(["svhn"])
    assert D.DATASETS == ("mnist", "fashion-mnist", "cifar10", "uci", "graphs")


def test_fetch_never_raises_and_does_not_retry(tmp_path, monkeypatch):
    with serve({}) as (url, requested):
        for name in D.DATASETS:
            monkeypatch.setitem(_registry.MIRRORS, name, [url + "/"])
        statuses = D.fetch(data_dir=tmp_path)
        assert [s.name for s in statuses] == list(D.DATASETS)
        assert all(s.state == "missing" for s in statuses)
        assert all("404" in s.detail for s in statuses), [s.detail for s in statuses]
        n = len(requested)
        D.fetch(data_dir=tmp_path)  # failures are remembered: no new request
        assert len(requested) == n
        D.fetch(["cifar10"], tmp_path, retry=True)
        assert len(requested) == n + 1


def test_fetch_is_cheap_when_verified(tmp_path, monkeypatch):
    files = {k: v[1] for k, v in fake_idx_files("mnist", seed=4).items()}
    set_files(monkeypatch, "mnist", files)
    (tmp_path / "mnist").mkdir()
    for k, v in files.items():
        (tmp_path / "mnist" / k).write_bytes(v)
    assert D.fetch(["mnist"], tmp_path)[0].state == "verified"
    calls = []
    real = _download.hashlib.sha256
    monkeypatch.setattr(_download.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    assert D.fetch(["mnist"], tmp_path)[0].state == "verified"
    D.load_mnist("test", data_dir=tmp_path, download=False)
    assert calls == []  # nothing re-hashed


def test_cifar_or_standin_downloads_when_it_can(tmp_path, monkeypatch, small_cifar_registry):
    _, archive = small_cifar_registry
    with serve({"/k/cifar-10-binary.tar.gz": archive}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/k/"])
        assert D.cifar_or_standin(tmp_path / "with", download=False) == "fashion-mnist"
        assert D.cifar_or_standin(tmp_path / "with") == "cifar10"
    assert D.status("cifar10", tmp_path / "with").state == "verified"


def test_cifar_or_standin_offline_is_fast_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("NTK_DATA_DIR", str(tmp_path))
    with serve({}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/"])
        assert D.cifar_or_standin(tmp_path) == "fashion-mnist"
        assert D.cifar_or_standin(tmp_path) == "fashion-mnist"
        assert D.cifar_or_standin() == "fashion-mnist"  # old signature; same data dir
    assert requested.count("/cifar-10-binary.tar.gz") == 1


# --------------------------------------------------------------------------- command line

def run_cli(monkeypatch, capsys, root: Path, *args: str) -> tuple[int, str]:
    from ntklib.__main__ import main
    monkeypatch.setenv("NTK_DATA_DIR", str(root))
    rc = main(["data", *args])
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_cli_table_and_exit_status(tmp_path, monkeypatch, capsys):
    files = {k: v[1] for k, v in fake_idx_files("mnist", seed=6).items()}
    for name in ("mnist", "fashion-mnist"):
        set_files(monkeypatch, name, files)
    set_files(monkeypatch, "uci", {})
    set_files(monkeypatch, "graphs", {})
    rc, out = run_cli(monkeypatch, capsys, tmp_path)
    assert rc == 1 and "dataset" in out and "fix" in out
    assert "mnist          missing" in out and "python -m ntklib data --fetch mnist" in out
    assert "downloaded on first use" not in out
    with serve({f"/m/{k}": v for k, v in files.items()}) as (url, _):
        for name in ("mnist", "fashion-mnist"):
            monkeypatch.setitem(_registry.MIRRORS, name, [url + "/m/"])
        rc, out = run_cli(monkeypatch, capsys, tmp_path, "--fetch", "mnist", "fashion-mnist")
    assert rc == 1, out  # CIFAR-10 is missing: an error, though Fashion-MNIST stands in for the book
    assert "cifar10        missing (optional: fashion-mnist stands in)" in out
    assert "missing or corrupt: cifar10" in out and "fashion-mnist stands in for cifar10" in out
    assert "mnist          verified" in out
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
    rc, out = run_cli(monkeypatch, capsys, tmp_path)
    assert rc == 1 and "corrupt" in out and "train-labels-idx1-ubyte.gz" in out
    rc, out = run_cli(monkeypatch, capsys, tmp_path, "--fetch", "svhn")
    assert rc == 2 and "unknown data set" in out


def test_make_data_target_calls_the_cli():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "\ndata: install" in makefile and "-m ntklib data --fetch" in makefile


# --------------------------------------------------------------------------- the committed lists

def read_sums(path: Path) -> dict[str, str]:
    return {rel.strip(): h for h, rel in (line.split(None, 1) for line in path.read_text().splitlines() if line)}


@pytest.mark.parametrize("name", ["uci", "graphs"])
def test_committed_checksums_match_shared_data(shared_data, name):
    folder = shared_data / name
    if not (folder / "SHA256SUMS").is_file():
        data_absent(name, f"{folder}/SHA256SUMS not present")
    committed = read_sums(_registry.CHECKSUM_DIR / f"{name}.sha256")
    shared = read_sums(folder / "SHA256SUMS")
    assert committed.items() <= shared.items()  # same digest for every listed file
    for rel, digest in committed.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    assert {f.name: f.sha256[0] for f in _registry.REGISTRY[name].files} == committed
    if name == "graphs":
        assert set(committed) == set(shared)
    else:  # the four files of each of the 90 benchmark sets
        assert len(committed) == 4 * 90
        assert {rel.split("/")[0] for rel in committed} == set(D.uci_benchmark_names())
    assert D.status(name, shared_data).state == "verified"


def test_mnist_registry_matches_shared_data(shared_data):
    path = shared_data / "mnist" / "SHA256SUMS"
    if not path.is_file():
        data_absent("mnist", f"{path} not present")
    assert {f.name: f.sha256[0] for f in _registry.REGISTRY["mnist"].files} == read_sums(path)


def test_selection_rule_reproduces_the_committed_90(shared_data):
    """At most 5,000 samples in total and no separate test file, applied to the 121 sets."""
    uci = shared_data / "uci"
    if not uci.is_dir():
        data_absent("uci", "no UCI data")
    from ntklib.datasets.uci import _read_info, is_benchmark_set
    infos = {p.name: _read_info(p / f"{p.name}.txt") for p in sorted(uci.iterdir())
             if (p / f"{p.name}.txt").is_file()}
    assert len(infos) == 121
    selected = sorted(n for n, info in infos.items() if is_benchmark_set(info))
    assert selected == D.uci_benchmark_names()
    assert (_registry.CHECKSUM_DIR / "arora2020_90.txt").read_text().split() == selected


def test_uci_loader_verifies_shared_copy(shared_data):
    if not (shared_data / "uci" / "iris" / "iris.txt").is_file():
        data_absent("uci", "no UCI data")
    ds = D.load_uci("iris", data_dir=shared_data, download=False)
    assert ds.X.shape == (150, 4)
