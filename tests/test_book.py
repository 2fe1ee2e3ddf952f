"""The pipeline: every section notebook is well formed, and a failing notebook is reported by name and
cell without leaving a page behind."""
import re

import jupytext
import nbformat
import pytest
import yaml

from ntklib.book import pipeline as book, report

SOURCES = book.source_paths()


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
        "```{code-cell} ipython3\nimport matplotlib.pyplot as plt\nfrom ntklib.book.checks import Checks\n"
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


# --- a run never loses what the book had ---------------------------------------------------------------

def _section(src, stem, body, front=""):
    header = HEADER if not front else HEADER[:4] + front + HEADER[4:]
    (src / f"{stem}.md").write_text(
        header + f"# {stem}\n\n```{{code-cell}} ipython3\n:tags: [parameters]\nscale = \"ci\"\nseed = 0\n```\n\n"
        "```{code-cell} ipython3\nimport matplotlib.pyplot as plt\nfrom ntklib.book import report\n"
        f"from ntklib.book.checks import Checks\nchecks = Checks(\"{stem}\", scale, seed)\n{body}\n"
        f"fig = plt.figure()\nreport.savefig(fig, \"{stem}\", \"f\", caption=\"A test figure.\")\nchecks.finish()\n```\n")


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    src = tmp_path / "notebooks"
    src.mkdir()
    monkeypatch.setattr(book, "NOTEBOOKS", src)
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "out"))
    return src, tmp_path / "out"


def test_failed_rerun_keeps_the_last_good_page_results_and_figures(sandbox):
    src, out = sandbox
    _section(src, "96_keep", "x = 1")
    book.execute("96_keep", "ci")
    kept = {p: p.read_bytes() for p in (out / "96_keep.ipynb", out / "site/results/96_keep.json",
                                        out / "site/figures/96_keep/f.svg")}
    _section(src, "96_keep", "raise RuntimeError('second run breaks')")
    assert book.run(["96_keep"], "ci") == 1
    assert kept[out / "site/results/96_keep.json"] == (out / "site/results/96_keep.json").read_bytes()
    assert kept[out / "site/figures/96_keep/f.svg"] == (out / "site/figures/96_keep/f.svg").read_bytes()
    page = nbformat.read(out / "96_keep.ipynb", as_version=4)
    assert "latest run failed" in page.cells[1].source and "second run breaks" in page.cells[1].source
    assert "Run information" in page.cells[2].source      # the last good page follows the banner
    assert (out / "failed" / "96_keep.ipynb").exists()
    assert not list((out / ".staging").iterdir())         # no temp folders left behind
    _section(src, "96_keep", "x = 2")                     # a good run replaces page and banner
    assert book.run(["96_keep"], "ci") == 0
    page = nbformat.read(out / "96_keep.ipynb", as_version=4)
    assert not any(book.BANNER_TAG in c.metadata.get("tags", []) for c in page.cells)
    assert not (out / "failed" / "96_keep.txt").exists()


def test_second_run_of_a_section_refuses_clearly_and_stale_staging_is_removed(sandbox):
    src, out = sandbox
    _section(src, "95_lock", "x = 1")
    held = book._lock(out, "95_lock")
    try:
        with pytest.raises(book.SectionBusy, match="another run of 95_lock is in progress"):
            book.execute("95_lock", "ci")
    finally:
        held.close()
    stale = out / ".staging" / "95_lock-999999"           # left by a killed run
    stale.mkdir(parents=True)
    book.execute("95_lock", "ci")
    assert not stale.exists() and (out / "95_lock.ipynb").exists()


def test_missing_data_gives_one_line_per_dataset_a_placeholder_and_skips_the_summary(sandbox, monkeypatch):
    from ntklib import datasets
    src, out = sandbox
    _section(src, "93_data", "x = 1", front="ntkbook:\n  data: [mnist, cifar10 | fashion-mnist]\n")
    _section(src, "94_summary", "x = 1", front="ntkbook:\n  summary: true\n")

    class St:
        def __init__(self, name):
            self.name, self.title, self.state = name, name.upper(), "missing"
            self.detail, self.fix = "not in the data directory", f"python -m ntklib data --fetch {name}"

    asked = []
    monkeypatch.setattr(datasets, "fetch", lambda names, **kw: asked.extend(names) or [St(n) for n in names])
    assert book.run([], "ci") == 2
    assert asked == ["mnist", "cifar10", "fashion-mnist"]  # every alternative is tried, in order
    reason = (out / "failed" / "93_data.txt").read_text()
    assert [line.strip() for line in reason.splitlines()[1:]] == [
        f"{n.upper()}: missing (not in the data directory); fix: python -m ntklib data --fetch {n}"
        for n in ("mnist", "cifar10", "fashion-mnist")]
    for stem in ("93_data", "94_summary"):                 # placeholders, so the book still builds
        page = nbformat.read(out / f"{stem}.ipynb", as_version=4)
        assert page.cells[0].source == f"# {stem}" and "has not run successfully yet" in page.cells[1].source
    assert "93_data failed" in (out / "failed" / "94_summary.txt").read_text()


def test_record_runs_at_full_scale_into_the_record_and_the_page_shows_it(sandbox, tmp_path, monkeypatch):
    from ntklib.book import record
    src, out = sandbox
    monkeypatch.setenv("NTKBOOK_RECORDS", str(tmp_path / "records"))   # read by the kernel too
    monkeypatch.setattr(record, "REPO", tmp_path)       # provenance hashes the fake section's source
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    _section(src, "92_rec", "report.show_table('92_rec', 'tab', f'| scale |\\n|---|\\n| {scale} |')")
    assert book.record(["92_rec"]) == 0
    rec = record.load("92_rec")
    assert rec["scale"] == "full" and (rec["dir"] / "figures" / "f.svg").is_file()
    assert rec["profile"] and all(p["wall"] >= 0 and p["cpu"] >= 0 for p in rec["profile"])
    assert rec["cpu_seconds"] > 0 and rec["peak_rss_mb"] > 0
    assert not (out / "92_rec.ipynb").exists()          # the book's own pages are untouched
    book.execute("92_rec", "ci")
    page = nbformat.read(out / "92_rec.ipynb", as_version=4)
    assert "full-scale record of" in page.cells[1].source
    shown = [o for c in page.cells for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    assert len(shown) == 1                              # the record's figure (this run's shows as inline PNG)
    assert "The same figure at the full scale" in str(page.cells)
    assert "The same table at the full scale" in str(page.cells) and "| full |" in str(page.cells)
    assert rec["tables"] == [{"name": "tab", "markdown": "| scale |\n|---|\n| full |"}]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_sections_declare_the_data_they_read(path):
    # The runner fetches a section's declared data before executing it (so a missing dataset is one line
    # with its fix, not a traceback mid-page): every dataset a notebook loads must be declared.
    from ntklib import datasets
    s = book.section(path.stem)
    declared = {name for alternatives in s.data for name in alternatives}
    assert declared <= set(datasets.DATASETS), f"unknown datasets {declared - set(datasets.DATASETS)}"
    src = path.read_text()
    uses = {"mnist": r'load_mnist|two_class\("mnist"|"mnist"', "uci": r"uci_benchmark_names|load_uci",
            "graphs": r"load_graphs", "cifar10": r"cifar_or_standin"}
    for name, pattern in uses.items():
        if re.search(pattern, src):
            assert name in declared, f"{path.name} reads {name} but its front matter does not declare it"


def test_a_book_run_shows_a_figure_as_a_numbered_captioned_svg_with_alt_text(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = []
    monkeypatch.setattr(report, "REPO", tmp_path)
    monkeypatch.setenv("NTKBOOK_OUTPUT", str(tmp_path / "book" / "generated"))
    monkeypatch.setenv("NTKBOOK_BATCH", "1")
    monkeypatch.delenv("NTKBOOK_STAGE", raising=False)
    monkeypatch.setattr(report, "in_notebook", lambda: True)
    monkeypatch.setattr(report, "show_markdown", shown.append)
    monkeypatch.setattr(report, "_FIGURES", [])
    monkeypatch.setattr(report, "_RECORD", {})      # no full-scale record to show under it
    fig = plt.figure()
    report.savefig(fig, "01_alpha", "curve", caption=r"The loss $\lVert u - y \rVert^2$: look at the slope.")
    assert (tmp_path / "book/generated/site/figures/01_alpha/curve.svg").is_file()
    (md,) = shown
    assert md.startswith("```{figure} /book/generated/site/figures/01_alpha/curve.svg\n")
    assert ":name: figure-01_alpha-curve\n" in md and ":target: ../../figures/01_alpha/curve.svg\n" in md
    assert ":alt: The loss ‖ u - y ‖2: look at the slope.\n" in md
    assert md.rstrip("`\n").endswith(r"The loss $\lVert u - y \rVert^2$: look at the slope.")
    assert not plt.fignum_exists(fig.number), "the figure must be closed, or plt.show() adds a PNG copy"
    with pytest.raises(ValueError, match="caption"):
        report.savefig(plt.figure(), "01_alpha", "other", caption=" ")


def test_tensorflow_native_log_lines_are_removed_from_the_page_and_nothing_else():
    log = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
           "I0000 00:00:1796188924.998591   31653 port.cc:153] oneDNN custom operations are on.\n"
           "E0000 00:00:1796188925.000060   31653 cudart_stub.cc:31] Could not find cuda drivers.\n")
    outs = [nbformat.v4.new_output("stream", name="stderr", text=log),
            nbformat.v4.new_output("stream", name="stderr", text=log + "UserWarning: a real warning\n"),
            nbformat.v4.new_output("stream", name="stdout", text=log)]
    kept = book.quiet_outputs(outs)
    assert [o["text"] for o in kept] == ["UserWarning: a real warning\n", log]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=kept)])
    assert "a real warning" in nbformat.writes(nb)     # the page can still be written


def test_numbers_in_generated_text_are_tex_not_python_exponents():
    assert report.tex_number(6.4e9, 2, scientific=True) == r"6.4 \times 10^{9}"
    assert report.tex_number(1.23e-4, 2, scientific=True) == r"1.2 \times 10^{-4}"
    assert report.tex_number(0.1234) == "0.123" and report.tex_number(2.68e5) == r"2.68 \times 10^{5}"
    assert report.tex_number(0.0, scientific=True) == "0"


def test_profile_is_grouped_by_the_heading_that_precedes_the_code():
    # A part with no code of its own (a pointer to another page) shares its Markdown cell with the next
    # heading; the code after it belongs to that next part, not to the pointer.
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("setup", execution_count=1),
        nbformat.v4.new_markdown_cell("## Part 1\ntext"),
        nbformat.v4.new_code_cell("a", execution_count=2),
        nbformat.v4.new_markdown_cell("## Part 2\nsee the other page\n\n## Part 3\nmore"),
        nbformat.v4.new_code_cell("b", execution_count=3),
    ])
    cells = [{"cell": i, "wall": w, "cpu": w, "peak_rss_mb": 10 * i} for i, w in ((1, 1.0), (2, 2.0), (3, 3.0))]
    parts = book.profile_by_part(nb, cells)
    assert [(p["part"], p["wall"]) for p in parts] == [("setup", 1.0), ("Part 1", 2.0), ("Part 3", 3.0)]
