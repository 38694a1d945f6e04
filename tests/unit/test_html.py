"""The HTML reader: URL attributes found by a parser (never inside code or comments), values
replaced by their span with the rest of the text kept byte for byte, the first paragraph."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, strategies as st

from pipeline.render.html import (UrlAttr, attribute_value, first_paragraph_text,
                                  replace_values, srcset_urls, url_attributes)


def found(html: str) -> list[tuple[str, str, str]]:
    return [(a.tag, a.name, a.value) for a in url_attributes(html)]


def written(html: str) -> list[str]:
    return [html[a.start:a.end] for a in url_attributes(html)]


# --- finding -------------------------------------------------------------------------------

def test_each_url_attribute_with_its_tag_name_value_and_span():
    html = '<p><img alt="x" src="a.png"> <a href=\'b.md\'>b</a></p><video poster="c.jpg">'

    attrs = list(url_attributes(html))

    assert [(a.tag, a.name, a.value, a.quote) for a in attrs] == [
        ("img", "src", "a.png", '"'), ("a", "href", "b.md", "'"), ("video", "poster", "c.jpg", '"')]
    assert written(html) == ['"a.png"', "'b.md'", '"c.jpg"']


def test_uppercase_names_unquoted_values_and_spaces_around_the_equals_sign():
    html = '<IMG SRC=a.png ALT=x><A HREF = "b.md">b</A><img src = c.png/>'

    assert found(html) == [("img", "src", "a.png"), ("a", "href", "b.md"), ("img", "src", "c.png/")]
    assert written(html) == ["a.png", '"b.md"', "c.png/"]


def test_a_greater_than_sign_inside_a_quoted_value_does_not_end_the_tag():
    html = '<img alt="a > b" title=\'<x>\' src="a.png"><a href="q.md?x=>">q</a>'

    assert found(html) == [("img", "src", "a.png"), ("a", "href", "q.md?x=>")]


@pytest.mark.parametrize("entity", ["&amp;", "&#38;", "&#x26;", "&#X26;", "&AMP;"])
def test_entities_in_a_value_are_unescaped(entity):
    html = f'<img src="R{entity}D.png">'

    assert found(html) == [("img", "src", "R&D.png")]
    assert written(html) == [f'"R{entity}D.png"']


def test_an_attribute_without_a_value_and_other_attributes_are_not_reported():
    assert found('<img src><a data-src="x.png" srcdoc="y" hreflang="en">z</a>') == []


def test_srcset_and_xlink_href_are_reported():
    html = '<img srcset="a.png 1x, b.png 2x"><svg><image xlink:href="c.png"/></svg>'

    assert found(html) == [("img", "srcset", "a.png 1x, b.png 2x"), ("image", "xlink:href", "c.png")]


def test_text_without_any_url_attribute_gives_nothing():
    assert found("<p>src and href, but no attribute</p>") == []


# --- what is never read as links -------------------------------------------------------------

def test_nothing_inside_pre_even_nested_in_divs_and_real_tags():
    html = ('<div class="nb-output"><div><pre><img src="in-pre.png"><span>'
            '<a href="in-pre.md">x</a></span></pre></div></div><img src="after.png">')

    assert found(html) == [("img", "src", "after.png")]


def test_highlighted_code_is_escaped_text_and_gives_nothing():
    html = ('<div class="highlight"><pre><span></span><span class="s1">'
            "'&lt;img src=\"missing.png\"&gt;'</span>\n</pre></div>")

    assert found(html) == []


def test_nothing_inside_inline_code_or_code_in_pre():
    html = ('<p>Use <code><img src="a.png"></code> or <code>src="b.png"</code>.</p>'
            '<pre><code><a href="c.md">c</a></code><img src="still-pre.png"></pre>'
            '<img src="out.png">')

    assert found(html) == [("img", "src", "out.png")]


def test_nested_literal_elements_close_one_at_a_time():
    html = ('<pre><pre><img src="a.png"></pre><img src="b.png"></pre><img src="c.png">'
            '</code></pre><img src="d.png">')      # stray end tags close nothing

    assert found(html) == [("img", "src", "c.png"), ("img", "src", "d.png")]


def test_nothing_inside_comments():
    html = ('<!-- <img src="a.png"> --><!----><!-- x -- <a href="b.md"> -->'
            '<img src="c.png"><!--<img src="d.png">-->')

    assert found(html) == [("img", "src", "c.png")]


def test_a_comment_never_closed_runs_to_the_end():
    html = '<img src="a.png"><!-- open <b>x</b> <img src="z.png">'

    assert found(html) == [("img", "src", "a.png")]


def test_nothing_inside_script_or_style_text_but_their_own_src_is_read():
    html = ('<script src="s.js">var t = "</div><img src=\'x.png\'>"; if (a<b) {}</script>'
            '<style>a[href="y.md"] { background: url(z.png) }</style><img src="after.png">')

    assert found(html) == [("script", "src", "s.js"), ("img", "src", "after.png")]


def test_nothing_inside_cdata_sections_or_declarations():
    html = '<!DOCTYPE html><![CDATA[<img src="a.png">]]><img src="b.png">'

    assert found(html) == [("img", "src", "b.png")]


def test_spans_are_right_after_multibyte_text_crlf_and_comments():
    html = '<p>😎 été\r\n</p><!-- \n --><script>\n</script>\r\n  <img alt="ü" src="a.png">'

    (attr,) = url_attributes(html)

    assert html[attr.start:attr.end] == '"a.png"'


# --- replacing -----------------------------------------------------------------------------

def test_only_the_changed_values_are_replaced_the_rest_stays_byte_for_byte():
    html = ('<!-- keep --><IMG  SRC = "a.png"  ALT=x><a href=\'R&#38;D.md\'>R&amp;D</a>'
            '<pre><img src="a.png"></pre>')
    image, link = url_attributes(html)

    out = replace_values(html, [(image, "../a.png"), (link, link.value)])

    assert out == ('<!-- keep --><IMG  SRC = "../a.png"  ALT=x><a href=\'R&#38;D.md\'>R&amp;D</a>'
                   '<pre><img src="a.png"></pre>')


def test_a_replaced_value_is_escaped_for_its_quotes():
    html = '<img src="a.png"><img src=\'b.png\'><img src=c.png>'
    a, b, c = url_attributes(html)

    out = replace_values(html, [(a, 'x&y".png'), (b, "it's.png"), (c, "d?a=1&b=2")])

    assert out == ('<img src="x&amp;y&quot;.png"><img src=\'it&#39;s.png\'>'
                   '<img src="d?a=1&amp;b=2">')
    assert found(out) == [("img", "src", 'x&y".png'), ("img", "src", "it's.png"),
                          ("img", "src", "d?a=1&b=2")]


def test_an_unquoted_value_stays_unquoted_when_it_can():
    html = "<img src=a.png>"
    (attr,) = url_attributes(html)

    assert replace_values(html, [(attr, "../a.png")]) == "<img src=../a.png>"
    assert replace_values(html, [(attr, "my file.png")]) == '<img src="my file.png">'


def test_changes_may_come_in_any_order():
    html = '<img src="a"><img src="b">'
    a, b = url_attributes(html)

    assert replace_values(html, [(b, "B"), (a, "A")]) == '<img src="A"><img src="B">'


def test_no_changes_returns_the_same_text():
    html = '<img src="R&amp;D.png">'

    assert replace_values(html, []) is html


values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(values, st.sampled_from(['"', "'", ""]))
def test_any_value_written_back_reads_back_the_same(value, quote):
    html = f"<img alt=x src={attribute_value(value, quote)} title=t>"

    assert found(html) == [("img", "src", value)]
    assert _parsed_attrs(html)["src"] == value          # as the standard parser reads it


tags = st.lists(st.tuples(st.sampled_from(["src", "HREF", "alt", "data-x", "poster"]),
                          st.sampled_from(["=", " = ", "=="]),
                          st.text(st.sampled_from("ab &;#<>/\"'=x"), max_size=8),
                          st.sampled_from(['"', "'", ""])), max_size=4)


@given(tags)
def test_the_attributes_found_are_those_the_standard_parser_reads(attributes):
    parts = []
    for name, equals, value, quote in attributes:
        if quote:
            value = value.replace(quote, "")
        else:
            value = "".join(c for c in value if c not in " \"'>/") or "v"
        parts.append(f"{name}{equals}{quote}{value}{quote}")
    html = "<img " + " ".join(parts) + ">"

    expected = [(name, value) for name, value in _parsed_attr_list(html)
                if name in ("src", "href", "poster") and value is not None]
    assert [(a.name, a.value) for a in url_attributes(html)] == expected


def _parsed_attr_list(html: str) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.extend(attrs)

    Reader().feed(html)
    return seen


def _parsed_attrs(html: str) -> dict[str, str | None]:
    return dict(_parsed_attr_list(html))


# --- srcset --------------------------------------------------------------------------------

@pytest.mark.parametrize("srcset, urls", [
    ("a.png", ["a.png"]),
    ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
    ("  a.png   480w ,b.png 800w", ["a.png", "b.png"]),
    ("a,b.png 1x,c.png,, d.png", ["a,b.png", "c.png", "d.png"]),
    ("c.png,d.png", ["c.png,d.png"]),           # commas end a URL only when trailing
    ("a.png (min-width: 1px, x) 2x, b.png", ["a.png", "b.png"]),
    ("", []),
])
def test_srcset_urls(srcset, urls):
    assert [srcset[s:e] for s, e in srcset_urls(srcset)] == urls


# --- the first paragraph -------------------------------------------------------------------

@pytest.mark.parametrize("html, text", [
    ("<h1>T</h1><p>First   one.\n  Two</p><p>Second</p>", "First one. Two"),
    ('<p class="lead">A &amp; B &#38; C &lt;tag&gt;</p>', "A & B & C <tag>"),
    ("<p>Use <code>x = 1</code> and <a href='y'>this <em>link</em></a>.</p>", "Use x = 1 and this link."),
    ("<!-- <p>not this</p> --><style>p::before{content:'<p>no</p>'}</style><p>This</p>", "This"),
    ("<p>a<br>b<br/>c</p>", "a b c"),
    ("<p>Before<div>block</div></p>", "Before"),
    ("<p>Unclosed text", "Unclosed text"),
    ("<div>No paragraph</div>", ""),
    ("", ""),
    ("<p>a <script>var p = '<p>';</script>b</p>", "a b"),
    ("<P>Upper</P>", "Upper"),
])
def test_first_paragraph_text(html, text):
    assert first_paragraph_text(html) == text


def test_url_attr_repr_is_short():
    assert repr(UrlAttr("img", "src", "a.png", 9, 16, '"')) == "UrlAttr(<img src='a.png'> at 9:16)"
