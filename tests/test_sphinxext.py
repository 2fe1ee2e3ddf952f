"""ntklib.book.sphinxext: the download and launch buttons of section pages point at files that exist."""
from types import SimpleNamespace

from ntklib.book import pipeline as book, sphinxext


def _app(tmp_path, stem):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / f"{stem}.md").write_text("# x\n")
    return SimpleNamespace(srcdir=str(tmp_path), config=SimpleNamespace(ntkbook_pages_branch="gh-pages"))


def _context(stem):
    exe = f"book/generated/{stem}.ipynb"
    return {"pathto": lambda *a: "../../_sources", "header_buttons": [
        {"type": "group", "label": "download-buttons", "buttons": [{"text": ".ipynb", "url": "x"}, {"text": ".pdf"}]},
        {"type": "group", "label": "launch-buttons", "buttons": [
            {"text": "Binder", "url": f"https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/{exe}"},
            {"text": "Colab", "url": f"https://colab.research.google.com/github/o/r/blob/main/{exe}"}]}]}


def test_buttons_point_at_the_jupytext_source_and_the_published_notebook(tmp_path):
    app, ctx = _app(tmp_path, "01_x"), _context("01_x")
    sphinxext._adjust_buttons(app, "book/generated/01_x", "page.html", ctx, None)
    download, launch = ctx["header_buttons"][0]["buttons"], ctx["header_buttons"][1]["buttons"]
    assert [b["text"] for b in download] == [".ipynb", ".md (jupytext)", ".pdf"]
    assert download[1]["url"] == "../../_sources/notebooks/01_x.md"
    assert launch[0]["url"].endswith("?urlpath=lab/tree/notebooks/01_x.md")
    assert launch[1]["url"] == "https://colab.research.google.com/github/o/r/blob/gh-pages/_sources/book/generated/01_x.ipynb"


def test_other_pages_are_left_alone(tmp_path):
    app, ctx = _app(tmp_path, "01_x"), _context("01_x")
    sphinxext._adjust_buttons(app, "book/intro", "page.html", ctx, None)
    assert ctx == _context("01_x") | {"pathto": ctx["pathto"]}


def test_launch_buttons_are_switched_off_without_a_repository_url():
    cfg = SimpleNamespace(html_theme_options={"launch_buttons": {"binderhub_url": "b"}, "repository_url": ""})
    sphinxext._switch_off_launch_without_repository(None, cfg)
    assert "launch_buttons" not in cfg.html_theme_options
    cfg = SimpleNamespace(html_theme_options={"launch_buttons": {"binderhub_url": "b"}, "repository_url": "https://github.com/o/r"})
    sphinxext._switch_off_launch_without_repository(None, cfg)
    assert cfg.html_theme_options["launch_buttons"]


def test_config_loads_the_extensions_and_bibliography():
    import yaml
    cfg = yaml.safe_load((book.REPO / "_config.yml").read_text())
    assert {"sphinx-mathjax-offline", "ntklib.book.sphinxext"} <= set(cfg["sphinx"]["extra_extensions"])
    assert cfg["sphinx"]["config"]["nb_render_markdown_format"] == "myst"
    assert all((book.REPO / f).exists() for f in cfg["bibtex_bibfiles"])
