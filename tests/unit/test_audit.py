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


def test_a_reference_with_a_host_no_one_can_read_is_no_link_and_no_crash():
    assert _leak("blog/tips/index.html", '<a href="http://[x/blog/draft/">x</a>', _audit()) is None


@pytest.mark.parametrize("base", ["", "https://h.example/"])
def test_any_host_may_be_the_sites(base):
    """A host has many spellings (punycode, a trailing dot, full-width letters): a draft's
    path on any is read as the site's."""
    audit = Audit([DRAFT], base, set(), set())
    assert _leak("index.html", '<a href="https://a.example/blog/draft/">x</a>', audit) is not None
