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


def write_site_dir() -> Path:
    """Where this run writes its figures and results: the staging folder's ``site/`` under the runner
    (``$NTKBOOK_STAGE``, moved into site_dir() only when the run succeeds), else site_dir() itself."""
    stage = os.environ.get("NTKBOOK_STAGE")
    return Path(stage) / "site" if stage else site_dir()


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


# --- time and memory by cell, for the record's profile -------------------------------------------------

_CELLS: list[dict] = []   # one entry per executed cell: execution count, wall and CPU seconds, peak RSS
_PROFILING = False


def _cpu_seconds() -> float:
    """CPU time of this kernel and of its worker processes (joblib's loky workers live past a cell)."""
    import psutil  # a dependency of ipykernel, so present wherever a notebook runs
    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:   # exited meanwhile: counted in children_* once reaped
            pass
    return total


def _peak_rss_mb() -> float:
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024  # Linux reports kB


def start_profiling() -> None:
    """Time every following cell of this kernel (wall, CPU incl. worker processes, peak RSS so far).
    Called by Checks(); the runner groups the cells by the page's headings into the record's profile."""
    global _PROFILING
    ip = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if _PROFILING or getattr(ip, "kernel", None) is None:
        return
    import time
    state = {}

    def pre(info):
        state.update(wall=time.perf_counter(), cpu=_cpu_seconds())

    def post(result):
        if "wall" in state:
            _CELLS.append({"cell": result.execution_count, "wall": time.perf_counter() - state["wall"],
                           "cpu": _cpu_seconds() - state["cpu"], "peak_rss_mb": _peak_rss_mb()})

    ip.events.register("pre_run_cell", pre)
    ip.events.register("post_run_cell", post)
    _PROFILING = True


def cell_profile() -> list[dict]:
    """The cells timed so far in this kernel (see start_profiling)."""
    return [dict(c) for c in _CELLS]


_FIGURES: list[dict] = []  # the figures saved by this process (one notebook run); Checks.finish records them


def savefig(fig, notebook: str, name: str, *, slide: str | list[str] | None = None) -> Path:
    """Save a matplotlib figure as SVG under site/figures/<notebook>/<name>.svg and make sure the page shows
    it (a batch run displays the SVG; interactively the following plt.show() does).

    ``slide``: the key (or keys) of the slide figure this one regenerates (``ntklib.scorecard.SLIDE_FIGURES``),
    or of the text-only slide it illustrates (``SLIDE_ILLUSTRATIONS``). The figure is then announced under
    the cell with a link target, and Section 6's figure map links to it."""
    path = write_site_dir() / "figures" / notebook / f"{name}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    keys = [] if not slide else [slide] if isinstance(slide, str) else list(slide)
    entry = {"notebook": notebook, "name": name, "file": f"figures/{notebook}/{name}.svg", "slide": keys or None,
             "anchor": anchor(notebook, name, kind="figure")}
    _FIGURES[:] = [f for f in _FIGURES if (f["notebook"], f["name"]) != (notebook, name)] + [entry]
    if keys and in_notebook():
        from .scorecard import SLIDE_ILLUSTRATIONS
        titles = {k: t for k, _, t, _ in SLIDE_ILLUSTRATIONS}
        what = " and ".join(f"illustrates the slide *{titles[k]}*, which has no figure" if k in titles else
                            f"regenerates the slide figure `{k}`" for k in keys)
        show_markdown(f"({entry['anchor']})=\n*Figure `{name}` {what} (see the figure map in Section 6).*")
    if in_notebook() and "inline" not in plt_backend():
        # Under a non-interactive backend (papermill runs with MPLBACKEND=Agg) plt.show() displays nothing,
        # so the page would have no figure: show the saved SVG instead. Interactively, plt.show() does it.
        from IPython.display import SVG, display
        display(SVG(filename=str(path)))
    elif in_notebook() and _RECORD.get(notebook) is not None:
        # With a full-scale figure to show under this one, show this one first (the cell's plt.show() would
        # put it after the record's), and close it so that plt.show() does not show it twice.
        import matplotlib.pyplot as plt
        from IPython.display import display
        display(fig)
        plt.close(fig)
    show_recorded_figure(notebook, name)
    return path


_TABLES: list[dict] = []  # the result tables shown by this process (one notebook run); Checks.finish records them


def show_table(notebook: str, name: str, markdown: str) -> None:
    """Show a result table (MyST Markdown) and keep it in the run's results, so the full-scale record holds
    it too; a smaller run then shows the record's table under its own."""
    _TABLES[:] = [t for t in _TABLES if (t["notebook"], t["name"]) != (notebook, name)] + [
        {"notebook": notebook, "name": name, "markdown": markdown}]
    show_markdown(markdown)
    from . import record
    rec = _RECORD.get(notebook)
    table = next((t for t in (rec or {}).get("tables", []) if t["name"] == name), None)
    if table is not None:
        show_markdown(f"*The same table at the full scale ({record.label(rec)}):*\n\n{table['markdown']}")


def recorded_tables(notebook: str) -> list[dict]:
    return [{"name": t["name"], "markdown": t["markdown"]} for t in _TABLES if t["notebook"] == notebook]


_RECORD: dict = {}  # notebook -> its full-scale record (ntklib.record), set by Checks() in a smaller run


def show_recorded_figure(notebook: str, name: str) -> None:
    """Under a figure of a smaller run, the same figure from the section's committed full-scale record."""
    from . import record
    rec = _RECORD.get(notebook)
    fig = None if rec is None else rec["dir"] / "figures" / f"{name}.svg"
    if fig is None or not fig.is_file() or not in_notebook():
        return
    from IPython.display import SVG, display
    show_markdown(f"*The same figure at the full scale ({record.label(rec)}):*")
    display(SVG(filename=str(fig)))


def plt_backend() -> str:
    import matplotlib
    return matplotlib.get_backend().lower()


def recorded_figures(notebook: str) -> list[dict]:
    """The figures `notebook` saved in this process, in order."""
    return [f for f in _FIGURES if f["notebook"] == notebook]


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}",
           "cpus": os.cpu_count()}
    for pkg in ("numpy", "scipy", "scikit-learn", "jax", "jaxlib", "neural-tangents"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an interactive notebook or a papermill run)."""
    ip = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    return getattr(ip, "kernel", None) is not None


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
    if not interactive():   # tqdm.auto would warn into the page that ipywidgets is missing
        from tqdm import tqdm
        return tqdm(iterable, disable=True, **kwargs)
    from tqdm.auto import tqdm
    return tqdm(iterable, **kwargs)


def glue(name: str, value, display: bool = False) -> None:
    """Record `value` under `name` for the page's prose: ``{glue:text}`name:.2f``` in a Markdown cell shows
    the executed number (``{glue:md}`name``` a string), so numbers in sentences are never typed.

    Uses myst-nb's glue inside a notebook kernel; elsewhere (scripts, tests) it does nothing. Returns None,
    so that a glue call ending a cell does not also print the value. Names must be unique within a page."""
    if in_notebook():
        from IPython.display import Markdown
        from myst_nb import glue as _glue
        if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
            value = value.item()  # numpy scalar -> Python number: its repr, np.float64(...), is not a number
        # A string is glued as Markdown (paste it with {glue:md}`name`): its plain repr would carry quotes.
        _glue(name, Markdown(value) if isinstance(value, str) else value, display=display)


def anchor(notebook: str, check_id: str, kind: str = "check") -> str:
    """The Sphinx label of a check's verdict line, e.g. ``check-02_ntk-l2-slope-relu`` (``kind="figure"``:
    of a slide figure's announcement): the scorecard links each check to the cell that shows it with
    ``{ref}``, so a broken link fails the -n build."""
    slug = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in check_id.lower())
    return f"{kind}-{notebook.lower()}-{slug}"
