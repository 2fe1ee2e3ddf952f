"""JAX's local x64 switch, on the pinned JAX and on newer ones.

JAX computes in float32 whenever the global ``jax_enable_x64`` flag is off, silently, even for float64
input. ntklib's float64 paths therefore run inside a local x64 context, so float64 means float64
whatever the caller's global setting. JAX 0.8 replaced the context managers ``jax.experimental.enable_x64`` /
``disable_x64`` by ``jax.enable_x64(True / False)`` and 0.9 removed the old names; this module hides the difference.
"""
from __future__ import annotations

from contextlib import nullcontext

import jax
import numpy as np

if hasattr(jax, "enable_x64"):          # JAX >= 0.8: a config state, called with a value it is a context manager
    def enable_x64(new_val: bool = True):
        """Context in which JAX computes in 64 bits (or not, with new_val=False)."""
        return jax.enable_x64(bool(new_val))

    def disable_x64():
        """Context in which JAX computes in 32 bits."""
        return jax.enable_x64(False)
else:                                   # the pinned JAX (0.5.3) and everything before 0.8
    from jax.experimental import disable_x64, enable_x64  # noqa: F401


def x64_for(*dtypes):
    """enable_x64() if any of ``dtypes`` is float64, else a no-op context (float32 stays float32)."""
    return enable_x64() if any(np.dtype(d) == np.float64 for d in dtypes) else nullcontext()


__all__ = ["enable_x64", "disable_x64", "x64_for"]
