"""Image data: IDX / CIFAR readers, checksums, downloads (127.0.0.1 only), loaders, two_class.

Every file here is written by the tests in the canonical formats (IDX: the
MNIST page's "FILE FORMATS"; CIFAR-10 binary: 1 label byte + R, G, B planes).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _http_server import Truncated, serve  # noqa: E402

import ntklib.datasets as D  # noqa: E402
from ntklib.datasets import _download, _registry, images  # noqa: E402

IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------- writers

def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Uncompressed IDX encoding of a uint8 array."""
    magic = 0x0800 + array.ndim if magic is None else magic
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(idx_bytes(array, magic), mtime=0))
    return path


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of 1 label byte + 1024 R + 1024 G + 1024 B bytes (planes row-major)."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return np.concatenate([labels[:, None], planes], axis=1).astype(np.uint8).tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_idx_files(name: str, n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict:
    """The four canonical IDX .gz files (as bytes) of a small random data set."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8)  # no all-zero image
        labs = np.arange(n, dtype=np.uint8) % 10  # every class present
        rng.shuffle(labs)
        arrays[f"{prefix}-images-idx3-ubyte.gz"] = imgs
        arrays[f"{prefix}-labels-idx1-ubyte.gz"] = labs
    return {k: (v, gzip.compress(idx_bytes(v), mtime=0)) for k, v in arrays.items()}


def register(monkeypatch, name: str, digests: dict[str, str], **changes) -> None:
    """Point the registry of ``name`` at the test files' digests."""
    spec = _registry.REGISTRY[name]
    files = tuple(D._registry.FileSpec(f.name, (digests[f.name],) if f.name in digests else ())
                  for f in spec.files)
    monkeypatch.setitem(_registry.REGISTRY, name, dataclasses.replace(spec, files=files, **changes))


pytestmark = pytest.mark.usefixtures("offline_data")  # conftest: no internet, no system copy


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A small MNIST-format set installed in tmp_path/mnist, registered by digest."""
    files = fake_idx_files("mnist")
    for fname, (_, data) in files.items():
        (tmp_path / "mnist").mkdir(exist_ok=True)
        (tmp_path / "mnist" / fname).write_bytes(data)
    register(monkeypatch, "mnist", {k: sha(v[1]) for k, v in files.items()})
    return tmp_path, {k: v[0] for k, v in files.items()}


def no_partial_files(folder: Path) -> bool:
    return not list(folder.rglob("*.part"))


# --------------------------------------------------------------------------- data dir

def test_data_dir_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("NTK_DATA_DIR", str(tmp_path))
    assert D.data_dir() == tmp_path


def test_data_dir_xdg_and_home(monkeypatch, tmp_path):
    monkeypatch.delenv("NTK_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.data_dir() == tmp_path / "xdg" / "ntk-book"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert D.data_dir() == tmp_path / "home" / ".cache" / "ntk-book"


def test_loaders_default_to_env_data_dir(fake_mnist, monkeypatch):
    root, arrays = fake_mnist
    monkeypatch.setenv("NTK_DATA_DIR", str(root))
    images, labels = D.load_mnist("test", download=False)
    np.testing.assert_array_equal(labels, arrays["t10k-labels-idx1-ubyte.gz"])


# --------------------------------------------------------------------------- IDX reader

def test_idx_round_trip_gz_and_plain(tmp_path):
    imgs = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = D.read_idx(write_idx(tmp_path / "a-idx3-ubyte.gz", imgs), magic=2051)
    np.testing.assert_array_equal(out, imgs)
    assert out.dtype == np.uint8 and out.flags.writeable
    (tmp_path / "b-idx1-ubyte").write_bytes(idx_bytes(np.array([3, 1, 4], np.uint8)))
    np.testing.assert_array_equal(D.read_idx(tmp_path / "b-idx1-ubyte", magic=2049), [3, 1, 4])


def test_idx_big_endian_types(tmp_path):
    values = np.array([[1, -2], [300, 70000]], dtype=">i4")
    path = tmp_path / "ints.idx"
    path.write_bytes(struct.pack(">I2I", 0x0C02, 2, 2) + values.tobytes())
    out = D.read_idx(path)
    np.testing.assert_array_equal(out, values)
    assert out.dtype == np.dtype("int32")  # native byte order


def test_idx_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.zeros(5, np.uint8))  # magic 2049
    with pytest.raises(D.DataCorruptError, match=r"labels\.gz.*wrong IDX magic number 2049.*expected 2051"):
        D.read_idx(path, magic=2051)
    path.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + b"\0" * 8))
    with pytest.raises(D.DataCorruptError, match="not an IDX file"):
        D.read_idx(path)


@pytest.mark.parametrize("cut, message", [(-5, "payload is 25 bytes but the header"),
                                          (+3, "payload is 33 bytes")])
def test_idx_payload_length_exact(tmp_path, cut, message):
    data = idx_bytes(np.zeros((3, 10), np.uint8))
    data = data[:cut] if cut < 0 else data + b"\0" * cut
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(D.DataCorruptError, match=message) as err:
        D.read_idx(path)
    assert str(path) in str(err.value)


def test_idx_truncated_header(tmp_path):
    path = tmp_path / "h.gz"
    path.write_bytes(gzip.compress(struct.pack(">II", 2051, 5)))
    with pytest.raises(D.DataCorruptError, match="truncated IDX header"):
        D.read_idx(path)


def test_idx_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "t.gz", np.ones((50, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(D.DataCorruptError, match=r"t\.gz: not a valid gzip file"):
        D.read_idx(path)
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(D.DataCorruptError, match="not a valid gzip file"):
        D.read_idx(path)


# --------------------------------------------------------------------------- CIFAR reader

def test_cifar_round_trip_channel_layout(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    labels = np.array([6, 9, 0, 3], np.uint8)
    path = tmp_path / "b.bin"
    path.write_bytes(cifar_bytes(imgs, labels))
    out_imgs, out_labels = D.read_cifar_batch(path, records=4)
    np.testing.assert_array_equal(out_imgs, imgs)
    np.testing.assert_array_equal(out_labels, labels)
    # Independent check of the layout: byte 1 is the red value of pixel (0, 0),
    # byte 1 + 1024 its green value, byte 1 + 2048 its blue value, byte 2 red of (0, 1).
    raw = path.read_bytes()
    assert (raw[1], raw[1025], raw[2049], raw[2]) == (*imgs[0, 0, 0], imgs[0, 0, 1, 0])


def test_cifar_truncated_record(tmp_path):
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(cifar_bytes(np.zeros((2, 32, 32, 3), np.uint8), np.zeros(2, np.uint8))[:-1])
    with pytest.raises(D.DataCorruptError, match=r"data_batch_1\.bin: 6145 bytes is not .* 3073-byte"):
        D.read_cifar_batch(path)
    path.write_bytes(b"")
    with pytest.raises(D.DataCorruptError, match="0 bytes"):
        D.read_cifar_batch(path)


def test_cifar_bad_label_and_count(tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(cifar_bytes(np.zeros((3, 32, 32, 3), np.uint8), np.array([1, 10, 2], np.uint8)))
    with pytest.raises(D.DataCorruptError, match=r"test_batch\.bin: record 1 has label 10"):
        D.read_cifar_batch(path)
    path.write_bytes(cifar_bytes(np.zeros((3, 32, 32, 3), np.uint8), np.zeros(3, np.uint8)))
    with pytest.raises(D.DataCorruptError, match="3 records, expected 10000"):
        D.read_cifar_batch(path, records=10000)


# --------------------------------------------------------------------------- checksums / missing

def test_load_fake_mnist(fake_mnist):
    root, arrays = fake_mnist
    for split, prefix in (("train", "train"), ("test", "t10k")):
        imgs, labels = D.load_mnist(split, data_dir=root, download=False)
        np.testing.assert_array_equal(imgs, arrays[f"{prefix}-images-idx3-ubyte.gz"])
        np.testing.assert_array_equal(labels, arrays[f"{prefix}-labels-idx1-ubyte.gz"])
        assert imgs.dtype == labels.dtype == np.uint8
    imgs2, _ = D.load_images("mnist", "test", data_dir=root, download=False)
    assert imgs2.shape == (20, 28, 28)


def test_missing_files_message(tmp_path):
    with pytest.raises(D.DataMissingError) as err:
        D.load_mnist(data_dir=tmp_path, download=False)
    msg = str(err.value)
    for fname in IDX_FILES:
        assert str(tmp_path / "mnist" / fname) in msg
    assert "NTK_DATA_DIR" in msg and "download=False" in msg
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, D.DataError)


def test_missing_message_names_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("NTK_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(D.DataMissingError, match=r"nowhere \(from \$NTK_DATA_DIR\)"):
        D.load_fashion_mnist(download=False)


def test_wrong_checksum_names_file_expected_and_actual(fake_mnist):
    root, _ = fake_mnist
    path = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    expected = _registry.REGISTRY["mnist"].files[3].sha256[0]
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(20, np.uint8)), mtime=0))
    with pytest.raises(D.DataCorruptError) as err:
        D.load_mnist("test", data_dir=root, download=False)
    msg = str(err.value)
    assert str(path) in msg and expected in msg and sha(path.read_bytes()) in msg
    assert isinstance(err.value, ValueError)


def test_real_mnist_digests_reject_fake_file(tmp_path):
    """The shipped table (not a patched one) rejects a file that is not the original."""
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8))
    official = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"  # data README
    with pytest.raises(D.DataCorruptError, match=official):
        D.verify_sha256(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz",
                        _registry.REGISTRY["mnist"].files[3].sha256)


def test_hash_cache_sees_modified_file(fake_mnist):
    root, _ = fake_mnist
    D.load_mnist("test", data_dir=root, download=False)
    path = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"\0")  # size and mtime change
    with pytest.raises(D.DataCorruptError, match="sha256 mismatch"):
        D.load_mnist("test", data_dir=root, download=False)


def test_sha256sum_matches_hashlib(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    assert D.sha256sum(path) == sha(b"abc" * 1000) == D.sha256sum(path)


def test_count_mismatch_between_images_and_labels(tmp_path, monkeypatch):
    files = fake_idx_files("mnist")
    files["t10k-labels-idx1-ubyte.gz"] = (None, gzip.compress(idx_bytes(np.zeros(19, np.uint8))))
    for fname, (_, data) in files.items():
        (tmp_path / "mnist").mkdir(exist_ok=True)
        (tmp_path / "mnist" / fname).write_bytes(data)
    register(monkeypatch, "mnist", {k: sha(v[1]) for k, v in files.items()})
    with pytest.raises(D.DataCorruptError, match="has 20 images but .* has 19 labels"):
        D.load_mnist("test", data_dir=tmp_path, download=False)


def test_label_out_of_range(tmp_path, monkeypatch):
    files = fake_idx_files("mnist")
    files["t10k-labels-idx1-ubyte.gz"] = (None, gzip.compress(idx_bytes(np.full(20, 11, np.uint8))))
    for fname, (_, data) in files.items():
        (tmp_path / "mnist").mkdir(exist_ok=True)
        (tmp_path / "mnist" / fname).write_bytes(data)
    register(monkeypatch, "mnist", {k: sha(v[1]) for k, v in files.items()})
    with pytest.raises(D.DataCorruptError, match=r"t10k-labels-idx1-ubyte\.gz: label 11 outside 0\.\.9"):
        D.load_mnist("test", data_dir=tmp_path, download=False)


def test_bad_split_and_name(fake_mnist):
    root, _ = fake_mnist
    with pytest.raises(ValueError, match="split"):
        D.load_mnist("validation", data_dir=root)
    with pytest.raises(ValueError, match="unknown image data set"):
        D.load_images("svhn", "train", data_dir=root)


def test_fashion_mnist_found_in_system_dir(tmp_path, monkeypatch):
    files = fake_idx_files("fashion-mnist", seed=3)
    system = tmp_path / "usr-share"
    system.mkdir()
    for fname, (_, data) in files.items():
        (system / fname).write_bytes(data)
    register(monkeypatch, "fashion-mnist", {k: sha(v[1]) for k, v in files.items()},
             system_dirs=(str(system),))
    imgs, labels = D.load_fashion_mnist("train", data_dir=tmp_path / "empty", download=False)
    np.testing.assert_array_equal(imgs, files["train-images-idx3-ubyte.gz"][0])
    # A copy in the data dir takes precedence, and a wrong one there is an error, not skipped.
    (tmp_path / "empty" / "fashion-mnist").mkdir(parents=True)
    (tmp_path / "empty" / "fashion-mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(D.DataCorruptError, match="sha256 mismatch"):
        D.load_fashion_mnist("train", data_dir=tmp_path / "empty", download=False)


# --------------------------------------------------------------------------- downloads

def served_mnist(monkeypatch, prefix="/m/"):
    files = fake_idx_files("mnist", seed=7)
    register(monkeypatch, "mnist", {k: sha(v[1]) for k, v in files.items()})
    return files, {prefix + k: v[1] for k, v in files.items()}


def test_download_good_files(tmp_path, monkeypatch):
    files, routes = served_mnist(monkeypatch)
    with serve(routes) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/m/"])
        imgs, labels = D.load_mnist("train", data_dir=tmp_path)
        assert len(requested) == 4
        D.load_mnist("test", data_dir=tmp_path)  # now cached: no new request
        assert len(requested) == 4
    np.testing.assert_array_equal(imgs, files["train-images-idx3-ubyte.gz"][0])
    for fname in IDX_FILES:
        assert (tmp_path / "mnist" / fname).read_bytes() == files[fname][1]
    assert no_partial_files(tmp_path)


def test_download_corrupt_file_rejected(tmp_path, monkeypatch):
    files, routes = served_mnist(monkeypatch)
    routes["/m/train-labels-idx1-ubyte.gz"] = b"corrupted" + routes["/m/train-labels-idx1-ubyte.gz"]
    with serve(routes) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/m/"])
        with pytest.raises(D.DataMissingError) as err:
            D.load_mnist(data_dir=tmp_path)
    msg = str(err.value)
    target = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    assert "1 required file(s)" in msg and str(target) in msg
    assert f"expected {sha(files['train-labels-idx1-ubyte.gz'][1])}" in msg and "NTK_DATA_DIR" in msg
    assert not target.exists() and no_partial_files(tmp_path)
    assert (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").exists()  # the good ones landed


def test_download_interrupted_transfer(tmp_path):
    body = np.random.default_rng(0).bytes(5000)
    dest = tmp_path / "sub" / "labels.gz"
    with serve({"/x.gz": Truncated(body[:100], len(body))}) as (url, _):
        with pytest.raises(D.DataMissingError, match=f"interrupted: got 100 of {len(body)} bytes"):
            D.download_file([url + "/x.gz"], dest, (sha(body),))
        # Without a digest to check, the length check alone must still catch it.
        with pytest.raises(D.DataMissingError, match="interrupted"):
            D.download_file([url + "/x.gz"], dest)
    assert not dest.exists() and no_partial_files(tmp_path)


def test_download_404_then_second_mirror(tmp_path, monkeypatch):
    files, routes = served_mnist(monkeypatch, prefix="/second/")
    with serve(routes) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/first/", url + "/second/"])
        imgs, _ = D.load_mnist("test", data_dir=tmp_path)
    assert requested.count("/first/t10k-images-idx3-ubyte.gz") == 1
    assert requested.count("/second/t10k-images-idx3-ubyte.gz") == 1
    np.testing.assert_array_equal(imgs, files["t10k-images-idx3-ubyte.gz"][0])


def test_corrupt_first_mirror_then_good_second(tmp_path):
    body = b"payload" * 100
    with serve({"/a/f": b"wrong", "/b/f": body}) as (url, _):
        D.download_file([url + "/a/f", url + "/b/f"], tmp_path / "f", (sha(body),))
    assert (tmp_path / "f").read_bytes() == body


def test_all_mirrors_fail_lists_attempts(tmp_path, monkeypatch):
    served_mnist(monkeypatch)
    with serve({}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/a/", url + "/b/"])
        with pytest.raises(D.DataMissingError) as err:
            D.load_mnist(data_dir=tmp_path)
    msg = str(err.value)
    assert f"{url}/a/train-images-idx3-ubyte.gz: HTTPError: HTTP Error 404" in msg
    assert f"{url}/b/t10k-labels-idx1-ubyte.gz" in msg
    assert all(str(tmp_path / "mnist" / f) in msg for f in IDX_FILES)
    assert not (tmp_path / "mnist").exists() or not list((tmp_path / "mnist").iterdir())


def test_unreachable_mirror(tmp_path, monkeypatch):
    served_mnist(monkeypatch)
    with serve({}) as (url, _):
        pass  # server is gone: its port now refuses connections
    monkeypatch.setitem(_registry.MIRRORS, "mnist", [url + "/"])
    with pytest.raises(D.DataMissingError, match="URLError"):
        D.load_mnist(data_dir=tmp_path)


def test_unknown_data_set(tmp_path):
    with pytest.raises(ValueError, match="unknown data set 'svhn'"):
        D.ensure_files("svhn", tmp_path)


def test_no_mirror_configured(tmp_path):
    with pytest.raises(D.DataMissingError, match="No download mirror is configured"):
        D.load_mnist(data_dir=tmp_path)


def test_progress_bar_only_on_tty_outside_ci(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("CI", "true")
    assert _download._progress(10, "x") is None
    monkeypatch.delenv("CI")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # tqdm not installed -> no bar, no error
    assert _download._progress(10, "x") is None


def test_download_with_progress_bar(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("CI", raising=False)
    bar = _download._progress(10, "x")
    assert bar is not None
    bar.close()
    body = b"x" * 3_000_000  # several chunks
    with serve({"/f": body}) as (url, _):
        D.download_file([url + "/f"], tmp_path / "f", (sha(body),))
    assert (tmp_path / "f").read_bytes() == body


# --------------------------------------------------------------------------- CIFAR-10 files

def fake_cifar(n_per_batch=3, seed=0):
    """{member name: (images, labels, bytes)} for the six batches, and the tar.gz archive."""
    rng = np.random.default_rng(seed)
    batches = {}
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        imgs = rng.integers(1, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch, dtype=np.uint8)
        labels[:2] = (0, 1)
        batches[f"cifar-10-batches-bin/{b}.bin"] = (imgs, labels, cifar_bytes(imgs, labels))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (_, _, data) in batches.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return batches, buf.getvalue()


@pytest.fixture
def small_cifar(monkeypatch):
    batches, archive = fake_cifar()
    monkeypatch.setattr(images, "CIFAR10_BATCH_RECORDS", 3)
    monkeypatch.setitem(_registry.REGISTRY, "cifar10", dataclasses.replace(
        _registry.REGISTRY["cifar10"],
        archive=_registry.FileSpec("cifar-10-binary.tar.gz", (sha(archive),))))
    return batches, archive


def test_cifar_download_archive_and_unpack(tmp_path, monkeypatch, small_cifar):
    batches, archive = small_cifar
    with serve({"/c/cifar-10-binary.tar.gz": archive}) as (url, requested):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/c/"])
        imgs, labels = D.load_cifar10("train", data_dir=tmp_path)
        test_imgs, _ = D.load_cifar10("test", data_dir=tmp_path)
    assert requested == ["/c/cifar-10-binary.tar.gz"]
    assert imgs.shape == (15, 32, 32, 3) and test_imgs.shape == (3, 32, 32, 3)
    expected = [batches[f"cifar-10-batches-bin/data_batch_{i}.bin"] for i in range(1, 6)]
    np.testing.assert_array_equal(imgs, np.concatenate([e[0] for e in expected]))
    np.testing.assert_array_equal(labels, np.concatenate([e[1] for e in expected]))
    assert not (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").exists()  # fetched only to unpack
    assert D.cifar_or_standin(tmp_path) == "cifar10"
    assert no_partial_files(tmp_path)


def test_cifar_user_supplied_archive(tmp_path, small_cifar):
    _, archive = small_cifar
    path = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    path.parent.mkdir()
    path.write_bytes(archive)
    assert D.cifar_or_standin(tmp_path) == "cifar10"  # loading will unpack it
    imgs, _ = D.load_cifar10("test", data_dir=tmp_path, download=False)
    assert imgs.shape == (3, 32, 32, 3) and path.exists()


def test_cifar_corrupt_archive_rejected(tmp_path, monkeypatch, small_cifar):
    _, archive = small_cifar
    with serve({"/c/cifar-10-binary.tar.gz": archive[:-10]}) as (url, _):
        monkeypatch.setitem(_registry.MIRRORS, "cifar10", [url + "/c/"])
        with pytest.raises(D.DataMissingError) as err:
            D.load_cifar10(data_dir=tmp_path)
    assert "cifar-10-binary.tar.gz" in str(err.value) and "test_batch.bin" in str(err.value)
    assert not list((tmp_path / "cifar10").rglob("*.*"))


def test_cifar_truncated_batch_on_load(tmp_path, small_cifar):
    batches, _ = small_cifar
    for name, (_, _, data) in batches.items():
        (tmp_path / "cifar10" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cifar10" / name).write_bytes(data)
    (tmp_path / "cifar10" / "cifar-10-batches-bin" / "test_batch.bin").write_bytes(
        batches["cifar-10-batches-bin/test_batch.bin"][2][:-100])
    D.load_cifar10("train", data_dir=tmp_path, download=False)
    with pytest.raises(D.DataCorruptError, match=r"test_batch\.bin: .* not a positive whole number"):
        D.load_cifar10("test", data_dir=tmp_path, download=False)


def test_missing_cifar_message_mentions_archive(tmp_path):
    with pytest.raises(D.DataMissingError) as err:
        D.load_cifar10(data_dir=tmp_path, download=False)
    msg = str(err.value)
    assert str(tmp_path / "cifar10" / "cifar-10-batches-bin" / "data_batch_1.bin") in msg
    assert str(tmp_path / "cifar10" / "cifar-10-binary.tar.gz") in msg and "NTK_DATA_DIR" in msg


# --------------------------------------------------------------------------- two_class, labels

def test_two_class_on_fake_mnist(fake_mnist):
    root, arrays = fake_mnist
    d = D.two_class("mnist", n_train=5, n_test=3, seed=0, classes=(3, 7), data_dir=root)
    assert d.X_train.shape == (5, 784) and d.X_test.shape == (3, 784)
    assert d.X_train.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(d.X_train, axis=1), 1.0)
    raw = arrays["train-labels-idx1-ubyte.gz"][d.train_idx]
    assert set(raw) <= {3, 7}
    np.testing.assert_array_equal(d.y_train, np.where(raw == 7, 1.0, -1.0))
    expected_x = arrays["train-images-idx3-ubyte.gz"][d.train_idx].reshape(5, -1).astype(float)
    np.testing.assert_allclose(d.X_train, expected_x / np.linalg.norm(expected_x, axis=1, keepdims=True))
    assert (d.name, d.classes, d.seed) == ("mnist", (3, 7), 0)
    with pytest.raises(ValueError):
        d.X_train[0, 0] = 1.0  # read-only


def test_two_class_seeded_and_nested(fake_mnist):
    root, _ = fake_mnist
    a = D.two_class("mnist", 6, 4, seed=1, data_dir=root)
    b = D.two_class("mnist", 6, 4, seed=1, data_dir=root)
    c = D.two_class("mnist", 8, 4, seed=1, data_dir=root)
    other = [D.two_class("mnist", 6, 4, seed=s, data_dir=root).train_idx for s in range(2, 6)]
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.train_idx, c.train_idx[:6])  # nested training sets
    np.testing.assert_array_equal(a.test_idx, c.test_idx)  # test set independent of n_train
    empty = D.two_class("mnist", 6, 0, seed=1, data_dir=root)
    assert empty.X_test.shape == (0, 784) and empty.y_test.shape == (0,)
    assert any(not np.array_equal(a.train_idx, o) for o in other)


def test_two_class_errors(fake_mnist):
    root, _ = fake_mnist
    with pytest.raises(ValueError, match="only 8 exist"):  # 40 train labels, 4 each of 0 and 1
        D.two_class("mnist", 9, 1, seed=0, data_dir=root)
    with pytest.raises(ValueError, match="two different"):
        D.two_class("mnist", 2, 1, seed=0, classes=(1, 1), data_dir=root)
    with pytest.raises(ValueError, match="n_train >= 1"):
        D.two_class("mnist", 0, 1, seed=0, data_dir=root)
    with pytest.raises(ValueError, match="not both present"):
        D.two_class("mnist", 1, 1, seed=0, classes=(0, 12), data_dir=root)


def test_two_class_cifar_flattening(tmp_path, small_cifar):
    batches, _ = small_cifar
    for name, (_, _, data) in batches.items():
        (tmp_path / "cifar10" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cifar10" / name).write_bytes(data)
    d = D.two_class("cifar10", 5, 1, seed=0, data_dir=tmp_path)
    assert d.X_train.shape == (5, 3072)


def test_cifar_or_standin_and_labels(tmp_path, small_cifar):
    batches, _ = small_cifar
    assert D.cifar_or_standin(tmp_path) == "fashion-mnist"
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, (_, _, data) in batches.items():
        if not name.endswith("test_batch.bin"):
            (tmp_path / "cifar10" / name).write_bytes(data)
    assert D.cifar_or_standin(tmp_path) == "fashion-mnist"  # test_batch.bin still missing
    (folder / "test_batch.bin").touch()
    # A damaged copy counts as present: loading it fails loudly instead of silently switching.
    assert D.cifar_or_standin(tmp_path) == "cifar10"
    with pytest.raises(D.DataCorruptError, match=r"test_batch\.bin"):
        D.load_cifar10("test", data_dir=tmp_path, download=False)
    (folder / "test_batch.bin").write_bytes(batches["cifar-10-batches-bin/test_batch.bin"][2])
    assert D.cifar_or_standin(tmp_path) == "cifar10"
    assert D.dataset_label("fashion-mnist", standin_for="cifar10") == "Fashion-MNIST (stand-in for CIFAR-10)"
    assert D.dataset_label("cifar10", standin_for="cifar10") == "CIFAR-10"
    assert D.dataset_label("mnist") == "MNIST"
    with pytest.raises(ValueError):
        D.dataset_label("imagenet")
