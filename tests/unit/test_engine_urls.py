"""A prose page's HTML, read mostly without the parser: the Markdown engine marks where the
author's own HTML is (`Markdown.render_marked`); the engine's part has its URL attributes
found by position, each part of the author's is parsed alone (or, when one leaves an
element of code, a comment or a tag open, the whole text is). Either way the attributes
must be exactly what the parser finds in the whole text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.render.html import url_attributes
from pipeline.render.markdown import RAW_OPEN, Markdown
from tests.conftest import CORPORA, SEED, needs_corpora

ENGINE_ONLY = [
    "[a](b.md) and ![c](d.png) and <https://example.org/x?a=1&b=2>",
    'text that says href="x.md" and src="y.png" in prose, and `<a href="z.md">` in code',
    '```html\n<a href="in-code.md">x</a>\n<img src="in-code.png">\n```\n\n[after](after.md)',
    '    <a href="indented-code.md">\n\n[after](after.md)',
    '[t](u.md "a title with > and \\" and <")  ![alt with > and "](i.png "t > \\"")',
    "[^1] and [link](l.md)\n\n[^1]: a note with [a link](n.md)",
    "# Heading [with a link](h.md)\n\n## Another\n\n### Third `code` h3",
    "| a | b |\n|---|---|\n| [x](x.md) | ![y](y.png) |",
    ":::{note} A title\nA box with [a link](box.md)\n:::\n\n```{tip}\nTip [t](tip.md)\n```",
    "```{unknown-directive} arg\nhref=\"in-directive.md\" [x](y.md)\n```",
    "$x < y$ and $$\\frac{a}{b}$$ and [m](m.md)",
    "- item [a](item.md)\n- two\n\nterm\n: definition [d](def.md)",
    "www.example.com and mail@example.org and https://example.org/a_(b)",
    "[ref]\n\n[ref]: <spaced url.md> 'title'",
    "[a&amp;b](a&b.md?x=1&amp;y=2) ![é](ü%20x.png)",
    "*[emph link](e.md)* **![strong img](s.png)** ~~[del](d.md)~~",
    "[![image in link](in.png)](out.md)",
    "`code with [not a link](x.md)` then [yes](yes.md)",
]
WITH_HTML = [
    '<div class="x">\n\n[a](a.md)\n\n</div>',
    'inline <img src="x.png"> html and [a](a.md)',
    "<!-- a comment [a](in-comment.md) -->\n\n[a](a.md)",
    "<style>p { background: url(x.png) }</style>\n\n[after](after.md)",
    'a <span title="x > y">span</span> [l](l.md)',
    "- [ ] a task list's box is HTML the plugin adds [t](t.md)",
    "<code>[inside code](in.md)</code> and [outside](out.md)",
    "<pre>\n[not a link](no.md)\n</pre>\n\n[after](after.md)",
    '<script>var s = "<a href=x>";</script>\n\n[after](after.md)',
    '<a href="raw.md">raw [md](md.md)</a>',
    '<div\nclass="open tag"\n\n[after](after.md)',
    "<!-- a comment never closed\n\n[after](after.md)",
    "text &amp; <b>bold</b> [x](x.md) &",
    '<img src="a.png" srcset="a.png 1x, b.png 2x"> <video poster="p.jpg"></video>',
    # pieces the shortcut takes as plain (no URL, nothing left open), and their look-alikes
    '<div class="a > b" id=\'q\' hidden>\n\n[in](in.md)\n\n</div>',
    "x <code class=\"c\">[not](not.md)</code> <CODE>[no](no.md)</CODE> [yes](y.md)",
    "x <code-block>[a](a.md)</code-block> <prefix>[b](b.md)</prefix>",
    "x <title>[t](t.md)</title> <textarea>[a](a.md)</textarea> [b](b.md)",
    "x <span data-x=\"href=y\">s</span> <b>AT&T [l](l.md)</b>",
    "x <span>[s](s.md)</span> <i title=\"a\"b\">[u](u.md)</i>",
    "<div id=x\n\n[open](open.md)\n\n<p>",
    "<style>\np { color: red }\n</style>\n\n[after](a.md) <style>x</STYLE > <b>[b](b.md)</b>",
    "<style>x</style\n\n[in style](s.md)\n\n</style>\n\n[after](after.md)",
    '<div\n"<code>">\n\n[x](x.md)\n\n</code> <i a="<code>">[y](y.md)</i> <div/>[z](z.md)',
    "<div><![i](i.png)`href=\"c.md\"`",                    # found by CI: `<![` is a comment
    "<![CDATA[ [c](c.md) ]]> <![if x]>[i](i.md)<![endif]> <![ x",
    f"a mark {RAW_OPEN} in the text <b>x</b> [x](x.md)",
]


def both(text: str) -> tuple[list, list, tuple | None]:
    md = Markdown()
    md.begin_page()
    html, spans = md.render_marked(text)
    assert html == Markdown().render(text)          # the marks are gone, nothing else
    return ([(a, a.attributes) for a in url_attributes(html)],
            [(a, a.attributes) for a in url_attributes(html, spans)], spans)


@pytest.mark.parametrize("text", ENGINE_ONLY)
def test_the_engine_s_html_read_by_position_gives_what_the_parser_gives(text):
    parsed, read, spans = both(text)
    assert spans == ()
    assert read == parsed


@pytest.mark.parametrize("text", WITH_HTML)
def test_with_the_author_s_html_the_attributes_are_the_parser_s(text):
    parsed, read, spans = both(text)
    assert spans != ()
    assert read == parsed


def test_a_text_holding_the_marks_is_parsed_whole():
    assert both(WITH_HTML[-1])[2] is None


PIECES = st.sampled_from([
    "[a](a.md)", "![i](i.png)", "`x < y`", '`href="c.md"`', 'href="t.md"', "<", ">", "&",
    '"', "*e*", "**s**", "\n\n", "\n", "# h\n", "```\n<a href=\"f.md\">\n```\n", "[^n]",
    "\n\n[^n]: note [l](l.md)\n", "$a<b$", "https://example.org/x", "[u](u.md 'q\">')",
    "- item\n", "> quote [q](q.md)\n", "~~d~~", "    code [x](x.md)\n", "\\<a href=\"e.md\"\\>",
    "<div>", "</div>", "<code>", "</code>", "<pre>", "</pre>", "<!--", "-->", "<b>", "</b>",
    '<a href="r.md">', "</a>", '<img src="r.png">', "<style>", "</style>", "<script>",
    "</script>", "</ style>", "</ script>", "<div\n", 'title="x>"', "<br/>", "&amp;", "&#",
    "<![", "<![CDATA[", "]]>", "<![if x]>", "<!x",
])


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_any_mix_of_markdown_and_html_reads_the_same_both_ways(text):
    parsed, read, _ = both(text)
    assert read == parsed


def test_the_first_page_reads_the_same_both_ways():
    parsed, read, spans = both(SEED.read_text(encoding="utf-8"))
    assert spans and read == parsed


@needs_corpora
def test_every_page_of_the_real_sites_reads_the_same_both_ways():
    compared = 0
    for path in sorted(CORPORA.rglob("*.md")):
        parsed, read, _ = both(path.read_text(encoding="utf-8", errors="replace"))
        assert read == parsed, path
        compared += 1
    assert compared >= 20


@pytest.mark.parametrize("text", [
    '   <div class="x">\n\n[a](a.md) <img src="b.png">\n\n</div>\n\n\n',
    '\n\n<a href="first.md">first</a> then [md](md.md)\n',
    "[only markdown](m.md)\n\n\n", "",
])
def test_a_prose_page_s_spans_fit_its_body_as_exported(text):
    from pipeline.render.export import Exporter

    exported = Exporter().export_prose(text)
    body, spans = exported.body, exported.raw_spans
    assert spans is not None and all(0 <= a <= b <= len(body) for a, b in spans)
    assert [(a, a.attributes) for a in url_attributes(body, spans)] == \
        [(a, a.attributes) for a in url_attributes(body)]
