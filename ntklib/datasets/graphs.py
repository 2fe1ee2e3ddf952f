"""Graph-classification benchmarks in the GIN/GNTK text format, with their fixed 10 folds.

References: Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural
Networks?", ICLR 2019 (format and data); Du, Hou, Póczos, Salakhutdinov, Wang
& Xu, "Graph Neural Tangent Kernel", NeurIPS 2019 (the 10-fold protocol);
the folds come from Zhang, Cui, Neumann & Chen, AAAI 2018.

Format of ``<data_dir>/graphs/<NAME>/<NAME>.txt`` (as in GIN's ``dataset.zip``,
https://github.com/weihua916/powerful-gnns):
line 1 = number of graphs N; then per graph a line ``n l`` (nodes, class
label) followed by n node lines ``t m v_1 .. v_m`` (node tag, degree, 0-based
neighbours).  ``10fold_idx/{train,test}_idx-<k>.txt``, k = 1..10: 0-based
graph indices, one per line.  As in the GIN/GNTK loaders, class labels and
node tags are re-mapped to 0, 1, ... in order of first appearance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ._download import fetch_command, verify_sha256
from ._errors import DataCorruptError, DataMissingError, reading
from ._paths import ENV_VAR, describe_root, resolve_root
from ._registry import MIRRORS, REGISTRY
from ._status import fetch

GRAPH_DATASETS = ("MUTAG", "PTC", "NCI1", "PROTEINS", "IMDBBINARY", "IMDBMULTI")
#: Sets without node labels (every tag is 0): GIN/GNTK use the node degree as tag.
_DEGREE_AS_TAG = frozenset({"IMDBBINARY", "IMDBMULTI"})

PathLike = str | os.PathLike | None


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected graph with discrete node tags."""

    adjacency: np.ndarray  # (n, n) uint8, symmetric, zero diagonal
    tags: np.ndarray  # (n,) int64 in 0..n_tags-1
    n_tags: int  # size of the data set's tag alphabet

    @property
    def n_nodes(self) -> int:
        return len(self.tags)

    @property
    def features(self) -> np.ndarray:
        """One-hot node features (n, n_tags) float64, built on access to save memory."""
        return np.eye(self.n_tags)[self.tags]


@dataclass(frozen=True, eq=False)
class GraphDataset:
    name: str
    graphs: list[Graph]
    labels: np.ndarray  # (N,) int64, 0-based in order of first appearance
    n_classes: int
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]  # 10 x (train_idx, test_idx)
    degree_as_tag: bool


def graph_dataset_names() -> tuple[str, ...]:
    """The six graph benchmarks of the shared data folder (GIN/GNTK directory names)."""
    return GRAPH_DATASETS


def _first_appearance(values: list[int]) -> tuple[np.ndarray, int]:
    """Re-map values to 0, 1, ... in order of first appearance."""
    codes: dict[int, int] = {}
    return np.array([codes.setdefault(v, len(codes)) for v in values], dtype=np.int64), len(codes)


def _parse(path) -> tuple[list[np.ndarray], list[list[int]], list[int]]:
    """-> (adjacency per graph, raw node tags per graph, raw label per graph)."""
    with reading(path, fetch_command("graphs")):
        text = path.read_text(encoding="utf-8")
    try:
        lines = iter(text.split("\n"))
        n_graphs = int(next(lines))
        adjs, tags, labels = [], [], []
        for g in range(n_graphs):
            n, label = (int(x) for x in next(lines).split())
            rows = [[int(x) for x in next(lines).split()] for _ in range(n)]
            for i, row in enumerate(rows):
                if len(row) < 2 or len(row) != row[1] + 2:
                    raise DataCorruptError(f"{path}: graph {g}, node {i}: expected 'tag m' "
                                           f"followed by m neighbours, got {row}")
            degree = np.array([row[1] for row in rows], dtype=np.int64)
            nbrs = np.array([v for row in rows for v in row[2:]], dtype=np.int64)
            if nbrs.size and (nbrs.min() < 0 or nbrs.max() >= n):
                raise DataCorruptError(f"{path}: graph {g}: neighbour index outside 0..{n - 1}")
            adj = np.zeros((n, n), dtype=np.uint8)
            adj[np.repeat(np.arange(n), degree), nbrs] = 1
            if not np.array_equal(adj.sum(axis=1), degree):
                raise DataCorruptError(f"{path}: graph {g}: a node lists a neighbour twice")
            if not np.array_equal(adj, adj.T) or adj.diagonal().any():
                raise DataCorruptError(f"{path}: graph {g} is not undirected (asymmetric or self-loop)")
            node_tags = [row[0] for row in rows]
            adjs.append(adj)
            tags.append(node_tags)
            labels.append(label)
    except StopIteration:
        raise DataCorruptError(f"{path}: file ends early (truncated)") from None
    except (ValueError, IndexError) as e:
        raise DataCorruptError(f"{path}: malformed line ({e})") from e
    if any(line.strip() for line in lines):
        raise DataCorruptError(f"{path}: unexpected data after the {n_graphs} declared graphs")
    return adjs, tags, labels


def _read_folds(folder, n: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    folds = []
    for k in range(1, 11):
        pair = []
        for part in ("train", "test"):
            path = folder / "10fold_idx" / f"{part}_idx-{k}.txt"
            try:
                with reading(path, fetch_command("graphs")):
                    pair.append(np.loadtxt(path, dtype=np.int64, ndmin=1, encoding="utf-8"))
            except DataCorruptError:
                raise
            except ValueError as e:
                raise DataCorruptError(f"{path}: not a list of integers ({e})") from e
        train, test = pair
        if not np.array_equal(np.sort(np.concatenate(pair)), np.arange(n)):
            raise DataCorruptError(f"{folder / '10fold_idx'}: fold {k} train/test do not "
                                   f"partition the graph indices 0..{n - 1}")
        folds.append((train, test))
    return tuple(folds)


def _needed(name: str) -> list[str]:
    return [f"{name}/{name}.txt"] + [f"{name}/10fold_idx/{p}_idx-{k}.txt"
                                     for k in range(1, 11) for p in ("train", "test")]


def load_graphs(name: str, data_dir: PathLike = None,
                degree_as_tag: bool | None = None, download: bool = True) -> GraphDataset:
    """Load graph benchmark ``name`` (one of :func:`graph_dataset_names`) with its 10 folds.

    ``degree_as_tag``: use node degrees as the node tags; by default True
    exactly for the IMDB sets, which have no node labels, as GIN/GNTK do.
    Tags are re-mapped to 0.. in order of first appearance over the file.
    Every file is checked against the sha256 digests committed with ntklib
    (cached per process), then parsed and validated.  Missing files are
    downloaded first if ``download`` (GIN's ``dataset.zip``, see
    :func:`ntklib.datasets.fetch`).
    """
    if name not in GRAPH_DATASETS:
        raise ValueError(f"unknown graph data set {name!r}; choose from {GRAPH_DATASETS}")
    root = resolve_root(data_dir)
    folder = root / "graphs" / name
    rels = _needed(name)
    failure = ""
    if download and not all((root / "graphs" / r).is_file() for r in rels):
        st = fetch(["graphs"], data_dir)[0]
        failure = "" if st.state == "verified" else st.detail
    missing = [root / "graphs" / r for r in rels if not (root / "graphs" / r).is_file()]
    if missing:
        source = (MIRRORS.get("graphs") or [""])[0] + "dataset.zip"
        raise DataMissingError(
            f"graph data set {name}: {len(missing)} file(s) missing from data directory "
            f"{describe_root(root, data_dir is not None)}:\n  " + "\n  ".join(map(str, missing[:5]))
            + (f"\n  ... and {len(missing) - 5} more" if len(missing) > 5 else "")
            + (f"\nDownload failed: {failure}" if failure else "")
            + f"\nFix: run `{fetch_command('graphs')}` (unpacks GIN's {source}), "
              f"or set ${ENV_VAR} to a directory that contains graphs/{name}/.")
    digests = {f.name: f.sha256 for f in REGISTRY["graphs"].files}
    for r in rels:
        verify_sha256(root / "graphs" / r, digests.get(r, ()), fetch_command("graphs"))
    adjs, raw_tags, raw_labels = _parse(folder / f"{name}.txt")
    if degree_as_tag is None:
        degree_as_tag = name in _DEGREE_AS_TAG
    if degree_as_tag:
        raw_tags = [adj.sum(axis=1).tolist() for adj in adjs]
    flat, n_tags = _first_appearance([t for ts in raw_tags for t in ts])
    ends = np.cumsum([len(ts) for ts in raw_tags], dtype=np.int64)
    graphs = [Graph(adj, flat[end - len(adj):end], n_tags) for adj, end in zip(adjs, ends, strict=True)]
    labels, n_classes = _first_appearance(raw_labels)
    return GraphDataset(name, graphs, labels, n_classes, _read_folds(folder, len(graphs)),
                        degree_as_tag)
