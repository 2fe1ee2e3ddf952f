"""Author-year labels for the book's bibliography (a Sphinx extension: _config.yml, ``sphinx: extra_extensions``).

The pages cite author-year, "[Jacot et al., 2018]" (sphinxcontrib-bibtex's ``author_year`` reference style), but
the bibliography list takes its labels from a pybtex formatting style, and pybtex's own styles label "[JGH18]"
(alpha) or "[1]" (unsrt), which a reader cannot match to the citation. This module registers, as
sphinxcontrib-bibtex documents for custom styles (``pybtex.plugin.register_plugin`` and
``sphinxcontrib.bibtex.plugin.register_plugin``):

* the pybtex formatting style ``ntkbook_author_year`` (``bibtex_default_style``): pybtex's unsrt entries, sorted by
  author, year and title, labelled "Jacot et al., 2018"; works with the same label get a, b, ... on the year
  ("Arora et al., 2019a"), in list order;
* the reference style ``ntkbook_author_year`` (``bibtex_reference_style``): sphinxcontrib-bibtex's ``author_year``
  with the year as the label has it, so that a citation reads "[Arora et al., 2019a]" too.
"""
from collections import Counter
from dataclasses import dataclass

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import node, optional, sentence
import sphinxcontrib.bibtex.plugin
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle as Parenthetical,
    BasicAuthorYearTextualReferenceStyle as Textual,
)
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle as YearOnly
from sphinxcontrib.bibtex.style.template import join as sjoin, join2, post_text, pre_text, reference

NAME = "ntkbook_author_year"


def _persons(entry):
    return entry.persons.get("author") or entry.persons.get("editor") or []


def _plain(latex):
    """'Fern{\\'a}ndez-Delgado' -> 'Fernández-Delgado' (labels are plain text, shown as they are)."""
    return Text.from_latex(latex).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """'Surname, 2002', 'Surname and Surname, 2002', 'Surname et al., 2002': the names as the author-year citations
    write them (author, else editor, else the title, as sphinxcontrib-bibtex falls back), and 'n.d.' for no year."""

    def format_label(self, entry):
        surnames = [_plain(" ".join(p.prelast_names + p.last_names)) for p in _persons(entry)]
        if not surnames:
            who = _plain(entry.fields.get("title", entry.key))
        elif len(surnames) <= 2:
            who = " and ".join(surnames)
        else:
            who = surnames[0] + " et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries):
        labels = [self.format_label(e) for e in sorted_entries]
        count, seen = Counter(labels), Counter()
        for label in labels:  # a label shared by several works: 2019a, 2019b, ... in the list's order
            if count[label] > 1:
                seen[label] += 1
                label += chr(ord("a") + seen[label] - 1)
            yield label


class AuthorYearTitleSortingStyle(AuthorYearTitleSorting):
    """Author, year, title, as the names read; a work without author or editor sorts by its title (pybtex would put
    it first)."""

    def sorting_key(self, entry):
        author, year, title = super().sorting_key(entry)
        return (author or _plain(title).lower(), year, title)

    def person_key(self, person):
        # plain text: '{ILSVRC organisers}' sorts under I (a brace sorts after z), 'Fern{\'a}ndez' under F
        return _plain(super().person_key(person))


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = AuthorYearTitleSortingStyle

    def format_web_refs(self, e):
        # unsrt writes "URL: <url>", then the arXiv and DOI links; a url that only repeats one of them is left out
        # (and so are unsrt's urldate and pubmed, which no entry has)
        links = {"https://doi.org/" + e.fields.get("doi", ""), "https://arxiv.org/abs/" + e.fields.get("eprint", "")}
        url = optional[self.format_url(e)] if e.fields.get("url") not in links else ""
        return sentence[url, optional[self.format_eprint(e)], optional[self.format_doi(e)]]


@node
def label_year(children, data):
    """The year as the entry's label shows it ('2019a'), for the citations in the text; the plain year (or 'n.d.')
    for a label of another style."""
    assert not children
    year = data["entry"].fields.get("year", "n.d.")
    shown = data["formatted_entry"].label.rpartition(", ")[2]
    return Text(shown if shown.startswith(year) else year)


# The three templates of sphinxcontrib-bibtex's author_year that write the year, with label_year for its `year` node.
class SuffixedParenthetical(Parenthetical):
    def inner(self, role_name):
        who = self.person.author_or_editor_or_title(full="s" in role_name)
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text, reference[sjoin(sep=self.author_year_sep)[who, label_year]], post_text]


class SuffixedTextual(Textual):
    def inner(self, role_name):
        return sjoin(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            sjoin[self.bracket.left,
                  join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[label_year], post_text],
                  self.bracket.right]]


class SuffixedYearOnly(YearOnly):
    def inner(self, role_name):
        return reference[label_year]


@dataclass
class SuffixedAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    def __post_init__(self):
        super().__post_init__()  # builds author_year's styles and maps each role to its style: swap the three
        swap = {Parenthetical: SuffixedParenthetical, Textual: SuffixedTextual, YearOnly: SuffixedYearOnly}
        for role, style in self.role_style.items():
            if type(style) in swap:
                self.role_style[role] = swap[type(style)](**vars(style))


def register():
    pybtex.plugin.register_plugin("pybtex.style.formatting", NAME, AuthorYearStyle)
    sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing", NAME,
                                                SuffixedAuthorYearReferenceStyle)


def setup(app):
    # Registered when Sphinx loads the extension, before sphinxcontrib-bibtex looks the styles up (builder-inited)
    register()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
