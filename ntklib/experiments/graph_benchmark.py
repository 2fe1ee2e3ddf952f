"""Graph classification with 10-fold cross-validation (Du et al., NeurIPS 2019, Section 5): the GNTK as an SVM
kernel, and a trained GNN baseline, on the benchmarks of ntklib.datasets.load_graphs.

Protocol of Du et al. (their code, github.com/KangchengHou/gntk, search.py; the same as Xu et al.'s GIN
paper): for every hyper-parameter setting (GNTK architecture, SVM C) the accuracy on each of the 10 fixed
test folds; the reported number is the mean (and std) over folds of the setting with the best *mean test*
accuracy. That selection looks at the test folds, so it is optimistic; we also report a leave-one-fold-out
estimate that picks the setting for fold k on the other nine folds only. Both are computed here.

The GNN baseline is the GNTK's own architecture at finite width: BLOCKs of sum (or mean) aggregation with
self-loops and an MLP, a jumping-knowledge readout (a linear map of the summed node features of every
layer), trained with Adam (optax.adam, :func:`_gnn_optimizer`) on the cross-entropy, full batch, one run per fold
(a few lines of JAX).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .. import _validate
from ..models import gntk
from .._jaxcompat import disable_x64


def _fold_accuracy(K, y, tr, te, C):
    from .uci_benchmark import svm_accuracy
    return svm_accuracy(K[np.ix_(tr, tr)], K[np.ix_(te, tr)], y[tr], y[te], C)


def fold_accuracies_svm(K, y, folds, C_grid, n_jobs: int | None = None) -> np.ndarray:
    """(len(C_grid), n_folds) test accuracy of SVC(kernel='precomputed', C) on each fold. The (C, fold) fits are
    independent: they run in ``n_jobs`` joblib processes (None: one per CPU, ntklib.theory._fast.workers(); K is
    shared with them as a memory map); the result does not depend on n_jobs."""
    K = _validate.kernel(K, "K")
    y = _validate._array(y, "y", "biuf")
    if y.shape != (K.shape[0],):
        raise ValueError(f"y must be 1-D with one label per row of K ({K.shape[0]}), got shape {y.shape}")
    from .uci_benchmark import _C_grid, _index_pair
    C_grid = _C_grid(C_grid)
    if isinstance(folds, (str, bytes)) or not hasattr(folds, "__iter__"):
        raise _validate.ArgumentTypeError(f"folds must be a list of (train, test) index pairs, got {_validate._show(folds)}")
    folds = [_index_pair(f, f"folds[{k}]", K.shape[0]) for k, f in enumerate(folds)]
    if not folds:
        raise ValueError("folds is empty")
    if n_jobs is None:
        from ..theory._fast import workers
        n_jobs = workers()
    n_jobs = _validate.positive_int(n_jobs, "n_jobs")
    cells = [(C, tr, te) for C in C_grid for tr, te in folds]
    if n_jobs == 1:
        acc = [_fold_accuracy(K, y, tr, te, C) for C, tr, te in cells]
    else:
        from joblib import Parallel, delayed
        acc = Parallel(n_jobs=n_jobs)(delayed(_fold_accuracy)(K, y, tr, te, C) for C, tr, te in cells)
    return np.array(acc).reshape(len(C_grid), len(folds))


def select(acc) -> dict:
    """From a (settings, folds) accuracy table: Du et al.'s number (the setting with the best mean over folds;
    first on ties) and the leave-one-fold-out estimate (setting for fold k chosen on the other folds)."""
    A = _validate._array(acc, "acc").astype(np.float64)
    if A.ndim != 2 or A.shape[1] < 2 or A.shape[0] == 0:
        raise ValueError(f"acc must be a (settings >= 1, folds >= 2) table, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("acc contains NaN or inf")
    best = int(np.argmax(A.mean(axis=1)))
    lofo = []
    for k in range(A.shape[1]):
        rest = np.delete(A, k, axis=1).mean(axis=1)
        lofo.append(A[int(np.argmax(rest)), k])
    lofo = np.array(lofo)
    return {"best": best, "mean": float(A[best].mean()), "std": float(A[best].std()),
            "lofo_mean": float(lofo.mean()), "lofo_std": float(lofo.std())}


#: Version of the GNTK code; part of the Gram cache key, so that a Gram matrix computed by other code is never
#: served. 2: the fused ReLU layer (gntk._relu_layer_fused, exact where cos = 1).
GNTK_VERSION = 2


def _key(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def graphs_key(graphs) -> str:
    """A hash of the graphs' content: every adjacency matrix and node-feature matrix (shape, dtype and bytes), in
    order. Part of the Gram cache key, so that other graphs under the same data set name are never served."""
    gntk._check_graphs(graphs)
    h = hashlib.sha1()
    for g in graphs:
        for a in (np.asarray(g.adjacency), np.asarray(g.features)):
            a = np.ascontiguousarray(a)
            h.update(f"{a.shape}{a.dtype}".encode())
            h.update(a.tobytes())
    return h.hexdigest()[:16]


def gntk_grams(ds, configs, *, cache_dir, chunk_nodes: int = 3000, progress=None, n_jobs: int | None = None) -> dict:
    """{GNTKConfig: normalised Gram matrix} for a graph data set, cached as .npy under ``cache_dir``, keyed by the configuration, GNTK_VERSION and a hash of the
    graphs' content (:func:`graphs_key`). Configurations that differ only in ``blocks`` share one recursion
    (gntk.gntk_gram(all_blocks=True)), which runs its chunk pairs in ``n_jobs`` processes."""
    _check_graph_dataset(ds)
    if isinstance(configs, (str, bytes, gntk.GNTKConfig)) or not hasattr(configs, "__iter__"):
        raise _validate.ArgumentTypeError(f"configs must be a list of gntk.GNTKConfig, got {_validate._show(configs)}")
    configs = list(configs)
    for k, cfg in enumerate(configs):
        if not isinstance(cfg, gntk.GNTKConfig):
            raise _validate.ArgumentTypeError(f"configs[{k}] must be a gntk.GNTKConfig, got {_validate._show(cfg)}")
    _validate.positive_int(chunk_nodes, "chunk_nodes")
    if n_jobs is not None:
        _validate.positive_int(n_jobs, "n_jobs")
    cache = _validate.directory_arg(cache_dir, "cache_dir")
    out, todo = {}, {}
    gk = graphs_key(ds.graphs)
    for cfg in configs:
        path = cache / ds.name / f"gntk-{_key(asdict(cfg), GNTK_VERSION)}-{gk}.npy"
        if path.exists():
            out[cfg] = np.load(path)
        else:
            todo.setdefault((cfg.mlp_layers, cfg.aggregation, cfg.jk), []).append((cfg, path))
    for (mlp, aggr, jk), items in todo.items():
        deepest = gntk.GNTKConfig(max(c.blocks for c, _ in items), mlp, aggr, jk)
        grams = gntk.gntk_gram(ds.graphs, deepest, chunk_nodes=chunk_nodes, progress=progress, all_blocks=True,
                               n_jobs=n_jobs)
        for cfg, path in items:
            K = gntk.normalize(grams[cfg.blocks])
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".npy", delete=False) as f:
                np.save(f, K)
            Path(f.name).replace(path)
            out[cfg] = K
    return out


def _check_graph_dataset(ds):
    missing = [a for a in ("name", "graphs", "labels", "folds", "n_classes") if not hasattr(ds, a)]
    if missing:
        raise _validate.ArgumentTypeError(f"ds must be a graph data set (ntklib.datasets.load_graphs), got "
                                          f"{type(ds).__name__} without {missing}")


# --- the GNN baseline (JAX) -----------------------------------------------------------------------------

def _graph_arrays(ds, aggregation):
    """All graphs of a data set as one disjoint union: features, (src, dst) edges incl. self-loops, edge
    weights c_u, node -> graph ids."""
    feats, src, dst, w, gid, offset = [], [], [], [], [], 0
    for g_i, g in enumerate(ds.graphs):
        A = np.asarray(g.adjacency, dtype=np.float64) + np.eye(g.n_nodes)
        u, v = np.nonzero(A)
        deg = A.sum(axis=1)
        src.append(v + offset)
        dst.append(u + offset)
        w.append(1.0 / deg[u] if aggregation == "mean" else np.ones(len(u)))
        feats.append(g.features)
        gid.append(np.full(g.n_nodes, g_i))
        offset += g.n_nodes
    return (np.vstack(feats).astype(np.float32), np.concatenate(src), np.concatenate(dst),
            np.concatenate(w).astype(np.float32), np.concatenate(gid))


def _gnn_optimizer(lr):
    """Adam (Kingma & Ba 2015, Algorithm 1) with beta = (0.9, 0.999), eps = 1e-8 added to sqrt(v_hat), both moments
    bias-corrected (optax.adam): the GNN baseline's optimiser."""
    import optax
    return optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8)


def train_gnn_cv(ds, hidden: int = 64, blocks: int = 2, mlp_layers: int = 2, aggregation: str = "sum",
                 epochs: int = 200, lr: float = 0.01, seed: int = 0, on_divergence: str = "raise") -> np.ndarray:
    """Train the GNN baseline once per fold (all 10 folds in one vectorised JAX program) and return the test
    accuracy after every epoch: (n_folds, epochs). Standard parameterisation (He initialisation), Adam
    (beta = 0.9, 0.999), full batch, cross-entropy on the fold's training graphs, in float32 whatever JAX's
    global x64 flag (as GIN's own code trains; float64 took twice as long and changes nothing that matters). A fold whose training loss
    or final outputs are not finite raises TrainingDiverged (its accuracies would be argmax of NaN), unless
    ``on_divergence="return"``."""
    import jax
    import jax.numpy as jnp
    import optax

    if not isinstance(aggregation, str) or aggregation not in gntk.AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {gntk.AGGREGATIONS}, got {aggregation!r}")
    hidden, blocks, mlp_layers, epochs = (_validate.positive_int(v, name) for v, name in (
        (hidden, "hidden"), (blocks, "blocks"), (mlp_layers, "mlp_layers"), (epochs, "epochs")))
    lr = _validate.positive(lr, "lr")
    on_divergence = _validate.on_divergence(on_divergence)
    seed = _validate.seed(seed)
    _check_graph_dataset(ds)
    F, src, dst, w, gid = _graph_arrays(ds, aggregation)
    N, G, C = len(F), len(ds.graphs), ds.n_classes
    y = jnp.asarray(ds.labels)
    masks = np.zeros((len(ds.folds), 2, G), np.float32)
    for k, (tr, te) in enumerate(ds.folds):
        masks[k, 0, tr] = 1.0
        masks[k, 1, te] = 1.0

    def init(key):
        params, fan_in, k = {"mlp": [], "read": []}, F.shape[1], 0
        for _ in range(blocks):
            layers = []
            for _ in range(mlp_layers):
                kk = jax.random.fold_in(key, k)
                layers.append((jax.random.normal(kk, (fan_in, hidden)) * jnp.sqrt(2.0 / fan_in), jnp.zeros(hidden)))
                fan_in, k = hidden, k + 1
            params["mlp"].append(layers)
        for l in range(blocks + 1):
            d = F.shape[1] if l == 0 else hidden
            params["read"].append((jax.random.normal(jax.random.fold_in(key, 100 + l), (d, C)) / jnp.sqrt(d), jnp.zeros(C)))
        return params

    def logits(params, data):
        F_, src_, dst_, w_, gid_ = data
        h = F_
        pooled = [jax.ops.segment_sum(h, gid_, G)]
        for layers in params["mlp"]:
            h = jax.ops.segment_sum(h[src_] * w_[:, None], dst_, N)          # c_u sum over N(u) and u
            for W, b in layers:
                h = jax.nn.relu(h @ W + b)
            pooled.append(jax.ops.segment_sum(h, gid_, G))
        return sum(p @ W + b for p, (W, b) in zip(pooled, params["read"]))

    def loss(params, mask, data):      # the logits come along: the test accuracy of these parameters
        out = logits(params, data)
        lp = jax.nn.log_softmax(out)
        return -jnp.sum(mask * lp[jnp.arange(G), y]) / jnp.sum(mask), out

    def accuracy(out, mask):
        return jnp.sum(mask * (jnp.argmax(out, axis=1) == y)) / jnp.sum(mask)

    def run(key, mask_pair, data):     # the graph arrays are arguments, not constants, so XLA does not fold them
        params = init(key)
        opt = _gnn_optimizer(lr)

        def step(carry, _):
            # the forward pass of the gradient at the parameters after epoch t - 1 also scores them, so each
            # epoch costs one forward and one backward pass (not a second forward for the accuracy)
            params, state = carry
            g, out = jax.grad(loss, has_aux=True)(params, mask_pair[0], data)
            updates, state = opt.update(g, state, params)
            params = optax.apply_updates(params, updates)
            return (params, state), (accuracy(out, mask_pair[1]), jnp.all(jnp.isfinite(out)))

        (params, _), (before, finite) = jax.lax.scan(step, (params, opt.init(params)), None, length=epochs)
        final = logits(params, data)
        # before[t] scores the parameters before epoch t's update: drop the initial ones, add the final ones
        return (jnp.concatenate([before[1:], accuracy(final, mask_pair[1])[None]]),
                jnp.all(finite) & jnp.all(jnp.isfinite(final)))

    with disable_x64():
        keys = jnp.stack([jax.random.PRNGKey(seed + k) for k in range(len(ds.folds))])
        data = tuple(jnp.asarray(a) for a in (F, src, dst, w, gid))
        acc, finite = jax.jit(jax.vmap(run, in_axes=(0, 0, None)))(keys, jnp.asarray(masks), data)
    bad = np.flatnonzero(~np.asarray(finite))
    if bad.size and on_divergence == "raise":
        raise _validate.TrainingDiverged(
            f"train_gnn_cv: training diverged (non-finite outputs) in fold(s) {[int(k) + 1 for k in bad]} with "
            f"lr={lr!r}; lower lr (or pass on_divergence='return' to get the accuracies)", None, None)
    return np.asarray(acc)
