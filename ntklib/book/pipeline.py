"""The book pipeline: jupytext source -> papermill execution -> executed .ipynb -> Jupyter Book HTML.

Each section notebook (``notebooks/NN_name.md``, MyST-markdown jupytext) is executed by papermill with
its ``parameters`` cell set (scale, seed) into ``book/generated/NN_name.ipynb``; a run-information box
(scale, seed, wall time, versions) is added at the top, and Jupyter Book 1.x renders the executed
notebooks without re-executing them.

A run never loses what the book had: a section executes into a staging folder, and its page, figures and
results replace the previous ones only once the run has succeeded. A failed or interrupted run keeps the last
good page (marked with a banner saying the latest run failed) and leaves its partial output under
``book/generated/failed/``; a section that never ran successfully gets a placeholder page that says why and
how to fix it, so the book still builds from the sections that ran. A lock per section makes a second run
of the same section refuse with a clear message. Each section declares the data it needs in its front matter
(``ntkbook: data: [mnist, cifar10 | fashion-mnist]``); missing data is fetched first, and data that cannot
be had is reported in one line per dataset, with the command that provides it.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._files import atomic_write_text
from . import report

REPO = report.REPO
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "book" / "_build" / "html"
SCALES = ("ci", "full")
KERNEL = "ntk-book"


class NotebookFailed(RuntimeError):
    """A notebook raised during execution; the message names the notebook and the cell."""


class DataUnavailable(RuntimeError):
    """A section's data could not be had; the message has one line per dataset with its fix."""


class SectionBusy(RuntimeError):
    """Another run of the same section holds its lock."""


BANNER_TAG = "ntkbook-run-failed"  # the cell tag of the banner that marks a failed run on a page


@dataclass(frozen=True)
class Section:
    stem: str
    title: str
    runtime: dict  # scale -> expected wall time, from the notebook's front matter (`ntkbook: runtime:`)
    data: tuple = ()  # datasets it reads, each a tuple of alternatives in order of preference
    summary: bool = False  # reads every other section's results (`ntkbook: summary: true`), so runs last


# A page's file stem: a lecture section ``NN_name`` or a companion page after it, ``NNa_name`` (a paper
# reproduced at its own scale), which sorts after its section because "_" < "a".
STEM = re.compile(r"\d\d[a-z]?_\w+")


def source_paths(directory: Path | None = None, suffix: str = ".md") -> list[Path]:
    """The page files in ``directory`` (default: notebooks/; sections and companion pages), in book order."""
    directory = NOTEBOOKS if directory is None else Path(directory)
    return sorted(p for p in directory.glob(f"[0-9][0-9]*{suffix}") if STEM.fullmatch(p.stem))


def sections() -> list[Section]:
    """The section notebooks and companion pages, discovered in notebooks/ (NN_name.md, NNa_name.md), in order."""
    import jupytext
    out = []
    for path in source_paths():
        nb = jupytext.read(path)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else path.stem
        meta = nb.metadata.get("ntkbook", {})
        data = tuple(tuple(a.strip() for a in str(entry).split("|")) for entry in meta.get("data", []))
        out.append(Section(path.stem, title, dict(meta.get("runtime", {})), data, bool(meta.get("summary"))))
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


def repository_url() -> str:
    """The repository named in _config.yml (empty if none): the one place a fork changes."""
    import yaml
    cfg = yaml.safe_load((REPO / "_config.yml").read_text())
    return ((cfg.get("repository") or {}).get("url") or "").rstrip("/")


def _run_info(results: dict, wall: float) -> str:
    from . import record
    v = results["versions"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rec = record.load(results["notebook"]) if results["scale"] != "full" else None
    rec_line = ("" if results["scale"] == "full" else
                " No full-scale record of this section yet (`make record`)." if rec is None else
                f" Beside this run, each check and figure shows the {record.label(rec)}: "
                f"{rec.get('wall_seconds') or 0:.0f} s wall on {rec['provenance']['cpus']} CPUs.")
    git = record.git_commit()
    commit = "unknown" if git["commit"] is None else git["commit"][:10] + (" + local changes" if git["dirty"] else "")
    pkgs = ", ".join(f"{k} {v[k]}" for k in ("numpy", "scipy", "scikit-learn", "jax", "neural-tangents") if v.get(k))
    return (":::{admonition} Run information\n:class: note\n"
            f"Scale **{results['scale']}** · seed **{results['seed']}** · wall time **{wall:.0f} s** "
            f"(executed by papermill, {when}) · commit `{commit}` · Python {v['python']}, {pkgs} · "
            f"{v['platform']}, {v['cpus']} CPUs · "
            f"<a href=\"../../results/{results['notebook']}.json\">results (JSON)</a>. "
            "Re-run: `python -m ntklib run " f"{results['notebook']} --scale {results['scale']}`."
            + rec_line + _install_line() + "\n:::")


def _install_line() -> str:
    url = repository_url()
    if not url:
        return " To run this notebook elsewhere, install ntklib from the book's repository (`make install`)."
    return (f" To run this notebook elsewhere: `git clone {url} && cd {url.rsplit('/', 1)[-1]} && make install`, "
            f"or `pip install 'ntklib @ git+{url}'` into an environment with Python 3.11 (the pinned stack: "
            "`-c constraints.txt` of the repository).")


def _lock(out_dir: Path, stem: str):
    """An exclusive, non-blocking lock on one section's outputs (released when the process exits, even
    when it is killed). Raises SectionBusy if another run of the section holds it."""
    path = out_dir / ".locks" / f"{stem}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        fh.close()
        if e.errno in (errno.EAGAIN, errno.EACCES):
            raise SectionBusy(f"another run of {stem} is in progress (lock {path}); wait for it to finish, "
                              "or stop it, and run again") from None
        raise
    return fh


def _staging(out_dir: Path, stem: str) -> Path:
    """A fresh staging folder for one run of ``stem``. Leftovers of killed runs of the same section are
    removed first (the caller holds the section's lock, so no live run owns them)."""
    root = out_dir / ".staging"
    for old in root.glob(f"{stem}-*"):
        shutil.rmtree(old, ignore_errors=True)
    stage = root / f"{stem}-{os.getpid()}"
    stage.mkdir(parents=True)
    return stage


def _publish(stage: Path, out_dir: Path, stem: str) -> None:
    """Move a successful run's page, results and figures into the book, each by an atomic rename."""
    site, new_site = out_dir / "site", stage / "site"
    figures, new_figures = site / "figures" / stem, new_site / "figures" / stem
    if new_figures.exists():
        figures.parent.mkdir(parents=True, exist_ok=True)
        if figures.exists():
            os.replace(figures, stage / "old-figures")
        os.replace(new_figures, figures)
    elif figures.exists():  # the new run saves no figures: the old ones would be stale
        os.replace(figures, stage / "old-figures")
    (site / "results").mkdir(parents=True, exist_ok=True)
    os.replace(new_site / "results" / f"{stem}.json", site / "results" / f"{stem}.json")
    os.replace(stage / f"{stem}.ipynb", out_dir / f"{stem}.ipynb")
    for stale in (out_dir / "failed" / f"{stem}.ipynb", out_dir / "failed" / f"{stem}.txt"):
        stale.unlink(missing_ok=True)


def execute(stem: str, scale: str = "ci", seed: int | None = None) -> dict:
    """Execute one section notebook with papermill; return its results record (checks, wall time).

    The run writes into a staging folder (``NTKBOOK_STAGE``; see report.write_dir) and its page, figures and
    results replace the book's only when it has succeeded; a failure leaves the book as it was."""
    if scale not in SCALES:
        raise SystemExit(f"scale must be one of {SCALES}, got {scale!r}")
    out_dir = report.output_dir()
    lock = _lock(out_dir, stem)
    stage = _staging(out_dir, stem)
    saved = {k: os.environ.get(k) for k in ("NTKBOOK_OUTPUT", "NTKBOOK_STAGE", "NTKBOOK_BATCH")}
    try:
        os.environ.update(NTKBOOK_OUTPUT=str(out_dir), NTKBOOK_STAGE=str(stage), NTKBOOK_BATCH="1")
        results = _execute_into(stage, out_dir, stem, scale, seed)
        _publish(stage, out_dir, stem)
        return results
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(stage, ignore_errors=True)
        lock.close()


def _execute_into(stage: Path, out_dir: Path, stem: str, scale: str, seed: int | None) -> dict:
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    src = NOTEBOOKS / f"{stem}.md"
    results_path = stage / "site" / "results" / f"{stem}.json"
    ensure_kernel()
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (ntk-book)", "language": "python"}
    # Time every cell from the first one on, for the record's profile (a hidden cell: not on the page).
    nb.cells.insert(1, nbformat.v4.new_code_cell("from ntklib.book import report\nreport.start_profiling()",
                                                 metadata={"tags": ["remove-cell"]}))
    params = {"scale": scale} | ({} if seed is None else {"seed": seed})
    # The kernel must keep matplotlib's inline backend (it renders headless): with MPLBACKEND=Agg,
    # plt.show() would put no figure on the page.
    os.environ.pop("MPLBACKEND", None)
    tmp_in, tmp_out = stage / f"{stem}.in.ipynb", stage / f"{stem}.out.ipynb"
    nbformat.write(nb, tmp_in)
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        papermill.execute_notebook(tmp_in, tmp_out, parameters=params, kernel_name=KERNEL, cwd=NOTEBOOKS,
                                   progress_bar=False, log_output=False)
    except PapermillExecutionError as e:
        failed = out_dir / "failed" / f"{stem}.ipynb"
        failed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_out, failed)
        first_line = (e.source or "").strip().splitlines()[:1]
        kept = (f"the last good page ({out_dir / f'{stem}.ipynb'}) is kept" if (out_dir / f"{stem}.ipynb").exists()
                else "no earlier good page exists")
        raise NotebookFailed(
            f"notebooks/{stem}.md failed at scale {scale!r} in cell {e.cell_index} "
            f"(execution count {e.exec_count}, starting {first_line[0]!r} if any): {e.ename}: {e.evalue}\n"
            f"  partial output: {failed}; {kept}") from None
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if not results_path.exists():
        raise NotebookFailed(f"notebooks/{stem}.md ran but recorded no checks (it must end with checks.finish())")
    results = json.loads(results_path.read_text())
    executed = nbformat.read(tmp_out, as_version=4)
    # The kernel and its workers are this process's children, reaped once the run is over.
    results["wall_seconds"] = round(wall, 1)
    results["cpu_seconds"] = round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 1)
    results["peak_rss_mb"] = round(r1.ru_maxrss / 1024)
    results["profile"] = profile_by_part(executed, results.pop("cells", []))
    atomic_write_text(results_path, json.dumps(results, indent=1))
    for cell in executed.cells:  # papermill's copy of the parameters: the run box states them already
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = quiet_outputs(cell.outputs)
    executed.cells.insert(1, nbformat.v4.new_markdown_cell(_run_info(results, wall)))
    atomic_write_text(stage / f"{stem}.ipynb", nbformat.writes(executed))
    return results


# TensorFlow (imported by neural-tangents) logs from C++ through absl before any Python setting applies:
# "WARNING: All log messages before absl::InitializeLog() ...", then glog-style lines such as
# "I0000 00:00:1796188924.998591   31653 port.cc:153] oneDNN custom operations are on ...".
_NATIVE_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\).*|"
                         r"[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*)\n?", re.M)


def quiet_outputs(outputs: list) -> list:
    """A cell's outputs without TensorFlow's native log lines on stderr (noise to a reader; nothing that
    concerns the results), dropping stderr outputs left empty. Everything else is kept as it is."""
    import nbformat
    out = []
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            text = _NATIVE_LOG.sub("", o.get("text", ""))
            if not text.strip():
                continue
            o = nbformat.from_dict({**o, "text": text})     # a NotebookNode, as nbformat.writes needs
        out.append(o)
    return out


def profile_by_part(nb, cells: list[dict]) -> list[dict]:
    """Group the kernel's per-cell timings (report.start_profiling) by the page's ``##`` headings: one
    entry per part with its wall and CPU seconds and the peak memory of the run so far (ru_maxrss only
    grows, so a part's peak is the run's peak at its end)."""
    by_count = {c["cell"]: c for c in cells}
    parts, current = [], {"part": "setup", "wall": 0.0, "cpu": 0.0, "peak_rss_mb": 0.0}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            # the last heading of the cell: a part with no code of its own (a pointer to another page) shares
            # its Markdown cell with the next part's heading, and the code that follows is the next part's
            heading = next((ln[3:].strip() for ln in reversed(cell.source.splitlines()) if ln.startswith("## ")), None)
            if heading:
                parts.append(current)
                current = {"part": heading, "wall": 0.0, "cpu": 0.0, "peak_rss_mb": 0.0}
        elif cell.cell_type == "code" and cell.get("execution_count") in by_count:
            c = by_count[cell["execution_count"]]
            current["wall"] += c["wall"]
            current["cpu"] += c["cpu"]
            current["peak_rss_mb"] = max(current["peak_rss_mb"], c["peak_rss_mb"])
    parts.append(current)
    return [{**p, "wall": round(p["wall"], 1), "cpu": round(p["cpu"], 1), "peak_rss_mb": round(p["peak_rss_mb"])}
            for p in parts if p["wall"] > 0]


def fetch_data(s: Section) -> list[str]:
    """Make sure the data a section declares is present and verified, downloading what is missing. Returns
    one line per dataset that cannot be had (what is missing and the command or download that provides it);
    empty when everything is there. Of alternatives (``cifar10 | fashion-mnist``) the first one had is used."""
    if not s.data:
        return []
    from .. import datasets
    problems = []
    for alternatives in s.data:
        tried = []
        for name in alternatives:
            (st,) = datasets.fetch([name])
            if st.state == "verified":
                break
            tried.append(st)
        else:
            problems += [f"{st.title}: {st.state} ({st.detail}); fix: {st.fix}" for st in tried]
    return problems


def _mark_failed(s: Section, scale: str, reason: str) -> None:
    """Show a failed run on the book's page of ``s``: a banner on top of the last good page, or a placeholder
    page saying the section has not run, so the book still builds and says what to do."""
    import nbformat
    out_dir = report.output_dir()
    page = out_dir / f"{s.stem}.ipynb"
    text = (f":::{{admonition}} This section's latest run failed (scale {scale})\n:class: error\n"
            + ("The page below is the last run that succeeded. " if page.exists() else
               "It has not run successfully yet, so this page has no content. ")
            + "The latest run stopped with:\n\n```text\n" + reason.strip() + "\n```\n\n"
            f"Re-run it with `python -m ntklib run {s.stem} --scale {scale}`, then `python -m ntklib build`.\n:::")
    banner = nbformat.v4.new_markdown_cell(text, metadata={"tags": [BANNER_TAG]})
    if page.exists():
        nb = nbformat.read(page, as_version=4)
        nb.cells = [c for c in nb.cells if BANNER_TAG not in c.get("metadata", {}).get("tags", [])]
        nb.cells.insert(1, banner)
    else:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {s.title}"), banner])
    atomic_write_text(page, nbformat.writes(nb))
    atomic_write_text(out_dir / "failed" / f"{s.stem}.txt", reason.strip() + "\n")


def _run_order(stems: list[str]) -> list[Section]:
    """The given sections (all if empty) in book order, summaries last: a summary reads every other page's results."""
    return sorted([section(s) for s in stems] if stems else sections(), key=lambda s: s.summary)


def run(stems: list[str], scale: str, seed: int | None = None) -> int:
    """Execute the given sections (all if empty), print a summary, return the number of failures.

    Each section's data is fetched first; a section whose data cannot be had, or that fails, is marked on
    its page (see _mark_failed) and the others still run. A summary section runs only if every section it
    summarises succeeded in this call (otherwise it would only repeat their failure)."""
    chosen = _run_order(stems)
    failed: dict[str, str] = {}
    for s in chosen:
        if s.summary and failed:
            reason = f"not run: it summarises every section, and {', '.join(failed)} failed in this run"
        else:
            print(f"[ntk-book] executing {s.stem} at scale {scale} ...", flush=True)
            problems = fetch_data(s)
            try:
                if problems:
                    raise DataUnavailable("data that cannot be had:\n  " + "\n  ".join(problems))
                res = execute(s.stem, scale, seed)
            except (NotebookFailed, DataUnavailable, SectionBusy) as e:
                reason = str(e)
            else:
                counts = {}
                for c in res["checks"]:
                    counts[c["status"]] = counts.get(c["status"], 0) + 1
                print(f"[ntk-book] {s.stem}: {res['wall_seconds']:.0f} s, checks {counts}", flush=True)
                continue
        failed[s.stem] = reason
        print(f"[ntk-book] FAILED {s.stem}: {reason}", file=sys.stderr, flush=True)
        _mark_failed(s, scale, reason)
    if failed:
        print(f"[ntk-book] {len(failed)} section(s) failed: {', '.join(failed)}; their pages say why",
              file=sys.stderr, flush=True)
    return len(failed)


def record(stems: list[str], scale: str = "full", seed: int | None = None) -> int:
    """Execute sections at ``scale`` (all if none given) and keep what they measured in the committed record
    (ntklib.book.record). The runs use their own output folder, book/generated/record-<scale>/, so the book's
    own pages are untouched; the summary section there reads the other sections' records. Every section
    starts from an empty result cache (no UCI or graph result, no kernel computed by an earlier run is
    served): a record's numbers and times are what this code computed, now. Returns the number of failed
    sections; a failed section keeps its previous record."""
    from . import record as rec_mod
    out_dir = report.output_dir() / f"record-{scale}"
    results = out_dir / "site" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for s in sections():  # what the summary reads for sections not re-recorded in this call
        old = rec_mod.load(s.stem, scale)
        if old is not None and not (results / f"{s.stem}.json").exists():
            atomic_write_text(results / f"{s.stem}.json", json.dumps(
                {k: v for k, v in old.items() if k not in ("dir", "stale")}, indent=1))
    saved = os.environ.get("NTKBOOK_OUTPUT")
    os.environ["NTKBOOK_OUTPUT"] = str(out_dir)
    try:
        failures = 0
        for s in _run_order(stems):
            print(f"[ntk-book] recording {s.stem} at scale {scale} ...", flush=True)
            problems = fetch_data(s)
            source = {f"notebooks/{s.stem}.md": rec_mod.source_sha256(NOTEBOOKS / f"{s.stem}.md")}  # as it runs
            shutil.rmtree(out_dir / "cache", ignore_errors=True)
            try:
                if problems:
                    raise DataUnavailable("data that cannot be had:\n  " + "\n  ".join(problems))
                res = execute(s.stem, scale, seed)
            except (NotebookFailed, DataUnavailable, SectionBusy) as e:
                failures += 1
                print(f"[ntk-book] FAILED {s.stem} (its previous record is kept): {e}", file=sys.stderr, flush=True)
                continue
            path = rec_mod.write(s.stem, res, out_dir / "site", scale, source)
            print(f"[ntk-book] {s.stem}: {res['wall_seconds']:.0f} s wall, {res['cpu_seconds']:.0f} CPU-s, "
                  f"peak {res['peak_rss_mb']} MB; recorded in {path}", flush=True)
    finally:
        if saved is None:
            os.environ.pop("NTKBOOK_OUTPUT", None)
        else:
            os.environ["NTKBOOK_OUTPUT"] = saved
    return failures


def build() -> Path:
    """Build the HTML book from the executed notebooks; Sphinx warnings are errors."""
    missing = [s.stem for s in sections() if not (report.output_dir() / f"{s.stem}.ipynb").exists()]
    if missing:
        raise SystemExit(f"not executed yet: {', '.join(missing)}; run `python -m ntklib run` first")
    report.site_dir().mkdir(parents=True, exist_ok=True)
    from . import record  # the full-scale record's time table, included by the Performance page
    atomic_write_text(report.output_dir() / "record_profile.md",
                             record.profile_markdown([s.stem for s in sections()]) + "\n")
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

