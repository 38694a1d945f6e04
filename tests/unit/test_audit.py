"""The draft audit's quick looks (a word looked for before its pattern, references' names
remembered, texts that start blank skipped) find every leak the full reading finds."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.build.audit import Audit, Hidden, _leak

DRAFT = Hidden(Path("/s/content/blog/draft.md"), "/blog/draft/", "Secret Plan")


def _audit(*hidden: Hidden) -> Audit:
    return Audit(list(hidden or [DRAFT]), "https://h.example/", set(), set())


@pytest.mark.parametrize("text, what", [
    ('<a href="../draft/">x</a>', "a link to /blog/draft/"),
    ("<img src='/blog/draft/index.html'>", "a link to /blog/draft/"),
    ('<meta property="og:url" content="https://h.example/blog/draft/">', "a link to /blog/draft/"),
    ("<url><loc>https://h.example/blog/draft/</loc></url>", "a link to /blog/draft/"),
    ("<entry><link>https://h.example/blog/d%72aft/</link></entry>", "a link to /blog/draft/"),
    ("<entry><id>https://h.example/blog/draft/</id></entry>", "a link to /blog/draft/"),
    ('{"url":"/blog/draft/","content":"x"}', "a link to /blog/draft/"),
    ("<li><a>Secret Plan</a></li>", "its title 'Secret Plan'"),
    ('{"title":"Secret Plan"}', "its title 'Secret Plan'"),
])
def test_each_place_a_draft_shows_is_found(text, what):
    found = _leak("blog/tips/index.html", text, _audit())
    assert found is not None and found[0] == what and found[1] is DRAFT


def test_the_first_leak_in_the_text_is_named():
    other = Hidden(Path("/s/content/blog/other.md"), "/blog/other/", "Other")
    text = '<a href="../other/">o</a> <a href="../draft/">d</a>'
    assert _leak("blog/tips/index.html", text, _audit(DRAFT, other))[1] is other


@pytest.mark.parametrize("text", [
    '<a href="/elsewhere/draft/">a page of the same name elsewhere</a>',
    "<p>Secret Plan, in a sentence</p>",
    "<p>\n</p>",
])
def test_what_is_not_a_leak_is_not_one(text):
    assert _leak("blog/tips/index.html", text, _audit()) is None


def test_a_reference_remembered_from_one_file_is_resolved_from_the_next():
    audit = _audit()
    assert _leak("other/index.html", '<a href="../draft/">x</a>', audit) is None   # /draft/
    assert _leak("blog/tips/index.html", '<a href="../draft/">x</a>', audit) is not None


@pytest.mark.parametrize("title", ["\nSecret Plan", " Secret Plan", "\u00a0Secret Plan"])
def test_a_title_that_starts_blank_is_found(title):
    hidden = Hidden(Path("/s/content/blog/draft.md"), "/blog/draft/", title)
    found = _leak("index.html", f"<li>{title}</li>", _audit(hidden))
    assert found is not None and found[1] is hidden


@pytest.mark.parametrize("href", [
    "http://[x/blog/draft/",            # a host Python cannot read: its path read (no crash)
    "https://u[@h.example/blog/draft/", "https://u]@h.example/blog/draft/",
    "https://a\uff03@h.example/blog/draft/", "https://a\uff0f@h.example/blog/draft/",
    "https:\\\\h.example\\blog\\draft\\", "/blog\\draft/", "/blog/&#100;raft/",
    "../dr&#x61;ft/",
])
def test_a_reference_read_as_a_browser_reads_it_is_found(href):
    """Browsers follow these to the draft (helper-41: the user part before `@` may hold what
    Python's urlsplit refuses; backslashes are slashes; character references are decoded)."""
    found = _leak("blog/tips/index.html", f'<a href="{href}">x</a>', _audit())
    assert found is not None and found[1] is DRAFT


@pytest.mark.parametrize("base", ["", "https://h.example/"])
def test_any_host_may_be_the_sites(base):
    """A host has many spellings (punycode, a trailing dot, full-width letters): a draft's
    path on any is read as the site's."""
    audit = Audit([DRAFT], base, set(), set())
    assert _leak("index.html", '<a href="https://a.example/blog/draft/">x</a>', audit) is not None


# A browser reads attribute names in any case and values in either quotes or none: so does
# the audit (these leaked before: the patterns asked for a lowercase name and quotes).
@pytest.mark.parametrize("text", [
    '<A HREF="/blog/draft/">upper</A>',
    '<a Href="../draft/">mixed</a>',
    "<IMG SRC='/blog/draft/index.html'>",
    '<a href=/blog/draft/>unquoted</a>',
    '<a class=x href=../draft/ title=y>unquoted among others</a>',
    '<a href = ../draft>spaced, unquoted, no slash</a>',
    '<META PROPERTY="og:url" CONTENT="https://h.example/blog/draft/">',
    '<a href="/blog/draft/" title="it\'s">an apostrophe after</a>',
])
def test_a_link_written_in_any_case_or_quoting_is_found(text):
    found = _leak("blog/tips/index.html", text, _audit())
    assert found is not None and found == ("a link to /blog/draft/", DRAFT)


def test_a_value_holding_the_other_quote_is_read_whole():
    hidden = Hidden(Path("/s/content/blog/it-s.md"), "/blog/it's/", "It is")
    assert _leak("index.html", '<a href="/blog/it\'s/">x</a>', _audit(hidden))[1] is hidden
    assert _leak("index.html", "<a href='/blog/say\"it\"/'>x</a>", _audit(hidden)) is None


@pytest.mark.parametrize("text", [
    '<a href="/blog/Draft/">another page: URLs are read as written</a>',
    '<A HREF="/elsewhere/DRAFT/">x</A>',
    "<a HREF=/blog/drafts/>a longer name</a>",
])
def test_lowered_letters_find_candidates_only(text):
    assert _leak("blog/tips/index.html", text, _audit()) is None


def test_a_build_fails_a_page_whose_html_links_a_draft_in_capitals_or_unquoted(site):
    site.page("blog/draft.md", "---\ntitle: Secret plan\ndraft: true\n---\n\nHidden.\n")
    site.page("blog/upper.md", '---\ntitle: Upper\n---\n\n<p><A HREF="/blog/draft/">x</A></p>\n')
    site.page("blog/bare.md", "---\ntitle: Bare\n---\n\n<p><a href=/blog/draft/>x</a></p>\n")
    site.page("blog/fine.md", "---\ntitle: Fine\n---\n\nNothing hidden.\n")
    report = site.build()
    assert sorted(r.source.path.name for r in report.failed) == ["bare.md", "upper.md"]
    assert not (site.root / "output" / "blog" / "upper").exists()
    assert (site.root / "output" / "blog" / "fine" / "index.html").is_file()


# Review helpers 42 and 43: an unquoted value in text (code shown) is no link; og:type's
# "website" is no URL; a URL's spaces around it and dot segments are read as a browser does.
@pytest.mark.parametrize("text", [
    "<pre><code>src = ../draft\n</code></pre>",
    "<p><code>href=/blog/draft/ </code></p>",
])
def test_an_unquoted_value_outside_a_tag_is_no_link(text):
    assert _leak("blog/tips/index.html", text, _audit()) is None


def test_a_content_value_that_is_no_url_is_no_link():
    site_page = Hidden(Path("/s/content/website.md"), "/website/", "Web")
    text = '<meta property="og:type" content="website">'
    assert _leak("404.html", text, _audit(site_page)) is None
    refresh = '<meta http-equiv="refresh" content="0; url=/website/">'
    assert _leak("404.html", refresh.replace("0; url=", ""), _audit(site_page)) is not None


@pytest.mark.parametrize("text", [
    '<a href="/blog/draft/ ">a space after</a>',
    '<a href=" ../draft/">a space before</a>',
    '<a href="/blog/draft/./index.html">a dot segment</a>',
    '<a href="/blog/x/../draft/">two dots</a>',
    '<a class=x href=/blog/draft/>unquoted in a tag</a>',
])
def test_a_url_is_read_as_a_browser_reads_it(text):
    assert _leak("blog/tips/index.html", text, _audit()) == ("a link to /blog/draft/", DRAFT)
