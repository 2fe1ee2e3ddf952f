"""Sphinx glue for ntk-book's pages (loaded by _config.yml: ``sphinx: extra_extensions``).

The section pages are papermill-executed notebooks in ``book/generated/`` (not in git); their sources are
the jupytext files ``notebooks/NN_name.md``. This extension makes the page buttons point at what exists:

* **Download**: besides the executed ``.ipynb`` (the theme's button), a ``.md (jupytext)`` entry offers the
  source the page was executed from; the build copies it to ``_sources/notebooks/``.
* **Launch** (only when ``repository: url:`` is set in _config.yml): Binder and JupyterHub open the jupytext
  source ``notebooks/NN_name.md`` of the repository (jupytext, in the environment, opens it as a notebook);
  Colab can only open ``.ipynb`` files stored on GitHub, so it opens the executed notebook that the
  published site carries, ``_sources/book/generated/NN_name.ipynb`` on the branch the site is deployed
  from (``ntkbook_pages_branch``, default ``gh-pages``, as ``ghp-import`` publishes it).
* With no repository URL the launch buttons are switched off (sphinx-book-theme would otherwise fail the
  build), so leaving the URL empty is harmless.
"""
from __future__ import annotations

import shutil
from pathlib import Path

GENERATED = "book/generated/"


def _switch_off_launch_without_repository(app, config) -> None:
    opts = dict(config.html_theme_options or {})
    if opts.get("launch_buttons") and not opts.get("repository_url"):
        opts.pop("launch_buttons")
        config.html_theme_options = opts


def _section_stem(pagename: str) -> str | None:
    return pagename[len(GENERATED):] if pagename.startswith(GENERATED) else None


def _source_md(app, stem: str) -> Path:
    return Path(app.srcdir) / "notebooks" / f"{stem}.md"


def _buttons(context):
    for b in context.get("header_buttons", []):
        yield b
        yield from b.get("buttons", [])


def _adjust_buttons(app, pagename, templatename, context, doctree) -> None:
    stem = _section_stem(pagename)
    if stem is None or not _source_md(app, stem).exists():
        return
    executed = f"{GENERATED}{stem}.ipynb"
    pages_branch = app.config.ntkbook_pages_branch
    for b in _buttons(context):
        url = b.get("url", "")
        if b.get("text") in ("Binder", "JupyterHub") and executed in url:
            b["url"] = url.replace(executed, f"notebooks/{stem}.md")
        elif b.get("text") == "Colab" and executed in url:
            head, _, _ = url.partition("/blob/")
            b["url"] = f"{head}/blob/{pages_branch}/_sources/{executed}"
        elif b.get("label") == "download-buttons":
            b["buttons"].insert(1, {
                "type": "link",
                "url": f"{context['pathto']('_sources', 1)}/notebooks/{stem}.md",
                "text": ".md (jupytext)",
                "tooltip": "Download the jupytext source this page was executed from",
                "icon": "fas fa-file-code",
                "label": "download-jupytext-button",
            })


def _copy_sources(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_sources" / "notebooks"
    for docname in app.env.found_docs:
        stem = _section_stem(docname)
        if stem and _source_md(app, stem).exists():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copy2(_source_md(app, stem), out / f"{stem}.md")


def setup(app):
    app.add_config_value("ntkbook_pages_branch", "gh-pages", "html")
    app.connect("config-inited", _switch_off_launch_without_repository)
    app.connect("html-page-context", _adjust_buttons, priority=600)  # after sphinx-book-theme's (501)
    app.connect("build-finished", _copy_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
