"""The pipeline: every section notebook is well formed, and a failing notebook is reported by name and
cell without leaving a page behind."""
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from ntklib import book

SOURCES = sorted(book.NOTEBOOKS.glob("[0-9][0-9]_*.md"))


def test_every_notebook_is_registered_and_in_the_toc():
    toc = (book.REPO / "_toc.yml").read_text()
    assert SOURCES, "no section notebooks found"
    assert [p.stem for p in SOURCES] == [s.stem for s in book.sections()]
    for p in SOURCES:
        assert f"book/generated/{p.stem}" in toc


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_notebook_has_parameters_and_records_checks(path):
    nb = jupytext.read(path)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one papermill 'parameters' cell"
    assert re.search(r"^scale = \"ci\"(\s*#.*)?$", params[0].source, re.M)
    assert re.search(r"^seed = \d+(\s*#.*)?$", params[0].source, re.M)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'"{path.stem}"' in code and "Checks(" in code and "checks.finish()" in code
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    runtime = nb.metadata.get("ntkbook", {}).get("runtime", {})
    assert set(runtime) == set(book.SCALES), "front matter must give `ntkbook: runtime:` for every scale"


HEADER = ("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n"
          "  name: python3\n  display_name: Python 3\n---\n")


def test_executed_page_shows_its_figures(tmp_path, monkeypatch):
    # papermill must keep a backend that renders into the page (a forced MPLBACKEND=Agg shows nothing)
    src = tmp_path / "notebooks"
    src.mkdir()
    (src / "97_plot.md").write_text(
        HEADER + "# Plot\n\n```{code-cell} ipython3\n:tags: [parameters]\nscale = \"ci\"\nseed = 0\n```\n\n"
        "```{code-cell} ipython3\nimport matplotlib.pyplot as plt\nfrom ntklib.checks import Checks\n"
        "plt.plot([0, 1])\nplt.show()\nChecks(\"97_plot\", scale, seed).finish()\n```\n")
    monkeypatch.setattr(book, "NOTEBOOKS", src)
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book.execute("97_plot", "ci")
    nb = nbformat.read(tmp_path / "out" / "97_plot.ipynb", as_version=4)
    mimes = {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert mimes & {"image/png", "image/svg+xml"}, f"no figure on the page; outputs: {mimes}"
    assert "Run information" in nb.cells[1].source


def test_failing_notebook_names_notebook_and_cell(tmp_path, monkeypatch):
    src = tmp_path / "notebooks"
    src.mkdir()
    (src / "98_broken.md").write_text(
        HEADER + "# Broken\n\n```{code-cell} ipython3\n:tags: [parameters]\nscale = \"ci\"\nseed = 0\n```\n\n"
        "```{code-cell} ipython3\nraise ValueError('boom at ' + scale)\n```\n")
    monkeypatch.setattr(book, "NOTEBOOKS", src)
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "out"))
    with pytest.raises(book.NotebookFailed, match=r"98_broken.md failed at scale 'ci' in cell \d+.*ValueError: boom at ci"):
        book.execute("98_broken", "ci")
    assert not (tmp_path / "out" / "98_broken.ipynb").exists()       # no page from a failed run
    assert (tmp_path / "out" / "failed" / "98_broken.ipynb").exists()  # but the partial output is kept


def test_config_builds_offline_and_strictly():
    cfg = yaml.safe_load((book.REPO / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off" and cfg["only_build_toc_files"] is True
