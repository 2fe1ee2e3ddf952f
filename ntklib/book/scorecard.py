"""The reproduction scorecard: every check recorded by every section notebook, as tables for Section 6.

Each executed notebook writes its checks to ``<site>/results/NN_name.json`` (:mod:`ntklib.book.checks`). This
module reads those files and renders them as MyST Markdown: one row per check (claim, slide, lecture
value, measured value, expectation and tolerance, status, and a ``{ref}`` link to the cell that shows
it), a per-section summary, and the figure map (each figure of the slides -> the cell that regenerates
it). Nothing is dropped: a check that failed or does not reproduce is listed with its numbers, and a
section whose results are missing, or were computed at another scale, is reported as such.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import record, report
from .checks import badge

STATUSES = ("pass", "slip found", "does not reproduce", "full scale only", "FAIL")  # see ntklib.book.checks
OK = ("pass", "slip found")  # verdicts that agree with what the book set out to show
_REQUIRED = ("notebook", "scale", "seed", "checks")
_CHECK_KEYS = ("id", "claim", "slide", "measured", "expected", "status")


class ResultsError(ValueError):
    """A results file is missing fields or is not valid JSON."""


@dataclass
class SectionResults:
    """The recorded results of one executed section notebook."""

    notebook: str
    scale: str
    seed: int
    checks: list[dict]
    wall_seconds: float | None = None
    versions: dict = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    path: Path | None = None

    def counts(self) -> dict:
        return count(self.checks)


def results_dir() -> Path:
    return report.site_dir() / "results"


def load_file(path: Path) -> SectionResults:
    """Read and validate one results file."""
    path = Path(path)
    try:
        rec = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON ({e})") from None
    missing = [k for k in _REQUIRED if k not in rec]
    if missing:
        raise ResultsError(f"{path}: missing {', '.join(missing)}")
    for i, c in enumerate(rec["checks"]):
        absent = [k for k in _CHECK_KEYS if k not in c]
        if absent:
            raise ResultsError(f"{path}: check {i} ({c.get('id', '?')}) lacks {', '.join(absent)}")
        if c["status"] not in STATUSES:
            raise ResultsError(f"{path}: check {c['id']} has unknown status {c['status']!r}")
    return SectionResults(rec["notebook"], rec["scale"], rec["seed"], rec["checks"], rec.get("wall_seconds"),
                          rec.get("versions", {}), rec.get("figures", []), path)


def load(directory: Path | None = None, exclude: tuple[str, ...] = ()) -> list[SectionResults]:
    """Every results file in `directory` (default: this run's site/results), in notebook order."""
    directory = results_dir() if directory is None else Path(directory)
    from .pipeline import source_paths
    out = [load_file(p) for p in source_paths(directory, ".json")]
    return [r for r in out if r.notebook not in exclude]


def count(checks: list[dict]) -> dict:
    """Number of checks per status, every status present (0 if none)."""
    out = dict.fromkeys(STATUSES, 0)
    for c in checks:
        out[c["status"]] += 1
    return out


def all_checks(sections: list[SectionResults]) -> list[dict]:
    """All checks of all sections, each with its notebook added."""
    return [{**c, "notebook": s.notebook, "scale": s.scale} for s in sections for c in s.checks]


def md_escape(text) -> str:
    """Escape text for a MyST table cell: no accidental emphasis, math, roles, links or column breaks."""
    out = []
    for ch in str(text):
        if ch in "\\`*_$[]<>{}|#":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def md_text(text) -> str:
    """Like md_escape, but inline math ($...$, as check claims write it) is kept as math; a text with an odd
    number of $ is all escaped."""
    parts = str(text).split("$")
    if len(parts) % 2 == 0:
        return md_escape(text)
    return "$".join(md_escape(p) if i % 2 == 0 else p.replace("|", "\\|").replace("\n", " ")
                    for i, p in enumerate(parts))


def fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return "–" if v is None else str(v)
    if isinstance(v, (int, float)):
        return f"{v:.4g}"
    return str(v)


def role_text(text) -> str:
    """Text for the title of a role such as {ref}: taken literally, so only ` < > must go."""
    return "".join(ch for ch in str(text) if ch not in "`<>")


def link(notebook: str, check_id: str) -> str:
    """A {ref} link to the verdict of check `check_id` in `notebook` (resolved, and so verified, by Sphinx)."""
    return f"{{ref}}`{role_text(check_id)} <{report.anchor(notebook, check_id)}>`"


def records(notebooks, scale: str = "full") -> dict[str, dict]:
    """The committed records (ntklib.book.record) of the given notebooks that have one, by notebook."""
    out = {}
    for nb in notebooks:
        rec = record.load(nb, scale)
        if rec is not None:
            out[nb] = rec
    return out


def verdict(c: dict, records: dict | None = None) -> tuple[str, str]:
    """(status, where) of a check for the reader: its own status, except that a check declared for the
    full scale only takes its verdict from the full-scale record when there is one."""
    if c["status"] == "full scale only":
        rc = record.check_index((records or {}).get(c["notebook"])).get(c["id"])
        if rc is not None:
            return rc["status"], "full-scale record"
    return c["status"], f"{c.get('scale', '')} run".strip()


def _measured(c: dict | None) -> str:
    return "–" if c is None else f"{md_escape(fmt(c['measured']))} {badge(c['status'])}"


def table_markdown(checks: list[dict], links: bool = True, records: dict | None = None) -> str:
    """The scorecard: one row per check, in the given order, with this build's value and status beside the
    full-scale record's. "expected" is the comparison that decides the status, with its tolerance (± tol
    for an approximate equality, the interval for a range; a bound otherwise)."""
    rows = ["| check | claim | lecture | this build | full-scale record | expected (tolerance) |",
            "|---|---|---|---|---|---|"]
    for c in checks:
        ident = link(c["notebook"], c["id"]) if links else md_escape(c["id"])
        rc = record.check_index((records or {}).get(c["notebook"])).get(c["id"])
        cells = [ident, md_text(c["claim"]), md_text(c.get("lecture") or "–"), _measured(c), _measured(rc),
                 md_escape(c["expected"])]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def by_section_markdown(sections: list[SectionResults], titles: dict | None = None,
                        records: dict | None = None) -> str:
    """The scorecard grouped by section: a heading line and a table per section, nothing left out."""
    out = []
    for s in sections:
        title = (titles or {}).get(s.notebook, s.notebook)
        n = s.counts()
        tally = ", ".join(f"{n[k]} {k}" for k in STATUSES if n[k])
        out.append(f"**{md_escape(title)}** ({s.scale} scale): {len(s.checks)} checks: {tally}.\n")
        out.append(table_markdown([{**c, "notebook": s.notebook, "scale": s.scale} for c in s.checks],
                                  records=records) + "\n")
    return "\n".join(out)


def sections_markdown(sections: list[SectionResults], expected: list[str], scale: str,
                      records: dict | None = None) -> str:
    """One row per section notebook: this build's scale, seed, wall time and counts, and the full-scale
    record's date, commit, freshness and wall time; missing results are listed too."""
    rows = ["| section | this build | wall time | checks | " + " | ".join(STATUSES) + " | full-scale record |",
            "|---|---|---|---|" + "---|" * len(STATUSES) + "---|"]
    by_nb = {s.notebook: s for s in sections}
    for nb in sorted(set(expected) | set(by_nb)):
        s, rec = by_nb.get(nb), (records or {}).get(nb)
        rec_cell = "none" if rec is None else (
            f"{md_escape(rec['provenance']['date'])}, {rec.get('wall_seconds') or 0:.0f} s, "
            + ("fresh" if not rec["stale"] else "**stale**"))
        if s is None:
            rows.append(f"| {md_escape(nb)} | **no results: not executed, or it failed** | – | – | "
                        + "– | " * len(STATUSES) + f"{rec_cell} |")
            continue
        n = s.counts()
        scale_cell = f"{s.scale}, seed {s.seed}" if s.scale == scale else f"**{s.scale}** (this page: {scale})"
        wall = "–" if s.wall_seconds is None else f"{s.wall_seconds:.0f} s"
        rows.append(f"| {md_escape(nb)} | {scale_cell} | {wall} | {len(s.checks)} | "
                    + " | ".join(str(n[k]) for k in STATUSES) + f" | {rec_cell} |")
    return "\n".join(rows)


def _sentence(c: dict, status: str, where: str) -> str:
    return (f"- {link(c['notebook'], c['id'])} ({badge(status)} in the {where}, {md_escape(c['slide'])}): "
            f"{md_text(c['claim'])}; measured {md_escape(fmt(c['measured']))}, expected "
            f"{md_escape(c['expected'])}" + (f"; lecture: {md_text(c['lecture'])}" if c.get("lecture") else ""))


def not_reproduced_markdown(checks: list[dict], records: dict | None = None) -> str:
    """The checks whose verdict (see :func:`verdict`) is not a pass, each as a sentence with its numbers."""
    lines, unknown = [], []
    for c in checks:
        status, where = verdict(c, records)
        if status == "full scale only":   # no full-scale record to give its verdict
            unknown.append(link(c["notebook"], c["id"]))
        elif status not in OK:
            if where == "full-scale record":
                c = {**c, **record.check_index(records[c["notebook"]])[c["id"]]}
            lines.append(_sentence(c, status, where))
    if unknown:
        lines.append(f"- Not known yet: {', '.join(unknown)} hold only at the full scale, and their section has "
                     "no full-scale record (`make record`).")
    return "\n".join(lines) if lines else "Every recorded check passed."


def slips_markdown(checks: list[dict]) -> str:
    """The slips of the slides that the numbers confirm."""
    lines = [_sentence(c, c["status"], f"{c.get('scale', '')} run") for c in checks if c["status"] == "slip found"]
    return "\n".join(lines) if lines else "No check of this build tests a slip of the slides."


# The figures and tables of the slides, in slide order: (key, section, slide title, what it shows).
# A notebook that regenerates one passes the key to report.savefig(..., slide=key); the figure map
# joins the two, and lists a slide figure that no notebook regenerates as such.
SLIDE_FIGURES = [
    ("ilsvrc-winners", 1, "Rise of Deep Learning: Algorithm and Data", "ImageNet winning entries by year"),
    ("random-labels-loss", 1, "What do DNNs Learn?", "average training loss with true/random labels and pixels (Zhang et al.)"),
    ("width-test-error", 1, "What do DNNs Learn?", "test error of ever wider two-layer nets (Neyshabur et al.)"),
    ("convergence-rate", 3, "Understanding Optimization: MNIST / CIFAR-10 (2 classes)", "training loss vs time, true vs random labels"),
    ("label-projections", 3, "Understanding Optimization: MNIST / CIFAR-10 (2 classes)", "projections of the labels on the eigenvectors of H*"),
    ("generalization-bound", 3, "Understanding Generalization", "the bound sqrt(2 y^T (H*)^-1 y / n) vs test error, MNIST and CIFAR-10"),
    ("noisy-labels-curve", 4, "Training with Noisy Labels", "test accuracy during training with 40% label noise"),
    ("noisy-labels-table", 4, "Experiments (Hu et al.)", "test accuracy of normal training, AUX and RDI at noise levels 0-0.6"),
    ("noisy-labels-aux-curve", 4, "Experiments (Hu et al.)", "test accuracy curve for 40% label noise, with AUX"),
    ("uci-table", 4, "NTK on Small to Medium Scale Datasets", "Table 1: classifiers on 90 UCI data sets"),
    ("gntk", 4, "Graph NTK and CNTK", "graph NTK on graph classification"),
    ("kernel-vs-deep", 5, "Deep Learning Versus Kernel Learning", "mode connectivity, tangent space change, sharp minima"),
    ("ntk-velocity", 5, "Chaotic Transient", "how fast the NTK changes during training"),
    ("ntk-phases", 5, "Training Dynamic of the NTK", "NTK change in the chaotic and ordered phases (Seleznova & Kutyniok)"),
    ("ntk-structure", 5, "Changes of the NTK Structure", "class-wise structure of the data-dependent NTK"),
]


# Slides of the lecture that state a result in text and equations only, with no figure. A figure of the book
# that tests one passes its key as report.savefig(..., slide=key) too; the map lists it as an illustration.
SLIDE_ILLUSTRATIONS = [
    ("lemma1-ode", 2, "Evolving Equation on Predictions", "Lemma 1: du/dt = -H(t)(u - y)"),
    ("kernel-stays-constant", 2, "Evolving Equation on Predictions (Remarks)", "H(t) stays H(0) as the width grows"),
    ("lemma2-concentration", 2, "Coupling Ultra-wide NNs and NTK", "Lemma 2: H(0) close to H* for wide nets"),
    ("lemma3-stability", 2, "Coupling Ultra-wide NNs and NTK", "Lemma 3: weights and H(t) move little"),
    ("kernel-regression", 2, "Equivalence to Kernel Regression", "the wide net predicts like kernel regression"),
    ("true-vs-random-labels", 3, "True vs Random Labels (Phenomena)",
     "faster convergence and better generalisation with true labels than with random ones"),
]


# Figures of the papers behind the lecture that the companion pages reproduce at the papers' own scale:
# (key, bibliography key, the paper's figure, what it shows). A notebook passes the key as
# report.savefig(..., paper=key); the figure map's second table joins the two.
PAPER_FIGURES = [
    ("jacot2018-fig1", "jacot2018neural", "Figure 1",
     "the NTK on the unit circle for widths 500 and 10,000 over 10 initialisations, at initialisation and after training"),
    ("jacot2018-fig2", "jacot2018neural", "Figure 2",
     "trained network functions of widths 50 and 1,000 against the percentiles of the limiting Gaussian process"),
    ("jacot2018-fig3", "jacot2018neural", "Figure 3",
     "kernel principal components of MNIST digits and the convergence of training along them"),
    ("du2019-fig1", "du2019gradient", "Figure 1",
     "convergence rate, activation-pattern changes and distance from initialisation against the width"),
    ("hu2020-mnist", "hu2020simple", "Section 6 (MNIST)",
     "RDI and AUX against plain training, with and without early stopping, across label-noise levels"),
]


def figure_map_markdown(sections: list[SectionResults], site_prefix: str = "") -> str:
    """Each slide figure -> the notebook figure(s) regenerating it (linked); each reproduced figure of the papers
    (``PAPER_FIGURES``) -> its figure(s); then the book's other figures."""
    recorded = [f for s in sections for f in s.figures]
    by_key: dict[str, list[dict]] = {}
    for f in recorded:
        keys = f.get("slide") or []
        for key in [keys] if isinstance(keys, str) else keys:  # one key (older records) or a list
            by_key.setdefault(key, []).append(f)

    def cell(figs):
        return "<br>".join(f"{{ref}}`{role_text(f['notebook'])}: {role_text(f['name'])} <{f['anchor']}>`" for f in figs)

    rows = ["| section | slide | figure on the slide | regenerated by |", "|---|---|---|---|"]
    known = set()
    for key, sec, title, what in SLIDE_FIGURES:
        known.add(key)
        figs = by_key.get(key, [])
        rows.append(f"| {sec} | {md_escape(title)} | {md_escape(what)} | "
                    f"{cell(figs) if figs else 'not regenerated in this build'} |")
    for key, sec, title, what in SLIDE_ILLUSTRATIONS:
        known.add(key)
        figs = by_key.get(key, [])
        rows.append(f"| {sec} | {md_escape(title)} | *no figure on the slide*; the claim: {md_escape(what)} | "
                    f"{cell(figs) if figs else 'not illustrated in this build'} |")
    for key, figs in sorted(by_key.items()):
        if key not in known:
            rows.append(f"| {figs[0]['notebook'].split('_', 1)[0]} | {md_escape(key)} | (declared by the notebook) | {cell(figs)} |")
    by_paper: dict[str, list[dict]] = {}
    for f in recorded:
        for key in f.get("paper") or []:
            by_paper.setdefault(key, []).append(f)
    rows += ["", "| paper | its figure | what it shows | reproduced by |", "|---|---|---|---|"]
    for key, bib, which, what in PAPER_FIGURES:
        figs = by_paper.get(key, [])
        rows.append(f"| {{cite:t}}`{bib}` | {which} | {md_escape(what)} | "
                    f"{cell(figs) if figs else 'not reproduced in this build'} |")
    extra = [f for f in recorded if not f.get("slide") and not f.get("paper")]
    if extra:
        rows.append("")
        # Raw HTML links to the SVG files copied into the site (they are files, not pages Sphinx knows).
        rows.append("Figures of the book that have no counterpart on the slides: " + ", ".join(
            f'<a href="{site_prefix}{f["file"]}">{html.escape(f["notebook"])}/{html.escape(f["name"])}</a>'
            for f in extra) + ".")
    return "\n".join(rows)
