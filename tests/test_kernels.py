"""ntklib.theory.kernels against independent references: neural-tangents kernel_fn, Monte Carlo over wide
random nets, and a JAX Jacobian contraction; plus properties (symmetry, PSD) by hypothesis."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

from ntklib import tolerances as tol
from ntklib.theory import kernels
from ntklib.theory.activations import ERF_A, ERF_B
from ntklib.models import networks
from conftest import needs_nt, nt_stax as stax, sphere

NT_ACT = {} if stax is None else {"relu": stax.Relu(), "erf": stax.Erf(ERF_A, ERF_B, 0.0)}


@needs_nt
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_two_layer_matches_neural_tangents(rng, activation):
    # Slide model in nt: Dense(W_std=sqrt(d)) makes the pre-activation w.x with w ~ N(0, I) (nt divides by
    # fan-in); the readout Dense(W_std=1) is (1/sqrt m) sum a_r sigma. nt's NTK also trains the readout,
    # whose contribution is exactly the readout's NNGP, so the W-only kernel H* = ntk - nngp.
    d = 9
    X, Z = sphere(rng, 7, d), sphere(rng, 5, d)
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=np.sqrt(d), b_std=None), NT_ACT[activation],
                                  stax.Dense(1, W_std=1.0, b_std=None))
    k = kernel_fn(Z, X, ("ntk", "nngp"))
    np.testing.assert_allclose(kernels.ntk_two_layer(Z, X, activation), np.asarray(k.ntk - k.nngp),
                               atol=tol.CLOSED_FORM_ATOL)


@needs_nt
@pytest.mark.parametrize("depth,b_std,W_std", [(1, 0.0, 2**0.5), (2, 0.2, 1.3), (5, 0.0, 2**0.5), (3, 0.5, 1.0)])
def test_fc_relu_matches_neural_tangents(rng, depth, b_std, W_std):
    X, Z = 2.5 * rng.standard_normal((6, 4)), rng.standard_normal((3, 4))  # any norms: nt's kernel is general
    b = b_std if b_std else None
    layers = [l for _ in range(depth) for l in (stax.Dense(1, W_std, b), stax.Relu())]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std, b))
    k = kernel_fn(Z, X, ("ntk", "nngp"))
    ntk, nngp = kernels.fc_relu_ntk(Z, X, depth, W_std, b_std, return_nngp=True)
    np.testing.assert_allclose(ntk, np.asarray(k.ntk), atol=tol.CLOSED_FORM_ATOL, rtol=tol.ROUNDOFF_RTOL)
    np.testing.assert_allclose(nngp, np.asarray(k.nngp), atol=tol.CLOSED_FORM_ATOL, rtol=tol.ROUNDOFF_RTOL)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("a_init", ["rademacher", "uniform"])
def test_two_layer_matches_monte_carlo(rng, activation, a_init):
    # H(0) at width m is a mean of m i.i.d. terms; compare within MC_SIGMAS standard errors per entry.
    X = sphere(rng, 6, 5)
    net = networks.init_two_layer(7, 100_000, 5, activation, a_init)
    terms = (X @ X.T)[None] * np.einsum("ri,rj->rij", *(2 * [_dsigma(activation, X @ net.W.T).T * net.a[:, None]]))
    se = terms.std(axis=0) / np.sqrt(net.width)
    H_mc = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation=activation)
    np.testing.assert_allclose(H_mc, terms.mean(axis=0), atol=tol.ROUNDOFF_ATOL)
    H = kernels.ntk_two_layer(X, activation=activation, a_init=a_init)
    assert np.all(np.abs(H_mc - H) <= tol.MC_SIGMAS * se + tol.ROUNDOFF_ATOL)


def _dsigma(activation, z):
    return (z > 0).astype(float) if activation == "relu" else np.exp(-z * z / 2)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_empirical_ntk_equals_jacobian_contraction(rng, activation):
    X, Z = sphere(rng, 5, 4), sphere(rng, 3, 4)
    net = networks.init_two_layer(3, 50, 4, activation)
    W = net.W + 0.3 * rng.standard_normal(net.W.shape)  # any W, not only the initialisation
    f = lambda W, X: networks._forward(W, jnp.asarray(net.a), X, activation)
    Jx = np.asarray(jax.jacrev(f)(jnp.asarray(W), jnp.asarray(X))).reshape(len(X), -1)
    Jz = np.asarray(jax.jacrev(f)(jnp.asarray(W), jnp.asarray(Z))).reshape(len(Z), -1)
    np.testing.assert_allclose(kernels.empirical_ntk_two_layer(W, net.a, X, Z, activation), Jx @ Jz.T,
                               atol=tol.CLOSED_FORM_ATOL)


def test_fc_relu_fixed_layers_matches_wide_net_jacobian(rng):
    # n_fixed bottom layers untrained: compare with the Jacobian of only the trainable layers of a wide
    # finite net (NTK parameterisation), averaged over inits; finite-width error is O(1/sqrt(width)).
    depth, width, W_std, n = 2, 2048, 2**0.5, 4
    X = rng.standard_normal((n, 3))
    sizes = [3] + [width] * depth + [1]

    def forward(params, X):
        h = X
        for i, Wl in enumerate(params):
            h = W_std * h @ Wl / np.sqrt(sizes[i])
            if i < depth:
                h = jax.nn.relu(h)
        return h[:, 0]

    for n_fixed in range(depth + 1):
        est = []
        for seed in range(4):
            keys = jax.random.split(jax.random.PRNGKey(seed), depth + 1)
            params = [jax.random.normal(k, (sizes[i], sizes[i + 1])) for i, k in enumerate(keys)]
            J = jax.jacrev(forward)(params, jnp.asarray(X))
            est.append(sum(np.asarray(J[l]).reshape(n, -1) @ np.asarray(J[l]).reshape(n, -1).T
                           for l in range(n_fixed, depth + 1)))
        exact = kernels.fc_relu_ntk(X, None, depth, W_std, 0.0, n_fixed=n_fixed)
        np.testing.assert_allclose(np.mean(est, axis=0), exact, rtol=tol.FINITE_WIDTH_RTOL,
                                   atol=tol.FINITE_WIDTH_ATOL * np.abs(exact).max())


unit_rows = st.integers(1, 8).flatmap(lambda n: st.integers(2, 6).flatmap(
    lambda d: st.integers(0, 2**31 - 1).map(lambda s: sphere(np.random.default_rng(s), n, d))))


@given(X=unit_rows, activation=st.sampled_from(["relu", "erf"]))
def test_two_layer_kernel_is_symmetric_psd(X, activation):
    H = kernels.ntk_two_layer(X, activation=activation)
    assert H.shape == (len(X), len(X))
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() >= -tol.ROUNDOFF_RTOL * max(1.0, np.abs(H).max())


@given(X=unit_rows, depth=st.integers(1, 5), n_fixed=st.integers(0, 5))
def test_fc_relu_kernel_is_symmetric_psd(X, depth, n_fixed):
    n_fixed = min(n_fixed, depth)
    H = kernels.fc_relu_ntk(X, depth=depth, n_fixed=n_fixed)
    np.testing.assert_allclose(H, H.T, atol=tol.FEW_OPS_ATOL)
    assert np.linalg.eigvalsh(H).min() >= -tol.ROUNDOFF_RTOL * np.abs(H).max()


def test_cross_kernel_shape_and_consistency(rng):
    X, Z = sphere(rng, 6, 3), sphere(rng, 2, 3)
    K = kernels.ntk_two_layer(Z, X)
    assert K.shape == (2, 6)
    np.testing.assert_allclose(K, kernels.ntk_two_layer(np.vstack([Z, X]))[:2, 2:], atol=tol.ULP_ATOL)


def test_relu_diagonal_is_one_half():
    # x.x = 1 and E[1[u>0]^2] = 1/2 exactly.
    X = np.eye(3)
    np.testing.assert_allclose(np.diag(kernels.ntk_two_layer(X)), 0.5)


def test_uniform_output_weights_scale_kernel_by_one_third(rng):
    X = sphere(rng, 4, 3)
    np.testing.assert_allclose(kernels.ntk_two_layer(X, a_init="uniform"), kernels.ntk_two_layer(X) / 3, atol=tol.ULP_ATOL)
