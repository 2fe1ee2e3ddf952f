"""The UCI benchmark of Arora, Du, Li, Salakhutdinov, Wang & Yu, "Harnessing the power of infinitely wide
deep nets on small-data tasks" (ICLR 2020), Section 4.1 and Table 1: the lecture's "NTK on small to medium
scale datasets".

Protocol, as in the paper and its code (github.com/LeoYu/neural-tangent-kernel-UCI):

- **Data**: the 90 of the 121 sets of Fernandez-Delgado et al. (2014) with at most 5000 samples and no
  separate test file (ntklib.datasets.uci_benchmark_names), features standardised by that preprocessing.
- **NTK**: the NTK of a fully connected ReLU net with L = 1..5 layers (L - 1 hidden layers; L = 1 is the
  linear kernel) of which the bottom L' = 0..L-1 are fixed, i.e. not trained (15 kernels), as a precomputed
  kernel in an SVM (scikit-learn SVC, one-vs-one), C in {10^-2, ..., 10^4}. The kernel is
  ntklib.theory.kernels.fc_relu_ntk (neural-tangents' NTK parameterisation, W_std^2 = 2, no bias), computed for all
  (L, L') in one pass by :func:`ntk_kernel_family`; the authors' code uses c_sigma = 1 and no 1/d input scale,
  which multiplies each kernel by a constant, i.e. shifts the C grid by a constant factor.
- **Selection**: train on the first line of conxuntos.dat, pick the hyper-parameters with the best accuracy
  on the second (the first maximum in grid order, as the authors' code does).
- **Accuracy**: the mean over the 4 (train, test) pairs of conxuntos_kfold.dat with the chosen
  hyper-parameters (these 4 test sets overlap; see ntklib.datasets.uci).
- **Metrics** (Fernandez-Delgado et al.'s, the slide's table): Friedman rank (the average rank over data sets;
  1 = best, ties share the mean rank), average accuracy and its standard deviation over data sets, P90 / P95
  (the fraction of data sets on which a classifier reaches at least 90% / 95% of the best accuracy of all
  compared classifiers), PMA (the mean and standard deviation of accuracy / best accuracy, in %). These
  depend on the set of classifiers compared: the paper ranks among 180 classifiers, we rank among ours.

Baselines (selected the same way): SVM with a Gaussian kernel exp(-g ||x - z||^2 / d) and with a polynomial
kernel (x.z / d + 1)^deg, a random forest (scikit-learn), and finite nets trained by SGD in the standard (He)
and the NTK parameterisation (ntklib.models.trained_nets). Results are cached per data set and classifier (JSON,
keyed by the data's content, the protocol and the kernel code's version), NTK kernels of small data sets too, so
a rerun is cheap. The (data set, classifier) evaluations are independent and run in parallel (joblib, one
process per core); within one, a single kernel recursion gives all 15 NTKs and each kernel serves the whole C
grid (SVC(kernel="precomputed")); libsvm cannot share work across C, except that a fit whose box constraint
alpha <= C is inactive is also the fit at every larger C (:func:`select_kernel_svm`).
"""
from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.stats import rankdata

from .. import _validate, datasets as _datasets
from .._files import atomic_write_text

CACHE_VERSION = 1
#: Version of the SVM selection rule; part of the SVM classifiers' result keys. 2: capped fits are not candidates.
#: 3: a converged fit with no multiplier at its bound C serves every larger C of the grid (select_kernel_svm).
SVM_SELECTION_VERSION = 3
#: Version of the NTK kernel code; part of the NTK result and kernel cache keys, so that a cached kernel or
#: result computed by other code is never served. 2: ntklib.theory.kernels.fc_relu_ntk_all (exact diagonal).
#: 3: cached in float64, so that a cached kernel is bit-identical to a computed one (it was rounded to float32).
NTK_KERNEL_VERSION = 3

#: Table 1 of Arora et al. (2020) as on the slide: Friedman rank (among 180 classifiers), average accuracy
#: (%, mean and std over the 90 data sets), P90 (%), P95 (%), PMA (%, mean and std).
SLIDE_TABLE = {
    "NTK": (28.34, 81.95, 14.10, 88.89, 72.22, 95.72, 5.17),
    "NN (He init)": (40.97, 80.88, 14.96, 81.11, 65.56, 94.34, 7.22),
    "NN (NTK init)": (38.06, 81.02, 14.47, 85.56, 60.00, 94.55, 5.89),
    "RF": (33.51, 81.56, 13.90, 85.56, 67.78, 95.25, 5.30),
    "Gaussian kernel": (35.76, 81.03, 15.09, 85.56, 72.22, 94.56, 8.22),
    "Polynomial kernel": (38.44, 78.21, 20.30, 80.00, 62.22, 91.29, 18.05),
}
CLASSIFIERS = tuple(SLIDE_TABLE)


@dataclass(frozen=True)
class Protocol:
    """Hyper-parameter grids. Defaults are the paper's for the NTK; the baselines' grids are ours."""

    max_layers: int = 5
    C_grid: tuple = tuple(10.0 ** k for k in range(-2, 5))
    # libsvm's iterations per binary problem (the paper: no cap). Measured on the 90 sets: the selected NTK fits
    # take at most ~11,000; a linear kernel at C >= 10^3 on non-separable data runs minutes and is not selected
    # (select_kernel_svm skips capped fits)
    svm_max_iter: int = 100_000
    gauss_g: tuple = (0.0625, 0.25, 1.0, 4.0)          # gamma = g / d
    poly_degrees: tuple = (2, 3, 4)
    rf_trees: int = 100
    rf_max_features: tuple = ("sqrt", 0.5)
    nn_depths: tuple = (1, 3)                           # hidden layers
    nn_width: int = 128
    # NTK-parameterised SGD with lr equals standard SGD with per-layer rates lr * W_std^2 / fan_in, hence 100x
    nn_lrs: dict = field(default_factory=lambda: {"standard": (0.003, 0.03), "ntk": (0.3, 3.0)})
    nn_steps: int = 500                                 # SGD steps (epochs = steps * batch / n, at least 1)
    nn_batch: int = 64
    seed: int = 0
    kernel_cache_max_n: int = 800                       # cache the 15 NTK kernels (float64) up to this n

    def key(self, classifier: str) -> str:
        """A hash of what determines one classifier's results (the cache key)."""
        relevant = {"NTK": ("max_layers", "C_grid", "svm_max_iter"), "Gaussian kernel": ("gauss_g", "C_grid", "svm_max_iter"),
                    "Polynomial kernel": ("poly_degrees", "C_grid", "svm_max_iter"), "RF": ("rf_trees", "rf_max_features", "seed"),
                    "NN (He init)": ("nn_depths", "nn_width", "nn_lrs", "nn_steps", "nn_batch", "seed"),
                    "NN (NTK init)": ("nn_depths", "nn_width", "nn_lrs", "nn_steps", "nn_batch", "seed")}[classifier]
        d = asdict(self)
        extra = {"ntk_kernel": NTK_KERNEL_VERSION} if classifier == "NTK" else {}
        if "svm_max_iter" in relevant:
            extra["svm_selection"] = SVM_SELECTION_VERSION
        blob = json.dumps({"v": CACHE_VERSION, "clf": classifier, **extra, **{k: d[k] for k in relevant}},
                          sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]


# --- kernels --------------------------------------------------------------------------------------------

def ntk_kernel_family(X, max_layers: int = 5, W_std: float = math.sqrt(2.0), b_std: float = 0.0,
                      max_bytes: float = 3.2e9):
    """Yield ((L, L'), K) for L = 1..max_layers layers and L' = 0..L-1 fixed bottom layers, in that order: the
    NTK of a fully connected ReLU net (NTK parameterisation), equal to
    ntklib.theory.kernels.fc_relu_ntk(X, depth=L-1, W_std, b_std, n_fixed=L') for L >= 2 and to the linear kernel
    W_std^2 X X^T / d + b_std^2 for L = 1 (tested). All 15 come from one recursion,
    ntklib.theory.kernels.fc_relu_ntk_all (Arora et al. 2019, Eq. 4-6: a shallower net's kernel is an intermediate
    layer of the deeper one's recursion; L' only decides which layers' NNGP terms are summed), float64, with
    the diagonal (cos = 1) exact. The yielded arrays are never modified afterwards. Memory: at most
    ``max_bytes`` of kernels at once (and at least one): a large data set's kernels come from a few passes of
    the recursion, each storing only the kernels of the next group. The default holds the 15 kernels of the
    benchmark's largest sets (n = 5,000: 3.0 GB) in one pass; a second pass costs a second recursion and a
    compilation for its group (at n = 5,000, 14.5 CPU-s in two passes against 4.3 in one)."""
    from ..theory import kernels
    X = _validate.matrix(X, "X").astype(np.float64)
    max_layers = _validate.positive_int(max_layers, "max_layers")
    _validate.positive(W_std, "W_std")
    _validate.nonnegative(b_std, "b_std")
    _validate.positive(max_bytes, "max_bytes")
    order = [(depth, fixed) for depth in range(max_layers) for fixed in range(depth + 1)]
    per_group = max(1, int(max_bytes // (8 * len(X) ** 2)))
    for start in range(0, len(order), per_group):
        group = order[start:start + per_group]
        fam = kernels.fc_relu_ntk_all(X, None, group[-1][0], W_std, b_std, dtype=np.float64, keys=group)
        for key in group:
            yield (key[0] + 1, key[1]), fam.pop(key)


def gaussian_kernel(X, g: float) -> np.ndarray:
    """exp(-g ||x - z||^2 / d) (the RBF kernel with gamma = g / d)."""
    X = _validate.matrix(X, "X").astype(np.float64)
    _validate.positive(g, "g")
    sq = np.einsum("ij,ij->i", X, X)
    D = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0)
    return np.exp(-g * D / X.shape[1])


def polynomial_kernel(X, degree: int) -> np.ndarray:
    """(x.z / d + 1)^degree."""
    X = _validate.matrix(X, "X").astype(np.float64)
    _validate.positive_int(degree, "degree")
    return (X @ X.T / X.shape[1] + 1.0) ** degree


# --- metrics --------------------------------------------------------------------------------------------

def _acc_matrix(acc) -> np.ndarray:
    A = _validate._array(acc, "acc").astype(np.float64)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"acc (accuracies) must be a (data sets, classifiers) table, got shape {A.shape}")
    if not np.all(np.isfinite(A)) or A.min() < 0 or A.max() > 1:
        raise ValueError("acc (accuracies) must be finite fractions in [0, 1]")
    if np.any(A.max(axis=1) <= 0):
        raise ValueError("a data set on which every classifier has accuracy 0 has no maximum to compare with")
    return A


def friedman_ranks(acc) -> np.ndarray:
    """Average rank of each classifier over data sets (1 = most accurate; ties share the mean rank)."""
    A = _acc_matrix(acc)
    return np.mean([rankdata(-row, method="average") for row in A], axis=0)


def p_of_max(acc, frac: float) -> np.ndarray:
    """P90 / P95: fraction of data sets on which a classifier reaches >= frac * the best accuracy there."""
    A = _acc_matrix(acc)
    frac = _validate.probability(frac, "frac")
    return np.mean(A >= frac * A.max(axis=1, keepdims=True) - 1e-12, axis=0)


def pma(acc) -> tuple[np.ndarray, np.ndarray]:
    """Percentage of the maximum accuracy: mean and std over data sets of 100 * acc / best acc."""
    A = _acc_matrix(acc)
    P = 100.0 * A / A.max(axis=1, keepdims=True)
    return P.mean(axis=0), P.std(axis=0)


def summary_table(acc, names) -> dict:
    """The slide's columns for each classifier: Friedman rank, average accuracy (%) and std, P90, P95 (%), PMA
    (%) and std. ``acc`` is (data sets, classifiers), fractions; std is the population std (numpy default)."""
    A = _acc_matrix(acc)
    names = _names(names, "names")
    if len(names) != A.shape[1]:
        raise ValueError(f"names has {len(names)} entries for {A.shape[1]} classifiers (columns of acc)")
    fr, p90, p95, (pm, ps) = friedman_ranks(A), p_of_max(A, 0.9), p_of_max(A, 0.95), pma(A)
    return {name: (fr[j], 100 * A[:, j].mean(), 100 * A[:, j].std(), 100 * p90[j], 100 * p95[j], pm[j], ps[j])
            for j, name in enumerate(names)}


def _names(names, what: str) -> list:
    """A list of names (not one string, which would be iterated letter by letter)."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise _validate.ArgumentTypeError(f"{what} must be a list of names, got {_validate._show(names)}")
    return list(names)


def _max_iter(max_iter) -> int:
    max_iter = _validate.integer(max_iter, "max_iter", minimum=-1)
    if max_iter == 0:
        raise ValueError("max_iter must be a positive integer (or -1 for no limit), got 0")
    return max_iter


def _class_vector(y, name: str, n: int, what: str) -> np.ndarray:
    y = _validate._array(y, name, "biuf")
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has length {y.shape[0]}, expected {n} ({what})")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or inf")
    return y


# --- fitting --------------------------------------------------------------------------------------------

def svm_accuracy(K_train, K_test, y_train, y_test, C: float, max_iter: int = 1_000_000) -> float:
    """Accuracy of SVC(kernel='precomputed', C) trained on K_train (n_tr, n_tr), tested on K_test (n_te, n_tr).
    A training set with one class predicts that class (SVC refuses to fit it). libsvm's iterations are capped at
    ``max_iter`` per binary problem: a linear kernel with C = 10^4 on non-separable data otherwise runs ~3e8
    iterations (minutes); a capped fit is used as it is (:func:`svm_fit` says whether it was capped)."""
    return svm_fit(K_train, K_test, y_train, y_test, C, max_iter)[0]


def svm_fit(K_train, K_test, y_train, y_test, C: float, max_iter: int = 1_000_000) -> tuple[float, bool]:
    """(accuracy, converged) of :func:`svm_accuracy`'s fit: converged is False when libsvm stopped at
    ``max_iter`` iterations in some binary problem (its solution then depends on where it stopped)."""
    K_train = _validate.matrix(K_train, "K_train")
    if K_train.shape[0] != K_train.shape[1]:
        raise ValueError(f"K_train must be square (n_train, n_train), got shape {K_train.shape}")
    K_test = _validate.matrix(K_test, "K_test")
    if K_test.shape[1] != K_train.shape[0]:
        raise ValueError(f"K_test must be (n_test, n_train) with n_train = {K_train.shape[0]}, got shape {K_test.shape}")
    y_train = _class_vector(y_train, "y_train", K_train.shape[0], "one label per row of K_train")
    y_test = _class_vector(y_test, "y_test", K_test.shape[0], "one label per row of K_test")
    return _fit(K_train, K_test, y_train, y_test, _validate.positive(C, "C"), _max_iter(max_iter))[:2]


def _fit(K_train, K_test, y_train, y_test, C, max_iter) -> tuple[float, bool, bool]:
    """svm_fit on validated arguments (select_kernel_svm checks each kernel once, not once per fit), and
    whether some multiplier alpha is at its bound C (|dual_coef_| = y alpha)."""
    import warnings

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC
    classes = np.unique(y_train)
    if len(classes) == 1:
        return float(np.mean(y_test == classes[0])), True, False
    clf = SVC(kernel="precomputed", C=C, cache_size=500, max_iter=max_iter)
    # the kernels are checked finite once by the callers; scikit-learn would re-scan them in every fit and predict
    with warnings.catch_warnings(), sklearn.config_context(assume_finite=True):
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(K_train, y_train)
        pred = clf.predict(K_test)
    converged = max_iter == -1 or bool(np.all(clf.n_iter_ < max_iter))   # libsvm stops at iter == max_iter
    at_bound = bool(np.any(np.abs(clf.dual_coef_) >= C * (1 - 1e-9)))   # libsvm clips alpha to C exactly
    return float(np.mean(pred == y_test)), converged, at_bound


def _sub(K, rows, cols):
    """K[rows][:, cols]: whole rows first (contiguous copies), then columns; 2x faster than np.ix_'s gather."""
    return K[rows][:, cols]


class Selection(NamedTuple):
    """What :func:`select_kernel_svm` returns."""
    val: dict          # validation accuracy per "hp|C"
    chosen: tuple      # the chosen (hp, C)
    folds: list        # the accuracy per fold, with the chosen (hp, C)
    capped: list       # the fits stopped at max_iter: "hp|C" keys, and "fold k" (a capped fold fit is used as it is)
    reused: list       # the "hp|C" keys whose fit is that at a smaller C of the grid (see select_kernel_svm)


def select_kernel_svm(kernels, y, split, folds, C_grid, max_iter: int = 1_000_000) -> Selection:
    """The protocol for a family of precomputed kernels: ``kernels`` yields (hp, K) with K over all n points.
    For each kernel, an SVM is fitted on ``split``'s train part for each C of ``C_grid`` and scored on its
    validation part; the choice is the first maximum in grid order among the fits that converged (a capped fit's
    accuracy depends on where libsvm stopped; among all fits if none converged), then scored on each fold.

    Work shared across C: the SVM dual, max sum(alpha) - alpha^T Q alpha / 2 over 0 <= alpha <= C, y^T alpha = 0,
    has the same solution for every C' > C when its solution at C has no alpha at the bound C (the box is not
    active). Such a converged fit therefore also serves the larger values of C that follow it in the grid
    ("reused"). libsvm's SMO at C' then takes the very same steps unless some alpha touched C on the way; over
    the benchmark's 90 sets x 15 NTKs, 2,638 of 9,450 validation fits qualify, every one predicts exactly as a
    fit at C' does (measured; tested on real data), and they are a fifth of the fitting time."""
    y = _validate._array(y, "y", "biuf")
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be 1-D non-empty class labels, got shape {y.shape}")
    n = y.shape[0]
    y = _class_vector(y, "y", n, "one label per point")
    split = _index_pair(split, "split", n)
    folds = list(folds) if hasattr(folds, "__iter__") else folds
    if not isinstance(folds, list) or not folds:
        raise ValueError(f"folds must be a non-empty list of (train, test) index pairs, got {_validate._show(folds)}")
    folds = [_index_pair(f, f"folds[{k}]", n) for k, f in enumerate(folds)]
    C_grid = _C_grid(C_grid)
    max_iter = _max_iter(max_iter)
    tr, va = split
    val, capped, reused = {}, [], []
    best = {True: (-1.0, None, None), False: (-1.0, None, None)}   # by convergence: (accuracy, (hp, C), K)
    for hp, K in kernels:
        K = _validate.matrix(K, f"the kernel {hp}")
        if K.shape != (n, n):
            raise ValueError(f"the kernel {hp} must be (n, n) with n = {n} (one row per label), got shape {K.shape}")
        Ktr, Kva = _sub(K, tr, tr), _sub(K, va, tr)
        free = None                                     # (C, accuracy) of a converged fit with the box inactive
        for C in C_grid:
            key = f"{hp}|{C:g}"
            if free is not None and C > free[0]:
                a, converged = free[1], True
                reused.append(key)
            else:
                a, converged, at_bound = _fit(Ktr, Kva, y[tr], y[va], C, max_iter)
                free = (C, a) if converged and not at_bound else None
            val[key] = a
            if not converged:
                capped.append(key)
            if a > best[converged][0]:
                best[converged] = (a, (hp, C), K)
    _, chosen, best_K = best[True] if best[True][1] is not None else best[False]
    fold_acc = []
    for k, (a, b) in enumerate(folds):
        acc, converged, _ = _fit(_sub(best_K, a, a), _sub(best_K, b, a), y[a], y[b], chosen[1], max_iter)
        fold_acc.append(acc)
        if not converged:
            capped.append(f"fold {k}")
    return Selection(val, chosen, fold_acc, capped, reused)


def _C_grid(C_grid) -> list:
    if isinstance(C_grid, (str, bytes)) or not hasattr(C_grid, "__iter__"):
        raise _validate.ArgumentTypeError(f"C_grid must be a list of positive numbers, got {_validate._show(C_grid)}")
    C_grid = list(C_grid)
    if not C_grid:
        raise ValueError("C_grid is empty")
    for k, C in enumerate(C_grid):
        _validate.positive(C, f"C_grid[{k}]")
    return C_grid


def _index_pair(pair, name: str, n: int):
    """(train, test) index arrays into n points."""
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (train, test) pair of index arrays, got {_validate._show(pair)}") from None
    out = []
    for part, idx in (("train", a), ("test", b)):
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"{name}: the {part} indices must be a non-empty 1-D integer array, got "
                             f"{_validate._show(idx)}")
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"{name}: {part} index out of range 0..{n - 1}")
        out.append(idx)
    return tuple(out)


def _rf_accuracy(X, y, train, test, max_features, trees, seed):
    from sklearn.ensemble import RandomForestClassifier
    clf = RandomForestClassifier(n_estimators=trees, max_features=max_features, random_state=seed, n_jobs=1)
    clf.fit(X[train], y[train])
    return float(np.mean(clf.predict(X[test]) == y[test]))


def _nn_accuracy(X, y, C, train, test, depth, param, lr, proto) -> float:
    """Test accuracy of one finite net trained on ``train``; a diverging learning rate scores 0."""
    from ..models import trained_nets
    n = len(train)
    batch = min(proto.nn_batch, n)
    epochs = max(1, round(proto.nn_steps * batch / n))
    try:
        run = trained_nets.train(X[train], y[train], C, depth=depth, width=proto.nn_width, parameterization=param,
                                 loss="cce", lr=lr, seed=proto.seed, epochs=epochs, batch_size=batch,
                                 eval_sets={"test": (X[test], y[test])}, eval_every=epochs, on_divergence="return")[0]
    except FloatingPointError:
        return 0.0
    if not np.all(np.isfinite(run.params[-1][0])):   # weights blew up: scores 0 (a merely large loss is kept as it is)
        return 0.0
    return float(run.history["test"][-1])


def evaluate(ds, classifier: str, proto: Protocol, kernel_cache: Path | None = None) -> dict:
    """Run the protocol for one classifier on one UCI data set (an ntklib.datasets.UCIDataset)."""
    if not isinstance(classifier, str) or classifier not in CLASSIFIERS:
        raise ValueError(f"unknown classifier {classifier!r}; choose from {CLASSIFIERS}")
    _check_protocol(proto)
    _check_dataset(ds)
    X, y = ds.X, ds.y
    capped, reused = [], []                              # SVM fits stopped by proto.svm_max_iter; fits shared across C
    t0, c0 = time.perf_counter(), time.process_time()
    if classifier in ("NTK", "Gaussian kernel", "Polynomial kernel"):
        if classifier == "NTK":
            fam = _cached_ntk_family(X, proto, kernel_cache)
        elif classifier == "Gaussian kernel":
            fam = ((("g", g), gaussian_kernel(X, g)) for g in proto.gauss_g)
        else:
            fam = ((("degree", dg), polynomial_kernel(X, dg)) for dg in proto.poly_degrees)
        sel = select_kernel_svm(fam, y, ds.train_val_split, ds.folds, proto.C_grid, proto.svm_max_iter)
        val, folds, capped, reused = sel.val, sel.folds, sel.capped, sel.reused
        chosen = {"hp": list(sel.chosen[0]), "C": sel.chosen[1]}
    elif classifier == "RF":
        tr, va = ds.train_val_split
        val = {str(mf): _rf_accuracy(X, y, tr, va, mf, proto.rf_trees, proto.seed) for mf in proto.rf_max_features}
        mf = proto.rf_max_features[int(np.argmax([val[str(m)] for m in proto.rf_max_features]))]
        folds = [_rf_accuracy(X, y, a, b, mf, proto.rf_trees, proto.seed) for a, b in ds.folds]
        chosen = {"max_features": mf}
    else:
        param = "standard" if classifier == "NN (He init)" else "ntk"
        lrs = proto.nn_lrs[param]
        tr, va = ds.train_val_split
        val, grid = {}, []
        for depth in proto.nn_depths:
            for lr in lrs:
                a = _nn_accuracy(X, y, ds.n_classes, tr, va, depth, param, lr, proto)
                val[f"{depth}|{lr:g}"] = a
                grid.append((a, depth, lr))
        best = max(grid, key=lambda g: g[0])             # first maximum in grid order
        folds = [_nn_accuracy(X, y, ds.n_classes, a, b, best[1], param, best[2], proto) for a, b in ds.folds]
        chosen = {"depth": best[1], "lr": best[2]}
    return {"dataset": ds.name, "classifier": classifier, "n": len(y), "d": X.shape[1], "classes": ds.n_classes,
            "val": val, "capped": capped, "reused": reused, "chosen": chosen, "folds": folds, "accuracy": float(np.mean(folds)),
            "seconds": round(time.perf_counter() - t0, 3), "cpu_seconds": round(time.process_time() - c0, 3)}


def _check_protocol(proto):
    if not isinstance(proto, Protocol):
        raise _validate.ArgumentTypeError(f"proto must be a uci_benchmark.Protocol, got {type(proto).__name__}")


def _check_dataset(ds, name: str = "ds"):
    missing = [a for a in ("X", "y", "train_val_split", "folds") if not hasattr(ds, a)]
    if missing:
        raise _validate.ArgumentTypeError(f"{name} must be a UCI data set (ntklib.datasets.load_uci), got "
                                          f"{type(ds).__name__} without {missing}")


def _cached_ntk_family(X, proto, kernel_cache):
    if kernel_cache is None or len(X) > proto.kernel_cache_max_n:
        return ntk_kernel_family(X, proto.max_layers)
    path = Path(kernel_cache) / f"ntk-{ntk_kernel_key(X, proto.max_layers)}.npz"
    if path.exists():
        with np.load(path) as z:
            return [(tuple(int(v) for v in k.split("_")), z[k]) for k in z.files]
    fam = list(ntk_kernel_family(X, proto.max_layers))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz", delete=False) as f:
        np.savez(f, **{f"{L}_{fx}": K for (L, fx), K in fam})
    Path(f.name).replace(path)                  # atomic, and no clash between concurrent workers
    return fam


def ntk_kernel_key(X, max_layers: int, W_std: float = math.sqrt(2.0), b_std: float = 0.0) -> str:
    """The NTK kernel cache key: a hash of the data's bytes (with shape and dtype), the kernel parameters and
    NTK_KERNEL_VERSION, so that an entry computed from other data, parameters or code is never served."""
    _validate.matrix(X, "X")
    max_layers = _validate.positive_int(max_layers, "max_layers")
    W_std, b_std = _validate.positive(W_std, "W_std"), _validate.nonnegative(b_std, "b_std")
    X = np.ascontiguousarray(X)
    params = json.dumps({"max_layers": int(max_layers), "W_std": float(W_std), "b_std": float(b_std),
                         "dtype": str(X.dtype), "version": NTK_KERNEL_VERSION}, sort_keys=True)
    return _fingerprint(X) + "-" + hashlib.sha1(params.encode()).hexdigest()[:8]


def _fingerprint(*arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def data_key(ds) -> str:
    """A hash of a data set's content and splits (part of the cache key)."""
    _check_dataset(ds)
    return _fingerprint(ds.X, ds.y, *ds.train_val_split, *(i for f in ds.folds for i in f))


def _result_path(cache: Path, name: str, clf: str, proto: Protocol, dk: str) -> Path:
    return cache / name / f"{clf.replace(' ', '_').replace('(', '').replace(')', '')}-{proto.key(clf)}-{dk}.json"


def _evaluate_and_store(ds, clf, proto, kernel_cache, path):
    res = evaluate(ds, clf, proto, kernel_cache=kernel_cache)
    atomic_write_text(path, json.dumps(res, indent=1, default=str))
    return res


def run(names, classifiers=CLASSIFIERS, proto: Protocol = Protocol(), *, cache_dir, progress=None,
        data_dir=None, compute: bool = True, n_jobs: int | None = None) -> dict:
    """Evaluate every classifier on every named data set, reusing cached results. Returns
    {(dataset, classifier): result dict}, cached under ``cache_dir`` (results by data set, classifier and protocol;
    kernels by content). ``progress`` optionally wraps the iterable of finished results (e.g. tqdm), called as
    progress(iterable, total=..., desc=...).
    With ``compute=False`` only cached results are returned (nothing is computed).

    The missing (data set, classifier) results are independent: they run in ``n_jobs`` joblib processes
    (default: the CPUs available, ntklib.theory._fast.workers()), largest data sets first so that the slowest ones do
    not come last; each worker writes its result to the cache as soon as it is done. The results do not depend
    on n_jobs (every evaluation is deterministic and seeded)."""
    names = _names(names, "names")
    classifiers = _names(classifiers, "classifiers")
    _check_protocol(proto)
    if progress is not None and not callable(progress):
        raise _validate.ArgumentTypeError(f"progress must be None or a function wrapping an iterable (e.g. tqdm), "
                                          f"got {_validate._show(progress)}")
    _validate.flag(compute, "compute")
    cache = _validate.directory_arg(cache_dir, "cache_dir")
    unknown = [c for c in classifiers if not isinstance(c, str) or c not in CLASSIFIERS]
    if unknown:
        raise ValueError(f"unknown classifiers {unknown}; choose from {CLASSIFIERS}")
    if n_jobs is None:
        from ..theory._fast import workers
        n_jobs = workers()
    n_jobs = _validate.positive_int(n_jobs, "n_jobs")
    names = list(names)
    out, todo = {}, []
    for name in names:
        ds = _datasets.load_uci(name, data_dir=data_dir)
        dk = data_key(ds)
        for clf in classifiers:
            path = _result_path(cache, name, clf, proto, dk)
            if path.exists():
                out[name, clf] = json.loads(path.read_text())
            elif compute:
                todo.append((ds, clf, path))
    todo.sort(key=lambda t: -len(t[0].y))                   # stable: grid order among equal sizes
    calls = [(ds, clf, proto, cache / "kernels", path) for ds, clf, path in todo]
    if n_jobs > 1 and len(calls) > 1:
        from joblib import Parallel, delayed
        done = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(_evaluate_and_store)(*c) for c in calls)
    else:
        done = (_evaluate_and_store(*c) for c in calls)
    for res in (progress(done, total=len(calls), desc="UCI results") if progress is not None else done):
        out[res["dataset"], res["classifier"]] = res
    return {(n, c): out[n, c] for n in names for c in classifiers if (n, c) in out}


def accuracy_table(results, names, classifiers=CLASSIFIERS) -> np.ndarray:
    """(data sets, classifiers) accuracy fractions from :func:`run`'s results."""
    names, classifiers = _names(names, "names"), _names(classifiers, "classifiers")
    if not isinstance(results, dict):
        raise _validate.ArgumentTypeError(f"results must be the dict of uci_benchmark.run, got {type(results).__name__}")
    missing = [(n, c) for n in names for c in classifiers if (n, c) not in results]
    if missing:
        raise KeyError(f"no result for {missing[:3]}{' ...' if len(missing) > 3 else ''}")
    return np.array([[results[n, c]["accuracy"] for c in classifiers] for n in names])
