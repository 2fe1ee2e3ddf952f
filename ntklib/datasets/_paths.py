"""Where the data live: ``$NTK_DATA_DIR``, else a per-user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NTK_DATA_DIR"


def data_dir() -> Path:
    """Root directory of all data sets.

    ``$NTK_DATA_DIR`` if set, else ``$XDG_CACHE_HOME/ntk-book`` (XDG base-dir
    spec), else ``~/.cache/ntk-book``.  The directory is not created here; it
    is created only when something is downloaded into it.  Its layout mirrors
    the shared data folder: ``mnist/``, ``fashion-mnist/``,
    ``cifar10/cifar-10-batches-bin/``, ``uci/<name>/``, ``graphs/<NAME>/``.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative paths are invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "ntk-book"


def resolve_root(root: str | os.PathLike | None) -> Path:
    """An explicit ``data_dir=`` argument, or :func:`data_dir` when it is None."""
    return data_dir() if root is None else Path(root).expanduser()


def describe_root(root: Path, explicit: bool) -> str:
    """Say where ``root`` came from, for error messages."""
    if explicit:
        return f"{root} (the data_dir argument)"
    if os.environ.get(ENV_VAR):
        return f"{root} (from ${ENV_VAR})"
    return f"{root} (default cache; set ${ENV_VAR} to use another directory)"
