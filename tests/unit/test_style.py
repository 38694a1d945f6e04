"""A page's own `<style>` applies to its article only (render/style.py): every selector
prefixed with the scope, at-rules handled as browsers nest them, every other byte as written.
Styles are read back with an HTML parser and the CSS with tinycss2."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
import tinycss2

from pipeline.render.markdown import Markdown
from pipeline.render.style import scope_css, scope_styles
from pipeline.sources.frontmatter import read_source
from pipeline.model import Source
from tests.conftest import SEED

SCOPE = ".page-body"


class Styles(HTMLParser):
    """The text of each `<style>` element, and the HTML with those texts taken out."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.texts: list[str] = []
        self._inside = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._inside = True
            self.texts.append("")

    def handle_endtag(self, tag):
        self._inside = self._inside and tag != "style"

    def handle_data(self, data):
        if self._inside:
            self.texts[-1] += data


def preludes(css: str) -> list[str]:
    """The selector list of each top-level style rule, and of those in at-rule blocks."""
    found = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            found.append(tinycss2.serialize(rule.prelude).strip())
        elif rule.type == "at-rule" and rule.content is not None:
            inner = tinycss2.serialize(rule.content)
            found += [f"@{rule.lower_at_keyword} " + p for p in preludes(inner)]
    return found


def seed_style() -> str:
    text = SEED.read_text(encoding="utf-8")
    return text[text.index("<style>"):text.index("</style>") + len("</style>")]


def test_the_seed_pages_style_is_scoped_selector_by_selector_and_nothing_else_changes():
    style = seed_style()
    scoped = scope_styles(style, SCOPE)
    expected = style
    for selector in ("p", "h3", ".content", ".badge"):
        expected = expected.replace(f"\n    {selector} {{\n", f"\n    {SCOPE} {selector} {{\n")
    assert scoped == expected != style
    [css] = Styles(scoped).texts
    assert preludes(css) == [f"{SCOPE} p", f"{SCOPE} h3", f"{SCOPE} .content", f"{SCOPE} .badge"]
    # the nested @media rules inside .content and .badge are relative to them: as written
    assert css.count("@media (min-width: 1000px) {\n            flex-direction: row;\n        };") == 1


def test_the_seed_page_rendered_keeps_every_byte_outside_its_style():
    page = read_source(Source(SEED, "experiences/aws", "md"))
    html = Markdown().render(page.text[page.text.index("<style>"):])
    scoped = scope_styles(html, SCOPE)
    [before], [after] = Styles(html).texts, Styles(scoped).texts
    assert after != before and scoped.replace(after, before) == html
    assert preludes(after)[0] == f"{SCOPE} p"


@pytest.mark.parametrize("css, expected", [
    ("h1, h2 ,/*c*/h3 { a: b }", ".page-body h1, .page-body h2 ,/*c*/.page-body h3 { a: b }"),
    ("a:hover,\n  a:focus-visible > b::after {}",
     ".page-body a:hover,\n  .page-body a:focus-visible > b::after {}"),
    (":is(h1, h2) em, * {}", ".page-body :is(h1, h2) em, .page-body * {}"),
    ("/* x */ p /* y */ , /* z */ a { }", "/* x */ .page-body p /* y */ , /* z */ .page-body a { }"),
    ("p\r\n,\r\na\r\n{ }", ".page-body p\r\n,\r\n.page-body a\r\n{ }"),
])
def test_selector_lists_are_prefixed_one_by_one_keeping_the_authors_spacing(css, expected):
    assert scope_css(css, SCOPE) == expected


@pytest.mark.parametrize("css, expected", [
    (":root{--x:1}", ".page-body{--x:1}"),
    ("html { color: red } body > p { } html body h1 { }",
     ".page-body { color: red } .page-body > p { } .page-body h1 { }"),
    ("BODY.dark p {}", ".page-body.dark p {}"),
    ("body-text, htmlish {}", ".page-body body-text, .page-body htmlish {}"),
])
def test_the_document_roots_are_the_scope_itself(css, expected):
    assert scope_css(css, SCOPE) == expected


def test_rules_in_media_supports_layer_and_container_are_scoped_recursively():
    css = ("@media (min-width: 1px) {\n  p, a { c: d }\n  @supports (display: grid) { b {} }\n}\n"
           "@layer base { li {} } @layer a, b;\n@container card (width > 1px) { img {} }")
    assert preludes(scope_css(css, SCOPE)) == [
        "@media .page-body p, .page-body a", "@media @supports .page-body b",
        "@layer .page-body li", "@container .page-body img"]
    assert scope_css(css, SCOPE) == (
        "@media (min-width: 1px) {\n  .page-body p, .page-body a { c: d }\n"
        "  @supports (display: grid) { .page-body b {} }\n}\n"
        "@layer base { .page-body li {} } @layer a, b;\n"
        "@container card (width > 1px) { .page-body img {} }")


@pytest.mark.parametrize("css", [
    "@keyframes spin { from { transform: rotate(0) } to { transform: rotate(1turn) } }",
    "@font-face { font-family: X; src: url(x.woff2) }",
    "@import url(theme.css) screen;",
    '@charset "utf-8";',
    "@page :first { margin: 1cm }",
    "@property --x { syntax: '<length>'; inherits: false; initial-value: 0 }",
])
def test_other_at_rules_are_left_as_written(css):
    assert scope_css(css, SCOPE) == css
    assert scope_css(css + " p {}", SCOPE) == css + " .page-body p {}"


def test_nested_rules_stay_relative_to_their_scoped_parent():
    css = ".card { color: red; & p { x: y } > img { } @media (x) { color: blue } }"
    assert scope_css(css, SCOPE) == ".page-body " + css


def test_hostile_text_in_the_css_is_kept_and_never_taken_for_rules():
    css = ('<!--\np::after { content: "}" }\n/* } a { */\n'
           "a[title='{,}'], b\\{ { x: '\\'' }\n-->\n")
    scoped = scope_css(css, SCOPE)
    assert scoped == ('<!--\n.page-body p::after { content: "}" }\n/* } a { */\n'
                      ".page-body a[title='{,}'], .page-body b\\{ { x: '\\'' }\n-->\n")
    html = f"<div><style>{css}</style><p>x</p></div>"
    assert Styles(scope_styles(html, SCOPE)).texts == [scoped]


@pytest.mark.parametrize("css", [
    "p { } } a { }",                    # an unmatched brace at the level of rules
    'p { } "broken\nstring" a { }',     # a string broken by a new line
    "p { } ) a { }",
])
def test_css_the_parser_reports_an_error_in_is_left_unchanged(css):
    html = f"<style>{css}</style>"
    assert scope_styles(html, SCOPE) == html


@pytest.mark.parametrize("html", [
    "<!-- <style>p { color: red }</style> -->",
    "<pre><code>&lt;style&gt;p {}&lt;/style&gt;</code></pre><pre><style>p {}</style></pre>",
    "<p>Inline <code><style>p {}</style></code>.</p>",
    "<style scoped>p { color: red }</style>",
    '<style type="text/x-template">p {}</style>',
    "<script>var s = '<style>p {}</style>';</script>",
    "<p>No style at all.</p>",
])
def test_styles_in_comments_code_scripts_and_scoped_ones_are_not_touched(html):
    assert scope_styles(html, SCOPE) == html


def test_every_style_of_the_article_is_scoped_and_the_html_around_kept():
    html = ('<STYLE media="screen">p{}</STYLE>\n<p class="a">Text &amp; more</p>\n'
            "<style>\n  h2 { }\n</style><pre><style>q {}</style></pre>")
    scoped = scope_styles(html, SCOPE)
    assert Styles(scoped).texts == [".page-body p{}", "\n  .page-body h2 { }\n", "q {}"]
    assert scoped == html.replace(">p{}", ">.page-body p{}").replace("  h2", "  .page-body h2")


def test_scoping_twice_changes_nothing_and_a_rule_already_scoped_is_left_alone():
    css = seed_style() + "<style>:root{--x:1} html body a {} @media print { li {} }</style>"
    once = scope_styles(css, SCOPE)
    assert scope_styles(once, SCOPE) == once
    assert scope_css(".page-body p, .page-body, .page-body:hover a, .page-body-x {}", SCOPE) == (
        ".page-body p, .page-body, .page-body:hover a, .page-body .page-body-x {}")
