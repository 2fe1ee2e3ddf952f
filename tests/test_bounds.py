"""Lemmas 2 and 3: the bounds against direct simulation of the deviations they bound."""
import numpy as np
import pytest

from ntklib import tolerances as tol
from ntklib.theory import bounds, kernels
from ntklib.models import networks
from conftest import sphere


def test_hoeffding_entry_bound_holds_with_probability_one_minus_delta(rng):
    # Simulate H(0) at width m many times; the fraction of draws where some entry exceeds the bound
    # must be <= delta (up to sampling error). With delta = 0.2 this is a non-trivial check.
    n, m, delta, draws = 5, 50, 0.2, 400
    X = sphere(rng, n, 4)
    Hs = kernels.ntk_two_layer(X)
    bound = bounds.hoeffding_entry_deviation(m, n, delta)
    exceed = 0
    for s in range(draws):
        net = networks.init_two_layer(s, m, 4)
        exceed += np.abs(kernels.empirical_ntk_two_layer(net.W, net.a, X) - Hs).max() > bound
    assert exceed / draws <= delta
    # and the bound is not vacuous: at a quarter of the width, the deviation often exceeds its 1/2-scaled value
    assert bound < 1


def test_hoeffding_deviation_is_exact_hoeffding_for_the_worst_case_variables():
    # Independent reference: the exact binomial tail of a mean of m fair +-1 variables (range 2, the
    # widest the entries' terms x_i.x_j 1{.}1{.} in [-1, 1] allow). At n = 1 the union bound is over one
    # entry, so the deviation must hold with probability >= 1 - delta, and it must not be loose by the
    # sqrt(2) that a dropped factor 2 in 2 log(2 n^2 / delta) / m would give: there the tail exceeds delta.
    from scipy.stats import binom
    for m, delta in [(1000, 1e-3), (4000, 1e-2), (400, 1e-4)]:
        t = float(bounds.hoeffding_entry_deviation(m, 1, delta))

        def tail(s):   # P(|mean| >= s) for mean = (2 K - m) / m, K ~ Binomial(m, 1/2)
            k = np.ceil(m * (1 + s) / 2 - 1e-9)
            return 2 * binom.sf(k - 1, m, 0.5)
        assert tail(t) <= delta
        assert tail(t / np.sqrt(2)) > delta


def test_lemma2_width_delivers_eps():
    for eps, delta, n in [(0.1, 0.05, 10), (0.5, 0.01, 100), (1.0, 0.5, 3)]:
        m = bounds.lemma2_width(eps, delta, n)
        assert bounds.hoeffding_spectral_deviation(m, n, delta) <= eps
        assert bounds.hoeffding_spectral_deviation(m - 1, n, delta) > eps   # and it is the smallest such m


def test_lemma2_width_grows_like_n_squared_log_n():
    m1, m2 = bounds.lemma2_width(0.1, 0.1, 100), bounds.lemma2_width(0.1, 0.1, 200)
    assert 4 < m2 / m1 < 4.6


def test_lemma3_a_posteriori_movement_bounds_the_real_movement(rng):
    X = sphere(rng, 6, 4)
    y = np.sign(X[:, 0])
    for activation in ("relu", "erf"):
        net = networks.init_two_layer(0, 500, 4, activation)
        traj = networks.gd_train(net, X, y, 0.01, 300, record_every=1)
        bound = bounds.lemma3_movement(traj.t, np.abs(traj.u - y).sum(axis=1), net.width)
        # the trapezoid rule on a fine grid is accurate to ~1e-4 relative; allow that slack
        assert np.all(traj.max_move <= bound * (1 + tol.TRAPEZOID_RTOL) + tol.ROUNDOFF_ATOL)
        assert traj.max_move[-1] > 0.05 * bound[-1]          # and the bound is not absurdly loose


def test_lemma3_kernel_change_bound_for_smooth_activation(rng):
    X = sphere(rng, 6, 4)
    y = np.sign(X[:, 0])
    net = networks.init_two_layer(0, 200, 4, "erf")
    traj = networks.gd_train(net, X, y, 0.02, 100, record_every=100, snapshot_steps=(100,))
    H0 = kernels.empirical_ntk_two_layer(net.W, net.a, X, activation="erf")
    W1 = traj.snapshots[100].W
    H1 = kernels.empirical_ntk_two_layer(W1, net.a, X, activation="erf")
    entry = np.abs(H1 - H0).max()
    assert entry <= 2 * traj.max_move[-1]
    assert np.linalg.norm(H1 - H0, 2) <= bounds.lemma3_kernel_change_bound(traj.max_move[-1], 6)


def test_lemma3_width_exponents():
    assert bounds.lemma3_width(0.1, 1.0, 10) == 4 * 10**4 / 0.01
    assert bounds.lemma3_width(0.1, 1.0, 10, slide_exponent=True) == 10**6 / 0.01


@pytest.mark.parametrize("call", [
    lambda: bounds.lemma2_width(0, 0.1, 3),
    lambda: bounds.lemma2_width(0.1, 1.5, 3),
    lambda: bounds.lemma2_width(0.1, 0.1, 0),
    lambda: bounds.hoeffding_entry_deviation(-1, 3, 0.1),
    lambda: bounds.lemma3_movement([0, 1], [1.0], 10),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_power_law_constant_is_the_log_space_least_squares_fit(rng):
    # Independent reference: minimise the log-space squared error over c numerically.
    from scipy.optimize import minimize_scalar
    ns = np.array([100.0, 300, 1000, 3000])
    values = 2.5 * ns ** -0.5 * np.exp(0.1 * rng.standard_normal(4))
    c = bounds.power_law_constant(ns, values, -0.5)
    best = minimize_scalar(lambda logc: np.sum((np.log(values) - logc + 0.5 * np.log(ns)) ** 2)).x
    assert abs(np.log(c) - best) < tol.MINIMIZE_SCALAR_ATOL
    assert bounds.power_law_constant(ns, 3.0 * ns ** 0.25, 0.25) == pytest.approx(3.0, rel=tol.ROUNDOFF_RTOL)
    with pytest.raises(ValueError, match="values"):
        bounds.power_law_constant(ns, -values, -0.5)


def test_theorem6_optimal_alpha_minimises_the_bound(rng):
    # Independent reference: the bound evaluated on a fine grid of alpha, minimised numerically.
    X = sphere(rng, 40, 5)
    H = kernels.ntk_two_layer(X)
    y = np.sign(X[:, 0])
    alphas = np.linspace(-1, 2, 30001)
    grid = bounds.theorem6_bound(H, y, 40.0 ** alphas, 0.2)
    assert abs(bounds.theorem6_optimal_alpha(H, y) - alphas[np.argmin(grid)]) < tol.THEOREM6_ALPHA_ATOL
    with pytest.raises(ValueError, match="n >= 2"):
        bounds.theorem6_optimal_alpha(np.ones((1, 1)), np.ones(1))
