"""Regressions of issue 7 in the engine: what a page depends on, and what a build repairs.
Each test is a scenario that published a wrong or stale page before."""
from __future__ import annotations

import nbformat

from pipeline.model import Outcome
from pipeline.author.sync import sync_site

READS_DATA = '---\ntitle: "{name}"\n---\n\n```python\nprint("DATA:", open("data.txt").read())\n```\n'


def result(report, rel):
    return next(r for r in report.results if r.source.rel == rel)


def html(site, slug):
    return (site.root / "output" / slug / "index.html").read_text(encoding="utf-8")


def test_bug1_two_pages_with_the_same_code_read_their_own_data(site):
    for name in ("a", "b"):
        site.page(f"{name}/index.md", READS_DATA.format(name=name))
        site.file(f"content/{name}/data.txt", f"data of {name}")
    report = site.build(jobs=1)
    assert report.ok
    assert "DATA: data of a" in html(site, "a")
    assert "DATA: data of b" in html(site, "b")


def test_bug1_a_changed_data_file_beside_a_page_runs_its_code_again(site):
    site.page("a/index.md", READS_DATA.format(name="a"))
    data = site.file("content/a/data.txt", "first")
    assert site.build().ok
    data.write_text("second")
    r = result(site.build(), "a/index")
    assert r.outcome is Outcome.BUILT and r.executed
    assert "DATA: second" in html(site, "a")


def test_bug14_a_display_only_tag_does_not_run_the_code_again(site):
    code = '---\ntitle: "T"\n---\n\n```python{tags}\nprint(40 + 2)\n```\n'
    site.page("t.md", code.format(tags=""))
    assert result(site.build(), "t").executed
    site.page("t.md", code.format(tags=' tags=["hide-input"]'))
    r = result(site.build(), "t")
    assert r.outcome is Outcome.BUILT and not r.executed and r.cached


def test_bug4_a_run_in_jupyter_is_published_though_the_page_is_unchanged(site):
    site.page("j.md", '---\ntitle: "J"\n---\n\n```python\nx = 1\nx\n```\n')
    assert site.build().ok
    sync_site(site.config())
    path = site.root / "notebooks/j.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "RUN IN JUPYTER"},
                                           execution_count=1)]
    code.execution_count = 1
    nbformat.write(nb, path)
    r = result(site.build(), "j")
    assert r.outcome is Outcome.BUILT and r.twin
    assert "RUN IN JUPYTER" in html(site, "j")


def test_bug5_a_change_to_nbpress_code_rebuilds_every_page(site, tmp_path):
    """A copy of the package, changed by one comment: every page is built again."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import REPO

    shutil.copytree(REPO / "pipeline", tmp_path / "pkg/pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    site.page("p.md", '---\ntitle: "P"\n---\n\nText.\n')

    def build() -> str:
        run = subprocess.run([sys.executable, "-m", "pipeline", "build", "--why", "--site",
                              str(site.root)], capture_output=True, text=True, timeout=120,
                             cwd=tmp_path,
                             env={"PYTHONPATH": str(tmp_path / "pkg"), "PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr
        return run.stderr + run.stdout

    first = build()
    second = build()
    assert "unchanged  content/p.md" in second, (first, second)
    with (tmp_path / "pkg/pipeline/site/layout.py").open("a") as f:
        f.write("\n# a local change\n")
    out = build()
    assert "built  content/p.md  site settings, nbpress or its libraries changed" in out, out


def test_bug9_a_slug_that_names_a_site_file_fails_that_page_only(site):
    site.page("a.md", '---\ntitle: "A"\nslug: /404.html\n---\n\nA.\n')
    site.page("b.md", '---\ntitle: "B"\nslug: /sitemap.xml\n---\n\nB.\n')
    site.page("c.md", '---\ntitle: "C"\nslug: /blog/index.html\n---\n\nC.\n')
    site.page("ok.md", '---\ntitle: "OK"\n---\n\nFine.\n')
    report = site.build()
    for rel in ("a", "b", "c"):
        r = result(report, rel)
        assert r.outcome is Outcome.FAILED and "would overwrite a file nbpress writes for the whole site" in r.error.message
    assert result(report, "ok").outcome is Outcome.BUILT
    assert (site.root / "output/404.html").is_file()


def test_bug10_a_section_with_spaces_and_accents_lists_its_pages_where_they_are(site):
    site.settings('[tool.nbpress]\nbase_url = "https://x.example/"\n')
    site.page("Notes Folder/Café.md", '---\ntitle: "Café"\n---\n\nText.\n')
    assert site.build().ok
    out = site.root / "output"
    assert (out / "notes-folder/café/index.html").is_file()
    assert (out / "notes-folder/index.html").is_file()
    assert not (out / "Notes Folder").exists()
    listing = (out / "notes-folder/index.html").read_text()
    assert 'href="caf%C3%A9/"' in listing
    home = (out / "index.html").read_text()
    assert 'href="notes-folder/"' in home
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://x.example/notes-folder/caf%C3%A9/</loc>" in sitemap
    assert "<loc>https://x.example/notes-folder/</loc>" in sitemap
    page = (out / "notes-folder/café/index.html").read_text()
    assert '<link rel="canonical" href="https://x.example/notes-folder/caf%C3%A9/">' in page


def test_bug15_a_warning_is_said_again_while_the_page_is_kept(site):
    site.page("w.md", '---\ntitle: "W"\n---\n\n[gone](missing.md)\n')
    first = result(site.build(), "w")
    assert first.warnings
    again = result(site.build(), "w")
    assert again.outcome is Outcome.UNCHANGED and again.warnings == first.warnings
    site.page("w.md", '---\ntitle: "W"\n---\n\nNo link now.\n')
    assert not result(site.build(), "w").warnings


def test_bug16_a_deleted_site_file_is_written_again(site):
    site.settings('[tool.nbpress]\nbase_url = "https://x.example/"\n')
    site.page("p.md", '---\ntitle: "P"\n---\n\nText.\n')
    assert site.build().ok
    out = site.root / "output"
    for name in ("assets/site.css", "index.html", "404.html", "sitemap.xml"):
        (out / name).unlink()
        report = site.build()
        assert report.ok and (out / name).is_file(), name
        assert result(report, "p").outcome is Outcome.UNCHANGED


def test_bug17_static_files_are_published_at_the_root_and_follow_edits(site):
    site.page("p.md", '---\ntitle: "P"\n---\n\nText.\n')
    site.file("static/CNAME", "peter.example.org\n")
    site.file("static/downloads/cv.pdf", b"%PDF-1.4 fake")
    assert site.build().ok
    out = site.root / "output"
    assert (out / "CNAME").read_text() == "peter.example.org\n"
    assert (out / "downloads/cv.pdf").read_bytes() == b"%PDF-1.4 fake"
    site.file("static/robots.txt", "User-agent: *\n")
    assert site.build().ok and (out / "robots.txt").is_file()
    (site.root / "static/CNAME").unlink()
    assert site.build().ok and not (out / "CNAME").exists()


def test_bug17_a_page_cannot_take_the_name_of_a_static_file(site):
    site.page("robots.txt.md", '---\ntitle: "R"\nslug: /robots.txt\n---\n\nText.\n')
    site.file("static/robots.txt", "User-agent: *\n")
    r = result(site.build(), "robots.txt")
    assert r.outcome is Outcome.FAILED


def test_bug17_a_site_of_drafts_only_says_so_and_writes_a_site(site):
    site.page("d.md", '---\ntitle: "D"\ndraft: true\n---\n\nText.\n')
    report = site.build()
    assert any("no page is published: 1 draft left out" in n for n in report.notes)
    assert (site.root / "output/index.html").is_file()


FAILS = '---\ntitle: "Broken"\n---\n\n```python\nraise ValueError("no")\n```\n'


def nav_hrefs(site, slug):
    from html.parser import HTMLParser

    class Nav(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.links = False, []

        def handle_starttag(self, tag, attrs):
            if tag == "nav":
                self.inside = True
            elif tag == "a" and self.inside:
                self.links.append(dict(attrs)["href"])

        def handle_endtag(self, tag):
            if tag == "nav":
                self.inside = False

    parser = Nav()
    parser.feed(html(site, slug))
    return parser.links


def test_bug6_a_new_page_that_fails_is_linked_from_no_page(site):
    site.page("about.md", '---\ntitle: "About"\n---\n\nMe.\n')
    site.page("blog/index.md", '---\ntitle: "Blog"\n---\n\nPosts:\n')
    site.page("blog/one.md", '---\ntitle: "One"\ndate: "2024-01-01"\n---\n\nOne.\n')
    assert site.build().ok
    site.page("broken.md", FAILS)
    site.page("blog/two.md", FAILS.replace('"Broken"', '"Two"'))
    report = site.build()
    assert result(report, "broken").outcome is Outcome.FAILED
    assert result(report, "about").outcome is Outcome.UNCHANGED
    assert not any(h.endswith("broken/") for h in nav_hrefs(site, "about"))
    assert "two/" not in html(site, "blog") and "one/" in html(site, "blog")
    assert "broken/" not in (site.root / "output/index.html").read_text()
    again = site.build()            # still failing: the other pages are left alone
    assert result(again, "about").outcome is Outcome.UNCHANGED
    assert not any(h.endswith("broken/") for h in nav_hrefs(site, "about"))


def test_bug6_a_page_that_builds_again_is_linked_without_rebuilding_the_others(site):
    site.page("about.md", '---\ntitle: "About"\n---\n\nMe.\n')
    site.page("broken.md", FAILS)
    site.build()
    assert "../broken/" not in nav_hrefs(site, "about")
    site.page("broken.md", '---\ntitle: "Broken"\n---\n\nFixed.\n')
    report = site.build()
    assert result(report, "broken").outcome is Outcome.BUILT
    assert result(report, "about").outcome is Outcome.UNCHANGED     # laid out again only
    assert "../broken/" in nav_hrefs(site, "about")


def test_a_folder_of_static_files_does_not_take_the_section_of_that_name(site):
    site.page("blog/a.md", '---\ntitle: "A"\n---\n\nA.\n')
    site.file("static/blog/feed.xml", "<feed/>")
    site.file("static/about", "a file named about")
    site.page("about.md", '---\ntitle: "About"\n---\n\nMe.\n')
    report = site.build()
    assert result(report, "blog/a").outcome is Outcome.BUILT
    assert (site.root / "output/blog/feed.xml").is_file()
    assert result(report, "about").outcome is Outcome.FAILED       # a file where its folder goes


def test_a_page_built_after_a_failed_one_publishes_the_new_version_of_their_image(site):
    """The failed page's last good files are carried (the old image among them) while a
    worker builds the other page: the new image must win."""
    from tests.conftest import PNG_1PX

    check = ('---\ntitle: "A"\n---\n\n![a](img.png)\n\n```python\nimport os\n'
             'assert os.path.getsize("img.png") < 100, "too big"\n```\n')
    slow = '---\ntitle: "B"\n---\n\n![b](img.png)\n\n```python\nimport time\ntime.sleep(3)\n```\n'
    site.page("a.md", check)
    site.page("b.md", slow)
    image = site.file("content/img.png", PNG_1PX)
    assert site.build(jobs=2).ok
    image.write_bytes(PNG_1PX + b"\0" * 200)
    report = site.build(jobs=2)
    assert result(report, "a").outcome is Outcome.FAILED and result(report, "b").outcome is Outcome.BUILT, \
        [str(r.error) for r in report.failed]           # (seen once under load: b failed too)
    assert (site.root / "output/img.png").read_bytes() == image.read_bytes()


def test_an_article_left_by_a_stopped_build_is_never_published(site):
    import pytest

    site.page("p.md", '---\ntitle: "P"\n---\n\nORIGINAL text.\n')
    site.page("q.md", '---\ntitle: "Q"\n---\n\nQ.\n')
    assert site.build(jobs=1).ok
    original = (site.root / "content/p.md").read_text()
    site.page("p.md", '---\ntitle: "P"\n---\n\nEDITED text.\n')

    def stop(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        site.build(jobs=1, on_page=stop)
    (site.root / "content/p.md").write_text(original)
    site.page("r.md", '---\ntitle: "R"\n---\n\nA new page: every nav changes.\n')
    assert site.build(jobs=1).ok
    assert "ORIGINAL text." in html(site, "p") and "EDITED" not in html(site, "p")
    assert any(h.endswith("r/") for h in nav_hrefs(site, "p"))


def test_a_page_kept_after_a_failure_keeps_its_place_in_the_nav(site):
    site.page("about.md", '---\ntitle: "About"\n---\n\nMe.\n')
    site.page("notes.md", '---\ntitle: "Notes"\n---\n\nNotes.\n')
    assert site.build().ok
    site.page("about.md", '---\ntitle: [About\n---\n\nMe.\n')
    report = site.build()
    assert result(report, "about").outcome is Outcome.FAILED and result(report, "about").kept_previous
    site.page("new.md", '---\ntitle: "New"\n---\n\nNew.\n')      # every nav is laid out again
    site.build()
    assert "../about/" in nav_hrefs(site, "notes")


def test_a_page_whose_article_cannot_be_read_back_is_built_again(site):
    site.page("about.md", '---\ntitle: "About"\n---\n\nMe.\n')
    assert site.build().ok
    page = site.root / "output/about/index.html"
    text = page.read_text().replace("<!--nbpress:article", "<!--gone")
    page.unlink()
    page.write_text(text)               # as a theme without the markers would have written it
    site.page("blog/a.md", '---\ntitle: "A"\n---\n\nA post.\n')
    site.build()
    report = site.build()
    assert result(report, "about").outcome is Outcome.BUILT
    assert "../blog/" in nav_hrefs(site, "about")


def test_the_article_is_read_back_whatever_the_page_holds():
    from pipeline.site.layout import article_of, script_json

    body = 'Text <!--/nbpress:article--> and <!--nbpress:article {"image": "x"}--> in it\n'
    page = (f'<title>&lt;!--nbpress:article</title>\n<!--nbpress:article '
            f'{script_json({"image": "a -->.png"})}-->\n{body}\n<!--/nbpress:article-->\n'
            '<script>{"t": "\\u003c!--/nbpress:article--\\u003e"}</script>')
    assert article_of(page) == (body, "a -->.png", ())
    assert article_of("<p>no markers</p>") is None


def test_a_touched_page_leaves_the_next_build_on_the_fast_path(site):
    import os

    from pipeline import __version__
    from pipeline.build import state as statefile
    from pipeline.build.output import output_id
    from pipeline.sources.discover import stamps

    page = site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 10**9))
    assert result(site.build(), "a").outcome is Outcome.UNCHANGED
    config = site.config()
    saved = statefile.load(config.root / ".nbpress-cache", __version__, output_id(config.output),
                           pages=False)
    assert saved.sources == stamps(config)


def test_publishing_drafts_lays_the_other_pages_out_again_without_exporting_them(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    site.page("d.md", '---\ntitle: "Draft"\ndraft: true\n---\n\nD.\n')
    assert site.build().ok
    report = site.build(drafts=True)
    assert result(report, "a").outcome is Outcome.UNCHANGED
    assert result(report, "d").outcome is Outcome.BUILT
    assert "../d/" in nav_hrefs(site, "a")
    report = site.build()
    assert result(report, "d").outcome is Outcome.SKIPPED and not (site.root / "output/d").exists()
    assert "../d/" not in nav_hrefs(site, "a")


def test_a_file_added_beside_a_page_runs_its_code_again(site):
    site.page("report/index.md", '---\ntitle: "R"\n---\n\n```python\nimport glob\n'
                                 'print("files:", len(glob.glob("data/*.csv")))\n```\n')
    site.file("content/report/data/jan.csv", "1\n")
    assert site.build().ok and "files: 1" in html(site, "report")
    site.file("content/report/data/feb.csv", "2\n")
    r = result(site.build(), "report/index")
    assert r.outcome is Outcome.BUILT and r.executed and "files: 2" in html(site, "report")


def test_a_linked_file_added_later_is_published(site):
    site.page("p.md", '---\ntitle: "P"\n---\n\n[the PDF](paper.pdf)\n')
    assert result(site.build(), "p").warnings
    site.file("content/paper.pdf", b"%PDF-1.4")
    r = result(site.build(), "p")
    assert r.outcome is Outcome.BUILT and not r.warnings
    assert (site.root / "output/paper.pdf").read_bytes() == b"%PDF-1.4"


def test_the_outputs_of_a_twin_beside_the_page_are_published(site):
    site.page("calc.md", '---\ntitle: "Calc"\n---\n\n```python\n0.1 + 0.2\n```\n')
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_raw_cell('---\ntitle: "Calc"\n---'),
                nbformat.v4.new_code_cell("0.1 + 0.2", execution_count=1, outputs=[
                    nbformat.v4.new_output("execute_result", data={"text/plain": "RUN BESIDE"},
                                           execution_count=1)])]
    nb.metadata["jupytext"] = {"formats": "ipynb,md"}
    nbformat.write(nb, site.root / "content/calc.ipynb")
    r = result(site.build(), "calc")
    assert r.twin and "RUN BESIDE" in html(site, "calc")


def test_a_link_to_a_new_page_that_fails_is_said_and_mended_when_it_builds(site):
    site.page("ok.md", '---\ntitle: "OK"\n---\n\nSee [the picture](pic.md).\n')
    site.page("pic.md", '---\ntitle: "Pic"\nfeaturedImage: missing.png\n---\n\nPic.\n')
    report = site.build()
    assert result(report, "pic").outcome is Outcome.FAILED
    assert any("pic.md, which failed" in w for w in result(report, "ok").warnings)
    assert result(site.build(), "ok").outcome is Outcome.UNCHANGED   # still failing: kept
    site.page("pic.md", '---\ntitle: "Pic"\n---\n\nNo picture.\n')
    report = site.build()
    assert result(report, "ok").outcome is Outcome.BUILT and not result(report, "ok").warnings
    assert (site.root / "output/pic/index.html").is_file()
