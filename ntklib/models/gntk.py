"""The graph neural tangent kernel (GNTK) of Du, Hou, Poczos, Salakhutdinov, Wang & Xu, "Graph Neural Tangent
Kernel: Fusing Graph Neural Networks with Graph Kernels", NeurIPS 2019 (lecture Section 4, "Graph NTK").

**The GNN** (Du et al., Section 3; NTK parameterisation). Node features h_u^(0) (one-hot tags). BLOCK l = 1..L:
aggregate with self-loops, a_u = c_u sum_{v in N(u) u {u}} h_v^(l-1), with c_u = 1 ("sum") or
1 / (|N(u)| + 1) ("mean"); then R fully connected ReLU layers g^(r) = sqrt(c_sigma / m) relu(W^(r) g^(r-1)),
g^(0) = a, W ~ N(0, 1) entrywise, c_sigma = 2; h^(l) = g^(R). Readout with jumping knowledge (JK):
f(G) = sum_{l=0..L} w^(l) . sum_u h_u^(l), w^(l) ~ N(0, I) (without JK only the l = L term).

**The kernel** (Du et al., Section 4, and their code github.com/KangchengHou/gntk), for graphs G, G':
Sigma^(0) = Theta^(0) = H H'^T (node features); each BLOCK first aggregates both,
    Sigma <- C A Sigma A'^T C',  Theta <- C A Theta A'^T C'     (A with self-loops, C = diag(c_u)),
then for each of its R layers, with (p, q) ~ N(0, [[Sigma(G, G)_uu, Sigma_uv], [., Sigma(G', G')_vv]]),
    Sigma <- c_sigma E[relu(p) relu(q)],  Sigma_dot = c_sigma E[1[p > 0] 1[q > 0]],  Theta <- Theta Sigma_dot + Sigma
(arc-cosine closed forms). The readout sums over node pairs: Theta(G, G') = sum_{u, u'} Theta^(L)_{uu'}, or with
JK sum_l sum_{u, u'} Theta^(l)_{uu'} with Theta^(0) = H H'^T unaggregated (the gradient of w^(0)). The authors'
code multiplies the result by 2, a constant that does not change a normalised kernel; it is not applied here.

Computation: the node-level matrices of many graphs at once. Stacking the nodes of a chunk of graphs, A and C
become block diagonal (sparse) and one (nodes x nodes) recursion gives every graph pair of two chunks; the
per-node variances Sigma(G, G)_uu come from the diagonal chunks first; the chunk pairs are independent jobs
(joblib processes, ``n_jobs``), and each ReLU layer is one fused XLA pass per tile (:func:`_relu_layer_fused`).
Monte Carlo of the wide GNN (:func:`empirical_gntk`) verifies the recursion.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp

from .. import _validate

AGGREGATIONS = ("sum", "mean")


@dataclass(frozen=True)
class GNTKConfig:
    """L BLOCKs of R fully connected layers, the neighbourhood scale c_u and the readout."""

    blocks: int = 2
    mlp_layers: int = 2
    aggregation: str = "sum"
    jk: bool = True

    def __post_init__(self):
        # whole-valued floats (2.0) are stored as ints, so that range(blocks) and the cache keys work
        object.__setattr__(self, "blocks", _validate.positive_int(self.blocks, "blocks"))
        object.__setattr__(self, "mlp_layers", _validate.positive_int(self.mlp_layers, "mlp_layers"))
        object.__setattr__(self, "jk", _validate.flag(self.jk, "jk"))
        if not isinstance(self.aggregation, str) or self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")


def _check_cfg(cfg):
    if not isinstance(cfg, GNTKConfig):
        raise _validate.ArgumentTypeError(f"cfg must be a gntk.GNTKConfig, got {_validate._show(cfg)}")
    return cfg


def _check_graphs(graphs):
    if isinstance(graphs, (str, bytes)) or not hasattr(graphs, "__iter__"):
        raise _validate.ArgumentTypeError(f"graphs must be a list of graphs (with adjacency and features), got "
                                          f"{_validate._show(graphs)}")
    graphs = list(graphs)
    if not graphs:
        raise ValueError("need at least one graph")
    d = None
    out = []
    for k, g in enumerate(graphs):
        if not (hasattr(g, "adjacency") and hasattr(g, "features")):
            raise _validate.ArgumentTypeError(f"graphs[{k}] must have adjacency and features (e.g. ntklib.datasets.Graph), "
                                              f"got {type(g).__name__}")
        A = _validate._array(g.adjacency, f"graphs[{k}].adjacency", "biuf")
        F = _validate._array(g.features, f"graphs[{k}].features").astype(np.float64)
        if F.ndim != 2:
            raise ValueError(f"graph {k}: features must be 2-D (nodes, features), got shape {F.shape}")
        if not (np.all(np.isfinite(F)) and np.all(np.isfinite(A))):
            raise ValueError(f"graph {k}: adjacency and features must be finite (no NaN or inf)")
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] != F.shape[0] or A.shape[0] == 0:
            raise ValueError(f"graph {k}: adjacency {A.shape} and features {F.shape} do not describe the same nodes")
        if not np.array_equal(A, A.T) or np.any(np.diag(A)):
            raise ValueError(f"graph {k}: adjacency must be symmetric with a zero diagonal (self-loops are added here)")
        if d is None:
            d = F.shape[1]
        elif F.shape[1] != d:
            raise ValueError(f"graph {k} has {F.shape[1]} node features, graph 0 has {d}")
        out.append((A.astype(np.float64), F))
    return out


class _Chunk:
    """The stacked nodes of some graphs: block-diagonal aggregation operator C (A + I), features, membership."""

    def __init__(self, graphs, idx, aggregation):
        self.idx = np.asarray(idx)
        blocks, feats, sizes = [], [], []
        for i in idx:
            A, F = graphs[i]
            Ahat = A + np.eye(len(A))
            if aggregation == "mean":
                Ahat = Ahat / Ahat.sum(axis=1, keepdims=True)
            blocks.append(sp.csr_matrix(Ahat))
            feats.append(F)
            sizes.append(len(A))
        self.agg = sp.block_diag(blocks, format="csr")
        self.F = np.vstack(feats)
        self.member = sp.csr_matrix((np.ones(sum(sizes)), (np.repeat(np.arange(len(idx)), sizes), np.arange(sum(sizes)))),
                                    shape=(len(idx), sum(sizes)))
        self.diags = None                                # sqrt(Sigma(G, G)_uu) before each MLP layer


def _aggregate(S, left: _Chunk, right: _Chunk):
    """C_l A_l S A_r^T C_r (the aggregation operators of both sides). scipy's sparse @ dense wants the dense
    operand C-ordered, so the order of the two products follows S's layout: one transposing copy per call, and
    a C-ordered S gives an F-ordered result and vice versa."""
    if S.flags.c_contiguous:
        return (right.agg @ np.ascontiguousarray((left.agg @ S).T)).T
    return left.agg @ np.ascontiguousarray((right.agg @ S.T).T)


def _pool(M, left: _Chunk, right: _Chunk) -> np.ndarray:
    """The readout sum over node pairs, member_l M member_r^T (graphs x graphs), without copying M."""
    if M.flags.c_contiguous:
        return np.asarray((right.member @ np.ascontiguousarray((left.member @ M).T)).T)
    return np.asarray(left.member @ np.ascontiguousarray((right.member @ M.T).T))


def _relu_layer(S, dl, dr):
    """c_sigma E[relu relu] and c_sigma E[relu' relu'] (c_sigma = 2) for covariance S with marginal stds dl, dr
    (the arc-cosine closed forms evaluated literally in numpy: the reference for :func:`_relu_layer_fused`)."""
    norm = np.outer(dl, dr)
    cos = np.clip(np.divide(S, norm, out=np.zeros_like(S), where=norm > 0), -1.0, 1.0)
    theta = np.arccos(cos)
    return norm * (np.sin(theta) + (np.pi - theta) * cos) / np.pi, (np.pi - theta) / np.pi


TILE = 512     # edge of the tiles the fused layer is applied to: one compiled shape for every chunk pair


@cache
def _relu_tile_fn():
    """The jitted tile kernel of :func:`_relu_layer_fused` (built on first use: importing gntk needs no JAX)."""
    import jax
    import jax.numpy as jnp

    from ..theory import _fast

    @jax.jit
    def tile(S, T, dl, dr, il, ir):
        cos = _fast.clip_cos(S * il[:, None] * ir[None, :])
        pmt = _fast._HALF_PI + _fast.asin(cos)                 # pi - theta
        sin = jnp.sqrt((1.0 - cos) * (1.0 + cos))
        S2 = dl[:, None] * dr[None, :] * (sin + pmt * cos) * (1.0 / np.pi)
        return S2, T * pmt * (1.0 / np.pi) + S2
    return tile


def _relu_layer_fused(S, T, dl, dr):
    """One ReLU layer of the GNTK recursion in place, Sigma <- c_sigma E[relu relu], Theta <- Theta Sigma_dot +
    Sigma (c_sigma = 2; Du et al. 2019, Section 4), as one fused XLA pass per tile (ntklib.theory._fast's polynomial
    arcsin, float64) instead of numpy's arccos and its temporaries. Cosines within 4 eps of +-1 count as +-1
    (ntklib.theory._fast.clip_cos): a node paired with itself, or with a node of identical neighbourhood, is exact where
    the literal arccos carries ~1e-8 of round-off; elsewhere it agrees with :func:`_relu_layer` to ~1e-15."""
    from ..theory._fast import _x64
    tile = _relu_tile_fn()
    inv = lambda v: np.divide(1.0, v, out=np.zeros_like(v), where=v > 0)
    vecs = [np.zeros(-(-len(v) // TILE) * TILE) for v in (dl, dr, inv(dl), inv(dr))]
    for p, v in zip(vecs, (dl, dr, inv(dl), inv(dr))):
        p[:len(v)] = v
    n, m = S.shape
    bS, bT = np.zeros((TILE, TILE)), np.zeros((TILE, TILE))
    with _x64(np.float64):
        for i in range(0, n, TILE):
            for j in range(0, m, TILE):
                h, w = min(TILE, n - i), min(TILE, m - j)
                if (h, w) == (TILE, TILE):
                    s, t = S[i:i + h, j:j + w], T[i:i + h, j:j + w]
                else:                               # an edge tile: zero padded (il = ir = 0 there: cos = 0)
                    bS[:] = 0
                    bT[:] = 0
                    bS[:h, :w], bT[:h, :w] = S[i:i + h, j:j + w], T[i:i + h, j:j + w]
                    s, t = bS, bT
                s2, t2 = tile(s, t, vecs[0][i:i + TILE], vecs[1][j:j + TILE], vecs[2][i:i + TILE], vecs[3][j:j + TILE])
                S[i:i + h, j:j + w] = np.asarray(s2)[:h, :w]
                T[i:i + h, j:j + w] = np.asarray(t2)[:h, :w]


def _block_kernel(left: _Chunk, right: _Chunk, cfg: GNTKConfig, record_diag: bool = False):
    """(graphs in left) x (graphs in right) GNTK and NNGP readouts after every BLOCK l = 1..L (a list of
    (Theta, Sigma) pairs); with record_diag (left is right) the per-node variances are read from the matrix
    itself and returned too, as (readouts, variances), for the caller to store on the chunk."""
    pool = lambda M: _pool(M, left, right)
    S = left.F @ right.F.T
    jk_T = jk_S = pool(S) if cfg.jk else None
    S = _aggregate(S, left, right)
    T = S.copy(order="K")
    diags, out = [], []
    for block in range(cfg.blocks):
        for r in range(cfg.mlp_layers):
            if record_diag:
                dl = dr = np.sqrt(np.maximum(np.diag(S), 0.0))
                diags.append(dl)
            else:
                k = block * cfg.mlp_layers + r
                dl, dr = left.diags[k], right.diags[k]
            _relu_layer_fused(S, T, dl, dr)
        if cfg.jk:
            jk_T, jk_S = jk_T + pool(T), jk_S + pool(S)
            out.append((jk_T, jk_S))
        else:
            out.append((pool(T), pool(S)))
        if block < cfg.blocks - 1:
            S, T = _aggregate(S, left, right), _aggregate(T, left, right)
    return (out, diags) if record_diag else out


def _diagonal_job(chunk, cfg):
    return _block_kernel(chunk, chunk, cfg, record_diag=True)


def gntk_gram(graphs, cfg: GNTKConfig = GNTKConfig(), chunk_nodes: int = 3000, progress=None,
              return_nngp: bool = False, all_blocks: bool = False, n_jobs: int | None = 1):
    """The (N, N) GNTK Gram matrix of a list of graphs (objects with ``adjacency`` and ``features``, e.g.
    ntklib.datasets.Graph); with ``return_nngp`` also the NNGP kernel E[f(G) f(G')] of the GNN at
    initialisation. With ``all_blocks`` the result is a dict {L: result} for every L = 1..cfg.blocks (one
    recursion serves all depths). ``chunk_nodes`` bounds the node-level matrices held at once (memory about
    6 x 8 x chunk_nodes^2 bytes per process). ``progress`` optionally wraps the iterable of chunk pairs.
    ``n_jobs``: joblib processes over the chunk pairs (None: one per CPU, ntklib.theory._fast.workers()); the result does
    not depend on it."""
    _check_cfg(cfg)
    g = _check_graphs(graphs)
    chunk_nodes = _validate.positive_int(chunk_nodes, "chunk_nodes")
    return_nngp, all_blocks = _validate.flag(return_nngp, "return_nngp"), _validate.flag(all_blocks, "all_blocks")
    if progress is not None and not callable(progress):
        raise _validate.ArgumentTypeError(f"progress must be None or a function wrapping an iterable, got "
                                          f"{_validate._show(progress)}")
    if n_jobs is not None:
        _validate.positive_int(n_jobs, "n_jobs")
    groups, cur, size = [], [], 0
    for i, (A, _) in enumerate(g):
        if cur and size + len(A) > chunk_nodes:
            groups.append(cur)
            cur, size = [], 0
        cur.append(i)
        size += len(A)
    groups.append(cur)
    chunks = [_Chunk(g, idx, cfg.aggregation) for idx in groups]
    N = len(g)
    K = {L: (np.zeros((N, N)), np.zeros((N, N))) for L in range(1, cfg.blocks + 1)}
    if n_jobs is None:
        from ..theory._fast import workers
        n_jobs = workers()
    n_jobs = _validate.positive_int(n_jobs, "n_jobs")

    def parallel(calls):
        if n_jobs == 1 or len(calls) < 2:
            return (f(*a) for f, a in calls)
        from joblib import Parallel, delayed
        return Parallel(n_jobs=min(n_jobs, len(calls)), return_as="generator")(delayed(f)(*a) for f, a in calls)

    def store(a, b, blocks_by_depth):
        L, R = chunks[a], chunks[b]
        for depth, blocks in enumerate(blocks_by_depth, start=1):
            for M, blk in zip(K[depth], blocks):
                M[np.ix_(L.idx, R.idx)] = blk
                M[np.ix_(R.idx, L.idx)] = blk.T

    # diagonal chunks first: they give the per-node variances the off-diagonal chunk pairs need. Every chunk
    # pair is an independent job (joblib processes), run in the order of the serial loop.
    pairs = [(a, a) for a in range(len(chunks))] + [(a, b) for a in range(len(chunks)) for b in range(a + 1, len(chunks))]
    done = iter(progress(pairs) if progress else pairs)
    for a, (blocks, diags) in enumerate(parallel([(_diagonal_job, (ch, cfg)) for ch in chunks])):
        next(done, None)
        chunks[a].diags = diags
        store(a, a, blocks)
    off = pairs[len(chunks):]
    for (a, b), blocks in zip(off, parallel([(_block_kernel, (chunks[a], chunks[b], cfg)) for a, b in off])):
        next(done, None)
        store(a, b, blocks)
    for _ in done:                                           # let a progress bar finish
        pass
    pick = lambda pair: pair if return_nngp else pair[0]
    return {L: pick(v) for L, v in K.items()} if all_blocks else pick(K[cfg.blocks])


def normalize(K) -> np.ndarray:
    """K(G, G') / sqrt(K(G, G) K(G', G')), the normalised kernel Du et al. use in the SVM."""
    K = _validate.kernel(K, "K")
    diag = np.diag(K)
    if np.any(diag <= 0):
        i = int(np.flatnonzero(diag <= 0)[0])
        raise ValueError(f"K: graph {i} has a self-kernel K[{i}, {i}] = {diag[i]:.4g} <= 0; it cannot be normalised")
    d = np.sqrt(diag)
    return K / np.outer(d, d)


# --- the finite GNN (JAX), for the Monte Carlo check and as a trainable baseline --------------------------

def init_gnn(key, d_in: int, width: int, cfg: GNTKConfig):
    """NTK-parameterised GNN weights: for each BLOCK R matrices W (fan_in, width) ~ N(0, 1), and the readout
    vectors w^(l), l = 0..L (only w^(L) without JK)."""
    import jax
    _check_cfg(cfg)
    d_in, width = _validate.positive_int(d_in, "d_in"), _validate.positive_int(width, "width")
    if not hasattr(key, "shape") or getattr(key, "dtype", None) is None:
        raise _validate.ArgumentTypeError(f"key must be a JAX PRNG key (jax.random.PRNGKey(seed)), got {_validate._show(key)}")
    params = {"blocks": [], "readout": []}
    k = 0
    fan_in = d_in
    for _ in range(cfg.blocks):
        layers = []
        for _ in range(cfg.mlp_layers):
            layers.append(jax.random.normal(jax.random.fold_in(key, k), (fan_in, width)))
            k += 1
            fan_in = width
        params["blocks"].append(layers)
    for l in range(cfg.blocks + 1):
        if cfg.jk or l == cfg.blocks:
            params["readout"].append(jax.random.normal(jax.random.fold_in(key, 1000 + l), (d_in if l == 0 else width,)))
    return params


def gnn_apply(params, agg, F, member, cfg: GNTKConfig):
    """Outputs f(G) of the GNN for the graphs whose stacked nodes have aggregation operator ``agg`` (block
    diagonal c_u (A + I)), features F and membership matrix ``member`` (graphs x nodes)."""
    import jax.numpy as jnp
    _check_cfg(cfg)
    if not (isinstance(params, dict) and "blocks" in params and "readout" in params):
        raise _validate.ArgumentTypeError(f"params must be the dict of gntk.init_gnn, got {_validate._show(params)}")
    if jnp.ndim(F) != 2 or jnp.ndim(agg) != 2 or jnp.ndim(member) != 2 or jnp.shape(agg) != (F.shape[0],) * 2 \
            or jnp.shape(member)[1] != F.shape[0]:
        raise ValueError(f"agg (nodes, nodes), F (nodes, features) and member (graphs, nodes) must agree, got shapes "
                         f"{jnp.shape(agg)}, {jnp.shape(F)}, {jnp.shape(member)}")
    h, hs = F, [F]
    for layers in params["blocks"]:
        g = agg @ h
        for W in layers:
            g = jnp.sqrt(2.0 / W.shape[1]) * jnp.maximum(g @ W, 0.0)    # sqrt(c_sigma / m) relu(W g)
        h = g
        hs.append(h)
    used = hs if cfg.jk else hs[-1:]
    return sum(member @ (h @ w) for h, w in zip(used, params["readout"]))


def _stacked(graphs, cfg):
    import jax.numpy as jnp
    ch = _Chunk(_check_graphs(graphs), range(len(graphs)), cfg.aggregation)
    return jnp.asarray(ch.agg.toarray()), jnp.asarray(ch.F), jnp.asarray(ch.member.toarray())


def empirical_gntk(graphs, width: int, cfg: GNTKConfig = GNTKConfig(), seeds=(0,)) -> np.ndarray:
    """The empirical NTK <grad f(G), grad f(G')> (all weights) of random GNNs of the given width, one per seed,
    by automatic differentiation: (len(seeds), N, N). Its mean tends to :func:`gntk_gram` as the width grows."""
    import jax
    from jax.flatten_util import ravel_pytree
    width = _validate.positive_int(width, "width")
    _check_cfg(cfg)
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise _validate.ArgumentTypeError(f"seeds must be a list of seeds, got {_validate._show(seeds)}")
    seeds = [_validate.seed(s, "seeds entry") for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty")
    agg, F, member = _stacked(graphs, cfg)
    _, unravel = ravel_pytree(init_gnn(jax.random.PRNGKey(0), F.shape[1], width, cfg))

    @jax.jit
    def ntk(key):
        flat, _ = ravel_pytree(init_gnn(key, F.shape[1], width, cfg))
        J = jax.jacrev(lambda p: gnn_apply(unravel(p), agg, F, member, cfg))(flat)
        return J @ J.T

    return np.stack([np.asarray(ntk(jax.random.PRNGKey(int(s)))) for s in seeds])


def sample_outputs(graphs, width: int, cfg: GNTKConfig = GNTKConfig(), n_samples: int = 1000, seed: int = 0,
                   batch: int = 100) -> np.ndarray:
    """f(G) of ``n_samples`` independently initialised GNNs: (n_samples, N). Their second moment E[f(G) f(G')]
    tends to the NNGP kernel (gntk_gram(..., return_nngp=True)[1]) as the width grows."""
    import jax
    width = _validate.positive_int(width, "width")
    _check_cfg(cfg)
    n_samples = _validate.positive_int(n_samples, "n_samples")
    seed, batch = _validate.seed(seed), _validate.positive_int(batch, "batch")
    agg, F, member = _stacked(graphs, cfg)
    keys = jax.random.split(jax.random.PRNGKey(seed), n_samples)
    f = jax.jit(jax.vmap(lambda k: gnn_apply(init_gnn(k, F.shape[1], width, cfg), agg, F, member, cfg)))
    return np.concatenate([np.asarray(f(keys[i:i + batch])) for i in range(0, len(keys), batch)])
