"""The website layer on small sites: tags, pagination, the home page's latest, sidebars and
neighbours, the in-page table of contents, aliases, the theme folder, extra_css, links,
feeds and search in the head, the draft audit. Output is read with an HTML parser."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.model import Outcome
from tests.conftest import SiteMaker

BASE = "https://ex.org/"


class Doc(HTMLParser):
    """Elements with their attributes and text (text of nested elements included)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "img", "br", "input", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, cls: str | None = None) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag
                and (cls is None or cls in (e["attrs"].get("class") or "").split())]


def doc(site: SiteMaker, rel: str) -> Doc:
    return Doc((site.root / "output" / rel).read_text(encoding="utf-8"))


def settings(site: SiteMaker, extra: str = "") -> None:
    site.settings(f'[tool.nbpress]\ntitle = "Ex"\nbase_url = "{BASE}"\nsearch = false\n{extra}')


def post(site: SiteMaker, rel: str, title: str, date: str, extra: str = "", body: str = "Text.") -> None:
    site.page(rel, f'---\ntitle: "{title}"\ndate: "{date}"\n{extra}---\n\n{body}\n')


def test_tags_and_categories_get_pages_and_an_index(site):
    settings(site)
    post(site, "blog/a.md", "Alpha", "2024-01-01", 'tags: [Python, "Learning to write"]\n')
    post(site, "blog/b.md", "Beta", "2024-02-01", 'categories: [python]\ncategory: Design\n')
    assert site.build().ok
    python = doc(site, "tags/python/index.html")
    titles = [e["text"] for e in python.find("a", "entry-title")]
    assert titles == ["Beta", "Alpha"]              # one tag whatever its case, newest first
    assert [e["text"] for e in doc(site, "tags/index.html").find("a", "tag")] == \
        ["Design", "Learning to write", "Python"]
    shown = [e["text"] for e in doc(site, "blog/b/index.html").find("a", "tag")]
    assert shown == ["python", "Design"]
    assert (site.root / "output/tags/learning-to-write/feed.xml").is_file()


def test_a_long_section_is_paginated_and_the_home_page_shows_its_latest(site):
    settings(site, "paginate = 10\nhome_latest = 3\n")
    for i in range(25):
        post(site, f"blog/p{i:02}.md", f"Post {i:02}", f"2024-01-{i + 1:02}")
    assert site.build().ok
    first = doc(site, "blog/index.html")
    assert [e["text"] for e in first.find("a", "entry-title")][:2] == ["Post 24", "Post 23"]
    assert len(first.find("a", "entry-title")) == 10
    third = doc(site, "blog/page/3/index.html")
    assert [e["text"] for e in third.find("a", "entry-title")] == \
        ["Post 04", "Post 03", "Post 02", "Post 01", "Post 00"]
    assert [e["attrs"]["href"] for e in third.find("a", "pager-previous")] == ["../2/"]
    assert not (site.root / "output/blog/page/4").exists()
    home = doc(site, "index.html")
    assert [e["text"] for e in home.find("a", "entry-title")] == ["Post 24", "Post 23", "Post 22"]
    (more,) = home.find("a", "listing-more")
    assert more["attrs"]["href"] == "blog/" and "25" in more["text"]


def test_a_book_section_has_a_sidebar_in_toc_order_and_a_blog_has_newer_older(site):
    settings(site, 'toc = ["guide/intro.md", "guide/zeta.md"]\n')
    site.page("guide/alpha.md", '---\ntitle: "Alpha"\n---\n\nA.\n')
    site.page("guide/zeta.md", '---\ntitle: "Zeta"\n---\n\nZ.\n')
    site.page("guide/intro.md", '---\ntitle: "Intro"\n---\n\nI.\n')
    post(site, "blog/old.md", "Old", "2024-01-01")
    post(site, "blog/new.md", "New", "2024-02-01")
    assert site.build().ok
    zeta = doc(site, "guide/zeta/index.html")
    (sidebar,) = zeta.find("nav", "page-sidebar")
    links = [t.strip() for t in sidebar["text"].split("\n") if t.strip()]
    assert links == ["Intro", "Zeta", "Alpha"]     # the toc first, then by file name
    assert [e["text"].split()[-1] for e in zeta.find("a", "page-previous")] == ["Intro"]
    assert [e["text"].split()[-1] for e in zeta.find("a", "page-next")] == ["Alpha"]
    old = doc(site, "blog/old/index.html")
    assert not old.find("nav", "page-sidebar")
    (newer,) = old.find("a", "page-next")
    assert newer["text"].split() == ["Newer", "New"] and not old.find("a", "page-previous")


def test_an_in_page_table_of_contents_from_three_headings_unless_toc_false(site):
    settings(site)
    body = "## One\n\nx\n\n## Two\n\ny\n\n### Two <em>b</em>\n\nz\n"
    site.page("a.md", f'---\ntitle: "A"\n---\n\n{body}')
    site.page("b.md", f'---\ntitle: "B"\ntoc: false\n---\n\n{body}')
    site.page("c.md", '---\ntitle: "C"\n---\n\n## Only\n\nx\n')
    assert site.build().ok
    items = doc(site, "a/index.html").find("li")
    toc = [(e["attrs"]["class"], e["text"]) for e in items if "toc-level" in e["attrs"].get("class", "")]
    assert toc == [("toc-level-2", "One"), ("toc-level-2", "Two"), ("toc-level-3", "Two b")]
    assert not doc(site, "b/index.html").find("nav", "page-toc")
    assert not doc(site, "c/index.html").find("nav", "page-toc")


def test_aliases_write_redirect_pages_and_a_clash_is_a_warning(site):
    settings(site)
    post(site, "blog/new.md", "New home", "2024-01-01",
         'aliases: ["/2019/old-post/", "/old.html", "/blog/other/"]\n')
    post(site, "blog/other.md", "Other", "2024-01-02")
    report = site.build()
    assert report.ok
    old = doc(site, "2019/old-post/index.html")
    (refresh,) = [e for e in old.find("meta") if e["attrs"].get("http-equiv") == "refresh"]
    assert refresh["attrs"]["content"] == "0; url=../../blog/new/"
    (canonical,) = [e for e in old.find("link") if e["attrs"].get("rel") == "canonical"]
    assert canonical["attrs"]["href"] == BASE + "blog/new/"
    assert (site.root / "output/old.html").is_file()
    other = doc(site, "blog/other/index.html")          # the page, not a redirect
    assert [e["text"] for e in other.find("h1")] == ["Other"]
    assert any("alias /blog/other/ is the URL of content/blog/other.md" in w
               for w in report.warnings()), report.warnings()


def test_a_title_from_the_first_heading_is_plain_text_and_shown_once(site):
    settings(site)
    for name, heading in [("a", "Hello _world_"), ("b", "~~Old~~ New"), ("c", "A [link](https://x.org) title"),
                          ("d", "Hello <em>there</em>")]:
        site.page(f"{name}.md", f"# {heading}\n\nText.\n")
    assert site.build().ok
    for name, title in [("a", "Hello world"), ("b", "Old New"), ("c", "A link title"),
                        ("d", "Hello there")]:
        page = doc(site, f"{name}/index.html")
        assert len(page.find("h1")) == 1, name
        assert page.find("title")[0]["text"] == f"{title} | Ex"


def test_theme_folder_and_extra_css_override_file_by_file(site):
    settings(site, 'extra_css = ["style/extra.css"]\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\nText.\n')
    site.file("style/extra.css", "body { color: red }\n")
    site.file("theme/favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    site.file("theme/404.html.j2", '{% extends "base.html.j2" %}{% block main %}<p class="mine">Lost</p>{% endblock %}')
    assert site.build().ok
    out = site.root / "output"
    hrefs = [e["attrs"]["href"] for e in doc(site, "a/index.html").find("link")
             if e["attrs"].get("rel") == "stylesheet"]
    assert hrefs == ["../assets/site.css", "../assets/extra/style/extra.css"]
    assert (out / "assets/extra/style/extra.css").read_text() == "body { color: red }\n"
    assert (out / "assets/favicon.svg").read_text().startswith("<svg xmlns='http")
    assert doc(site, "404.html").find("p", "mine")
    site.file("theme/404.html.j2", '{% extends "base.html.j2" %}{% block main %}<p class="yours">Lost</p>{% endblock %}')
    assert site.build().ok                      # an edit of the theme is seen
    assert doc(site, "404.html").find("p", "yours")


def test_links_feeds_and_search_in_every_page_head(site):
    settings(site, 'links = [{ title = "Git<Hub>", url = "https://github.com/a?b=1&c=2" }]\n')
    post(site, "blog/a.md", "A", "2024-01-01")
    assert site.build().ok
    page = doc(site, "blog/a/index.html")
    (link,) = page.find("a", "site-link")
    assert link["text"] == "Git<Hub>" and link["attrs"]["href"] == "https://github.com/a?b=1&c=2"
    feeds = [e["attrs"]["href"] for e in page.find("link") if e["attrs"].get("rel") == "alternate"]
    assert feeds == [BASE + "feed.xml", BASE + "rss.xml", BASE + "blog/feed.xml", BASE + "blog/rss.xml"]
    atom = ET.parse(site.root / "output/feed.xml").getroot()
    assert BASE + "blog/a/" in [e.get("href") for e in atom.iter("{http://www.w3.org/2005/Atom}link")
                                if e.get("rel", "alternate") == "alternate"]
    assert not page.find("form", "site-search")             # search = false
    assert not (site.root / "output/pagefind").exists()


def test_search_indexes_published_pages_only(site):
    site.settings('[tool.nbpress]\ntitle = "Ex"\n')
    post(site, "a.md", "Alpha", "2024-01-01", body="Zebracorn lives here.")
    post(site, "b.md", "Beta", "2024-01-01", "draft: true\n", body="Unicornfish hides.")
    assert site.build().ok
    out = site.root / "output"
    assert (out / "pagefind/pagefind.js").is_file() and (out / "search/index.html").is_file()
    (form,) = doc(site, "a/index.html").find("form", "site-search")
    assert form["attrs"]["action"] == "../search/"
    import gzip
    text = b"".join(gzip.decompress(p.read_bytes()) for p in (out / "pagefind/fragment").iterdir())
    assert b"Zebracorn" in text and b"Unicornfish" not in text


def test_the_audit_fails_a_page_that_shows_a_draft_and_keeps_its_last_version(site):
    settings(site)
    post(site, "blog/secret.md", "Secret plan", "2024-01-02", "draft: true\n")
    post(site, "blog/public.md", "Public", "2024-01-03")
    assert site.build().ok
    before = (site.root / "output/blog/public/index.html").read_text()
    assert "Secret plan" not in before and "secret" not in before
    post(site, "blog/public.md", "Public", "2024-01-03", body='See <a href="../secret/">it</a>.')
    from pipeline.build.audit import LeakError

    (failed,) = site.build().failed
    assert isinstance(failed.error, LeakError) and "secret.md" in str(failed.error)
    assert failed.kept_previous
    assert (site.root / "output/blog/public/index.html").read_text() == before
    post(site, "blog/public.md", "Public", "2024-01-03", body="<p>Secret plan</p>")
    (failed,) = site.build().failed
    assert "its title 'Secret plan'" in str(failed.error)
    assert site.build(drafts=True).ok           # published with --drafts: nothing to hide


def test_the_audit_fails_the_build_when_a_theme_lists_a_draft(site):
    """A site file (here the 404 page of a theme that names a page by hand) that shows a
    draft stops the build: the last published site stays."""
    from pipeline.build.audit import LeakError

    settings(site)
    post(site, "blog/secret.md", "Secret plan", "2024-01-02", "draft: true\n")
    post(site, "blog/public.md", "Public", "2024-01-03")
    assert site.build().ok
    site.file("theme/404.html.j2", '{% extends "base.html.j2" %}{% block main %}'
                                   '<a href="{{ root }}blog/secret/">Lost?</a>{% endblock %}')
    with pytest.raises(LeakError, match="404.html"):
        site.build()
    assert "secret" not in (site.root / "output/404.html").read_text()


def test_a_page_without_edited_is_dated_by_its_last_commit(site):
    import os
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    settings(site)
    post(site, "blog/a.md", "A", "2024-01-01")
    post(site, "blog/b.md", "B", "2024-01-01", 'edited: "2024-02-02"\n')
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "A",
           "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@b"}

    def commit(when: str) -> None:
        subprocess.run(["git", "add", "-A"], cwd=site.root, env=env, check=True)
        subprocess.run(["git", "commit", "-qm", "x"], cwd=site.root, check=True,
                       env={**env, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when})

    subprocess.run(["git", "init", "-q"], cwd=site.root, env=env, check=True)
    commit("2024-05-06T07:08:09+02:00")
    assert site.build().ok

    def edited(name: str) -> str:
        (span,) = doc(site, f"blog/{name}/index.html").find("span", "page-date-edited")
        page = doc(site, f"blog/{name}/index.html")
        times = page.find("time")
        return times[page.find("span", "page-date").index(span)]["attrs"]["datetime"]

    assert edited("a") == "2024-05-06T07:08:09+02:00"
    assert edited("b") == "2024-02-02"                   # the frontmatter's own wins
    assert site.build().count(Outcome.UNCHANGED) == 2    # nothing moved: nothing built
    post(site, "blog/a.md", "A", "2024-01-01", body="Changed.")
    commit("2024-07-01T00:00:00+00:00")
    report = site.build()
    assert report.count(Outcome.BUILT) == 1 and edited("a") == "2024-07-01T00:00:00+00:00"


def test_a_broken_theme_template_or_a_missing_stylesheet_is_one_error_naming_it(site):
    from pipeline.errors import ConfigError

    settings(site)
    site.page("a.md", '---\ntitle: "A"\n---\n\nText.\n')
    site.file("theme/page.html.j2", '{% extends "base.html.j2" %}\n{% block main %}\n{{ oops( }}\n{% endblock %}\n')
    with pytest.raises(ConfigError) as caught:
        site.build()
    assert caught.value.path == site.root / "theme" / "page.html.j2" and caught.value.line == 3
    (site.root / "theme" / "page.html.j2").unlink()
    settings(site, 'extra_css = ["nope.css"]\n')
    with pytest.raises(ConfigError, match="extra_css names 'nope.css'"):
        site.build()


def test_the_build_warns_of_a_link_to_a_heading_that_is_not_there(site):
    settings(site)
    site.page("guide.md", '---\ntitle: "Guide"\n---\n\n## Setup and install\n\nx\n\n[up](#setup-and-install) [bad](#nowhere)\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nSee [it](guide.md#setup-and-instal) and [ok](guide.md#setup-and-install).\n')
    report = site.build()
    assert report.ok
    said = [w for w in report.warnings() if "no heading with that id" in w]
    assert len(said) == 2, said
    assert any("b.md" in w and "#setup-and-instal:" in w and "did you mean #setup-and-install?" in w
               for w in said), said
    assert any("guide.md" in w and "#nowhere" in w for w in said), said
    assert not (site.root / "output" / "nowhere").exists()


def test_search_is_on_by_default_up_to_a_size_pagefind_can_hold(site, monkeypatch):
    """Left unset, search is on up to SEARCH_AUTO pages (pagefind takes about 35 KB a page:
    3.5 GB for 100,000): past it, no index, no box, and a note saying how to have one."""
    from pipeline.site import model

    site.settings('[tool.nbpress]\ntitle = "Ex"\n')
    for name in ("a", "b", "c"):
        post(site, f"{name}.md", name.upper(), "2024-01-01")
    assert site.build().ok and (site.root / "output/pagefind").is_dir()
    monkeypatch.setattr(model, "SEARCH_AUTO", 3)
    post(site, "d.md", "D", "2024-01-01")           # the site grows past it
    report = site.build()
    assert report.ok and any("no search index: 4 pages" in n for n in report.notes), report.notes
    assert not (site.root / "output/pagefind").exists() and not doc(site, "a/index.html").find("form")
    site.settings('[tool.nbpress]\ntitle = "Ex"\nsearch = true\n')
    report = site.build()
    assert (site.root / "output/pagefind").is_dir() and not any("search" in n for n in report.notes)


def test_a_retitled_neighbour_is_shown_by_the_pages_kept_beside_it(site):
    """Kept pages skip the layout check when their section's order and titles are as the
    last build saw them: a retitle must still reach the pages beside it."""
    settings(site)
    post(site, "blog/a.md", "Alpha", "2024-01-01")
    post(site, "blog/b.md", "Beta", "2024-01-02")
    post(site, "blog/c.md", "Gamma", "2024-01-03")
    assert site.build().ok
    assert site.build().count(Outcome.UNCHANGED) == 3
    post(site, "blog/b.md", "Beta, retitled", "2024-01-02")
    assert site.build().ok
    (newer,) = doc(site, "blog/a/index.html").find("a", "page-next")
    (older,) = doc(site, "blog/c/index.html").find("a", "page-previous")
    assert "Beta, retitled" in newer["text"] and "Beta, retitled" in older["text"]
    post(site, "blog/d.md", "Delta", "2024-01-04")            # a new newest page
    assert site.build().ok
    (newer,) = doc(site, "blog/c/index.html").find("a", "page-next")
    assert "Delta" in newer["text"]


def test_the_sitemap_lists_tag_pages_and_the_tag_index(site):
    settings(site, "paginate = 1\n")
    post(site, "blog/a.md", "A", "2024-01-01", "tags: [x]\n")
    post(site, "blog/b.md", "B", "2024-03-01", 'tags: [x, "y z"]\nedited: "2024-04-02"\n')
    assert site.build().ok
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    root = ET.parse(site.root / "output/sitemap.xml").getroot()
    urls = {u.findtext(f"{ns}loc"): u.findtext(f"{ns}lastmod") for u in root}
    assert urls[BASE + "tags/x/"] == "2024-04-02" and urls[BASE + "tags/y-z/"] == "2024-04-02"
    assert urls[BASE + "tags/"] == "2024-04-02"
    assert BASE + "blog/page/2/" not in urls and (site.root / "output/blog/page/2").is_dir()
