"""Where a notebook run writes its outputs, and how it shows them.

Outputs go under ``output_dir()``: ``$NTKBOOK_OUTPUT`` if set (the runner sets it), else
``<repo>/book/generated`` when ntklib runs from a checkout, else ``./ntk-book-output``. Figures are
saved as SVG under ``site/figures/<notebook>/`` and results under ``site/results/``; the book build
copies ``site/`` into the HTML output, so both can be reused from the published site.
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def output_dir() -> Path:
    env = os.environ.get("NTKBOOK_OUTPUT")
    if env:
        return Path(env)
    if (REPO / "_toc.yml").exists():
        return REPO / "book" / "generated"
    return Path.cwd() / "ntk-book-output"


def site_dir() -> Path:
    """Files copied verbatim into the HTML build (figures, results)."""
    return output_dir() / "site"


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so no half-written file is ever left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the published files must be readable like any other
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def savefig(fig, notebook: str, name: str) -> Path:
    """Save a matplotlib figure as SVG under site/figures/<notebook>/<name>.svg (and leave it displayed)."""
    path = site_dir() / "figures" / notebook / f"{name}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}",
           "cpus": os.cpu_count()}
    for pkg in ("numpy", "jax", "jaxlib", "neural-tangents", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def show_markdown(text: str) -> None:
    """Display Markdown under the cell in a notebook (rendered by the book); print it elsewhere."""
    ip = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if getattr(ip, "kernel", None) is not None:
        from IPython.display import Markdown, display
        display(Markdown(text))
    else:
        print(text)


def interactive() -> bool:
    """True when progress bars help: a terminal or live notebook, not CI or a papermill batch run."""
    return not os.environ.get("CI") and not os.environ.get("NTKBOOK_BATCH")


def progress(iterable, **kwargs):
    """tqdm progress when run interactively; silent in CI logs and batch (papermill) runs."""
    from tqdm.auto import tqdm
    return tqdm(iterable, disable=not interactive(), **kwargs)
