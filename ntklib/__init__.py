"""ntklib: the verified functions behind ntk-book (a reproducible companion to a lecture on the NTK).

Layers, each importing only those before it: the foundation (``_validate``, ``tolerances``, ``_jaxcompat``,
``_files``); ``datasets`` (the data) and ``theory`` (closed-form kernels, dynamics, bounds, kernel regression,
spectra); ``models`` (networks, their NTK and training); ``experiments`` (benchmark drivers); ``book`` (the
notebook pipeline and the page tooling). Import submodules explicitly, e.g. ``from ntklib.theory import
kernels``; importing ntklib itself is cheap and does not import JAX.
"""
from importlib.metadata import PackageNotFoundError, version

from ._validate import NotPositiveDefiniteError, unit_norm

try:
    __version__ = version("ntklib")
except PackageNotFoundError:  # imported from a source tree that was not pip-installed
    __version__ = "unknown"

__all__ = ["NotPositiveDefiniteError", "unit_norm", "__version__"]
