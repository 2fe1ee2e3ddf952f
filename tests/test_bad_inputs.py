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

from ntklib import _validate
from ntklib import tolerances as tol, unit_norm
from ntklib._validate import NotPositiveDefiniteError, TrainingDiverged
from ntklib.theory import activations, bounds, dynamics, kernels, linalg, regression, spectrum
from ntklib.models import cntk, mlp, networks, noisy
from ntklib.book import checks

NAN, INF = float("nan"), float("inf")
X3 = unit_norm(np.random.default_rng(0).standard_normal((3, 2)))
Y3 = np.array([1.0, -1.0, 0.5])
NET = networks.init_two_layer(0, 4, 2)
NAN_NET = networks.TwoLayerNet(np.full((4, 2), np.nan), NET.a)
H3 = kernels.ntk_two_layer(X3)
K23 = kernels.ntk_two_layer(X3[:2], X3)
NOT_SYM = np.array([[1.0, 2.0], [0.0, 1.0]])
NOT_PSD = np.array([[1.0, 2.0], [2.0, 1.0]])
EIG3 = linalg.eigh_psd(H3)
IMGS = np.random.default_rng(1).integers(0, 256, (4, 4, 4, 1)).astype(np.uint8)
STACK = np.random.default_rng(2).standard_normal((4, 4, 4, 1))
PARAMS = mlp.init_classifier(0, 3, [4], 2)
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
    case(lambda: networks.gd_step("net", X3, Y3, 0.1), TypeError, "net must be a ntklib.models.networks.TwoLayerNet", "step-net"),
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
         TypeError, "net must be a ntklib.models.networks.TwoLayerNet", "train-net"),
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
    case(lambda: networks.forward(NET.W[0], NET.a, X3), ValueError, r"W must be 2-D, got shape \(2,\)", "fwd-W"),
    case(lambda: networks.forward(NET.W, NET.a[:3], X3), ValueError, r"a has shape \(3,\), expected \(4,\)", "fwd-a"),
    case(lambda: networks.forward(NET.W, NET.a, np.ones((3, 5))),
         ValueError, "X has 5 features but W has input dimension 2", "fwd-X"),
    case(lambda: networks.forward(NET.W, NET.a, X3, "tanh"), ValueError, "unknown activation 'tanh'", "fwd-act"),
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
         TypeError, "net must be a ntklib.models.networks.TwoLayerNet", "train-net"),
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
    case(lambda: regression.ridge_gd_coefficients(NOT_SYM, Y3[:2], 0.1, 0.1, [1]),
         ValueError, "H is not symmetric", "gdcoef-sym"),
    case(lambda: regression.ridge_gd_coefficients(np.ones((2, 3)), Y3, 0.1, 0.1, [1]),
         ValueError, "H must be square", "gdcoef-square"),
    case(lambda: regression.ridge_gd_coefficients(NOT_PSD, Y3[:2], 0.1, 0.1, [1]),
         NotPositiveDefiniteError, "H is not positive semidefinite", "gdcoef-psd"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3[:2], 0.1, 0.1, [1]),
         ValueError, "y has length 2, expected 3", "gdcoef-ylen"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [1], u0=np.ones(2)),
         ValueError, "u0 has length 2", "gdcoef-u0"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, -0.1, 0.1, [1]),
         ValueError, "lam must be a finite number >= 0", "gdcoef-lam"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, NAN, 0.1, [1]), ValueError, "lam .* got nan", "gdcoef-lam-nan"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.0, [1]), ValueError, "eta must be a positive", "gdcoef-eta"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [-1]),
         ValueError, "steps must be .* >= 0", "gdcoef-steps-neg"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [1.5]),
         ValueError, r"steps must be .*whole step counts.*1\.5", "gdcoef-steps-frac"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, [NAN]), ValueError, "steps must be", "gdcoef-steps-nan"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, "ten"),
         TypeError, "steps must be a list of step counts", "gdcoef-steps-str"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 0.1, []), ValueError, "steps must be", "gdcoef-steps-empty"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 10.0, [np.inf]),
         ValueError, "GD does not converge.*eta", "gdcoef-limit"),
    case(lambda: regression.ridge_gd_coefficients(H3, Y3, 0.1, 1e3, [10**6]),
         TrainingDiverged, "GD with eta = 1000.0 diverges", "gdcoef-overflow"),
    case(lambda: regression.ridge_gd_predictor(np.ones((2, 4)), H3, Y3, 0.1, 0.1, [1]),
         ValueError, "K_xX has 4 columns but H is 3 x 3", "gdpred-cols"),
    case(lambda: regression.ridge_gd_predictor([[NAN, 0, 0]], H3, Y3, 0.1, 0.1, [1]),
         ValueError, "K_xX contains NaN", "gdpred-nan"),
    case(lambda: regression.ridge_gd_predictor(K23, H3, Y3, 0.1, 0.1, [1], f0_x=np.ones(3)),
         ValueError, "f0_x has length 3, expected 2", "gdpred-f0"),
    case(lambda: linalg.eigh_psd([[NAN, 0.0], [0.0, 1.0]]), ValueError, "H contains NaN", "eig-nan"),
    case(lambda: linalg.eigh_psd(np.ones((2, 3))), ValueError, "H must be square", "eig-square"),
    case(lambda: regression.ridge_path(K23, H3, Y3, [-1.0]), ValueError, "lams must be finite and >= 0", "path-lams-neg"),
    case(lambda: regression.ridge_path(K23, H3, Y3, [NAN]), ValueError, "lams must be finite", "path-lams-nan"),
    case(lambda: regression.ridge_path(K23, H3, Y3, []), ValueError, "lams must be .*non-empty", "path-lams-empty"),
    case(lambda: regression.closest_ridge(K23, H3, Y3, np.ones(5), [1.0]), ValueError, "f_x has length 5, expected 2",
         "closest-f-len"),
    case(lambda: regression.closest_ridge(K23, H3, Y3, [NAN, 0.0], [1.0]), ValueError, "f_x contains NaN", "closest-f-nan"),
    case(lambda: regression.closest_ridge(K23, H3, np.ones((2, 3)), np.ones(2), [1.0]), ValueError,
         r"y must be one label vector \(n,\)", "closest-y-2d"),
    case(lambda: regression.closest_ridge(K23, H3, Y3, np.ones(2), [-1.0]), ValueError, "lams must be finite and >= 0",
         "closest-lams"),
    case(lambda: regression.ridge_path(K23, H3, Y3, "a"), TypeError, "lams must be a list of ridges", "path-lams-str"),
    case(lambda: regression.ridge_path(K23, H3, Y3[:2], [0.1]),
         ValueError, "y must be finite with last dimension n = 3", "path-ylen"),
    case(lambda: regression.ridge_path(K23, H3, np.ones((2, 2, 3)), [0.1]),
         ValueError, r"y must be finite, 1-D \(n,\) or 2-D", "path-y3d"),
    case(lambda: regression.ridge_path(K23, H3, [1.0, NAN, 0.0], [0.1]), ValueError, "y must be finite.*NaN", "path-ynan"),
    case(lambda: regression.ridge_path(np.ones((2, 4)), H3, Y3, [0.1]),
         ValueError, "K_xX has 4 columns but H is 3 x 3", "path-cols"),
    case(lambda: regression.ridge_path(K23, H3, Y3, [0.1], eig=EIG3[0]), TypeError, "eig must be the pair", "path-eig-type"),
    case(lambda: regression.ridge_path(K23, H3, Y3, [0.1], eig=(EIG3[0][:2], EIG3[1])),
         ValueError, "eig must be ntklib.theory.linalg.eigh_psd", "path-eig-shape"),
    case(lambda: regression.ridge_path(K23, np.diag([1.0, 0.0, 0.0]), Y3, [0.0]),
         NotPositiveDefiniteError, "singular for lam = 0", "path-singular"),
    case(lambda: regression.ridge_flow_predictor(K23, H3, Y3, -1.0, [1.0]),
         ValueError, "lam must be a finite number >= 0, got -1.0", "flow-lam"),
    case(lambda: regression.ridge_flow_predictor(K23, H3, Y3, 0.1, [-1.0]), ValueError, "times t must be >= 0", "flow-t-neg"),
    case(lambda: regression.ridge_flow_predictor(K23, H3, Y3, 0.1, [NAN]), ValueError, "times t must be >= 0", "flow-t-nan"),
    case(lambda: regression.ridge_flow_predictor(K23, H3, Y3, 0.1, "soon"),
         TypeError, "times t must be a list of numbers", "flow-t-str"),
    case(lambda: regression.ridge_flow_predictor(K23, np.diag([1.0, 0.0, 0.0]), Y3, 0.0, [np.inf]), NotPositiveDefiniteError,
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
         ValueError, r"momentum must be in \[0, 1\), got -0\.1", "cnn-mom-neg"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, seed=-1), ValueError, "seed .* got -1", "cnn-seed"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, record_every=-1),
         ValueError, "record_every must be a non-negative integer", "cnn-rec"),
    case(lambda: cntk.train_cnn(STACK, [0, 1, 0, 1], STACK, 2, on_divergence=0), ValueError, "on_divergence", "cnn-ondiv"),
]

MLP = [
    case(lambda: mlp.init_classifier(-1, 3, [4], 2), ValueError, "seed .* got -1", "init-seed"),
    case(lambda: mlp.init_classifier(0, 0, [4], 2), ValueError, "d_in must be a positive integer, got 0", "init-din"),
    case(lambda: mlp.init_classifier(0, 3, 4, 2), TypeError, "hidden must be a list of hidden-layer widths", "init-hidden-int"),
    case(lambda: mlp.init_classifier(0, 3, "4", 2), TypeError, "hidden must be a list", "init-hidden-str"),
    case(lambda: mlp.init_classifier(0, 3, [0], 2), ValueError, "hidden width must be a positive integer, got 0", "init-hidden0"),
    case(lambda: mlp.init_classifier(0, 3, [1.5], 2), ValueError, r"hidden width .* got 1\.5", "init-hidden-frac"),
    case(lambda: mlp.init_classifier(0, 3, [4], NAN), ValueError, "n_out .* got nan", "init-nout"),
    case(lambda: mlp.init_classifier(0, 3, [4], 2, dtype=np.int32),
         ValueError, "dtype must be float32 or float64, got int32", "init-dtype"),
    case(lambda: mlp.init_classifier(0, BIG, [BIG], 2), MemoryError, "init_classifier with layer sizes .* would need", "init-memory"),
    case(lambda: mlp.n_params("params"), TypeError, "params must be a non-empty tuple of .'W', 'b'. layers", "nparams-str"),
    case(lambda: mlp.n_params([]), TypeError, "params must be a non-empty tuple", "nparams-empty"),
    case(lambda: mlp.n_params([{"W": PARAMS[0]["W"]}]), TypeError, r"params\[0\] must be a \{'W', 'b'\} layer",
         "nparams-pair"),
    case(lambda: mlp.n_params([PARAMS[1], PARAMS[0]]),
         ValueError, r"params\[1\] has fan_in 3 but the previous layer has 2", "nparams-chain"),
    case(lambda: mlp.n_params([{"W": PARAMS[0]["W"], "b": PARAMS[1]["b"]}]),
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
    case(lambda: mlp.train_sgd([{"W": np.full((3, 2), np.nan), "b": np.zeros(2)}], XM, YM, lr=0.1, epochs=1, seed=0, batch=4),
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
    case(lambda: mlp.train_sgd(PARAMS, XM, YM, lr=0.1, epochs=1, seed=0, batch=4, momentum=NAN),
         ValueError, r"momentum must be in \[0, 1\), got nan", "sgd-mom-nan"),
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


def _uncovered(modules) -> dict[str, list[str]]:
    """The public functions of ``modules`` that no case of this file calls, by module."""
    import inspect
    import re
    source = Path(__file__).read_text()
    out = {}
    for mod in modules:
        public = [n for n, f in vars(mod).items() if inspect.isfunction(f) and f.__module__ == mod.__name__
                  and not n.startswith("_")]
        missing = [n for n in public if not re.search(rf"{mod.__name__.split('.')[-1]}\.{n}\(", source)]
        if missing:
            out[mod.__name__] = missing
    return out


def test_the_tables_cover_every_public_function_of_the_modules():
    assert not _uncovered((networks, noisy, cntk, mlp, dynamics, spectrum, regression, bounds))
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
    np.testing.assert_allclose(P.sum(axis=0), 1.0, atol=tol.ROUNDOFF_ATOL)
    assert np.all(P >= 0)


@given(y=st.lists(st.integers(0, 4), min_size=1, max_size=20), extra=st.integers(0, 3))
def test_one_hot_targets_for_any_valid_labels(y, extra):
    C = max(max(y) + 1, 2) + extra
    T = cntk.one_hot_targets(y, C)
    np.testing.assert_allclose(T.sum(axis=1), 0.0, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_array_equal(T.argmax(axis=1), y)


# --- float64 means float64, whatever JAX's global x64 flag ----------------------------------------------

_X64_OFF_SCRIPT = textwrap.dedent("""
    import json, jax, numpy as np
    assert not jax.config.jax_enable_x64
    from ntklib import unit_norm
    from ntklib.models import mlp, networks, noisy
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
    params = mlp.init_classifier(0, 10, [16], 2, dtype=np.float64)
    err = {
        "call": float(np.abs(net(X) - u(W)).max()),
        "gd_step": float(np.abs(networks.gd_step(net, X, y, eta, 4).W - Wk).max()),
        "gd_train": float(np.abs(networks.gd_train(net, X, y, eta, 4, record_every=2).u[-1] - u(Wk)).max()),
        "noisy.train": float(np.abs(noisy.train(net, X, y, "rdi", 0.3, eta=eta, steps=4, record_every=2).u[-1]
                                    - u(Wr)).max()),
        "networks.forward": float(np.abs(np.asarray(networks.forward(W, a, X)) - u(W)).max()),
        "mlp.logits": float(np.abs(np.asarray(mlp.logits(params, X))
                                   - np.maximum(X @ np.asarray(params[0]["W"]), 0) @ np.asarray(params[1]["W"])).max()),
    }
    dtypes = [str(np.asarray(params[0]["W"]).dtype), str(np.asarray(mlp.logits(params, X)).dtype)]
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


# --- the theory modules: dynamics (Lemma 1), spectrum (Theorem 4), regression (Eq. (1)), bounds (Lemmas 2-3, Thms 5-6)

SPEC3 = spectrum.eigendecomposition(H3)
CHOL3 = bounds.cholesky(H3)
H2 = np.array([[2.0, 0.5], [0.5, 1.0]])
Y2 = np.ones(2)
NEG_TIME = np.array([0.0, 1.0, -1.0])
HUGE_T = np.broadcast_to(1.0, (10**11,))    # 10^11 times: a (10^11, n) result cannot fit (the view itself is free)
HUGE_STEPS = np.broadcast_to(1, (10**11,))

DYNAMICS = [
    case(lambda: dynamics.spectral_solution(H2, Y2, [NAN]), ValueError, r"times t must be >= 0 and finite, got t\[0\] = nan",
         "spec-t-nan"),
    case(lambda: dynamics.spectral_solution(H2, Y2, INF), ValueError, r"times t .* got t\[0\] = inf", "spec-t-inf"),
    case(lambda: dynamics.spectral_solution(H2, Y2, NEG_TIME), ValueError, r"times t must be >= 0 .* t\[2\] = -1\.0",
         "spec-t-neg"),
    case(lambda: dynamics.spectral_solution(H2, Y2, "1.0"), TypeError, "t must be a real numeric array", "spec-t-str"),
    case(lambda: dynamics.spectral_solution(H2, Y2, None), TypeError, "t must be a number or a 1-D array of times, got None", "spec-t-none"),
    case(lambda: dynamics.spectral_solution(H2, Y2, [True]), TypeError, "t must be a real numeric array, got dtype bool",
         "spec-t-bool"),
    case(lambda: dynamics.spectral_solution(H2, Y2, []), ValueError, "t is empty", "spec-t-empty"),
    case(lambda: dynamics.spectral_solution(H2, Y2, np.ones((2, 2))), ValueError, r"t must be a number or a 1-D .*\(2, 2\)",
         "spec-t-2d"),
    case(lambda: dynamics.spectral_solution(H2, Y2, HUGE_T), MemoryError, "100000000000 times x 2 points would need",
         "spec-t-memory"),
    case(lambda: dynamics.spectral_solution(NOT_SYM, Y2, 1.0), ValueError, "H is not symmetric", "spec-H-sym"),
    case(lambda: dynamics.spectral_solution(NOT_PSD, Y2, 1.0), NotPositiveDefiniteError, "H is not positive semidefinite",
         "spec-H-psd"),
    case(lambda: dynamics.spectral_solution([[1.0, NAN], [NAN, 1.0]], Y2, 1.0), ValueError, "H contains NaN", "spec-H-nan"),
    case(lambda: dynamics.spectral_solution(np.ones(3), Y2, 1.0), ValueError, "H must be 2-D", "spec-H-1d"),
    case(lambda: dynamics.spectral_solution(H2, [1.0, NAN], 1.0), ValueError, "y contains NaN", "spec-y-nan"),
    case(lambda: dynamics.spectral_solution(H2, np.ones(3), 1.0), ValueError, "y has length 3, expected 2", "spec-y-len"),
    case(lambda: dynamics.spectral_solution(H2, Y2, 1.0, u0=[INF, 0.0]), ValueError, "u0 contains NaN", "spec-u0-inf"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, [1.5]),
         ValueError, r"steps must be non-negative integers .* got steps\[0\] = 1\.5", "gd-steps-frac"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, [-1]), ValueError, r"steps .* got steps\[0\] = -1", "gd-steps-neg"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, [0, NAN]), ValueError, r"steps .* got steps\[1\] = nan", "gd-steps-nan"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, [INF]), ValueError, r"steps .* got steps\[0\] = inf", "gd-steps-inf"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, 1e300), ValueError, r"steps .* at most 2\^53", "gd-steps-huge"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, ["1"]), TypeError, "steps must be a real numeric array", "gd-steps-str"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, []), ValueError, "steps is empty", "gd-steps-empty"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, HUGE_STEPS), MemoryError, "steps x 2 points would need",
         "gd-steps-memory"),
    case(lambda: dynamics.gd_solution(H2, Y2, 100.0, [10**4]), TrainingDiverged,
         r"eta = 100 exceeds the stability limit 2/lambda_max = 0\.906", "gd-diverges"),
    case(lambda: dynamics.gd_solution(H2, Y2, 1.0, range(200)), TrainingDiverged, "eta = 1 exceeds the stability limit",
         "gd-diverges-finite"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.0, [1]), ValueError, "eta must be a positive finite number, got 0.0",
         "gd-eta0"),
    case(lambda: dynamics.gd_solution(H2, Y2, NAN, [1]), ValueError, "eta .* got nan", "gd-eta-nan"),
    case(lambda: dynamics.gd_solution(H2, Y2, "0.1", [1]), TypeError, "eta must be a real number", "gd-eta-str"),
    case(lambda: dynamics.gd_solution(H2, Y2, 0.1, [1], on_divergence="warn"), ValueError, "on_divergence must be one of",
         "gd-ondiv"),
    case(lambda: dynamics.gd_solution(NOT_PSD, Y2, 0.1, [1]), NotPositiveDefiniteError, "not positive semidefinite",
         "gd-H-psd"),
    case(lambda: dynamics.gd_solution(H2, Y2[:1], 0.1, [1]), ValueError, "y has length 1, expected 2", "gd-y-len"),
    case(lambda: dynamics.integrate(H2, Y2, [0.0, NAN]), ValueError, "times t must be finite, non-negative and increasing",
         "int-t-nan"),
    case(lambda: dynamics.integrate(H2, Y2, [0.0, INF]), ValueError, "times t must be finite", "int-t-inf"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0, 0.5]), ValueError, "non-negative and increasing", "int-t-order"),
    case(lambda: dynamics.integrate(H2, Y2, [-1.0]), ValueError, "times t must be finite, non-negative", "int-t-neg"),
    case(lambda: dynamics.integrate(H2, Y2, []), ValueError, "t is empty", "int-t-empty"),
    case(lambda: dynamics.integrate(H2, Y2, "1"), TypeError, "t must be a real numeric array", "int-t-str"),
    case(lambda: dynamics.integrate(H2, Y2, [1e9]), ValueError, r"lambda_max\(H\(0\)\) \* t_max = 2\.21e\+09 exceeds",
         "int-t-stiff"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol=0.0), ValueError, "rtol must be a positive finite number, got 0.0",
         "int-rtol0"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol=-1e-8), ValueError, "rtol .* got -1e-08", "int-rtol-neg"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol=NAN), ValueError, "rtol .* got nan", "int-rtol-nan"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol=INF), ValueError, "rtol .* got inf", "int-rtol-inf"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol=2.0), ValueError, r"rtol must be a relative tolerance in \(0, 1\)",
         "int-rtol-big"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], rtol="1e-8"), TypeError, "rtol must be a real number", "int-rtol-str"),
    case(lambda: dynamics.integrate(lambda s: np.ones((2, 3)), Y2, [1.0]), ValueError, r"H\(0\) must be square",
         "int-Hfun-shape"),
    case(lambda: dynamics.integrate(lambda s: NOT_SYM, Y2, [1.0]), ValueError, r"H\(0\) is not symmetric", "int-Hfun-sym"),
    case(lambda: dynamics.integrate(lambda s: np.full((2, 2), NAN), Y2, [1.0]), ValueError, r"H\(0\) contains NaN",
         "int-Hfun-nan"),
    case(lambda: dynamics.integrate(lambda s: H2 if s == 0 else np.eye(3), Y2, [1.0]), ValueError,
         r"H\(t\) must be 2 x 2 at every t", "int-Hfun-later"),
    case(lambda: dynamics.integrate(H2, [1.0, NAN], [1.0]), ValueError, "y contains NaN", "int-y-nan"),
    case(lambda: dynamics.integrate(H2, Y2, [1.0], u0=np.ones(3)), ValueError, "u0 has length 3, expected 2", "int-u0-len"),
    case(lambda: networks.ode_residual("net", X3, Y3, 0.1), TypeError, "net must be a ntklib.models.networks.TwoLayerNet",
         "ode-net"),
    case(lambda: networks.ode_residual(NET, X3, Y3, 0.0), ValueError, "eta must be a positive finite number, got 0.0",
         "ode-eta0"),
    case(lambda: networks.ode_residual(NET, X3, Y3, NAN), ValueError, "eta .* got nan", "ode-eta-nan"),
    case(lambda: networks.ode_residual(NET, X3, Y3[:2], 0.1), ValueError, "y has length 2, expected 3", "ode-y-len"),
    case(lambda: networks.ode_residual(NET, X3, [1.0, NAN, 0.0], 0.1), ValueError, "y contains NaN", "ode-y-nan"),
    case(lambda: networks.ode_residual(NET, np.ones((3, 5)), Y3, 0.1), ValueError, "X has 5 features but the net expects 2",
         "ode-X-features"),
    case(lambda: networks.ode_residual(NAN_NET, X3, Y3, 0.1), ValueError, r"net\.W contains NaN", "ode-nan-net"),
    case(lambda: networks.ode_residual(NET, X3, NET(X3), 0.1), ValueError, r"ode_residual is undefined: H\(t_k\) \(u_k - y\) = 0",
         "ode-fits"),
]

SPECTRUM = [
    case(lambda: spectrum.eigendecomposition(H3, dtype=np.int32), ValueError, "dtype must be float32 or float64, got int32",
         "eig-dtype-int"),
    case(lambda: spectrum.eigendecomposition(H3, dtype="nope"), TypeError, "dtype must be float32 or float64", "eig-dtype-str"),
    case(lambda: spectrum.eigendecomposition(NOT_SYM), ValueError, "H is not symmetric", "eig-sym"),
    case(lambda: spectrum.eigendecomposition(NOT_PSD), NotPositiveDefiniteError, "H is not positive semidefinite", "eig-psd"),
    case(lambda: spectrum.eigendecomposition(NOT_PSD, dtype=np.float32), NotPositiveDefiniteError,
         "H is not positive semidefinite", "eig-psd32"),
    case(lambda: spectrum.eigendecomposition(np.ones((2, 3))), ValueError, "H must be square", "eig-square"),
    case(lambda: spectrum.eigendecomposition([[NAN]]), ValueError, "H contains NaN", "eig-nan"),
    case(lambda: spectrum.eigendecomposition(spectrum.Spectrum(np.array([1.0, -1.0]), np.eye(2))), ValueError,
         "Spectrum.lam must hold finite eigenvalues >= 0", "eig-spec-neg"),
    case(lambda: spectrum.eigendecomposition(spectrum.Spectrum(np.array([1.0, NAN]), np.eye(2))), ValueError,
         "Spectrum.lam must hold finite eigenvalues", "eig-spec-nan"),
    case(lambda: spectrum.projections(spectrum.Spectrum(np.ones(2), np.eye(3)), Y2), ValueError,
         "Spectrum.V must be 2 x 2", "proj-spec-shape"),
    case(lambda: spectrum.projections(H3, np.ones((3, 1))), ValueError, "y must be 1-D", "proj-y-2d"),
    case(lambda: spectrum.projections(H3, Y3, u0=[0.0, NAN, 0.0]), ValueError, "u0 contains NaN", "proj-u0-nan"),
    case(lambda: spectrum.projections(SPEC3, Y3[:2]), ValueError, "y has length 2, expected 3", "proj-y-len"),
    case(lambda: spectrum.predicted_loss_flow(H3, Y3, [NAN]), ValueError, r"times t must be >= 0 and finite, got t\[0\] = nan",
         "flow-t-nan"),
    case(lambda: spectrum.predicted_loss_flow(SPEC3, Y3, [0.0, INF]), ValueError, r"t\[1\] = inf", "flow-t-inf"),
    case(lambda: spectrum.predicted_loss_flow(H3, Y3, -1.0), ValueError, "times t must be >= 0", "flow-t-neg"),
    case(lambda: spectrum.predicted_loss_flow(H3, Y3, "0"), TypeError, "t must be a real numeric array", "flow-t-str"),
    case(lambda: spectrum.predicted_loss_flow(H3, Y3, HUGE_T), MemoryError, "times x 3 points would need", "flow-memory"),
    case(lambda: spectrum.predicted_loss_flow(NOT_PSD, Y2, 1.0), NotPositiveDefiniteError, "not positive semidefinite",
         "flow-psd"),
    case(lambda: spectrum.predicted_loss_flow(H3, [1.0, NAN, 0.0], 1.0), ValueError, "y contains NaN", "flow-y-nan"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, 0.1, [1.5]), ValueError, r"steps .* got steps\[0\] = 1\.5",
         "lossgd-steps-frac"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, 0.1, [2, -3]), ValueError, r"steps\[1\] = -3", "lossgd-steps-neg"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, 0.1, [NAN]), ValueError, r"steps\[0\] = nan", "lossgd-steps-nan"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, 0.1, HUGE_STEPS), MemoryError, "would need", "lossgd-memory"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, -0.1, [1]), ValueError, "eta must be a positive", "lossgd-eta-neg"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, INF, [1]), ValueError, "eta .* got inf", "lossgd-eta-inf"),
    case(lambda: spectrum.predicted_loss_gd(H2, Y2, 100.0, [10**4]), TrainingDiverged,
         r"eta = 100 exceeds the stability limit 2/lambda_max", "lossgd-diverges"),
    case(lambda: spectrum.predicted_loss_gd(H3, Y3, 0.1, [1], on_divergence=None), ValueError, "on_divergence must be one of",
         "lossgd-ondiv"),
    case(lambda: spectrum.rkhs_norm_sq(np.ones((2, 2)), Y2), NotPositiveDefiniteError, "H is singular", "rkhs-singular"),
    case(lambda: spectrum.rkhs_norm_sq(H3, Y3[:2]), ValueError, "y has length 2, expected 3", "rkhs-y-len"),
    case(lambda: spectrum.rkhs_norm_sq(H3, ["a", "b", "c"]), TypeError, "y must be a real numeric array", "rkhs-y-str"),
]

REGRESSION = [
    case(lambda: regression.gradient_flow_predictor(H3, H3, Y3, -1.0), ValueError, r"times t must be >= 0 .* t\[0\] = -1\.0",
         "gf-t-neg"),
    case(lambda: regression.gradient_flow_predictor(H3, H3, Y3, NAN), ValueError, r"times t .* t\[0\] = nan", "gf-t-nan"),
    case(lambda: regression.gradient_flow_predictor(H3, SPEC3, Y3, [1.0, INF]), ValueError, r"t\[1\] = inf", "gf-t-inf"),
    case(lambda: regression.gradient_flow_predictor(H3, H3, Y3, "1"), TypeError, "t must be a real numeric array", "gf-t-str"),
    case(lambda: regression.gradient_flow_predictor(H3, H3, Y3, HUGE_T), MemoryError, "times x 3 points would need",
         "gf-t-memory"),
    case(lambda: regression.gradient_flow_predictor(H3, NOT_PSD, Y2, 1.0), ValueError, "K_xX has 3 columns but the training "
         "kernel is 2 x 2", "gf-cross"),
    case(lambda: regression.gradient_flow_predictor(K23[:, :2], NOT_PSD, Y2, 1.0), NotPositiveDefiniteError,
         "not positive semidefinite", "gf-psd"),
    case(lambda: regression.gradient_flow_predictor(K23, H3, Y3, 1.0, f0_x=[NAN, 0.0]), ValueError, "f0_x contains NaN",
         "gf-f0-nan"),
    case(lambda: regression.gradient_flow_predictor(K23, H3, Y3, 1.0, u0=[0.0, 0.0]), ValueError, "u0 has length 2",
         "gf-u0-len"),
    case(lambda: regression.gradient_flow_predictor([[NAN, 0.0, 0.0]], H3, Y3, 1.0), ValueError, "K_xX contains NaN",
         "gf-K-nan"),
    case(lambda: regression.gradient_flow_predictor(K23, spectrum.Spectrum(np.ones(3), np.eye(2)), Y3, 1.0), ValueError,
         "Spectrum.V must be 3 x 3", "gf-spec"),
    case(lambda: regression.gradient_flow_predictor(K23, H3, Y3 * NAN, 1.0), ValueError, "y contains NaN", "gf-y-nan"),
    case(lambda: regression.kernel_regression(K23, H3, Y3, ridge=-1.0), ValueError, "ridge must be >= 0 and finite, got -1.0",
         "kr-ridge-neg"),
    case(lambda: regression.kernel_regression(K23, H3, Y3, ridge=NAN), ValueError, "ridge .* got nan", "kr-ridge-nan"),
    case(lambda: regression.kernel_regression(K23, H3, Y3, ridge=INF), ValueError, "ridge .* got inf", "kr-ridge-inf"),
    case(lambda: regression.kernel_regression(K23, H3, Y3, ridge="0.1"), TypeError, "ridge must be a real number",
         "kr-ridge-str"),
    case(lambda: regression.kernel_regression(K23, CHOL3, Y3, ridge=0.1), ValueError, "pass ridge=0 with a Cholesky factor",
         "kr-chol-ridge"),
    case(lambda: regression.kernel_regression(K23, bounds.Cholesky(np.zeros((3, 3))), Y3), ValueError,
         r"Cholesky\.L must have a finite positive diagonal", "kr-chol-bad"),
    case(lambda: regression.kernel_regression(K23, H3, np.ones((2, 2))), ValueError, r"y has shape \(2, 2\), expected \(3,\)",
         "kr-y-rows"),
    case(lambda: regression.kernel_regression(K23, H3, np.full((3, 2), NAN)), ValueError, "y contains NaN", "kr-y2d-nan"),
    case(lambda: regression.kernel_regression(K23, H3, ["a", "b", "c"]), TypeError, "y must be a real numeric array",
         "kr-y-str"),
    case(lambda: regression.kernel_regression(np.ones((2, 4)), H3, Y3), ValueError, "K_xX has 4 columns", "kr-cross"),
    case(lambda: regression.kernel_regression(K23, NOT_PSD, Y2), ValueError, "K_xX has 3 columns", "kr-cross-first"),
    case(lambda: regression.kernel_regression(K23, np.ones((3, 3)), Y3), NotPositiveDefiniteError, "smallest eigenvalue",
         "kr-singular"),
]

BOUNDS = [
    case(lambda: bounds.hoeffding_entry_deviation(-1, 3, 0.1), ValueError,
         "m must be a positive integer width .* got m = -1.0", "hoef-m-neg"),
    case(lambda: bounds.hoeffding_entry_deviation([10, 0], 3, 0.1), ValueError, r"m\[1\] = 0\.0", "hoef-m-zero"),
    case(lambda: bounds.hoeffding_entry_deviation(10.5, 3, 0.1), ValueError, r"m must be a positive integer .* 10\.5",
         "hoef-m-frac"),
    case(lambda: bounds.hoeffding_entry_deviation(NAN, 3, 0.1), ValueError, "m = nan", "hoef-m-nan"),
    case(lambda: bounds.hoeffding_entry_deviation("10", 3, 0.1), TypeError, "m must be a real numeric array", "hoef-m-str"),
    case(lambda: bounds.hoeffding_entry_deviation([], 3, 0.1), ValueError, "m is empty", "hoef-m-empty"),
    case(lambda: bounds.hoeffding_entry_deviation(10, 0, 0.1), ValueError, "n must be a positive integer", "hoef-n0"),
    case(lambda: bounds.hoeffding_entry_deviation(10, 3, 1.0), ValueError, r"delta must be a probability in \(0, 1\)",
         "hoef-delta"),
    case(lambda: bounds.hoeffding_spectral_deviation(INF, 3, 0.1), ValueError, "m = inf", "hoefs-m-inf"),
    case(lambda: bounds.hoeffding_spectral_deviation(10, 2.5, 0.1), ValueError, r"n must be a positive integer, got 2\.5",
         "hoefs-n-frac"),
    case(lambda: bounds.hoeffding_spectral_deviation(10, 3, NAN), ValueError, "delta must be a probability", "hoefs-delta"),
    case(lambda: bounds.lemma2_width(0.0, 0.1, 3), ValueError, "eps must be a positive finite number, got 0.0", "l2-eps0"),
    case(lambda: bounds.lemma2_width(0.1, 1.5, 3), ValueError, "delta must be a probability", "l2-delta"),
    case(lambda: bounds.lemma2_width(0.1, 0.1, "3"), TypeError, "n must be a positive integer", "l2-n-str"),
    case(lambda: bounds.lemma3_movement([0, 1], [1.0], 10), ValueError, "t and residual_l1 must be 1-D of equal", "l3m-len"),
    case(lambda: bounds.lemma3_movement([0, NAN], [1.0, 1.0], 10), ValueError, "times t must be finite", "l3m-t-nan"),
    case(lambda: bounds.lemma3_movement([1, 0], [1.0, 1.0], 10), ValueError, "times t must be finite, >= 0 and increasing",
         "l3m-t-order"),
    case(lambda: bounds.lemma3_movement([-1, 0], [1.0, 1.0], 10), ValueError, "times t must be finite, >= 0", "l3m-t-neg"),
    case(lambda: bounds.lemma3_movement([0, 1], [1.0, -1.0], 10), ValueError, r"residual_l1 must be .* residual_l1\[1\] = -1",
         "l3m-r-neg"),
    case(lambda: bounds.lemma3_movement([0, 1], [1.0, INF], 10), ValueError, r"residual_l1\[1\] = inf", "l3m-r-inf"),
    case(lambda: bounds.lemma3_movement([0, 1], [1.0, 1.0], 0), ValueError, "m must be a positive integer, got 0", "l3m-m0"),
    case(lambda: bounds.lemma3_movement([], [], 10), ValueError, "non-zero length", "l3m-empty"),
    case(lambda: bounds.lemma3_movement(["a"], ["b"], 10), TypeError, "t must be a real numeric array", "l3m-str"),
    case(lambda: bounds.lemma3_movement_bound(1.0, 5, -4), ValueError, "m must be a positive integer width .* m = -4.0",
         "l3mb-m-neg"),
    case(lambda: bounds.lemma3_movement_bound(1.0, 5, [100, 2.5]), ValueError, r"m\[1\] = 2\.5", "l3mb-m-frac"),
    case(lambda: bounds.lemma3_movement_bound(-1.0, 5, 100), ValueError, "t must be a finite number >= 0, got -1.0",
         "l3mb-t-neg"),
    case(lambda: bounds.lemma3_movement_bound(NAN, 5, 100), ValueError, "t .* got nan", "l3mb-t-nan"),
    case(lambda: bounds.lemma3_movement_bound(1.0, 5, 100, c=-1.0), ValueError, "c must be a positive finite number",
         "l3mb-c"),
    case(lambda: bounds.lemma3_movement_bound(1.0, 0, 100), ValueError, "n must be a positive integer", "l3mb-n0"),
    case(lambda: bounds.lemma3_kernel_change_bound(-1, 5), ValueError, "max_move must be a finite weight movement >= 0",
         "l3k-neg"),
    case(lambda: bounds.lemma3_kernel_change_bound([0.1, NAN], 5), ValueError, r"max_move\[1\] = nan", "l3k-nan"),
    case(lambda: bounds.lemma3_kernel_change_bound("0.1", 5), TypeError, "max_move must be a real numeric", "l3k-str"),
    case(lambda: bounds.lemma3_kernel_change_bound(0.1, -5), ValueError, "n must be a positive integer, got -5", "l3k-n"),
    case(lambda: bounds.lemma3_width(0.1, -1.0, 5), ValueError, "t must be a finite number >= 0, got -1.0", "l3w-t-neg"),
    case(lambda: bounds.lemma3_width(0.1, INF, 5), ValueError, "t must be a finite number >= 0, got inf", "l3w-t-inf"),
    case(lambda: bounds.lemma3_width(0.1, NAN, 5), ValueError, "t .* got nan", "l3w-t-nan"),
    case(lambda: bounds.lemma3_width(1e-300, 1e300, 10**6), ValueError, "lemma3_width: the width .* exceeds the float range",
         "l3w-overflow"),
    case(lambda: bounds.lemma3_width(0.0, 1.0, 5), ValueError, "eps must be a positive", "l3w-eps"),
    case(lambda: bounds.lemma3_width(0.1, 1.0, 5, c=0.0), ValueError, "c must be a positive finite number", "l3w-c"),
    case(lambda: bounds.lemma3_width(0.1, 1.0, 5, slide_exponent="yes"), TypeError, "slide_exponent must be True or False",
         "l3w-flag"),
    case(lambda: bounds.cholesky(NOT_PSD), NotPositiveDefiniteError, "H is not .numerically. positive definite", "chol-psd"),
    case(lambda: bounds.cholesky(NOT_SYM), ValueError, "H is not symmetric", "chol-sym"),
    case(lambda: bounds.cholesky(bounds.Cholesky(np.ones(3))), ValueError, r"Cholesky\.L must be a non-empty square",
         "chol-1d"),
    case(lambda: bounds.cholesky(bounds.Cholesky(np.diag([1.0, NAN]))), ValueError, r"L\[1, 1\] = nan", "chol-nan"),
    case(lambda: CHOL3.leading(0), ValueError, "n must be a positive integer, got 0", "chol-leading0"),
    case(lambda: CHOL3.leading(4), ValueError, "n = 4 exceeds the factor's size 3", "chol-leading-big"),
    case(lambda: bounds.rkhs_norm_sq(H3, Y3[:2]), ValueError, "y has length 2, expected 3", "brkhs-y-len"),
    case(lambda: bounds.rkhs_norm_sq(H3, np.ones((2, 2))), ValueError, r"y has shape \(2, 2\)", "brkhs-y-rows"),
    case(lambda: bounds.rkhs_norm_sq(CHOL3, [1.0, NAN, 0.0]), ValueError, "y contains NaN", "brkhs-y-nan"),
    case(lambda: bounds.rkhs_norm_sq(np.zeros((2, 2)), Y2), NotPositiveDefiniteError, "positive definite", "brkhs-singular"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, [0, 2]), ValueError, r"ns must be sample sizes in 1\.\.3, got ns\[0\] = 0",
         "pre-ns0"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, [4]), ValueError, r"ns\[0\] = 4", "pre-ns-big"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, [1.5]), ValueError, r"ns\[0\] = 1\.5", "pre-ns-frac"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, [NAN]), ValueError, r"ns\[0\] = nan", "pre-ns-nan"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, ["2"]), TypeError, "ns must be a real numeric array", "pre-ns-str"),
    case(lambda: bounds.rkhs_norm_sq_prefixes(H3, Y3, []), ValueError, "ns must be a non-empty 1-D", "pre-ns-empty"),
    case(lambda: bounds.generalization_bound(H3, np.ones(4)), ValueError, "y has length 4, expected 3", "gen-y-len"),
    case(lambda: bounds.generalization_bound(NOT_PSD, Y2), NotPositiveDefiniteError, "positive definite", "gen-psd"),
    case(lambda: bounds.generalization_bound_prefixes(CHOL3, Y3, [[1, 2]]), ValueError, "ns must be a non-empty 1-D",
         "genpre-ns-2d"),
    case(lambda: bounds.generalization_bound_prefixes(CHOL3, Y3, [-1]), ValueError, r"ns\[0\] = -1", "genpre-ns-neg"),
    case(lambda: bounds.power_law_exponent([1, 2], [1.0]), ValueError, "need two 1-D arrays of equal length", "pow-len"),
    case(lambda: bounds.power_law_exponent([1, 2], [1.0, 0.0]), ValueError, r"values must be positive finite .* values\[1\] = 0",
         "pow-values0"),
    case(lambda: bounds.power_law_exponent([1, NAN], [1.0, 1.0]), ValueError, r"ns\[1\] = nan", "pow-ns-nan"),
    case(lambda: bounds.power_law_exponent([2, 2], [1.0, 0.5]), ValueError, "at least two different sample sizes",
         "pow-ns-same"),
    case(lambda: bounds.power_law_exponent(["a", "b"], [1.0, 1.0]), TypeError, "ns must be a real numeric", "pow-str"),
    case(lambda: bounds.power_law_constant([1, 2], [1.0], -0.5), ValueError, "need two 1-D arrays of equal length",
         "plc-len"),
    case(lambda: bounds.power_law_constant([1, 2], [1.0, -1.0], -0.5), ValueError, r"values must be positive .* values\[1\] = -1",
         "plc-values"),
    case(lambda: bounds.power_law_constant([1, 2], [1.0, 1.0], NAN), ValueError, "alpha must be a finite number", "plc-alpha"),
    case(lambda: bounds.theorem6_optimal_alpha(np.ones((1, 1)), np.ones(1)), ValueError, "needs n >= 2", "t6alpha-n"),
    case(lambda: bounds.theorem6_optimal_alpha(H3, Y3[:2]), ValueError, "y has length 2, expected 3", "t6alpha-y-len"),
    case(lambda: bounds.rademacher_bound(H3, Y3, delta=0.0), ValueError, r"delta must be a probability in \(0, 1\)",
         "rad-delta"),
    case(lambda: bounds.rademacher_bound(H3, Y3[:2]), ValueError, "y has length 2, expected 3", "rad-y-len"),
    case(lambda: bounds.rademacher_bound(bounds.Cholesky(-np.eye(2)), Y2), ValueError, r"L\[0, 0\] = -1\.0", "rad-chol"),
    case(lambda: bounds.theorem6_bound(H3, Y3, NAN, 0.1), ValueError, "lam must be positive and finite .* lam = nan",
         "t6-lam-nan"),
    case(lambda: bounds.theorem6_bound(H3, Y3, [1.0, INF], 0.1), ValueError, r"lam\[1\] = inf", "t6-lam-inf"),
    case(lambda: bounds.theorem6_bound(H3, Y3, -1.0, 0.1), ValueError, "lam must be positive", "t6-lam-neg"),
    case(lambda: bounds.theorem6_bound(H3, Y3, "1", 0.1), TypeError, "lam must be a real numeric", "t6-lam-str"),
    case(lambda: bounds.theorem6_bound(H3, Y3, 1.0, 0.5), ValueError, "p < 1/2", "t6-p-half"),
    case(lambda: bounds.theorem6_bound(H3, Y3, 1.0, NAN), ValueError, "p must be a probability", "t6-p-nan"),
    case(lambda: bounds.theorem6_bound(H3, Y3, 1.0, 0.1, c=NAN), ValueError, "c must be a positive finite number", "t6-c"),
    case(lambda: bounds.theorem6_bound(H3, Y3[:2], 1.0, 0.1), ValueError, "y has length 2, expected 3", "t6-y-len"),
]

TABLES.update({"dynamics": DYNAMICS, "spectrum": SPECTRUM, "regression": REGRESSION, "bounds": BOUNDS})


@pytest.mark.parametrize("call,exc,match", DYNAMICS)
def test_dynamics(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", SPECTRUM)
def test_spectrum(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", REGRESSION)
def test_regression(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", BOUNDS)
def test_bounds(call, exc, match):
    _run(call, exc, match)


# --- the theory modules: ranges of input that must all work ---------------------------------------------

_small = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@st.composite
def _psd_problem(draw, pd=False):
    """A PSD kernel A A^T (rank possibly < n; PD with a ridge if ``pd``), labels y and a start u0."""
    n = draw(st.integers(1, 5))
    A = draw(hnp.arrays(np.float64, (n, draw(st.integers(1, 5))), elements=_small))
    H = A @ A.T + (draw(st.floats(1e-3, 1.0)) * np.eye(n) if pd else 0.0)
    y = draw(hnp.arrays(np.float64, n, elements=_small))
    u0 = draw(hnp.arrays(np.float64, n, elements=_small))
    return H, y, u0


@given(problem=_psd_problem(), t=st.lists(st.floats(0, 50), min_size=1, max_size=5))
def test_spectral_solution_starts_at_u0_and_stays_finite(problem, t):
    H, y, u0 = problem
    u = dynamics.spectral_solution(H, y, [0.0] + t, u0)
    np.testing.assert_allclose(u[0], u0, atol=tol.LINALG_ATOL * max(1.0, np.abs(H).max()) * (1 + np.abs(y - u0).max()))
    assert u.shape == (len(t) + 1, len(y)) and np.all(np.isfinite(u))
    # the residual never grows under gradient flow with a PSD kernel
    r = np.linalg.norm(u - y, axis=1)
    assert np.all(r[1:] <= r[0] * (1 + tol.LINALG_RTOL) + tol.LINALG_ATOL)


@given(problem=_psd_problem(), ts=st.lists(st.floats(0, 100), min_size=1, max_size=8))
def test_predicted_loss_flow_is_non_increasing_in_t_for_psd_H(problem, ts):
    H, y, u0 = problem
    t = np.sort(np.asarray(ts))
    loss = spectrum.predicted_loss_flow(H, y, t, u0)
    assert np.all(np.isfinite(loss)) and np.all(loss >= 0)
    assert np.all(np.diff(loss) <= tol.LINALG_RTOL * (1 + loss[0]))
    assert loss[0] <= np.sum((y - u0) ** 2) * (1 + tol.LINALG_RTOL) + tol.ROUNDOFF_ATOL


@given(problem=_psd_problem(), frac=st.floats(0.01, 1.0), steps=st.lists(st.integers(0, 10**6), min_size=1, max_size=6))
def test_stable_gd_never_raises_and_its_predicted_loss_is_non_increasing(problem, frac, steps):
    H, y, u0 = problem
    lam_max = np.linalg.eigvalsh(H)[-1]
    if lam_max < 1e-6:
        return
    eta = frac * 2.0 / lam_max            # at or below the stability limit 2 / lambda_max
    k = np.sort(np.asarray(steps))
    loss = spectrum.predicted_loss_gd(H, y, eta, k, u0)
    assert np.all(np.isfinite(loss)) and np.all(np.diff(loss) <= tol.LINALG_RTOL * (1 + loss[0]))
    u = dynamics.gd_solution(H, y, eta, k, u0)
    assert np.all(np.isfinite(u))


@given(problem=_psd_problem(), excess=st.floats(1.5, 10.0))
def test_unstable_gd_raises_training_diverged_naming_eta_and_the_limit(problem, excess):
    H, y, u0 = problem
    lam, V = np.linalg.eigh(H)
    if lam[-1] < 1e-3 or abs(V[:, -1] @ (y - u0)) < 1e-3:
        return                                # nothing along the unstable direction to blow up
    eta = excess * 2.0 / lam[-1]
    with pytest.raises(TrainingDiverged, match=r"eta = .* exceeds the stability limit 2/lambda_max"):
        dynamics.gd_solution(H, y, eta, [10**5], u0)
    with pytest.raises(TrainingDiverged, match="stability limit"):
        spectrum.predicted_loss_gd(H, y, eta, [10**5], u0)
    with np.errstate(all="ignore"):       # on request, the (non-finite) result itself
        assert dynamics.gd_solution(H, y, eta, [10**5], u0, on_divergence="return").shape == (1, len(y))


@given(problem=_psd_problem(), steps=st.lists(st.integers(0, 30), min_size=1, max_size=5), whole=st.booleans())
def test_gd_solution_accepts_any_non_negative_integer_steps_and_matches_the_iteration(problem, steps, whole):
    H, y, u0 = problem
    lam_max = np.linalg.eigvalsh(H)[-1]
    eta = 1.0 / max(lam_max, 1.0)
    k = np.asarray(steps, dtype=np.float64 if whole else np.int64)     # whole floats (3.0) are steps too
    u = dynamics.gd_solution(H, y, eta, k, u0)
    for row, kk in zip(u, steps):
        v = u0.copy()
        for _ in range(kk):
            v = v - eta * H @ (v - y)
        np.testing.assert_allclose(row, v, atol=tol.GD_RTOL * (1 + np.abs(v).max()))


@given(problem=_psd_problem(pd=True), lam=st.floats(1e-6, 1e6), p=st.floats(0.0, 0.49))
def test_theorem6_bound_is_finite_and_positive_for_pd_H(problem, lam, p):
    H, y, _ = problem
    b = bounds.theorem6_bound(H, y, lam, p)
    assert np.isfinite(b) and b > 0
    assert bounds.theorem6_bound(H, y, lam, p) <= bounds.theorem6_bound(H, y, lam, min(p + 0.01, 0.499))


@given(problem=_psd_problem(pd=True), t=st.floats(0, 1e6))
def test_gradient_flow_predictor_on_the_training_set_is_the_spectral_solution(problem, t):
    H, y, _ = problem
    # two evaluations of Lemma 1's closed form; these kernels have cond(H) < 3e5 (entries of A in [-3, 3], ridge >= 1e-3)
    np.testing.assert_allclose(regression.gradient_flow_predictor(H, H, y, t), dynamics.spectral_solution(H, y, t),
                               atol=tol.CLOSED_FORM_ATOL * (1 + np.abs(y).max()))


@given(eps=st.floats(1e-3, 10), t=st.floats(0, 1e3), n=st.integers(1, 50), c=st.floats(0.1, 10))
def test_lemma3_width_is_a_non_negative_integer_growing_with_t(eps, t, n, c):
    m = bounds.lemma3_width(eps, t, n, c)
    assert isinstance(m, int) and m >= 0
    assert bounds.lemma3_width(eps, 2 * t + 1, n, c) >= m
    assert bounds.lemma3_width(eps, t, n, slide_exponent=True) >= 0


@given(m=st.integers(1, 10**9), n=st.integers(1, 100), delta=st.floats(1e-6, 0.999), t=st.floats(0, 100))
def test_width_bounds_are_finite_and_non_negative_for_any_positive_width(m, n, delta, t):
    assert 0 < bounds.hoeffding_entry_deviation(m, n, delta) < np.inf
    assert 0 <= bounds.lemma3_movement_bound(t, n, m) < np.inf
    assert 0 <= bounds.lemma3_kernel_change_bound(bounds.lemma3_movement_bound(t, n, float(m)), n) < np.inf


@given(t=st.lists(st.floats(0, 2), min_size=1, max_size=4).map(sorted), rtol=st.floats(1e-10, 1e-4))
def test_integrate_matches_the_closed_form_for_any_valid_grid_and_tolerance(t, rtol):
    u = dynamics.integrate(H2, Y2, t, rtol=rtol)
    np.testing.assert_allclose(u, dynamics.spectral_solution(H2, Y2, t), atol=tol.ODE_GLOBAL_ERROR_FACTOR * rtol)


_ODE_X64_OFF_SCRIPT = textwrap.dedent("""
    import json, jax, numpy as np
    from scipy.special import erf
    assert not jax.config.jax_enable_x64
    from ntklib import unit_norm
    from ntklib.theory import dynamics
    from ntklib.models import networks
    rng = np.random.default_rng(0)
    X = unit_norm(rng.standard_normal((6, 4)))
    y = np.sin(3 * X[:, 0])
    net = networks.init_two_layer(0, 256, 4, activation="erf")
    W, a, m = net.W, net.a, 256

    def u(W):                                   # float64 numpy reference of the slide model with erf
        return np.sqrt(np.pi / 2) * erf(X @ W.T / np.sqrt(2)) @ a / np.sqrt(m)

    S = np.exp(-0.5 * (X @ W.T) ** 2) * a      # a_r sigma'(w_r . x_i)
    H = (X @ X.T) * (S @ S.T) / m
    out = {}
    for eta in (1e-2, 1e-3):
        D = (u(W) - y)[:, None] * S / np.sqrt(m)
        u1 = u(W - eta * (D.T @ X))
        drift = H @ (u(W) - y)
        ref = np.linalg.norm((u1 - u(W)) / eta + drift) / np.linalg.norm(drift)
        out[str(eta)] = [networks.ode_residual(net, X, y, eta), float(ref)]
    assert not jax.config.jax_enable_x64
    print(json.dumps(out))
""")


def test_ode_residual_computes_float64_in_float64_with_x64_off():
    env = dict(os.environ, JAX_ENABLE_X64="0", JAX_PLATFORMS="cpu")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _ODE_X64_OFF_SCRIPT], cwd=root, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    # the residual is tiny (~4e-7 at eta = 1e-3): float32 round-off in (u_{k+1} - u_k) / eta alone (~1e-7 / eta)
    # would exceed it, float64 round-off (~2e-16 / eta) is far below 1e-3 of it
    for eta, (got, ref) in res.items():
        assert 0 < ref and abs(got - ref) <= tol.ODE_RESIDUAL_RTOL * ref, f"eta={eta}: ode_residual {got} vs float64 reference {ref}"


# --- Sections 4 and 5: uci_benchmark, trained_nets, graph_benchmark, gntk, evolution, deepnets ---------

from types import SimpleNamespace  # noqa: E402

from ntklib.models import deepnets, evolution, gntk, trained_nets  # noqa: E402
from ntklib.experiments import graph_benchmark, uci_benchmark  # noqa: E402

XU = np.random.default_rng(4).standard_normal((6, 3))
KU = XU @ XU.T + np.eye(6)
YU = np.array([0, 1, 0, 1, 0, 1])
ACC = np.array([[0.9, 0.8], [0.7, 0.75]])
SPLIT = (np.arange(4), np.arange(4, 6))
TNP = trained_nets.init_params(0, 3, 2, 1, 4)
Y1H = np.eye(2)[YU]
UCI_DS = SimpleNamespace(name="toy", X=XU, y=YU, n_classes=2, train_val_split=SPLIT, folds=(SPLIT,))
EDGE = np.array([[0, 1], [1, 0]])
GRAPHS = [SimpleNamespace(adjacency=EDGE, features=np.eye(2)),
          SimpleNamespace(adjacency=np.zeros((1, 1)), features=np.array([[1.0, 0.0]]))]
CFG = gntk.GNTKConfig(1, 1)
GDS = SimpleNamespace(name="toy", graphs=GRAPHS, labels=np.array([0, 1]), n_classes=2,
                      folds=[(np.array([0]), np.array([1])), (np.array([1]), np.array([0]))])
DN = deepnets.init_mlp(0, [3, 4, 2])
FAM = deepnets.init_depth_family(0, 2, 3, 4, 2)
KER = [np.eye(3), np.eye(3) + 0.1]
PROBE = np.array([0, 0, 1, 1, 2, 2])


def _gnn_params():
    import jax
    return gntk.init_gnn(jax.random.PRNGKey(0), 2, 3, CFG)


UCI = [
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:5], 1.0),
         ValueError, r"y_test has length 1, expected 2", "svm-ytest-len"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:3], YU[4:], 1.0),
         ValueError, r"y_train has length 3, expected 4", "svm-ytrain-len"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], 0.0),
         ValueError, "C must be a positive finite number, got 0.0", "svm-C0"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], NAN),
         ValueError, "C must be a positive finite number, got nan", "svm-Cnan"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], "1"),
         TypeError, "C must be a real number", "svm-Cstr"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :3], KU[4:, :4], YU[:4], YU[4:], 1.0),
         ValueError, "K_train must be square", "svm-Ktrain-square"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :3], YU[:4], YU[4:], 1.0),
         ValueError, r"K_test must be \(n_test, n_train\) with n_train = 4", "svm-Ktest-cols"),
    case(lambda: uci_benchmark.svm_accuracy(np.full((4, 4), NAN), KU[4:, :4], YU[:4], YU[4:], 1.0),
         ValueError, "K_train contains NaN", "svm-Ktrain-nan"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], 1.0, max_iter=0),
         ValueError, "max_iter must be a positive integer", "svm-maxiter0"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], 1.0, max_iter=1.5),
         ValueError, r"max_iter .* got 1\.5", "svm-maxiter-frac"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4, None], YU[4:], 1.0),
         ValueError, "y_train must be 1-D", "svm-ytrain-2d"),
    case(lambda: uci_benchmark.svm_accuracy(KU[:4, :4], KU[4:, :4], YU[:4], np.array([0.0, NAN]), 1.0),
         ValueError, "y_test contains NaN", "svm-ytest-nan"),
    case(lambda: uci_benchmark.svm_fit(KU[:4, :4], KU[4:, :3], YU[:4], YU[4:], 1.0),
         ValueError, r"K_test must be \(n_test, n_train\) with n_train = 4", "svmfit-Ktest-cols"),
    case(lambda: uci_benchmark.svm_fit(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], -1.0),
         ValueError, "C must be a positive finite number, got -1.0", "svmfit-Cneg"),
    case(lambda: uci_benchmark.svm_fit(KU[:4, :4], KU[4:, :4], YU[:4], YU[4:], 1.0, max_iter=0),
         ValueError, "max_iter must be a positive integer", "svmfit-maxiter0"),
    case(lambda: uci_benchmark.gaussian_kernel(XU, -1.0), ValueError, "g must be a positive finite number, got -1.0",
         "gauss-neg"),
    case(lambda: uci_benchmark.gaussian_kernel(XU, NAN), ValueError, "g must be a positive", "gauss-nan"),
    case(lambda: uci_benchmark.gaussian_kernel(XU[0], 1.0), ValueError, "X must be 2-D", "gauss-1d"),
    case(lambda: uci_benchmark.polynomial_kernel(XU, 1.5), ValueError, r"degree must be a positive integer, got 1\.5",
         "poly-frac"),
    case(lambda: uci_benchmark.polynomial_kernel(XU, 0), ValueError, "degree must be a positive integer, got 0", "poly-0"),
    case(lambda: uci_benchmark.polynomial_kernel(XU, "2"), TypeError, "degree must be a positive integer", "poly-str"),
    case(lambda: next(uci_benchmark.ntk_kernel_family(XU, 0)), ValueError, "max_layers must be a positive integer",
         "family-L0"),
    case(lambda: next(uci_benchmark.ntk_kernel_family(XU, 2, W_std=-1.0)), ValueError, "W_std must be a positive",
         "family-Wstd"),
    case(lambda: next(uci_benchmark.ntk_kernel_family(XU, 2, b_std=NAN)), ValueError, "b_std must be a finite number",
         "family-bstd"),
    case(lambda: next(uci_benchmark.ntk_kernel_family(XU, 2, max_bytes=0)), ValueError, "max_bytes must be a positive",
         "family-maxbytes"),
    case(lambda: uci_benchmark.friedman_ranks([["a", "b"]]), TypeError, "acc must be a real numeric array", "fr-str"),
    case(lambda: uci_benchmark.friedman_ranks([0.9, 0.8]), ValueError, r"acc .* table, got shape \(2,\)", "fr-1d"),
    case(lambda: uci_benchmark.friedman_ranks([[0.9, 1.2]]), ValueError, r"acc .* fractions in \[0, 1\]", "fr-high"),
    case(lambda: uci_benchmark.p_of_max(ACC, 1.5), ValueError, "frac must be a probability", "pmax-frac"),
    case(lambda: uci_benchmark.pma([[0.9, NAN]]), ValueError, "acc .* finite", "pma-nan"),
    case(lambda: uci_benchmark.summary_table(ACC, "AB"), TypeError, "names must be a list of names", "summary-str"),
    case(lambda: uci_benchmark.summary_table(ACC, ["A"]), ValueError, "names has 1 entries for 2 classifiers",
         "summary-len"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], YU, SPLIT, [SPLIT], []), ValueError, "C_grid is empty",
         "select-Cgrid-empty"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], YU, SPLIT, [SPLIT], [1.0, -1.0]),
         ValueError, r"C_grid\[1\] must be a positive", "select-Cgrid-neg"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], YU, (np.arange(4), np.array([4, 9])), [SPLIT], [1.0]),
         ValueError, r"split: test index out of range 0\.\.5", "select-split-range"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU[:5, :5])], YU, SPLIT, [SPLIT], [1.0]),
         ValueError, r"the kernel a must be \(n, n\) with n = 6 .* got shape \(5, 5\)", "select-kernel-shape"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", np.full((6, 6), NAN))], YU, SPLIT, [SPLIT], [1.0]),
         ValueError, "the kernel a contains NaN", "select-kernel-nan"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], np.array([0.0, 1, 0, 1, NAN, 0]), SPLIT, [SPLIT], [1.0]),
         ValueError, "y contains NaN", "select-y-nan"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], YU, SPLIT, [], [1.0]),
         ValueError, "folds must be a non-empty list", "select-folds-empty"),
    case(lambda: uci_benchmark.select_kernel_svm([("a", KU)], YU, SPLIT, [SPLIT], [1.0], max_iter=-2),
         ValueError, "max_iter must be an integer >= -1", "select-maxiter"),
    case(lambda: uci_benchmark.evaluate(UCI_DS, "SVM", uci_benchmark.Protocol()), ValueError,
         "unknown classifier 'SVM'", "eval-clf"),
    case(lambda: uci_benchmark.evaluate(UCI_DS, "RF", {}), TypeError, "proto must be a uci_benchmark.Protocol",
         "eval-proto"),
    case(lambda: uci_benchmark.evaluate(None, "RF", uci_benchmark.Protocol()), TypeError, "ds must be a UCI data set",
         "eval-ds"),
    case(lambda: uci_benchmark.ntk_kernel_key(XU, 0), ValueError, "max_layers must be a positive integer", "key-L0"),
    case(lambda: uci_benchmark.ntk_kernel_key([[1.0, NAN]], 2), ValueError, "X contains NaN", "key-nan"),
    case(lambda: uci_benchmark.data_key(None), TypeError, "ds must be a UCI data set", "datakey-none"),
    case(lambda: uci_benchmark.run("iris", cache_dir="unused"), TypeError, "names must be a list of names", "run-str"),
    case(lambda: uci_benchmark.run(["iris"], ["SVM"], cache_dir="unused"), ValueError, r"unknown classifiers \['SVM'\]",
         "run-clf"),
    case(lambda: uci_benchmark.run(["iris"], cache_dir="unused", n_jobs=0), ValueError, "n_jobs must be a positive",
         "run-njobs"),
    case(lambda: uci_benchmark.run(["iris"], cache_dir="unused", progress="yes"), TypeError,
         "progress must be None or a function wrapping an iterable", "run-progress"),
    case(lambda: uci_benchmark.run(["iris"], proto=None, cache_dir="unused"), TypeError, "proto must be a",
         "run-proto"),
    case(lambda: uci_benchmark.accuracy_table({}, "iris"), TypeError, "names must be a list", "acctable-str"),
    case(lambda: uci_benchmark.accuracy_table([], ["iris"]), TypeError, "results must be the dict", "acctable-results"),
]

_TN = dict(depth=1, width=4, epochs=2, batch_size=3)
TRAINED_NETS = [
    case(lambda: trained_nets.train(10 * XU, YU, 2, lr=1e6, **_TN), TrainingDiverged, "diverged .* at epoch 1: the mean loss",
         "train-diverge"),
    case(lambda: trained_nets.train(XU, YU, 2, lr=0.0, **_TN), ValueError, "lr must be a positive finite number", "train-lr0"),
    case(lambda: trained_nets.train(XU, YU, 2, lr=NAN, **_TN), ValueError, "lr must be a positive", "train-lr-nan"),
    case(lambda: trained_nets.train(XU, YU, 2, lr="0.1", **_TN), TypeError, "lr must be a number", "train-lr-str"),
    case(lambda: trained_nets.train(XU, YU, 2, lr=True, **_TN), TypeError, "lr must be a number", "train-lr-bool"),
    case(lambda: trained_nets.train(XU, YU, 2, seed=-1, **_TN), ValueError, "seed must be an integer in", "train-seed-neg"),
    case(lambda: trained_nets.train(XU, YU, 2, seed=1.5, **_TN), ValueError, r"seed .* got 1\.5", "train-seed-frac"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1, width=4, epochs=0), ValueError,
         "epochs must be a positive integer, got 0", "train-epochs0"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1, width=4, epochs=2.5), ValueError,
         r"epochs must be a positive integer, got 2\.5", "train-epochs-frac"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1, width=4, epochs=NAN), ValueError, "epochs .* got nan",
         "train-epochs-nan"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1, width=-3), ValueError, "width must be a positive integer, got -3",
         "train-width-neg"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1.5, width=4), ValueError, r"depth .* got 1\.5", "train-depth-frac"),
    case(lambda: trained_nets.train(XU, YU, 2, depth=1, width=4, batch_size=0), ValueError,
         "batch_size must be a positive integer", "train-batch0"),
    case(lambda: trained_nets.train(XU, YU, 2, momentum=1.0, **_TN), ValueError, r"momentum must be in \[0, 1\)",
         "train-momentum"),
    case(lambda: trained_nets.train(XU, YU, 2, momentum="0.9", **_TN), TypeError, "momentum must be a real number",
         "train-momentum-str"),
    case(lambda: trained_nets.train(XU, YU, 2, aux_lambda=-1.0, **_TN), ValueError, "aux_lambda must be a finite number >= 0",
         "train-aux-neg"),
    case(lambda: trained_nets.train(XU, YU, 2, aux_lambda=NAN, **_TN), ValueError, "aux_lambda", "train-aux-nan"),
    case(lambda: trained_nets.train(XU, [0, 1, NAN, 1, 0, 1], 2, **_TN), ValueError, "labels must be integer class",
         "train-labels-nan"),
    case(lambda: trained_nets.train(XU, YU + 1, 2, **_TN), ValueError, r"labels must be in 0\.\.1", "train-labels-range"),
    case(lambda: trained_nets.train(XU, YU[:4], 2, **_TN), ValueError, "labels must be .* n = 6 rows", "train-labels-len"),
    case(lambda: trained_nets.train(XU, ["a"] * 6, 2, **_TN), TypeError, "labels must be a real numeric array",
         "train-labels-str"),
    case(lambda: trained_nets.train(XU, YU, 1, **_TN), ValueError, "need at least 2 classes", "train-nclasses"),
    case(lambda: trained_nets.train(XU, YU, 2, parameterization="he", **_TN), ValueError, "parameterization must be one of",
         "train-param"),
    case(lambda: trained_nets.train(XU, YU, 2, loss="hinge", **_TN), ValueError, "loss must be one of", "train-loss"),
    case(lambda: trained_nets.train(XU, YU, 2, dtype=np.int32, **_TN), ValueError, "dtype must be float32 or float64",
         "train-dtype"),
    case(lambda: trained_nets.train(XU, YU, 2, on_divergence="ignore", **_TN), ValueError, "on_divergence must be one of",
         "train-ondiv"),
    case(lambda: trained_nets.train(XU, YU, 2, n_jobs=0, **_TN), ValueError, "n_jobs must be a positive integer, got 0",
         "train-njobs0"),
    case(lambda: trained_nets.train(XU, YU, 2, n_jobs=1.5, **_TN), ValueError, r"n_jobs .* got 1\.5", "train-njobs-frac"),
    case(lambda: trained_nets.train(XU, YU, 2, eval_sets={"v": (XU, YU[:2])}, **_TN), ValueError,
         r"eval_sets\['v'\] y must be 1-D with one label per row", "train-eval-len"),
    case(lambda: trained_nets.train(XU, YU, 2, eval_sets=[(XU, YU)], **_TN), TypeError, "eval_sets must be a dict",
         "train-eval-type"),
    case(lambda: trained_nets.train(XU, YU, 2, eval_sets={"v": XU}, **_TN), ValueError, r"eval_sets\['v'\] must be an \(X, y\) pair",
         "train-eval-pair"),
    case(lambda: trained_nets.init_params(0, 3, 2, 1, 0), ValueError, "width must be a positive integer, got 0", "init-width0"),
    case(lambda: trained_nets.init_params(-1, 3, 2, 1, 4), ValueError, "seed must be an integer in", "init-seed"),
    case(lambda: trained_nets.init_params(0, 3, 2, 1, 4, dtype=np.int64), ValueError, "dtype must be float32 or float64",
         "init-dtype"),
    case(lambda: trained_nets.init_params(0, 3, 2, 1, 4, parameterization=None), ValueError, "parameterization must be one of",
         "init-param"),
    case(lambda: trained_nets.forward(TNP, np.ones((2, 5))), ValueError, "X has 5 features but params' first layer takes 3",
         "fwd-features"),
    case(lambda: trained_nets.forward(None, XU), TypeError, "params must be a non-empty list of", "fwd-params"),
    case(lambda: trained_nets.forward(TNP, XU, keep="yes"), TypeError, "keep must be True or False", "fwd-keep"),
    case(lambda: trained_nets.forward(TNP, [[1.0, NAN, 0.0]]), ValueError, "X contains NaN", "fwd-nan"),
    case(lambda: trained_nets.loss_and_grads(TNP, XU, Y1H[:4]), ValueError, r"Y must be one-hot targets of shape \(6, 2\)",
         "lag-Y"),
    case(lambda: trained_nets.loss_and_grads(TNP, XU, Y1H, sqrt_lam=-1.0, b_aux=Y1H), ValueError,
         "sqrt_lam must be a finite number >= 0", "lag-sqrtlam"),
    case(lambda: trained_nets.loss_and_grads(TNP, XU, Y1H, loss="l1"), ValueError, "loss must be one of", "lag-loss"),
    case(lambda: trained_nets.loss_and_grads(TNP, XU, Y1H, b_aux=Y1H[:2]), ValueError, "b_aux must have Y's shape",
         "lag-baux"),
    case(lambda: trained_nets.predict(TNP, [[1.0, 2.0, INF]]), ValueError, "X contains NaN or inf", "predict-inf"),
    case(lambda: trained_nets.predict([(np.ones(3), np.ones(3))], XU), TypeError, "params must be a non-empty list",
         "predict-params"),
    case(lambda: trained_nets.predict(TNP, XU, "he"), ValueError, "parameterization must be one of", "predict-param"),
]

GRAPH_BENCHMARK = [
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU, GDS.folds, [1.0], n_jobs=1), ValueError,
         r"y must be 1-D with one label per row of K \(2\)", "fold-y-len"),
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU[:2], GDS.folds, [], n_jobs=1), ValueError,
         "C_grid is empty", "fold-Cgrid"),
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU[:2], GDS.folds, [NAN], n_jobs=1), ValueError,
         r"C_grid\[0\] must be a positive", "fold-C-nan"),
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU[:2], [(np.array([0]), np.array([2]))], [1.0], n_jobs=1),
         ValueError, r"folds\[0\]: test index out of range", "fold-range"),
    case(lambda: graph_benchmark.fold_accuracies_svm(NOT_SYM, YU[:2], GDS.folds, [1.0], n_jobs=1), ValueError,
         "K is not symmetric", "fold-K-sym"),
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU[:2], GDS.folds, [1.0], n_jobs=0), ValueError,
         "n_jobs must be a positive integer", "fold-njobs"),
    case(lambda: graph_benchmark.fold_accuracies_svm(KU[:2, :2], YU[:2], 10, [1.0], n_jobs=1), TypeError,
         "folds must be a list of", "fold-folds-int"),
    case(lambda: graph_benchmark.select([0.5, 0.6]), ValueError, r"acc must be a \(settings >= 1, folds >= 2\) table",
         "select-1d"),
    case(lambda: graph_benchmark.select([[0.5, NAN]]), ValueError, "acc contains NaN", "select-nan"),
    case(lambda: graph_benchmark.select([["a", "b"]]), TypeError, "acc must be a real numeric array", "select-str"),
    case(lambda: graph_benchmark.graphs_key([None]), TypeError, r"graphs\[0\] must have adjacency and features",
         "gkey-none"),
    case(lambda: graph_benchmark.graphs_key(5), TypeError, "graphs must be a list of graphs", "gkey-int"),
    case(lambda: graph_benchmark.gntk_grams(GDS, CFG, cache_dir="unused"), TypeError, "configs must be a list of",
         "grams-single-cfg"),
    case(lambda: graph_benchmark.gntk_grams(GDS, [CFG], cache_dir="unused", chunk_nodes=0), ValueError,
         "chunk_nodes must be a positive integer", "grams-chunk"),
    case(lambda: graph_benchmark.gntk_grams(None, [CFG], cache_dir="unused"), TypeError, "ds must be a graph data set",
         "grams-ds"),
    case(lambda: graph_benchmark.gntk_grams(GDS, [CFG, "sum"], cache_dir="unused"), TypeError,
         r"configs\[1\] must be a gntk.GNTKConfig", "grams-cfg-str"),
    case(lambda: graph_benchmark.train_gnn_cv(GDS, hidden=0), ValueError, "hidden must be a positive integer, got 0",
         "gnn-hidden"),
    case(lambda: graph_benchmark.train_gnn_cv(GDS, epochs=2.5), ValueError, r"epochs .* got 2\.5", "gnn-epochs"),
    case(lambda: graph_benchmark.train_gnn_cv(GDS, lr=0.0), ValueError, "lr must be a positive", "gnn-lr"),
    case(lambda: graph_benchmark.train_gnn_cv(GDS, seed=-1), ValueError, "seed must be an integer in", "gnn-seed"),
    case(lambda: graph_benchmark.train_gnn_cv(GDS, aggregation="max"), ValueError, "aggregation must be one of",
         "gnn-aggr"),
    case(lambda: graph_benchmark.train_gnn_cv(None), TypeError, "ds must be a graph data set", "gnn-ds"),
]

GNTK = [
    case(lambda: gntk.GNTKConfig(0, 1), ValueError, "blocks must be a positive integer, got 0", "cfg-blocks"),
    case(lambda: gntk.GNTKConfig(1, 1, "sum", "yes"), TypeError, "jk must be True or False", "cfg-jk"),
    case(lambda: gntk.GNTKConfig(1, 1, "max"), ValueError, "aggregation must be one of", "cfg-aggr"),
    case(lambda: gntk.GNTKConfig(1, 1, ["sum"]), ValueError, "aggregation must be one of", "cfg-aggr-list"),
    case(lambda: gntk.gntk_gram(GRAPHS, None), TypeError, "cfg must be a gntk.GNTKConfig", "gram-cfg"),
    case(lambda: gntk.gntk_gram(GRAPHS, CFG, chunk_nodes=0), ValueError, "chunk_nodes must be a positive", "gram-chunk"),
    case(lambda: gntk.gntk_gram(GRAPHS, CFG, return_nngp="yes"), TypeError, "return_nngp must be True or False",
         "gram-nngp"),
    case(lambda: gntk.gntk_gram(GRAPHS, CFG, all_blocks=1), TypeError, "all_blocks must be True or False", "gram-allblocks"),
    case(lambda: gntk.gntk_gram([], CFG), ValueError, "need at least one graph", "gram-empty"),
    case(lambda: gntk.gntk_gram([SimpleNamespace(adjacency=EDGE, features=np.array([[1.0], [NAN]]))], CFG), ValueError,
         "graph 0: adjacency and features must be finite", "gram-nan"),
    case(lambda: gntk.gntk_gram([SimpleNamespace(adjacency=np.array([[0, 1], [0, 0]]), features=np.eye(2))], CFG),
         ValueError, "graph 0: adjacency must be symmetric", "gram-asym"),
    case(lambda: gntk.gntk_gram([GRAPHS[0], SimpleNamespace(adjacency=np.zeros((1, 1)), features=np.ones((1, 3)))], CFG),
         ValueError, "graph 1 has 3 node features, graph 0 has 2", "gram-features"),
    case(lambda: gntk.gntk_gram(GRAPHS, CFG, progress=5), TypeError, "progress must be None or a function", "gram-progress"),
    case(lambda: gntk.gntk_gram(GRAPHS, CFG, n_jobs=0), ValueError, "n_jobs must be a positive integer", "gram-njobs"),
    case(lambda: gntk.gntk_gram([SimpleNamespace(adjacency=EDGE, features=np.array(["a", "b"]))], CFG), TypeError,
         r"graphs\[0\].features must be a real numeric array", "gram-features-str"),
    case(lambda: gntk.normalize(np.array([[-1.0, 0.0], [0.0, 1.0]])), ValueError,
         r"K: graph 0 has a self-kernel K\[0, 0\] = -1 <= 0", "normalize-neg"),
    case(lambda: gntk.normalize(NOT_SYM), ValueError, "K is not symmetric", "normalize-sym"),
    case(lambda: gntk.init_gnn(__import__("jax").random.PRNGKey(0), 2, 0, CFG), ValueError,
         "width must be a positive integer, got 0", "initgnn-width"),
    case(lambda: gntk.init_gnn(__import__("jax").random.PRNGKey(0), 1.5, 3, CFG), ValueError, r"d_in .* got 1\.5",
         "initgnn-din"),
    case(lambda: gntk.init_gnn(__import__("jax").random.PRNGKey(0), 2, 3, None), TypeError, "cfg must be a gntk.GNTKConfig",
         "initgnn-cfg"),
    case(lambda: gntk.init_gnn(0, 2, 3, CFG), TypeError, "key must be a JAX PRNG key", "initgnn-key"),
    case(lambda: gntk.gnn_apply(_gnn_params(), np.eye(2), np.eye(2), np.ones((1, 2)), None), TypeError,
         "cfg must be a gntk.GNTKConfig", "apply-cfg"),
    case(lambda: gntk.gnn_apply(None, np.eye(2), np.eye(2), np.ones((1, 2)), CFG), TypeError,
         "params must be the dict of gntk.init_gnn", "apply-params"),
    case(lambda: gntk.gnn_apply(_gnn_params(), np.eye(3), np.eye(2), np.ones((1, 2)), CFG), ValueError,
         "agg .* must agree", "apply-shapes"),
    case(lambda: gntk.empirical_gntk(GRAPHS, 0, CFG), ValueError, "width must be a positive integer, got 0", "egntk-width"),
    case(lambda: gntk.empirical_gntk(GRAPHS, 3, CFG, seeds=[-1]), ValueError, "seeds entry must be an integer in",
         "egntk-seed"),
    case(lambda: gntk.empirical_gntk(GRAPHS, 3, CFG, seeds=[]), ValueError, "seeds is empty", "egntk-seeds-empty"),
    case(lambda: gntk.empirical_gntk(GRAPHS, 3, CFG, seeds="0"), TypeError, "seeds must be a list of seeds", "egntk-seeds-str"),
    case(lambda: gntk.empirical_gntk(GRAPHS, 3, "sum"), TypeError, "cfg must be a gntk.GNTKConfig", "egntk-cfg"),
    case(lambda: gntk.sample_outputs(GRAPHS, 3, CFG, n_samples=0), ValueError, "n_samples must be a positive integer",
         "sample-n"),
    case(lambda: gntk.sample_outputs(GRAPHS, 3, CFG, seed=-1), ValueError, "seed must be an integer in", "sample-seed"),
    case(lambda: gntk.sample_outputs(GRAPHS, 3, CFG, batch=0), ValueError, "batch must be a positive integer", "sample-batch"),
    case(lambda: gntk.sample_outputs(GRAPHS, NAN, CFG), ValueError, "width must be a positive integer, got nan",
         "sample-width"),
]

_H = np.eye(3)
EVOLUTION = [
    case(lambda: evolution.kernel_velocity([_H, _H], [0.0, np.nan]), ValueError, r"times must be finite, but times\[1\] = nan",
         "vel-nan"),
    case(lambda: evolution.kernel_velocity([_H, _H], [0.0, INF]), ValueError, "times must be finite", "vel-inf"),
    case(lambda: evolution.kernel_velocity([_H, _H], ["a", "b"]), TypeError, "times must be a real numeric array",
         "vel-str"),
    case(lambda: evolution.kernel_velocity(5, [0.0, 1.0]), TypeError, "kernels must be a list of kernel matrices",
         "vel-kernels-int"),
    case(lambda: evolution.kernel_velocity(KER, [1.0, 0.0]), ValueError, "times must be strictly increasing", "vel-order"),
    case(lambda: evolution.kernel_velocity([_H, np.full((3, 3), NAN)], [0.0, 1.0]), ValueError, "K2 contains NaN",
         "vel-kernel-nan"),
    case(lambda: evolution.class_sorted_probe(PROBE, 1, -1), ValueError, "seed must be an integer in .* got -1",
         "probe-seed-neg"),
    case(lambda: evolution.class_sorted_probe(PROBE, 1, 1.5), ValueError, r"seed .* got 1\.5", "probe-seed-frac"),
    case(lambda: evolution.class_sorted_probe(PROBE, 1, "0"), TypeError, "seed must be an integer", "probe-seed-str"),
    case(lambda: evolution.class_sorted_probe(PROBE, 0, 0), ValueError, "per_class must be a positive integer, got 0",
         "probe-perclass"),
    case(lambda: evolution.class_sorted_probe([0.0, NAN, 1.0], 1, 0), ValueError, "labels contains NaN", "probe-labels-nan"),
    case(lambda: evolution.class_sorted_probe(PROBE, 1, 0, classes=[0, 0]), ValueError, "classes lists a class twice",
         "probe-classes-dup"),
    case(lambda: evolution.class_sorted_probe(PROBE[None], 1, 0), ValueError, "labels must be 1-D", "probe-labels-2d"),
    case(lambda: evolution.class_sorted_probe(PROBE, 3, 0), ValueError, "fewer than per_class=3", "probe-too-few"),
    case(lambda: evolution.class_structure(_H, [0, 1, 1], include_diagonal="no"), TypeError,
         "include_diagonal must be True or False", "cs-diag"),
    case(lambda: evolution.class_structure(_H, [0.0, 1.0, NAN]), ValueError, "labels contains NaN", "cs-nan"),
    case(lambda: evolution.class_structure(_H, [0, 1]), ValueError, r"labels must be 1-D with one entry per row of K \(3\)",
         "cs-len"),
    case(lambda: evolution.class_structure(_H, [0, 0, 0]), ValueError, "at least two classes", "cs-one-class"),
    case(lambda: evolution.class_structure(NOT_SYM, [0, 1]), ValueError, "K is not symmetric", "cs-sym"),
    case(lambda: evolution.kernel_distance(_H, np.eye(2)), ValueError, "K1 and K2 must have the same shape", "kd-shape"),
    case(lambda: evolution.kernel_distance(_H, np.zeros((3, 3))), ValueError, "undefined for a zero kernel", "kd-zero"),
    case(lambda: evolution.kernel_distance([[NAN]], [[1.0]]), ValueError, "K1 contains NaN", "kd-nan"),
    case(lambda: evolution.distances_from([], _H), ValueError, "kernels is empty", "dist-empty"),
    case(lambda: evolution.distances_from(KER, [[NAN]]), ValueError, "reference contains NaN", "dist-ref-nan"),
    case(lambda: evolution.distances_from("K", _H), TypeError, "kernels must be a list", "dist-str"),
    case(lambda: evolution.relative_change(np.zeros((3, 3)), _H), ValueError, "undefined for K0 = 0", "rel-zero"),
    case(lambda: evolution.relative_change(_H, np.eye(2)), ValueError, "K0 and K1 must have the same shape", "rel-shape"),
    case(lambda: evolution.empirical_ntk(None, DN, XU), TypeError, "apply_fn must be a function", "entk-fn"),
    case(lambda: evolution.empirical_ntk(deepnets.mlp_apply, {}, XU), TypeError, "params must be a pytree of arrays",
         "entk-params"),
    case(lambda: evolution.empirical_ntk(deepnets.mlp_apply, DN, XU, chunk_size=0), ValueError,
         "chunk_size must be a positive integer", "entk-chunk"),
    case(lambda: evolution.empirical_ntk(deepnets.mlp_apply, DN, XU, np.ones((2, 4))), ValueError,
         "X1 and X2 have different feature dimensions", "entk-dims"),
    case(lambda: evolution.ntk_row(deepnets.mlp_apply, DN, XU[0], np.ones((2, 4))), ValueError,
         "x0 and X have different feature dimensions", "ntkrow-dims"),
    case(lambda: evolution.ntk_row(deepnets.mlp_apply, DN, XU[0], XU, chunk_size=0), ValueError,
         "chunk_size must be a positive integer", "ntkrow-chunk"),
    case(lambda: evolution.one_step_ntk_change(deepnets.mlp_apply, DN, XU[0], [0.0, 1.0], 0.0), ValueError,
         "lr must be a positive finite number", "onestep-lr"),
    case(lambda: evolution.one_step_ntk_change(deepnets.mlp_apply, DN, XU[0], [0.0, NAN], 0.1), ValueError,
         "y must be a finite scalar or 1-D target", "onestep-y-nan"),
    case(lambda: evolution.one_step_ntk_change(deepnets.mlp_apply, DN, XU[0], [0.0, 1.0], 0.1, batched="yes"), TypeError,
         "batched must be True or False", "onestep-batched"),
    case(lambda: evolution.one_step_ntk_change("mlp", DN, XU[0], [0.0, 1.0], 0.1), TypeError, "apply_fn must be a function",
         "onestep-fn"),
    case(lambda: evolution.one_step_ntk_change(deepnets.mlp_apply, DN, XU[0], "y", 0.1), TypeError,
         "y must be a real numeric array", "onestep-y-str"),
    case(lambda: evolution.ntk_diagonal(deepnets.mlp_apply, DN, XU), ValueError, r"x must be 1-D, got shape \(6, 3\)",
         "diag-x-2d"),
    case(lambda: evolution.ntk_diagonal(deepnets.mlp_apply, DN, XU[0], batched=1), TypeError,
         "batched must be True or False", "diag-batched"),
    case(lambda: evolution.ntk_diagonal(deepnets.mlp_apply, [np.ones(3, int)], XU[0]), TypeError,
         "params must hold floating-point arrays", "diag-int-params"),
]

_SGD = deepnets.SGD(0.1)
DEEPNETS = [
    case(lambda: deepnets.init_mlp(-1, [3, 2]), ValueError, "seed must be an integer in .* got -1", "init-seed-neg"),
    case(lambda: deepnets.init_mlp((1, -1), [3, 2]), ValueError, r"seed\[1\] must be an integer in", "init-seed-tuple"),
    case(lambda: deepnets.init_mlp(1.5, [3, 2]), ValueError, r"seed .* got 1\.5", "init-seed-frac"),
    case(lambda: deepnets.init_mlp(0, [3]), ValueError, "sizes must list the input width", "init-sizes-short"),
    case(lambda: deepnets.init_mlp(0, "34"), TypeError, "sizes must be a list of layer widths", "init-sizes-str"),
    case(lambda: deepnets.init_mlp(0, [3, 0]), ValueError, r"sizes\[1\] must be a positive integer, got 0", "init-sizes0"),
    case(lambda: deepnets.init_mlp(0, [3, 2], sigma_w2=0.0), ValueError, "sigma_w2 must be a positive", "init-sw"),
    case(lambda: deepnets.init_mlp(0, [3, 2], sigma_b2=-1.0), ValueError, "sigma_b2 must be a finite number >= 0",
         "init-sb-neg"),
    case(lambda: deepnets.init_mlp(0, [3, 2], sigma_b2="0"), TypeError, "sigma_b2 must be a real number", "init-sb-str"),
    case(lambda: deepnets.init_mlp(0, [3, 2], bias="yes"), TypeError, "bias must be True or False", "init-bias"),
    case(lambda: deepnets.draw_layers(0, [3, 4, 2], sigma_w2=[2.0]), ValueError,
         r"sigma_w2 must be a number or a list of 2 \(one per layer\), got 1 values", "draw-sw-len"),
    case(lambda: deepnets.draw_layers(0, [3, 4, 2], sigma_w2=[2.0, 0.0]), ValueError,
         r"sigma_w2\[1\] must be a positive", "draw-sw-entry"),
    case(lambda: deepnets.draw_layers(0, [3, 4, 2], sigma_b2=[0.0, -1.0]), ValueError,
         r"sigma_b2\[1\] must be a finite number >= 0", "draw-sb-entry"),
    case(lambda: deepnets.draw_layers(0, [3, 4, 2], sigma_b2="0"), TypeError, "sigma_b2 must be a real number",
         "draw-sb-str"),
    case(lambda: deepnets.draw_layers(-1, [3, 2]), ValueError, "seed must be an integer in .* got -1", "draw-seed"),
    case(lambda: deepnets.draw_layers(0, [3]), ValueError, "sizes must list the input width", "draw-sizes"),
    case(lambda: deepnets.init_mlp(0, [3, 2], dtype=np.int32), ValueError, "dtype must be a floating-point dtype",
         "init-dtype"),
    case(lambda: deepnets.init_mlp_batch(0, 0, [3, 2]), ValueError, "count must be a positive integer, got 0", "batch-count"),
    case(lambda: deepnets.init_mlp_batch(0, 1.5, [3, 2]), ValueError, r"count .* got 1\.5", "batch-count-frac"),
    case(lambda: deepnets.init_mlp_at(0, [-1], [3, 2]), ValueError, "indices entry must be a non-negative integer",
         "at-index-neg"),
    case(lambda: deepnets.init_mlp_at(0, [1.5], [3, 2]), ValueError, r"indices entry .* got 1\.5", "at-index-frac"),
    case(lambda: deepnets.init_mlp_at(-1, [0], [3, 2]), ValueError, "seed must be an integer in", "at-seed"),
    case(lambda: deepnets.init_mlp_at(0, 5, [3, 2]), TypeError, "indices must be a list", "at-indices-int"),
    case(lambda: deepnets.init_mlp_at(0, [], [3, 2]), ValueError, "indices is empty", "at-indices-empty"),
    case(lambda: deepnets.layers(None), TypeError, "params must be a tuple of", "layers-none"),
    case(lambda: deepnets.mlp_apply(DN, np.ones((2, 5))), ValueError, r"X must be \(n, 3\) or \(3,\)", "apply-features"),
    case(lambda: deepnets.mlp_apply([{"b": 1}], XU), TypeError, "params must be a tuple of", "apply-params"),
    case(lambda: deepnets.num_params(()), TypeError, "params must be a pytree of arrays", "nparams-empty"),
    case(lambda: deepnets.mlp_ntk(DN, np.ones((2, 4))), ValueError, "X1 has 4 features but the network's input width is 3",
         "ntk-features"),
    case(lambda: deepnets.mlp_ntk(DN, XU, [[NAN, 0.0, 0.0]]), ValueError, "X2 contains NaN", "ntk-X2-nan"),
    case(lambda: deepnets.mlp_apply(DN, XU, "mean-field"), ValueError, "parameterization must be one of",
         "apply-param"),
    case(lambda: deepnets.mlp_ntk(DN, XU, None, "NTK"), ValueError, "parameterization must be one of", "ntk-param"),
    case(lambda: deepnets.mlp_ntk(DN, XU, None, "ntk", -0.1), ValueError, "beta must be", "ntk-beta"),
    case(lambda: deepnets.mse(np.ones((4, 2)), np.ones(4)), ValueError, "outputs and targets must have the same",
         "mse-shape"),
    case(lambda: deepnets.cross_entropy(np.ones((4, 2)), np.ones((1, 2))), ValueError,
         "logits and targets must have the same", "ce-shape"),
    case(lambda: deepnets.minibatch_indices(10, 3, -1, 0), ValueError, "steps must be a non-negative integer", "mb-steps"),
    case(lambda: deepnets.minibatch_indices(10, 3, 5, -1), ValueError, "seed must be an integer in", "mb-seed"),
    case(lambda: deepnets.minibatch_indices(10, 0, 5, 0), ValueError, "batch_size must be a positive integer", "mb-batch0"),
    case(lambda: deepnets.minibatch_indices(0, 3, 5, 0), ValueError, "n must be a positive integer", "mb-n0"),
    case(lambda: deepnets.minibatch_indices(10, "2", 5, 0), TypeError, "batch_size must be a positive integer",
         "mb-batch-str"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, on_divergence="warn"),
         ValueError, "on_divergence must be one of", "train-on-divergence"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2.5), ValueError,
         r"steps must be a non-negative integer, got 2\.5", "train-steps-frac"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=-1), ValueError,
         "steps must be a non-negative integer, got -1", "train-steps-neg"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer="sgd", steps=2), TypeError,
         "optimizer must be deepnets.SGD or deepnets.Adam", "train-opt"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=deepnets.SGD(0.0), steps=2), ValueError,
         "SGD lr must be a positive", "train-sgd-lr"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=deepnets.Adam(0.1, b1=1.5), steps=2), ValueError,
         "Adam b1 must be a probability", "train-adam-b1"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, loss="l1"), ValueError,
         "unknown loss 'l1'", "train-loss"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, record_every=0), ValueError,
         "record_every must be a positive integer", "train-record0"),
    case(lambda: deepnets.train(None, DN, XU, Y1H, optimizer=_SGD, steps=2), TypeError, "apply_fn must be a function",
         "train-fn"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, seed=-1), ValueError,
         "seed must be an integer in", "train-seed"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H[:4], optimizer=_SGD, steps=2), ValueError,
         "X has 6 rows but Y has 4", "train-Y-rows"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, batch_size=0), ValueError,
         "batch_size must be a positive integer", "train-batch0"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, callback=5), TypeError,
         "callback must be a function", "train-callback"),
    case(lambda: deepnets.train(deepnets.mlp_apply, DN, XU, Y1H, optimizer=_SGD, steps=2, apply_args=[1]), TypeError,
         "apply_args must be a tuple", "train-applyargs"),
    case(lambda: deepnets.evaluate(deepnets.mlp_apply, DN, XU, Y1H, "l1"), ValueError, "unknown loss 'l1'", "eval-loss"),
    case(lambda: deepnets.evaluate(deepnets.mlp_apply, DN, XU, Y1H, batch_size=0), ValueError,
         "batch_size must be a positive integer", "eval-batch0"),
    case(lambda: deepnets.evaluate(deepnets.mlp_apply, DN, XU, Y1H[:4]), ValueError,
         r"Y must be \(n,\) or \(n, k\) with n = 6 rows", "eval-Y-rows"),
    case(lambda: deepnets.evaluate(deepnets.mlp_apply, DN, XU, np.full((6, 2), NAN)), ValueError, "Y contains NaN",
         "eval-Y-nan"),
    case(lambda: deepnets.linearize(None), TypeError, "apply_fn must be a function", "linearize-none"),
    case(lambda: deepnets.interpolate(DN, DN, NAN), ValueError, "alpha must be a finite number, got nan", "interp-nan"),
    case(lambda: deepnets.interpolate(DN, DN, "half"), TypeError, "alpha must be a real number", "interp-str"),
    case(lambda: deepnets.interpolate(DN, DN[:1], 0.5), ValueError, "params_a and params_b have different structures",
         "interp-struct"),
    case(lambda: deepnets.sharpness(deepnets.mlp_apply, DN, XU, Y1H, iters=0), ValueError,
         "iters must be a positive integer", "sharp-iters"),
    case(lambda: deepnets.sharpness(deepnets.mlp_apply, DN, XU, Y1H, seed=-1), ValueError, "seed must be an integer in",
         "sharp-seed"),
    case(lambda: deepnets.sharpness(deepnets.mlp_apply, DN, XU, Y1H[:2]), ValueError, "Y must be .* n = 6 rows",
         "sharp-Y"),
    case(lambda: deepnets.init_depth_family(0, 0, 3, 4, 2), ValueError, "count must be a positive integer", "fam-count"),
    case(lambda: deepnets.init_depth_family(0, 2, 3, 4, 2, start=-1), ValueError, "start must be a non-negative integer",
         "fam-start-neg"),
    case(lambda: deepnets.init_depth_family(0, 2, 3, 4, 2, start=1.5), ValueError, r"start .* got 1\.5", "fam-start-frac"),
    case(lambda: deepnets.init_depth_family(-1, 2, 3, 4, 2), ValueError, "seed must be an integer in", "fam-seed"),
    case(lambda: deepnets.init_depth_family(0, 2, 3, 4, 2, bias="y"), TypeError, "bias must be True or False", "fam-bias"),
    case(lambda: deepnets.init_depth_family(0, 10**4, 3, 10**4, 100), MemoryError, "init_depth_family .* would need",
         "fam-memory"),
    case(lambda: deepnets.family_member(FAM, 2, 1), ValueError, r"i must be an integer in 0\.\.1, got 2", "member-i"),
    case(lambda: deepnets.family_member(FAM, 0, 0), ValueError, r"l must be an integer in 1\.\.2, got 0", "member-l"),
    case(lambda: deepnets.family_member(None, 0, 1), TypeError, "family must be the dict of", "member-family"),
    case(lambda: deepnets.family_ntk(FAM, XU, anchor=1.5), ValueError, r"anchor must be an integer in 0\.\.5, got 1\.5",
         "famntk-anchor-frac"),
    case(lambda: deepnets.family_ntk(FAM, XU, anchor=10), ValueError, "anchor .* got 10", "famntk-anchor-range"),
    case(lambda: deepnets.family_ntk(FAM, XU, chunk=0), ValueError, "chunk must be a positive integer", "famntk-chunk"),
    case(lambda: deepnets.family_ntk({}, XU), TypeError, "family must be the dict of", "famntk-family"),
    case(lambda: deepnets.infinite_width_ntk(XU, 0, 2), ValueError, "width must be a positive integer, got 0", "inf-width"),
    case(lambda: deepnets.infinite_width_ntk(XU, 4, 1.5), ValueError, r"depth .* got 1\.5", "inf-depth"),
    case(lambda: deepnets.infinite_width_ntk(XU, 4, 2, sigma_w2=NAN), ValueError, "sigma_w2 must be a positive", "inf-sw"),
    case(lambda: deepnets.infinite_width_ntk(XU, 4, 2, bias="y"), TypeError, "bias must be True or False", "inf-bias"),
]

TABLES.update({"uci_benchmark": UCI, "trained_nets": TRAINED_NETS, "graph_benchmark": GRAPH_BENCHMARK, "gntk": GNTK,
               "evolution": EVOLUTION, "deepnets": DEEPNETS})


@pytest.mark.parametrize("call,exc,match", UCI)
def test_uci_benchmark(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", TRAINED_NETS)
def test_trained_nets(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", GRAPH_BENCHMARK)
def test_graph_benchmark(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", GNTK)
def test_gntk(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", EVOLUTION)
def test_evolution(call, exc, match):
    _run(call, exc, match)


@pytest.mark.parametrize("call,exc,match", DEEPNETS)
def test_deepnets(call, exc, match):
    _run(call, exc, match)


def test_the_tables_cover_every_public_function_of_the_section_4_and_5_modules():
    assert not _uncovered((uci_benchmark, trained_nets, graph_benchmark, gntk, evolution, deepnets))
    assert sum(len(TABLES[k]) for k in ("uci_benchmark", "trained_nets", "graph_benchmark", "gntk", "evolution",
                                        "deepnets")) >= 100


def test_trained_nets_divergence_names_the_epoch_and_returns_the_flagged_result_on_request():
    X = 10 * XU
    with pytest.raises(TrainingDiverged) as info:
        trained_nets.train(X, YU, 2, lr=1e6, **_TN)
    err = info.value
    assert isinstance(err, FloatingPointError) and err.step == 1 and f"epoch {err.step}" in str(err)
    assert "on_divergence='return'" in str(err)
    with np.errstate(all="ignore"):
        run = trained_nets.train(X, YU, 2, lr=1e6, on_divergence="return", **_TN)[0]
    assert run.diverged_epoch == 1 and len(run.epochs) == len(run.train_loss)
    # a loss that explodes while the weights stay finite is divergence too (cross-entropy, large step)
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    with pytest.raises(TrainingDiverged, match=r"exceeds 1e6 x max\(the initial loss"):
        trained_nets.train(Xb, yb, 3, depth=1, width=16, lr=10.0, epochs=5, batch_size=8)
    run = trained_nets.train(Xb, yb, 3, depth=1, width=16, lr=10.0, epochs=5, batch_size=8, on_divergence="return")[0]
    assert run.diverged_epoch is not None and np.all(np.isfinite(run.params[-1][0])) and len(run.epochs) == 5
    # a stable run is not flagged
    assert trained_nets.train(XU, YU, 2, lr=0.01, **_TN)[0].diverged_epoch is None


@given(width=st.integers(1, 8), depth=st.integers(1, 2), epochs=st.integers(1, 3), batch=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 2), lr=st.floats(1e-4, 1e-2), param=st.sampled_from(trained_nets.PARAMETERIZATIONS),
       loss=st.sampled_from(trained_nets.LOSSES), whole=st.booleans())
def test_trained_nets_train_accepts_any_valid_sizes_and_seeds(width, depth, epochs, batch, seed, lr, param, loss, whole):
    num = float if whole else int                       # whole floats (3.0) are counts too
    run = trained_nets.train(XU, YU, 2, depth=num(depth), width=num(width), epochs=num(epochs), batch_size=num(batch),
                             seed=seed, lr=lr, parameterization=param, loss=loss,
                             eval_sets={"train": (XU, YU)})[0]
    assert run.diverged_epoch is None and list(run.epochs) == list(range(1, epochs + 1))
    assert np.all(np.isfinite(run.train_loss)) and np.all((0 <= run.history["train"]) & (run.history["train"] <= 1))


@given(gaps=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=4), start=st.floats(-1e3, 1e3),
       scales=st.lists(st.floats(0.1, 10), min_size=5, max_size=5))
def test_kernel_velocity_is_finite_and_non_negative_for_psd_kernels_and_increasing_times(gaps, start, scales):
    times = start + np.concatenate([[0.0], np.cumsum(gaps)])
    if np.any(np.diff(times) <= 0):                  # round-off at a large start: not strictly increasing
        return
    A = np.random.default_rng(0).standard_normal((4, 3))
    kernels = [(A * s) @ (A * s).T + s * np.eye(4) for s in scales[:len(times)]]
    t, v = evolution.kernel_velocity(kernels, times)
    assert np.array_equal(t, times[:-1]) and np.all(np.isfinite(v)) and np.all(v >= -tol.ROUNDOFF_ATOL)


@given(seed=st.integers(0, 2**32 - 1), per_class=st.integers(1, 3), n_classes=st.integers(1, 4))
def test_class_sorted_probe_accepts_any_seed_in_range(seed, per_class, n_classes):
    labels = np.repeat(np.arange(n_classes), 3)
    idx = evolution.class_sorted_probe(labels, per_class, seed)
    assert len(idx) == per_class * n_classes and np.all(np.diff(labels[idx]) >= 0)
    assert np.array_equal(idx, evolution.class_sorted_probe(labels, per_class, float(seed)))   # 3.0 is seed 3


@given(C=st.floats(1e-3, 1e4), degree=st.integers(1, 6), g=st.floats(1e-3, 1e2))
def test_svm_accuracy_is_a_fraction_for_any_positive_C_and_kernel(C, degree, g):
    for K in (uci_benchmark.polynomial_kernel(XU, degree), uci_benchmark.gaussian_kernel(XU, g)):
        acc = uci_benchmark.svm_accuracy(K[:4, :4], K[4:, :4], YU[:4], YU[4:], C, max_iter=10_000)
        assert acc in (0.0, 0.5, 1.0)


@given(n=st.integers(1, 30), batch=st.integers(1, 40), steps=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_minibatch_indices_for_any_valid_sizes(n, batch, steps, seed):
    idx = deepnets.minibatch_indices(n, batch, steps, seed)
    if batch >= n:
        assert idx is None
    else:
        assert idx.shape == (steps, batch) and (steps == 0 or (idx.min() >= 0 and idx.max() < n))
        assert all(len(set(row)) == batch for row in idx)


@given(A=hnp.arrays(np.float64, (4, 3), elements=st.floats(-3, 3)), ridge=st.floats(1e-3, 10))
def test_gntk_normalize_gives_a_unit_diagonal_for_any_pd_kernel(A, ridge):
    K = gntk.normalize(A @ A.T + ridge * np.eye(4))
    np.testing.assert_allclose(np.diag(K), 1.0, rtol=tol.ROUNDOFF_RTOL)
    assert np.all(np.abs(K) <= 1 + tol.ROUNDOFF_RTOL)


def test_deepnets_train_reports_a_diverging_loss():
    # A huge step makes the MSE overflow within a few steps: an error naming the step, or the flagged trajectory.
    X = np.random.default_rng(0).standard_normal((8, 3))
    Y = np.eye(2)[np.arange(8) % 2]
    params = deepnets.init_mlp(0, [3, 16, 2])
    with pytest.raises(FloatingPointError, match=r"loss became .* at step \d+ of 200"):
        deepnets.train(deepnets.mlp_apply, params, X, Y, optimizer=deepnets.SGD(1e6), steps=200, record_every=20)
    tr = deepnets.train(deepnets.mlp_apply, params, X, Y, optimizer=deepnets.SGD(1e6), steps=200, record_every=20,
                        on_divergence="return")
    assert tr.diverged_step is not None and not np.isfinite(tr.batch_loss[tr.diverged_step - 1])
    assert np.all(np.isfinite(tr.batch_loss[:tr.diverged_step - 1]))
    ok = deepnets.train(deepnets.mlp_apply, params, X, Y, optimizer=deepnets.SGD(0.01), steps=20)
    assert ok.diverged_step is None and np.all(np.isfinite(ok.batch_loss))


def test_gnn_training_reports_divergence():
    # A huge Adam step (each step moves a weight by about lr) drives the outputs to inf/NaN; argmax of NaN would score a plausible accuracy.
    from ntklib import datasets
    from ntklib.experiments import graph_benchmark
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)
    pair = np.array([[0, 1], [1, 0]], np.uint8)
    graphs = [datasets.Graph(path, np.array([0, 1, 0]), 2), datasets.Graph(pair, np.array([1, 1]), 2)] * 10
    folds = tuple((np.arange(0, 16), np.arange(16, 20)) for _ in range(2))
    ds = datasets.GraphDataset("toy", graphs, np.array([0, 1] * 10), 2, folds, False)
    ok = graph_benchmark.train_gnn_cv(ds, hidden=8, blocks=1, mlp_layers=1, epochs=5, lr=0.01)
    assert ok.shape == (2, 5) and np.all((ok >= 0) & (ok <= 1))
    with pytest.raises(FloatingPointError, match="diverged"):
        graph_benchmark.train_gnn_cv(ds, hidden=8, blocks=1, mlp_layers=1, epochs=30, lr=1e200)
    flagged = graph_benchmark.train_gnn_cv(ds, hidden=8, blocks=1, mlp_layers=1, epochs=30, lr=1e200,
                                           on_divergence="return")
    assert flagged.shape == (2, 30)
