"""Review of fedc681/aadfc3b (a prose page's links found mostly without the HTML parser).

The contract: for any text, `url_attributes(html, spans)` (engine part by position, the
author's spans parsed alone) gives exactly what `url_attributes(html)` (the parser over the
whole text) gives, each UrlAttr's `.attributes` included, and `render_marked` returns
`render`'s HTML with no mark left in it and none taken out. Where the old way raised, the new
must raise; where it did not, the new must not. Tests named `test_divergence_*` reproduce
what the review found (they fail until it is fixed); the others are regression guards.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from pipeline.render.export import Exporter
from pipeline.render.html import url_attributes
from pipeline.render.markdown import RAW_CLOSE, RAW_OPEN, Markdown
from tests.conftest import CORPORA, PNG_1PX, REPO, SiteMaker

OPEN_MARK_MADE = [   # the engine writes U+E000 though the text holds no mark
    "x &#xE000; [a](b.md)",                                   # a numeric reference in text
    "&#57344;",
    '[t](u.md "&#xE000;") <b>x</b> [a](a.md)',                # in a link title
    "![&#xE000;](i.png) <b>b</b> [a](a.md)",                  # in an image's alt
    "$\\text{&#xE000;}$ <b>x</b> [a](a.md)",                  # math: render/math.py _decoded
    "<https://e.org/%EE%80%80> [a](a.md)",                    # an autolink's text, decoded
    "https://e.org/%EE%80%80 and [a](a.md)",                  # linkify's text, decoded
]


def _outcome(call):
    try:
        return [(a, a.attributes) for a in call()]
    except Exception as exc:                # noqa: BLE001 - the old way's error is the contract
        return ("raised", type(exc).__name__, str(exc))


def _both_rendered(text: str):
    """(html as `render` writes it, as `render_marked` does, spans, old way, new way)."""
    md = Markdown()
    md.begin_page()
    html, spans = md.render_marked(text)
    plain = Markdown()
    plain.begin_page()
    ref = plain.render(text)
    old = _outcome(lambda: url_attributes(ref))
    new = _outcome(lambda: url_attributes(html, spans))
    return ref, html, spans, old, new


# -- divergences found -----------------------------------------------------------------------

@pytest.mark.parametrize("text", OPEN_MARK_MADE)
def test_divergence_an_engine_made_private_use_char_is_taken_for_a_mark(text):
    """markdown-it decodes `&#xE000;` (and linkify/autolink text decodes `%EE%80%80`) into
    U+E000 itself; render_marked splits on it as if it opened the author's HTML: the
    character is dropped from the page, the spans are wrong, offsets shift by one and a tag's
    attribute names are read across the fake span (`a.md"` among them)."""
    ref, html, spans, old, new = _both_rendered(text)
    assert html == ref
    assert new == old


def test_divergence_a_marked_section_in_a_page_without_links_raises():
    """The whole text has no `src=`/`href=`, so the old way never parsed it ([]); the new
    one parses each raw span that holds a `<`, and the stdlib parser raises on `<![x`
    (_markupbase.parse_marked_section): the page fails to build."""
    for text in ("<div><![x]></div>", "<div><![ ]></div>", "text <span><![if]></span>"):
        _, _, spans, old, new = _both_rendered(text)
        assert spans, text
        assert new == old, text


@pytest.mark.parametrize("text", ["<?php x ?>   ", "<textarea>\n\n\n", "<pre>\n\n\n"])
def test_divergence_a_last_span_ends_past_the_stripped_body(text):
    """The exporter strips the body (`_exported`) but clamps the spans only at their start:
    trailing whitespace inside the last raw span leaves the span past the body's end (the
    invariant test_engine_urls checks); the links still agree."""
    exported = Exporter().export_prose(text)
    body, spans = exported.body, exported.raw_spans
    assert _outcome(lambda: url_attributes(body, spans)) == _outcome(lambda: url_attributes(body))
    assert spans is not None and all(0 <= a <= b <= len(body) for a, b in spans), spans


# -- regression guards -----------------------------------------------------------------------

TARGETED = [
    "<![CDATA[ <a href=cd.md> ]]> [a](a.md)", "a <![CDATA[x]]> <img src=c.png>",
    "<div>\n<![CDATA[\n<a href=x.md>\n</div>\n\n[after](after.md)",
    "<!DOCTYPE html>\n<a href=d.md>", "<?php echo '<a href=\"p.md\">' ?>\n\n[x](x.md)",
    "<!X y <a href=b.md>>\n\n[x](x.md)", "<!-->[a](a.md)", "<!--->[a](a.md)",
    "<!-- -- --> <a href=c.md>", "<textarea>\n<a href=t.md>\n</textarea>\n\n[x](x.md)",
    "<title><a href=t.md></title> [x](x.md)", "<A HREF='UP.md'>u</A> <IMG SRC=UP.png>",
    "<a\nhref=\"span\nlines.md\"\n>x</a> [y](y.md)", "<a href=\"unclosed\n\n[x](x.md)",
    "<a title='\"' href=q.md>q</a> [x](x.md)", "<img src=a.png src=b.png> [x](x.md)",
    '<svg><a xlink:href="x.svg"/></svg> <video poster=p.jpg src=v.mp4></video> [x](x.md)',
    '<img srcset="a.png 1x, b.png 2x"> [x](x.md)', "<code/> [x](x.md)", "<pre/> [x](x.md)",
    "<CODE>[x](x.md)</CODE> [y](y.md)", "<code>a</code> [x](x.md) <pre>b</pre>",
    "- <pre>\n- [x](x.md)\n\n</pre>", "> <div>\n> [x](x.md)\n\n<img src=q.png>",
    "<div>\n- [x](x.md)\n</div>", "1. <b>a</b>\n   <a href=l.md>\n\n   [m](m.md)",
    "x &#; <b>y</b> &#x; [a](a.md) &#123 <a href=n.md>", "&#xZZ; <i>i</i> ; [a](a.md)",
    "&copy <b>b</b> &amp [a](a.md)", "<b>&</b> [a](a.md) <b>&#</b> [c](c.md)",
    "a\r\n<b>b</b>\r\n[c](c.md)\r\n<img src=\"d.png\">\r\n", "\ufeff<div><a href=b.md></div>",
    "<b>\x00</b> [a](a.md\x00) <img src=\"n\x00.png\">", "\u2028<i>x</i>\u2028[a](a.md)",
    "$x < y$ <b>b</b> $a \\text{ href=\"m.md\"}$ [c](c.md)", "$\\href{h.md}{x}$ <b>b</b>",
    "$\\text{<a href=\"m.md\">}$ <i>x</i> [c](c.md)", "$$\n<x & y\n$$\n\n<b>b</b> [c](c.md)",
    "[<b>x</b>](y.md) ![<i>alt</i> \"q\"](z.png \"t <b>\")",
    "[t](u.md \"a\nb > c\") <b>x</b>", "[r]\n\n[r]: <r v.md> \"R <b> t\"\n\n<i>i</i>",
    "## <b>h</b> [x](x.md)\n\n## <b>h</b>", "# `<a href=\"c.md\">` <i>i</i>",
    "| <b>a</b> | b |\n|---|---|\n| [x](x.md) | <img src=c.png> |",
    ":::{note} T <i>x</i>\n<a href=\"n.md\">n</a>\n:::\n",
    "```{warning}\n<img src=w.png>\n[w](w.md)\n```\n", "```{unknown} x\n<a href=u.md>\n```\n<b>b</b>",
    "::: {.callout-tip}\n## <b>T</b>\n[c](c.md)\n:::\n", "- [ ] task <i>i</i> [t](t.md)\n- [x] done",
    "term <b>t</b>\n: def <a href=d.md>d</a> [e](e.md)", "[^n] <b>b</b>\n\n[^n]: <a href=n.md>n</a>",
    "www.example.com/<b>x</b> a@b.org <https://e.org/a\"b> [c](c.md)",
    "<script>\n<a href=s.md>\n</script>\n\n<style>a{}</style> [x](x.md)",
    "<div title=\"a > b\">\n\n[x](x.md)\n\n</div>", "<x-y a=b href=xy.md>z</x-y> [a](a.md)",
    "`` `<a href=\"k.md\">` `` <b>b</b> [c](c.md)", "<b" + "x" * 5000 + ">" + "[a](a.md) " * 50,
]


@pytest.mark.parametrize("text", TARGETED)
def test_targeted_constructs_read_the_same_both_ways(text):
    ref, html, spans, old, new = _both_rendered(text)
    assert html == ref
    assert new == old


PIECES = [
    "[a](a.md)", "![i](i.png)", "`x < y`", "``a`b``", '`href="c.md"`', 'href="t.md"',
    ' src="s.png"', "<", ">", "&", '"', "'", "*e*", "\n\n", "\n", "\r\n", "# h\n",
    "## <b>h</b> [x](x.md)\n", '```\n<a href="f.md">\n```\n', "~~~html\n<img src=q.png>\n~~~\n",
    "[^n]", "\n\n[^n]: note <b>b</b> [l](l.md)\n", "$a<b$", '$\\text{<a href="m.md">}$',
    "$$\n<x\n$$\n", "$\\href{h.md}{x}$", 'https://example.org/x"y<z>', "www.example.com/<a>",
    "a@b.org", '<https://e.org/a"b>', "[u](u.md 'q\">')", '[u](<u v.md> "t\nt")', "[r]",
    '\n\n[r]: r.md "R <t>"\n', "- item\n", "- [ ] task\n", "- [x] done <i>i</i>\n", "1. one\n",
    "> quote [q](q.md)\n", "~~d~~", "    code [x](x.md)\n", '\\<a href="e.md"\\>',
    "term\n: def <b>d</b>\n", "| a | <b>b</b> |\n|---|---|\n| [x](x.md) | <img src=c.png> |\n",
    ':::{note} T <i>x</i>\n<a href="n.md">n</a>\n:::\n', "```{warning}\n<img src=w.png>\n```\n",
    "```{unknown} x\n<a href=u.md>\n```\n", "::: {.callout-tip}\n## T\n[c](c.md)\n:::\n",
    "<div>", "</div>", "<DIV>", "<code>", "</code>", "<CODE>", "<pre>", "</pre>", "<!--", "-->",
    "<!-- c -->", "<b>", "</b>", '<a href="r.md">', "<A HREF='R.md'>", "<a href=bare.md>",
    "</a>", '<img src="r.png">', '<img\nsrc="nl.png">', "<IMG SRC=u.png>", "<style>",
    "</style>", "<script>", "</script>", "<textarea>", "</textarea>", "<title>", "<div\n",
    'title="x>"', "<br/>", "<code/>", "<pre/>", "&amp;", "&#", "&#x", "&#xZZ;", "&copy", "&#123",
    "&#;", "&#39;", "&#0;", "&#xD800;", "<?php x ?>", "<?", "<!DOCTYPE html>", "<!X y>",
    "<![CDATA[", "]]>", "<![CDATA[ <a href=cd.md> ]]>", '<svg><a xlink:href="x.svg"/></svg>',
    '<img srcset="a.png 1x, b.png 2x">', '<video poster="p.jpg">', "<a href='x.md' href='y.md'>",
    '<a href="un', '<a\nhref="span\nlines.md">', "</", "<x-y a=b>", "\x00", "\ufeff", "\t",
    "   ", "\\", "<b", "<a title='\"' href=q.md>", "<p>", "</p>", "<!>", "<!--->", "é", "\u2028",
]
NOISE = st.text(alphabet=st.sampled_from(list("<>&\"'=/ab \n`*[]()!#-:$\\{}")), max_size=8)
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES), NOISE), max_size=16).map("".join)
WHITE = st.lists(st.sampled_from(["", " ", "   ", "\n", "\n\n", "\t", "\u3000", "\r\n"]),
                 max_size=3).map("".join)
SOME = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _known(ref: str, old, new) -> bool:
    """The divergences above, left out of the generated texts (they have their own tests)."""
    return RAW_OPEN in ref or (old == [] and new[:2] == ("raised", "AssertionError"))


@SOME
@given(TEXTS)
def test_generated_mixes_read_the_same_both_ways(text):
    ref, html, spans, old, new = _both_rendered(text)
    assume(not _known(ref, old, new))
    assert html == ref
    assert spans is None or all(0 <= a <= b <= len(html) for a, b in spans)
    assert new == old


@SOME
@given(st.tuples(WHITE, TEXTS, WHITE).map("".join))
def test_generated_pages_as_exported_read_the_same_both_ways(text):
    exported = Exporter().export_prose(text)
    body, spans = exported.body, exported.raw_spans
    old = _outcome(lambda: url_attributes(body))
    new = _outcome(lambda: url_attributes(body, spans))
    assume(not _known(Markdown().render(text), old, new))
    assert RAW_CLOSE not in body or RAW_CLOSE in Markdown().render(text)
    assert spans is None or all(0 <= a <= b for a, b in spans)
    assert new == old


def _pages() -> list[Path]:
    roots = [REPO / "content"] + ([CORPORA] if CORPORA.is_dir() else [])
    return sorted(p for root in roots for p in root.rglob("*.md"))


def test_every_real_page_as_exported_with_crlf_and_bom_reads_the_same_both_ways():
    exporter, compared = Exporter(), 0
    for path in _pages():
        text = path.read_text(encoding="utf-8", errors="replace")
        for variant in (text, text.replace("\n", "\r\n"), "\ufeff" + text, "   " + text):
            exported = exporter.export_prose(variant)
            body, spans = exported.body, exported.raw_spans
            assert _outcome(lambda: url_attributes(body, spans)) == \
                _outcome(lambda: url_attributes(body)), path
            compared += 1
    assert compared >= 4


# -- whole builds: the new way against the old, output folders byte for byte ------------------

PAGES = {
    "index.md": '---\ntitle: Home\n---\nSee [the post](blog/post.md) and ![pic](img/a.png).\n\n'
                '<div class="x">\n<a href="blog/post.md">raw post</a> '
                '<img src="img/a.png" srcset="img/a.png 1x, img/b.png 2x">\n</div>\n\n'
                "<p><A HREF='blog/other.md'>up</A> <IMG SRC=img/b.png></p>\n",
    "blog/post.md": "---\ntitle: Post\ndate: 2024-01-02\n---\nBack [home](../index.md), "
                    '<a href="other.md">other</a> inline, ![b](../img/b.png "t").\n\n'
                    '<video poster="../img/a.png"></video>\n\n```html\n<a href="code.md">\n```\n\n'
                    '<!-- <a href="nope.md"> -->\n\n<code>[in code](nope.md)</code> [x](other.md)\n',
    "blog/other.md": "---\ntitle: Other\ndate: 2024-01-03\n---\n:::{note} Box\n"
                     '<img src="../img/a.png"> and [p](post.md)\n:::\n\n'
                     "| a | b |\n|---|---|\n| [p](post.md) | <a href='post.md'>q</a> |\n\n"
                     "- [ ] task [t](post.md)\n\nterm\n: def <a href=post.md>d</a>\n",
}
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def _site(root: Path, extra: dict[str, str]) -> SiteMaker:
    site = SiteMaker(root)
    site.settings('[tool.nbpress]\ntitle = "T"\nbase_url = "https://ex.org/"\n')
    for rel, text in {**PAGES, **extra}.items():
        site.page(rel, text)
    site.file("content/img/a.png", PNG_1PX)
    site.file("content/img/b.png", PNG_1PX)
    return site


def _files(root: Path) -> dict[str, bytes]:
    files = {p.relative_to(root).as_posix(): p.read_bytes()
             for p in sorted(root.rglob("*")) if p.is_file()}
    if ".nbpress.json" in files:                    # its build_id is new each build
        state = json.loads(files[".nbpress.json"])
        state.pop("build_id", None)
        files[".nbpress.json"] = json.dumps(state, sort_keys=True).encode()
    return files


def _built_both_ways(tmp_path: Path, monkeypatch, extra: dict[str, str]):
    new_site = _site(tmp_path / "new", extra)
    new_report = new_site.build(now=NOW, jobs=1)
    with monkeypatch.context() as patch:            # the old way: render, then the parser
        patch.setattr("pipeline.render.html._marked_urls", lambda html, spans: None)
        patch.setattr(Markdown, "render_marked", lambda self, text: (self.render(text), None))
        old_site = _site(tmp_path / "old", extra)
        old_report = old_site.build(now=NOW, jobs=1)
    return (str(new_report), _files(new_site.root / "output")), \
        (str(old_report), _files(old_site.root / "output"))


def test_a_site_builds_byte_for_byte_as_with_the_parser(tmp_path, monkeypatch):
    (new_report, new), (old_report, old) = _built_both_ways(tmp_path, monkeypatch, {})
    assert "failed=0" in new_report and new_report == old_report
    assert new.keys() == old.keys()
    assert [rel for rel in new if new[rel] != old[rel]] == []
    assert b'href="../post/"' in new["blog/other/index.html"]      # links were rewritten


@pytest.mark.parametrize("extra", [
    {"blog/mark.md": "---\ntitle: Mark\ndate: 2024-01-04\n---\n"
                     "x ![&#xE000;](../img/a.png) <b>b</b> [q](post.md)\n"},
    {"blog/section.md": "---\ntitle: Section\ndate: 2024-01-05\n---\nNo links.\n\n"
                        "<div><![x]></div>\n"},
], ids=["entity-U+E000", "marked-section-without-links"])
def test_divergence_a_site_builds_differently_from_the_parser(tmp_path, monkeypatch, extra):
    """The two divergences end to end: the page loses its U+E000 (in its alt) and feeds with
    it; the page with `<![x]>` and no link fails (AssertionError), where it built before."""
    (new_report, new), (old_report, old) = _built_both_ways(tmp_path, monkeypatch, extra)
    assert new_report == old_report
    assert [rel for rel in new if new[rel] != old.get(rel)] == []
