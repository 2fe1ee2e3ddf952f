"""ntk-book benchmark: ntklib's kernels against neural-tangents and against the GEMM floor.

    .venv/bin/python benchmarks/bench_kernels.py            # everything (about an hour on 2 quiet cores)
    .venv/bin/python benchmarks/bench_kernels.py --quick    # small sizes, a few minutes
    make bench                                              # the same as the first line

Prints five markdown tables, each case measured on the same inputs in one run:
1. infinite-width NTK, n x n (two-layer slide model, fully connected ReLU depth 3 and 5): ntklib vs
   neural-tangents ``kernel_fn`` (jitted, same dtype) vs the Gram matrix X X^T alone (the floor);
2. empirical NTK of the finite two-layer net: ntklib vs ``empirical_ntk_fn`` vs a plain JAX Jacobian
   contraction;
3. kernel regression (Cholesky) and the Theorem 4 loss curve, against LAPACK alone;
4. the UCI protocol's NTK column (Arora et al. 2020) on synthetic data sets: ntklib.experiments.uci_benchmark against a
   plain numpy + scikit-learn implementation of the same protocol, as a ratio measured in one run;
5. the book's recorded wall time per notebook (read from book/generated/site/results/*.json).

Every case runs in a fresh subprocess (one per size, dtype and library), so imports, JIT caches and memory
of one case do not leak into another; peak RSS is the process's high-water mark over that case alone (Linux
resets it through /proc/self/clear_refs). Compilation is excluded from the times (warm-up on the same tile
shapes, ahead-of-time ``lower().compile()`` for neural-tangents). Times are the minimum of ``--repeat`` runs.

Every ntklib result is also checked against the plain float64 closed form (ntklib.theory.kernels._*_reference, on a
random subset of rows) to a stated tolerance; a failed check makes the exit status non-zero, so a fast but
wrong kernel fails the benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = 0
CHECK_ROWS = 200          # rows of an n x n kernel compared with the float64 reference
NT_EMPIRICAL_IMPLS = (1, 2)  # JACOBIAN_CONTRACTION, NTK_VECTOR_PRODUCTS (3, STRUCTURED_DERIVATIVES, fails on jax 0.5.3)


# --- measurement helpers (used inside the worker processes) ------------------------------------------------

def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                      # resets VmHWM, the peak resident set size (Linux >= 4.0)
    except OSError:
        pass


def peak_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):  # not Linux: the process's lifetime peak
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat: int):
    """(min wall time over `repeat` runs, peak RSS in MB during them, last result). Drop the result before
    timing the next case (``t, rss = timed(...)[:2]``), or it counts towards that case's peak RSS."""
    best, out = float("inf"), None
    reset_peak()
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn()
        if hasattr(out, "block_until_ready"):
            out.block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return best, peak_mb(), out


def sphere(n, d, dtype="float64", seed=SEED):
    import numpy as np
    X = np.random.default_rng(seed).standard_normal((n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(dtype)


MODELS = ("two-layer", "fc3", "fc5")


def ntklib_kernel(model, X, dtype):
    from ntklib.theory import kernels
    if model == "two-layer":
        return kernels.ntk_two_layer(X, dtype=dtype)
    return kernels.fc_relu_ntk(X, depth=int(model[2:]), dtype=dtype)


def reference_kernel(model, Xs, X):
    from ntklib.theory import kernels
    if model == "two-layer":
        return kernels._ntk_two_layer_reference(Xs, X)
    return kernels._fc_relu_ntk_reference(Xs, X, depth=int(model[2:]))


# --- workers ------------------------------------------------------------------------------------------------

def worker_analytic(n, d, dtype, repeat):
    """The Gram floor and ntklib's three kernels, each timed and checked against the float64 reference."""
    import numpy as np
    from ntklib import tolerances as tol
    from ntklib.theory import _fast
    X64 = sphere(n, d)
    X = X64.astype(dtype)
    rows = []
    t, rss = timed(lambda: X @ X.T, repeat)[:2]
    rows.append(dict(case="gram", seconds=t, peak_mb=rss))
    t, rss = timed(lambda: _fast.gram(X, None, dtype), repeat)[:2]
    rows.append(dict(case="syrk", seconds=t, peak_mb=rss))
    idx = np.sort(np.random.default_rng(1).choice(n, min(n, CHECK_ROWS), replace=False))
    for model in MODELS:
        ntklib_kernel(model, sphere(2 * _fast.TILE + 3, d, dtype), dtype)   # compile the tile shapes
        t, rss, K = timed(lambda: ntklib_kernel(model, X, dtype), repeat)
        ref = reference_kernel(model, X64[idx], X64)
        scale = float(np.abs(ref).max())
        err = float(np.abs(K[idx].astype(np.float64) - ref).max())
        # float64: off-diagonal agreement is ~1e-15; 1e-7 relative covers the reference's own round-off on
        # the diagonal (arccos of a cosine 1 - 1e-16). float32: tolerances.KERNEL_FLOAT32_RTOL.
        rtol = 1e-7 if dtype == "float64" else tol.KERNEL_FLOAT32_RTOL
        rows.append(dict(case=model, seconds=t, peak_mb=rss, err_vs_ref=err, tol=rtol * scale,
                         ok=bool(err <= rtol * scale), symmetric=bool(np.array_equal(K, K.T))))
        del K
    return rows


def _nt_kernel_fn(model, d):
    import numpy as np
    from neural_tangents import stax
    if model == "two-layer":  # the slide model: H* = ntk - nngp (tests/test_kernels.py)
        _, _, kf = stax.serial(stax.Dense(1, W_std=np.sqrt(d), b_std=None), stax.Relu(), stax.Dense(1, W_std=1.0, b_std=None))
        return lambda x: (lambda k: k.ntk - k.nngp)(kf(x, None, ("ntk", "nngp")))
    depth = int(model[2:])
    _, _, kf = stax.serial(*[l for _ in range(depth) for l in (stax.Dense(1, np.sqrt(2), None), stax.Relu())],
                           stax.Dense(1, np.sqrt(2), None))
    return lambda x: kf(x, None, "ntk")


def worker_nt(n, d, dtype, repeat):
    """neural-tangents kernel_fn (jitted, compiled ahead of time) on the same inputs, and its difference
    from ntklib's kernel and from the float64 reference."""
    import jax
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)   # without x64 JAX would compute in float32
    import numpy as np
    X64 = sphere(n, d)
    X = X64.astype(dtype)
    idx = np.sort(np.random.default_rng(1).choice(n, min(n, CHECK_ROWS), replace=False))
    rows = []
    for model in MODELS:
        try:
            compiled = jax.jit(_nt_kernel_fn(model, d)).lower(X).compile()
            t, rss, K = timed(lambda: compiled(X), max(1, repeat - 1) if n >= 4000 else repeat)
        except Exception as e:  # e.g. out of memory at n = 8000
            rows.append(dict(case=model, error=f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"))
            continue
        K = np.asarray(K)
        assert K.dtype == np.dtype(dtype), (K.dtype, dtype)
        ours = ntklib_kernel(model, X, dtype)
        ref = reference_kernel(model, X64[idx], X64)
        rows.append(dict(case=model, seconds=t, peak_mb=rss, diff_vs_ntklib=float(np.abs(K - ours).max()),
                         err_vs_ref=float(np.abs(K[idx].astype(np.float64) - ref).max())))
        del K, ours
    return rows


def _slide_net(m, d, dtype):
    from ntklib.models import networks
    return networks.init_two_layer(SEED, m, d, dtype=dtype)


def worker_empirical(n, m, d, dtype, which, repeat):
    """One empirical-NTK implementation at (n, m): ntklib, nt's empirical_ntk_fn (implementation 1 or 2) or
    a plain JAX Jacobian contraction; checked against the reference formula."""
    import jax
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from ntklib import tolerances as tol
    from ntklib.theory import kernels
    X = sphere(n, d, dtype)
    net = _slide_net(m, d, dtype)
    a = jnp.asarray(net.a)

    def f(W, x):  # the slide model, only W trained
        return jax.nn.relu(x @ W.T) @ a / np.sqrt(m).astype(dtype)

    if which == "ntklib":
        kernels.empirical_ntk_two_layer(net.W[:8], net.a[:8], X[:8])       # nothing to compile but warm BLAS
        run = lambda: kernels.empirical_ntk_two_layer(net.W, net.a, X)
    elif which == "jacobian":
        def contract(W, x):
            J = jax.jacrev(f)(W, x).reshape(x.shape[0], -1)                 # (n, m d)
            return J @ J.T
        compiled = jax.jit(contract).lower(jnp.asarray(net.W), X).compile()
        run = lambda: compiled(jnp.asarray(net.W), X)
    else:
        import neural_tangents as nt
        impl = int(which[-1])
        fn = nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=impl)
        compiled = jax.jit(lambda x, W: fn(x, None, W)).lower(X, jnp.asarray(net.W)).compile()
        run = lambda: compiled(X, jnp.asarray(net.W))
    t, rss, K = timed(run, repeat)
    K = np.asarray(K)
    # The reference: the previous single-expression JAX implementation, in float64.
    from ntklib._jaxcompat import enable_x64
    with enable_x64():
        ref = kernels._empirical_reference(net.W.astype(np.float64), net.a, X.astype(np.float64))
    scale = float(np.abs(ref).max())
    err = float(np.abs(K.astype(np.float64) - ref).max())
    allowed = (1e-12 if dtype == "float64" else tol.KERNEL_FLOAT32_RTOL + tol.EMPIRICAL_FLOAT32_FLIPS / m) * scale
    return [dict(case=which, seconds=t, peak_mb=rss, err_vs_ref=err, tol=allowed, ok=bool(err <= allowed))]


def worker_solve(n, repeat):
    """Kernel regression (Cholesky) and Theorem 4's loss curve with H* (n x n, float64), against LAPACK alone."""
    import numpy as np
    from scipy.linalg import cho_factor, cho_solve
    from ntklib.theory import kernels, regression, spectrum
    X = sphere(n, 784)
    H = kernels.ntk_two_layer(X)
    y = np.sign(np.random.default_rng(2).standard_normal(n))
    K_test = H[: min(n, 1000)]                     # "test" rows = training rows: the prediction must be y there
    rows = []
    t, rss = timed(lambda: cho_solve(cho_factor(H, lower=True), y), repeat)[:2]
    rows.append(dict(case="cholesky (LAPACK)", seconds=t, peak_mb=rss))
    t, rss, pred = timed(lambda: regression.kernel_regression(K_test, H, y), repeat)
    err = float(np.abs(pred - y[: len(pred)]).max())
    rows.append(dict(case="kernel_regression", seconds=t, peak_mb=rss, err=err, tol=1e-8, ok=bool(err <= 1e-8)))
    t, rss = timed(lambda: np.linalg.eigh(H), 1)[:2]
    rows.append(dict(case="eigh (LAPACK)", seconds=t, peak_mb=rss))
    # Section 3's spectrum at n = 10,000: float32 through spectrum.eigendecomposition against the LAPACK call it
    # makes (scipy's ssyevd; numpy's eigh links another LAPACK build: 91 s against scipy's 61 s at n = 10,000)
    from scipy.linalg import eigh as scipy_eigh
    H32 = H.astype(np.float32)
    t, rss = timed(lambda: scipy_eigh(H32, driver="evd", check_finite=False), 1)[:2]
    rows.append(dict(case="eigh float32 (LAPACK)", seconds=t, peak_mb=rss))
    H32 = None                                     # free it before the next decomposition
    t, rss = timed(lambda: spectrum.eigendecomposition(H, dtype=np.float32), 1)[:2]
    rows.append(dict(case="eigendecomposition float32", seconds=t, peak_mb=rss))
    eta = 1.0 / np.abs(H).sum(axis=1).max()       # <= 1 / lambda_max (Gershgorin): GD is stable
    steps = np.arange(0, 41, 10)
    t, rss, loss = timed(lambda: spectrum.predicted_loss_gd(H, y, eta, steps), 1)
    u, literal = np.zeros(n), []                  # the literal GD on the outputs, u <- u - eta H (u - y)
    for k in range(steps[-1] + 1):
        if k in steps:
            literal.append(float(((u - y) ** 2).sum()))
        u = u - eta * (H @ (u - y))
    err = float(np.abs(loss - literal).max() / literal[0])
    rows.append(dict(case="predicted_loss_gd", seconds=t, peak_mb=rss, err=err, tol=1e-10, ok=bool(err <= 1e-10)))
    return rows


def _uci_like(n, d, classes, seed):
    """A synthetic data set shaped like one of the UCI benchmark's (ntklib.datasets.UCIDataset's fields):
    standardised features, labels from a noisy random linear map, a train/validation split in halves and four
    (train, test) pairs (3/4, 1/4 of a permutation each), as in conxuntos.dat / conxuntos_kfold.dat."""
    from types import SimpleNamespace

    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, classes)) + 0.7 * rng.standard_normal((n, classes)), axis=1)
    p = rng.permutation(n)
    folds = []
    for _ in range(4):
        q = rng.permutation(n)
        folds.append((np.sort(q[: 3 * n // 4]), np.sort(q[3 * n // 4:])))
    return SimpleNamespace(name=f"synthetic-{n}x{d}", X=X, y=y, n_classes=classes,
                           train_val_split=(np.sort(p[: n // 2]), np.sort(p[n // 2:])), folds=tuple(folds))


def plain_uci_protocol(ds, max_layers=5, C_grid=tuple(10.0 ** k for k in range(-2, 5)), max_iter=100_000):
    """Arora et al. (2020)'s UCI protocol in plain numpy + scikit-learn, independent of ntklib: the 15 NTKs
    (L = 1..max_layers layers, L' = 0..L-1 fixed) by the literal arc-cosine recursion (Arora et al. 2019,
    Eq. 4-6; W_std^2 = 2, no bias, fan-in normalised), an SVC(kernel="precomputed") per kernel and C trained on
    the first split and scored on the second, the first maximum in grid order among the fits that did not stop
    at max_iter (scikit-learn's ConvergenceWarning; among all if none converged), then the mean accuracy over
    the four (train, test) pairs. Returns (accuracy, (L, L'), C)."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC

    def acc(K, tr, te, C):
        if len(np.unique(ds.y[tr])) == 1:
            return float(np.mean(ds.y[te] == ds.y[tr][0])), True
        clf = SVC(kernel="precomputed", C=C, cache_size=500, max_iter=max_iter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(K[np.ix_(tr, tr)], ds.y[tr])
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return float(np.mean(clf.predict(K[np.ix_(te, tr)]) == ds.y[te])), converged

    X = ds.X
    nngp = 2.0 * X @ X.T / X.shape[1]
    q = np.diag(nngp).copy()
    kernels, ntk = {(1, 0): nngp}, {0: nngp}
    for layer in range(1, max_layers):
        norm = np.sqrt(np.outer(q, q))
        cos = np.clip(nngp / norm, -1.0, 1.0)
        theta = np.arccos(cos)
        dot = (np.pi - theta) / np.pi
        nngp = norm * (np.sin(theta) + (np.pi - theta) * cos) / np.pi
        ntk = {f: ntk[f] * dot + nngp for f in ntk}
        ntk[layer] = nngp
        kernels.update({(layer + 1, f): ntk[f] for f in range(layer + 1)})
    tr, va = ds.train_val_split
    scores = [(acc(kernels[hp], tr, va, C), hp, C) for hp in sorted(kernels) for C in C_grid]
    candidates = [s for s in scores if s[0][1]] or scores
    (_, _), hp, C = max(candidates, key=lambda s: s[0][0])          # max returns the first maximum
    return float(np.mean([acc(kernels[hp], a, b, C)[0] for a, b in ds.folds])), hp, C


def worker_uci(sizes, d, classes, repeat):
    """The UCI protocol's NTK column on synthetic data sets of the given sizes, one process and one data set at a
    time (serial, so both sides run under the same conditions): ntklib.experiments.uci_benchmark.evaluate against
    plain_uci_protocol. Wall and CPU seconds summed over the sets; the accuracies must agree."""
    from ntklib.experiments import uci_benchmark
    sets = [_uci_like(n, d, classes, SEED + k) for k, n in enumerate(sizes)]
    proto = uci_benchmark.Protocol()
    uci_benchmark.evaluate(_uci_like(16, d, classes, 99), "NTK", proto)      # warm-up: imports, sklearn, ...
    for ds in sets:                                  # ... and the JIT compilation of every tile shape used below
        list(uci_benchmark.ntk_kernel_family(ds.X, proto.max_layers))
    rows = []
    for which in ("ntklib", "plain"):
        wall, cpu, accs = float("inf"), float("inf"), []
        reset_peak()
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            if which == "ntklib":
                accs = [uci_benchmark.evaluate(ds, "NTK", proto)["accuracy"] for ds in sets]
            else:
                accs = [plain_uci_protocol(ds)[0] for ds in sets]
            wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        rows.append(dict(case=which, seconds=wall, cpu_seconds=cpu, peak_mb=peak_mb(), accuracies=accs))
    diff = max(abs(a - b) for a, b in zip(rows[0]["accuracies"], rows[1]["accuracies"]))
    rows[0].update(err=diff, tol=UCI_ACC_TOL, ok=bool(diff <= UCI_ACC_TOL))
    return rows


def worker_trainers(sizes, d, classes, repeat):
    """Section 4's minibatch trainer (ntklib.models.trained_nets: NumPy, explicit backpropagation) against the JAX +
    optax trainer of Section 1 (ntklib.models.mlp.train_sgd) on the same training: one hidden layer of 128, He
    initialisation, cross-entropy, heavy-ball momentum 0.9, batch 64, 500 steps (the UCI protocol's nets). Every
    UCI data set and fold has its own shapes, so JAX compiles for each: "first call" is a new shape (compilation
    included), "cached" a repeated call. Wall seconds summed over the sets."""
    from ntklib.models import mlp, trained_nets
    import numpy as np
    mlp.train_sgd(mlp.init_classifier(0, 3, [4], 2), np.eye(3, dtype=np.float32)[:2], np.arange(2), lr=0.1,
                  epochs=1, seed=0, batch=2)                                   # warm-up: imports, JAX's backend
    total = {"numpy (trained_nets)": 0.0, "jax+optax, first call": 0.0, "jax+optax, cached": 0.0}
    for k, n in enumerate(sizes):
        ds = _uci_like(n, d, classes, SEED + k)
        X, batch = ds.X.astype(np.float32), min(64, n)
        epochs = max(1, round(500 * batch / n))
        jax_fn = lambda: mlp.train_sgd(mlp.init_classifier(0, d, [128], classes), X, ds.y, lr=0.03, epochs=epochs,
                                       seed=0, batch=batch)
        total["numpy (trained_nets)"] += timed(lambda: trained_nets.train(X, ds.y, classes, depth=1, width=128,
                                                                           lr=0.03, epochs=epochs, batch_size=batch),
                                               repeat)[0]
        total["jax+optax, first call"] += timed(jax_fn, 1)[0]
        total["jax+optax, cached"] += timed(jax_fn, repeat)[0]
    return [dict(case=k, seconds=v) for k, v in total.items()]


# The two implementations differ only in round-off (ntklib's exact diagonal vs the literal arccos, ~1e-8), which
# may move a libsvm solution within its stopping tolerance; a moved prediction would show as >= 1 / n_test.
UCI_ACC_TOL = 1e-9


WORKERS = {"analytic": worker_analytic, "nt": worker_nt, "empirical": worker_empirical, "solve": worker_solve,
           "uci": worker_uci, "trainers": worker_trainers}


# --- the parent: run workers, print tables -----------------------------------------------------------------

def run_worker(kind, timeout, **kw):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(dict(kind=kind, **kw))]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    except subprocess.TimeoutExpired:
        return [dict(case=kw.get("which", kind), error=f"timed out after {timeout} s")]
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if p.returncode or not lines:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1][:160]
        why = "killed (out of memory?)" if p.returncode in (-9, 137) else f"exit {p.returncode}: {tail}"
        return [dict(case=kw.get("which", kind), error=why)]
    rows = json.loads(lines[-1][len("RESULT "):])
    print(f"    [{kind} {kw} done in {time.perf_counter() - t0:.0f} s]", file=sys.stderr, flush=True)
    return rows


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def section_analytic(args, report, failures):
    report.append("### 1. Infinite-width NTK, n x n: ntklib vs neural-tangents `kernel_fn` vs the Gram GEMM\n")
    report.append("Times in seconds. GEMM = numpy `X @ X.T` (BLAS syrk, then numpy mirrors the triangle), the floor; "
                  "syrk = the triangle alone (what ntklib starts from). err = max |K - float64 reference| over "
                  f"{CHECK_ROWS} random rows, [tolerance]; Δnt = max |ntklib - nt| (same dtype). "
                  "RSS = peak resident memory of the process during the case, MB.\n")
    report.append("| d | dtype | n | model | GEMM | syrk | ntklib | nt | nt / ntklib | ntklib / GEMM "
                  "| err ntklib [tol] | err nt | Δnt | RSS ntklib | RSS nt | RSS GEMM |")
    report.append("|" + "---|" * 16)
    for d in args.dims:
        for dtype in ("float32", "float64"):
            for n in args.sizes:
                ours = run_worker("analytic", args.timeout, n=n, d=d, dtype=dtype, repeat=args.repeat)
                theirs = [] if args.no_nt else run_worker("nt", args.timeout, n=n, d=d, dtype=dtype,
                                                          repeat=args.repeat)
                by, nt_by = {r["case"]: r for r in ours}, {r["case"]: r for r in theirs}
                gram, syrk = by.get("gram", {}), by.get("syrk", {})
                if "seconds" not in gram:
                    failures.append(f"analytic d={d} {dtype} n={n}: {gram.get('error', 'no result')}")
                    report.append(f"| {d} | {dtype} | {n} | all | {gram.get('error', '?')} |" + " |" * 11)
                    continue
                for model in MODELS:
                    r, q = by.get(model, {}), nt_by.get(model, {})
                    t, t_nt = r.get("seconds"), q.get("seconds")
                    if not r.get("ok", False):
                        failures.append(f"analytic {model} d={d} {dtype} n={n}: err {r.get('err_vs_ref')} "
                                        f"> tol {r.get('tol')} {r.get('error', '')}")
                    if r and not r.get("symmetric", True):
                        failures.append(f"analytic {model} d={d} {dtype} n={n}: not exactly symmetric")
                    report.append(
                        f"| {d} | {dtype} | {n} | {model} | {fmt(gram['seconds'])} | {fmt(syrk.get('seconds'))} "
                        f"| {fmt(t) if t else r.get('error', '-')} | {fmt(t_nt) if t_nt else q.get('error', '-')} "
                        f"| {fmt(t_nt / t) if t and t_nt else '-'} | {fmt(t / gram['seconds']) if t else '-'} "
                        f"| {fmt(r.get('err_vs_ref'), 2)} [{fmt(r.get('tol'), 1)}] | {fmt(q.get('err_vs_ref'), 2)} "
                        f"| {fmt(q.get('diff_vs_ntklib'), 2)} | {fmt(r.get('peak_mb'), 4)} | {fmt(q.get('peak_mb'), 4)} "
                        f"| {fmt(gram['peak_mb'], 4)} |")
                    print(report[-1], flush=True)
    report.append("")


def section_empirical(args, report, failures):
    report.append(f"### 2. Empirical NTK of the two-layer net (n = {' and '.join(map(str, args.emp_n))}, d = 784, ReLU, a_r = ±1)\n")
    report.append("ntklib: (X X^T) ∘ (S S^T) / m in width chunks; nt: `empirical_ntk_fn` (jitted, compiled ahead of time), "
                  "implementations 1 (Jacobian contraction) and 2 (NTK-vector products) — 3 (structured derivatives) "
                  "raises AttributeError with jax 0.5.3; jacobian: `jax.jacrev` then J J^T. err = max |K - float64 "
                  "reference|. Cases estimated to take longer than --budget or more memory than --mem-gb are skipped.\n")
    report.append("| n | dtype | m | implementation | seconds | / ntklib | peak RSS MB | err [tol] |")
    report.append("|---|---|---|---|---|---|---|---|")
    d = 784
    for n, dtype in [(n, dtype) for n in args.emp_n for dtype in ("float32", "float64")]:
        per_unit = {}   # implementation -> seconds per unit of width, from its smallest run, to estimate larger ones
        for m in args.widths:
            base = None
            for which in ("ntklib", *[f"nt-impl{i}" for i in NT_EMPIRICAL_IMPLS], "jacobian"):
                if which != "ntklib" and args.no_nt:
                    continue
                # nt's implementations 1 and 2 and the plain contraction all hold (n, m d)-sized arrays: measured
                # peak RSS ~ 1 GB + 2.5 n m d bytes (n = 300, m = 10^3 and 10^4); skip what would not fit.
                mem_gb = 1 + 2.5 * n * m * d * (4 if dtype == "float32" else 8) / 2**30
                est = per_unit.get(which, 0) * m
                if which != "ntklib" and mem_gb > args.mem_gb:
                    row = dict(case=which, error=f"skipped: needs ~{mem_gb:.0f} GB > --mem-gb {args.mem_gb:.0f}")
                elif which != "ntklib" and est > args.budget:
                    row = dict(case=which, error=f"skipped: estimated {est:.0f} s (linear in m) > --budget {args.budget:.0f} s")
                else:
                    row = run_worker("empirical", args.timeout, n=n, m=m, d=d, dtype=dtype, which=which, repeat=args.repeat)[0]
                if "seconds" in row and which not in per_unit:
                    per_unit[which] = row["seconds"] / m
                if "seconds" in row and not row.get("ok", False):
                    failures.append(f"empirical {which} m={m} {dtype}: err {row.get('err_vs_ref')} > tol {row.get('tol')}")
                if which == "ntklib":
                    base = row.get("seconds")
                    if "error" in row:
                        failures.append(f"empirical ntklib m={m} {dtype}: {row['error']}")
                s = row.get("seconds")
                report.append(f"| {n} | {dtype} | {m} | {which} | {fmt(s) if s else row.get('error', '-')} | "
                              f"{fmt(s / base) if s and base else '-'} | {fmt(row.get('peak_mb'), 4)} | "
                              f"{fmt(row.get('err_vs_ref'), 2)} [{fmt(row.get('tol'), 1)}] |")
                print(report[-1], flush=True)
    report.append("")


def section_solve(args, report, failures):
    report.append("### 3. Kernel regression (Cholesky) and Theorem 4's loss curve, float64, H* of n unit vectors in R^784\n")
    report.append("kernel_regression = ntklib.theory.regression.kernel_regression (validation, symmetry check, Cholesky with the "
                  "pivot check, solve); predicted_loss_gd = ntklib.theory.spectrum.predicted_loss_gd; their floors are LAPACK's "
                  "Cholesky solve and one `np.linalg.eigh`. err: max |prediction - y| at training points (interpolation), "
                  "and the loss curve's max gap to the literal GD iteration / initial loss. eigendecomposition float32 = "
                  "ntklib.theory.spectrum.eigendecomposition(H, dtype=np.float32) (Section 3's spectrum: the cast, "
                  "ssyevd, sorting, clipping), its floor LAPACK's ssyevd on the float32 matrix.\n")
    report.append("| n | case | seconds | / floor | peak RSS MB | err [tol] |")
    report.append("|---|---|---|---|---|---|")
    for n in args.solve_sizes:
        rows = run_worker("solve", args.timeout, n=n, repeat=args.repeat)
        by = {r["case"]: r for r in rows}
        for r in rows:
            floor = by.get({"kernel_regression": "cholesky (LAPACK)", "eigendecomposition float32": "eigh float32 (LAPACK)"}
                           .get(r["case"], "eigh (LAPACK)"), {}).get("seconds")
            if "error" in r or ("ok" in r and not r["ok"]):
                failures.append(f"solve n={n} {r['case']}: {r.get('error', r.get('err'))}")
            s = r.get("seconds")
            ratio = fmt(s / floor) if s and floor and "LAPACK" not in r["case"] else "-"
            report.append(f"| {n} | {r['case']} | {fmt(s) if s else r.get('error', '-')} | {ratio} | "
                          f"{fmt(r.get('peak_mb'), 4)} | {fmt(r.get('err'), 2)} [{fmt(r.get('tol'), 1)}] |")
            print(report[-1], flush=True)
    report.append("")


def section_uci(args, report, failures):
    sizes = args.uci_sizes
    report.append(f"### 4. The UCI protocol's NTK column (Arora et al. 2020), {len(sizes)} synthetic data sets "
                  f"(n = {', '.join(map(str, sizes))}, d = 16, 3 classes)\n")
    report.append("ntklib = `ntklib.experiments.uci_benchmark.evaluate(ds, \"NTK\", Protocol())`: 15 NTKs from one fused recursion, "
                  "the SVC grid (7 C values) on each (a converged fit with no alpha at its bound C serves the larger C), the first maximum, the 4-fold mean; plain = the same protocol in "
                  "plain numpy + scikit-learn (`plain_uci_protocol` in this file). Both serial, in one process, on the "
                  "same data; seconds summed over the sets (minimum of --repeat runs). `uci_benchmark.run` also runs "
                  "the data sets in parallel (one process per core), which this row does not use. err = max |accuracy "
                  "difference| over the sets.\n")
    report.append("| implementation | wall s | CPU s | / plain (wall) | peak RSS MB | err [tol] |")
    report.append("|---|---|---|---|---|---|")
    rows = run_worker("uci", args.timeout, sizes=sizes, d=16, classes=3, repeat=args.repeat)
    by = {r["case"]: r for r in rows}
    base = by.get("plain", {}).get("seconds")
    for r in rows:
        if "error" in r:
            failures.append(f"uci {r['case']}: {r['error']}")
        elif not r.get("ok", True):
            failures.append(f"uci {r['case']}: accuracies differ from plain by {r['err']} > {r['tol']}")
        s_ = r.get("seconds")
        report.append(f"| {r['case']} | {fmt(s_) if s_ else r.get('error', '-')} | {fmt(r.get('cpu_seconds'))} | "
                      f"{fmt(s_ / base) if s_ and base else '-'} | {fmt(r.get('peak_mb'), 4)} | "
                      f"{fmt(r.get('err'), 2)} [{fmt(r.get('tol'), 1)}] |")
        print(report[-1], flush=True)
    report.append("")


def section_trainers(args, report, failures):
    sizes = args.uci_sizes
    report.append(f"### 5. Minibatch training of small nets: NumPy against JAX + optax, {len(sizes)} synthetic data "
                  f"sets (n = {', '.join(map(str, sizes))}, d = 16, 3 classes)\n")
    report.append("Why Section 4's trained nets (`ntklib.models.trained_nets`, used 1,440 times by the UCI benchmark) "
                  "stay in NumPy: the same training (one hidden layer of 128, cross-entropy, momentum 0.9, batch 64, "
                  "500 steps) in `ntklib.models.mlp.train_sgd` (JAX + optax) is fast once compiled, but every data set "
                  "and fold brings new shapes, hence a new compilation. Seconds summed over the sets.\n")
    report.append("| trainer | wall s | / numpy |")
    report.append("|---|---|---|")
    rows = run_worker("trainers", args.timeout, sizes=sizes, d=16, classes=3, repeat=args.repeat)
    base = rows[0].get("seconds")
    for r in rows:
        if "error" in r:
            failures.append(f"trainers {r['case']}: {r['error']}")
        s_ = r.get("seconds")
        report.append(f"| {r['case']} | {fmt(s_) if s_ else r.get('error', '-')} | "
                      f"{fmt(s_ / base) if s_ and base else '-'} |")
        print(report[-1], flush=True)
    report.append("")


def section_book(args, report, failures):
    results = sorted((REPO / "book" / "generated" / "site" / "results").glob("*.json"))
    report.append("### 6. The book: wall time per notebook as recorded by the pipeline\n")
    if not results:
        report.append("No executed notebooks found (run `make book` first).\n")
        return
    report.append("Read from book/generated/site/results/*.json (`wall_seconds`, written by `python -m ntklib run`); "
                  "not re-run here. The HTML build (`python -m ntklib build`) is not recorded by the pipeline.\n")
    report.append("| notebook | scale | wall s | recorded (file time, UTC) |")
    report.append("|---|---|---|---|")
    total = {}
    for p in results:
        r = json.loads(p.read_text())
        when = datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M")
        report.append(f"| {r.get('notebook', p.stem)} | {r.get('scale', '?')} | {fmt(r.get('wall_seconds'), 4)} | {when} |")
        total[r.get("scale", "?")] = total.get(r.get("scale", "?"), 0.0) + float(r.get("wall_seconds") or 0)
    for scale, s in total.items():
        report.append(f"| **total** | {scale} | **{s:.0f}** ({s / 60:.1f} min) | |")
    report.append("")
    print("\n".join(report[-len(results) - 3:]), flush=True)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and rename it, so the report is never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def machine() -> str:
    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    import numpy
    versions = f"Python {platform.python_version()}, numpy {numpy.__version__}"
    try:
        from importlib.metadata import version
        versions += f", jax {version('jax')}, neural-tangents {version('neural-tangents')}"
    except Exception:
        pass
    return (f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs; {versions}; "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a few minutes): n <= 2000, m <= 10000")
    p.add_argument("--sections", default="analytic,empirical,solve,uci,trainers,book", help="comma-separated subset")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000], help="n for section 1")
    p.add_argument("--dims", type=int, nargs="+", default=[784, 3072], help="d for section 1")
    p.add_argument("--widths", type=int, nargs="+", default=[1000, 10000, 100000], help="m for section 2")
    p.add_argument("--emp-n", type=int, nargs="+", default=[1000, 300],
                   help="n for section 2 (at n = 1000 nt fits in memory only for m = 1000, float32)")
    p.add_argument("--solve-sizes", type=int, nargs="+", default=[1000, 2000, 4000, 10_000],
                   help="n for section 3 (10,000: Section 3's spectrum at the paper's n)")
    p.add_argument("--uci-sizes", type=int, nargs="+", default=[100, 300, 1000, 2000],
                   help="n of the synthetic data sets for sections 4 and 5 (the UCI protocol, the trainers)")
    p.add_argument("--repeat", type=int, default=3, help="runs per case; the minimum is reported")
    p.add_argument("--budget", type=float, default=900.0, help="skip a nt/jacobian case estimated to take longer (s)")
    p.add_argument("--mem-gb", type=float, default=10.0, help="skip a nt/jacobian case estimated to need more memory (GB)")
    p.add_argument("--timeout", type=float, default=3600.0, help="per worker process (s)")
    p.add_argument("--no-nt", action="store_true", help="ntklib only (no neural-tangents, no Jacobian baseline)")
    p.add_argument("--out", type=Path, help="also write the report (markdown) to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:  # inside a worker process
        spec = json.loads(args.worker)
        rows = WORKERS[spec.pop("kind")](**spec)
        print("RESULT " + json.dumps(rows), flush=True)
        return 0

    if args.quick:
        args.sizes, args.dims, args.widths = [1000, 2000], [784], [1000, 10000]
        args.emp_n, args.solve_sizes, args.uci_sizes = [300], [1000, 2000], [100, 300, 600]
    started = datetime.now(timezone.utc)
    report = [f"## The recorded run ({'quick' if args.quick else 'full'} benchmark)\n",
              f"Run {started:%Y-%m-%d %H:%M} UTC on {machine()} (at start).\n",
              f"Command: `{' '.join(['benchmarks/bench_kernels.py', *(argv if argv is not None else sys.argv[1:])])}`\n"]
    print("\n".join(report), flush=True)
    failures: list[str] = []
    sections = dict(analytic=section_analytic, empirical=section_empirical, solve=section_solve, uci=section_uci,
                    trainers=section_trainers, book=section_book)
    for name in args.sections.split(","):
        sections[name.strip()](args, report, failures)
        if args.out:  # after every section, so an interrupted run keeps what it measured
            write_atomic(args.out, "\n".join(report) + "\n")
    load = os.getloadavg()
    minutes = (datetime.now(timezone.utc) - started).total_seconds() / 60
    report.append(f"Finished after {minutes:.0f} min; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.\n")
    report.append("**Agreement checks: " + ("all passed.**" if not failures else
                                            f"{len(failures)} FAILED:**\n\n" + "\n".join(f"- {f}" for f in failures)))
    text = "\n".join(report)
    print("\n\n" + text)
    if args.out:
        write_atomic(args.out, text + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
