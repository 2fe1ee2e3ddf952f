"""Bad input gets a clear error naming the problem; the claims-as-checks recorder writes and fails."""
import json

import numpy as np
import pytest

from ntklib import datasets, unit_norm
from ntklib._validate import NotPositiveDefiniteError
from ntklib.theory import bounds, dynamics, kernels, regression, spectrum
from ntklib.models import networks
from ntklib.book import checks

X3 = unit_norm(np.random.default_rng(0).standard_normal((3, 2)))
H3 = kernels.ntk_two_layer(X3)
NET = networks.init_two_layer(0, 4, 2)
NOT_PSD = np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("call,exc,match", [
    (lambda: kernels.ntk_two_layer(2 * X3), ValueError, "unit-norm.*norm 2"),
    (lambda: kernels.ntk_two_layer(X3[0]), ValueError, "must be 2-D"),
    (lambda: kernels.ntk_two_layer(np.array([[np.nan, 1.0]])), ValueError, "NaN or inf"),
    (lambda: kernels.ntk_two_layer(X3, unit_norm(np.ones((2, 3)))), ValueError, "different feature dimensions"),
    (lambda: kernels.ntk_two_layer(X3, activation="tanh"), ValueError, "unknown activation 'tanh'"),
    (lambda: kernels.ntk_two_layer(X3, a_init="gauss"), ValueError, "unknown a_init"),
    (lambda: kernels.ntk_two_layer(np.array([["a", "b"]])), TypeError, "real numeric"),
    (lambda: kernels.fc_relu_ntk(X3, depth=0), ValueError, "depth must be a positive integer"),
    (lambda: kernels.fc_relu_ntk(X3, depth=2, n_fixed=3), ValueError, "n_fixed must be in 0..depth"),
    (lambda: networks.init_two_layer(0, 0, 3), ValueError, "width must be a positive integer"),
    (lambda: networks.gd_step(networks.init_two_layer(0, 4, 2), X3, np.ones(2), 0.1), ValueError, "y has length 2, expected 3"),
    (lambda: networks.gd_step(networks.init_two_layer(0, 4, 2), X3, np.ones(3), -0.1), ValueError, "eta must be a positive"),
    (lambda: regression.kernel_regression(np.ones((2, 3)), np.ones((3, 3)), np.ones(3)), NotPositiveDefiniteError,
     "smallest eigenvalue"),
    (lambda: regression.kernel_regression(np.ones((2, 3)), np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2)),
     ValueError, "not symmetric"),
    (lambda: regression.kernel_regression(np.ones((2, 4)), np.eye(3), np.ones(3)), ValueError, "4 columns"),
    (lambda: unit_norm(np.zeros((2, 2))), ValueError, "row 0 is all zeros"),
    (lambda: unit_norm(np.array([[1.0, np.inf]])), ValueError, "NaN or inf"),
    # dynamics (Lemma 1)
    (lambda: dynamics.spectral_solution(NOT_PSD, np.ones(2), 1.0), ValueError, "not positive semidefinite: smallest eigenvalue -1"),
    (lambda: dynamics.spectral_solution(H3, np.ones(3), -1.0), ValueError, "times t must be >= 0"),
    (lambda: dynamics.spectral_solution(H3, np.ones(3), 1.0, u0=np.ones(2)), ValueError, "u0 has length 2, expected 3"),
    (lambda: dynamics.gd_solution(H3, np.ones(3), 0.0, [1]), ValueError, "eta must be a positive"),
    (lambda: dynamics.integrate(H3, np.ones(3), [1.0, 0.5]), ValueError, "non-negative and increasing"),
    (lambda: dynamics.integrate(np.ones((2, 3)), np.ones(2), [1.0]), ValueError, "must be square"),
    # networks
    (lambda: networks.init_two_layer(0, 5, 2, antisymmetric=True), ValueError, "even width"),
    (lambda: networks.init_two_layer(0, 4, 2, activation="gelu"), ValueError, "unknown activation 'gelu'"),
    (lambda: networks.gd_train(NET, X3, np.ones(3), 0.1, 10, record_every=3), ValueError, "multiple of record_every"),
    (lambda: networks.gd_train(NET, X3, np.ones(3), 0.1, 10, record_every=5, snapshot_steps=(7,)), ValueError,
     "snapshot_steps"),
    (lambda: NET(np.ones((2, 5))), ValueError, "X has 5 features but the net expects 2"),
    (lambda: kernels.empirical_ntk_two_layer(NET.W, NET.a, np.ones((2, 3))), ValueError, "input dimension 2 but X has 3"),
    (lambda: kernels.empirical_ntk_two_layer(NET.W, NET.a[:3], X3), ValueError, "a has length 3, expected 4"),
    # regression and spectrum
    (lambda: regression.kernel_regression(H3, H3, np.ones(3), ridge=-1.0), ValueError, "ridge must be >= 0"),
    (lambda: regression.gradient_flow_predictor(H3, H3, np.ones(3), 1.0, f0_x=np.ones(2)), ValueError,
     "f0_x has length 2, expected 3"),
    (lambda: spectrum.predicted_loss_flow(NOT_PSD, np.ones(2), 1.0), ValueError, "not positive semidefinite"),
    (lambda: spectrum.projections(H3, np.ones((3, 1))), ValueError, "y must be 1-D"),
    (lambda: spectrum.predicted_loss_gd(H3, np.array([1.0, np.nan, 0.0]), 0.1, [1]), ValueError, "y contains NaN"),
    # bounds
    (lambda: bounds.theorem6_bound(H3, np.ones(3), 1.0, 0.6), ValueError, "p < 1/2"),
    (lambda: bounds.theorem6_bound(H3, np.ones(3), -1.0, 0.1), ValueError, "lam must be positive"),
    (lambda: bounds.lemma2_width(0.1, 0.0, 3), ValueError, "delta must be a probability in .0, 1."),
    (lambda: bounds.generalization_bound(H3, np.ones(4)), ValueError, "y has length 4, expected 3"),
    # datasets
    (lambda: datasets.corrupt_labels(np.ones(4), 1.5, seed=0), ValueError, "p must be in .0, 1."),
    (lambda: datasets.symmetric_flip(np.ones(4), -0.1, seed=0), ValueError, "p must be in .0, 1."),
    (lambda: datasets.random_labels(0, seed=0), ValueError, "positive integer"),
    (lambda: datasets.load_images("imagenet"), ValueError, "unknown image data set 'imagenet'"),
    (lambda: datasets.two_class("mnist", 10, 5, seed=0, classes=(3, 3)), ValueError, "two different labels"),
    # checks
    (lambda: checks.Checks("x", "ci", 0).expect("A", "c", "s", 1.0, "==", 1.0), ValueError, "op must be one of"),
    (lambda: checks.Checks("x", "ci", 0).expect("A", "c", "s", 1.0, "approx", 1.0), ValueError, "needs tol"),
])
def test_bad_input_raises_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_checks_record_pass_finding_and_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path))
    c = checks.Checks("99_test", "ci", 0)
    assert c.expect("A", "slope is -1/2", "Lemma 2", -0.49, "approx", -0.5, tol=0.05).status == "pass"
    assert c.expect("B", "n^6 is needed", "Lemma 3", 4.0, "approx", 6.0, tol=0.1, holds_at=()).status == "does not reproduce"
    assert c.expect("C", "bound holds", "Lemma 2", np.float64(0.3), "<=", 0.2).status == "FAIL"
    assert c.expect("D", "in range", "x", 0.5, "between", (0, 1)).status == "pass"
    assert c.expect("E", "nan never passes", "x", float("nan"), "<=", 1.0, holds_at=()).status == "does not reproduce"
    with pytest.raises(ValueError, match="duplicate"):
        c.expect("A", "again", "x", 1, "<=", 2)
    with pytest.raises(checks.ClaimFailed, match="C: measured 0.3"):
        c.finish()
    rec = json.loads((tmp_path / "site" / "results" / "99_test.json").read_text())
    assert [x["status"] for x in rec["checks"]] == ["pass", "does not reproduce", "FAIL", "pass", "does not reproduce"]
    # the closing summary names each check once, by status, without repeating its claim
    summary = c.summary_markdown()
    assert summary.splitlines()[1:] == [f"- {checks.badge('FAIL')} 1: C", f"- {checks.badge('does not reproduce')} 2: B, E",
                                        f"- {checks.badge('pass')} 2: A, D"]
    assert "slope is -1/2" not in summary
    assert rec["scale"] == "ci" and rec["versions"]["jax"]
