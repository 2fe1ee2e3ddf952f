"""ntklib's fast kernels (ntklib.theory._fast, behind ntklib.theory.kernels) against the plain float64 closed forms
(kernels._*_reference), neural-tangents and exact values, in float64 and float32; the tiling (small tiles
here, so that several tiles, edge padding and threads are exercised on small inputs) must not show."""
import jax
import numpy as np
import pytest
from conftest import needs_nt, nt_stax as stax, sphere
from hypothesis import given, settings, strategies as st

from ntklib import tolerances as tol
from ntklib._jaxcompat import enable_x64
from ntklib.models import networks
from ntklib.theory import _fast, kernels


@pytest.fixture
def small_tiles(monkeypatch):
    monkeypatch.setattr(_fast, "TILE", 16)


def _scale(K):
    return np.abs(K).max()


# --- the polynomial arcsine ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,atol", [(np.float64, tol.ASIN_FLOAT64_ATOL), (np.float32, tol.ASIN_FLOAT32_ATOL)])
def test_asin_polynomial_is_accurate_to_two_ulp(dtype, atol):
    c = np.concatenate([np.linspace(-1, 1, 400_001), [-1, -0.5, 0.5, 1, np.nextafter(0.5, 1), 1e-30, -1e-30]])
    c = c.astype(dtype)
    with enable_x64(dtype == np.float64):
        got = np.asarray(jax.jit(_fast.asin)(c))
    assert got.dtype == dtype
    assert np.abs(got.astype(np.float64) - np.arcsin(c.astype(np.float64))).max() <= atol  # ~2 ulp of pi/2


# --- the slide model's H* --------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("a_init", ["rademacher", "uniform"])
@pytest.mark.parametrize("shape", [(37, None), (40, 23), (5, 70)])
def test_two_layer_matches_reference(rng, small_tiles, activation, a_init, shape):
    n, nz = shape
    X, Z = sphere(rng, n, 9), None if nz is None else sphere(rng, nz, 9)
    ref = kernels._ntk_two_layer_reference(X, Z, activation, a_init)
    got = kernels.ntk_two_layer(X, Z, activation, a_init)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=tol.CLOSED_FORM_ATOL, rtol=0)
    got32 = kernels.ntk_two_layer(X, Z, activation, a_init, dtype=np.float32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, ref, atol=tol.KERNEL_FLOAT32_RTOL * _scale(ref), rtol=0)
    if Z is None:
        np.testing.assert_array_equal(got, got.T)
        np.testing.assert_array_equal(got32, got32.T)


@needs_nt
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_two_layer_matches_neural_tangents_in_float32(rng, activation):
    # nt computes in float32 only with x64 off (with x64 on it promotes to float64).
    d = 20
    X = sphere(rng, 50, d).astype(np.float32)
    nt_act = {"relu": stax.Relu(), "erf": stax.Erf(np.sqrt(np.pi / 2), 1 / np.sqrt(2), 0.0)}[activation]
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=np.sqrt(d), b_std=None), nt_act, stax.Dense(1, W_std=1.0, b_std=None))
    with enable_x64(False):
        k = kernel_fn(X, None, ("ntk", "nngp"))
        nt32 = np.asarray(k.ntk - k.nngp)
    assert nt32.dtype == np.float32
    got = kernels.ntk_two_layer(X, activation=activation)
    assert got.dtype == np.float32
    off = ~np.eye(len(X), dtype=bool)  # nt's float32 relu diagonal is off by up to ~1e-4; ntklib's is exact (below)
    np.testing.assert_allclose(got[off], nt32[off], atol=2 * tol.KERNEL_FLOAT32_RTOL * _scale(got), rtol=0)
    exact = 0.5 if activation == "relu" else 1 / np.sqrt(3)        # c = 1: (pi - 0) / (2 pi) and (4 - 1)^(-1/2)
    np.testing.assert_allclose(np.diag(got), exact, rtol=tol.FLOAT32_ROUNDOFF_RTOL)


@pytest.mark.parametrize("seed", range(12))
def test_two_layer_diagonal_and_duplicates_are_exact_in_float32(seed):
    # In float32, x.x = 1 +- 1e-7 (more than 4 ulp off on some BLAS kernels, e.g. AVX-512) and
    # arccos(1 - 1e-7) = 4.5e-4: evaluated literally the relu diagonal would be off by 7e-5. The cosine is
    # normalised by the norms as the Gram matrix rounded them, and cosines within 4 eps of 1 count as 1,
    # so the diagonal is 1/2 and duplicates give identical rows (a singular kernel stays singular).
    # Many seeds and sizes: the rounding of x.x depends on the data and on which BLAS kernel runs.
    rng = np.random.default_rng(seed)
    n, d = [(300, 784), (257, 3072), (64, 100), (513, 17)][seed % 4]
    X = sphere(rng, n, d).astype(np.float32)
    X[7] = X[3]
    H = kernels.ntk_two_layer(X)
    np.testing.assert_allclose(np.diag(H), 0.5, rtol=tol.FLOAT32_ULP_RTOL)
    np.testing.assert_array_equal(H[3], H[7])


# --- the deep ReLU net (fc_relu_ntk) -------------------------------------------------------------------

def _exact_diagonal(X, depth, n_fixed=0):
    # cos = 1 on the diagonal; without bias and W_std^2 = 2, q = 2 |x|^2 / d at every layer, so
    # NNGP = q and NTK = (number of trained layers) * q = (depth + 1 - n_fixed) * q.
    q = 2 * np.einsum("ij,ij->i", X, X) / X.shape[1]
    return (depth + 1 - n_fixed) * q, q


@pytest.mark.parametrize("depth,n_fixed", [(1, 0), (3, 0), (5, 0), (5, 2), (2, 2)])
def test_fc_relu_matches_reference_and_exact_diagonal(rng, small_tiles, depth, n_fixed):
    X = 2.5 * rng.standard_normal((45, 7))
    ntk, nngp = kernels.fc_relu_ntk(X, depth=depth, n_fixed=n_fixed, return_nngp=True)
    ref_ntk, ref_nngp = kernels._fc_relu_ntk_reference(X, depth=depth, n_fixed=n_fixed, return_nngp=True)
    off = ~np.eye(len(X), dtype=bool)
    # Off the diagonal the two agree to round-off; on it the literal recursion is off by up to ~1e-8
    # relative (cos = 1 - 1e-16 gives theta = 1.5e-8), and the fast path is exact:
    np.testing.assert_allclose(ntk[off], ref_ntk[off], atol=tol.ROUNDOFF_RTOL * _scale(ref_ntk), rtol=0)
    np.testing.assert_allclose(nngp[off], ref_nngp[off], atol=tol.ROUNDOFF_RTOL * _scale(ref_nngp), rtol=0)
    exact_ntk, exact_nngp = _exact_diagonal(X, depth, n_fixed)
    np.testing.assert_allclose(np.diag(ntk), exact_ntk, rtol=tol.ROUNDOFF_TIGHT_RTOL)
    np.testing.assert_allclose(np.diag(nngp), exact_nngp, rtol=tol.ROUNDOFF_TIGHT_RTOL)
    np.testing.assert_array_equal(ntk, ntk.T)
    ntk32, nngp32 = kernels.fc_relu_ntk(X, depth=depth, n_fixed=n_fixed, return_nngp=True, dtype=np.float32)
    assert ntk32.dtype == nngp32.dtype == np.float32
    np.testing.assert_allclose(ntk32, ntk, atol=tol.KERNEL_FLOAT32_RTOL * _scale(ntk), rtol=0)
    np.testing.assert_allclose(nngp32, nngp, atol=tol.KERNEL_FLOAT32_RTOL * _scale(nngp), rtol=0)


@needs_nt
@pytest.mark.parametrize("depth,b_std,W_std", [(2, 0.2, 1.3), (3, 0.5, 1.0), (5, 0.0, 2**0.5)])
def test_fc_relu_symmetric_matches_neural_tangents(rng, small_tiles, depth, b_std, W_std):
    # The symmetric call (Z = None: one triangle, mirrored, exact diagonal) against nt's kernel_fn(X, None).
    X = 1.7 * rng.standard_normal((33, 6))
    b = b_std if b_std else None
    _, _, kernel_fn = stax.serial(*[l for _ in range(depth) for l in (stax.Dense(1, W_std, b), stax.Relu())],
                                  stax.Dense(1, W_std, b))
    k = kernel_fn(X, None, ("ntk", "nngp"))
    ntk, nngp = kernels.fc_relu_ntk(X, None, depth, W_std, b_std, return_nngp=True)
    # nt's own diagonal carries the same ~1e-8 relative round-off as the literal recursion.
    np.testing.assert_allclose(ntk, np.asarray(k.ntk), atol=tol.CLOSED_FORM_ATOL * _scale(ntk), rtol=0)
    np.testing.assert_allclose(nngp, np.asarray(k.nngp), atol=tol.CLOSED_FORM_ATOL * _scale(nngp), rtol=0)


@needs_nt
def test_fc_relu_matches_neural_tangents_in_float32(rng):
    X = sphere(rng, 60, 30).astype(np.float32)
    _, _, kernel_fn = stax.serial(*[l for _ in range(3) for l in (stax.Dense(1, 2**0.5), stax.Relu())], stax.Dense(1, 2**0.5))
    with enable_x64(False):
        nt32 = np.asarray(kernel_fn(X, None, "ntk"))
    got = kernels.fc_relu_ntk(X, depth=3)
    assert got.dtype == nt32.dtype == np.float32
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(got[off], nt32[off], atol=2 * tol.KERNEL_FLOAT32_RTOL * _scale(got), rtol=0)
    # On the diagonal nt's float32 value is off by up to ~1e-4 relative (arccos of a cosine rounded to
    # 1 - 6e-8); ntklib's is exact: NTK = (depth + 1) q with q = 2 ||x||^2 / d.
    np.testing.assert_allclose(np.diag(got), _exact_diagonal(X.astype(np.float64), 3)[0], rtol=tol.FLOAT32_ROUNDOFF_RTOL)


def test_fc_relu_zero_input_row_without_bias(small_tiles):
    # q = 0: the reference sets cos = 0 there; the kernel row is 0.
    X = np.vstack([np.zeros(4), np.eye(4)[:3], np.ones((20, 4))])
    for Z in (None, X[::-1].copy()):
        got = kernels.fc_relu_ntk(X, Z, depth=3, return_nngp=True)
        ref = kernels._fc_relu_ntk_reference(X, Z, depth=3, return_nngp=True)
        for g, r in zip(got, ref):
            assert np.all(np.isfinite(g))
            np.testing.assert_allclose(g, r, atol=tol.CLOSED_FORM_ATOL * _scale(r), rtol=0)


def test_float32_near_duplicates_cost_at_most_sqrt_eps_per_layer(rng):
    # The documented float32 worst case: for x ~ z, cos rounds to within ~1e-7 of 1 and arccos amplifies that
    # to ~sqrt(2e-7) / (2 pi) ~ 7e-5 per layer (relative). It is bounded, not silently large.
    X = sphere(rng, 20, 50)
    Z = X + 1e-5 * rng.standard_normal(X.shape)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    depth = 3
    err = np.abs(kernels.fc_relu_ntk(X, Z, depth, dtype=np.float32) - kernels.fc_relu_ntk(X, Z, depth))
    assert err.max() <= depth * tol.NEAR_DUPLICATE_FLOAT32_RTOL * _scale(kernels.fc_relu_ntk(X, Z, depth))


unit_rows = st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(2, 12), st.integers(0, 2**31 - 1))


@settings(max_examples=25)
@given(sizes=unit_rows, depth=st.integers(1, 4), n_fixed=st.integers(0, 4), bias=st.booleans(), cross=st.booleans(),
       tile=st.sampled_from([8, 16, 512]))
def test_fc_relu_fast_equals_reference_for_any_shape_and_tiling(sizes, depth, n_fixed, bias, cross, tile):
    n, nz, d, seed = sizes
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((n, d)), rng.standard_normal((nz, d)) if cross else None
    n_fixed, b_std = min(n_fixed, depth), 0.3 if bias else 0.0
    old, _fast.TILE = _fast.TILE, tile
    try:
        got = kernels.fc_relu_ntk(X, Z, depth, 1.4, b_std, n_fixed)
    finally:
        _fast.TILE = old
    ref = kernels._fc_relu_ntk_reference(X, Z, depth, 1.4, b_std, n_fixed)
    assert got.shape == ref.shape and got.dtype == np.float64
    # ARCCOS_RTOL relative covers the reference's own diagonal round-off (see above); off-diagonal agreement is ~1e-15.
    np.testing.assert_allclose(got, ref, atol=tol.ARCCOS_RTOL * max(_scale(ref), tol.UNDERFLOW_ATOL), rtol=0)
    if Z is None:
        np.testing.assert_array_equal(got, got.T)


# --- the empirical NTK -----------------------------------------------------------------------------------

@pytest.mark.parametrize("activation,a_init", [("relu", "rademacher"), ("relu", "uniform"), ("erf", "rademacher")])
@pytest.mark.parametrize("cross", [False, True])
def test_empirical_matches_reference(rng, activation, a_init, cross):
    X, Z = sphere(rng, 30, 6), sphere(rng, 11, 6) if cross else None
    net = networks.init_two_layer(0, 300, 6, activation, a_init)
    W = net.W + 0.2 * rng.standard_normal(net.W.shape)
    ref = kernels._empirical_reference(W, net.a, X, Z, activation)
    for chunk in (7, 300, 4096):      # chunks of hidden units: the sum must not depend on them
        got = _fast.empirical_two_layer(W, net.a, X, Z, activation, np.float64, chunk=chunk)
        np.testing.assert_allclose(got, ref, atol=tol.ROUNDOFF_TIGHT_ATOL, rtol=0)
    got = kernels.empirical_ntk_two_layer(W, net.a, X, Z, activation)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref, atol=tol.ROUNDOFF_TIGHT_ATOL, rtol=0)
    if Z is None:
        np.testing.assert_array_equal(got, got.T)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_empirical_float32_within_round_off_and_flips(rng, activation):
    m = 2000
    X = sphere(rng, 40, 50)
    net = networks.init_two_layer(1, m, 50, activation)
    ref = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation=activation)
    got = kernels.empirical_ntk_two_layer(net.W.astype(np.float32), net.a, X.astype(np.float32), activation=activation)
    assert got.dtype == np.float32
    flips = tol.EMPIRICAL_FLOAT32_FLIPS / m if activation == "relu" else 0.0
    np.testing.assert_allclose(got, ref, atol=(tol.KERNEL_FLOAT32_RTOL + flips) * _scale(ref), rtol=0)


# --- dtypes and JAX's x64 switch -------------------------------------------------------------------------

def test_dtype_argument_and_defaults(rng):
    X = sphere(rng, 5, 3)
    assert kernels.ntk_two_layer(X).dtype == np.float64
    assert kernels.ntk_two_layer(X.astype(np.float32)).dtype == np.float32
    assert kernels.ntk_two_layer(X.astype(np.float32), dtype=np.float64).dtype == np.float64
    assert kernels.fc_relu_ntk(X, dtype="float32").dtype == np.float32
    assert kernels.ntk_two_layer(X.astype(np.float32), X).dtype == np.float64   # mixed: float64, as numpy does
    for call in (lambda: kernels.ntk_two_layer(X, dtype=np.float16), lambda: kernels.fc_relu_ntk(X, dtype=int)):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            call()


def test_float64_even_when_jax_x64_is_off(rng, small_tiles):
    # JAX silently computes in float32 when x64 is off; the fast path enables it (per thread) for float64.
    X = sphere(rng, 40, 8)
    ref = kernels._fc_relu_ntk_reference(X, depth=2)
    net = networks.init_two_layer(0, 50, 8, "erf")
    with enable_x64(False):
        got = kernels.fc_relu_ntk(X, depth=2)
        H = kernels.ntk_two_layer(X)
        emp = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation="erf")
    assert got.dtype == H.dtype == emp.dtype == np.float64
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(got[off], ref[off], atol=tol.FEW_OPS_ATOL, rtol=0)
    np.testing.assert_allclose(H, kernels._ntk_two_layer_reference(X), atol=tol.CLOSED_FORM_ATOL, rtol=0)
    np.testing.assert_allclose(emp, kernels._empirical_reference(net.W, net.a, X, activation="erf"), atol=tol.FEW_OPS_ATOL, rtol=0)


# --- every depth from one recursion (fc_relu_ntk_all, behind ntklib.experiments.uci_benchmark) ----------------------

@pytest.mark.parametrize("b_std", [0.0, 0.3])
@pytest.mark.parametrize("cross", [False, True])
def test_fc_relu_all_depths_match_reference_per_depth(rng, small_tiles, b_std, cross):
    X = rng.standard_normal((37, 6))
    X[5] = X[2]                                                    # a duplicate row: cos = 1 off the diagonal
    Z = rng.standard_normal((21, 6)) if cross else None
    if cross:
        Z[3] = X[2]
    Z_ = X if Z is None else Z
    # pairs with cos = 1 (the diagonal, duplicates), where the literal reference carries ~1e-8 of arccos round-off
    same = np.all(X[:, None, :] == Z_[None, :, :], axis=2)
    allk = kernels.fc_relu_ntk_all(X, Z, 4, 1.3, b_std)
    assert list(allk) == [(D, f) for D in range(5) for f in range(D + 1)]
    np.testing.assert_allclose(allk[0, 0], 1.3**2 * X @ Z_.T / 6 + b_std**2, rtol=tol.ROUNDOFF_RTOL, atol=tol.FEW_OPS_ATOL)
    for (D, f), K in allk.items():
        if D == 0:
            continue
        ref = kernels._fc_relu_ntk_reference(X, Z, D, 1.3, b_std, f)
        np.testing.assert_allclose(K[~same], ref[~same], atol=tol.ROUNDOFF_RTOL * _scale(ref), rtol=0, err_msg=str((D, f)))
        np.testing.assert_allclose(K[same], ref[same], rtol=tol.ARCCOS_RTOL, err_msg=str((D, f)))
        # and it is fc_relu_ntk itself (the same fused recursion), to the last few ulp
        np.testing.assert_allclose(K, kernels.fc_relu_ntk(X, Z, D, 1.3, b_std, f), rtol=tol.ROUNDOFF_TIGHT_RTOL, atol=tol.ULP_ATOL)
        if Z is None:
            np.testing.assert_array_equal(K, K.T)
    # with every layer but the readout fixed, the NTK is the NNGP
    _, nngp = kernels.fc_relu_ntk(X, Z, 4, 1.3, b_std, return_nngp=True)
    np.testing.assert_allclose(allk[4, 4], nngp, rtol=tol.ROUNDOFF_TIGHT_RTOL)


def test_fc_relu_all_float32_and_bad_input(rng):
    X = rng.standard_normal((30, 5))
    got = kernels.fc_relu_ntk_all(X.astype(np.float32), max_depth=2)
    assert all(K.dtype == np.float32 for K in got.values()) and len(got) == 6
    for (D, f), K in got.items():
        ref = kernels._fc_relu_ntk_reference(X, depth=D, n_fixed=f) if D else 2 * X @ X.T / 5
        np.testing.assert_allclose(K, ref, atol=tol.KERNEL_FLOAT32_RTOL * _scale(ref), rtol=0)
    assert list(kernels.fc_relu_ntk_all(X, max_depth=0)) == [(0, 0)]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="max_depth"):
            kernels.fc_relu_ntk_all(X, max_depth=bad)
    with pytest.raises(ValueError, match="keys"):
        kernels.fc_relu_ntk_all(X, max_depth=2, keys=[(1, 2)])


def test_fc_relu_all_subset_of_keys(rng, small_tiles):
    X = rng.standard_normal((40, 7))
    full = kernels.fc_relu_ntk_all(X, max_depth=4)
    some = kernels.fc_relu_ntk_all(X, max_depth=4, keys=[(4, 1), (0, 0), (2, 2)])
    assert list(some) == [(0, 0), (2, 2), (4, 1)]                  # in the order of the full result
    for k, K in some.items():
        np.testing.assert_allclose(K, full[k], rtol=tol.ULP_RTOL, atol=tol.ULP_ATOL)
