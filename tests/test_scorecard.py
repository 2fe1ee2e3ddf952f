"""ntklib.scorecard: Section 6's tables are generated from the recorded checks, list every one of them
(failures and non-reproductions with their numbers), flag missing or mixed-scale results, and render as
valid MyST."""
import json

import pytest
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from ntklib import report, scorecard
from ntklib.checks import Checks


def render(md: str) -> str:
    """Render MyST Markdown to HTML the way the book parses notebook outputs (dollarmath on)."""
    parser = create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "colon_fence"}), RendererHTML)
    return parser.render(md)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Two executed 'sections' recorded through the real Checks API into a temporary output directory."""
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path))
    monkeypatch.setattr(report, "_FIGURES", [])
    a = Checks("01_alpha", "ci", 0)
    a.expect("A-pass", "slope is -1/2", "Lemma 2", -0.49, "approx", -0.5, tol=0.05, lecture="m^(-1/2)")
    a.expect("A-dnr", "needs n^6 | really", "Lemma 3", 4.0, ">=", 6.0, holds_at=())
    a.finish()
    b = Checks("03_beta", "ci", 1)
    b.expect("B-pass", "cost $x$ is *small*", "Understanding Optimization", 0.1, "between", (0, 1))
    report.savefig(_figure(), "03_beta", "mnist_rate", slide="convergence-rate")
    report.savefig(_figure(), "03_beta", "extra")
    b.finish()
    return tmp_path / "site" / "results"


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    return fig


def test_loads_every_check_in_notebook_order(site):
    sections = scorecard.load(site)
    assert [s.notebook for s in sections] == ["01_alpha", "03_beta"]
    checks = scorecard.all_checks(sections)
    assert [c["id"] for c in checks] == ["A-pass", "A-dnr", "B-pass"]
    assert scorecard.count(checks) == {"pass": 2, "does not reproduce": 1, "FAIL": 0}
    assert scorecard.load(site, exclude=("03_beta",))[0].notebook == "01_alpha"


def test_table_lists_every_check_with_numbers_and_links(site):
    checks = scorecard.all_checks(scorecard.load(site))
    md = scorecard.table_markdown(checks)
    html = render(md)
    assert html.count("<tr>") == 1 + len(checks)             # header + one row per check, none dropped
    assert "does not reproduce" in md and "4" in md and ">= 6" in md  # the non-reproduction keeps its numbers
    assert "{ref}`A-pass <check-01_alpha-a-pass>`" in md     # linked to the cell that shows it
    assert "± 0.05" in html and "in [0, 1]" in html
    # claims are text, not markup: no emphasis, math or extra table columns from '*', '$', '|'
    assert "<em>" not in html and "math" not in html and "needs n^6 | really" in html


def test_sections_summary_flags_missing_and_mixed_scale(site):
    sections = scorecard.load(site)
    md = scorecard.sections_markdown(sections, ["01_alpha", "02_gamma", "03_beta"], scale="full")
    assert "02\\_gamma" in md and "no results" in md
    assert "**ci** (this page: full)" in md
    assert render(md).count("<tr>") == 4


def test_figure_map_links_regenerated_figures_and_lists_missing_ones(site):
    md = scorecard.figure_map_markdown(scorecard.load(site), site_prefix="../../")
    assert "{ref}`03_beta: mnist_rate <figure-03_beta-mnist_rate>`" in md  # role titles are literal: no escapes
    assert md.count("not regenerated in this build") == len(scorecard.SLIDE_FIGURES) - 1
    assert 'href="../../figures/03_beta/extra.svg"' in md


def test_not_reproduced_prose(site):
    checks = scorecard.all_checks(scorecard.load(site))
    text = scorecard.not_reproduced_markdown(checks)
    assert "A-dnr" in text and "measured 4" in text and "A-pass" not in text
    assert scorecard.not_reproduced_markdown(checks[:1]).startswith("Every recorded check passed")


@pytest.mark.parametrize("content, match", [
    ("{not json", "not valid JSON"),
    (json.dumps({"notebook": "01_x", "scale": "ci", "seed": 0}), "missing checks"),
    (json.dumps({"notebook": "01_x", "scale": "ci", "seed": 0, "checks": [{"id": "a"}]}), "lacks"),
    (json.dumps({"notebook": "01_x", "scale": "ci", "seed": 0, "checks": [
        {"id": "a", "claim": "c", "slide": "s", "measured": 1, "expected": "<= 2", "status": "ok"}]}), "unknown status"),
])
def test_bad_results_files_are_errors(tmp_path, content, match):
    (tmp_path / "01_x.json").write_text(content)
    with pytest.raises(scorecard.ResultsError, match=match):
        scorecard.load(tmp_path)


def test_slide_figure_keys_are_unique():
    keys = [k for k, *_ in scorecard.SLIDE_FIGURES]
    assert len(keys) == len(set(keys))


def test_by_section_lists_every_section_and_check(site):
    sections = scorecard.load(site)
    md = scorecard.by_section_markdown(sections, {"01_alpha": "Section 1: Alpha"})
    assert "**Section 1: Alpha** (ci scale): 2 checks, 1 pass, 1 do not reproduce, 0 failed." in md
    assert "03\\_beta" in md  # no title given: the notebook name
    assert render(md).count("<tr>") == (1 + 2) + (1 + 1)  # two tables: a header and a row per check each
