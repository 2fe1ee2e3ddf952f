"""Same notebook, same parameters, identical recorded check values (seeds are parameters, not state).

Runs the fastest section notebook twice (about a minute); CI also re-runs a second notebook after the
book build with `python -m ntklib determinism`.
"""
import json

import pytest

from ntklib.book import pipeline as book


@pytest.mark.slow
def test_section2_is_deterministic(tmp_path, monkeypatch):
    records = []
    for run in ("first", "second"):
        monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / run))
        records.append(book.execute("02_ntk", "ci"))
    assert records[0]["checks"], "the notebook recorded no checks"
    assert book.differing_checks(*records) == []


def test_differing_checks_reports_changes():
    a = {"checks": [{"id": "A", "measured": 1.0, "status": "pass"}, {"id": "B", "measured": 2.0, "status": "pass"}]}
    b = json.loads(json.dumps(a))
    assert book.differing_checks(a, b) == []
    b["checks"][1]["measured"] = 2.0000001
    b["checks"].append({"id": "C", "measured": 0.0, "status": "pass"})
    assert book.differing_checks(a, b) == ["B: (2.0, 'pass') vs (2.0000001, 'pass')", "C: None vs (0.0, 'pass')"]
