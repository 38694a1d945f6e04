"""Atom and RSS feeds (site/feeds.py) from a site model built by hand: what goes in (dated
pages, newest first, at most feed_items), absolute URLs (entry links and every URL attribute
of the content, under a base_url with a path), escaping of hostile values, stable bytes and
keys. The XML is read with the standard library's parser (expat, which refuses what XML 1.0
forbids), the content's HTML with html.parser."""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.config import SiteConfig
from pipeline.site.feeds import ATOM, RSS, feed_files, feed_links
from pipeline.site.model import Entry, SiteModel

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
BASE = "https://ex.org/blog/"


def entry(rel: str, url: str, title: str, section: str | None, date: str | None,
          **fields) -> Entry:
    return Entry(source=rel, url=url, title=title, section=section, date=date,
                 abstract=fields.pop("abstract", None), **fields)


def site(tmp_path: Path, *entries: Entry, **settings) -> tuple[SiteConfig, SiteModel]:
    config = SiteConfig(root=tmp_path, **{"base_url": BASE, "title": "Ex", "author": "Ann",
                                          **settings})
    model = SiteModel(config)
    for e in entries:
        model.put(e.source, e)
    return config, model


BLOG = (
    entry("posts/a.md", "/posts/a/", "Alpha", "posts", "2024-01-05", tags=("Python", "ml"),
          abstract="About alpha.", updated="2024-03-01T09:30:00+02:00", digest="da"),
    entry("posts/b.md", "/posts/b/", "Beta", "posts", "2024-02-10T08:00:00", tags=("python",),
          updated="2024-02-10T08:00:00", digest="db"),
    entry("notes/c.md", "/notes/c/", "Gamma", "notes", "2023-12-24", tags=("ML",), digest="dc"),
    entry("about.md", "/about/", "About", None, None, tags=("python",)),
    entry("docs/d.md", "/docs/d/", "Undated doc", "docs", None),
)


def built(config: SiteConfig, model: SiteModel, article=lambda e: None) -> dict[str, bytes]:
    return {path: make() for path, _, make in feed_files(config, model, article)}


def atom_entries(xml: bytes) -> list[ET.Element]:
    return ET.fromstring(xml).findall(f"{A}entry")


def rss_items(xml: bytes) -> list[ET.Element]:
    return ET.fromstring(xml).findall("channel/item")


def links_in(html: str) -> dict[str, list[str]]:
    """attribute name -> its values, in order, as a browser reads the HTML."""
    found: dict[str, list[str]] = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("src", "href", "srcset", "poster") and value is not None:
                    found.setdefault(name, []).append(value)

    Reader().feed(html)
    return found


def test_the_site_feeds_hold_dated_pages_newest_first_with_absolute_links(tmp_path):
    config, model = site(tmp_path, *BLOG)
    files = built(config, model)
    atom, rss = files["feed.xml"], files["rss.xml"]
    entries = atom_entries(atom)
    assert [e.findtext(f"{A}title") for e in entries] == ["Beta", "Alpha", "Gamma"]
    assert [e.findtext(f"{A}id") for e in entries] == [
        "https://ex.org/blog/posts/b/", "https://ex.org/blog/posts/a/", "https://ex.org/blog/notes/c/"]
    assert [e.find(f"{A}link").get("href") for e in entries] == [
        e.findtext(f"{A}id") for e in entries]
    items = rss_items(rss)
    assert [i.findtext("link") for i in items] == [e.findtext(f"{A}id") for e in entries]
    assert [i.find("guid").get("isPermaLink") for i in items] == ["true"] * 3


def test_dates_are_iso_in_utc_unless_they_say_otherwise(tmp_path):
    config, model = site(tmp_path, *BLOG)
    beta, alpha, gamma = atom_entries(built(config, model)["feed.xml"])
    assert alpha.findtext(f"{A}published") == "2024-01-05T00:00:00+00:00"     # a date: midnight UTC
    assert alpha.findtext(f"{A}updated") == "2024-03-01T09:30:00+02:00"       # as written
    assert beta.findtext(f"{A}published") == "2024-02-10T08:00:00+00:00"      # naive: UTC
    assert gamma.findtext(f"{A}updated") == "2023-12-24T00:00:00+00:00"       # no updated: its date
    beta_item = rss_items(built(config, model)["rss.xml"])[0]
    assert beta_item.findtext("pubDate") == "Sat, 10 Feb 2024 08:00:00 +0000"


def test_feed_level_fields(tmp_path):
    config, model = site(tmp_path, *BLOG, language="fr", description="Notes & posts")
    files = built(config, model)
    feed = ET.fromstring(files["feed.xml"])
    assert feed.findtext(f"{A}title") == "Ex"
    assert feed.findtext(f"{A}id") == "https://ex.org/blog/feed.xml"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links == {"self": "https://ex.org/blog/feed.xml", "alternate": BASE}
    assert feed.findtext(f"{A}updated") == "2024-03-01T09:30:00+02:00"       # the newest update
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert feed.findtext(f"{A}generator") == "nbpress"
    assert feed.findtext(f"{A}author/{A}name") == "Ann"
    assert feed.findtext(f"{A}subtitle") == "Notes & posts"
    channel = ET.fromstring(files["rss.xml"]).find("channel")
    assert channel.findtext("link") == BASE
    assert channel.find(f"{A}link").get("href") == "https://ex.org/blog/rss.xml"
    assert channel.find(f"{A}link").get("rel") == "self"
    assert channel.findtext("language") == "fr"
    assert channel.findtext("generator") == "nbpress"
    assert channel.findtext("lastBuildDate") == "Fri, 01 Mar 2024 09:30:00 +0200"


def test_entries_carry_author_categories_and_summary(tmp_path):
    config, model = site(tmp_path, *BLOG)
    files = built(config, model)
    alpha = atom_entries(files["feed.xml"])[1]
    assert alpha.findtext(f"{A}author/{A}name") == "Ann"
    assert [c.get("term") for c in alpha.findall(f"{A}category")] == ["Python", "ml"]
    assert alpha.findtext(f"{A}summary") == "About alpha."
    assert alpha.find(f"{A}content") is None            # article None: the summary only
    item = rss_items(files["rss.xml"])[1]
    assert item.findtext(f"{DC}creator") == "Ann"
    assert [c.text for c in item.findall("category")] == ["Python", "ml"]
    assert item.findtext("description") == "About alpha."


def test_section_and_tag_feeds_hold_only_their_pages(tmp_path):
    config, model = site(tmp_path, *BLOG)
    files = built(config, model)
    assert set(files) == {"feed.xml", "rss.xml", "posts/feed.xml", "posts/rss.xml",
                          "notes/feed.xml", "notes/rss.xml", "tags/python/feed.xml",
                          "tags/python/rss.xml", "tags/ml/feed.xml", "tags/ml/rss.xml"}
    # docs/ has only an undated page: no feed

    def titles(path):
        return [e.findtext(f"{A}title") for e in atom_entries(files[path])]

    assert titles("posts/feed.xml") == ["Beta", "Alpha"]
    assert titles("notes/feed.xml") == ["Gamma"]
    assert titles("tags/python/feed.xml") == ["Beta", "Alpha"]     # About is undated
    assert titles("tags/ml/feed.xml") == ["Alpha", "Gamma"]        # "ml" and "ML": one tag
    assert [i.findtext("title") for i in rss_items(files["tags/ml/rss.xml"])] == ["Alpha", "Gamma"]
    section = ET.fromstring(files["posts/feed.xml"])
    assert section.findtext(f"{A}title") == "Posts — Ex"
    assert section.findtext(f"{A}id") == "https://ex.org/blog/posts/feed.xml"
    assert {l.get("rel"): l.get("href") for l in section.findall(f"{A}link")} == {
        "self": "https://ex.org/blog/posts/feed.xml", "alternate": "https://ex.org/blog/posts/"}
    tag = ET.fromstring(files["tags/ml/rss.xml"]).find("channel")
    assert tag.findtext("link") == "https://ex.org/blog/tags/ml/"
    assert tag.find(f"{A}link").get("href") == "https://ex.org/blog/tags/ml/rss.xml"
    assert "Ex" in tag.findtext("title") and "ML" in tag.findtext("title")


def test_at_most_feed_items_entries_the_newest(tmp_path):
    many = [entry(f"posts/p{i}.md", f"/posts/p{i}/", f"P{i}", "posts", f"2024-01-{i + 10}")
            for i in range(6)]
    config, model = site(tmp_path, *many, feed_items=3)
    files = built(config, model)
    for path in ("feed.xml", "posts/feed.xml"):
        assert [e.findtext(f"{A}title") for e in atom_entries(files[path])] == ["P5", "P4", "P3"]
    assert len(rss_items(files["rss.xml"])) == 3


def test_no_base_url_no_feeds(tmp_path):
    config, model = site(tmp_path, *BLOG, base_url="")
    assert list(feed_files(config, model, lambda e: "<p>x</p>")) == []
    assert feed_links(config, model, "/posts/a/") == []


ARTICLE = """<p><img src="fig_1.png" alt="f"> <a href="../images/a.png">a</a>
<a href="../other/">other</a> <a href="#x">here</a> <a href="/abs">abs</a>
<a href="">self</a> <img src="R&amp;D.png"> <a href="mailto:me@ex.org">mail</a>
<img src="data:image/png;base64,iVBORw0KGgo="> <a href="https://else.org/p?q=1&amp;r=2">else</a>
<img srcset="small.png 1x, ../big.png 2x"> <video poster="p.jpg" src="v.mp4"></video>
<a href="caf%C3%A9/">encoded</a> <a href="thé.png">raw</a> <a href=" spaced.png ">s</a></p>
<pre><code><a href="in-code.png">shown as code</a></code></pre>"""


def test_full_content_has_every_url_made_absolute_against_the_page(tmp_path):
    config, model = site(tmp_path, entry("x/p.md", "/x/", "X", "x", "2024-01-01"))
    files = built(config, model, lambda e: ARTICLE)
    content = atom_entries(files["feed.xml"])[0].find(f"{A}content")
    assert content.get("type") == "html"
    found = links_in(content.text)
    assert found["src"] == ["https://ex.org/blog/x/fig_1.png", "https://ex.org/blog/x/R&D.png",
                            "data:image/png;base64,iVBORw0KGgo=", "https://ex.org/blog/x/v.mp4"]
    assert found["href"] == [
        "https://ex.org/blog/images/a.png", "https://ex.org/blog/other/",
        "https://ex.org/blog/x/#x", "https://ex.org/abs", "https://ex.org/blog/x/",
        "mailto:me@ex.org", "https://else.org/p?q=1&r=2", "https://ex.org/blog/x/caf%C3%A9/",
        "https://ex.org/blog/x/th%C3%A9.png", "https://ex.org/blog/x/spaced.png",
        "in-code.png"]                                   # inside <pre><code>: as written
    assert found["srcset"] == ["https://ex.org/blog/x/small.png 1x, https://ex.org/blog/big.png 2x"]
    assert found["poster"] == ["https://ex.org/blog/x/p.jpg"]
    rss_content = rss_items(files["rss.xml"])[0].findtext(CONTENT) or \
        rss_items(files["rss.xml"])[0].findtext("description")
    assert links_in(rss_content) == found


def test_abstract_setting_or_no_article_gives_no_content(tmp_path):
    config, model = site(tmp_path, *BLOG, feed_content="abstract")
    asked = []
    files = built(config, model, lambda e: asked.append(e) or "<p>full</p>")
    assert asked == []
    for e in atom_entries(files["feed.xml"]):
        assert e.find(f"{A}content") is None
    assert all(i.find(CONTENT) is None for i in rss_items(files["rss.xml"]))


def test_an_article_is_asked_for_once_and_only_when_a_feed_is_made(tmp_path):
    config, model = site(tmp_path, *BLOG)
    asked = []
    made = list(feed_files(config, model, lambda e: asked.append(e.source) or "<p>x</p>"))
    assert asked == []                                  # the keys need no article
    for _, _, make in made:
        make()
    assert sorted(asked) == ["notes/c.md", "posts/a.md", "posts/b.md"]


HOSTILE = "<script>alert(1)</script> & ]]> \x01\x0c\x1f\ufffe end"


def test_hostile_values_are_escaped_and_forbidden_characters_removed(tmp_path):
    bad = entry("posts/h.md", "/posts/h/", HOSTILE, "posts", "2024-01-01",
                tags=("<b>&", "]]>", "ok\x01"), abstract="<i>x</i> & ]]> \x02y")
    config, model = site(tmp_path, bad, title="T & <T>", author="A <a@b> \x0b")
    files = built(config, model, lambda e: "<p>]]> &amp; \x01<script>x()</script></p>")
    clean = "<script>alert(1)</script> & ]]>  end"
    for path, xml in files.items():
        root = ET.fromstring(xml)                       # expat refuses what XML forbids
        assert b"\x01" not in xml and b"\x0c" not in xml, path
        if path.endswith("feed.xml"):
            e = root.find(f"{A}entry")
            assert e.findtext(f"{A}title") == clean
            assert [c.get("term") for c in e.findall(f"{A}category")] == ["<b>&", "]]>", "ok"]
            assert e.find(f"{A}summary").get("type") == "html"
            assert e.findtext(f"{A}content") == "<p>]]> &amp; <script>x()</script></p>"
            assert root.findtext(f"{A}author/{A}name") == "A <a@b> "
        else:
            item = root.find("channel/item")
            assert item.findtext("title") == clean
            assert [c.text for c in item.findall("category")] == ["<b>&", "]]>", "ok"]
            assert root.findtext("channel/title").endswith("— T & <T>") or path == "rss.xml"
    assert ET.fromstring(files["rss.xml"]).findtext("channel/title") == "T & <T>"
    summary = atom_entries(files["feed.xml"])[0].findtext(f"{A}summary")
    text = []                                           # the abstract is text, not markup
    reader = HTMLParser()
    reader.handle_data = text.append
    reader.handle_starttag = lambda tag, attrs: text.append(f"TAG {tag}")
    reader.feed(summary)
    reader.close()
    assert "".join(text) == "<i>x</i> & ]]> y"


def test_same_site_same_bytes_and_keys(tmp_path):
    config, model = site(tmp_path, *BLOG)
    first = [(p, k, make()) for p, k, make in feed_files(config, model, lambda e: "<p>a</p>")]
    again = [(p, k, make()) for p, k, make in feed_files(config, model, lambda e: "<p>a</p>")]
    assert first == again


def test_keys_follow_what_a_feed_shows(tmp_path):
    def keys(*entries, **settings):
        config, model = site(tmp_path, *entries, **settings)
        return {p: k for p, k, _ in feed_files(config, model, lambda e: None)}

    before = keys(*BLOG)
    renamed = keys(*(dataclasses.replace(e, title="Alpha 2") if e.title == "Alpha" else e
                     for e in BLOG))
    assert renamed["feed.xml"] != before["feed.xml"]
    assert renamed["posts/feed.xml"] != before["posts/feed.xml"]
    assert renamed["notes/feed.xml"] == before["notes/feed.xml"]      # Alpha is not in it
    edited = keys(*(dataclasses.replace(e, digest="new") if e.title == "Gamma" else e
                    for e in BLOG))
    assert edited["notes/feed.xml"] != before["notes/feed.xml"]
    undated = keys(*(dataclasses.replace(e, title="Who") if e.title == "About" else e
                     for e in BLOG))
    assert undated == before                            # not a post: in no feed
    assert keys(*BLOG, feed_content="abstract")["feed.xml"] != before["feed.xml"]
    assert before["feed.xml"] != before["rss.xml"]


@pytest.mark.parametrize("url, expected", [
    ("/", ["/feed.xml", "/rss.xml"]),
    ("/about/", ["/feed.xml", "/rss.xml"]),
    ("/posts/a/", ["/feed.xml", "/rss.xml", "/posts/feed.xml", "/posts/rss.xml"]),
    ("/posts/", ["/feed.xml", "/rss.xml", "/posts/feed.xml", "/posts/rss.xml"]),
    ("/tags/ml/", ["/feed.xml", "/rss.xml", "/tags/ml/feed.xml", "/tags/ml/rss.xml"]),
    ("/posts/page/2/", ["/feed.xml", "/rss.xml", "/posts/feed.xml", "/posts/rss.xml"]),
    ("/tags/ml/page/3/", ["/feed.xml", "/rss.xml", "/tags/ml/feed.xml", "/tags/ml/rss.xml"]),
    ("/tags/", ["/feed.xml", "/rss.xml"]),
    ("/404.html", ["/feed.xml", "/rss.xml"]),
    ("/tags/nothing/", ["/feed.xml", "/rss.xml"]),
    ("/docs/d/", ["/feed.xml", "/rss.xml"]),            # docs/ has no dated page: no feed
])
def test_feed_links_name_the_feeds_a_page_belongs_to(tmp_path, url, expected):
    config, model = site(tmp_path, *BLOG)
    links = feed_links(config, model, url)
    assert [path for _, _, path in links] == expected
    assert [kind for kind, _, _ in links] == [ATOM, RSS] * (len(expected) // 2)
    made = {path for path, _, _ in feed_files(config, model, lambda e: None)}
    assert {path.lstrip("/") for path in expected} <= made


def test_feed_link_titles(tmp_path):
    config, model = site(tmp_path, *BLOG)
    titles = [title for _, title, _ in feed_links(config, model, "/posts/a/")]
    assert titles[0] == "Ex" and titles[2] == "Posts — Ex"
    assert titles[1] != titles[0]                       # Atom and RSS told apart


def test_a_site_with_no_dated_page_has_an_empty_site_feed(tmp_path):
    config, model = site(tmp_path, entry("about.md", "/about/", "About", None, None))
    files = built(config, model)
    assert set(files) == {"feed.xml", "rss.xml"}
    assert atom_entries(files["feed.xml"]) == [] and rss_items(files["rss.xml"]) == []
    assert ET.fromstring(files["feed.xml"]).findtext(f"{A}updated") == "1970-01-01T00:00:00+00:00"
