"""Bugs a review of issue 8's change reproduced, each with the build that showed it."""
from __future__ import annotations

import re

import pytest

from pipeline.errors import ConfigError
from pipeline.model import Outcome


def test_a_page_that_failed_for_a_missing_data_file_builds_once_it_is_back(site):
    """It failed, unchanged, so it was 'kept' at its last URL, and then refused as a clash
    with itself for one more build."""
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("p/index.md", '---\ntitle: P\n---\n\n```python\nprint(open("data.txt").read())\n```\n')
    data = site.file("content/p/data.txt", "hi\n")
    assert site.build().ok
    data.unlink()
    assert not site.build().ok
    site.file("content/p/data.txt", "hi\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert report.count(Outcome.BUILT) == 1


def test_an_edit_of_a_posts_text_reaches_its_section_and_tag_feeds_in_a_service(site):
    from pipeline.build.service import BuildService

    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\nsearch = false\n')
    page = site.page("blog/f.md", '---\ntitle: F\ndate: "2024-01-01"\ntags: [x]\n---\n\nFirst.\n')
    out = site.root / "output"
    with BuildService(site.config()) as service:
        assert service.build().ok
        page.write_text(page.read_text() + "\nSERVICETEXT\n")
        assert service.build().ok
        for feed in ("feed.xml", "blog/feed.xml", "blog/rss.xml", "tags/x/feed.xml"):
            assert "SERVICETEXT" in (out / feed).read_text(), feed


def test_every_alias_that_gets_no_redirect_is_a_warning(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\npaginate = 1\n')
    for name in ("p1", "p2"):
        site.page(f"blog/{name}.md", f'---\ntitle: {name}\ndate: "2024-01-0{name[1]}"\ntags: [python]\n---\n\nx\n')
    aliases = ["/tags/python/", "/blog/page/2/", "/feed.xml", "/search/", "/pagefind/pagefind.js",
               "/tags/", "/blog/", "/a/", "/fine/"]
    site.page("a.md", "---\ntitle: A\naliases: [" + ", ".join(f'"{a}"' for a in aliases) + "]\n---\n\nx\n")
    report = site.build()
    said = [w for w in report.warnings() if "no redirect is written" in w]
    assert len(said) == 8, said                      # all but /fine/
    assert any("/a/ is the page's own URL" in w for w in said), said
    out = site.root / "output"
    assert (out / "fine" / "index.html").is_file()
    assert "Tagged" in (out / "tags" / "python" / "index.html").read_text()   # not replaced


def test_a_protocol_relative_alias_is_refused(site):
    from pipeline.errors import PageError

    site.page("a.md", '---\ntitle: A\naliases: ["//evil.com/x"]\n---\n\nx\n')
    report = site.build()
    (failed,) = report.failed
    assert isinstance(failed.error, PageError) and "is not a URL path inside the site" in str(failed.error)


def test_a_theme_template_that_fails_as_it_renders_is_an_error_naming_it(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("a.md", "---\ntitle: A\n---\n\nx\n")
    site.file("theme/listing.html.j2",
              '{% extends "base.html.j2" %}\n{% block main %}{{ 1 // 0 }}{% endblock %}\n')
    with pytest.raises(ConfigError) as caught:
        site.build()
    assert caught.value.path == site.root / "theme" / "listing.html.j2"
    assert caught.value.line == 2 and "ZeroDivisionError" in caught.value.message
    (site.root / "theme" / "listing.html.j2").unlink()
    site.file("theme/page.html.j2", '{% include "nothere.j2" %}\n')
    report = site.build()
    (failed,) = report.failed
    assert failed.error.path == site.root / "theme" / "page.html.j2"
    assert "nothere.j2, which is not there" in failed.error.message
    assert "bug in nbpress" not in str(failed.error)
    (site.root / "theme" / "page.html.j2").unlink()
    assert site.build().ok                          # fixed: built at once, no clash with itself


def test_a_file_named_like_a_resized_copy_beside_an_image_is_left_alone(site):
    """A page's key did not know the files beside it that decided its srcset: the copies
    are now named by the image's content, so no author's file has their name."""
    from PIL import Image

    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    Image.new("RGB", (2400, 1200), "white").save(site.root / "content" / "wide.png")
    site.page("f.md", "---\ntitle: F\n---\n\n![a](wide.png)\n")
    assert site.build().ok
    srcset = lambda: re.search(r'srcset="([^"]*)"', (site.root / "output/f/index.html").read_text())[1]
    first = srcset()
    assert "928w" in first
    Image.new("RGB", (100, 100), "red").save(site.root / "content" / "wide-928.png")
    site.page("g.md", "---\ntitle: G\n---\n\n![b](wide-928.png)\n")
    assert site.build().ok
    assert srcset() == first
    with Image.open(site.root / "output" / "wide-928.png") as mine:
        assert mine.size == (100, 100)              # the author's own, not a copy


def test_a_link_setting_that_is_no_web_address_is_refused(site):
    site.settings('[tool.nbpress]\nlinks = [{ title = "x", url = "javascript:alert(1)" }]\n')
    with pytest.raises(ConfigError) as caught:
        site.config()
    assert "is not a web address" in caught.value.detail and "known keys" not in caught.value.hint


def _blog(site, base="https://ex.org/sub/"):
    site.settings(f'[tool.nbpress]\ntitle = "S"\nbase_url = "{base}"\n')
    site.page("blog/secret.md", '---\ntitle: Secret Plan\ndate: "2024-01-09"\ndraft: true\n---\n\nx\n')
    site.page("blog/post.md", '---\ntitle: Post\ndate: "2024-01-02"\n---\n\nA zebracorn.\n')


def test_a_file_a_page_brings_is_audited_for_drafts_too(site):
    from pipeline.build.audit import LeakError

    _blog(site)
    site.file("content/blog/notes.html", '<html><body><a href="secret/">Secret Plan</a></body></html>')
    site.page("blog/post.md", '---\ntitle: Post\ndate: "2024-01-02"\n---\n\nSee [notes](notes.html).\n')
    with pytest.raises(LeakError, match="notes.html"):
        site.build()


def test_a_marked_static_page_is_not_indexed_for_search(site):
    import gzip

    _blog(site)
    site.file("static/old/index.html", "<html><body><main data-pagefind-body><p>Legacy "
                                      "unicornfish</p></main></body></html>")
    assert site.build().ok
    fragments = (site.root / "output/pagefind/fragment").iterdir()
    text = b"".join(gzip.decompress(p.read_bytes()) for p in fragments)
    assert b"zebracorn" in text and b"unicornfish" not in text


def test_a_deleted_search_fragment_comes_back_with_the_next_build(site):
    _blog(site)
    assert site.build().ok
    fragment = next((site.root / "output/pagefind/fragment").iterdir())
    fragment.unlink()
    assert site.build().ok
    assert fragment.is_file()


def test_dating_a_page_of_a_docs_section_gives_its_other_pages_the_sections_feed(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\nsearch = false\n')
    for name in ("intro", "setup", "usage"):
        site.page(f"docs/{name}.md", f"---\ntitle: {name}\n---\n\nx\n")
    assert site.build().ok
    site.page("docs/intro.md", '---\ntitle: intro\ndate: "2024-05-01"\n---\n\nx\n')
    assert site.build().ok
    html = (site.root / "output/docs/usage/index.html").read_text()
    assert 'href="https://ex.org/docs/feed.xml"' in html


def test_a_kept_page_that_links_a_draft_is_caught_when_drafts_are_hidden_again(site):
    from pipeline.build.audit import LeakError

    _blog(site)
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\n'
                  'feed_content = "abstract"\n')       # only the page itself shows the link
    site.page("blog/post.md", '---\ntitle: Post\ndate: "2024-01-02"\n---\n\n<a href="../secret/">s</a>\n')
    assert not site.build().ok                          # the page shows a draft: it fails
    assert site.build(drafts=True).ok                   # drafts published: nothing hidden
    with pytest.raises(LeakError, match="post"):
        site.build()                                    # hidden again: the kept page is read
