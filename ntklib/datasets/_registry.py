"""The canonical data sets: files, sha256 digests, download mirrors, licences.

Digests pin the exact bytes of the original distributions, so a wrong,
re-encoded or truncated file is an error rather than a silently different
experiment.  Sources of the digests:

* MNIST: sha256 of the four original ``.gz`` files (LeCun, Cortes & Burges,
  http://yann.lecun.com/exdb/mnist/); their md5s equal the published ones.
* Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747): two digests
  per file.  The first is the upstream file's.  The second is that of Debian's
  ``dataset-fashion-mnist`` package, whose files carry the very same deflate
  stream under a rewritten gzip header (no stored file name, a 2020 time
  stamp): restoring the name and the original time stamps (2017-08-31
  10:50:06 / 10:50:27 UTC) reproduces the upstream files byte for byte,
  whose md5s are those published in the zalandoresearch/fashion-mnist README.
* CIFAR-10 (Krizhevsky 2009): only the archive ``cifar-10-binary.tar.gz`` has a
  published checksum; the digests of the ``.bin`` files taken while unpacking
  the verified archive are recorded in ``cifar10/SHA256SUMS`` and checked on
  every load, and the files are checked by their record structure when read
  (:mod:`ntklib.datasets.cifar`).
* UCI (Fernández-Delgado et al. 2014) and the GIN graph benchmarks: the
  archives have no published checksum, so every extracted file is checked
  against ``checksums/uci.sha256`` / ``checksums/graphs.sha256``, generated
  from the verified shared copy (its ``SHA256SUMS``).  Only the files the book
  reads are listed: for UCI the four files of each of the 90 benchmark sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHECKSUM_DIR = Path(__file__).resolve().parent / "checksums"


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set, relative to the data set's folder."""

    name: str
    sha256: tuple[str, ...] = ()  # accepted digests; () = checked by its reader


@dataclass(frozen=True)
class DatasetSpec:
    title: str  # human-readable name, for messages
    folder: str  # sub-directory of data_dir()
    files: tuple[FileSpec, ...]
    homepage: str
    archive: FileSpec | None = None  # if set, `files` are extracted from it
    system_dirs: tuple[str, ...] = ()  # read-only places also searched
    hint: str = ""  # extra advice for the "missing" error
    licence: str = ""
    download_size: int | None = None  # bytes to download (approximate where not pinned)
    # The archive has no pinned digest: it is only a carrier, every file
    # taken from it must have its own digest in `files`.
    archive_unverified: bool = False


def _read_sums(fname: str) -> tuple[FileSpec, ...]:
    specs = []
    for line in (CHECKSUM_DIR / fname).read_text(encoding="ascii").splitlines():
        if line.strip():
            digest, rel = line.split(None, 1)
            specs.append(FileSpec(rel.strip(), (digest,)))
    return tuple(specs)


_IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

REGISTRY: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        title="MNIST",
        folder="mnist",
        homepage="http://yann.lecun.com/exdb/mnist/",
        files=tuple(FileSpec(n, (h,)) for n, h in zip(_IDX, (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ), strict=True)),
        licence="no formal licence (commonly redistributed as CC BY-SA 3.0); cite LeCun et al. 1998",
        download_size=11_595_092,
    ),
    "fashion-mnist": DatasetSpec(
        title="Fashion-MNIST",
        folder="fashion-mnist",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        files=tuple(FileSpec(n, h) for n, h in zip(_IDX, (
            ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",   # upstream
             "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),  # Debian
            ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
             "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
            ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
             "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
            ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
             "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
        ), strict=True)),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        hint="On Debian/Ubuntu: apt-get install dataset-fashion-mnist "
             "(installs them under /usr/share/datasets/fashion-mnist/, which is searched too).",
        licence="MIT; cite Xiao, Rasul & Vollgraf 2017",
        download_size=30_878_645,
    ),
    "cifar10": DatasetSpec(
        title="CIFAR-10",
        folder="cifar10",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files=tuple(FileSpec(f"cifar-10-batches-bin/{b}.bin") for b in
                    [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]),
        archive=FileSpec("cifar-10-binary.tar.gz",
                         ("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",)),
        hint="Optional: without CIFAR-10 the book uses Fashion-MNIST as a stand-in and says so.",
        licence="no formal licence; cite Krizhevsky 2009",
        download_size=170_052_171,
    ),
    "uci": DatasetSpec(
        title="UCI (121 sets, Fernández-Delgado et al. 2014; the 90 of Arora et al. 2020)",
        folder="uci",
        homepage="http://persoal.citius.usc.es/manuel.fernandez.delgado/papers/jmlr/",
        files=_read_sums("uci.sha256"),
        archive=FileSpec("data.tar.gz"),
        archive_unverified=True,
        licence="terms of each UCI repository entry (many CC BY 4.0); cite Dua & Graff and "
                "Fernández-Delgado et al. 2014",
        download_size=None,  # not published; about 200 MB
    ),
    "graphs": DatasetSpec(
        title="Graph benchmarks (GIN format: MUTAG, PTC, NCI1, PROTEINS, IMDB-B, IMDB-M)",
        folder="graphs",
        homepage="https://github.com/weihua916/powerful-gnns",
        files=_read_sums("graphs.sha256"),
        archive=FileSpec("dataset.zip"),
        archive_unverified=True,
        licence="no data licence stated (GIN repository: MIT); cite Xu et al. 2019 and each set's source",
        download_size=None,
    ),
}

#: Base URLs tried in order, most reliable first; a file's URL is base + its
#: file name (for archives: base + archive name).  Mutable on purpose: insert
#: your own mirror, or point tests at a local server.
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
        "http://yann.lecun.com/exdb/mnist/",  # the original; often refuses downloads
    ],
    "fashion-mnist": [
        # The authors' S3 bucket over TLS (its website endpoint *.s3-website.* is http-only).
        "https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
    "cifar10": [
        "https://www.cs.toronto.edu/~kriz/",
        # A copy on MindSpore's site; accepted only if its sha256 is the original's.
        "https://mindspore-website.obs.cn-north-4.myhuaweicloud.com/notebook/datasets/",
    ],
    "uci": ["http://persoal.citius.usc.es/manuel.fernandez.delgado/papers/jmlr/"],
    "graphs": [
        "https://raw.githubusercontent.com/weihua916/powerful-gnns/master/",
        "https://github.com/weihua916/powerful-gnns/raw/master/",
    ],
}
