"""Bad input gets a clear error naming the problem; the claims-as-checks recorder writes and fails."""
import json

import numpy as np
import pytest

from ntklib import checks, kernels, networks, regression, unit_norm
from ntklib._validate import NotPositiveDefiniteError

X3 = unit_norm(np.random.default_rng(0).standard_normal((3, 2)))


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
    assert rec["scale"] == "ci" and rec["versions"]["jax"]
