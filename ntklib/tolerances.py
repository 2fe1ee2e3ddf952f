"""Numerical tolerances, kept in one place (as neural-tangents does for its tests).

Library code uses them to decide what counts as bad input; tests use them to decide what counts as
agreement. Change a tolerance here, never inline.
"""

# ||x|| = 1 is assumed by the slide model; rows normalised in float32 are within ~1e-7 of 1.
UNIT_NORM_ATOL = 1e-5

# A kernel matrix is symmetric if |H - H^T| <= SYMMETRY_RTOL * max|H|.
SYMMETRY_RTOL = 1e-6

# An eigenvalue >= -PSD_RTOL * max|eig| counts as round-off, not as a negative eigenvalue.
PSD_RTOL = 1e-8

# A Cholesky pivot below this fraction of the largest one means the kernel is numerically singular.
CHOLESKY_PIVOT_RTOL = 1e-12

# --- agreement tolerances used by the tests -------------------------------------------------
# Two float64 evaluations of the same closed form (e.g. ntklib vs neural-tangents kernel_fn).
CLOSED_FORM_ATOL = 1e-8
# ntklib's float32 path against its float64 path.
FLOAT32_ATOL = 1e-5
# ntklib's float32 kernels (ntklib.theory._fast) against the float64 closed forms, times max|K| (kernels scale with the
# input): the float32 round-off of x.z (~1e-7) amplified by d arccos(c)/dc, for pairs that are not near-duplicates.
KERNEL_FLOAT32_RTOL = 1e-5
# ReLU's derivative jumps at 0: a pre-activation within float32 round-off of 0 may flip 1[w.x > 0], which moves
# an empirical NTK entry by |x.z| / m per flipped unit. Float32 empirical kernels may differ from float64 by this
# many flips (times max|x.z| / m) on top of KERNEL_FLOAT32_RTOL; typically ~1 flip per 10^5 (unit, input) pairs.
EMPIRICAL_FLOAT32_FLIPS = 8
# Monte Carlo estimates are compared within this many standard errors.
MC_SIGMAS = 5.0
# Numerical ODE integration against the spectral closed form.
ODE_RTOL = 1e-6
# Two float64 routes to the same linear-algebra quantity (Cholesky vs eigendecomposition vs explicit inverse, e.g.
# y^T H^-1 y), relative: round-off times the condition number of the small, well-conditioned test kernels.
LINALG_RTOL = 1e-9
# A float32 eigendecomposition (LAPACK ssyevd) against float64: eigenvalues agree to this times lambda_max, and
# Theorem 4's quantities built from them (cumulative projection mass, loss curves / ||y||^2) to this many times it.
EIG_FLOAT32_RTOL = 1e-5
# Training counts as diverged when its loss is not finite or exceeds this factor times max(loss at step 0, 1):
# GD with a stable step never increases the loss that much; an unstable one grows it geometrically.
DIVERGED_LOSS_FACTOR = 1e6

# --- 02a_jacot2018 (Jacot et al. 2018 at the paper's scale; ntklib.models.jacot) -----------------------------------
# Statistics over 5-10 initialisations: a standard deviation from k samples is off by ~1/sqrt(2(k-1)) = 24-35%.
# Spread of the NTK between initialisations at widths n1 < n2 (ratio 20): sqrt(n2/n1) within this factor; the
# narrow net's spread also carries finite-width corrections (measured ratios: 3.8 for 50/1,000, 8.2 for 100/2,000).
JACOT_SPREAD_FACTOR = 1.6
# Exponent of the kernel's change after training, from two widths (each a mean of 5-10 initialisations, ~30%
# spread): statistical error ~0.1 on a log-ratio of 20, so 0.25 tells n^-1/2 from n^-1.
JACOT_EXPONENT_ATOL = 0.25
# Outputs of the widest Figure 1 net against the frozen-kernel (linearised) prediction over 200 steps, relative to
# ||f_0(X) - y|| (measured 0.012 at width 1,000; the kernel moves ~1/n).
JACOT_LINEARISED_RTOL = 0.05
# A trained net against its own linearised prediction f0 + Theta_0(x, X) Theta_0^-1 (y - f0(X)) on the circle,
# RMS over the RMS limiting standard deviation: "small" = a quarter of the spread between initialisations
# (measured 0.15 at width 1,000, 0.59 at 50).
JACOT_LINPRED_RTOL = 0.25
# Figure 2: fraction of (net, angle) pairs inside the limiting 10-90% band, 0.8 +- this: each net's fraction has a
# spread of ~0.15-0.2 (its values at nearby angles are correlated), averaged over 5-10 nets.
JACOT_COVERAGE_ATOL = 0.15
# Figure 2: spread of 5-10 trained functions over the limiting standard deviation, within this factor of 1.
JACOT_SPREAD_FACTOR_F2 = 1.5
# Figure 2: RMS over angles of (mean of the nets - limiting mean) in standard errors; ~1 if they agree.
JACOT_MEAN_SE = 3.0
# Figure 3: the paper's eigenvalues against ours, in standard deviations of lambda_i over random batches of 512
# digits (the paper's batch is unknown; lambda_2, lambda_3 vary by ~4-5% between batches).
JACOT_BATCH_SIGMAS = 3.0
# Figure 3: one width-10,000 net's first three eigenvalues against the limit's, relative (its kernel fluctuates
# like n^-1/2: measured 15% at width 1,000).
JACOT_EIGEN_RTOL = 0.1
# Figure 3c: the same training time t reached with learning rate 8 (500 steps) and the paper's 1.0 (4,000 steps):
# ||g_t|| and ||h_t|| agree to this (measured 0.0007 at widths 100 and 300).
JACOT_LR_ATOL = 0.005

# --- 02b_du2019 (Du et al. 2019 at the paper's scale; ntklib.theory.du2019, networks.gd_train(track_patterns=True)) ---
# gd_train in float32 against float64 on the same net, 100 steps of eta = 0.3 at n = d = 200..1000 (measured, worst):
# the squared training residual agrees to 2e-4 relative down to 1e-7 of its start (float32 round-off of u ~ 1e-6 against
# a residual of ~1e-4 per point); max_r ||w_r(k) - w_r(0)|| to 2e-6 relative.
DU2019_FLOAT32_LOSS_RTOL = 1e-3
DU2019_FLOAT32_MOVE_RTOL = 1e-4
# Changed activation patterns: a neuron whose pre-activation on x_i reaches 0 during training stays at the kink (its
# gradient from x_i vanishes on one side), so round-off decides whether that pattern counts as changed: float32 and
# float64 counts differed by 0.2-0.6% of the changed patterns (12 of 1,904; 42 of 20,642).
DU2019_FLOAT32_PATTERN_RTOL = 0.02

# --- 04a_hu2020 (ntklib.models.noisy_sweep) ------------------------------------------------------------------
# GD computed in the span of the training inputs (noisy_sweep.train_span) against GD on W (noisy.train_many),
# float64: the same iterates by two routes, so they agree to round-off accumulated over a few hundred steps.
SPAN_GD_ATOL = 1e-10
# A width-20,000 net trained to convergence on RDI / AUX with ridge lambda^2 against kernel ridge regression with H*
# (10 points in R^4): max |gap| / max |f_ridge| measured 0.017; the wrong ridges lambda and 2 lambda^2 give 0.26
# and 0.41, so 0.05 separates them with room for the m^-1/2 random-feature error of H(0).
HU_WIDE_NET_RTOL = 0.05
