"""The committed full-scale record: what a section measured at the papers' scale, kept in the repository.

The full scale takes about an hour on 2 cores, too long for CI on every commit. ``python -m ntklib record``
(``make record``) executes sections at full scale and keeps a compact record of each under
``records/<scale>/<NN_name>/``:

* ``record.json``: the check results, the figures saved, the result tables shown, the time by part (wall, CPU, peak memory), and the
  provenance: git commit, sha256 of the section's source and of every ntklib module the run imported,
  package versions, CPU model, date;
* ``figures/*.svg``: the figures, as the run saved them.

Nothing big goes in (no data, no executed notebooks with embedded images). The book shows each section's
record beside its own run, and a record whose section source or library code has changed since is *stale*:
:func:`staleness` names the files, and the pages and the scorecard say so. A record is only ever written
by a successful run (it replaces the old one by an atomic rename), never by hand.
"""
from __future__ import annotations

import hashlib
import json
import re
import os
import platform
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from . import report

REPO = report.REPO
RECORDS = REPO / "records"  # $NTKBOOK_RECORDS overrides it (tests; a record kept elsewhere)
MAX_RECORD_BYTES = 10 * 2**20  # the whole record stays small enough to commit and review


def record_dir(scale: str = "full") -> Path:
    return Path(os.environ.get("NTKBOOK_RECORDS") or RECORDS) / scale


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_sha256(path: Path) -> str:
    """The hash of what in a section's source decides its numbers: its code cells, in order. The prose and
    the front matter (where ``runtime:`` is a measurement copied from the record) are left out, so a
    record stays fresh through an edit of the text around its numbers: the page's prose is always
    rendered from the current source, only the numbers and figures come from the record."""
    return _code_sha256(Path(path).read_text())


def _code_sha256(text: str) -> str:
    import jupytext
    nb = jupytext.reads(text, fmt="md:myst")
    code = "\n\0\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def _legacy_source_hashes(text: str) -> set[str]:
    """How records made before the code-only rule hashed a source: the whole file, then the file without
    its ``runtime:`` line."""
    return {hashlib.sha256(text.encode()).hexdigest(),
            hashlib.sha256(re.sub(r"(?m)^ *runtime:.*\n", "", text).encode()).hexdigest()}


def _source_changed(path: str, digest: str, commit: str | None) -> bool:
    """Whether the code of source ``path`` differs from the one recorded as ``digest``. A legacy digest is
    resolved through the recorded commit's copy of the file (its code hash is compared instead)."""
    here = REPO / path
    if not here.is_file():
        return True
    now = source_sha256(here)
    if digest == now:
        return False
    if commit:
        blob = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{path}"], capture_output=True, text=True)
        if blob.returncode == 0 and digest in _legacy_source_hashes(blob.stdout):
            return _code_sha256(blob.stdout) != now
    return True


def git_commit(paths: list[str] | None = None) -> dict:
    """The checkout's commit and whether ``paths`` (default: every tracked file) differ from it: a record
    made from uncommitted code says so, since its commit alone does not reproduce it."""
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout
    try:
        status = git("status", "--porcelain", "--untracked-files=all", "--", *(paths or []))
        if paths is None:
            status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": git("rev-parse", "HEAD").strip(), "dirty": bool(status.strip())}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The book tooling (the package ntklib.book: the pipeline, the page's outputs, the checks' display) and the
# command line shape the page, not the numbers, so editing them does not make a record stale.
def _is_tooling(module: str) -> bool:
    return module in ("ntklib.book", "ntklib.__main__") or module.startswith("ntklib.book.")


def _is_tooling_file(path: str) -> bool:
    return path == "ntklib/__main__.py" or path.startswith("ntklib/book/")


def library_files(modules: list[str]) -> dict[str, str]:
    """sha256 of the ntklib source files behind ``modules`` (dotted names, as a run imported them), by
    repository-relative path. The book tooling (the pipeline, the page's outputs, the checks' display) is
    left out: it shapes the page, not the numbers."""
    out = {}
    for name in sorted(m for m in set(modules) if not _is_tooling(m)):
        parts = name.split(".")
        base = REPO.joinpath(*parts)
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if path.is_file():
            out[str(path.relative_to(REPO))] = file_sha256(path)
    return out


def provenance(stem: str, modules: list[str], library: dict | None = None, source: dict | None = None) -> dict:
    """Where a record comes from. ``library`` and ``source`` are the hashes taken when the run started (by
    Checks() in the kernel and by the runner); the files are hashed now only where they are missing. ``dirty``
    concerns only those files, the ones whose hashes decide staleness: it is true if they differ from the
    commit, or changed while the section ran."""
    from .. import __version__
    now_source = {f"notebooks/{stem}.md": source_sha256(REPO / "notebooks" / f"{stem}.md")}
    source = source or now_source
    now_library = library_files(modules)
    library = {**now_library, **(library or {})}
    changed_during_run = source != now_source or any(now_library.get(p) != h for p, h in library.items())
    git = git_commit([*source, *library])
    git["dirty"] = bool(git["dirty"]) or changed_during_run if git["commit"] is not None else None
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **git,
            "ntklib": __version__, "cpu": cpu_model(), "cpus": os.cpu_count(), "source": source, "library": library}


def staleness(rec: dict) -> list[str]:
    """The files (section source, library modules) that changed, or disappeared, since ``rec`` was
    recorded; empty when the record is fresh."""
    prov = rec["provenance"]
    changed = [p for p, h in prov["source"].items() if _source_changed(p, h, prov.get("commit"))]
    library = {p: h for p, h in prov["library"].items() if not _is_tooling_file(p)}
    changed += [p for p, h in library.items() if not (REPO / p).is_file() or file_sha256(REPO / p) != h]
    return sorted(changed)


def load(stem: str, scale: str = "full") -> dict | None:
    """The record of section ``stem`` (with ``stale``: the changed files), or None if it has none."""
    path = record_dir(scale) / stem / "record.json"
    if not path.is_file():
        return None
    rec = json.loads(path.read_text())
    rec["stale"] = staleness(rec)
    rec["dir"] = path.parent
    return rec


def write(stem: str, results: dict, run_site: Path, scale: str = "full", source: dict | None = None) -> Path:
    """Record a successful run: its results (with provenance) and its SVG figures, replacing the old record
    of the section only once the new one is complete."""
    root = record_dir(scale)
    new, old, final = root / f".{stem}.new", root / f".{stem}.old", root / stem
    for d in (new, old):
        shutil.rmtree(d, ignore_errors=True)
    (new / "figures").mkdir(parents=True)
    for fig in results.get("figures", []):
        src = run_site / fig["file"]
        shutil.copy2(src, new / "figures" / src.name)
    rec = {k: results[k] for k in ("notebook", "scale", "seed", "checks", "figures", "tables", "wall_seconds",
                                   "cpu_seconds", "peak_rss_mb", "profile", "versions") if k in results}
    rec["provenance"] = provenance(stem, results.get("modules", []), results.get("library"), source)
    (new / "record.json").write_text(json.dumps(rec, indent=1) + "\n")
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    if total > MAX_RECORD_BYTES:
        print(f"[ntk-book] warning: the {scale} record is {total / 2**20:.1f} MB, over its "
              f"{MAX_RECORD_BYTES / 2**20:.0f} MB budget: rasterise dense layers (rasterized=True)", flush=True)
    return final


def check_index(rec: dict | None) -> dict[str, dict]:
    """The record's checks by id (empty without a record)."""
    return {} if rec is None else {c["id"]: c for c in rec["checks"]}


def label(rec: dict) -> str:
    """One line that says where a record comes from and whether it is fresh, for pages."""
    prov = rec["provenance"]
    commit = (prov.get("commit") or "unknown")[:10] + (" + uncommitted changes" if prov.get("dirty") else "")
    state = ("fresh" if not rec["stale"] else
             "**stale**: changed since: " + ", ".join(f"`{p}`" for p in rec["stale"]))
    return f"full-scale record of {prov['date']}, commit `{commit}` ({state})"


def profile_markdown(stems: list[str], scale: str = "full") -> str:
    """The record's time table for the Performance page: per section its wall, CPU and peak memory, then its
    parts (the page's ## headings) with theirs; sections without a record are listed as such."""
    rows = ["| section | part | wall | CPU | peak memory |", "|---|---|---|---|---|"]
    total_wall = total_cpu = 0.0
    missing = []
    for stem in stems:
        rec = load(stem, scale)
        if rec is None:
            missing.append(stem)
            continue
        total_wall += rec.get("wall_seconds") or 0
        total_cpu += rec.get("cpu_seconds") or 0
        state = "" if not rec["stale"] else " (stale)"
        rows.append(f"| **{stem}**{state} | whole section, {rec['provenance']['date']} | "
                    f"**{_minutes(rec.get('wall_seconds'))}** | {_minutes(rec.get('cpu_seconds'))} | "
                    f"{rec.get('peak_rss_mb', '–')} MB |")
        for p in rec.get("profile", []):
            part = p["part"].replace("|", "\\|")
            rows.append(f"| | {part} | {_minutes(p['wall'])} | {_minutes(p['cpu'])} | {p['peak_rss_mb']} MB |")
    rows.append(f"| **all recorded** | | **{_minutes(total_wall)}** | {_minutes(total_cpu)} | |")
    note = ("" if not missing else
            f"\n\nNot recorded yet at this scale: {', '.join(missing)} (`make record SECTIONS=...`).")
    return "\n".join(rows) + note


def _minutes(seconds) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
