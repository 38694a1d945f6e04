"""Site-wide files of issue 8: robots.txt naming the sitemap, and the sitemap's lastmod.
The sitemap is read with an XML parser."""
from __future__ import annotations

import xml.etree.ElementTree as ET

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def lastmods(site) -> dict[str, str | None]:
    """The sitemap's URLs with their lastmod, read with an XML parser."""
    root = ET.parse(site.root / "output/sitemap.xml").getroot()
    return {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in root.findall("s:url", NS)}


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
    lastmod = lastmods(site)
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
            if tag == "nav" and dict(attrs).get("class") == "site-nav":
                self.depth += 1
            elif tag == "a" and self.depth:
                self.links.append(dict(attrs).get("href"))

        def handle_endtag(self, tag):
            if tag == "nav" and self.depth:
                self.depth -= 1

    nav = Nav()
    nav.feed((site.root / "output/nb-00/index.html").read_text())
    assert len(nav.links) <= 3, nav.links           # Home and the one section
    home = (site.root / "output/index.html").read_text()
    assert all(f"Chapter {i}" in home for i in range(30))   # listed on the home page


def test_a_missing_image_warns_and_strict_fails_the_build(site):
    import subprocess
    import sys

    site.page("a.md", '---\ntitle: "A"\n---\n\n![gone](nope.png)\n')

    def build(*extra):
        return subprocess.run([sys.executable, "-m", "pipeline", "build", "--site",
                               str(site.root), *extra], capture_output=True, text=True)

    plain = build()
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "nope.png" in plain.stdout + plain.stderr
    assert (site.root / "output/a/index.html").is_file()
    strict = build("--strict")
    assert strict.returncode == 1 and "--strict" in strict.stdout + strict.stderr
    site.file("content/nope.png", b"\x89PNG fake")
    assert build("--strict").returncode == 0          # the page was watching for the file


def test_footnotes_meet_across_cells_of_a_prose_page(site):
    site.page("f.md", '---\ntitle: "F"\n---\n\nText with a note.[^1]\n\n\nMore text after two '
                      'blank lines.\n\n[^1]: First note.\n')
    assert site.build().ok
    html = (site.root / "output/f/index.html").read_text()
    assert "First note." in html and "[^1]" not in html and 'href="#fn1"' in html


def test_unsupported_directives_are_warned_at_their_own_lines(site):
    fence = "```"
    site.page("d.md", '---\ntitle: "D"\n---\n\n'
                      f'{fence}{{mermaid}}\na\n{fence}\n\nText.\n\n{fence}{{mermaid}}\nb\n{fence}\n'
                      f'\n````{{example}}\nc\n````\n\n{fence}{{example}}\nd\n{fence}\n')
    report = site.build()
    lines = sorted(int(w.split(":")[1]) for r in report.results for w in r.warnings)
    assert lines == [5, 11, 15, 19], lines


def test_a_title_with_markdown_from_the_first_heading_is_shown_once(site):
    site.page("t.md", "# The *new* `engine`\n\nBody.\n")
    assert site.build().ok
    html = (site.root / "output/t/index.html").read_text()
    assert html.count("<h1") == 1


def test_sitemap_lastmod_of_home_is_the_newest_even_with_an_undated_home_page(site):
    site.settings('[tool.nbpress]\nbase_url = "https://ex.example/"\n')
    site.page("index.md", '---\ntitle: "Home"\n---\n\nWelcome.\n')
    site.page("blog/post.md", '---\ntitle: "P"\nedited: "2024-05-05"\n---\n\nP.\n')
    assert site.build().ok
    lastmod = lastmods(site)
    assert lastmod["https://ex.example/"] == "2024-05-05"


def test_undated_top_level_pages_are_listed_by_title_when_off_the_nav(site):
    for i in range(1, 8):
        site.page(f"top-{i}.md", f'---\ntitle: "Top {i}"\n---\n\nT.\n')
    assert site.build().ok
    home = (site.root / "output/index.html").read_text()
    positions = [home.index(f">Top {i}<") for i in range(1, 8)]
    assert positions == sorted(positions)


def test_a_notebook_whose_widget_metadata_lacks_its_state_is_published_with_a_warning(site):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(metadata={"widgets": {"application/vnd.jupyter.widget-view+json": {}},
                                "language_info": {"name": "python"}},
                      cells=[new_markdown_cell("# Widgets"),
                             new_code_cell("slider", execution_count=1, outputs=[
                                 new_output("execute_result", {"text/plain": "IntSlider(value=3)"},
                                            execution_count=1)])])
    path = site.root / "content/w.ipynb"
    nbformat.write(nb, path)
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    [warning] = next(r for r in report.results if r.source.rel == "w").warnings
    assert str(path) in warning and "widget" in warning
    assert "IntSlider(value=3)" in (site.root / "output/w/index.html").read_text()
