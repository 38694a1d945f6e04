"""The first paragraph's text and the leading heading, read without the parser up to where it
starts when what comes before is plain (`_BEFORE_P`, `_BEFORE_H1`): always what the parser
finds in the whole text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.render import html as H
from tests.conftest import SEED


def fed(reader, text: str):
    """The parser alone, on the whole text: the way both were read before the shortcut."""
    try:
        reader.feed(text)
        reader.close()
    except H._Done:
        pass
    return H._HTML_SPACE.sub(" ", "".join(reader.text)).strip(" "), reader


def parsed_paragraph(text: str) -> str:
    return fed(H._FirstParagraph(), text)[0]


def parsed_heading(text: str) -> str | None:
    found, reader = fed(H._LeadingHeading(), text)
    return found if reader.found else None


PIECES = st.sampled_from([
    "<p>", "<p class='a'>", "</p>", "<P>", "<p/>", "para text", " ", "\n", "\u00a0", "&amp;",
    "&#32;", "<div>", "</div>", '<div class="x>y">', "<section>", "<main id=m>", "<h1>",
    "</h1>", "<H1 id='t'>", "<h1/>", "<h2>", "<h1x>", "<!-- c -->", "<!-- <p>in</p> -->",
    "<!--", "-->", "<!-->", "<!--->", "<!-- a -- b -->", "<style>p{}</style>", "<style>",
    "</style>", "<STYLE media=x>h1{}</STYLE >", "<script>var p='<p>'</script>", "<script>",
    "<script><!--</script>", "</script>", "<textarea><p>t</textarea>", "<title>x</title>",
    "<b>", "</b>", "<br>", "<img src=x>", "<pre>", "<annotation>TeX</annotation>", "<", ">",
    "< 5", "<!DOCTYPE html>", "<?php x ?>", '"', "'", "<div title='<p>'>", "<a href=\"x\">",
    "<div\n", "x</p", "<math><annotation>a</annotation></math>", "<p class='a'/>",
    "<p title=\"x/y\">", "</p >", "</P>", "a\r\nb", "\t", "</ script>", "</ style>",
    "</ STYLE >", "<![", "<![CDATA[x]]>", "<![if x]>", "<![i](i.png)", "]]>", "<!x>",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_any_mix_reads_as_the_parser_reads_it(text):
    assert H.first_paragraph_text(text) == parsed_paragraph(text)
    assert H.leading_heading(text) == parsed_heading(text)


@pytest.mark.parametrize("text", [
    '<div\n"<p><p>\u00a0<div class="x>y"><p>',    # a quote that opens no value: not a tag's
    "<div a=\"<p>\">text</div><p>b</p>", "<p a='>'>x</p>", "<div/><h1/>t", "<p\n>a</p>",
    "<br/><p>x</p>", "<p/>a</p><p>b</p>", "<div id=x=y><p>c</p>",
])
def test_tricky_starts_read_as_the_parser_reads_them(text):
    assert H.first_paragraph_text(text) == parsed_paragraph(text)
    assert H.leading_heading(text) == parsed_heading(text)


def test_the_common_page_starts_read_past_without_the_parser():
    page = ('<style>\np { padding: 0 }\n</style>\n<div class="content">\n<div>\n'
            '<h3 id="s">Section</h3>\n<p>First <em>words</em> here.</p>')
    assert H._BEFORE_P.match(page).end() == page.index("<p>")
    assert H.first_paragraph_text(page) == "First words here."
    assert H.leading_heading(page) is None
    assert H.leading_heading('<div>\n<h1 id="t">The <b>title</b></h1>') == "The title"


def test_the_first_page_reads_the_same_both_ways():
    from pipeline.render.markdown import Markdown

    body = Markdown().render(SEED.read_text(encoding="utf-8").split("---", 2)[2])
    assert H.first_paragraph_text(body) == parsed_paragraph(body)
    assert H.leading_heading(body) == parsed_heading(body)
