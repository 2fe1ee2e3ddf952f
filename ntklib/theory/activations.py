"""Activations of the slide model and their derivatives (JAX, so they work inside jit and grad).

- ``relu``: sigma(z) = max(z, 0), sigma'(z) = 1[z > 0]. Violates the slides' assumption |sigma''| <= 1
  (sigma' jumps), which Lemma 3's proof uses.
- ``erf``: sigma(z) = sqrt(pi/2) erf(z / sqrt 2), so sigma'(z) = exp(-z^2 / 2) and
  sigma''(z) = -z exp(-z^2 / 2): |sigma'| <= 1 and |sigma''| <= exp(-1/2) < 1, as the slides assume.
  Its NTK has a closed form (see ntklib.theory.kernels) and neural-tangents has it as stax.Erf(a, b, 0).
"""
import math

import jax.numpy as jnp
from jax.scipy.special import erf as _erf

ERF_A = math.sqrt(math.pi / 2)  # neural-tangents stax.Erf(a=ERF_A, b=ERF_B, c=0) is the same function
ERF_B = 1 / math.sqrt(2)

# E[a_r^2] of the slide model's output weights: a_r ~ Unif{-1, +1} (Du et al.) or the slides' Unif[-1, 1].
A_SECOND_MOMENT = {"rademacher": 1.0, "uniform": 1.0 / 3.0}


def _relu(z):
    return jnp.maximum(z, 0)


def _relu_prime(z):
    return (z > 0).astype(z.dtype)


def _erf_act(z):
    return ERF_A * _erf(ERF_B * z)


def _erf_prime(z):
    return jnp.exp(-0.5 * z * z)


ACTIVATIONS = {"relu": (_relu, _relu_prime), "erf": (_erf_act, _erf_prime)}


def get(name: str):
    """(sigma, sigma') for an activation name; a clear error for an unknown one."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):   # TypeError: an unhashable name, e.g. a list
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
