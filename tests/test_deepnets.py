"""ntklib.models.deepnets against independent references: a NumPy forward pass, the explicit Jacobian NTK,
finite differences, the positive homogeneity of bias-free ReLU nets, and (for the linearisation) Taylor's
theorem and the closed-form kernel-regression limit of linearised gradient descent."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import needs_nt
from jax.flatten_util import ravel_pytree

from ntklib import tolerances as tol
from ntklib.models import deepnets as dn, evolution as ev


def numpy_forward(params, X):
    h = np.asarray(X, dtype=np.float64)
    for i, layer in enumerate(params):
        h = h @ np.asarray(layer["W"]) + (np.asarray(layer["b"]) if "b" in layer else 0.0)
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
    return h


def jacobian_ntk(params, X1, X2):
    flat, unravel = ravel_pytree(params)
    jac = lambda X: jax.jacrev(lambda w: dn.mlp_apply(unravel(w), X))(flat)   # (n, k, P)
    J1, J2 = jac(X1), jac(X2)
    return np.einsum("ikp,jkp->ij", J1, J2)


@pytest.fixture
def net():
    return dn.init_mlp(3, [5, 8, 6, 3], sigma_w2=1.7, sigma_b2=0.3)


def test_init_variances_and_shapes():
    params = dn.init_mlp(0, [400, 300, 200, 1], sigma_w2=2.2, sigma_b2=0.5)
    assert [l["W"].shape for l in params] == [(400, 300), (300, 200), (200, 1)]
    for layer, fan_in in zip(params[:2], (400, 300)):
        W = np.asarray(layer["W"])
        expected = 2.2 / fan_in
        se = expected * np.sqrt(2.0 / W.size)
        assert abs(W.var() - expected) < tol.MC_SIGMAS * se
    nobias = dn.init_mlp(0, [4, 3, 1], bias=False)
    assert all("b" not in l for l in nobias)
    zero_b = dn.init_mlp(0, [4, 3, 1], sigma_b2=0.0)
    assert all(np.all(np.asarray(l["b"]) == 0) for l in zero_b)
    assert dn.init_mlp(0, [4, 3, 1], dtype=np.float32)[0]["W"].dtype == np.float32
    assert dn.num_params(params) == 400 * 300 + 300 + 300 * 200 + 200 + 200 + 1


def test_batch_init_is_consistent_with_chunks_and_single_draws():
    full = dn.init_mlp_batch(7, 6, [4, 5, 2])
    part = dn.init_mlp_at(7, [2, 3], [4, 5, 2])
    np.testing.assert_array_equal(np.asarray(full[1]["W"][2:4]), np.asarray(part[1]["W"]))
    np.testing.assert_array_equal(np.asarray(full[0]["W"][5]), np.asarray(dn.init_mlp((7, 5), [4, 5, 2])[0]["W"]))
    assert full[0]["W"].shape == (6, 4, 5)
    assert not np.allclose(full[0]["W"][0], full[0]["W"][1])
    np.testing.assert_array_equal(np.asarray(dn.init_mlp(3, [4, 5, 2])[0]["W"]), np.asarray(dn.init_mlp(3, [4, 5, 2])[0]["W"]))


def test_scanned_hidden_layers_are_the_same_network(rng):
    sizes = [5, 7, 7, 7, 7, 3]
    plain = dn.init_mlp(4, sizes, sigma_b2=0.1)
    scanned = dn.init_mlp(4, sizes, sigma_b2=0.1, scan_hidden=True)
    assert len(scanned) == 3 and scanned[1]["W"].shape == (3, 7, 7)      # 5->7, stack of three 7->7, 7->3
    X = rng.standard_normal((4, 5))
    np.testing.assert_allclose(np.asarray(dn.mlp_apply(scanned, X)), np.asarray(dn.mlp_apply(plain, X)), rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(dn.mlp_ntk(scanned, X), dn.mlp_ntk(plain, X), rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(ev.empirical_ntk(dn.mlp_apply, scanned, X), dn.mlp_ntk(plain, X), rtol=tol.ROUTES_RTOL)
    for a, b in zip(dn.layers(scanned), plain):
        np.testing.assert_array_equal(np.asarray(a["W"]), np.asarray(b["W"]))
    batch = dn.init_mlp_batch(1, 3, [6, 6, 6, 6, 1], bias=False, scan_hidden=True)
    assert batch[0]["W"].shape == (3, 3, 6, 6) and batch[1]["W"].shape == (3, 6, 1)


def test_forward_matches_numpy(net, rng):
    X = rng.standard_normal((7, 5))
    np.testing.assert_allclose(np.asarray(dn.mlp_apply(net, X)), numpy_forward(net, X), rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)


@pytest.mark.parametrize("bias,sizes", [(True, [5, 8, 6, 3]), (False, [5, 8, 6, 3]), (True, [4, 9, 1]),
                                        (False, [3, 4, 4, 4, 4, 2])])
def test_layerwise_ntk_equals_jacobian_contraction(rng, bias, sizes):
    params = dn.init_mlp(1, sizes, sigma_w2=2.0, sigma_b2=0.2, bias=bias)
    X1, X2 = rng.standard_normal((6, sizes[0])), rng.standard_normal((4, sizes[0]))
    ref = jacobian_ntk(params, X1, X2)
    np.testing.assert_allclose(dn.mlp_ntk(params, X1, X2), ref, rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(dn.mlp_ntk(params, X1), jacobian_ntk(params, X1, X1), rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)
    np.testing.assert_allclose(ev.empirical_ntk(dn.mlp_apply, params, X1, X2, chunk_size=3), ref,
                               rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)


@pytest.mark.parametrize("sigma_w2", [1.0, 2.2])
def test_bias_free_relu_net_is_homogeneous_in_its_weights(rng, sigma_w2):
    # Scaling every W_l by c scales f by c^L and d f / d W_l by c^(L-1), so Theta by c^(2(L-1)): a net drawn
    # with sigma_w^2 is the sigma_w^2 = 2 net (same normal draws) times (sigma_w^2 / 2)^(L/2).
    sizes, L = [6, 10, 10, 10, 10, 1], 5
    base = dn.init_mlp(11, sizes, sigma_w2=2.0, bias=False)
    other = dn.init_mlp(11, sizes, sigma_w2=sigma_w2, bias=False)
    c2 = sigma_w2 / 2.0
    X = rng.standard_normal((4, 6))
    np.testing.assert_allclose(np.asarray(dn.mlp_apply(other, X)), c2 ** (L / 2) * np.asarray(dn.mlp_apply(base, X)),
                               rtol=tol.ROUTES_RTOL)
    np.testing.assert_allclose(dn.mlp_ntk(other, X), c2 ** (L - 1) * dn.mlp_ntk(base, X), rtol=tol.ROUTES_RTOL)


def test_losses(rng):
    out, Y = rng.standard_normal((5, 3)), np.eye(3)[[0, 2, 1, 1, 0]]
    assert np.isclose(float(dn.mse(out, Y)), 0.5 * np.mean(np.sum((out - Y) ** 2, 1)))
    logp = out - np.log(np.exp(out).sum(1, keepdims=True))
    assert np.isclose(float(dn.cross_entropy(out, Y)), -np.mean(np.sum(Y * logp, 1)))


def test_gd_step_matches_finite_difference_gradient(net, rng):
    X, Y = rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    flat, unravel = ravel_pytree(net)
    loss = lambda w: 0.5 * np.mean(np.sum((numpy_forward(unravel(w), X) - Y) ** 2, 1))
    h = 1e-6
    fd = np.array([(loss(flat + h * e) - loss(flat - h * e)) / (2 * h) for e in np.eye(flat.size)])
    lr = 0.1
    traj = dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(lr), steps=1)
    np.testing.assert_allclose(ravel_pytree(traj.final)[0], flat - lr * fd, atol=lr * tol.FD_ATOL)
    assert np.isclose(traj.batch_loss[0], loss(flat))


def test_adam_first_step_and_momentum(net, rng):
    X, Y = rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    flat = ravel_pytree(net)[0]
    g = ravel_pytree(jax.grad(lambda p: dn.mse(dn.mlp_apply(p, X), Y))(net))[0]
    adam = dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.Adam(1e-3, eps=1e-30), steps=1).final
    # bias-corrected Adam's first step is lr * g / |g| = lr * sign(g)
    np.testing.assert_allclose(ravel_pytree(adam)[0], flat - 1e-3 * np.sign(g), atol=tol.ROUNDOFF_ATOL)
    two = dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(0.05, momentum=0.9), steps=2).final
    one = dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(0.05), steps=1).final
    g1 = ravel_pytree(jax.grad(lambda p: dn.mse(dn.mlp_apply(p, X), Y))(one))[0]
    np.testing.assert_allclose(ravel_pytree(two)[0], flat - 0.05 * g - 0.05 * (0.9 * g + g1), atol=tol.ROUNDOFF_ATOL)


def test_optimizers_on_a_quadratic_match_their_closed_forms():
    # f(w, X) = w on every row and Y = c on every row: the mse loss is 1/2 ||w - c||^2, its gradient w - c
    c = np.array([1.0, -2.0, 0.5])
    X, Y = np.zeros((4, 1)), np.tile(c, (4, 1))
    w0 = np.array([0.3, 0.7, -1.1])
    apply_fn = lambda p, X: jnp.broadcast_to(p["w"], (X.shape[0], 3))
    run = lambda opt: np.asarray(dn.train(apply_fn, {"w": jnp.asarray(w0)}, X, Y, optimizer=opt, steps=3).final["w"])
    w, v = w0.copy(), np.zeros(3)                       # heavy ball: v <- mu v + g, w <- w - lr v
    for _ in range(3):
        v = 0.9 * v + (w - c)
        w = w - 0.1 * v
    np.testing.assert_allclose(run(dn.SGD(0.1, momentum=0.9)), w, rtol=tol.ROUNDOFF_RTOL)
    w, m, s = w0.copy(), np.zeros(3), np.zeros(3)       # Kingma & Ba (2015), Algorithm 1
    for t in range(1, 4):
        g = w - c
        m, s = 0.8 * m + 0.2 * g, 0.99 * s + 0.01 * g ** 2
        w = w - 0.05 * (m / (1 - 0.8 ** t)) / (np.sqrt(s / (1 - 0.99 ** t)) + 0.1)
    np.testing.assert_allclose(run(dn.Adam(0.05, b1=0.8, b2=0.99, eps=0.1)), w, rtol=tol.ROUNDOFF_RTOL)


def test_minibatches_are_seeded_epochs():
    idx = dn.minibatch_indices(10, 3, 7, seed=4)
    assert idx.shape == (7, 3)
    for epoch in (idx[:3], idx[3:6]):
        assert len(np.unique(epoch)) == 9           # 3 batches of 3 from one permutation of 10 rows
    np.testing.assert_array_equal(idx, dn.minibatch_indices(10, 3, 7, seed=4))
    assert dn.minibatch_indices(10, None, 7, 0) is None and dn.minibatch_indices(10, 10, 7, 0) is None


def test_train_records_and_callback(net, rng):
    X, Y = rng.standard_normal((8, 5)), rng.standard_normal((8, 3))
    traj = dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(0.01), steps=6, record_every=2, batch_size=4,
                    callback=lambda s, p: float(dn.mse(dn.mlp_apply(p, X), Y)))
    assert list(traj.steps) == [0, 2, 4, 6] and len(traj.records) == 4 and traj.batch_loss.shape == (6,)
    assert traj.records[-1] == pytest.approx(float(dn.mse(dn.mlp_apply(traj.final, X), Y)))
    loss, acc = dn.evaluate(dn.mlp_apply, traj.final, X, Y)
    assert loss == pytest.approx(traj.records[-1]) and 0 <= acc <= 1


def test_bad_input_is_rejected(net, rng):
    X, Y = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match="input width"):
        dn.mlp_ntk(net, rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match="sizes"):
        dn.init_mlp(0, [5])
    with pytest.raises(ValueError, match="sigma_w2"):
        dn.init_mlp(0, [5, 2], sigma_w2=-1.0)
    with pytest.raises(TypeError, match="optimizer"):
        dn.train(dn.mlp_apply, net, X, Y, optimizer="adam", steps=1)
    with pytest.raises(ValueError, match="multiple"):
        dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(0.1), steps=5, record_every=2)
    with pytest.raises(ValueError, match="NaN"):
        dn.train(dn.mlp_apply, net, np.full((4, 5), np.nan), Y, optimizer=dn.SGD(0.1), steps=1)
    with pytest.raises(ValueError, match="loss"):
        dn.train(dn.mlp_apply, net, X, Y, optimizer=dn.SGD(0.1), steps=1, loss="hinge")


# ---------------------------------------------------------------------------------------------- linearisation

def test_linearisation_is_first_order_taylor(net, rng):
    X = rng.standard_normal((5, 5))
    f_lin = dn.linearize(dn.mlp_apply)
    assert dn.linearize(dn.mlp_apply) is f_lin                      # cached: one jit compilation
    np.testing.assert_allclose(f_lin(net, X, net), dn.mlp_apply(net, X), atol=tol.FEW_OPS_ATOL)
    direction = jax.tree_util.tree_map(lambda w: jnp.asarray(rng.standard_normal(w.shape)), net)
    gaps = []
    eps = np.array([1e-3, 3e-4, 1e-4, 3e-5])   # small enough that no ReLU flips: f is polynomial
    for e in eps:
        moved = jax.tree_util.tree_map(lambda w, d: w + e * d, net, direction)
        gaps.append(np.abs(np.asarray(f_lin(moved, X, net) - dn.mlp_apply(moved, X))).max())
    slope = np.polyfit(np.log(eps), np.log(gaps), 1)[0]
    assert slope == pytest.approx(2.0, abs=tol.EXPONENT_FIT_ATOL)                  # the remainder is second order


def test_linearised_training_tracks_the_network_for_small_steps(rng):
    # Five GD steps of the net and of its linearisation from the same point: the outputs move O(lr), they
    # differ O(lr^2), so the gap relative to the movement shrinks like lr.
    params = dn.init_mlp(0, [5, 64, 64, 1], bias=False)
    X, Y = rng.standard_normal((6, 5)), rng.standard_normal((6, 1))
    f0 = np.asarray(dn.mlp_apply(params, X))
    lrs, rel = np.array([1e-4, 1e-5, 1e-6]), []     # small enough that no ReLU flips during the 5 steps
    for lr in lrs:
        net = dn.train(dn.mlp_apply, params, X, Y, optimizer=dn.SGD(lr), steps=5).final
        lin = dn.train(dn.linearize(dn.mlp_apply), params, X, Y, optimizer=dn.SGD(lr), steps=5, apply_args=(params,)).final
        f_net, f_lin = np.asarray(dn.mlp_apply(net, X)), np.asarray(dn.linearize(dn.mlp_apply)(lin, X, params))
        rel.append(np.abs(f_net - f_lin).max() / np.abs(f_net - f0).max())
    assert rel[-1] < tol.FIRST_ORDER_FACTOR * lrs[-1]
    assert np.polyfit(np.log(lrs), np.log(rel), 1)[0] == pytest.approx(1.0, abs=tol.EXPONENT_FIT_ATOL)


def test_linearised_gd_converges_to_kernel_regression_with_the_anchor_ntk(rng):
    # Gradient flow on the linear model from w = anchor interpolates with the minimum-norm change, so its
    # predictions are f(anchor, X*) + Theta(X*, X) Theta(X, X)^{-1} (Y - f(anchor, X)): the kernel H_{t~}.
    anchor = dn.init_mlp(2, [8, 12, 12, 1], sigma_b2=0.1)
    X, Xs, Y = rng.standard_normal((4, 8)), rng.standard_normal((4, 8)), rng.standard_normal((4, 1))
    K, Ks = dn.mlp_ntk(anchor, X), dn.mlp_ntk(anchor, Xs, X)
    lam = np.linalg.eigvalsh(K)
    f_lin = dn.linearize(dn.mlp_apply)
    lr = 4 / lam[-1]                      # mse averages over n = 4, so this is the step 1 / lambda_max
    steps = int(np.ceil(40 * lam[-1] / lam[0]))                   # residual shrinks like exp(-40)
    w = dn.train(f_lin, anchor, X, Y, optimizer=dn.SGD(lr), steps=steps, apply_args=(anchor,)).final
    expected = np.asarray(dn.mlp_apply(anchor, Xs)) + Ks @ np.linalg.solve(K, Y - np.asarray(dn.mlp_apply(anchor, X)))
    np.testing.assert_allclose(np.asarray(f_lin(w, Xs, anchor)), expected, atol=tol.CONVERGED_ATOL)


# ---------------------------------------------------------------------------------------------- landscape probes

def test_interpolation_endpoints_and_midpoint(net):
    other = dn.init_mlp(9, [5, 8, 6, 3], sigma_w2=1.7, sigma_b2=0.3)
    for alpha, expected in ((0.0, net), (1.0, other)):
        for a, b in zip(jax.tree_util.tree_leaves(dn.interpolate(net, other, alpha)), jax.tree_util.tree_leaves(expected)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=tol.ULP_ATOL)
    mid = ravel_pytree(dn.interpolate(net, other, 0.5))[0]
    np.testing.assert_allclose(mid, 0.5 * (ravel_pytree(net)[0] + ravel_pytree(other)[0]))
    with pytest.raises(ValueError, match="structures"):
        dn.interpolate(net, dn.init_mlp(0, [5, 8, 3]), 0.5)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_sharpness_is_the_top_hessian_eigenvalue(rng, loss):
    params = dn.init_mlp(1, [3, 6, 4, 2], sigma_b2=0.1)
    X, Y = rng.standard_normal((7, 3)), np.eye(2)[rng.integers(0, 2, 7)]
    flat, unravel = ravel_pytree(params)
    H = jax.hessian(lambda w: dn.LOSSES[loss](dn.mlp_apply(unravel(w), X), Y))(flat)
    eig = np.linalg.eigvalsh(np.asarray(H))
    top = eig[np.argmax(np.abs(eig))]
    assert dn.sharpness(dn.mlp_apply, params, X, Y, loss=loss, iters=500) == pytest.approx(top, rel=tol.LINALG_RTOL)


# ---------------------------------------------------------------------------------------------- depth families

@pytest.mark.parametrize("bias,sigma_b2", [(True, 0.0), (True, 0.3), (False, 0.0)])
def test_family_ntk_equals_the_ntk_of_each_member(rng, bias, sigma_b2):
    fam = dn.init_depth_family(1, 3, 5, 7, 4, sigma_w2=1.5, sigma_b2=sigma_b2, bias=bias)
    X = rng.standard_normal((3, 5))
    T = dn.family_ntk(fam, X, anchor=1, chunk=2)
    assert T.shape == (3, 4, 3)
    for i in range(3):
        for l in range(1, 5):
            member = dn.family_member(fam, i, l)
            assert len(member) == l + 1 and all(("b" in layer) == bias for layer in member)
            np.testing.assert_allclose(T[i, l - 1], jacobian_ntk(member, X, X)[1], rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)


def test_family_members_are_standard_parameterisation_draws():
    fam = dn.init_depth_family(0, 40, 30, 50, 3, sigma_w2=2.5, sigma_b2=0.4)
    for k, fan_in, expected in (("W1", 30, 2.5 / 30), ("R", 50, 2.5 / 50), ("b", None, 0.4)):
        v = np.asarray(fam[k])
        se = expected * np.sqrt(2.0 / v.size)
        assert abs(v.var() - expected) < tol.MC_SIGMAS * se
    zero = dn.init_depth_family(0, 2, 3, 4, 2, sigma_b2=0.0)
    assert zero["bias"] and np.all(np.asarray(zero["b"]) == 0) and np.all(np.asarray(zero["c"]) == 0)
    whole, chunk = dn.init_depth_family(5, 3, 3, 4, 2), dn.init_depth_family(5, 2, 3, 4, 2, start=1)
    for k in ("W1", "W", "b", "R", "c"):
        np.testing.assert_array_equal(np.asarray(whole[k][1:]), np.asarray(chunk[k]))
    assert not np.allclose(np.asarray(whole["W1"][0]), np.asarray(whole["W1"][1]))


@needs_nt
def test_mlp_ntk_with_biases_equals_neural_tangents_empirical_ntk(rng):
    # an independent network definition (stax, standard parameterisation) and NTK (nt.empirical_ntk_fn)
    import neural_tangents as nt
    from neural_tangents import stax
    s_w, s_b = np.sqrt(1.3), np.sqrt(0.2)
    init_fn, apply_fn, _ = stax.serial(stax.Dense(6, s_w, s_b, parameterization="standard"), stax.Relu(),
                                       stax.Dense(5, s_w, s_b, parameterization="standard"), stax.Relu(),
                                       stax.Dense(2, s_w, s_b, parameterization="standard"))
    _, nt_params = init_fn(jax.random.PRNGKey(3), (-1, 4))
    ours = tuple({"W": W, "b": b.reshape(-1)} for W, b in (p for p in nt_params if p))
    X1, X2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(np.asarray(dn.mlp_apply(ours, X1)), np.asarray(apply_fn(nt_params, X1)), rtol=tol.ROUTES_RTOL)
    ref = np.asarray(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), vmap_axes=0)(X1, X2, nt_params))
    np.testing.assert_allclose(dn.mlp_ntk(ours, X1, X2), 2 * ref, rtol=tol.ROUTES_RTOL, atol=tol.ROUNDOFF_ATOL)   # nt averages over k=2


@needs_nt
@pytest.mark.parametrize("sigma_w2,sigma_b2,bias", [(1.0, 0.0, True), (2.5, 0.0, True), (2.0, 0.0, False),
                                                   (1.5, 0.5, True)])
def test_family_ntk_diagonal_mean_is_the_neural_tangents_kernel(rng, sigma_w2, sigma_b2, bias):
    # For ReLU nets E[Theta(x, x)] at finite width equals the Gaussian-process recursion (Hanin & Nica 2020),
    # which neural-tangents' standard-parameterisation kernel_fn computes: a Monte Carlo test, every depth.
    n0, width, depth, draws = 6, 10, 4, 4000
    X = rng.standard_normal((2, n0))
    T = dn.family_ntk(dn.init_depth_family(3, draws, n0, width, depth, sigma_w2, sigma_b2, bias), X, chunk=1000)
    for l in range(1, depth + 1):
        ref = dn.infinite_width_ntk(X, width, l, sigma_w2, sigma_b2, bias)[0, 0]
        diag = T[:, l - 1, 0]
        assert abs(diag.mean() - ref) < tol.MC_SIGMAS * diag.std(ddof=1) / np.sqrt(draws)


def test_family_ntk_of_biased_nets_is_not_homogeneous_but_bias_free_is(rng):
    # Seleznova & Kutyniok's setting (trainable biases starting at 0): the bias gradients break the rescaling
    # Theta(sigma_w^2) = (sigma_w^2 / 2)^l Theta(2) that holds for bias-free nets drawn from the same normals.
    X = rng.standard_normal((2, 5))
    for bias, holds in ((False, True), (True, False)):
        T = {s2: dn.family_ntk(dn.init_depth_family(4, 2, 5, 8, 3, s2, 0.0, bias), X) for s2 in (1.0, 2.0)}
        scale = 0.5 ** np.arange(1, 4)[None, :, None]
        assert np.allclose(T[1.0], scale * T[2.0], rtol=tol.ROUTES_RTOL) == holds


def test_family_rejects_bad_input(rng):
    fam = dn.init_depth_family(0, 2, 3, 4, 2)
    with pytest.raises(ValueError, match="features"):
        dn.family_ntk(fam, rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match="anchor"):
        dn.family_ntk(fam, rng.standard_normal((2, 3)), anchor=2)
    with pytest.raises(ValueError, match="sigma_b2"):
        dn.init_depth_family(0, 2, 3, 4, 2, sigma_b2=-1.0)
