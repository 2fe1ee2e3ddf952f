"""Where a notebook run writes its outputs, and how it shows them.

Outputs go under ``output_dir()``: ``$NTKBOOK_OUTPUT`` if set (the runner sets it), else
``<repo>/book/generated`` when ntklib runs from a checkout, else ``./ntk-book-output``. Figures are
saved as SVG under ``site/figures/<notebook>/`` and results under ``site/results/``; the book build
copies ``site/`` into the HTML output, so both can be reused from the published site.
"""
from __future__ import annotations

import os
import re
import platform
import sys
from importlib import metadata
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]   # ntklib/book/report.py -> the repository


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

STYLE = Path(__file__).with_name("ntkbook.mplstyle")


def use_style() -> None:
    """Apply the book's matplotlib style (ntklib/book/ntkbook.mplstyle: sizes as read on the page, a palette that
    survives colour blindness and greyscale). Checks() calls it, so every page's figures share it."""
    import matplotlib.pyplot as plt
    plt.style.use(STYLE)


def tex_number(x, digits: int = 3, scientific: bool = False) -> str:
    """``x`` as TeX for inside $...$: ``digits`` significant digits (``scientific``: always as a power of ten),
    a power of ten written 6.4 \\times 10^{9}, never 6.4e+09."""
    if x == 0:
        return "0"
    m, _, e = (f"{x:.{digits - 1}e}" if scientific else f"{x:.{digits}g}").partition("e")
    return rf"{m} \times 10^{{{int(e)}}}" if e else m


def matrix_markdown(M, digits: int = 3) -> str:
    """A small matrix as inline math, e.g. $\\begin{pmatrix}0.6 & 0.4\\\\ 0.4 & 0.6\\end{pmatrix}$ (not a nested list)."""
    import numpy as np
    M = np.atleast_2d(np.asarray(M, dtype=float))
    rows = r" \\ ".join(" & ".join(f"{v:.{digits}g}" for v in row) for row in M)
    return rf"$\begin{{pmatrix}} {rows} \end{{pmatrix}}$"


def legend_outside(ax, where: str = "right", ncol: int | None = None, **kwargs):
    """A legend that hides no data: right of ``ax`` (``where="right"``; every panel of a figure can have one)
    or under the whole figure (``"below"``, in ``ncol`` columns, default up to 4), for the handles of ``ax``.
    The book's style uses constrained layout, which makes room for either."""
    if where not in ("right", "below"):
        raise ValueError(f"where must be 'right' or 'below', got {where!r}")
    handles, labels = ax.get_legend_handles_labels()
    if where == "right":
        return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kwargs)
    return ax.figure.legend(handles, labels, loc="outside lower center", ncol=ncol or min(len(labels), 4), **kwargs)


_TEX_WORDS = {"lVert": "‖", "rVert": "‖", "|": "‖", "top": "ᵀ", "star": "*", "le": "≤", "ge": "≥",
              "times": "×", "cdot": "·", "to": "→", "mathrm": "", "tfrac": "", "frac": "", "left": "", "right": "",
              "lvert": "|", "rvert": "|", "max": "max", "min": "min", ",": " ", ";": " ", "!": ""}


def _plain(text: str) -> str:
    """Caption text without Markdown or TeX markup, for an image's alt text (\\lVert x \\rVert -> ‖x‖,
    \\lambda -> lambda)."""
    text = re.sub(r"\{[a-z:]+\}`([^`<]*?)(?:<[^>]*>)?`", r"\1", text)   # {ref}`text <label>` -> text
    text = re.sub(r"\\([A-Za-z]+|[|,;!])", lambda m: _TEX_WORDS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"[$*_`{}^\\]", "", text)
    return " ".join(text.split())


def savefig(fig, notebook: str, name: str, *, caption: str, alt: str | None = None,
            slide: str | list[str] | None = None, paper: str | list[str] | None = None) -> Path:
    """Save a matplotlib figure as SVG under site/figures/<notebook>/<name>.svg and show it on the page as a
    numbered figure with ``caption`` (MyST Markdown: say what to look at), ``alt`` text (default: the caption
    without markup) and a link to the full-size SVG. Interactively the cell's plt.show() shows it instead.

    ``slide``: the key (or keys) of the slide figure this one regenerates (``ntklib.book.scorecard.SLIDE_FIGURES``),
    or of the text-only slide it illustrates (``SLIDE_ILLUSTRATIONS``); the caption says so, and Section 6's
    figure map links to the figure (its label is ``anchor(notebook, name, kind="figure")``). ``paper``: likewise,
    the key (or keys) of the figure of a paper it reproduces (``ntklib.book.scorecard.PAPER_FIGURES``)."""
    for value, what in ((caption, "caption"), (name, "name"), (notebook, "notebook")):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    path = write_site_dir() / "figures" / notebook / f"{name}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    keys = [] if not slide else [slide] if isinstance(slide, str) else list(slide)
    papers = [] if not paper else [paper] if isinstance(paper, str) else list(paper)
    from .scorecard import PAPER_FIGURES, SLIDE_FIGURES, SLIDE_ILLUSTRATIONS
    unknown = [k for k in keys if k not in {f[0] for f in SLIDE_FIGURES + SLIDE_ILLUSTRATIONS}] + \
        [k for k in papers if k not in {f[0] for f in PAPER_FIGURES}]
    if unknown:
        raise ValueError(f"slide/paper: unknown figure key(s) {unknown}; known: ntklib.book.scorecard.SLIDE_FIGURES, "
                         "SLIDE_ILLUSTRATIONS (slide=) and PAPER_FIGURES (paper=)")
    entry = {"notebook": notebook, "name": name, "file": f"figures/{notebook}/{name}.svg", "slide": keys or None,
             "paper": papers or None, "anchor": anchor(notebook, name, kind="figure"), "caption": caption}
    _FIGURES[:] = [f for f in _FIGURES if (f["notebook"], f["name"]) != (notebook, name)] + [entry]
    if not in_notebook():
        return path
    if keys or papers:
        titles = {k: t for k, _, t, _ in SLIDE_ILLUSTRATIONS}
        figures = {k: (bib, which) for k, bib, which, _ in PAPER_FIGURES}
        caption += " *(" + "; ".join(
            [f"Illustrates the slide \u201c{titles[k]}\u201d, which has no figure" if k in titles
             else f"Regenerates the slide figure `{k}`" for k in keys] +
            [f"Reproduces {figures[k][1]} of {{cite:t}}`{figures[k][0]}`" for k in papers]) + \
            "; see the figure map in Section 6.)*"
    import matplotlib.pyplot as plt
    src = _book_path(site_dir() / entry["file"])
    if os.environ.get("NTKBOOK_BATCH") and src:
        # A book run: the SVG as a numbered MyST figure (crisp at any zoom, click to enlarge); the figure is
        # closed so that the cell's plt.show() does not add a PNG copy.
        plt.close(fig)
        show_markdown(_figure_markdown(src, caption, alt or _plain(caption), label=entry["anchor"],
                                       url=f"../../{entry['file']}"))
    elif _RECORD.get(notebook) is not None or "inline" not in plt_backend():
        # Interactively, show it now: the record's figure follows it, and a non-inline backend shows nothing.
        from IPython.display import display
        display(fig)
        plt.close(fig)
    show_recorded_figure(notebook, name, alt or _plain(caption))
    return path


def _book_path(path: Path) -> str | None:
    """`path` as the book's pages name it (from the book's root, where _config.yml is), or None when it is
    outside the checkout (ntklib installed elsewhere: then no book is built from this run)."""
    path = path.resolve()
    return f"/{path.relative_to(REPO).as_posix()}" if path.is_relative_to(REPO) else None


def _figure_markdown(src: str, caption: str, alt: str, label: str | None = None, url: str | None = None) -> str:
    """A numbered MyST figure with a caption (``label`` None: an unnumbered image, no caption), its alt text,
    and a link to the full-size file (``url``, relative to the page; html_extra_path puts site/ at the
    root of the HTML and pages live two folders down)."""
    opts = f":alt: {alt}\n" + (f":target: {url}\n" if url else "")
    if label is None:
        return f"```{{image}} {src}\n{opts}:class: ntk-figure\n```"
    return f"```{{figure}} {src}\n:name: {label}\n{opts}:figclass: ntk-figure\n\n{caption}\n```"


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


_RECORD: dict = {}  # notebook -> its full-scale record (ntklib.book.record), set by Checks() in a smaller run


def show_recorded_figure(notebook: str, name: str, alt: str = "") -> None:
    """Under a figure of a smaller run, the same figure from the section's committed full-scale record
    (``alt``: the figure's alt text)."""
    from . import record
    rec = _RECORD.get(notebook)
    fig = None if rec is None else rec["dir"] / "figures" / f"{name}.svg"
    if fig is None or not fig.is_file() or not in_notebook():
        return
    show_markdown(f"*The same figure at the full scale ({record.label(rec)}):*")
    src = _book_path(fig)
    if os.environ.get("NTKBOOK_BATCH") and src:
        show_markdown(_figure_markdown(src, "", "full-scale record: " + alt))
    else:
        from IPython.display import SVG, display
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
