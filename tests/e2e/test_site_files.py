"""Site-wide files of issue 8: robots.txt naming the sitemap, and the sitemap's lastmod.
The sitemap is read with an XML parser."""
from __future__ import annotations

import xml.etree.ElementTree as ET

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_robots_txt_names_the_sitemap_and_static_robots_wins(site):
    site.settings('[tool.nbpress]\nbase_url = "https://ex.example/site/"\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    robots = (site.root / "output/robots.txt").read_text()
    assert "Sitemap: https://ex.example/site/sitemap.xml" in robots.splitlines()
    site.file("static/robots.txt", "User-agent: *\nDisallow: /\n")
    assert site.build().ok
    assert (site.root / "output/robots.txt").read_text() == "User-agent: *\nDisallow: /\n"


def test_no_base_url_no_sitemap_and_no_robots(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    assert not (site.root / "output/robots.txt").exists()
    assert not (site.root / "output/sitemap.xml").exists()


def test_sitemap_lastmod_is_edited_else_the_date_and_listings_take_their_newest(site):
    site.settings('[tool.nbpress]\nbase_url = "https://ex.example/"\n')
    site.page("blog/old.md", '---\ntitle: "Old"\ndate: "2024-01-02"\nedited: "2024-06-07"\n---\n\nO.\n')
    site.page("blog/new.md", '---\ntitle: "New"\ndate: "2024-03-04"\n---\n\nN.\n')
    site.page("about.md", '---\ntitle: "About"\n---\n\nNo date.\n')
    assert site.build().ok
    root = ET.parse(site.root / "output/sitemap.xml").getroot()
    lastmod = {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
               for u in root.findall("s:url", NS)}
    assert lastmod == {"https://ex.example/": "2024-06-07",
                       "https://ex.example/blog/": "2024-06-07",
                       "https://ex.example/blog/old/": "2024-06-07",
                       "https://ex.example/blog/new/": "2024-03-04",
                       "https://ex.example/about/": None}


def test_the_header_nav_stays_short_however_many_top_level_pages(site):
    from html.parser import HTMLParser

    for i in range(30):
        site.page(f"nb-{i:02}.md", f'---\ntitle: "Chapter {i}"\n---\n\nText {i}.\n')
    site.page("part/one.md", '---\ntitle: "One"\n---\n\nOne.\n')
    assert site.build().ok

    class Nav(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.links = 0, []

        def handle_starttag(self, tag, attrs):
            if tag == "nav":
                self.depth += 1
            elif tag == "a" and self.depth:
                self.links.append(dict(attrs).get("href"))

        def handle_endtag(self, tag):
            if tag == "nav":
                self.depth -= 1

    nav = Nav()
    nav.feed((site.root / "output/nb-00/index.html").read_text())
    assert len(nav.links) <= 3, nav.links           # Home and the one section
    home = (site.root / "output/index.html").read_text()
    assert all(f"Chapter {i}" in home for i in range(30))   # listed on the home page
