"""The UCI protocol of Arora et al. (2020): the NTK kernel family against fc_relu_ntk, the slide's metrics on
hand-made tables, the selection rule, caching, and bad input."""
import json

import numpy as np
import pytest

from ntklib import datasets, tolerances as tol
from ntklib.theory import kernels
from ntklib.experiments import uci_benchmark as ub

ACC = np.array([[0.9, 0.83, 0.9],    # ranks 1.5, 3, 1.5
                [0.5, 1.0, 0.75],    # ranks 3, 1, 2
                [0.6, 0.6, 0.3]])    # ranks 1.5, 1.5, 3


def test_ntk_family_is_fc_relu_ntk(rng):
    X = rng.standard_normal((25, 6))
    fam = list(ub.ntk_kernel_family(X, 5))
    assert [k for k, _ in fam] == [(L, f) for L in range(1, 6) for f in range(L)]       # 15 kernels, grid order
    for (L, f), K in fam:
        ref = 2.0 * X @ X.T / 6 if L == 1 else kernels.fc_relu_ntk(X, depth=L - 1, n_fixed=f)
        np.testing.assert_allclose(K, ref, rtol=tol.ARCCOS_RTOL, atol=tol.ROUNDOFF_ATOL)
    # with every layer but the top fixed, the NTK is the NNGP of the net (only the readout is trained)
    _, nngp = kernels.fc_relu_ntk(X, depth=4, return_nngp=True)
    np.testing.assert_allclose(dict(fam)[5, 4], nngp, rtol=tol.ARCCOS_RTOL)
    # a memory cap computes the family in groups (one kernel per pass here): the same kernels, in the same order
    capped = list(ub.ntk_kernel_family(X, 5, max_bytes=8 * 25**2 * 2))
    assert [k for k, _ in capped] == [k for k, _ in fam]
    for (_, K), (_, K2) in zip(fam, capped):
        np.testing.assert_allclose(K2, K, rtol=tol.ULP_RTOL, atol=tol.ULP_ATOL)


def test_metrics_on_a_hand_made_table():
    np.testing.assert_allclose(ub.friedman_ranks(ACC), [2.0, 5.5 / 3, 6.5 / 3])
    np.testing.assert_allclose(ub.p_of_max(ACC, 0.9), [2 / 3, 1.0, 1 / 3])
    np.testing.assert_allclose(ub.p_of_max(ACC, 0.95), [2 / 3, 2 / 3, 1 / 3])
    mean, std = ub.pma(ACC)
    ref = 100 * ACC / ACC.max(axis=1, keepdims=True)
    np.testing.assert_allclose(mean, ref.mean(axis=0))
    np.testing.assert_allclose(std, ref.std(axis=0))
    assert mean[0] == pytest.approx(250 / 3) and std[0] == pytest.approx(np.sqrt(5000 / 9))
    t = ub.summary_table(ACC, ["A", "B", "C"])
    assert t["B"][0] == pytest.approx(5.5 / 3) and t["A"][1] == pytest.approx(200 / 3)
    assert t["C"][2] == pytest.approx(100 * np.std([0.9, 0.75, 0.3]))


def test_metric_edge_cases():
    same = np.full((4, 3), 0.7)
    np.testing.assert_allclose(ub.friedman_ranks(same), 2.0)     # all tied: the mean rank
    np.testing.assert_allclose(ub.p_of_max(same, 0.95), 1.0)
    with pytest.raises(ValueError, match="fractions"):
        ub.friedman_ranks([[80.0, 90.0]])                         # percentages, not fractions
    with pytest.raises(ValueError, match="table"):
        ub.pma([0.5, 0.6])
    with pytest.raises(ValueError, match="maximum"):
        ub.pma([[0.0, 0.0]])
    with pytest.raises(ValueError, match="names"):
        ub.summary_table(ACC, ["A", "B"])


def test_svm_accuracy_and_single_class_training_sets(rng):
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    K = X @ X.T
    assert ub.svm_accuracy(K[:30, :30], K[30:, :30], y[:30], y[30:], 10.0) >= 0.9
    ones = np.ones(30, int)
    assert ub.svm_accuracy(K[:30, :30], K[30:, :30], ones, y[30:], 1.0) == np.mean(y[30:] == 1)


def test_selection_takes_the_first_maximum(rng):
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    split = (np.arange(15), np.arange(15, 30))
    fam = [("a", X @ X.T), ("b", X @ X.T)]          # identical kernels: "a" must win the tie
    val, best, folds, capped, _ = ub.select_kernel_svm(fam, y, split, [split], (1.0, 10.0))
    assert best[0] == "a" and len(val) == 4 and len(folds) == 1 and capped == []
    assert best[1] == [c for c in (1.0, 10.0) if val[f"a|{c:g}"] == max(val.values())][0]


def _noisy_linear_problem(rng, n=80):
    """A linear kernel on overlapping classes: SMO needs many iterations at large C."""
    X = rng.standard_normal((n, 2))
    y = (X[:, 0] + rng.standard_normal(n) > 0).astype(int)
    return X @ X.T, y


def test_svm_fit_reports_a_capped_fit_as_sklearn_warns(rng):
    """converged is False exactly when scikit-learn warns that libsvm hit max_iter (an independent signal)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC
    K, y = _noisy_linear_problem(rng)
    seen = set()
    for C in (0.01, 1.0, 1e4):
        for max_iter in (5, 50, 100_000):
            acc, converged = ub.svm_fit(K[:60, :60], K[60:, :60], y[:60], y[60:], C, max_iter)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                clf = SVC(kernel="precomputed", C=C, cache_size=500, max_iter=max_iter).fit(K[:60, :60], y[:60])
            warned = any(issubclass(x.category, ConvergenceWarning) for x in w)
            assert converged is not warned, (C, max_iter)
            assert acc == np.mean(clf.predict(K[60:, :60]) == y[60:])
            assert acc == ub.svm_accuracy(K[:60, :60], K[60:, :60], y[:60], y[60:], C, max_iter)
            seen.add(converged)
    assert seen == {True, False}                    # both cases occurred


def test_selection_skips_capped_fits():
    """The choice is the first maximum among converged fits, even where a capped fit scores higher; a capped
    fit is listed, and so is a capped fold fit."""
    K, y = _noisy_linear_problem(np.random.default_rng(10))     # a seed where the capped fit scores highest
    split = (np.arange(40), np.arange(40, 80))
    grid = (0.01, 1.0, 1e4)
    fits = {C: ub.svm_fit(K[:40, :40], K[40:, :40], y[:40], y[40:], C, 30) for C in grid}
    assert [ok for _, ok in fits.values()] == [True, True, False]
    assert fits[1e4][0] > max(fits[0.01][0], fits[1.0][0])      # the old rule would have chosen C = 10^4
    val, best, folds, capped, _ = ub.select_kernel_svm([("lin", K)], y, split, [split], grid, max_iter=30)
    assert capped == ["lin|10000"] and val == {f"lin|{C:g}": fits[C][0] for C in grid}
    assert best == ("lin", 0.01 if fits[0.01][0] >= fits[1.0][0] else 1.0)
    # with every fit capped the first maximum of all is chosen, and its fold fit is listed as capped
    val, best, folds, capped, _ = ub.select_kernel_svm([("lin", K)], y, split, [split], (1e4, 1e3), max_iter=1)
    assert capped == ["lin|10000", "lin|1000", "fold 0"]
    assert best == ("lin", 1e4 if val["lin|10000"] >= val["lin|1000"] else 1e3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")   # capped fits are part of it
def test_a_fit_with_the_box_inactive_serves_every_larger_C(shared_data):
    """select_kernel_svm's reuse across C against libsvm fitted at every C (independent: SVC itself), on real
    data sets where the dual's bound alpha <= C is inactive from some C on: every reused accuracy is libsvm's own
    at that C, and the fits that precede a reused one have no multiplier at C."""
    from sklearn.svm import SVC
    grid = ub.Protocol().C_grid
    for name in ("iris", "fertility", "breast-tissue"):
        ds = datasets.load_uci(name, data_dir=shared_data)
        tr, va = ds.train_val_split
        fam = list(ub.ntk_kernel_family(ds.X, 3))
        sel = ub.select_kernel_svm(fam, ds.y, ds.train_val_split, ds.folds, grid, max_iter=100_000)
        assert sel.reused, name                                  # the rule applies on these sets
        assert set(sel.reused) <= set(sel.val) and not set(sel.reused) & set(sel.capped)
        for hp, K in fam:
            Ktr, Kva = K[np.ix_(tr, tr)], K[np.ix_(va, tr)]
            for C in grid:
                clf = SVC(kernel="precomputed", C=C, cache_size=500, max_iter=100_000).fit(Ktr, ds.y[tr])
                assert sel.val[f"{hp}|{C:g}"] == np.mean(clf.predict(Kva) == ds.y[va]), (name, hp, C)
                nxt = [c for c in grid if c > C]
                if nxt and f"{hp}|{nxt[0]:g}" in sel.reused and f"{hp}|{C:g}" not in sel.reused:
                    assert np.abs(clf.dual_coef_).max() < C      # the source fit: no alpha at its bound


def test_reuse_needs_a_larger_C(rng):
    """A grid in decreasing order is fitted at every C: the solution at C says nothing about a smaller C."""
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)                               # separable: the box is inactive at large C
    split = (np.arange(30), np.arange(30, 40))
    up = ub.select_kernel_svm([("lin", X @ X.T)], y, split, [split], (1e2, 1e3, 1e4))
    down = ub.select_kernel_svm([("lin", X @ X.T)], y, split, [split], (1e4, 1e3, 1e2))
    assert up.reused == ["lin|1000", "lin|10000"] and down.reused == []
    assert up.val == down.val


def test_run_caches_results(tmp_path, shared_data):
    proto = ub.Protocol(max_layers=2, C_grid=(1.0,), gauss_g=(1.0,), poly_degrees=(2,), rf_trees=5,
                        rf_max_features=("sqrt",), nn_depths=(1,), nn_width=8, nn_steps=20)
    res = ub.run(["iris"], proto=proto, cache_dir=tmp_path, data_dir=shared_data)
    assert set(res) == {("iris", c) for c in ub.CLASSIFIERS}
    ntk = res["iris", "NTK"]
    assert ntk["n"] == 150 and len(ntk["folds"]) == 4 and ntk["accuracy"] == pytest.approx(np.mean(ntk["folds"]))
    assert len(ntk["val"]) == 3                                     # (1,0), (2,0), (2,1) x one C
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == 6
    # a cached result is read back, not recomputed: tamper with one file and see it returned
    f = next(p for p in files if p.name.startswith("RF"))
    data = json.loads(f.read_text())
    data["accuracy"] = 0.123
    f.write_text(json.dumps(data))
    again = ub.run(["iris"], ["RF"], proto=proto, cache_dir=tmp_path, data_dir=shared_data)
    assert again["iris", "RF"]["accuracy"] == 0.123
    # a different protocol is a different cache entry
    other = ub.run(["iris"], ["RF"], proto=ub.Protocol(rf_trees=6, rf_max_features=("sqrt",)), cache_dir=tmp_path,
                   data_dir=shared_data)
    assert other["iris", "RF"]["accuracy"] != 0.123
    table = ub.accuracy_table(res, ["iris"])
    assert table.shape == (1, 6)
    with pytest.raises(KeyError):
        ub.accuracy_table(res, ["wine"])


def test_kernel_cache_round_trip(tmp_path, rng):
    X = rng.standard_normal((20, 4))
    proto = ub.Protocol(max_layers=3)
    first = ub._cached_ntk_family(X, proto, tmp_path)
    second = ub._cached_ntk_family(X, proto, tmp_path)
    assert len(list(tmp_path.glob("ntk-*.npz"))) == 1
    for (k1, K1), (k2, K2) in zip(first, second):
        assert k1 == k2
        assert K2.dtype == np.float64 and np.array_equal(K1, K2)               # a cached kernel is the computed one
    # the key is the data's content (and the parameters and code version), not its shape or name
    Y = X.copy()
    Y[3, 1] += 1e-9
    assert ub.ntk_kernel_key(Y, 3) != ub.ntk_kernel_key(X, 3) != ub.ntk_kernel_key(X, 4)
    assert ub.ntk_kernel_key(X, 3) != ub.ntk_kernel_key(X.astype(np.float32), 3)
    third = ub._cached_ntk_family(Y, proto, tmp_path)
    assert len(list(tmp_path.glob("ntk-*.npz"))) == 2
    assert not np.array_equal(third[0][1], first[0][1])
    assert ub.ntk_kernel_key(X, 3) in {p.stem[len("ntk-"):] for p in tmp_path.glob("ntk-*.npz")}


def test_parallel_run_equals_serial_run(tmp_path, shared_data):
    proto = ub.Protocol(max_layers=3, C_grid=(0.1, 10.0), rf_trees=5, rf_max_features=("sqrt",))
    names, clfs = ["iris", "wine", "seeds"], ["NTK", "RF"]
    par = ub.run(names, clfs, proto=proto, cache_dir=tmp_path / "par", data_dir=shared_data, n_jobs=2)
    ser = ub.run(names, clfs, proto=proto, cache_dir=tmp_path / "ser", data_dir=shared_data, n_jobs=1)
    assert list(par) == list(ser) == [(n, c) for n in names for c in clfs]     # grid order, whatever finished first
    for k in par:
        assert (par[k]["val"], par[k]["chosen"], par[k]["folds"]) == (ser[k]["val"], ser[k]["chosen"], ser[k]["folds"])
    assert len(list((tmp_path / "par").rglob("*.json"))) == 6
    with pytest.raises(ValueError, match="n_jobs"):
        ub.run(names, clfs, proto=proto, cache_dir=tmp_path / "x", data_dir=shared_data, n_jobs=0)


def test_bad_input(shared_data):
    ds = datasets.load_uci("iris", data_dir=shared_data)
    with pytest.raises(ValueError, match="unknown classifier"):
        ub.evaluate(ds, "SVM", ub.Protocol())
    with pytest.raises(ValueError, match="unknown classifiers"):
        ub.run(["iris"], ["kNN"], cache_dir="unused")
    with pytest.raises(ValueError, match="max_layers"):
        list(ub.ntk_kernel_family(np.ones((3, 2)), 0))


def test_run_without_compute_reads_only_the_cache(tmp_path, shared_data):
    proto = ub.Protocol(max_layers=1, C_grid=(1.0,))
    assert ub.run(["iris"], ["NTK"], proto=proto, cache_dir=tmp_path, data_dir=shared_data,
                  compute=False) == {}
    ub.run(["iris"], ["NTK"], proto=proto, cache_dir=tmp_path, data_dir=shared_data)
    got = ub.run(["iris", "wine"], ["NTK"], proto=proto, cache_dir=tmp_path, data_dir=shared_data,
                 compute=False)
    assert set(got) == {("iris", "NTK")}
