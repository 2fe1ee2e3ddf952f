"""book/references.bib: every paper of the slides' reference list is there, and every {cite} key used in
the book's sources exists (the -W build would fail later and slower); every work has a well-formed DOI, arXiv id
or url, the book's two sources are there and cited by the introduction, and ntklib.book.bibstyle labels the list
author-year, uniquely, as the citations in the text read."""
import re

import pybtex.database
import yaml

from ntklib.book import bibstyle, pipeline as book

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


# --- identifiers, the book's sources, author-year labels ------------------------------------------------------------
ENTRIES = pybtex.database.parse_file(book.REPO / "book" / "references.bib").entries
SOURCES = {"zhang2024ntk", "ntkblog"}  # the lecture and the blog note: no public address known, their note says so
LABELS = {fe.key: fe.label for fe in bibstyle.AuthorYearStyle().format_entries(ENTRIES.values())}


def test_every_work_has_a_doi_an_arxiv_id_or_a_url():
    missing = [k for k, e in ENTRIES.items() if k not in SOURCES and not {"doi", "eprint", "url"} & set(e.fields)]
    assert not missing, f"no doi, eprint or url: {missing}"
    for k in SOURCES:
        assert "public web address is known to this book" in ENTRIES[k].fields["note"], k


def test_identifiers_are_well_formed_and_links_agree():
    for k, e in ENTRIES.items():
        f = {name.lower(): value for name, value in e.fields.items()}
        if "doi" in f:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", f["doi"]), (k, f["doi"])
        if "eprint" in f:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", f["eprint"]) and f.get("archiveprefix") == "arXiv", (k, f["eprint"])
        if "url" in f:
            assert re.fullmatch(r"https://[^\s{}\\]+", f["url"]), (k, f["url"])
            # a doi.org or arXiv url names the same work as the doi / eprint field
            if f["url"].startswith("https://doi.org/"):
                assert f["url"] == "https://doi.org/" + f.get("doi", ""), k
            if f["url"].startswith("https://arxiv.org/abs/"):
                assert f["url"] == "https://arxiv.org/abs/" + f.get("eprint", ""), k


def test_the_sources_are_in_the_bibliography_and_the_introduction_cites_them():
    assert SOURCES <= KEYS
    assert str(ENTRIES["zhang2024ntk"].persons["author"][0]) == "Zhang, Shihua"
    assert ENTRIES["zhang2024ntk"].fields["year"] == "2024"
    intro = (book.REPO / "book" / "intro.md").read_text()
    cited = {k.strip() for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", intro) for k in group.split(",")}
    assert SOURCES <= cited, f"intro.md does not cite {sorted(SOURCES - cited)}"


def test_labels_are_author_year_and_unique():
    assert LABELS["jacot2018neural"] == "Jacot et al., 2018"
    assert LABELS["bartlett2002rademacher"] == "Bartlett and Mendelson, 2002"
    assert LABELS["krizhevsky2009learning"] == "Krizhevsky, 2009"
    assert LABELS["fernandez2014hundreds"] == "Fernández-Delgado et al., 2014"  # LaTeX accents decoded
    assert LABELS["zhang2024ntk"] == "Zhang, 2024"
    assert LABELS["ntkblog"] == "Neural Tangent Kernel (NTK): Key Ideas, n.d."  # no author, no date: as cited
    # same authors and year: a, b in the list's order (author list, then title), as the slides have Du et al.
    assert (LABELS["arora2019exact"], LABELS["arora2019fine"]) == ("Arora et al., 2019a", "Arora et al., 2019b")
    assert (LABELS["du2019graph"], LABELS["du2019gradient"]) == ("Du et al., 2019a", "Du et al., 2019b")
    assert all(re.fullmatch(r".+, (\d{4}[a-z]?|n\.d\.)", label) for label in LABELS.values()), LABELS
    assert len(set(LABELS.values())) == len(LABELS) == len(ENTRIES)  # sphinxcontrib-bibtex warns on duplicates (-W)


def test_the_list_shows_each_link_once():
    style = bibstyle.AuthorYearStyle()
    text = {fe.key: fe.text.render_as("text") for fe in style.format_entries(ENTRIES.values())}
    assert "doi:10.1109/5.726791" in text["lecun1998gradient"]
    assert "URL: https://doi.org" not in text["lecun1998gradient"]  # the doi link already goes there
    assert "arXiv:1806.07572" in text["jacot2018neural"]
    assert "URL: https://proceedings.neurips.cc" in text["jacot2018neural"]  # the published version's page
    html = next(fe for fe in style.format_entries([ENTRIES["he2016deep"]])).text.render_as("html")
    assert 'href="https://doi.org/10.1109/CVPR.2016.90"' in html and 'href="https://arxiv.org/abs/1512.03385"' in html


def test_citations_in_the_text_carry_the_labels_year():
    """The reference style is sphinxcontrib-bibtex's author_year, except that the year is the label's ('2019a')."""
    from sphinxcontrib.bibtex.plugin import find_plugin
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    bibstyle.register()
    ours = find_plugin("sphinxcontrib.bibtex.style.referencing", bibstyle.NAME)()
    theirs = find_plugin("sphinxcontrib.bibtex.style.referencing", "author_year")()
    fes = {fe.key: fe for fe in bibstyle.AuthorYearStyle().format_entries(ENTRIES.values())}
    info = SphinxReferenceInfo(None, "", "", "", None, "", "")

    def cite(style, role, key):
        return str(format_references(style, role, [(ENTRIES[key], fes[key], info)]))

    assert cite(ours, "p", "arora2019fine") == "[Arora et al., 2019b]"
    assert cite(ours, "t", "du2019graph") == "Du et al. [2019a]"
    for key in ENTRIES:  # everything else as author_year writes it
        year, shown = ENTRIES[key].fields.get("year", "n.d."), LABELS[key].rpartition(", ")[2]
        for role in ("p", "t", "ps", "ts", "alp", "year", "yearpar", "author"):
            assert cite(ours, role, key) == cite(theirs, role, key).replace(year, shown), (key, role)


def test_config_selects_the_styles():
    cfg = yaml.safe_load((book.REPO / "_config.yml").read_text())
    assert "ntklib.book.bibstyle" in cfg["sphinx"]["extra_extensions"]  # registers the styles when Sphinx loads
    assert cfg["sphinx"]["config"]["bibtex_default_style"] == bibstyle.NAME
    assert cfg["sphinx"]["config"]["bibtex_reference_style"] == bibstyle.NAME
    assert bibstyle.setup(None) == {"parallel_read_safe": True, "parallel_write_safe": True}
