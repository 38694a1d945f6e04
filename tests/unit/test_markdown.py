"""The one Markdown engine (render/markdown.py): markdown-it-py with the plugins a site
needs. Output read back with an HTML parser, not searched as text."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from pipeline.render.markdown import Markdown, heading_id


class Elements(HTMLParser):
    """(tag, attributes, text inside) of every element, in document order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs), []))
        if tag not in ("input", "img", "br", "hr"):
            self._open.append(len(self.found) - 1)

    def handle_endtag(self, tag):
        while self._open:
            if self.found[self._open.pop()][0] == tag:
                break

    def handle_data(self, data):
        for index in self._open:
            self.found[index][2].append(data)

    def of(self, tag: str) -> list[tuple[dict, str]]:
        return [(attrs, "".join(text)) for t, attrs, text in self.found if t == tag]


@pytest.fixture(scope="module")
def engine() -> Markdown:
    return Markdown()


@pytest.fixture
def md(engine) -> Markdown:
    """The module's engine, on a page of its own (heading ids and footnotes are per page)."""
    engine.begin_page()
    return engine


def test_tables_strikethrough_task_lists_and_definition_lists(md):
    page = Elements(md.render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n"
                              "- [x] done\n- [ ] todo\n\nTerm\n: Its definition\n"))
    assert [text for _, text in page.of("td")] == ["1", "2"]
    assert [text for _, text in page.of("s")] == ["gone"]
    boxes = page.of("input")
    assert [("checked" in attrs) for attrs, _ in boxes] == [True, False]
    assert [text for _, text in page.of("dt")] == ["Term"]
    assert [text for _, text in page.of("dd")] == ["Its definition"]


def test_footnotes_link_both_ways(md):
    page = Elements(md.render("A claim.[^1]\n\n[^1]: The source.\n"))
    refs = {attrs.get("href") for attrs, _ in page.of("a")}
    ids = {attrs.get("id") for _, attrs, _ in page.found if attrs.get("id")}
    assert "#fn1" in refs and "fn1" in ids and "fnref1" in ids


def test_math_is_mathml_in_spans_and_divs_never_a_div_in_a_paragraph(md):
    """The theme's `.math` classes stay; inside, MathML with the TeX as its annotation
    (tests/unit/test_math.py has the details)."""
    md.unsupported.clear()
    html = md.render("Inline $x^2 < y$ and $$z$$ in text.\n\n$$\nE = mc^2\n$$\n")
    page = Elements(html)
    assert [attrs["class"] for attrs, _ in page.of("span")] == ["math inline", "math display"]
    assert [attrs.get("display") for attrs, _ in page.of("math")] == ["inline", "block", "block"]
    assert [text for _, text in page.of("annotation")] == ["x^2 < y", "z", "E = mc^2"]
    assert [attrs.get("class") for attrs, _ in page.of("div")] == ["math block"]
    assert "<p>" in html and "<div" not in html.split("</p>")[0]
    assert md.unsupported == []


def test_raw_html_is_kept_with_markdown_inside_blocks(md):
    html = md.render('<style>\n  p { padding: 15px; }\n</style>\n\n<div class="content">\n\n'
                     "### Inside\n\n**bold**\n\n</div>\n")
    assert "<style>\n  p { padding: 15px; }\n</style>" in html
    page = Elements(html)
    assert [(attrs["id"], text) for attrs, text in page.of("h3")] == [("inside", "Inside")]
    assert [text for _, text in page.of("strong")] == ["bold"]


def test_heading_ids_are_stable_and_unique(md):
    page = Elements(md.render("# Hello, World!\n\n## Hello, World!\n\n## Café crème\n"))
    ids = [attrs["id"] for tag, attrs, _ in page.found if tag in ("h1", "h2")]
    assert ids == ["hello-world", "hello-world-1", "café-crème"]
    assert Elements(Markdown().render("# Hello, World!\n")).of("h1")[0][0]["id"] == "hello-world"


@pytest.mark.parametrize("title, expected", [
    ("SDE 1", "sde-1"), ("What I took from it", "what-i-took-from-it"),
    ("Why?", "why"), ("!!!", "section"), ("a  b", "a--b")])
def test_heading_id(title, expected):
    assert heading_id(title) == expected


def test_myst_admonitions_colon_fences_and_quarto_callouts_are_boxes(md):
    page = Elements(md.render(
        "```{note}\nSome *text*.\n```\n\n:::{warning} Mind *this*\n:class: dropdown\nInner.\n:::\n\n"
        "::: {.callout-tip}\n## Tip title\nBody.\n:::\n\n"
        '::: {.callout-important title="Heads up"}\nCareful.\n:::\n'))
    boxes = [(attrs["class"], text) for attrs, text in page.of("div")]
    assert [cls for cls, _ in boxes] == ["admonition note", "admonition warning",
                                         "admonition tip", "admonition important"]
    titles = [text for attrs, text in page.of("p") if attrs.get("class") == "admonition-title"]
    assert titles == ["Note", "Mind this", "Tip title", "Heads up"]
    assert [text for _, text in page.of("em")] == ["text", "this"]
    assert all(":class:" not in text for _, text in boxes)
    assert md.unsupported == [] or all(u.name != "note" for u in md.unsupported)


def test_an_unsupported_directive_is_shown_and_reported_never_dropped():
    md = Markdown()
    html = md.render("```{figure} img.png\n:width: 50%\nA caption\n```\n\n```python\nx = 1\n```\n")
    page = Elements(html)
    [(attrs, text)] = [(a, t) for a, t in page.of("div") if "unsupported" in a.get("class", "")]
    assert attrs["data-directive"] == "figure" and "A caption" in text
    assert [u.name for u in md.unsupported] == ["figure"]
    assert md.unsupported[0].opening == "```{figure} img.png"
    assert [attrs.get("class") for attrs, _ in page.of("div")][-1] == "highlight"  # python


def test_dollar_amounts_are_money_not_math(md):
    html = md.render("It costs $5 and $10 per month; $3.50 to $4.00. Math: $x^2$.\n")
    page = Elements(html)
    assert [text for _, text in page.of("annotation")] == ["x^2"]
    assert "$5 and $10" in html and "$3.50 to $4.00" in html


def test_fenced_code_is_highlighted_with_the_site_stylesheet_and_bare_urls_are_links(md):
    page = Elements(md.render("```css\n#header { color: red; }\n```\n\n```nolang\nx\n```\n\n"
                              "See https://example.org/x now.\n"))
    assert [attrs.get("class") for attrs, _ in page.of("div")] == ["highlight"]
    assert any(attrs.get("class") == "nn" for attrs, _ in page.of("span"))     # Pygments
    assert [attrs.get("class") for attrs, _ in page.of("code")] == ["language-nolang"]
    assert [attrs.get("href") for attrs, _ in page.of("a")] == ["https://example.org/x"]


def test_a_box_title_is_inline_markdown(md):
    page = Elements(md.render(":::{tip} Run `make lab` *now*\nBody.\n:::\n"))
    [(_, title)] = [(a, t) for a, t in page.of("p") if a.get("class") == "admonition-title"]
    assert title == "Run make lab now"
    assert [t for _, t in page.of("em")] == ["now"]


@pytest.mark.parametrize("text", ["[a](https://b.org) and <https://c.org>",
                                  '<a href="https://d.org">d</a> and ![i](http://e.org/i.png)',
                                  "See https://example.org/x and www.example.com too."])
def test_the_parser_without_linkify_gives_what_the_one_with_it_gives_when_no_url_is_bare(text):
    """The cheap parser is used only where linkify would change nothing (more in
    test_markdown_review.py)."""
    md = Markdown()
    html = md.render(text)
    md.begin_page()
    assert html == md._render(md._full(True), text)
