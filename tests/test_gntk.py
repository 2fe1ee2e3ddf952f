"""The GNTK (Du et al. 2019): closed form on one-node graphs, invariances, chunking, Monte Carlo of the wide
GNN (NTK and NNGP), the 10-fold protocol helpers, the GNN baseline, bad input."""
from dataclasses import dataclass

import numpy as np
import pytest

from ntklib import datasets, tolerances as tol
from ntklib.models import gntk
from ntklib.experiments import graph_benchmark as gb


@dataclass
class G:
    adjacency: np.ndarray
    features: np.ndarray


def _random_graphs(rng, sizes=(4, 5, 6), d=3):
    out = []
    for n in sizes:
        A = np.triu(rng.random((n, n)) < 0.5, 1)
        A = (A | A.T).astype(np.uint8)
        out.append(G(A, np.eye(d)[rng.integers(0, d, n)]))
    return out


def test_one_node_graphs_are_the_relu_ntk(rng):
    # a graph with one node and no edges: aggregation is the identity, so BLOCK = one ReLU layer of a FC net
    x, z = rng.standard_normal(4), rng.standard_normal(4)
    graphs = [G(np.zeros((1, 1), np.uint8), x[None]), G(np.zeros((1, 1), np.uint8), z[None])]
    s0, nx, nz = x @ z, np.linalg.norm(x), np.linalg.norm(z)
    th = np.arccos(s0 / (nx * nz))
    s1 = nx * nz * (np.sin(th) + (np.pi - th) * np.cos(th)) / np.pi       # c_sigma E[relu relu], c_sigma = 2
    theta1 = s0 * (np.pi - th) / np.pi + s1
    K = gntk.gntk_gram(graphs, gntk.GNTKConfig(1, 1, "sum", jk=False))
    assert K[0, 1] == pytest.approx(theta1, rel=tol.ROUNDOFF_RTOL)
    assert K[0, 0] == pytest.approx(2 * nx**2, rel=tol.ROUNDOFF_RTOL)                  # x.x * 1 + |x|^2
    Kjk, Qjk = gntk.gntk_gram(graphs, gntk.GNTKConfig(1, 1, "sum", jk=True), return_nngp=True)
    assert Kjk[0, 1] == pytest.approx(s0 + theta1, rel=tol.ROUNDOFF_RTOL)              # JK adds the input layer's x.z
    assert Qjk[0, 1] == pytest.approx(s0 + s1, rel=tol.ROUNDOFF_RTOL)


def test_invariances_and_chunking(rng):
    graphs = _random_graphs(rng, (5, 3, 7, 4))
    for cfg in (gntk.GNTKConfig(2, 2, "sum", True), gntk.GNTKConfig(3, 1, "mean", False)):
        K = gntk.gntk_gram(graphs, cfg)
        np.testing.assert_allclose(K, K.T)
        assert np.linalg.eigvalsh(K)[0] > -tol.ROUNDOFF_RTOL * np.abs(K).max()
        # many chunks (arccos near 1 amplifies round-off)
        np.testing.assert_allclose(gntk.gntk_gram(graphs, cfg, chunk_nodes=6), K, rtol=tol.CLOSED_FORM_RTOL)
        p = rng.permutation(7)                                            # relabel the nodes of graph 2
        g2 = G(graphs[2].adjacency[np.ix_(p, p)], graphs[2].features[p])
        np.testing.assert_allclose(gntk.gntk_gram(graphs[:2] + [g2] + graphs[3:], cfg), K, rtol=tol.CLOSED_FORM_RTOL)
        allb = gntk.gntk_gram(graphs, cfg, all_blocks=True)
        np.testing.assert_allclose(allb[cfg.blocks], K, rtol=tol.ROUNDOFF_RTOL)
        first = gntk.gntk_gram(graphs, gntk.GNTKConfig(1, cfg.mlp_layers, cfg.aggregation, cfg.jk))
        np.testing.assert_allclose(allb[1], first, rtol=tol.ROUNDOFF_RTOL)
    Kn = gntk.normalize(K)
    np.testing.assert_allclose(np.diag(Kn), 1.0)


@pytest.mark.slow
def test_monte_carlo_of_the_wide_gnn(rng):
    graphs = _random_graphs(rng)
    for cfg in (gntk.GNTKConfig(2, 2, "sum", True), gntk.GNTKConfig(2, 1, "mean", False)):
        K, Q = gntk.gntk_gram(graphs, cfg, return_nngp=True)
        E = gntk.empirical_gntk(graphs, 512, cfg, seeds=range(30))
        z = np.abs(E.mean(0) - K) / (E.std(0) / np.sqrt(len(E)))
        assert z.max() < tol.MC_SIGMAS and np.abs(E.mean(0) - K).max() < tol.MC_MEAN_RTOL * np.abs(K).max()
        f = gntk.sample_outputs(graphs, 64, cfg, n_samples=3000, seed=1)
        P = f[:, :, None] * f[:, None, :]
        zq = np.abs(P.mean(0) - Q) / (P.std(0) / np.sqrt(len(P)))
        assert zq.max() < tol.MC_SIGMAS


def test_empirical_kernel_spread_shrinks_with_width(rng):
    graphs = _random_graphs(rng, (4, 5))
    cfg = gntk.GNTKConfig(1, 2, "sum", True)
    K = gntk.gntk_gram(graphs, cfg)
    spread = [(gntk.empirical_gntk(graphs, m, cfg, seeds=range(12)).std(0) / K).max() for m in (64, 1024)]
    assert spread[1] < spread[0] / 2.5                 # ~ m^(-1/2): a factor 4 expected


def test_fused_relu_layer_matches_the_arccos_closed_form(rng, monkeypatch):
    monkeypatch.setattr(gntk, "TILE", 16)                   # several tiles and padded edges on a small matrix
    F = rng.standard_normal((37, 4))
    F[5] = F[2]                                              # identical nodes: cos = 1 off the diagonal
    Z = rng.standard_normal((23, 4))
    Z[0] = 0.0                                               # a zero-variance node: cos = 0 by convention
    S = F @ np.vstack([F[:3], Z]).T
    dl, dr = np.linalg.norm(F, axis=1), np.linalg.norm(np.vstack([F[:3], Z]), axis=1)
    T0 = rng.standard_normal(S.shape)
    S_ref, dS = gntk._relu_layer(S, dl, dr)
    T_ref = T0 * dS + S_ref
    S_got, T_got = S.copy(), T0.copy()
    gntk._relu_layer_fused(S_got, T_got, dl, dr)
    same = np.isclose(np.abs(S / np.outer(dl, np.where(dr > 0, dr, 1.0))), 1.0, rtol=0, atol=tol.ROUNDOFF_ATOL)
    assert same.sum() >= 4                                   # (2, 2), (5, 5), (2, 5), (5, 2) and their columns
    # elsewhere round-off only; where cos = 1 the literal arccos is off by ~1e-8 and the fused layer is exact
    np.testing.assert_allclose(S_got[~same], S_ref[~same], rtol=0, atol=tol.ROUNDOFF_TIGHT_RTOL * np.abs(S_ref).max())
    np.testing.assert_allclose(T_got[~same], T_ref[~same], rtol=0, atol=tol.ROUNDOFF_TIGHT_RTOL * np.abs(T_ref).max())
    np.testing.assert_allclose(S_got[same], (np.outer(dl, dr) * np.sign(S))[same], rtol=tol.ULP_RTOL)   # c_sigma/2 * 2 |x||z|
    np.testing.assert_allclose(S_got[same], S_ref[same], rtol=tol.ARCCOS_RTOL)
    np.testing.assert_allclose(S_got[:, 3], 0.0)            # zero-variance node: Sigma = 0, Sigma_dot = 1/2
    np.testing.assert_allclose(T_got[:, 3], T0[:, 3] / 2)


def test_parallel_chunk_pairs_give_the_same_gram(rng):
    graphs = _random_graphs(rng, (5, 3, 7, 4, 6, 2))
    cfg = gntk.GNTKConfig(2, 2, "mean", True)
    serial = gntk.gntk_gram(graphs, cfg, chunk_nodes=8, return_nngp=True, all_blocks=True, n_jobs=1)
    par = gntk.gntk_gram(graphs, cfg, chunk_nodes=8, return_nngp=True, all_blocks=True, n_jobs=2)
    for L in (1, 2):
        for a, b in zip(serial[L], par[L]):
            np.testing.assert_array_equal(a, b)
    seen = []
    gntk.gntk_gram(graphs, cfg, chunk_nodes=8, progress=lambda it: (seen.append(p) or p for p in it), n_jobs=2)
    assert len(seen) == 10                                   # 4 chunks: 4 diagonal + 6 off-diagonal pairs


def test_select_protocols():
    A = [[1.0, 0.5, 0.5], [0.6, 0.6, 0.6]]
    s = gb.select(A)
    assert s["best"] == 0 and s["mean"] == pytest.approx(2 / 3) and s["std"] == pytest.approx(np.std([1, 0.5, 0.5]))
    assert s["lofo_mean"] == pytest.approx((0.6 + 0.5 + 0.5) / 3)
    with pytest.raises(ValueError, match="folds"):
        gb.select([[0.5], [0.7]])


def _small_dataset(shared_data, n=40):
    ds = datasets.load_graphs("MUTAG", data_dir=shared_data)
    idx = np.arange(n)
    folds = tuple((np.setdiff1d(idx, idx[k::5]), idx[k::5]) for k in range(5))
    return datasets.GraphDataset("MUTAG-head", ds.graphs[:n], ds.labels[:n], ds.n_classes, folds, False)


def test_gram_cache_and_svm(tmp_path, shared_data):
    ds = _small_dataset(shared_data)
    cfgs = [gntk.GNTKConfig(1, 1, "sum", True), gntk.GNTKConfig(2, 1, "sum", True)]
    grams = gb.gntk_grams(ds, cfgs, cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    again = gb.gntk_grams(ds, cfgs, cache_dir=tmp_path)
    for c in cfgs:
        np.testing.assert_array_equal(grams[c], again[c])
        np.testing.assert_allclose(np.diag(grams[c]), 1.0)
    acc = gb.fold_accuracies_svm(grams[cfgs[1]], ds.labels, ds.folds, [0.1, 10.0])
    assert acc.shape == (2, 5) and acc.max() > 0.6
    np.testing.assert_array_equal(gb.fold_accuracies_svm(grams[cfgs[1]], ds.labels, ds.folds, [0.1, 10.0], n_jobs=1), acc)
    # the cache is keyed by the graphs' content: the same name with other graphs is a different entry
    other = datasets.GraphDataset("MUTAG-head", ds.graphs[::-1], ds.labels[::-1], ds.n_classes, ds.folds, False)
    assert gb.graphs_key(other.graphs) != gb.graphs_key(ds.graphs)
    swapped = gb.gntk_grams(other, cfgs[:1], cache_dir=tmp_path)[cfgs[0]]
    assert len(list(tmp_path.rglob("*.npy"))) == 3
    np.testing.assert_allclose(swapped, grams[cfgs[0]][::-1, ::-1], rtol=tol.ROUNDOFF_RTOL)


def test_gnn_baseline_learns(shared_data):
    ds = _small_dataset(shared_data, 60)
    acc = gb.train_gnn_cv(ds, hidden=16, epochs=60, lr=0.01)
    assert acc.shape == (5, 60) and acc[:, -1].mean() > 0.6
    with pytest.raises(ValueError, match="aggregation"):
        gb.train_gnn_cv(ds, aggregation="max")


def test_gnn_optimizer_is_bias_corrected_adam():
    # three steps on 1/2 ||w - c||^2 (gradient w - c) against Kingma & Ba (2015), Algorithm 1, beta = (0.9, 0.999)
    import jax.numpy as jnp
    import optax
    c, w0 = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.7, -1.1])
    opt = gb._gnn_optimizer(0.01)
    p, state = jnp.asarray(w0), opt.init(jnp.asarray(w0))
    w, m, v = w0.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, 4):
        updates, state = opt.update(p - c, state, p)
        p = optax.apply_updates(p, updates)
        m, v = 0.9 * m + 0.1 * (w - c), 0.999 * v + 0.001 * (w - c) ** 2
        w = w - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(np.asarray(p), w, rtol=tol.ROUNDOFF_RTOL)


def test_bad_input(rng):
    g = _random_graphs(rng, (3,))[0]
    with pytest.raises(ValueError, match="symmetric"):
        gntk.gntk_gram([G(np.triu(np.ones((3, 3), np.uint8), 1), g.features)])
    with pytest.raises(ValueError, match="same nodes"):
        gntk.gntk_gram([G(g.adjacency, g.features[:2])])
    with pytest.raises(ValueError, match="features"):
        gntk.gntk_gram([g, G(g.adjacency, np.ones((3, 5)))])
    with pytest.raises(ValueError, match="aggregation"):
        gntk.GNTKConfig(aggregation="max")
    with pytest.raises(ValueError, match="blocks"):
        gntk.GNTKConfig(blocks=0)
    with pytest.raises(ValueError, match="at least one"):
        gntk.gntk_gram([])
