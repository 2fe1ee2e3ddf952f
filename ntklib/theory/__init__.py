"""Theory: closed-form kernels, dynamics, bounds, kernel regression and spectra (numpy/JAX math).

No training, no networks' parameters, no I/O: everything here is a function of kernels, inputs and labels,
so it can be checked against an independent closed form, Monte Carlo or neural-tangents. Imports only the
foundation (``ntklib._validate``, ``ntklib.tolerances``, ``ntklib._jaxcompat``).
"""
