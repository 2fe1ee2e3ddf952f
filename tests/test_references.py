"""book/references.bib: every paper of the slides' reference list is there, and every {cite} key used in
the book's sources exists (the -W build would fail later and slower)."""
import re

from ntklib import book

BIB = (book.REPO / "book" / "references.bib").read_text()
KEYS = set(re.findall(r"^@\w+\{([^,]+),", BIB, re.M))

# The reference list at the end of the slides.
SLIDES = {"arora2019exact", "arora2020harnessing", "bartlett2002rademacher", "du2019graph", "du2019gradient",
          "fort2020deep", "hu2020simple", "jacot2018neural", "krizhevsky2012imagenet", "neyshabur2018role",
          "seleznova2022neural", "wei2017early", "zhang2017rethinking", "zhang2021still"}


def test_slide_references_are_all_in_the_bibliography():
    assert SLIDES <= KEYS, f"missing: {sorted(SLIDES - KEYS)}"


def test_every_cited_key_exists():
    sources = [*book.NOTEBOOKS.glob("*.md"), *(book.REPO / "book").glob("*.md")]
    cited = {k.strip() for p in sources for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", p.read_text())
             for k in group.split(",")}
    assert cited, "no citation found"
    assert cited <= KEYS, f"cited but not in references.bib: {sorted(cited - KEYS)}"


def test_keys_are_unique():
    assert len(KEYS) == len(re.findall(r"^@\w+\{", BIB, re.M))
