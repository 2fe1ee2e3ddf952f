"""The built book, as a reader's browser sees it: headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium) opens every page of book/_build/html, served on 127.0.0.1, and checks that

* every page loads, and every resource it requests (scripts, styles, fonts, images) exists on the site:
  the book needs no network (connections out are refused where CI runs);
* math renders: MathJax, loaded from the site itself, typesets every math element without a TeX error;
* every image on a page is present and non-empty, and every SVG figure written by the notebooks is a
  non-empty SVG file;
* no internal link is broken: its target exists, and so does the element its #fragment names;
* a reader's view, at 1400 px and at 400 px: no page scrolls sideways, no display equation is cut off (at
  1400 px it fits its column; at 400 px it fits or scrolls inside its box), every figure is loaded and shown at a usable size, the section pages show
  status badges, no citation or reference is left unresolved, and no text a reader sees carries log noise,
  Python reprs, machine paths or notes to the developers (FORBIDDEN).

These tests need a built book, so `make test` (which runs before the book exists) deselects them
(marker `browser`); CI runs them after `make book` with `python -m pytest -m browser tests/browser`.
Without book/_build/html they are skipped.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

HTML = Path(__file__).resolve().parents[2] / "book" / "_build" / "html"
CHROMIUM = os.environ.get("NTKBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NTKBOOK_CHROMEDRIVER", "/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (HTML / "index.html").exists(), reason="no built book at book/_build/html (run `make book`)"),
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site and records every request with its status."""

    requests: list[tuple[str, int]]

    def log_message(self, *args):  # quiet
        pass

    def send_response(self, code, message=None):
        self.requests.append((unquote(urlsplit(self.path).path), code))
        super().send_response(code, message)


@pytest.fixture(scope="module")
def server():
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not shutil.which(path):
            pytest.fail(f"{path} not found: install Debian's {package} (apt-get install chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--window-size=1280,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if not p.relative_to(HTML).parts[0].startswith(("_", "."))) if HTML.exists() else []

# What each page shows, collected by test_page and checked across pages by test_internal_links.
_SEEN: dict[str, dict] = {}

_INSPECT = """
const done = arguments[arguments.length - 1];
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) ? MathJax.startup.promise : Promise.resolve();
ready.then(() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const scripts = Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s));
  done({
    title: document.title,
    math: math.length,
    typeset: math.filter(m => m.querySelector('mjx-container')).length,
    texErrors: document.querySelectorAll('mjx-merror').length,
    mathjax: scripts,
    mathjaxVersion: window.MathJax ? (MathJax.version || null) : null,
    images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name')),
    resources: performance.getEntriesByType('resource').map(e => e.name),
  });
}).catch(e => done({error: String(e)}));
"""


@pytest.mark.parametrize("page", PAGES)
def test_page(page, server, browser):
    base, requests = server
    start = len(requests)
    browser.get(f"{base}/{page}")
    info = browser.execute_async_script(_INSPECT)
    assert "error" not in info, f"{page}: {info.get('error')}"
    _SEEN[page] = info
    assert info["title"] and "404" not in info["title"], f"{page}: no title"

    # (/favicon.ico is the browser's own guess, not something a page asks for)
    failed = [(p, code) for p, code in requests[start:] if code >= 400 and p != "/favicon.ico"]
    assert not failed, f"{page}: requests the site cannot serve: {failed}"
    outside = sorted({r for r in info["resources"] if not r.startswith(base) and not r.startswith("data:")})
    assert not outside, f"{page}: loads resources from outside the site (the book must work offline): {outside}"

    if info["math"]:
        assert info["mathjax"] and all(s.startswith(f"{base}/_static/") for s in info["mathjax"]), \
            f"{page}: MathJax is not served by the site: {info['mathjax']}"
        assert info["typeset"] == info["math"], f"{page}: {info['math'] - info['typeset']} of {info['math']} math elements not typeset"
        assert info["texErrors"] == 0, f"{page}: {info['texErrors']} TeX errors"

    broken = [i["src"] for i in info["images"] if not i["ok"]]
    assert not broken, f"{page}: images missing or empty: {broken}"


def test_section_pages_have_math_and_figures():
    """The book's content pages are not empty shells: the NTK chapter has typeset math and figures."""
    if not _SEEN:
        pytest.skip("no page was inspected")
    sections = {p: v for p, v in _SEEN.items() if p.startswith("book/generated/")}
    assert sections, "no section page in the built book"
    assert any(v["math"] for v in sections.values()), "no section page has math"
    assert sum(len(v["images"]) for v in sections.values()) > 0, "no section page has a figure"


# What must never reach a reader's eyes: native log lines (TensorFlow/absl), reprs, machine paths, dev notes.
FORBIDDEN = [("absl", r"absl"), ("oneDNN", r"oneDNN"), ("CUDA", r"\bcuda\b"), ("a Check repr", r"Check\("),
             ("a temp path", r"/tmp/"), ("a home path", r"/root/"), ("a machine path", r"/work/"),
             ("an object repr", r"object at 0x"), ("a numpy repr", r"np\.float64\("),
             ("a reference to an issue", r"\bissue \d+")]

_READ = """
const done = arguments[arguments.length - 1];
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) ? MathJax.startup.promise : Promise.resolve();
ready.then(() => {
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const main = document.querySelector('main') || document.body;
  done({
    text: main.innerText,
    pageWidth: document.documentElement.scrollWidth,
    window: window.innerWidth,
    column: (document.querySelector('main .bd-article, main article, main') || main).clientWidth,
    equations: Array.from(document.querySelectorAll('mjx-container[display="true"]')).map(m => {
      const box = m.parentElement;
      return {w: m.scrollWidth, avail: m.clientWidth, boxW: box.clientWidth, scrolls: scrolls(m) || scrolls(box),
              tex: (m.textContent || '').slice(0, 60)};
    }),
    figures: Array.from(document.querySelectorAll('figure.ntk-figure img, img.ntk-figure')).map(i => ({
      src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0, w: i.getBoundingClientRect().width,
      alt: i.getAttribute('alt') || '', captioned: !!i.closest('figure') && !!i.closest('figure').querySelector('figcaption')})),
    badges: document.querySelectorAll('.ntk-status').length,
    unresolved: Array.from(document.querySelectorAll('.problematic, .xref.missing')).map(e => e.textContent.slice(0, 60)),
  });
}).catch(e => done({error: String(e)}));
"""

SECTIONS = [p for p in PAGES if p.startswith("book/generated/")]


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("page", SECTIONS)
def test_reader_view(page, width, server, browser):
    import re
    base, _ = server
    browser.set_window_size(width, 900)
    try:
        browser.get(f"{base}/{page}")
        info = browser.execute_async_script(_READ)
    finally:
        browser.set_window_size(1280, 900)
    assert "error" not in info, f"{page}: {info.get('error')}"
    problems = []
    if info["pageWidth"] > info["window"] + 1:
        problems.append(f"the page scrolls sideways ({info['pageWidth']} px wide in a {info['window']} px window)")
    for eq in info["equations"]:
        # on a desktop every equation fits its column; on a phone a wide one may scroll inside its box
        if eq["w"] > eq["avail"] + 1 and (width >= 1000 or not eq["scrolls"]):
            problems.append(f"display equation wider than its column ({eq['w']} px in {eq['avail']} px): {eq['tex']!r}")
    for fig in info["figures"]:
        if not fig["ok"]:
            problems.append(f"figure not loaded: {fig['src']}")
        elif fig["w"] < min(250, 0.9 * info["column"]):
            problems.append(f"figure shown only {fig['w']:.0f} px wide (column {info['column']} px): {fig['src']}")
        if not fig["alt"].strip():
            problems.append(f"figure without alt text: {fig['src']}")
    if not page.endswith("06_summary.html") and info["badges"] == 0:
        problems.append("no status badge on a section page")
    if info["unresolved"]:
        problems.append(f"unresolved references or citations: {info['unresolved'][:5]}")
    for what, pattern in FORBIDDEN:
        m = re.search(pattern, info["text"], re.I if what == "CUDA" else 0)
        if m:
            problems.append(f"{what} in the text: {info['text'][max(0, m.start() - 60):m.end() + 60]!r}")
    assert not problems, f"{page} at {width} px:\n" + "\n".join(problems)


def test_section_figures_are_numbered_and_captioned():
    """Every figure a section shows is a numbered figure with a caption (checked on the built HTML)."""
    for page in SECTIONS:
        html = (HTML / page).read_text()
        n_fig = html.count('class="ntk-figure')
        if "figures/" in html and "06_summary" not in page:
            assert n_fig, f"{page}: figures that are not ntk-figure (numbered, captioned) figures"
        assert html.count("<figcaption") >= html.count('<figure class="ntk-figure'), f"{page}: a figure without caption"


def test_internal_links(server):
    base, _ = server
    if not _SEEN:
        pytest.skip("no page was inspected")
    broken = []
    for page, info in _SEEN.items():
        for href in info["links"]:
            if not href.startswith(base + "/"):
                continue  # external links are not followed: there is no network
            url, frag = urldefrag(href)
            rel = unquote(urlsplit(url).path).lstrip("/")
            target = HTML / rel
            if target.is_dir():
                target, rel = target / "index.html", (rel.rstrip("/") + "/index.html").lstrip("/")
            if not target.is_file():
                broken.append(f"{page} -> {href} (no such file)")
            elif frag and rel in _SEEN and unquote(frag) not in _SEEN[rel]["ids"]:
                broken.append(f"{page} -> {href} (no element with id {unquote(frag)!r})")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_figure_files_are_nonempty_svg():
    figures = sorted((HTML / "figures").rglob("*.svg"))
    assert figures, "the notebooks wrote no SVG figure into the site"
    for f in figures:
        assert f.stat().st_size > 0, f"{f} is empty"
        assert ET.parse(f).getroot().tag.endswith("svg"), f"{f} is not an SVG document"
