"""Claims as checks: every notebook states the lecture claims it tests as explicit, recorded checks.

A check has an id, the claim in words, the slide it comes from, the lecture's value where there is one,
the measured value, the comparison and tolerance, and its status. ``Checks.finish()`` writes them to a
machine-readable results file (``<output>/site/results/<notebook>.json``, read later by the scorecard) and
raises ``ClaimFailed`` if a check declared to hold at the current scale does not, so the papermill run
and CI fail. Statuses are told apart:

* **pass**: the measured value meets the lecture's claim;
* **slip found** (``kind="slip"``): the check tests a slip of the slides (a formula, constant or number
  that is wrong), and the numbers confirm the slip;
* **does not reproduce**: a claim recorded but not declared to hold (``holds_at=()``) that the numbers
  contradict: a finding, with its numbers, never dropped;
* **full scale only**: declared to hold only at the full scale (``holds_at=("full",)``) and not met at this
  smaller one; the page shows its verdict in the committed full-scale record (ntklib.book.record) beside it;
* **FAIL**: declared to hold at this scale and did not: the run stops.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import _validate
from .._files import atomic_write_text
from . import report
from . import record as _record

OPS = ("<=", ">=", "<", ">", "between", "approx")
_SIGN = {"<=": "≤", ">=": "≥"}   # as a reader writes them


class ClaimFailed(AssertionError):
    """A check declared to hold at this scale did not."""


@dataclass
class Check:
    id: str
    claim: str
    slide: str
    measured: float
    op: str
    target: object
    tol: float | None
    lecture: str | None
    required: bool
    passed: bool
    kind: str = "claim"          # "claim" (the lecture says so) or "slip" (the slides say otherwise)
    full_only: bool = False      # declared to hold at the full scale only, and this run is smaller

    def _ipython_display_(self):
        """Nothing: expect() already showed the verdict; a cell ending in expect(...) must not add the repr."""

    @property
    def status(self) -> str:
        if self.passed:
            return "slip found" if self.kind == "slip" else "pass"
        if self.required:
            return "FAIL"
        return "full scale only" if self.full_only else "does not reproduce"

    @property
    def expectation(self) -> str:
        if self.op == "between":
            return f"in [{_fmt(self.target[0])}, {_fmt(self.target[1])}]"
        if self.op == "approx":
            return f"≈ {_fmt(self.target)} ± {_fmt(self.tol)}"
        return f"{_SIGN.get(self.op, self.op)} {_fmt(self.target)}"


def _ntklib_modules() -> list[str]:
    return sorted(m for m in sys.modules if m == "ntklib" or m.startswith("ntklib."))


def badge(status: str) -> str:
    """A status as a coloured label with its name in text (readable without colour or emoji fonts)."""
    css = status.lower().replace(" ", "-")
    return f'<span class="ntk-status ntk-{css}">{status}</span>'


def _number(value, name: str) -> float:
    """A real number, a numpy scalar or bool, or a one-element array, as a float (as float() took them before)."""
    try:
        a = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything numpy cannot hold is not a number
        a = np.asarray(None)
    if a.size != 1 or a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    return float(a.reshape(()))


def _fmt(v) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:.4g}"
    return str(v)


def _compare(measured: float, op: str, target, tol) -> bool:
    if not math.isfinite(measured):
        return False
    if op == "<=":
        return measured <= target
    if op == ">=":
        return measured >= target
    if op == "<":
        return measured < target
    if op == ">":
        return measured > target
    if op == "between":
        return target[0] <= measured <= target[1]
    return abs(measured - target) <= tol


class Checks:
    """The checks of one notebook run."""

    def __init__(self, notebook: str, scale: str, seed: int):
        for value, name in ((notebook, "notebook"), (scale, "scale")):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty string, got {value!r}")
        seed = _validate.nonnegative_int(seed, "seed")
        self.notebook, self.scale, self.seed = notebook, scale, seed
        self.items: list[Check] = []
        self._t0 = time.perf_counter()
        report.start_profiling()
        report.use_style()
        # The library code this run executes, hashed now (right after the notebook's imports), not when a
        # record is written: an edit during a long run must not make its record look fresh.
        self._library = _record.library_files(_ntklib_modules())
        self.record = None if scale == "full" else _record.load(notebook)
        report._RECORD[notebook] = self.record
        self._recorded = _record.check_index(self.record)

    def expect(self, id: str, claim: str, slide: str, measured, op: str, target, *, tol: float | None = None,
               lecture: str | None = None, holds_at=("ci", "full"), kind: str = "claim") -> Check:
        """Record a check `measured <op> target`; op is one of <=, >=, <, >, between (target=(lo, hi)),
        approx (|measured - target| <= tol). Displays a one-line verdict under the cell."""
        for value, name in ((id, "id"), (claim, "claim"), (slide, "slide")):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty string, got {value!r}")
        if not isinstance(op, str) or op not in OPS:
            raise ValueError(f"op must be one of {OPS}, got {op!r}")
        if op == "approx" and tol is None:
            raise ValueError("op='approx' needs tol")
        if tol is not None:
            tol = _validate.nonnegative(tol, "tol")
        if op == "between":
            if not isinstance(target, (tuple, list, np.ndarray)) or len(target) != 2:
                raise TypeError(f"target for op='between' must be a pair (lo, hi), got {target!r}")
            lo, hi = (_number(v, "target bound") for v in target)
            if not lo <= hi:    # also catches NaN
                raise ValueError(f"target for op='between' must have lo <= hi, got {target!r}")
        elif math.isnan(_number(target, "target")):     # the target itself is recorded as given
            raise ValueError(f"target must be a number, got {target!r}")
        if isinstance(holds_at, str) or not isinstance(holds_at, (tuple, list, set, frozenset)) or \
                not all(isinstance(h, str) for h in holds_at):
            raise TypeError(f"holds_at must be a tuple of scale names such as ('ci', 'full'), got {holds_at!r}")
        if lecture is not None and not isinstance(lecture, str):
            raise TypeError(f"lecture must be a string or None, got {lecture!r}")
        if any(c.id == id for c in self.items):
            raise ValueError(f"duplicate check id {id!r}")
        # NaN is a legitimate measurement (the check then fails); a string or None is a bug in the notebook
        measured = _number(measured, "measured")
        if kind not in ("claim", "slip"):
            raise ValueError(f"kind must be 'claim' or 'slip', got {kind!r}")
        check = Check(id, claim, slide, measured, op, target, tol, lecture, self.scale in holds_at,
                      _compare(measured, op, target, tol), kind,
                      "full" in holds_at and self.scale != "full")
        self.items.append(check)
        # In a notebook the verdict carries a MyST target, so the scorecard (Section 6) can link to it.
        target = f"({report.anchor(self.notebook, id)})=\n" if report.in_notebook() else ""
        full = self._recorded.get(id)
        at_full = ("" if self.record is None else
                   f" · full scale: measured **{_fmt(full['measured'])}** {badge(full['status'])}" if full else
                   " · full scale: not in the record")
        report.show_markdown(target + f"{badge(check.status)} **{id}**: {claim} — measured "
                             f"**{_fmt(measured)}**, expected {check.expectation}"
                             + (f"; lecture: {lecture}" if lecture else "") + at_full)
        return check

    def summary_markdown(self) -> str:
        """One line per status with links to the verdicts: each check is shown once, under the cell that
        measures it; the scorecard (Section 6) has them all in one table."""
        order = ("FAIL", "does not reproduce", "full scale only", "slip found", "pass")
        lines = [f"**{len(self.items)} checks on this page** ({self.scale} scale); each is shown under the cell "
                 "that measures it, and the scorecard in Section 6 lists them all."]
        for status in order:
            ids = [c.id for c in self.items if c.status == status]
            if ids:
                links = ", ".join(f"{{ref}}`{i} <{report.anchor(self.notebook, i)}>`" if report.in_notebook() else i
                                  for i in ids)
                lines.append(f"- {badge(status)} {len(ids)}: {links}")
        return "\n".join(lines)

    def finish(self) -> None:
        """Show the summary, write the results file, and fail if a required check failed."""
        report.show_markdown(self.summary_markdown())
        failed = [c for c in self.items if c.status == "FAIL"]
        record = {
            "notebook": self.notebook,
            "scale": self.scale,
            "seed": self.seed,
            "compute_seconds": round(time.perf_counter() - self._t0, 1),
            "versions": report.versions(),
            "checks": [{**asdict(c), "status": c.status, "expected": c.expectation} for c in self.items],
            "figures": report.recorded_figures(self.notebook),  # for Section 6's figure map
            "tables": report.recorded_tables(self.notebook),  # result tables, kept in the full-scale record
            "cells": report.cell_profile(),  # time by cell; the runner groups them by heading
            # the ntklib modules this run imported: a full-scale record goes stale when one of them changes
            "modules": _ntklib_modules(),
            "library": {**_record.library_files(_ntklib_modules()), **self._library},
        }
        path = report.write_site_dir() / "results" / f"{self.notebook}.json"
        atomic_write_text(path, json.dumps(record, indent=1, default=_json_default))
        if failed:
            raise ClaimFailed("checks declared to hold at scale %r failed: %s" % (
                self.scale, "; ".join(f"{c.id}: measured {_fmt(c.measured)}, expected {c.expectation}" for c in failed)))


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
