"""ntklib.models.evolution against independent references: an explicit Jacobian contraction and neural-tangents
for the empirical NTK, finite differences for the one-step NTK change, explicit block extraction (as in
Seleznova & Kutyniok's code) for the class structure, and properties of the kernel distance (hypothesis)."""
import jax
import numpy as np
import pytest
from conftest import needs_nt
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays
from jax.flatten_util import ravel_pytree

from ntklib import tolerances as tol
from ntklib.models import deepnets as dn, evolution as ev

# A central finite difference with step h has error O(h^2): with h = 1e-5 on O(1) quantities, ~1e-9 (tol.FD_RTOL).
FD_STEP = 1e-5



@needs_nt
def test_empirical_ntk_equals_jacobian_contraction_and_neural_tangents(rng):
    import jax.numpy as jnp
    import neural_tangents as nt
    params = {"A": jnp.asarray(rng.standard_normal((4, 6))), "B": jnp.asarray(rng.standard_normal((6, 2))),
              "C": jnp.asarray(rng.standard_normal((4, 2)))}
    apply = lambda p, X: jnp.tanh(X @ p["A"]) @ p["B"] + X @ p["C"]
    X1, X2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    flat, unravel = ravel_pytree(params)
    J1 = jax.jacrev(lambda w: apply(unravel(w), X1))(flat)
    J2 = jax.jacrev(lambda w: apply(unravel(w), X2))(flat)
    ref = np.einsum("ikp,jkp->ij", J1, J2)
    for chunk in (1, 2, 16):
        np.testing.assert_allclose(ev.empirical_ntk(apply, params, X1, X2, chunk_size=chunk), ref, rtol=tol.ROUTES_RTOL)
    nt_mean = np.asarray(nt.empirical_ntk_fn(apply, trace_axes=(-1,), vmap_axes=0)(X1, X2, params))
    np.testing.assert_allclose(ev.empirical_ntk(apply, params, X1, X2), 2 * nt_mean, rtol=tol.ROUTES_RTOL)  # nt averages


# ---------------------------------------------------------------------------------------------- kernel distance

def _psd(seed, n=6, rank=3):
    A = np.random.default_rng(seed).standard_normal((n, rank))
    return A @ A.T


@given(st.integers(0, 10_000), st.floats(1e-3, 1e3))
def test_kernel_distance_is_scale_invariant_and_zero_on_itself(seed, c):
    K = _psd(seed)
    assert abs(ev.kernel_distance(K, c * K)) < tol.ROUNDOFF_ATOL
    assert abs(ev.kernel_distance(K, K)) < tol.ROUNDOFF_ATOL


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 6))
def test_kernel_distance_is_symmetric_and_in_unit_interval_for_psd(s1, s2, r1, r2):
    K1, K2 = _psd(s1, rank=r1), _psd(s2 + 10_001, rank=r2)
    d = ev.kernel_distance(K1, K2)
    assert d == pytest.approx(ev.kernel_distance(K2, K1), abs=tol.ROUNDOFF_ATOL)
    assert -tol.ROUNDOFF_ATOL <= d <= 1 + tol.ROUNDOFF_ATOL


@given(arrays(np.float64, (4, 4), elements=st.floats(-10, 10)))
def test_kernel_distance_of_negation_is_two(K):
    if np.linalg.norm(K) > 1e-6:
        assert ev.kernel_distance(K, -K) == pytest.approx(2.0, abs=tol.ROUNDOFF_ATOL)


def test_kernel_distance_is_invariant_under_orthogonal_change_of_basis(rng):
    K1, K2 = _psd(1), _psd(2)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    assert ev.kernel_distance(Q @ K1 @ Q.T, Q @ K2 @ Q.T) == pytest.approx(ev.kernel_distance(K1, K2), abs=tol.ROUNDOFF_ATOL)


def test_kernel_distance_errors():
    with pytest.raises(ValueError, match="same shape"):
        ev.kernel_distance(np.eye(3), np.eye(4))
    with pytest.raises(ValueError, match="zero kernel"):
        ev.kernel_distance(np.zeros((3, 3)), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        ev.kernel_distance(np.full((2, 2), np.nan), np.eye(2))


def test_kernel_velocity_and_distances():
    A, B = _psd(3), _psd(4)
    times = np.array([0.0, 2.0, 4.0, 6.0])
    kernels = [(1 - t / 6) * A + (t / 6) * B for t in times]
    t, v = ev.kernel_velocity(kernels, times)
    np.testing.assert_array_equal(t, times[:-1])
    np.testing.assert_allclose(v, [ev.kernel_distance(kernels[i], kernels[i + 1]) / 2.0 for i in range(3)])
    np.testing.assert_allclose(ev.distances_from(kernels, A)[[0, -1]], [0.0, ev.kernel_distance(A, B)], atol=tol.ROUNDOFF_ATOL)
    with pytest.raises(ValueError, match="increasing"):
        ev.kernel_velocity(kernels, times[::-1])
    with pytest.raises(ValueError, match="one time per kernel"):
        ev.kernel_velocity(kernels, times[:3])
    assert ev.relative_change(A, 2 * A) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- one GD step

def _fd_grad(fun, w, h=FD_STEP):
    return np.array([(fun(w + h * e) - fun(w - h * e)) / (2 * h) for e in np.eye(w.size)])


@pytest.fixture
def small():
    params = dn.init_mlp(5, [3, 5, 4, 1], sigma_w2=2.0, bias=False)
    x = np.array([0.7, -1.2, 0.4])
    return params, x, 0.3


def test_one_step_change_against_finite_differences(small):
    params, x, y = small
    flat, unravel = ravel_pytree(params)
    f = lambda w: float(dn.mlp_apply(unravel(w), x[None])[0, 0])
    theta = lambda w: float(np.sum(_fd_grad(f, w) ** 2))               # Theta(x, x) = ||grad f||^2, by FD
    lr = 0.05
    w_next = flat - lr * (f(flat) - y) * _fd_grad(f, flat)             # one GD step on 1/2 (f - y)^2, by FD
    out = ev.one_step_ntk_change(dn.mlp_apply, params, x, y, lr)
    assert out.theta == pytest.approx(theta(flat), rel=tol.FD_RTOL)
    assert out.theta_next == pytest.approx(theta(w_next), rel=tol.FD_RTOL)


def test_one_step_change_is_first_order_in_the_step(small):
    # Delta Theta / lr -> -(f - y) <grad Theta, grad f>, with the directional derivative by finite differences.
    params, x, y = small
    flat, unravel = ravel_pytree(params)
    grad_f = np.asarray(ravel_pytree(jax.grad(lambda p: dn.mlp_apply(p, x[None])[0, 0])(params))[0])
    theta = lambda w: float(ev.one_step_ntk_change(dn.mlp_apply, unravel(w), x, y, 1.0).theta)
    r = float(dn.mlp_apply(params, x[None])[0, 0]) - y
    slope = -r * (theta(flat + FD_STEP * grad_f) - theta(flat - FD_STEP * grad_f)) / (2 * FD_STEP)
    errs = []
    lrs = (1e-2, 1e-3, 1e-4)
    for lr in lrs:
        d = ev.one_step_ntk_change(dn.mlp_apply, params, x, y, lr).delta
        errs.append(abs(d / lr - slope) / abs(slope))
    assert errs[2] < tol.FIRST_ORDER_FACTOR * lrs[2] and errs[2] < errs[1] < errs[0]


def test_one_step_change_batched_equals_loop():
    stack = dn.init_mlp_batch(1, 4, [3, 6, 6, 1], bias=False)
    x, y = np.array([1.0, 0.5, -0.3]), -0.2
    out = ev.one_step_ntk_change(dn.mlp_apply, stack, x, y, 0.01, batched=True)
    for i in range(4):
        one = ev.one_step_ntk_change(dn.mlp_apply, jax.tree_util.tree_map(lambda a: a[i], stack), x, y, 0.01)
        assert out.theta[i] == pytest.approx(float(one.theta), rel=tol.ROUTES_RTOL)
        assert out.delta[i] == pytest.approx(float(one.delta), rel=tol.ROUTES_RTOL, abs=tol.FEW_OPS_ATOL)


def test_ntk_diagonal_is_the_kernel_diagonal(rng):
    stack = dn.init_mlp_batch(2, 3, [4, 5, 3], sigma_b2=0.2)
    x = rng.standard_normal(4)
    diag = ev.ntk_diagonal(dn.mlp_apply, stack, x, batched=True)
    for i in range(3):
        net = jax.tree_util.tree_map(lambda a: a[i], stack)
        assert diag[i] == pytest.approx(dn.mlp_ntk(net, x[None])[0, 0], rel=tol.ROUTES_RTOL)
        assert float(ev.ntk_diagonal(dn.mlp_apply, net, x)) == pytest.approx(diag[i], rel=tol.ROUTES_RTOL)


def test_one_step_change_rejects_bad_input(small):
    params, x, y = small
    with pytest.raises(ValueError, match="lr"):
        ev.one_step_ntk_change(dn.mlp_apply, params, x, y, 0.0)
    with pytest.raises(ValueError, match="x"):
        ev.one_step_ntk_change(dn.mlp_apply, params, np.array([[1.0, 2.0, 3.0]]), y, 0.1)
    with pytest.raises(ValueError, match="y"):
        ev.one_step_ntk_change(dn.mlp_apply, params, x, np.nan, 0.1)


# ---------------------------------------------------------------------------------------------- class structure

def _blocks_like_seleznova(K, per_class):
    """Their notebook: Theta_c = mean of the diagonal blocks (diagonal included), Theta_n = the rest."""
    n = len(K)
    diag_blocks = np.array([K[i:i + per_class, i:i + per_class] for i in range(0, n, per_class)])
    off_blocks = np.array([np.concatenate((K[:i, i:i + per_class], K[i + per_class:, i:i + per_class]))
                           for i in range(0, n, per_class)])
    return np.mean(np.diag(K)), diag_blocks.mean(), off_blocks.mean()


def test_class_structure_matches_block_extraction(rng):
    labels = np.repeat(np.arange(4), 5)
    A = rng.standard_normal((20, 7)) + 2.0 * np.eye(4)[labels] @ rng.standard_normal((4, 7))
    K = A @ A.T
    s = ev.class_structure(K, labels)
    np.testing.assert_allclose([s.theta_d, s.theta_c, s.theta_n], _blocks_like_seleznova(K, 5), rtol=tol.ROUTES_RTOL)
    assert s.ratio_c == pytest.approx(s.theta_c / s.theta_d)
    off = ev.class_structure(K, labels, include_diagonal=False)
    same_off = (labels[:, None] == labels[None, :]) & ~np.eye(20, dtype=bool)
    assert off.theta_c == pytest.approx(K[same_off].mean()) and off.theta_n == pytest.approx(s.theta_n)
    perm = rng.permutation(20)
    assert ev.class_structure(K[np.ix_(perm, perm)], labels[perm]) == pytest.approx(s)


def test_class_structure_errors_and_probe():
    with pytest.raises(ValueError, match="two classes"):
        ev.class_structure(np.eye(3), [1, 1, 1])
    with pytest.raises(ValueError, match="one entry per row"):
        ev.class_structure(np.eye(3), [0, 1])
    labels = np.array([2, 0, 1, 0, 2, 1, 1, 0, 2, 2])
    idx = ev.class_sorted_probe(labels, 2, seed=0)
    assert list(labels[idx]) == [0, 0, 1, 1, 2, 2]
    np.testing.assert_array_equal(idx, ev.class_sorted_probe(labels, 2, seed=0))
    with pytest.raises(ValueError, match="fewer than"):
        ev.class_sorted_probe(labels, 4, seed=0)


# ---------------------------------------------------------------------------------------------- one NTK row

@pytest.mark.parametrize("chunk", [1, 3, 256])
def test_ntk_row_equals_the_row_of_the_jacobian_contraction(rng, chunk):
    # one vjp at x0 and one jvp on X per output, never a Jacobian: the same numbers as empirical_ntk's row
    from ntklib.models import jacot
    X = rng.standard_normal((7, 3))
    scalar = jacot.init_ntk_mlp(0, (3, 6, 5, 1))
    multi = dn.init_mlp(1, (3, 6, 4))
    for apply, params in ((jacot.ntk_mlp_apply, scalar), (dn.mlp_apply, multi)):
        K = ev.empirical_ntk(apply, params, X)
        for i in (0, 4):
            np.testing.assert_allclose(ev.ntk_row(apply, params, X[i], X, chunk_size=chunk), K[i], rtol=tol.ROUTES_RTOL)
    Z = rng.standard_normal((2, 3))
    np.testing.assert_allclose(ev.ntk_row(dn.mlp_apply, multi, Z[1], X), ev.empirical_ntk(dn.mlp_apply, multi, Z, X)[1],
                               rtol=tol.ROUTES_RTOL)


def test_ntk_row_errors(rng):
    params = dn.init_mlp(0, (3, 4, 1))
    with pytest.raises(ValueError, match="feature dimensions"):
        ev.ntk_row(dn.mlp_apply, params, np.ones(2), rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match="chunk_size"):
        ev.ntk_row(dn.mlp_apply, params, np.ones(3), rng.standard_normal((4, 3)), chunk_size=0)
    with pytest.raises(ValueError, match="x0"):
        ev.ntk_row(dn.mlp_apply, params, np.ones((2, 3)), rng.standard_normal((4, 3)))
    with pytest.raises(TypeError, match="apply_fn"):
        ev.ntk_row("f", params, np.ones(3), rng.standard_normal((4, 3)))
