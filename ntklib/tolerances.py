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
# Monte Carlo estimates are compared within this many standard errors.
MC_SIGMAS = 5.0
# Numerical ODE integration against the spectral closed form.
ODE_RTOL = 1e-6
