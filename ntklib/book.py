"""The book pipeline: jupytext source -> papermill execution -> executed .ipynb -> Jupyter Book HTML.

Each section notebook (``notebooks/NN_name.md``, MyST-markdown jupytext) is executed by papermill with
its ``parameters`` cell set (scale, seed) into ``book/generated/NN_name.ipynb``; a run-information box
(scale, seed, wall time, versions) is added at the top, and Jupyter Book 1.x renders the executed
notebooks without re-executing them. A failed notebook leaves no executed page behind, so the build
cannot publish a page from a failed run; its partial output is kept under ``book/generated/failed/``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import report

REPO = report.REPO
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "book" / "_build" / "html"
SCALES = ("ci", "full")
KERNEL = "ntk-book"


class NotebookFailed(RuntimeError):
    """A notebook raised during execution; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Section:
    stem: str
    title: str
    runtime: dict  # scale -> expected wall time, from the notebook's front matter (`ntkbook: runtime:`)


def sections() -> list[Section]:
    """The section notebooks, discovered in notebooks/ (NN_name.md), in order."""
    import jupytext
    out = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md")):
        nb = jupytext.read(path)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else path.stem
        out.append(Section(path.stem, title, dict(nb.metadata.get("ntkbook", {}).get("runtime", {}))))
    return out


def section(stem: str) -> Section:
    found = sections()
    for s in found:
        if s.stem == stem or s.stem.split("_", 1)[0] == stem:
            return s
    raise SystemExit(f"unknown section {stem!r}; known: {', '.join(s.stem for s in found)}")


def ensure_kernel() -> None:
    """Register a Jupyter kernel named 'ntk-book' for this interpreter, so papermill (and a reader's
    Jupyter) runs the notebooks in the environment that has ntklib, never some other 'python3'."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return
        found = spec.resource_dir
    except NoSuchKernel:
        found = None
    from ipykernel.kernelspec import install
    install(kernel_name=KERNEL, display_name="Python (ntk-book)", prefix=sys.prefix)
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    if Path(spec.argv[0]).resolve() != Path(sys.executable).resolve():
        raise RuntimeError(f"a kernel named {KERNEL!r} at {found} points to {spec.argv[0]}, not {sys.executable}; "
                           "remove it (jupyter kernelspec remove ntk-book) and retry")


def _run_info(results: dict, wall: float) -> str:
    v = results["versions"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (":::{admonition} Run information\n:class: note\n"
            f"Scale **{results['scale']}** · seed **{results['seed']}** · wall time **{wall:.0f} s** "
            f"(executed by papermill, {when}) · Python {v['python']}, numpy {v['numpy']}, jax {v['jax']}, "
            f"neural-tangents {v['neural-tangents']} · {v['platform']}, {v['cpus']} CPUs. "
            "Re-run: `python -m ntklib run " f"{results['notebook']} --scale {results['scale']}`.\n:::")


def execute(stem: str, scale: str = "ci", seed: int | None = None) -> dict:
    """Execute one section notebook with papermill; return its results record (checks, wall time)."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if scale not in SCALES:
        raise SystemExit(f"scale must be one of {SCALES}, got {scale!r}")
    src = NOTEBOOKS / f"{stem}.md"
    out_dir = report.output_dir()
    target = out_dir / f"{stem}.ipynb"
    results_path = report.site_dir() / "results" / f"{stem}.json"
    for stale in (target, results_path):
        stale.unlink(missing_ok=True)
    ensure_kernel()
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (ntk-book)", "language": "python"}
    params = {"scale": scale} | ({} if seed is None else {"seed": seed})
    os.environ.update(NTKBOOK_OUTPUT=str(out_dir), NTKBOOK_BATCH="1")
    # The kernel must keep matplotlib's inline backend (it renders headless): with MPLBACKEND=Agg,
    # plt.show() would put no figure on the page.
    os.environ.pop("MPLBACKEND", None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_in, tmp_out = Path(tmp) / f"{stem}.ipynb", Path(tmp) / f"{stem}.out.ipynb"
        nbformat.write(nb, tmp_in)
        t0 = time.perf_counter()
        try:
            papermill.execute_notebook(tmp_in, tmp_out, parameters=params, kernel_name=KERNEL, cwd=NOTEBOOKS,
                                       progress_bar=False, log_output=False)
        except PapermillExecutionError as e:
            failed = out_dir / "failed" / f"{stem}.ipynb"
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_out, failed)
            first_line = (e.source or "").strip().splitlines()[:1]
            raise NotebookFailed(
                f"notebooks/{stem}.md failed at scale {scale!r} in cell {e.cell_index} "
                f"(execution count {e.exec_count}, starting {first_line[0]!r} if any): {e.ename}: {e.evalue}\n"
                f"  partial output: {failed}") from None
        wall = time.perf_counter() - t0
        if not results_path.exists():
            raise NotebookFailed(f"notebooks/{stem}.md ran but recorded no checks (it must end with checks.finish())")
        results = json.loads(results_path.read_text())
        results["wall_seconds"] = round(wall, 1)
        report.atomic_write_text(results_path, json.dumps(results, indent=1))
        executed = nbformat.read(tmp_out, as_version=4)
        executed.cells.insert(1, nbformat.v4.new_markdown_cell(_run_info(results, wall)))
        report.atomic_write_text(target, nbformat.writes(executed))
    return results


def run(stems: list[str], scale: str, seed: int | None = None) -> int:
    """Execute the given sections (all if empty), print a summary, return the number of failures."""
    chosen = [section(s) for s in stems] if stems else sections()
    failures = 0
    for s in chosen:
        print(f"[ntk-book] executing {s.stem} at scale {scale} ...", flush=True)
        try:
            res = execute(s.stem, scale, seed)
        except NotebookFailed as e:
            failures += 1
            print(f"[ntk-book] FAILED: {e}", file=sys.stderr, flush=True)
            continue
        counts = {}
        for c in res["checks"]:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        print(f"[ntk-book] {s.stem}: {res['wall_seconds']:.0f} s, checks {counts}", flush=True)
    return failures


def build() -> Path:
    """Build the HTML book from the executed notebooks; Sphinx warnings are errors."""
    missing = [s.stem for s in sections() if not (report.output_dir() / f"{s.stem}.ipynb").exists()]
    if missing:
        raise SystemExit(f"not executed yet: {', '.join(missing)}; run `python -m ntklib run` first")
    report.site_dir().mkdir(parents=True, exist_ok=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    # --all: rebuild every page (no stale pages); -W: warnings are errors; -n: nitpicky, so broken
    # references warn (and so fail); --keep-going: report every warning before failing.
    cmd = [str(jb), "build", str(REPO), "--path-output", str(REPO / "book"), "--all", "-W", "-n", "--keep-going"]
    subprocess.run(cmd, check=True)
    print(f"[ntk-book] the book is at {BUILD / 'index.html'}")
    return BUILD


def differing_checks(a: dict, b: dict) -> list[str]:
    """Checks whose recorded measured value or status differ between two results records of one notebook."""
    va = {c["id"]: (c["measured"], c["status"]) for c in a["checks"]}
    vb = {c["id"]: (c["measured"], c["status"]) for c in b["checks"]}
    return [f"{k}: {va.get(k)} vs {vb.get(k)}" for k in sorted(va.keys() | vb.keys()) if va.get(k) != vb.get(k)]


def rerun_and_compare(stem: str, scale: str, seed: int | None = None) -> list[str]:
    """Execute a notebook again into a temporary output directory and compare its checks with the recorded
    run in the book's output directory: same parameters must give identical recorded values."""
    recorded = report.site_dir() / "results" / f"{section(stem).stem}.json"
    if not recorded.exists():
        raise SystemExit(f"no recorded run of {stem} to compare with; run `python -m ntklib run {stem}` first")
    first = json.loads(recorded.read_text())
    if first["scale"] != scale:
        raise SystemExit(f"the recorded run of {stem} is at scale {first['scale']!r}, not {scale!r}")
    saved = os.environ.get("NTKBOOK_OUTPUT")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NTKBOOK_OUTPUT"] = tmp
        try:
            second = execute(section(stem).stem, scale, first["seed"] if seed is None else seed)
        finally:
            if saved is None:
                os.environ.pop("NTKBOOK_OUTPUT")
            else:
                os.environ["NTKBOOK_OUTPUT"] = saved
    return differing_checks(first, second)

