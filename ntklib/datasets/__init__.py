"""Data layer of ntk-book: verified loaders for the data sets used in the lecture.

Everything reads from one data directory, :func:`data_dir` (``$NTK_DATA_DIR``,
else ``~/.cache/ntk-book``), laid out like the shared data folder; every
loader also takes ``data_dir=``.  :func:`status` says what is there,
:func:`fetch` downloads what is missing (atomically, from the mirrors in
:data:`MIRRORS`), and ``python -m ntklib data [--fetch]`` does both from the
command line.  Every file is sha256-verified against digests committed here
(CIFAR-10: its archive; the batch files by their record structure) and then
validated structurally when loaded.  Only numpy and the standard library (and
tqdm for progress bars) are used, and nothing is ever unpickled.
"""

from ._download import download_file, ensure_files, sha256sum, verify_sha256
from ._errors import DataCorruptError, DataError, DataMissingError
from ._paths import ENV_VAR, data_dir
from ._registry import MIRRORS, REGISTRY
from ._status import DATASETS, DatasetStatus, fetch, status
from .cifar import read_cifar_batch
from .graphs import Graph, GraphDataset, graph_dataset_names, load_graphs
from .idx import read_idx
from .images import (
                     IMAGE_DATASETS,
                     cifar_or_standin,
                     dataset_label,
                     load_cifar10,
                     load_fashion_mnist,
                     load_images,
                     load_mnist,
)
from .subsets import TwoClassData, two_class
from .transforms import corrupt_labels, random_labels, symmetric_flip, unit_norm
from .uci import UCIDataset, load_uci, uci_benchmark_names

__all__ = [
    "DataError", "DataMissingError", "DataCorruptError",
    "ENV_VAR", "data_dir", "MIRRORS", "REGISTRY",
    "DATASETS", "DatasetStatus", "status", "fetch",
    "ensure_files", "download_file", "sha256sum", "verify_sha256",
    "read_idx", "read_cifar_batch",
    "IMAGE_DATASETS", "load_mnist", "load_fashion_mnist", "load_cifar10", "load_images",
    "cifar_or_standin", "dataset_label",
    "TwoClassData", "two_class",
    "unit_norm", "corrupt_labels", "random_labels", "symmetric_flip",
    "UCIDataset", "load_uci", "uci_benchmark_names",
    "Graph", "GraphDataset", "graph_dataset_names", "load_graphs",
]
