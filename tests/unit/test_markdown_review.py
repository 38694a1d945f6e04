"""Review 8 of the Markdown engine (render/markdown.py): what is linked does not depend on
the rest of the page; a box's body is part of its page (heading ids, footnotes); a page
rendered cell by cell (a notebook with code) has unique heading ids and drops no footnote.
HTML read with the standard library's parser."""
from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pipeline.render.export import Exporter
from pipeline.render.autolinks import _LINKABLE
from pipeline.render.markdown import Markdown


class Page(HTMLParser):
    """Every element as (tag, attributes, its text), in document order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict, list[str]]] = []
        self._open: list[int] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs), []))
        if tag not in ("input", "img", "br", "hr"):
            self._open.append(len(self.found) - 1)

    def handle_endtag(self, tag):
        while self._open:
            if self.found[self._open.pop()][0] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for index in self._open:
            self.found[index][2].append(data)

    def ids(self, *tags: str) -> list[str]:
        return [a["id"] for t, a, _ in self.found if "id" in a and (not tags or t in tags)]

    def hrefs(self) -> list[str]:
        return [a.get("href") for t, a, _ in self.found if t == "a"]

    def of(self, tag: str, cls: str | None = None) -> list[str]:
        return ["".join(text).strip() for t, a, text in self.found
                if t == tag and (cls is None or cls in (a.get("class") or "").split())]

    def all_text(self) -> str:
        return "".join(self.text)


# -- 1. what is linked ------------------------------------------------------------------------

# (text, the links GitHub's autolink rules make of it: http(s)://, www., e-mail, mailto:)
LINKED = [
    ("write to me@example.com", ["mailto:me@example.com"]),
    ("see example.com or github.com/foo", []),
    ("run setup.py, then read README.md and docs.python.org", []),
    ("(https://example.com)", ["https://example.com"]),
    ("_https://example.com_", ["https://example.com"]),
    ("见https://example.com", ["https://example.com"]),
    ("x=https://example.com", ["https://example.com"]),
    ("'https://example.com'", ["https://example.com"]),
    ('"https://example.com"', ["https://example.com"]),
    ("path/https://example.com", ["https://example.com"]),
    ("ftp://example.com/file", []),
    ("see //example.com/x", []),
    ("mailto:me@example.com", ["mailto:me@example.com"]),
    ("<b>https://example.com</b>", ["https://example.com"]),
    ("a https://example.com b", ["https://example.com"]),
    ("(see https://example.com)", ["https://example.com"]),
    ("| a | https://example.com |\n|---|---|\n| x | y |", ["https://example.com"]),
    ("WWW.EXAMPLE.COM", ["http://WWW.EXAMPLE.COM"]),
    ("[link](https://a.com) and (www.example.org)", ["https://a.com", "http://www.example.org"]),
    ("www.example.org/path?q=1.", ["http://www.example.org/path?q=1"]),
    ("not.www.example.org nor a/www.example.org", []),
    ("`https://in.code` and <https://angle.org>", ["https://angle.org"]),
]
ELSEWHERE = "A bare https://elsewhere.org/x here.\n"


@pytest.mark.parametrize("text, links", LINKED)
def test_a_text_is_linked_the_same_with_or_without_a_bare_url_elsewhere_on_its_page(text, links):
    md = Markdown()
    alone = md.render(text)
    md.begin_page()
    prefix = md.render(ELSEWHERE)
    md.begin_page()
    together = md.render(ELSEWHERE + "\n" + text)
    assert together == prefix + alone
    assert Page(alone).hrefs() == links


def test_bare_domains_are_never_links_and_emails_are():
    page = Page(Markdown().render("Edit setup.py and conf.py; mail ada@example.org.\n"))
    assert page.hrefs() == ["mailto:ada@example.org"]


PIECES = ["http", "https", "HTTP", ":", "/", "//", "\\", "www", "WWW", "ww", ".", "w", "W",
          "example", "com", "org", "py", "io", "mailto", "ftp", "xmpp", " ", "(", ")", "_", "*",
          "<", ">", '"', "'", "=", "见", "localhost", "1.2.3.4", "xn--p1ai", "рф", "\n", "#",
          "[", "]", "`", "~", "-", "|", "&#58;", "&#64;", "&#46;", "\\:", "%40", "＠", "：",
          "?", "!", ",", ";", "+", "$", "^", "{", "}", "1", "a", "me"]


def test_a_text_the_pretest_lets_pass_without_linkify_is_one_linkify_would_not_change():
    """The gate is a superset of what linkify-it (as configured) matches: for texts it does
    not pass, both parsers agree. Random texts made of the pieces links are made of."""
    md, rng, checked = Markdown(), random.Random(8), 0
    for _ in range(4000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        if _LINKABLE.search(text):
            continue
        checked += 1
        md.begin_page()
        linked = md._render(md._full(True), text)
        md.begin_page()
        assert linked == md._render(md._full(False), text), text
        assert not md._full(True).linkify.test(text), text
    assert checked > 1000


def test_the_gate_lets_through_a_text_linkify_would_change():
    """Each kind of link linkify-it makes is let through by the pretest."""
    md = Markdown()
    for text in ("x https://a.org", "x www.a.org", "a@b.org", "mailto:a@b.org", "见http://a.org"):
        assert _LINKABLE.search(text)
        md.begin_page()
        linked = md._render(md._full(True), text)
        md.begin_page()
        assert linked != md._render(md._full(False), text)


# -- 2. boxes -------------------------------------------------------------------------------

def test_a_box_body_shares_its_pages_heading_ids_and_footnotes():
    html = Markdown().render("## Results\n\n```{note}\n## Results\n\nB[^2]\n```\n\n"
                             "## Results\n\n[^2]: note two\n")
    page = Page(html)
    assert page.ids("h2") == ["results", "results-1", "results-2"]
    assert page.of("div", "admonition") and "[^2]" not in page.all_text()
    assert page.of("li", "footnote-item") == ["note two ↩︎"]
    [ref] = [a for t, a, _ in page.found if t == "a" and a.get("id", "").startswith("fnref")]
    assert ref["href"] == "#fn1" and "fn1" in page.ids("li")


def test_a_footnote_defined_in_a_box_and_nested_boxes_are_the_pages():
    html = Markdown().render(
        "Claim[^a].\n\n::::{tip} Outer\n:::{warning}\n### Deep\n[^a]: inside the box\n:::\n"
        "::::\n\n::: {.callout-note}\n## Callout title\n### Deep\nText.\n:::\n")
    page = Page(html)
    assert page.of("p", "admonition-title") == ["Outer", "Warning", "Callout title"]
    assert page.ids("h3") == ["deep", "deep-1"]
    assert page.of("li", "footnote-item") == ["inside the box ↩︎"]
    assert "[^a]" not in page.all_text()


# -- 3. a page rendered cell by cell --------------------------------------------------------

def test_cells_of_one_page_have_unique_heading_ids_and_the_next_page_starts_again():
    md = Markdown()
    cells = ["## Results\n\nA.", "## Results\n", "```{note}\n## Results\n```\n", "## Other"]
    ids = [Page(md.render(cell)).ids("h2") for cell in cells]
    assert ids == [["results"], ["results-1"], ["results-2"], ["other"]]
    md.unsupported.clear()                 # what export and check do before each page
    assert Page(md.render("## Results\n")).ids("h2") == ["results"]
    md.render("## Results\n")
    md.begin_page()
    assert Page(md.render("## Results\n")).ids("h2") == ["results"]


def test_a_footnote_defined_in_a_later_cell_is_shown_where_it_is_and_reported():
    md = Markdown()
    first, second = md.render("A[^1]."), md.render("## Results\n\n[^1]: the note\n")
    assert Page(first).all_text().strip() == "A[^1]."        # no definition yet: as written
    assert Page(second).of("li", "footnote-item") == ["the note"]
    [warning] = md.warnings
    assert "[^1]" in warning and "before the one that defines it" in warning


def test_a_footnote_defined_in_an_earlier_cell_is_linked_from_a_later_one():
    md = Markdown()
    first = Page(md.render("Some text.\n\n[^n]: defined first\n"))
    second = Page(md.render("Then a reference[^n] and a new one[^m].\n\n[^m]: second\n"))
    assert first.of("li", "footnote-item") == ["defined first"] and first.ids("li") == ["fn1"]
    refs = [a["href"] for t, a, _ in second.found if t == "a" and "fnref" in a.get("id", "")]
    assert refs == ["#fn1", "#fn2"]                      # the first points up to its note
    assert second.ids("li") == ["fn2"]                   # ids of notes unique on the page
    assert md.warnings == []


def test_an_unreferenced_definition_is_shown_and_reported_never_dropped():
    md = Markdown()
    page = Page(md.render("Text.\n\n[^lost]: a note no one cites\n"))
    assert page.of("li", "footnote-item") == ["a note no one cites"]
    assert [a for t, a, _ in page.found if "footnote-backref" in (a.get("class") or "")] == []
    [warning] = md.warnings
    assert "[^lost]" in warning and "never referred to" in warning


@pytest.fixture(scope="module")
def exporter() -> Exporter:
    return Exporter()


def _notebook(*cells):
    nb = new_notebook(cells=[new_code_cell(c[1:]) if c.startswith("!") else new_markdown_cell(c)
                             for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def test_a_page_with_code_exported_cell_by_cell_has_unique_ids_and_keeps_its_notes(exporter):
    """The reviewer's page: headings and a footnote across cells separated by code."""
    nb = _notebook("## Results\n\nA[^1].", "!print(1)",
                   "## Results\n\n[^1]: the note\n\n```{note}\n## Results\n\nin box[^1]\n```")
    page = Page(exporter.export(nb).body)
    assert page.ids("h2") == ["results", "results-1", "results-2"]
    assert page.of("li", "footnote-item") == ["the note ↩︎"]
    assert len(set(page.ids())) == len(page.ids())
    again = Page(exporter.export(nb).body)               # the next page starts again
    assert again.ids("h2") == ["results", "results-1", "results-2"]


def test_code_and_an_unsupported_directive_inside_a_box_are_rendered_and_reported_once():
    md = Markdown()
    page = Page(md.render("::::{note}\n```python\nx = 1\n```\n\n:::{figure} a.png\nCaption\n:::\n"
                          "::::\n"))
    classes = [a.get("class") for t, a, _ in page.found if t == "div"]
    assert classes == ["admonition note", "highlight", "directive unsupported"]
    assert [(u.name, u.opening) for u in md.unsupported] == [("figure", ":::{figure} a.png")]
