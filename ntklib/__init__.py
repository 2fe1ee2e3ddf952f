"""ntklib: the verified functions behind ntk-book (a reproducible companion to a lecture on the NTK).

One module per lecture object: kernels (H*, H(t), deep NTK), networks (the slide model and GD),
dynamics (Lemma 1), bounds (Lemmas 2-3), regression (kernel regression equivalence), checks (claims as
checks), report and book (the notebook pipeline). Import submodules explicitly, e.g.
``from ntklib import kernels``; importing ntklib itself is cheap and does not import JAX.
"""
from importlib.metadata import PackageNotFoundError, version

from ._validate import NotPositiveDefiniteError, unit_norm

try:
    __version__ = version("ntklib")
except PackageNotFoundError:  # imported from a source tree that was not pip-installed
    __version__ = "unknown"

__all__ = ["NotPositiveDefiniteError", "unit_norm", "__version__"]
