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
