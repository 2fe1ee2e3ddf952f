"""unit_norm and the label-noise helpers (Zhang et al. 2017; symmetric flips)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ntklib import tolerances as tol
from ntklib.datasets import corrupt_labels, random_labels, symmetric_flip, unit_norm


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
                  elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_unit_norm_rows(X):
    if (X == 0).all(axis=1).any():
        with pytest.raises(ValueError, match="all zeros"):
            unit_norm(X)
        return
    U = unit_norm(X)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=tol.ROUNDOFF_RTOL)
    # Same direction: each row of U is a positive multiple of the row of X
    # (compared via ratios to the row's largest entry, which cannot overflow).
    i = np.argmax(np.abs(X), axis=1)
    rows = np.arange(len(X))
    assert (np.sign(U[rows, i]) == np.sign(X[rows, i])).all()
    ratio = U / U[rows, i][:, None]
    np.testing.assert_allclose(ratio, X / X[rows, i][:, None], rtol=tol.ROUNDOFF_RTOL, atol=tol.UNDERFLOW_ATOL)


def test_unit_norm_extreme_magnitudes():
    X = np.array([[5e-324, 5e-324], [1e308, 1e308]])  # naive norms: 0 and inf
    np.testing.assert_allclose(unit_norm(X), np.full((2, 2), np.sqrt(0.5)))


def test_unit_norm_input_checks():
    X = np.array([[3, 4], [0, 0]], dtype=np.uint8)
    with pytest.raises(ValueError, match="row 1 is all zeros"):
        unit_norm(X)
    np.testing.assert_allclose(unit_norm(X[:1]), [[0.6, 0.8]])  # integer input, float output
    with pytest.raises(ValueError, match="2-D"):
        unit_norm(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        unit_norm(np.array([[np.nan, 1.0]]))


def test_random_labels():
    y = random_labels(1000, seed=0)
    assert y.dtype == np.float64 and set(np.unique(y)) == {-1.0, 1.0}
    assert 400 < (y > 0).sum() < 600
    np.testing.assert_array_equal(y, random_labels(1000, seed=0))
    assert not np.array_equal(y, random_labels(1000, seed=1))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            random_labels(bad, seed=0)


labels_pm = hnp.arrays(np.float64, st.integers(1, 200), elements=st.sampled_from([-1.0, 1.0]))
labels_mc = hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 9))
probs = st.floats(0.0, 1.0)


@given(y=labels_pm, p=probs, seed=st.integers(0, 2**32 - 1))
def test_corrupt_labels_pm(y, p, seed):
    out = corrupt_labels(y, p, seed)
    assert out.dtype == y.dtype and set(np.unique(out)) <= {-1.0, 1.0}
    assert (out != y).sum() <= round(p * y.size)
    np.testing.assert_array_equal(out, corrupt_labels(y, p, seed))


@given(y=labels_mc, p=probs, seed=st.integers(0, 2**32 - 1))
def test_corrupt_labels_multiclass(y, p, seed):
    out = corrupt_labels(y, p, seed, num_classes=10)
    assert out.min() >= 0 and out.max() <= 9
    assert (out != y).sum() <= round(p * y.size)


def test_corrupt_labels_statistics():
    """round(p n) labels are redrawn; a redrawn label keeps its value with prob 1/C."""
    y = np.zeros(100_000, dtype=np.int64)
    out = corrupt_labels(y, 0.5, seed=0, num_classes=10)
    changed = (out != y).mean()
    p_changed = 0.5 * 9 / 10  # 0.45, not 0.5: replaced labels can equal the original
    assert abs(changed - p_changed) < tol.MC_SIGMAS * np.sqrt(p_changed * (1 - p_changed) / y.size)
    counts = np.bincount(out[out != 0], minlength=10)[1:]
    assert counts.min() > counts.mean() - tol.MC_SIGMAS * np.sqrt(counts.mean())  # uniform over the other classes
    assert np.array_equal(corrupt_labels(y, 0.0, seed=0, num_classes=10), y)
    full = corrupt_labels(np.ones(10_000), 1.0, seed=0)
    assert abs(full.mean()) < tol.MC_SIGMAS / np.sqrt(full.size)  # p = 1: completely random signs


@given(y=labels_mc, p=probs, seed=st.integers(0, 2**32 - 1))
def test_symmetric_flip_changes_only_to_other_classes(y, p, seed):
    out = symmetric_flip(y, p, seed, num_classes=10)
    assert out.min() >= 0 and out.max() <= 9
    if p == 1.0:
        assert (out != y).all()
    if p == 0.0:
        assert (out == y).all()


def test_symmetric_flip_transition_matrix():
    C, p, n = 4, 0.3, 200_000
    y = np.repeat(np.arange(C), n // C)
    out = symmetric_flip(y, p, seed=5, num_classes=C)
    T = np.array([[np.mean(out[y == i] == j) for j in range(C)] for i in range(C)])
    expected = (1 - p) * np.eye(C) + p / (C - 1) * (1 - np.eye(C))
    np.testing.assert_allclose(T, expected, atol=tol.LABEL_FLIP_FREQUENCY_ATOL)


def test_symmetric_flip_signed_labels():
    y = np.where(np.arange(10_000) % 2 == 0, 1.0, -1.0)
    out = symmetric_flip(y, 0.2, seed=0)
    assert set(np.unique(out)) <= {-1.0, 1.0}
    assert abs((out != y).mean() - 0.2) < tol.MC_SIGMAS * np.sqrt(0.2 * 0.8 / y.size)
    np.testing.assert_array_equal(symmetric_flip(y, 1.0, seed=0), -y)


@pytest.mark.parametrize("fn", [corrupt_labels, symmetric_flip])
def test_label_noise_validation(fn):
    y = np.array([0, 1, 2])
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
            fn(y, p, seed=0)
    with pytest.raises(ValueError, match="0..1"):
        fn(y, 0.5, seed=0, num_classes=2)  # label 2 outside the alphabet
    with pytest.raises(ValueError, match="at least 2 classes"):
        fn(np.zeros(3, dtype=int), 0.5, seed=0)
    with pytest.raises(ValueError, match="1-D"):
        fn(np.zeros((2, 2), dtype=int), 0.5, seed=0)
    assert fn(y, 0.5, seed=0) is not y


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1))
def test_noise_does_not_modify_input(seed):
    y = np.arange(10) % 3
    before = y.copy()
    corrupt_labels(y, 0.7, seed)
    symmetric_flip(y, 0.7, seed)
    np.testing.assert_array_equal(y, before)
