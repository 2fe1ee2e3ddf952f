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
# The same, relative: where a closed form takes arccos of a cosine within round-off of 1, that round-off (~1e-16)
# becomes up to ~1e-8 of the result, and chunking or relabelling the inputs changes it.
CLOSED_FORM_RTOL = 1e-8
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
# The same, absolute, for O(1) quantities (labels, predictions, unit eigenvectors; times a scale where not O(1)).
LINALG_ATOL = 1e-9
# A float32 eigendecomposition (LAPACK ssyevd) against float64: eigenvalues agree to this times lambda_max, and
# Theorem 4's quantities built from them (cumulative projection mass, loss curves / ||y||^2) to this many times it.
EIG_FLOAT32_RTOL = 1e-5
# Training counts as diverged when its loss is not finite or exceeds this factor times max(loss at step 0, 1):
# GD with a stable step never increases the loss that much; an unstable one grows it geometrically.
DIVERGED_LOSS_FACTOR = 1e6

# --- test-only agreement tolerances (tests/*.py take every tolerance from here; tests/test_tolerances.py) ---------
# Float64 round-off: two float64 computations of the same quantity differ by round-off only (eps = 2.2e-16), more the
# more arithmetic separates them. Values are O(1) unless the test multiplies the tolerance by a scale such as max|K|.
# The same arithmetic reorganised (tiles, chunks, groups of kernels, a block of a larger matrix, a copy): a few ulps.
ULP_ATOL = 1e-15
ULP_RTOL = 1e-14
# A few operations apart (one optimiser step, an output that cancels to 0, H against H^T, two implementations of a
# short formula): ~50 ulps of 1.
FEW_OPS_ATOL = 1e-14
# Tens of operations or a sum of hundreds of terms (one GD step against autodiff, an empirical NTK summed over 300
# hidden units in any chunking, a kernel's exact diagonal): ~500 ulps of 1.
ROUNDOFF_TIGHT_ATOL = 1e-13
ROUNDOFF_TIGHT_RTOL = 1e-13
# The default for a float64 identity: up to ~10^3 operations or a few hundred GD steps of a small model (a closed form
# against its loop, JAX against NumPy, a small solve), the slack of a bound, or 0 and 1 up to round-off.
ROUNDOFF_ATOL = 1e-12
ROUNDOFF_RTOL = 1e-12
# Two routes through more arithmetic (JAX's fused autodiff against NumPy or an explicit Jacobian over several layers,
# a spectral formula against literal iteration, batched against unbatched convolutions): products over layers
# and differently ordered sums of large terms (measured <= 5e-13 relative).
ROUTES_RTOL = 1e-10
# Two routes through 20-200 GD steps of a small float64 net, or literal GD against its closed form: round-off
# accumulates over the steps.
GD_RTOL = 1e-9
# The literal float64 arccos recursions (kernels._*_reference, gntk._relu_layer) where cos = 1 (diagonal, duplicate
# inputs): arccos(1 - eps) = 2e-8, so they are off by ~1e-8 relative there; the fast paths are exact.
ARCCOS_RTOL = 1e-7
# An absolute floor that excuses only values near float64 underflow (normal numbers end at 2.2e-308), where results
# lose relative precision; also the floor of a scale that may be 0.
UNDERFLOW_ATOL = 1e-300

# Convergence. A linear iteration or flow run until its slowest mode has contracted far below round-off (4,000 GD
# steps, gradient flow at t = 1e7) against its limit from a solve: round-off times cond(H) (measured < 1e-14).
CONVERGED_ATOL = 1e-8
# Kernel regression with ridge 1e-3 on a singular kernel fits the distinct training labels to ~ridge / lambda_min of
# the rest (measured 2.6e-3).
SMALL_RIDGE_FIT_ATOL = 0.05
# scipy.optimize.minimize_scalar (Brent, xtol 1.5e-8) locates the minimum of a smooth O(1) function to ~1e-8.
MINIMIZE_SCALAR_ATOL = 1e-7

# Float32 (eps = 1.2e-7).
# One float32 rounding of an exactly representable result (e.g. the ReLU kernel's diagonal 1/2).
FLOAT32_ULP_RTOL = 1e-7
# A few float32 operations on O(1) values, or float64 values stored as float32: several ulps.
FLOAT32_ROUNDOFF_RTOL = 1e-6
FLOAT32_ROUNDOFF_ATOL = 1e-6
# Float32 kernels of near-duplicate inputs (x ~ z), per ReLU layer, times max|K|: arccos turns the rounding of cos ~ 1
# (~1e-7) into ~sqrt(2e-7) / (2 pi) ~ 7e-5.
NEAR_DUPLICATE_FLOAT32_RTOL = 1e-4
# _fast.asin's polynomial in float64 and float32: within 2 ulp of pi/2, its largest value.
ASIN_FLOAT64_ATOL = 4.5e-16
ASIN_FLOAT32_ATOL = 2.4e-7

# Finite differences and step sizes.
# A central difference with step h ~ 1e-6..1e-5 against the exact derivative of an O(1) quantity: truncation
# h^2 ~ 1e-12..1e-10 plus cancellation eps / h ~ 1e-10 (measured <= 1.5e-9).
FD_ATOL = 1e-7
# Theta(x, x) = ||grad f||^2 with grad f itself by central differences (step 1e-5), relative (measured ~1e-11).
FD_RTOL = 1e-6
# A remainder first order in a step h (one-step NTK change over lr, GD's ODE residual, linearised against real
# training) is below this factor times the smallest h tested: its constant is O(1) in these tests.
FIRST_ORDER_FACTOR = 10
# The exponent of a deterministic power law in the step (a Taylor remainder's order), fitted in log-log over one to
# three decades: higher-order terms move the slope by ~2e-3 (measured).
EXPONENT_FIT_ATOL = 0.1
# A function against its leading-order form at a small argument, where the next term is ~1e-13 relative
# (flip_probability at R = 1e-6: R^2 / 6).
LEADING_ORDER_RTOL = 1e-9

# ODE integration (dynamics.integrate: scipy's DOP853).
# The solver tolerance the tests ask for where they compare with tight bounds.
ODE_SOLVER_RTOL = 1e-12
# The integrator's global error over the test horizons, as a multiple of its tolerance rtol (measured below 1 x rtol).
ODE_GLOBAL_ERROR_FACTOR = 1e3
# Squared residuals from dynamics.integrate at its default rtol = 1e-10 against the spectral closed form:
# ODE_GLOBAL_ERROR_FACTOR times that tolerance (measured 1.5e-10 relative).
ODE_LOSS_RTOL = 1e-7
# networks.ode_residual in float64 with JAX's x64 off, against a NumPy float64 reference: the residual is ~4e-7 at
# eta = 1e-3; float32 round-off of (u_{k+1} - u_k) / eta (~1e-7 / eta) would exceed this, float64's is far below.
ODE_RESIDUAL_RTOL = 1e-3
# The trapezoid rule on GD's recorded times integrates a smooth residual norm to ~1e-4 relative.
TRAPEZOID_RTOL = 1e-3

# Statistics on a fixed seed where a tolerance in standard errors (MC_SIGMAS) does not apply directly.
# A Monte Carlo mean of empirical kernels within this fraction of max|K|, besides the MC_SIGMAS z-test (which a large
# spread would pass).
MC_MEAN_RTOL = 0.1
# Sample variance of >= 10^4 initial weights against the initialiser's variance: relative standard error sqrt(2/n)
# <= 1.3%, so this is >= 3.9 standard errors (measured <= 1%).
INIT_VARIANCE_RTOL = 0.05
# Output variance over 400 inputs of one standard- and one NTK-parameterised random net of width 2,000: equal in
# distribution, but each is a single draw (measured 13% apart).
OUTPUT_VARIANCE_RTOL = 0.25
# Mean of 4 empirical NTKs of width-2,048 ReLU nets against the infinite-width kernel (the atol times max|K|): each
# net's kernel fluctuates by ~1/sqrt(2048) = 2% (measured 42% of these tolerances).
FINITE_WIDTH_RTOL = 0.05
FINITE_WIDTH_ATOL = 0.02
# Empirical label-flip frequencies from 50,000 labels per class against their probabilities: standard error <= 0.0021,
# so this is >= 4.8 standard errors (measured 0.0025).
LABEL_FLIP_FREQUENCY_ATOL = 0.01

# Single experiments.
# Du et al.'s Lemma 3.2 union bound over its exact value, against the approximation 1 - 1/(2n) (which drops the
# overlaps of the events) with 2e6 Monte Carlo samples (measured 0.004 apart).
DU2019_UNION_RATIO_ATOL = 0.05
# theorem6_optimal_alpha against the argmin over a 30,001-point grid of alpha in [-1, 2]: two grid steps.
THEOREM6_ALPHA_ATOL = 2e-4
# The UCI files (Fernandez-Delgado et al.) store standardised features to 6 significant digits: column means and
# standard deviations are 0 and 1 to ~5e-6 (measured 4.4e-6).
UCI_FILE_PRECISION_ATOL = 1e-5

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
