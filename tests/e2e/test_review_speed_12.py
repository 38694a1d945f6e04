"""Review of the speed change (dcc5b74..HEAD): each test holds the new code to what the old
code gave. Tests marked FINDING fail on HEAD; the others are regression tests that pass."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline.render import html as H
from tests.unit.test_engine_urls import both
from tests.unit.test_html_prefix import parsed_heading, parsed_paragraph


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "nbpress" / "templates"


# --- render/html.py: html.parser (3.11) ends <script>/<style> at `</ script>` -------------

SPACED_SCRIPT_P = "<script>a</ script><p>Hello</p></script><p>Real</p>"
SPACED_SCRIPT_H1 = "<script>a</ script><img></script><h1>T</h1>"
SPACED_STYLE_PIECE = "<style>a</ style><pre></style>\n\n[x](other.md)\n"


def test_FINDING_first_paragraph_after_a_spaced_script_end_tag():
    assert H.first_paragraph_text(SPACED_SCRIPT_P) == parsed_paragraph(SPACED_SCRIPT_P)


def test_FINDING_leading_heading_after_a_spaced_script_end_tag():
    assert H.leading_heading(SPACED_SCRIPT_H1) == parsed_heading(SPACED_SCRIPT_H1)


def test_FINDING_plain_piece_with_a_spaced_style_end_tag_leaves_pre_open():
    parsed, read, spans = both(SPACED_STYLE_PIECE)
    assert read == parsed


@pytest.mark.parametrize("text", [
    "<script-x><p>Hello</p></script><p>Real</p>", "<style-x><p>Hello</p></style><p>Real</p>",
    '<div "x><p>Hello</p>"><p>Real</p>', '</div "><p>Hello</p>"><p>Real</p>',
    "\r\n<P>A\r\nb</P>", "<!--><p>in</p>--><p>out</p>", "<!---><p>in</p>--><p>out</p>",
    "<!-- a --!> <p>in</p> --><p>out</p>", "<style>a{}</style\n><p>x</p>",
    "<script><!--<p>a</p></script>--></script><p>b</p>", "\x00<p>x</p>",
    "<div title='>'><p>x</p>", "<div title=a>b><p>x</p>", "&lt;p>x<p>y</p>",
])
def test_first_paragraph_adversarial_regressions(text):
    assert H.first_paragraph_text(text) == parsed_paragraph(text)


@pytest.mark.parametrize("text", [
    "<div-x><h1>T</h1>", "<main-menu>\n<h1>T</h1>", '<section "x><img>"><h1>T</h1>',
    "\u00a0<h1>T</h1>", "\u2003\r\n<H1>T</H1>", "\x1c<h1>T</h1>", "<!--><img>--><h1>T</h1>",
    "<style>x</style\n><h1>T</h1>", "</div \"><img>\"><h1>T</h1>", "&nbsp;<h1>T</h1>",
    "<script><!--</script>--></script><h1>T</h1>",
])
def test_leading_heading_adversarial_regressions(text):
    assert H.leading_heading(text) == parsed_heading(text)


@pytest.mark.parametrize("text", [
    '<div "x><pre>">\n\n[x](other.md)\n', "<style-x><pre></style>\n\n[x](other.md)\n",
    '</div "x><code>">\n\n[x](other.md)\n', "<DIV CLASS='a>b'>\r\n\r\n[x](x.md)\r\n\r\n</DIV>\r\n",
    "<span>\x00</span> [x](x.md)", "<b>\u00a0</b>\n\n[x](x.md)",
])
def test_plain_piece_adversarial_regressions(text):
    parsed, read, _ = both(text)
    assert read == parsed


def test_FINDING_a_page_description_after_a_spaced_script_end_tag(site):
    site.page("a.md", f'---\ntitle: "A"\n---\n\n{SPACED_SCRIPT_P}\n')
    assert site.build().ok
    html = (site.root / "output/a/index.html").read_text()
    assert re.search(r'<meta name="description" content="Hello"', html), \
        re.findall(r'<meta name="description"[^>]*>', html)


# --- render/templates.py -----------------------------------------------------------------

def test_a_damaged_bytecode_cache_entry_is_compiled_again(site, own_cache):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    entries = list(own_cache.iterdir())
    assert entries
    from jinja2.bccache import bc_magic
    for entry in entries:                  # the header kept, the checksum's pickle damaged
        entry.write_bytes(bc_magic + b"\xff garbage")
    site.page("a.md", '---\ntitle: "A"\n---\n\nB.\n')
    report = site.build()                  # before the change there was no cache to damage
    assert report.ok
    assert "B." in (site.root / "output/a/index.html").read_text()


def test_a_truncated_cache_entry_is_compiled_again(site, own_cache):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    for entry in own_cache.iterdir():
        entry.write_bytes(entry.read_bytes()[:5])
    site.page("a.md", '---\ntitle: "A"\n---\n\nB.\n')
    assert site.build().ok


def test_a_cache_folder_that_cannot_be_made_is_no_error(site, tmp_path, monkeypatch):
    (tmp_path / "blocked").write_text("a file, not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok


def test_a_site_theme_override_is_never_cached(site, own_cache):
    base = (Path(__file__).parents[2] / "pipeline/site/theme/base.html.j2").read_text()
    site.file("theme/base.html.j2", base.replace("<body>", "<body>SITE-1"))
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    assert "SITE-1" in (site.root / "output/a/index.html").read_text()
    names = {p.name for p in own_cache.iterdir()}
    site.file("theme/base.html.j2", base.replace("<body>", "<body>SITE-2"))
    assert site.build().ok
    assert "SITE-2" in (site.root / "output/a/index.html").read_text()
    assert {p.name for p in own_cache.iterdir()} == names


# --- build/output.py -----------------------------------------------------------------------

def test_files_keep_the_umask_mode(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\n![i](i.png)\n')
    from tests.conftest import PNG_1PX
    site.file("content/i.png", PNG_1PX)
    old = os.umask(0o027)
    try:
        assert site.build().ok
    finally:
        os.umask(old)
    out = site.root / "output"
    assert (out / "a/index.html").stat().st_mode & 0o777 == 0o640
    assert (out / "a").stat().st_mode & 0o777 == 0o750


def test_a_failed_page_keeps_its_last_version_then_is_written(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nGood one.\n\n```python\nprint(1)\n```\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nB.\n')
    assert site.build().ok
    live = site.root / "output/a/index.html"
    site.page("a.md", '---\ntitle: "A"\n---\n\nBad.\n\n```python\nraise ValueError(7)\n```\n')
    site.page("c.md", '---\ntitle: "C"\n---\n\nC, a new top-level page: a re-layout.\n')
    site.build()
    assert "Good one." in live.read_text()
    site.page("a.md", '---\ntitle: "A"\n---\n\nFixed.\n\n```python\nprint(2)\n```\n')
    assert site.build().ok
    assert "Fixed." in live.read_text() and "Good one." not in live.read_text()


# --- build/fragments.py --------------------------------------------------------------------

def warnings_of(report, rel):
    return [w for r in report.results if r.source.rel == rel for w in r.warnings]


def test_fragment_warnings_on_built_relaid_and_kept_pages(site):
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n\nx\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\n[ok](t.md#there) [bad](t.md#nope) [me](#gone)\n')
    report = site.build()
    first = warnings_of(report, "a")
    assert any("nope" in w for w in first) and any("gone" in w for w in first)
    site.page("z.md", '---\ntitle: "Z"\n---\n\nNew top-level page: the others re-laid out.\n')
    report = site.build()
    assert warnings_of(report, "a") == first
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n\n## Nope\n\nx\n')
    report = site.build()       # a kept page is checked again: its target was built
    assert warnings_of(report, "a") == [w for w in first if "nope" not in w]
