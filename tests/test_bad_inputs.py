"""Bad and edge-case input to ntklib's public functions (issue 19): each case must fail before any heavy work,
with the expected error type and a message naming the argument (and, where it helps, the value).

One table per module; property-based tests (hypothesis) for ranges of input that must all work; and a
check that float64 results do not depend on JAX's global x64 flag.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from ntklib import _validate, activations, checks, cntk, kernels, mlp, networks, noisy, tolerances as tol, unit_norm
from ntklib._validate import NotPositiveDefiniteError, TrainingDiverged

NAN, INF = float("nan"), float("inf")
X3 = unit_norm(np.random.default_rng(0).standard_normal((3, 2)))
Y3 = np.array([1.0, -1.0, 0.5])
NET = networks.init_two_layer(0, 4, 2)
NAN_NET = networks.TwoLayerNet(np.full((4, 2), np.nan), NET.a)
H3 = kernels.ntk_two_layer(X3)
K23 = kernels.ntk_two_layer(X3[:2], X3)
NOT_SYM = np.array([[1.0, 2.0], [0.0, 1.0]])
NOT_PSD = np.array([[1.0, 2.0], [2.0, 1.0]])
EIG3 = noisy.kernel_eig(H3)
IMGS = np.random.default_rng(1).integers(0, 256, (4, 4, 4, 1)).astype(np.uint8)
STACK = np.random.default_rng(2).standard_normal((4, 4, 4, 1))
PARAMS = mlp.init_mlp(0, 3, [4], 2)
XM, YM = np.ones((8, 3)), np.zeros(8, int)
BIG = 10**6     # 10^6 x 10^6 float64 = 8 TB: more than any machine this runs on


def case(call, exc, match, id):
    return pytest.param(call, exc, match, id=id)


def checks_obj():
    return checks.Checks("nb", "ci", 0)


def _dup():
    c = checks_obj()
    c.expect("A", "c", "s", 1.0, "<=", 2.0)
    c.expect("A", "c", "s", 1.0, "<=", 2.0)


VALIDATE = [
    case(lambda: _validate.positive_int(1.5, "width"),
         ValueError, r"width must be a positive integer, got 1\.5", "pint-frac"),
    case(lambda: _validate.positive_int(NAN, "width"), ValueError, "width must be a positive integer, got nan", "pint-nan"),
    case(lambda: _validate.positive_int(INF, "width"), ValueError, "width must be a positive integer, got inf", "pint-inf"),
    case(lambda: _validate.positive_int(-INF, "width"), ValueError, "width must be a positive integer", "pint-neginf"),
    case(lambda: _validate.positive_int("3", "width"), TypeError, "width must be a positive integer, got '3'", "pint-str"),
    case(lambda: _validate.positive_int(None, "width"),
         TypeError, "width must be a positive integer, got None", "pint-none"),
    case(lambda: _validate.positive_int(True, "width"), TypeError, "width .* got True", "pint-bool"),
    case(lambda: _validate.positive_int(0, "width"), ValueError, "width must be a positive integer, got 0", "pint-zero"),
    case(lambda: _validate.positive_int(-3, "width"), ValueError, "width .* got -3", "pint-neg"),
    case(lambda: _validate.positive_int([2], "width"), TypeError, r"width .* got \[2\]", "pint-list"),
    case(lambda: _validate.positive_int(1e400, "width"), ValueError, "width .* got inf", "pint-overflow"),
    case(lambda: _validate.positive_int(2 + 0j, "width"), TypeError, "width", "pint-complex"),
    case(lambda: _validate.nonnegative_int(-1, "steps"),
         ValueError, "steps must be a non-negative integer, got -1", "nnint-neg"),
    case(lambda: _validate.nonnegative_int(0.5, "steps"),
         ValueError, "steps must be a non-negative integer, got 0.5", "nnint-frac"),
    case(lambda: _validate.positive("0.1", "eta"), TypeError, "eta must be a real number, got '0.1'", "pos-str"),
    case(lambda: _validate.positive(None, "eta"), TypeError, "eta must be a real number, got None", "pos-none"),
    case(lambda: _validate.positive(NAN, "eta"), ValueError, "eta must be a positive finite number, got nan", "pos-nan"),
    case(lambda: _validate.positive(INF, "eta"), ValueError, "eta .* got inf", "pos-inf"),
    case(lambda: _validate.positive(0.0, "eta"), ValueError, "eta .* got 0.0", "pos-zero"),
    case(lambda: _validate.positive(-1, "eta"), ValueError, "eta .* got -1", "pos-neg"),
    case(lambda: _validate.positive(True, "eta"), TypeError, "eta", "pos-bool"),
    case(lambda: _validate.positive(np.ones(2), "eta"), TypeError, "eta must be a real number", "pos-array"),
    case(lambda: _validate.nonnegative(-0.5, "lam"), ValueError, "lam must be a finite number >= 0, got -0.5", "nonneg-neg"),
    case(lambda: _validate.nonnegative(NAN, "lam"), ValueError, "lam .* got nan", "nonneg-nan"),
    case(lambda: _validate.real(INF, "x"), ValueError, "x must be a finite number, got inf", "real-inf"),
    case(lambda: _validate.probability("a", "p"), TypeError, "p must be a real number, got 'a'", "prob-str"),
    case(lambda: _validate.probability(1.5, "p"), ValueError, r"p must be a probability in \[0, 1\], got 1\.5", "prob-high"),
    case(lambda: _validate.probability(NAN, "p"), ValueError, "p must be a probability", "prob-nan"),
    case(lambda: _validate.probability(0.0, "delta", open_interval=True), ValueError, r"delta .* \(0, 1\)", "prob-open"),
    case(lambda: _validate.seed(-1), ValueError, r"seed must be an integer in 0\.\.4294967295, got -1", "seed-neg"),
    case(lambda: _validate.seed(2**32), ValueError, "seed .* got 4294967296", "seed-big"),
    case(lambda: _validate.seed(1.5), ValueError, r"seed .* got 1\.5", "seed-frac"),
    case(lambda: _validate.float_dtype(np.int32), ValueError, "dtype must be float32 or float64, got int32", "dtype-int"),
    case(lambda: _validate.float_dtype(np.float16),
         ValueError, "dtype must be float32 or float64, got float16", "dtype-half"),
    case(lambda: _validate.float_dtype("floaty"), TypeError, "dtype must be float32 or float64, got 'floaty'", "dtype-str"),
    case(lambda: _validate.flag("yes", "antisymmetric"),
         TypeError, "antisymmetric must be True or False, got 'yes'", "flag-str"),
    case(lambda: _validate.flag(1, "linearized"), TypeError, "linearized must be True or False, got 1", "flag-int"),
    case(lambda: _validate.choice(1, "readout", ("gap",)),
         ValueError, r"readout must be one of \('gap',\), got 1", "choice-int"),
    case(lambda: _validate.on_divergence("ignore"), ValueError, "on_divergence must be one of .*'ignore'", "ondiv"),
    case(lambda: _validate.matrix([[1.0, 2.0], [3.0]]), ValueError, "X must be a rectangular", "matrix-ragged"),
    case(lambda: _validate.matrix([["a", "b"]]), TypeError, "X must be a real numeric array", "matrix-str"),
    case(lambda: _validate.matrix(np.ones((2, 2), complex)),
         TypeError, "X must be a real numeric array, got dtype complex", "matrix-complex"),
    case(lambda: _validate.matrix(np.ones((2, 2), bool)),
         TypeError, "X must be a real numeric array, got dtype bool", "matrix-bool"),
    case(lambda: _validate.matrix(np.ones(3)), ValueError, r"X must be 2-D .*got shape \(3,\)", "matrix-1d"),
    case(lambda: _validate.matrix(np.ones((0, 3))), ValueError, r"X is empty: shape \(0, 3\)", "matrix-empty"),
    case(lambda: _validate.matrix([[1.0, NAN]]),
         ValueError, r"X contains NaN or inf \(first at index \(0, 1\)\)", "matrix-nan"),
    case(lambda: _validate.matrix([[2.0, 0.0]], "Z", unit_norm=True), ValueError, "Z: .* norm 2", "matrix-unit"),
    case(lambda: _validate.vector(np.ones((2, 2)), "y"), ValueError, r"y must be 1-D, got shape \(2, 2\)", "vector-2d"),
    case(lambda: _validate.vector([1.0, INF], "y"), ValueError, "y contains NaN or inf", "vector-inf"),
    case(lambda: _validate.vector(["a"], "y"), TypeError, "y must be a real numeric array", "vector-str"),
    case(lambda: _validate.vector([1.0], "y", 3), ValueError, "y has length 1, expected 3", "vector-len"),
    case(lambda: _validate.labels([-1, 0], "y", n_classes=3),
         ValueError, r"y must hold class labels in 0\.\.2, but y\[0\] = -1", "labels-neg"),
    case(lambda: _validate.labels([0, 3], "y", n_classes=3), ValueError, r"y\[1\] = 3", "labels-high"),
    case(lambda: _validate.labels([0.5], "y"),
         ValueError, r"y must hold integer class labels, but y\[0\] = 0\.5", "labels-frac"),
    case(lambda: _validate.labels([NAN], "y"), ValueError, "y must hold integer class labels", "labels-nan"),
    case(lambda: _validate.labels([], "y"), ValueError, "y is empty", "labels-empty"),
    case(lambda: _validate.labels([[0]], "y"), ValueError, "y must be 1-D class labels", "labels-2d"),
    case(lambda: _validate.kernel(NOT_SYM, "H"), ValueError, "H is not symmetric", "kernel-sym"),
    case(lambda: _validate.kernel(np.ones((2, 3)), "H"), ValueError, "H must be square", "kernel-square"),
    case(lambda: _validate.cholesky(NOT_PSD, "K"), NotPositiveDefiniteError, "K is not .*positive definite", "cholesky"),
    case(lambda: _validate.gd_schedule(0.1, 2.5, 1),
         ValueError, r"steps must be a non-negative integer, got 2\.5", "sched-frac"),
    case(lambda: _validate.gd_schedule(0.1, -10, 1),
         ValueError, "steps must be a non-negative integer, got -10", "sched-neg"),
    case(lambda: _validate.gd_schedule(0.1, 10, 0), ValueError, "record_every must be a positive integer", "sched-rec0"),
    case(lambda: _validate.gd_schedule(0.1, 10, 3),
         ValueError, "steps=10 must be a multiple of record_every=3", "sched-mult"),
    case(lambda: _validate.gd_schedule(NAN, 10, 1),
         ValueError, "eta must be a positive finite number, got nan", "sched-eta"),
    case(lambda: _validate.memory(_validate.nbytes((BIG, BIG)), "an n x n kernel"), MemoryError,
         r"an n x n kernel would need 7\.28 TiB", "memory"),
    case(lambda: activations.get("tanh"), ValueError, "unknown activation 'tanh'", "act-unknown"),
    case(lambda: activations.get(["relu"]), ValueError, r"unknown activation \['relu'\]", "act-list"),
    case(lambda: activations.get(None), ValueError, "unknown activation None", "act-none"),
]

NETWORKS = [
    case(lambda: networks.init_two_layer(-1, 4, 2), ValueError, "seed .* got -1", "init-seed-neg"),
    case(lambda: networks.init_two_layer(0.5, 4, 2), ValueError, r"seed .* got 0\.5", "init-seed-frac"),
    case(lambda: networks.init_two_layer("0", 4, 2), TypeError, "seed .* got '0'", "init-seed-str"),
    case(lambda: networks.init_two_layer(2**40, 4, 2), ValueError, "seed .* got 1099511627776", "init-seed-big"),
    case(lambda: networks.init_two_layer(0, 0, 2), ValueError, "width must be a positive integer, got 0", "init-width0"),
    case(lambda: networks.init_two_layer(0, 1.5, 2),
         ValueError, r"width must be a positive integer, got 1\.5", "init-width-frac"),
    case(lambda: networks.init_two_layer(0, NAN, 2), ValueError, "width .* got nan", "init-width-nan"),
    case(lambda: networks.init_two_layer(0, INF, 2), ValueError, "width .* got inf", "init-width-inf"),
    case(lambda: networks.init_two_layer(0, "4", 2), TypeError, "width .* got '4'", "init-width-str"),
    case(lambda: networks.init_two_layer(0, None, 2), TypeError, "width .* got None", "init-width-none"),
    case(lambda: networks.init_two_layer(0, True, 2), TypeError, "width .* got True", "init-width-bool"),
    case(lambda: networks.init_two_layer(0, 4, 0), ValueError, "dim must be a positive integer, got 0", "init-dim0"),
    case(lambda: networks.init_two_layer(0, 4, 2.5), ValueError, r"dim .* got 2\.5", "init-dim-frac"),
    case(lambda: networks.init_two_layer(0, 4, 2, "tanh"), ValueError, "unknown activation 'tanh'", "init-act"),
    case(lambda: networks.init_two_layer(0, 4, 2, ["relu"]), ValueError, "unknown activation", "init-act-list"),
    case(lambda: networks.init_two_layer(0, 4, 2, a_init="gauss"), ValueError, "unknown a_init 'gauss'", "init-ainit"),
    case(lambda: networks.init_two_layer(0, 4, 2, a_init=["x"]), ValueError, "unknown a_init", "init-ainit-list"),
    case(lambda: networks.init_two_layer(0, 4, 2, antisymmetric="yes"),
         TypeError, "antisymmetric must be True or False", "init-anti-str"),
    case(lambda: networks.init_two_layer(0, 5, 2, antisymmetric=True), ValueError, "even width, got 5", "init-anti-odd"),
    case(lambda: networks.init_two_layer(0, 4, 2, dtype=np.int32),
         ValueError, "dtype must be float32 or float64, got int32", "init-dtype-int"),
    case(lambda: networks.init_two_layer(0, 4, 2, dtype="no"),
         TypeError, "dtype must be float32 or float64", "init-dtype-str"),
    case(lambda: networks.init_two_layer(0, BIG, BIG),
         MemoryError, r"width, dim\) = \(1000000, 1000000\).* would need", "init-memory"),
    case(lambda: networks.TwoLayerNet(np.ones((4, 2), int), NET.a),
         TypeError, "TwoLayerNet.W must be a float32 or float64", "net-W-int"),
    case(lambda: networks.TwoLayerNet(np.ones(4), NET.a),
         ValueError, r"TwoLayerNet.W must be a non-empty 2-D array, got shape \(4,\)", "net-W-1d"),
    case(lambda: networks.TwoLayerNet(NET.W, NET.a[:3]),
         ValueError, "TwoLayerNet.a has length 3 but W has 4 rows", "net-a-len"),
    case(lambda: networks.TwoLayerNet(NET.W, NET.a, "gelu"), ValueError, "unknown activation 'gelu'", "net-act"),
    case(lambda: NET(X3[0]), ValueError, r"X must be 2-D", "call-1d"),
    case(lambda: NET(np.ones((2, 5))), ValueError, "X has 5 features but the net expects 2", "call-features"),
    case(lambda: NET([[NAN, 1.0]]), ValueError, "X contains NaN", "call-nan"),
    case(lambda: NET([["a", "b"]]), TypeError, "X must be a real numeric", "call-str"),
    case(lambda: NAN_NET(X3), ValueError, r"net\.W contains NaN or inf", "call-nan-net"),
    case(lambda: networks.gd_step("net", X3, Y3, 0.1), TypeError, "net must be a ntklib.networks.TwoLayerNet", "step-net"),
    case(lambda: networks.gd_step(NAN_NET, X3, Y3, 0.1), ValueError, r"net\.W contains NaN", "step-nan-net"),
    case(lambda: networks.gd_step(NET, X3, Y3[:2], 0.1), ValueError, "y has length 2, expected 3", "step-ylen"),
    case(lambda: networks.gd_step(NET, X3, [1.0, NAN, 0.0], 0.1), ValueError, "y contains NaN", "step-ynan"),
    case(lambda: networks.gd_step(NET, np.ones((3, 5)), Y3, 0.1),
         ValueError, "X has 5 features but the net expects 2", "step-features"),
    case(lambda: networks.gd_step(NET, X3, Y3, 0.0),
         ValueError, "eta must be a positive finite number, got 0.0", "step-eta0"),
    case(lambda: networks.gd_step(NET, X3, Y3, -0.1), ValueError, "eta must be a positive", "step-eta-neg"),
    case(lambda: networks.gd_step(NET, X3, Y3, NAN), ValueError, "eta .* got nan", "step-eta-nan"),
    case(lambda: networks.gd_step(NET, X3, Y3, INF), ValueError, "eta .* got inf", "step-eta-inf"),
    case(lambda: networks.gd_step(NET, X3, Y3, "0.1"), TypeError, "eta must be a real number", "step-eta-str"),
    case(lambda: networks.gd_step(NET, X3, Y3, 0.1, 0),
         ValueError, "steps must be a positive integer, got 0", "step-steps0"),
    case(lambda: networks.gd_step(NET, X3, Y3, 0.1, 1.5), ValueError, r"steps .* got 1\.5", "step-steps-frac"),
    case(lambda: networks.gd_step(NET, X3, Y3, 0.1, -2), ValueError, "steps .* got -2", "step-steps-neg"),
    case(lambda: networks.gd_step(NET, X3, Y3, 0.1, on_divergence="warn"), ValueError, "on_divergence", "step-ondiv"),
    case(lambda: networks.gd_step(NET, X3, 1e3 * Y3, 1e8, 50),
         TrainingDiverged, "gd_step diverged.*smaller eta", "step-diverge"),
    case(lambda: networks.gd_train("net", X3, Y3, 0.1, 2),
         TypeError, "net must be a ntklib.networks.TwoLayerNet", "train-net"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, -1),
         ValueError, "steps must be a non-negative integer, got -1", "train-steps-neg"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 2.5), ValueError, r"steps .* got 2\.5", "train-steps-frac"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, NAN), ValueError, "steps .* got nan", "train-steps-nan"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, record_every=0),
         ValueError, "record_every must be a positive integer", "train-rec0"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, record_every=2.5),
         ValueError, r"record_every .* got 2\.5", "train-rec-frac"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, record_every=3),
         ValueError, "multiple of record_every=3", "train-rec-mult"),
    case(lambda: networks.gd_train(NET, X3, Y3, NAN, 10), ValueError, "eta .* got nan", "train-eta-nan"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, snapshot_steps=5),
         TypeError, "snapshot_steps must be a list", "train-snap-int"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, snapshot_steps=(12,)),
         ValueError, r"snapshot_steps \[12\]", "train-snap-range"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, snapshot_steps=(2.5,)),
         ValueError, "snapshot_steps entry", "train-snap-frac"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, X_test=np.ones((2, 3))),
         ValueError, "X_test has 3 features but X has 2", "train-xtest-features"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, X_test=[[NAN, 0.0]]),
         ValueError, "X_test contains NaN", "train-xtest-nan"),
    case(lambda: networks.gd_train(NET, X3, Y3[:2], 0.1, 10), ValueError, "y has length 2, expected 3", "train-ylen"),
    case(lambda: networks.gd_train(NET, X3, Y3, 0.1, 10, on_divergence=None),
         ValueError, "on_divergence must be one of", "train-ondiv"),
    case(lambda: networks.gd_train(NET, X3, 1e3 * Y3, 1e6, 100, record_every=10), TrainingDiverged,
         r"gd_train diverged: the loss at step \d+ is .*smaller eta than 1000000", "train-diverge"),
]

NOISY = [
    case(lambda: noisy.forward(NET.W[0], NET.a, X3), ValueError, r"W must be 2-D, got shape \(2,\)", "fwd-W"),
    case(lambda: noisy.forward(NET.W, NET.a[:3], X3), ValueError, r"a has shape \(3,\), expected \(4,\)", "fwd-a"),
    case(lambda: noisy.forward(NET.W, NET.a, np.ones((3, 5))),
         ValueError, "X has 5 features but W has input dimension 2", "fwd-X"),
    case(lambda: noisy.forward(NET.W, NET.a, X3, "tanh"), ValueError, "unknown activation 'tanh'", "fwd-act"),
    case(lambda: noisy.forward_linearized(NET.W, NET.W[:2], NET.a, X3),
         ValueError, r"W0 has shape \(2, 2\), expected", "fwdlin-W0"),
    case(lambda: noisy.rdi_loss(NET.W, NET.W, NET.a, X3, Y3[:2], 1.0),
         ValueError, r"y has shape \(2,\), expected \(3,\)", "rdi-y"),
    case(lambda: noisy.rdi_loss(NET.W, NET.W, NET.a, X3, Y3, -1.0),
         ValueError, "lam must be a finite number >= 0, got -1.0", "rdi-lam"),
    case(lambda: noisy.rdi_loss(NET.W, NET.W, NET.a, X3, Y3, NAN), ValueError, "lam .* got nan", "rdi-lam-nan"),
    case(lambda: noisy.aux_loss(NET.W, np.zeros(2), NET.W, NET.a, X3, Y3, 1.0), ValueError, r"b has shape \(2,\)", "aux-b"),
    case(lambda: noisy.aux_loss(NET.W, np.zeros(3), NET.W, NET.a, X3, Y3, -2.0), ValueError, "lam .* got -2.0", "aux-lam"),
    case(lambda: noisy.train("net", X3, Y3, "rdi", 1.0),
         TypeError, "net must be a ntklib.networks.TwoLayerNet", "train-net"),
    case(lambda: noisy.train(NAN_NET, X3, Y3, "rdi", 1.0), ValueError, r"net\.W contains NaN", "train-nan-net"),
    case(lambda: noisy.train(NET, X3, Y3, "ridge", 1.0), ValueError, "method must be one of .*'ridge'", "train-method"),
    case(lambda: noisy.train(NET, X3, Y3, None, 1.0), ValueError, "method must be one of .*None", "train-method-none"),
    case(lambda: noisy.train(NET, X3, Y3, "rdi", -1.0),
         ValueError, "lam must be a finite number >= 0, got -1.0", "train-lam-neg"),
    case(lambda: noisy.train(NET, X3, Y3, "rdi", NAN), ValueError, "lam .* got nan", "train-lam-nan"),
    case(lambda: noisy.train(NET, X3, Y3, "rdi", INF), ValueError, "lam .* got inf", "train-lam-inf"),
    case(lambda: noisy.train(NET, X3, Y3, "rdi", "1"), TypeError, "lam must be a real number, got '1'", "train-lam-str"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, eta=0.0), ValueError, "eta must be a positive", "train-eta0"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, eta=NAN), ValueError, "eta .* got nan", "train-eta-nan"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, steps=2.5, record_every=1),
         ValueError, r"steps .* got 2\.5", "train-steps-frac"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, steps=-10, record_every=1),
         ValueError, "steps .* got -10", "train-steps-neg"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, steps=10, record_every=0),
         ValueError, "record_every must be a positive", "train-rec0"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, steps=10, record_every=3),
         ValueError, "multiple of record_every", "train-rec-mult"),
    case(lambda: noisy.train(NET, X3, Y3[:2], "aux", 1.0), ValueError, "y has length 2, expected 3", "train-ylen"),
    case(lambda: noisy.train(NET, np.ones((3, 5)), Y3, "aux", 1.0),
         ValueError, "X has 5 features but the net expects 2", "train-features"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, X_test=np.ones((2, 3))),
         ValueError, "X_test has 3 features", "train-xtest"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, linearized="yes"),
         TypeError, "linearized must be True or False", "train-lin"),
    case(lambda: noisy.train(NET, X3, Y3, "aux", 1.0, on_divergence="skip"), ValueError, "on_divergence", "train-ondiv"),
    case(lambda: noisy.train(NET, X3, 1e3 * Y3, "rdi", 0.1, eta=1e6, steps=100, record_every=10), TrainingDiverged,
         r"noisy.train \(rdi, lam = 0.1\) diverged: the loss at step \d+.*smaller eta", "train-diverge"),
    case(lambda: noisy.train_many(NET, X3, Y3, []), ValueError, "configs must be a non-empty list", "many-empty"),
    case(lambda: noisy.train_many(NET, X3, Y3, [("rdi", 1.0)]),
         ValueError, r"configs must be .*\(method, lam, linearized\)", "many-short"),
    case(lambda: noisy.train_many(NET, X3, Y3, "rdi"), TypeError, "configs must be a non-empty list", "many-str"),
    case(lambda: noisy.train_many(NET, X3, Y3, 5), TypeError, "configs must be a non-empty list", "many-int"),
    case(lambda: noisy.ridge_gd_coefficients(NOT_SYM, Y3[:2], 0.1, 0.1, [1]),
         ValueError, "H is not symmetric", "gdcoef-sym"),
    case(lambda: noisy.ridge_gd_coefficients(np.ones((2, 3)), Y3, 0.1, 0.1, [1]),
         ValueError, "H must be square", "gdcoef-square"),
    case(lambda: noisy.ridge_gd_coefficients(NOT_PSD, Y3[:2], 0.1, 0.1, [1]),
         NotPositiveDefiniteError, "H is not positive semidefinite", "gdcoef-psd"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3[:2], 0.1, 0.1, [1]),
         ValueError, "y has length 2, expected 3", "gdcoef-ylen"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [1], u0=np.ones(2)),
         ValueError, "u0 has length 2", "gdcoef-u0"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, -0.1, 0.1, [1]),
         ValueError, "lam must be a finite number >= 0", "gdcoef-lam"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, NAN, 0.1, [1]), ValueError, "lam .* got nan", "gdcoef-lam-nan"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.0, [1]), ValueError, "eta must be a positive", "gdcoef-eta"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [-1]),
         ValueError, "steps must be .* >= 0", "gdcoef-steps-neg"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [1.5]),
         ValueError, r"steps must be .*whole step counts.*1\.5", "gdcoef-steps-frac"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [NAN]), ValueError, "steps must be", "gdcoef-steps-nan"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, "ten"),
         TypeError, "steps must be a list of step counts", "gdcoef-steps-str"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, []), ValueError, "steps must be", "gdcoef-steps-empty"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 10.0, [np.inf]),
         ValueError, "GD does not converge.*eta", "gdcoef-limit"),
    case(lambda: noisy.ridge_gd_coefficients(H3, Y3, 0.1, 1e3, [10**6]),
         TrainingDiverged, "GD with eta = 1000.0 diverges", "gdcoef-overflow"),
    case(lambda: noisy.ridge_gd_predictor(np.ones((2, 4)), H3, Y3, 0.1, 0.1, [1]),
         ValueError, "K_xX has 4 columns but H is 3 x 3", "gdpred-cols"),
    case(lambda: noisy.ridge_gd_predictor([[NAN, 0, 0]], H3, Y3, 0.1, 0.1, [1]),
         ValueError, "K_xX contains NaN", "gdpred-nan"),
    case(lambda: noisy.ridge_gd_predictor(K23, H3, Y3, 0.1, 0.1, [1], f0_x=np.ones(3)),
         ValueError, "f0_x has length 3, expected 2", "gdpred-f0"),
    case(lambda: noisy.kernel_eig([[NAN, 0.0], [0.0, 1.0]]), ValueError, "H contains NaN", "eig-nan"),
    case(lambda: noisy.kernel_eig(np.ones((2, 3))), ValueError, "H must be square", "eig-square"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, [-1.0]), ValueError, "lams must be finite and >= 0", "path-lams-neg"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, [NAN]), ValueError, "lams must be finite", "path-lams-nan"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, []), ValueError, "lams must be .*non-empty", "path-lams-empty"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, "a"), TypeError, "lams must be a list of ridges", "path-lams-str"),
    case(lambda: noisy.ridge_path(K23, H3, Y3[:2], [0.1]),
         ValueError, "y must be finite with last dimension n = 3", "path-ylen"),
    case(lambda: noisy.ridge_path(K23, H3, np.ones((2, 2, 3)), [0.1]),
         ValueError, r"y must be finite, 1-D \(n,\) or 2-D", "path-y3d"),
    case(lambda: noisy.ridge_path(K23, H3, [1.0, NAN, 0.0], [0.1]), ValueError, "y must be finite.*NaN", "path-ynan"),
    case(lambda: noisy.ridge_path(np.ones((2, 4)), H3, Y3, [0.1]),
         ValueError, "K_xX has 4 columns but H is 3 x 3", "path-cols"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, [0.1], eig=EIG3[0]), TypeError, "eig must be the pair", "path-eig-type"),
    case(lambda: noisy.ridge_path(K23, H3, Y3, [0.1], eig=(EIG3[0][:2], EIG3[1])),
         ValueError, "eig must be kernel_eig", "path-eig-shape"),
    case(lambda: noisy.ridge_path(K23, np.diag([1.0, 0.0, 0.0]), Y3, [0.0]),
         NotPositiveDefiniteError, "singular for lam = 0", "path-singular"),
    case(lambda: noisy.ridge_flow_predictor(K23, H3, Y3, -1.0, [1.0]),
         ValueError, "lam must be a finite number >= 0, got -1.0", "flow-lam"),
    case(lambda: noisy.ridge_flow_predictor(K23, H3, Y3, 0.1, [-1.0]), ValueError, "times t must be >= 0", "flow-t-neg"),
    case(lambda: noisy.ridge_flow_predictor(K23, H3, Y3, 0.1, [NAN]), ValueError, "times t must be >= 0", "flow-t-nan"),
    case(lambda: noisy.ridge_flow_predictor(K23, H3, Y3, 0.1, "soon"),
         TypeError, "times t must be a list of numbers", "flow-t-str"),
    case(lambda: noisy.ridge_flow_predictor(K23, np.diag([1.0, 0.0, 0.0]), Y3, 0.0, [np.inf]), NotPositiveDefiniteError,
         "t = inf needs H \\+ lam I positive definite", "flow-t-inf"),
    case(lambda: noisy.symmetric_transition_matrix(1.5, 3),
         ValueError, r"p must be a probability in \[0, 1\], got 1\.5", "sym-p-high"),
    case(lambda: noisy.symmetric_transition_matrix(-0.1, 3), ValueError, "p must be a probability", "sym-p-neg"),
    case(lambda: noisy.symmetric_transition_matrix(NAN, 3), ValueError, "p must be a probability", "sym-p-nan"),
    case(lambda: noisy.symmetric_transition_matrix("a", 3), TypeError, "p must be a real number", "sym-p-str"),
    case(lambda: noisy.symmetric_transition_matrix(0.1, 1),
         ValueError, "n_classes must be an integer >= 2, got 1", "sym-C1"),
    case(lambda: noisy.symmetric_transition_matrix(0.1, 2.5), ValueError, r"n_classes .* got 2\.5", "sym-C-frac"),
    case(lambda: noisy.symmetric_transition_matrix(0.1, "3"), TypeError, "n_classes .* got '3'", "sym-C-str"),
    case(lambda: noisy.symmetric_transition_matrix(0.1, BIG), MemoryError, "transition matrix would need", "sym-memory"),
    case(lambda: noisy.empirical_transition_matrix([0, 1], [0, 1, 1]),
         ValueError, "y_clean and y_noisy must be 1-D, non-empty and of equal length", "emp-len"),
    case(lambda: noisy.empirical_transition_matrix([[0, 1]], [[0, 1]]),
         ValueError, "y_clean and y_noisy must be 1-D", "emp-2d"),
    case(lambda: noisy.empirical_transition_matrix([], []), ValueError, "non-empty", "emp-empty"),
    case(lambda: noisy.empirical_transition_matrix([0, 1.5], [0, 1]),
         ValueError, r"y_clean must hold integer class labels, but y_clean\[1\] = 1\.5", "emp-frac"),
    case(lambda: noisy.empirical_transition_matrix([0, 1], [0, -2]),
         ValueError, r"y_noisy must hold class labels .*y_noisy\[1\] = -2", "emp-neg"),
    case(lambda: noisy.empirical_transition_matrix([0, 1, 2], [0, 1, 1], 2),
         ValueError, r"y_clean must hold class labels in 0\.\.1", "emp-range"),
    case(lambda: noisy.empirical_transition_matrix([0, 1], [0, 1], 1.5), ValueError, r"n_classes .* got 1\.5", "emp-C-frac"),
    case(lambda: noisy.empirical_transition_matrix(["a"], ["b"]),
         TypeError, "y_clean must be a real numeric array", "emp-str"),
]

CNTK = [
    case(lambda: cntk.architecture(depth=0), ValueError, "depth must be a positive integer, got 0", "arch-depth0"),
    case(lambda: cntk.architecture(depth=1.5), ValueError, r"depth .* got 1\.5", "arch-depth-frac"),
    case(lambda: cntk.architecture(readout="max"),
         ValueError, r"readout must be one of \('vanilla', 'gap'\), got 'max'", "arch-readout"),
    case(lambda: cntk.architecture(width=0), ValueError, "width must be a positive integer, got 0", "arch-width"),
    case(lambda: cntk.architecture(n_out=2.5), ValueError, r"n_out .* got 2\.5", "arch-nout"),
    case(lambda: cntk.architecture(W_std=NAN), ValueError, "W_std must be a positive finite number, got nan", "arch-wstd"),
    case(lambda: cntk.architecture(W_std=0.0), ValueError, "W_std .* got 0.0", "arch-wstd0"),
    case(lambda: cntk.architecture(b_std=-1.0), ValueError, "b_std must be a finite number >= 0, got -1.0", "arch-bstd"),
    case(lambda: cntk.prepare_images(np.ones((4, 4))),
         ValueError, r"images must be \(n, h, w\) or \(n, h, w, c\), got shape \(4, 4\)", "prep-2d"),
    case(lambda: cntk.prepare_images(np.ones((1, 2, 2, 1, 1))), ValueError, "images must be", "prep-5d"),
    case(lambda: cntk.prepare_images(np.full((1, 2, 2), "a")), TypeError, "images must be a real numeric array", "prep-str"),
    case(lambda: cntk.prepare_images(np.full((1, 2, 2), np.nan)), ValueError, "images contains NaN", "prep-nan"),
    case(lambda: cntk.prepare_images(np.ones((0, 2, 2))), ValueError, "images is empty", "prep-empty"),
    case(lambda: cntk.prepare_images(IMGS, pool=0), ValueError, "pool must be a positive integer, got 0", "prep-pool0"),
    case(lambda: cntk.prepare_images(IMGS, pool=1.5), ValueError, r"pool .* got 1\.5", "prep-pool-frac"),
    case(lambda: cntk.prepare_images(IMGS, pool=3),
         ValueError, "pool = 3 must divide the image size 4 x 4", "prep-pool-divide"),
    case(lambda: cntk.prepare_images(np.full((2, 4, 4), 7, np.uint8)),
         ValueError, "std must be > 0 in every channel", "prep-constant"),
    case(lambda: cntk.prepare_images(IMGS, mean=[0.0, 0.0], std=[1.0, 1.0]),
         ValueError, r"mean must have one entry per channel \(1\), got 2", "prep-mean"),
    case(lambda: cntk.prepare_images(IMGS, mean=[0.0], std=[0.0]), ValueError, "std must be > 0", "prep-std0"),
    case(lambda: cntk.prepare_images(IMGS, mean=[NAN], std=[1.0]), ValueError, "mean contains NaN", "prep-mean-nan"),
    case(lambda: cntk.ntk(STACK[..., 0]), ValueError, r"X1 must be 4-D, got shape \(4, 4, 4\)", "ntk-3d"),
    case(lambda: cntk.ntk(STACK, STACK[:, :2]),
         ValueError, r"X1 and X2 must hold images of the same \(h, w, c\)", "ntk-shape"),
    case(lambda: cntk.ntk(np.where(STACK > 0, np.nan, STACK)), ValueError, "X1 contains NaN", "ntk-nan"),
    case(lambda: cntk.ntk(STACK, batch_size=-1),
         ValueError, "batch_size must be a non-negative integer, got -1", "ntk-batch-neg"),
    case(lambda: cntk.ntk(STACK, batch_size=1.5), ValueError, r"batch_size .* got 1\.5", "ntk-batch-frac"),
    case(lambda: cntk.ntk(STACK, batch_size=3),
         ValueError, r"batch_size = 3 must divide both stack sizes \(4, 4\)", "ntk-batch-divide"),
    case(lambda: cntk.ntk(STACK, depth=0), ValueError, "depth must be a positive integer", "ntk-depth"),
    case(lambda: cntk.ntk(STACK, readout="avg"), ValueError, "readout must be one of", "ntk-readout"),
    case(lambda: cntk.ntk(np.zeros((64, 32, 32, 1)), batch_size=0),
         MemoryError, r"cntk.ntk \(gap\) of 64 x 64 images .* would need", "ntk-memory"),
    case(lambda: cntk.one_hot_targets([-1, 0], 3),
         ValueError, r"y must hold class labels in 0\.\.2, but y\[0\] = -1", "onehot-neg"),
    case(lambda: cntk.one_hot_targets([0, 3], 3), ValueError, r"y\[1\] = 3", "onehot-high"),
    case(lambda: cntk.one_hot_targets([0.5], 3), ValueError, "y must hold integer class labels", "onehot-frac"),
    case(lambda: cntk.one_hot_targets([[0, 1]], 3), ValueError, "y must be 1-D", "onehot-2d"),
    case(lambda: cntk.one_hot_targets(["a"], 3), TypeError, "y must be a real numeric array", "onehot-str"),
    case(lambda: cntk.one_hot_targets([0], 1), ValueError, "n_classes must be an integer >= 2, got 1", "onehot-C1"),
    case(lambda: cntk.one_hot_targets([0], 2.5), ValueError, r"n_classes .* got 2\.5", "onehot-C-frac"),
    case(lambda: cntk.kernel_classify(np.ones((2, 4)), H3, [0, 1, 0], 2),
         ValueError, "K_test_train has 4 columns but K_train is 3 x 3", "classify-cols"),
    case(lambda: cntk.kernel_classify(K23, NOT_SYM, [0, 1], 2), ValueError, "K_train is not symmetric", "classify-sym"),
    case(lambda: cntk.kernel_classify(K23, H3, [0, 1], 2), ValueError, "y_train has length 2, expected 3", "classify-ylen"),
    case(lambda: cntk.kernel_classify(K23, H3, [0, 1, 2], 2),
         ValueError, r"y_train must hold class labels in 0\.\.1", "classify-yrange"),
    case(lambda: cntk.kernel_classify(K23, H3, [0, 1, 0], 2, rel_ridge=-1.0),
         ValueError, "rel_ridge must be a finite number >= 0", "classify-ridge"),
    case(lambda: cntk.kernel_classify(K23, H3, [0, 1, 0], 0), ValueError, "n_classes .* got 0", "classify-C"),
    case(lambda: cntk.train_cnn(STACK[..., 0], [0, 1, 0, 1], STACK, 2), ValueError, "X must be 4-D", "cnn-X"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK[:, :2], 2),
         ValueError, "X_test must hold images of X's", "cnn-Xtest"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0], STACK, 2), ValueError, "y has length 3, expected 4", "cnn-ylen"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, -1], STACK, 2), ValueError, r"y\[3\] = -1", "cnn-yneg"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 1), ValueError, "n_classes must be an integer >= 2", "cnn-C"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, depth=0),
         ValueError, "depth must be a positive integer", "cnn-depth"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, readout="x"),
         ValueError, "readout must be one of", "cnn-readout"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, width=0.5), ValueError, r"width .* got 0\.5", "cnn-width"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, steps=0),
         ValueError, "steps must be a positive integer, got 0", "cnn-steps0"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, steps=2.5),
         ValueError, r"steps .* got 2\.5", "cnn-steps-frac"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, lr=0.0),
         ValueError, "lr must be a positive finite number", "cnn-lr0"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, lr=NAN), ValueError, "lr .* got nan", "cnn-lr-nan"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, momentum=1.0),
         ValueError, r"momentum must be in \[0, 1\), got 1.0", "cnn-mom1"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, momentum=-0.1),
         ValueError, "momentum must be a finite number >= 0", "cnn-mom-neg"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, seed=-1), ValueError, "seed .* got -1", "cnn-seed"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, record_every=-1),
         ValueError, "record_every must be a non-negative integer", "cnn-rec"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, on_divergence=0), ValueError, "on_divergence", "cnn-ondiv"),
]

MLP = [
    case(lambda: mlp.init_mlp(-1, 3, [4], 2), ValueError, "seed .* got -1", "init-seed"),
    case(lambda: mlp.init_mlp(0, 0, [4], 2), ValueError, "d_in must be a positive integer, got 0", "init-din"),
    case(lambda: mlp.init_mlp(0, 3, 4, 2), TypeError, "hidden must be a list of hidden-layer widths", "init-hidden-int"),
    case(lambda: mlp.init_mlp(0, 3, "4", 2), TypeError, "hidden must be a list", "init-hidden-str"),
    case(lambda: mlp.init_mlp(0, 3, [0], 2), ValueError, "hidden width must be a positive integer, got 0", "init-hidden0"),
    case(lambda: mlp.init_mlp(0, 3, [1.5], 2), ValueError, r"hidden width .* got 1\.5", "init-hidden-frac"),
    case(lambda: mlp.init_mlp(0, 3, [4], NAN), ValueError, "n_out .* got nan", "init-nout"),
    case(lambda: mlp.init_mlp(0, 3, [4], 2, dtype=np.int32),
         ValueError, "dtype must be float32 or float64, got int32", "init-dtype"),
    case(lambda: mlp.init_mlp(0, BIG, [BIG], 2), MemoryError, "init_mlp with layer sizes .* would need", "init-memory"),
    case(lambda: mlp.n_params("params"), TypeError, "params must be a non-empty list of .W, b. pairs", "nparams-str"),
    case(lambda: mlp.n_params([]), TypeError, "params must be a non-empty list", "nparams-empty"),
    case(lambda: mlp.n_params([(PARAMS[0][0],)]), TypeError, r"params\[0\] must be a \(W, b\) pair", "nparams-pair"),
    case(lambda: mlp.n_params([PARAMS[1], PARAMS[0]]),
         ValueError, r"params\[1\] has fan_in 3 but the previous layer has 2", "nparams-chain"),
    case(lambda: mlp.n_params([(PARAMS[0][0], PARAMS[1][1])]),
         ValueError, r"params\[0\] must be W .* and b", "nparams-bias"),
    case(lambda: mlp.logits(PARAMS, np.ones((2, 5))), ValueError, r"X must be \(n, 3\) for a net with 3 inputs", "logits-X"),
    case(lambda: mlp.cross_entropy(PARAMS, XM, YM[:3]), ValueError, r"y must be \(8,\)", "ce-ylen"),
    case(lambda: mlp.cross_entropy(PARAMS, XM, YM + 2), ValueError, r"y must hold class labels in 0\.\.1", "ce-yrange"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM.astype(float), lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, "y must be integer class labels", "sgd-yfloat"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM - 1, lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, r"y must hold class labels .*y\[0\] = -1", "sgd-yneg"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM + 5, lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, "y holds label 5 but the net has 2 outputs", "sgd-yhigh"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM[:3], lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, "y has length 3, expected 8", "sgd-ylen"),
    case(lambda: mlp.train_sgd(PARAMS, np.ones((8, 5)), YM, lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, r"X must be \(n, 3\)", "sgd-X"),
    case(lambda: mlp.train_sgd(PARAMS, np.full((8, 3), np.nan), YM, lr=0.1, epochs=1, seed=0, batch=4),
         ValueError, "X contains NaN", "sgd-Xnan"),
    case(lambda: mlp.train_sgd([(np.full((3, 2), np.nan), np.zeros(2))], XM, YM, lr=0.1, epochs=1, seed=0, batch=4),
         ValueError,
         r"params\[0\] W contains NaN", "sgd-params-nan"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=0),
         ValueError, "batch must be a positive integer", "sgd-batch0"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=9),
         ValueError, "batch 9 is larger than the 8 training points", "sgd-batch-big"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=0, seed=0, batch=4),
         ValueError, "epochs must be a positive integer", "sgd-epochs0"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1.5, seed=0, batch=4),
         ValueError, r"epochs .* got 1\.5", "sgd-epochs-frac"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.0, epochs=1, seed=0, batch=4),
         ValueError, "lr must be a positive", "sgd-lr0"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=4, momentum=1.5),
         ValueError, r"momentum must be in \[0, 1\)", "sgd-mom"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=-5, batch=4),
         ValueError, "seed .* got -5", "sgd-seed"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=4, stop_loss=NAN),
         ValueError, "stop_loss must be a finite number", "sgd-stop"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=4, check_every=0),
         ValueError, "check_every must be a positive", "sgd-check"),
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=4, on_divergence="no"),
         ValueError, "on_divergence", "sgd-ondiv"),
    case(lambda: mlp.train_sgd(PARAMS, np.random.default_rng(0).standard_normal((8, 3)), np.arange(8) % 2, lr=1e8, epochs=3,
                               seed=0, batch=4, check_every=1),
         TrainingDiverged, r"train_sgd \(epoch \d\) diverged.*smaller lr", "sgd-diverge"),
    case(lambda: mlp.error_rate(PARAMS, np.ones((2, 5)), [0, 1]), ValueError, r"X must be \(n, 3\)", "err-X"),
    case(lambda: mlp.error_rate(PARAMS, XM, YM[:3]), ValueError, "y has length 3, expected 8", "err-ylen"),
    case(lambda: mlp.error_rate(PARAMS, XM, YM - 1), ValueError, r"y\[0\] = -1", "err-yneg"),
    case(lambda: mlp.error_rate(PARAMS, XM, YM, chunk=0), ValueError, "chunk must be a positive integer", "err-chunk"),
    case(lambda: mlp.error_rate(PARAMS, np.ones((0, 3)), []), ValueError, "X is empty", "err-empty"),
    case(lambda: mlp.standardize_images(np.ones(3)), ValueError, "images must be .n, ...", "std-1d"),
    case(lambda: mlp.standardize_images(np.full((2, 2), "a")), TypeError, "images must be a real numeric array", "std-str"),
    case(lambda: mlp.standardize_images([[NAN, 1.0]]), ValueError, "images contains NaN", "std-nan"),
    case(lambda: mlp.standardize_images(np.ones((0, 4))), ValueError, "images is empty", "std-empty"),
]

CHECKS = [
    case(lambda: checks.Checks(None, "ci", 0), TypeError, "notebook must be a non-empty string, got None", "init-notebook"),
    case(lambda: checks.Checks("nb", "", 0), TypeError, "scale must be a non-empty string", "init-scale"),
    case(lambda: checks.Checks("nb", "ci", -1), ValueError, "seed must be a non-negative integer, got -1", "init-seed"),
    case(lambda: checks.Checks("nb", "ci", 1.5), ValueError, r"seed .* got 1\.5", "init-seed-frac"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "==", 1.0), ValueError, "op must be one of", "op"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "approx", 1.0), ValueError, "needs tol", "approx-tol"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "approx", 1.0, tol=-1.0),
         ValueError, "tol must be a finite number >= 0", "tol-neg"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "between", 3.0),
         TypeError, r"target for op='between' must be a pair", "between-scalar"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "between", (2.0, 1.0)),
         ValueError, "must have lo <= hi", "between-order"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "between", (0.0, NAN)),
         ValueError, "must have lo <= hi", "between-nan"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "<=", "2"),
         TypeError, "target must be a real number, got '2'", "target-str"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "<=", NAN),
         ValueError, "target must be a number, got nan", "target-nan"),
    case(lambda: checks_obj().expect("A", "c", "s", "1.0", "<=", 2.0),
         TypeError, "measured must be a real number, got '1.0'", "measured-str"),
    case(lambda: checks_obj().expect("A", "c", "s", None, "<=", 2.0),
         TypeError, "measured must be a real number, got None", "measured-none"),
    case(lambda: checks_obj().expect("A", "c", "s", [1.0, 2.0], "<=", 2.0),
         TypeError, "measured must be a real number", "measured-list"),
    case(lambda: checks_obj().expect("", "c", "s", 1.0, "<=", 2.0), TypeError, "id must be a non-empty string", "id-empty"),
    case(lambda: checks_obj().expect("A", 3, "s", 1.0, "<=", 2.0),
         TypeError, "claim must be a non-empty string, got 3", "claim"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "<=", 2.0, holds_at="ci"),
         TypeError, "holds_at must be a tuple of scale names", "holds-str"),
    case(lambda: checks_obj().expect("A", "c", "s", 1.0, "<=", 2.0, lecture=3),
         TypeError, "lecture must be a string or None", "lecture"),
    case(_dup, ValueError, "duplicate check id 'A'", "duplicate"),
]

_SPHERE = unit_norm(np.random.default_rng(3).standard_normal((5, 3)))
KERNELS = [
    case(lambda: kernels.ntk_two_layer(X3, a_init=["x"]), ValueError, "unknown a_init", "ntk-ainit"),
    case(lambda: kernels.ntk_two_layer(X3, dtype=np.int32),
         ValueError, "dtype must be float32 or float64, got int32", "ntk-dtype"),
    case(lambda: kernels.ntk_two_layer(np.ones((60000, 1))), MemoryError, "60000 x 60000 kernel would need", "ntk-memory"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=2, n_fixed=1.5),
         ValueError, r"n_fixed must be a non-negative integer, got 1\.5", "fc-nfixed-frac"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=2, n_fixed=-1), ValueError, "n_fixed .* got -1", "fc-nfixed-neg"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=2, n_fixed="1"), TypeError, "n_fixed .* got '1'", "fc-nfixed-str"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=2, n_fixed=3),
         ValueError, r"n_fixed must be in 0\.\.depth=2", "fc-nfixed-range"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=1.5),
         ValueError, r"depth must be a positive integer, got 1\.5", "fc-depth-frac"),
    case(lambda: kernels.fc_relu_ntk(X3, depth=NAN), ValueError, "depth .* got nan", "fc-depth-nan"),
    case(lambda: kernels.fc_relu_ntk(X3, W_std=NAN),
         ValueError, "W_std must be a positive finite number, got nan", "fc-wstd"),
    case(lambda: kernels.fc_relu_ntk(X3, b_std=-1.0), ValueError, "b_std must be a finite number >= 0", "fc-bstd"),
    case(lambda: kernels.fc_relu_ntk(X3, b_std=INF), ValueError, "b_std .* got inf", "fc-bstd-inf"),
    case(lambda: kernels.fc_relu_ntk(X3, return_nngp="yes"), TypeError, "return_nngp must be True or False", "fc-nngp"),
    case(lambda: kernels.fc_relu_ntk(X3, dtype="float16"),
         ValueError, "dtype must be float32 or float64, got float16", "fc-dtype"),
    case(lambda: kernels.fc_relu_ntk(np.ones((60000, 1))), MemoryError, "60000 x 60000 kernel would need", "fc-memory"),
    case(lambda: kernels.fc_relu_ntk_all(X3, max_depth=-1),
         ValueError, "max_depth must be a non-negative integer, got -1", "fcall-depth"),
    case(lambda: kernels.fc_relu_ntk_all(X3, max_depth=1.5), ValueError, r"max_depth .* got 1\.5", "fcall-depth-frac"),
    case(lambda: kernels.fc_relu_ntk_all(X3, W_std=-1.0), ValueError, "W_std must be a positive", "fcall-wstd"),
    case(lambda: kernels.empirical_ntk_two_layer(NET.W, NET.a, X3, dtype="nope"),
         TypeError, "dtype must be float32 or float64", "emp-dtype"),
    case(lambda: kernels.empirical_ntk_two_layer(NET.W, NET.a, X3, activation="tanh"),
         ValueError, "unknown activation 'tanh'", "emp-act"),
    case(lambda: kernels.empirical_ntk_two_layer(np.full((4, 2), np.nan), NET.a, X3), ValueError, "W contains NaN", "emp-W"),
    case(lambda: kernels.empirical_ntk_two_layer(NET.W, NET.a[:3], X3), ValueError, "a has length 3, expected 4", "emp-a"),
]

TABLES = {"validate": VALIDATE, "networks": NETWORKS, "noisy": NOISY, "cntk": CNTK, "mlp": MLP, "checks": CHECKS,
          "kernels": KERNELS}


def _run(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    # a value out of range is a ValueError and not a TypeError (wrong-kind errors are both, for compatibility)
    if exc is ValueError:
        assert not isinstance(info.value, TypeError), f"{type(info.value).__name__} for a value out of range"


@pytest.mark.parametrize("call,exc,match", VALIDATE)
def test_validate(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", NETWORKS)
def test_networks(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", NOISY)
def test_noisy(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", CNTK)
def test_cntk(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", MLP)
def test_mlp(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", CHECKS)
def test_checks(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", KERNELS)
def test_kernels(call, exc, match):
    _run(call, exc, match)


def test_the_tables_cover_every_public_function_of_the_modules():
    import inspect
    import re
    source = Path(__file__).read_text()
    for mod in (networks, noisy, cntk, mlp):
        public = [n for n, f in vars(mod).items() if inspect.isfunction(f) and f.__module__ == mod.__name__
                  and not n.startswith("_")]
        missing = [n for n in public if not re.search(rf"{mod.__name__.split('.')[-1]}\.{n}\(", source)]
        assert not missing, f"{mod.__name__}: no bad-input case for {missing}"
    assert sum(len(t) for t in TABLES.values()) >= 200


# --- divergence: an error by default, the flagged result on request -------------------------------------

def test_divergence_returns_the_flagged_result_on_request():
    tr = networks.gd_train(NET, X3, 1e3 * Y3, 1e6, 100, record_every=10, on_divergence="return")
    assert tr.diverged_step is not None and tr.diverged_step % 10 == 0
    nt = noisy.train(NET, X3, 1e3 * Y3, "rdi", 0.1, eta=1e6, steps=100, record_every=10, on_divergence="return")
    assert nt.diverged_step is not None
    # a stable run is not flagged
    assert networks.gd_train(NET, X3, Y3, 0.1, 20, record_every=10).diverged_step is None
    assert noisy.train(NET, X3, Y3, "aux", 0.1, eta=0.1, steps=20, record_every=10).diverged_step is None


def test_training_diverged_names_step_and_loss():
    with pytest.raises(TrainingDiverged) as info:
        networks.gd_train(NET, X3, 1e3 * Y3, 1e6, 100, record_every=10)
    err = info.value
    assert isinstance(err, FloatingPointError) and err.step % 10 == 0 and err.step > 0
    assert f"step {err.step}" in str(err) and "on_divergence='return'" in str(err)


# --- property-based: ranges of input that must all work -------------------------------------------------

@given(seed=st.integers(0, _validate.SEED_MAX), width=st.integers(1, 64), dim=st.integers(1, 8),
       activation=st.sampled_from(["relu", "erf"]), a_init=st.sampled_from(["rademacher", "uniform"]))
def test_any_positive_width_dim_seed_gives_a_finite_net(seed, width, dim, activation, a_init):
    net = networks.init_two_layer(seed, width, dim, activation, a_init)
    assert net.W.shape == (width, dim) and net.a.shape == (width,) and net.W.dtype == np.float64
    assert np.all(np.isfinite(net.W)) and np.all(np.abs(net.a) <= 1)
    out = net(unit_norm(np.random.default_rng(seed % 1000).standard_normal((3, dim))))
    assert out.shape == (3,) and np.all(np.isfinite(out))


_unit_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 5)),
                        elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False)).filter(
    lambda A: np.all(np.abs(A).max(axis=1) > 1e-3)).map(unit_norm)


@given(X=_unit_rows, a_init=st.sampled_from(["rademacher", "uniform"]))
def test_any_unit_norm_X_gives_a_symmetric_psd_relu_kernel_with_diagonal_half_E_a2(X, a_init):
    H = kernels.ntk_two_layer(X, a_init=a_init)
    assert np.array_equal(H, H.T)
    np.testing.assert_allclose(np.diag(H), networks.A_SECOND_MOMENT[a_init] / 2, atol=tol.CLOSED_FORM_ATOL)
    eig = np.linalg.eigvalsh(H)
    assert eig[0] >= -tol.PSD_RTOL * max(abs(eig[-1]), 1.0)


@given(st.integers(1, 10**12) | st.integers(1, 10**6).map(float))
def test_positive_int_accepts_every_positive_whole_number(v):
    assert _validate.positive_int(v, "n") == int(v)


@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not (v == int(v) and v >= 1)
                                                                 if np.isfinite(v) else True))
def test_positive_int_rejects_every_other_float_naming_the_argument(v):
    with pytest.raises(ValueError, match="width must be a positive integer"):
        _validate.positive_int(v, "width")


@given(p=st.floats(0, 1), C=st.integers(2, 12))
def test_transition_matrix_is_column_stochastic_for_any_p_and_C(p, C):
    P = noisy.symmetric_transition_matrix(p, C)
    np.testing.assert_allclose(P.sum(axis=0), 1.0, atol=1e-12)
    assert np.all(P >= 0)


@given(y=st.lists(st.integers(0, 4), min_size=1, max_size=20), extra=st.integers(0, 3))
def test_one_hot_targets_for_any_valid_labels(y, extra):
    C = max(max(y) + 1, 2) + extra
    T = cntk.one_hot_targets(y, C)
    np.testing.assert_allclose(T.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(T.argmax(axis=1), y)


# --- float64 means float64, whatever JAX's global x64 flag ----------------------------------------------

_X64_OFF_SCRIPT = textwrap.dedent("""
    import json, jax, numpy as np
    assert not jax.config.jax_enable_x64
    from ntklib import mlp, networks, noisy, unit_norm
    rng = np.random.default_rng(0)
    X = unit_norm(rng.standard_normal((12, 10)))
    y = np.sin(3 * X[:, 0])
    net = networks.init_two_layer(0, 512, 10)
    W, a, m, eta = net.W, net.a, 512, 0.5

    def u(W):                                   # float64 numpy reference of the slide model
        return np.maximum(X @ W.T, 0) @ a / np.sqrt(m)

    def grad(W, lam=0.0, W0=None):
        D = ((u(W) - y)[:, None] * (X @ W.T > 0)) * a / np.sqrt(m)
        return D.T @ X + (0.0 if W0 is None else lam * (W - W0))

    Wk = W.copy()
    for _ in range(4):
        Wk = Wk - eta * grad(Wk)
    Wr = W.copy()
    for _ in range(4):
        Wr = Wr - eta * grad(Wr, 0.3, W)
    params = mlp.init_mlp(0, 10, [16], 2, dtype=np.float64)
    err = {
        "call": float(np.abs(net(X) - u(W)).max()),
        "gd_step": float(np.abs(networks.gd_step(net, X, y, eta, 4).W - Wk).max()),
        "gd_train": float(np.abs(networks.gd_train(net, X, y, eta, 4, record_every=2).u[-1] - u(Wk)).max()),
        "noisy.train": float(np.abs(noisy.train(net, X, y, "rdi", 0.3, eta=eta, steps=4, record_every=2).u[-1]
                                    - u(Wr)).max()),
        "noisy.forward": float(np.abs(np.asarray(noisy.forward(W, a, X)) - u(W)).max()),
        "mlp.logits": float(np.abs(np.asarray(mlp.logits(params, X))
                                   - np.maximum(X @ np.asarray(params[0][0]), 0) @ np.asarray(params[1][0])).max()),
    }
    dtypes = [str(np.asarray(params[0][0]).dtype), str(np.asarray(mlp.logits(params, X)).dtype)]
    assert not jax.config.jax_enable_x64        # the local contexts did not leak
    print(json.dumps({"err": err, "dtypes": dtypes}))
""")


def test_float64_results_do_not_depend_on_the_global_x64_flag():
    env = dict(os.environ, JAX_ENABLE_X64="0", JAX_PLATFORMS="cpu")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _X64_OFF_SCRIPT], cwd=root, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["dtypes"] == ["float64", "float64"]
    # float32 arithmetic would be off by ~1e-7 relative; float64 agrees to round-off
    for name, e in res["err"].items():
        assert e < tol.CLOSED_FORM_ATOL, f"{name}: float64 result differs from the numpy reference by {e:.3g} with x64 off"


def test_jaxcompat_uses_jax_enable_x64_where_it_exists(monkeypatch):
    # JAX >= 0.8 has jax.enable_x64(bool) (a context manager) and no jax.experimental.enable_x64 from 0.9 on
    import importlib
    from contextlib import nullcontext

    import jax
    import jax.numpy as jnp

    from ntklib import _jaxcompat
    with _jaxcompat.disable_x64():
        assert jnp.asarray(np.ones(1)).dtype == jnp.float32
        with _jaxcompat.x64_for(np.float64):
            assert jnp.asarray(np.ones(1)).dtype == jnp.float64
        with _jaxcompat.x64_for(np.float32):
            assert jnp.asarray(np.ones(1)).dtype == jnp.float32
    calls = []
    monkeypatch.setattr(jax, "enable_x64", lambda v: calls.append(v) or nullcontext(), raising=False)
    try:
        importlib.reload(_jaxcompat)
        with _jaxcompat.enable_x64(), _jaxcompat.disable_x64(), _jaxcompat.x64_for(np.float64):
            pass
        assert calls == [True, False, True]
    finally:
        monkeypatch.undo()
        importlib.reload(_jaxcompat)
