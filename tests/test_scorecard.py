"""ntklib.book.scorecard: Section 6's tables are generated from the recorded checks, list every one of them
(failures and non-reproductions with their numbers), flag missing or mixed-scale results, and render as
valid MyST."""
import json

import pytest
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from ntklib.book import report, scorecard
from ntklib.book.checks import Checks


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
    report.savefig(_figure(), "03_beta", "mnist_rate", slide="convergence-rate", caption="Rate.")
    report.savefig(_figure(), "03_beta", "extra", caption="Extra.")
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
    assert scorecard.count(checks) == {"pass": 2, "slip found": 0, "does not reproduce": 1, "full scale only": 0,
                                       "FAIL": 0}
    assert scorecard.load(site, exclude=("03_beta",))[0].notebook == "01_alpha"


def test_table_lists_every_check_with_numbers_and_links(site):
    checks = scorecard.all_checks(scorecard.load(site))
    md = scorecard.table_markdown(checks)
    html = render(md)
    assert html.count("<tr>") == 1 + len(checks)             # header + one row per check, none dropped
    assert "does not reproduce" in md and "4" in md and "≥ 6" in md  # the non-reproduction keeps its numbers
    assert "{ref}`A-pass <check-01_alpha-a-pass>`" in md     # linked to the cell that shows it
    assert "± 0.05" in html and "in [0, 1]" in html
    # claims are text with inline math: no emphasis or extra table columns from '*', '|'; "$x$" stays math
    assert "<em>" not in html and "needs n^6 | really" in html and "math" in html


def test_sections_summary_flags_missing_and_mixed_scale(site):
    sections = scorecard.load(site)
    md = scorecard.sections_markdown(sections, ["01_alpha", "02_gamma", "03_beta"], scale="full")
    assert "02\\_gamma" in md and "no results" in md
    assert "**ci** (this page: full)" in md
    assert render(md).count("<tr>") == 4
    assert md.count("| none |") == 3                        # no full-scale record for any of them


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
    assert "**Section 1: Alpha** (ci scale): 2 checks: 1 pass, 1 does not reproduce." in md
    assert "03\\_beta" in md  # no title given: the notebook name
    assert render(md).count("<tr>") == (1 + 2) + (1 + 1)  # two tables: a header and a row per check each


# --- statuses and the full-scale record ---------------------------------------------------------------

def test_statuses_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path))
    c = Checks("01_alpha", "ci", 0)
    assert c.expect("ok", "c", "s", 1.0, "<=", 2.0).status == "pass"
    assert c.expect("slip", "H(0) drops a_r^2", "s", 0.333, "approx", 1 / 3, tol=0.01, kind="slip").status == "slip found"
    assert c.expect("finding", "c", "s", 3.0, "<=", 2.0, holds_at=()).status == "does not reproduce"
    assert c.expect("big", "c", "s", 3.0, "<=", 2.0, holds_at=("full",)).status == "full scale only"
    assert c.expect("bad", "c", "s", 3.0, "<=", 2.0).status == "FAIL"
    full = Checks("01_alpha", "full", 0)
    assert full.expect("big", "c", "s", 3.0, "<=", 2.0, holds_at=("full",)).status == "FAIL"
    with pytest.raises(ValueError, match="kind must be"):
        c.expect("x", "c", "s", 1.0, "<=", 2.0, kind="typo")


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """A fake repository with one section (source + one library module) recorded at full scale."""
    from ntklib.book import record
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "ntklib" / "theory").mkdir(parents=True)
    (repo / "notebooks" / "01_alpha.md").write_text("# Alpha\n")
    (repo / "ntklib" / "theory" / "kernels.py").write_text("X = 1\n")
    monkeypatch.setattr(record, "REPO", repo)
    monkeypatch.setenv("NTKBOOK_RECORDS", str(repo / "records"))
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "full"))
    monkeypatch.setattr(report, "_FIGURES", [])
    full = Checks("01_alpha", "full", 0)
    full.expect("A-big", "grows at scale", "Lemma 2", 3.0, ">=", 2.0, holds_at=("full",))
    full.expect("A-dnr", "needs n^6", "Lemma 3", 1.0, ">=", 6.0, holds_at=())
    report.savefig(_figure(), "01_alpha", "curve", caption="Curve.")
    full.finish()
    site = tmp_path / "full" / "site"
    results = json.loads((site / "results" / "01_alpha.json").read_text())
    results["modules"] = ["ntklib.theory.kernels", "ntklib.book.pipeline"]      # as the kernel reports them
    record.write("01_alpha", results, site)
    return repo


def test_record_holds_checks_figures_and_provenance_and_goes_stale(recorded):
    from ntklib.book import record
    rec = record.load("01_alpha")
    assert [c["id"] for c in rec["checks"]] == ["A-big", "A-dnr"] and rec["stale"] == []
    assert (rec["dir"] / "figures" / "curve.svg").read_text().lstrip().startswith("<?xml")
    prov = rec["provenance"]
    assert set(prov["library"]) == {"ntklib/theory/kernels.py"}         # the book tooling does not make a record stale
    assert prov["source"] == {"notebooks/01_alpha.md": record.source_sha256(recorded / "notebooks/01_alpha.md")}
    assert prov["cpu"] and prov["date"]
    src = recorded / "notebooks" / "01_alpha.md"        # writing the measured runtime back keeps it fresh ...
    original = src.read_text()
    src.write_text("  runtime: {ci: 1 s, full: 2 s}\n" + original)
    assert record.load("01_alpha")["stale"] == []
    src.write_text(src.read_text() + "\nMore prose about the numbers.\n")   # ... and so does an edit of the prose
    assert record.load("01_alpha")["stale"] == []
    src.write_text(src.read_text() + "\n```{code-cell} ipython3\nx = 1\n```\n")   # ... a change of code does not
    assert record.load("01_alpha")["stale"] == ["notebooks/01_alpha.md"]
    src.write_text(original)
    (recorded / "ntklib" / "theory" / "kernels.py").write_text("X = 2\n")
    assert record.load("01_alpha")["stale"] == ["ntklib/theory/kernels.py"]
    (recorded / "notebooks" / "01_alpha.md").unlink()
    assert record.load("01_alpha")["stale"] == ["notebooks/01_alpha.md", "ntklib/theory/kernels.py"]
    assert "**stale**" in record.label(record.load("01_alpha"))


def test_smaller_run_shows_the_records_verdict_beside_its_own(recorded, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "ci"))
    ci = Checks("01_alpha", "ci", 0)
    ci.expect("A-big", "grows at scale", "Lemma 2", 1.0, ">=", 2.0, holds_at=("full",))
    assert "full scale: measured **3**" in capsys.readouterr().out
    ci.expect("A-dnr", "needs n^6", "Lemma 3", 1.0, ">=", 6.0, holds_at=())
    ci.finish()
    sections = scorecard.load(tmp_path / "ci" / "site" / "results")
    checks = scorecard.all_checks(sections)
    records = scorecard.records(["01_alpha"])
    assert scorecard.verdict(checks[0], records) == ("pass", "full-scale record")   # full-only: the record decides
    assert scorecard.verdict(checks[1], records) == ("does not reproduce", "ci run")
    table = scorecard.table_markdown(checks, records=records)
    assert render(table).count("<tr>") == 3 and "ntk-full-scale-only" in table and "ntk-pass" in table
    text = scorecard.not_reproduced_markdown(checks, records)
    assert "A-dnr" in text and "A-big" not in text
    assert "A-big" in scorecard.not_reproduced_markdown(checks, {})             # no record: not known yet
    assert "fresh" in scorecard.sections_markdown(sections, ["01_alpha"], "ci", records)


def test_every_slide_figure_is_regenerated_by_a_cell():
    # The figure map must not list a slide figure as missing because a notebook forgot its key: every key
    # is passed to report.savefig(..., slide=key) by some section notebook.
    import re
    from ntklib.book import pipeline as book
    used = set()
    for path in book.source_paths():
        for arg in re.findall(r"slide=(\[[^\]]*\]|\"[^\"]*\"|'[^']*')", path.read_text()):
            used |= set(re.findall(r"""["']([\w-]+)["']""", arg))
    keys = [k for k, *_ in scorecard.SLIDE_FIGURES + scorecard.SLIDE_ILLUSTRATIONS]
    assert len(keys) == len(set(keys))
    assert not [k for k in keys if k not in used], "slide figures with no regenerating cell"
    assert not used - set(keys), "notebooks pass slide keys that the figure map does not know"


def test_claims_keep_their_math_in_the_scorecard_and_everything_else_is_escaped():
    assert scorecard.md_text(r"gap $\lVert H \rVert_2$ is *small* | x") == r"gap $\lVert H \rVert_2$ is \*small\* \| x"
    assert scorecard.md_text(r"$a|b$") == r"$a\|b$"          # a | inside math would still split the table cell
    assert scorecard.md_text("costs $5") == r"costs \$5"     # an unpaired $ is text


def test_every_paper_figure_is_reproduced_by_a_cell():
    # Likewise for the papers' figures (report.savefig(..., paper=key)): the second table of the figure map.
    import re
    from ntklib.book import pipeline as book
    used = set()
    for path in book.source_paths():
        for arg in re.findall(r"paper=(\[[^\]]*\]|\"[^\"]*\"|'[^']*')", path.read_text()):
            used |= set(re.findall(r"""["']([\w-]+)["']""", arg))
    keys = [k for k, *_ in scorecard.PAPER_FIGURES]
    assert len(keys) == len(set(keys))
    assert not [k for k in keys if k not in used], "paper figures with no reproducing cell"
    assert not used - set(keys), "notebooks pass paper keys that the figure map does not know"


def test_savefig_refuses_an_unknown_figure_key(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ntklib.book import report
    monkeypatch.setenv("NTKBOOK_STAGE", str(tmp_path))
    fig = plt.figure()
    with pytest.raises(ValueError, match="paper"):
        report.savefig(fig, "02a_x", "f", caption="c", paper="jacot2018-fig9")
    plt.close(fig)
