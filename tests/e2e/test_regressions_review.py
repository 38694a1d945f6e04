"""Bugs a review of the engine reproduced (issue 7, second review), one test each: the fast
path and the full plan must agree, and a build must give what a fresh build gives."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipeline.build.engine import plan_site
from pipeline.model import Outcome


def result(report, rel: str):
    return next(r for r in report.results if r.source.rel == rel)


def edit_keeping_stamp(path: Path, old: str, new: str) -> None:
    """Change the file's bytes but not its size or mtime (as `cp -p`, `tar`, `rsync -t` or a
    checkout of an equal-length revision can)."""
    assert len(old) == len(new)
    st = path.stat()
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_deleted_image_of_a_page_is_restored_by_the_next_build(site):
    site.file("content/img/p.png", b"\x89PNG fake")
    site.page("plain.md", '---\ntitle: "Plain"\n---\n\n![p](img/p.png)\n')
    assert site.build().ok
    copied = site.root / "output/img/p.png"
    assert copied.is_file()
    copied.unlink()
    report = site.build()
    assert result(report, "plain").reason == "its output is missing"
    assert copied.is_file()


def test_an_edit_that_keeps_size_and_mtime_is_built(site):
    page = site.page("plain.md", '---\ntitle: "Plain"\n---\n\nHello there.\n')
    assert site.build().ok
    edit_keeping_stamp(page, "Hello", "Howdy")
    report = site.build()
    assert result(report, "plain").outcome is Outcome.BUILT
    assert "Howdy" in (site.root / "output/plain/index.html").read_text()


def test_a_data_file_edited_keeping_size_and_mtime_runs_the_code_again(site):
    data = site.file("content/code/x.csv", "value,2\n")     # a page bundle: its data beside it
    site.page("code/index.md", '---\ntitle: "Code"\n---\n\n```python\n'
                               'print(open("x.csv").read())\n```\n')
    assert site.build().ok
    assert "value,2" in (site.root / "output/code/index.html").read_text()
    edit_keeping_stamp(data, "value,2", "value,3")
    assert site.build().ok
    assert "value,3" in (site.root / "output/code/index.html").read_text()


def test_an_image_edited_keeping_size_and_mtime_is_copied_again(site):
    image = site.file("content/img/p.png", b"\x89PNG one")
    site.page("plain.md", '---\ntitle: "Plain"\n---\n\n![p](img/p.png)\n')
    assert site.build().ok
    edit_keeping_stamp(image, "one", "two")
    assert site.build().ok
    assert (site.root / "output/img/p.png").read_bytes() == b"\x89PNG two"


def test_a_static_file_edited_keeping_size_and_mtime_is_published(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    robots = site.file("static/robots.txt", "User-agent: *\nAllow: /\n")
    assert site.build().ok
    edit_keeping_stamp(robots, "Allow", "Deny!")
    assert site.build().ok
    assert "Deny!" in (site.root / "output/robots.txt").read_text()


def test_frontmatter_that_looks_like_a_stored_date_is_kept_as_written(site):
    site.page("a.md", '---\ntitle: "A"\nrelease: {"$date": "2024-01-01"}\n---\n\nA.\n')
    assert site.build().ok
    site.settings('title = "Another title"\n')     # every page laid out again from the state
    assert site.build().ok
    plan = plan_site(site.config())
    page = next(d.page for d in plan.decisions if d.page.source.rel == "a")
    assert page.meta["release"] == {"$date": "2024-01-01"}


def test_a_new_page_cannot_take_the_url_of_a_failed_page_that_is_kept(site):
    old = site.page("blog/old.md", '---\ntitle: "Old post"\n---\n\nOld.\n')
    assert site.build().ok
    old.write_text('---\ntitle: "Old post\n---\n\nOld.\n')         # bad YAML: kept
    assert not site.build().ok
    site.page("blog/new.md", '---\ntitle: "Newcomer"\nslug: /blog/old\n---\n\nNew.\n')
    report = site.build()
    new = result(report, "blog/new")
    assert new.outcome is Outcome.FAILED and "could not be read" in new.error.message
    assert "Old post" in (site.root / "output/blog/old/index.html").read_text()
    listing = (site.root / "output/blog/index.html").read_text()
    assert "Newcomer" not in listing and listing.count('href="old/"') == 1


def test_the_warning_about_a_link_to_a_failed_page_goes_once_that_page_builds(site):
    from tests.conftest import PNG_1PX

    site.page("chart.md", '---\ntitle: "Chart"\nfeaturedImage: chart.png\n---\n\nChart.\n')
    site.page("linker.md", '---\ntitle: "Linker"\n---\n\nSee [the chart](chart.md).\n')
    first = site.build()
    assert result(first, "chart").outcome is Outcome.FAILED
    assert any("chart.md" in w for w in result(first, "linker").warnings)
    site.file("content/chart.png", PNG_1PX)
    second = site.build()
    assert second.ok and result(second, "chart").outcome is Outcome.BUILT
    assert not result(second, "linker").warnings, result(second, "linker")
    assert result(second, "linker").reason == "a page it links to built after all"
    third = site.build()
    assert not any(r.warnings for r in third.results)
    assert 'href="../chart/"' in (site.root / "output/linker/index.html").read_text()


def test_code_runs_again_when_the_installed_packages_change(site, tmp_path, monkeypatch):
    """A package upgraded: its dist-info folder renamed, as pip does; the module's value
    changes. Both builds here run in this process (forked kernels inherit sys.path)."""
    packages = tmp_path / "site-packages"
    module = packages / "nbpress_probe_pkg.py"
    module.parent.mkdir()
    module.write_text("VALUE = 1\n")
    (packages / "nbpress_probe_pkg-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(packages))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(packages), os.environ.get("PYTHONPATH", "")]))
    site.page("pk.md", '---\ntitle: "Pk"\n---\n\n```python\nimport nbpress_probe_pkg\n'
                       'print("probe", nbpress_probe_pkg.VALUE)\n```\n')
    site.page("prose.md", '---\ntitle: "Prose"\n---\n\nNo code.\n')
    assert site.build(isolate=True).ok
    assert "probe 1" in (site.root / "output/pk/index.html").read_text()
    module.write_text("VALUE = 2\n")
    (packages / "nbpress_probe_pkg-1.0.dist-info").rename(packages / "nbpress_probe_pkg-2.0.dist-info")
    report = site.build(isolate=True)
    assert result(report, "pk").outcome is Outcome.BUILT and result(report, "pk").executed
    assert result(report, "pk").reason == "the installed packages changed (it has code)"
    assert result(report, "prose").outcome is Outcome.UNCHANGED   # no code: nothing to run
    assert "probe 2" in (site.root / "output/pk/index.html").read_text()


def test_a_service_sees_edited_settings_and_same_stamp_edits(site):
    from pipeline.build.service import BuildService

    page = site.page("a.md", '---\ntitle: "First"\n---\n\nA.\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nB.\n')
    site.settings('[tool.nbpress]\ntitle = "Before"\n')
    with BuildService(site.config()) as service:
        assert service.build().ok
        edit_keeping_stamp(page, "First", "Other")
        site.page("b.md", '---\ntitle: "B2"\n---\n\nB.\n')
        report = service.build()
        assert result(report, "a").outcome is Outcome.BUILT
        assert "Other" in (site.root / "output/a/index.html").read_text()
        site.settings('[tool.nbpress]\ntitle = "After"\n')
        assert service.build().ok
        assert "After" in (site.root / "output/index.html").read_text()
        assert "After" in (site.root / "output/b/index.html").read_text()


def test_a_page_that_takes_the_old_url_of_a_failed_moved_page_does_not_leave_it_listed(site):
    post = site.page("blog/post.md", '---\ntitle: "Post"\n---\n\nThe post.\n')
    assert site.build().ok
    post.write_text('---\ntitle: "Post"\nslug: /blog/moved\n---\n\n'
                    '```python\nraise ValueError("boom")\n```\n')
    site.page("thief.md", '---\ntitle: "Thief"\nslug: /blog/post\n---\n\nThief.\n')
    report = site.build()
    failed = result(report, "blog/post")
    assert failed.outcome is Outcome.FAILED and not failed.kept_previous
    assert any("last good version is gone" in w for w in failed.warnings)
    assert "Thief" in (site.root / "output/blog/post/index.html").read_text()
    (site.root / "content/thief.md").unlink()
    site.build()
    assert not (site.root / "output/blog/post/index.html").exists()
    listing = site.root / "output/blog/index.html"       # the blog has no page left
    assert not listing.exists() or 'href="post/"' not in listing.read_text()


def test_a_link_to_a_page_that_cannot_be_read_goes_to_its_kept_version(site):
    post = site.page("blog/post.md", '---\ntitle: "Post"\n---\n\nThe post.\n')
    site.page("index.md", '---\ntitle: "Home"\n---\n\nRead [the post](blog/post.md).\n')
    assert site.build().ok
    post.write_text('---\ntitle: "Post\n---\n\nThe post.\n')       # bad YAML: kept
    site.page("index.md", '---\ntitle: "Home"\n---\n\nRead [the post](blog/post.md) now.\n')
    report = site.build()
    assert result(report, "blog/post").kept_previous
    assert not result(report, "index").warnings
    assert 'href="blog/post/"' in (site.root / "output/index.html").read_text()
    assert result(site.build(), "index").outcome is Outcome.UNCHANGED


def test_a_damaged_pages_file_is_noticed_with_nothing_else_changed(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    (site.root / ".nbpress-cache/pages.json").write_text("garbage")
    report = site.build()
    assert result(report, "a").outcome is Outcome.BUILT
    assert any("pages.json" in note for note in report.notes)
    assert result(site.build(), "a").outcome is Outcome.UNCHANGED


def test_scratch_folders_of_dead_builds_are_swept_by_any_build(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    scratch = site.root / ".nbpress-cache/tmp"
    dead = [scratch / "999999999-5-abc", scratch / "1-0-reused"]   # gone; pid reused by init
    for folder in dead:
        folder.mkdir(parents=True)
        (folder / "kernel-x.json").write_text("{}")
    site.page("a.md", '---\ntitle: "A"\n---\n\nA, edited: a prose build sweeps too.\n')
    assert site.build().ok
    assert not any(folder.exists() for folder in dead)


def test_a_command_run_below_a_site_names_the_site_it_acts_on(tmp_path):
    import subprocess
    import sys

    (tmp_path / "content").mkdir()
    (tmp_path / "content/t.md").write_text('---\ntitle: "T"\n---\n\nT.\n')
    inner = tmp_path / "inner"
    (inner / "docs").mkdir(parents=True)
    out = subprocess.run([sys.executable, "-m", "pipeline", "clean", "--site", str(inner)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    said = " ".join((out.stdout + out.stderr).split())
    assert f"the site is {tmp_path}" in said, said


def test_a_link_to_a_failed_page_whose_slug_changed_goes_to_its_kept_version(site):
    post = site.page("blog/post.md", '---\ntitle: "Post"\n---\n\nThe post.\n')
    site.page("index.md", '---\ntitle: "Home"\n---\n\nRead [the post](blog/post.md).\n')
    assert site.build().ok
    post.write_text('---\ntitle: "Post"\nslug: /blog/moved\n---\n\n'
                    '```python\nraise ValueError("boom")\n```\n')
    site.page("index.md", '---\ntitle: "Home"\n---\n\nRead [the post](blog/post.md) now.\n')
    first = site.build()
    assert result(first, "blog/post").kept_previous
    assert any("blog/post.md" in w for w in result(first, "index").warnings)   # said, at once
    second = site.build()             # the post fails again, unchanged: planned at its kept URL
    assert 'href="blog/post/"' in (site.root / "output/index.html").read_text()
    assert not result(second, "index").warnings
    assert not (site.root / "output/blog/moved").exists()


def test_a_page_with_an_unsupported_directive_is_published_with_a_warning_at_its_line(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nText.\n\n```{note}\nA note.\n```\n\n'
                      '```{mermaid}\ngraph TD; A-->B\n```\n')
    report = site.build()
    assert report.ok
    [warning] = result(report, "a").warnings
    assert "a.md:11:" in warning and "{mermaid}" in warning
    html = (site.root / "output/a/index.html").read_text()
    assert 'class="admonition note"' in html and "graph TD; A--&gt;B" in html


def test_a_title_taken_from_the_first_heading_is_shown_once(site):
    from html.parser import HTMLParser

    site.page("a.md", "# The real title\n\nBody.\n")
    site.page("b.md", '---\ntitle: "Own title"\n---\n\n# Another heading\n\nBody.\n')
    assert site.build().ok

    class H1s(HTMLParser):
        def __init__(self):
            super().__init__()
            self.count, self.inside, self.texts = 0, False, []

        def handle_starttag(self, tag, attrs):
            if tag == "h1":
                self.count, self.inside = self.count + 1, True
                self.texts.append("")

        def handle_endtag(self, tag):
            self.inside = self.inside and tag != "h1"

        def handle_data(self, data):
            if self.inside:
                self.texts[-1] += data

    for rel, expected in (("a", ["The real title"]), ("b", ["Own title", "Another heading"])):
        reader = H1s()
        reader.feed((site.root / f"output/{rel}/index.html").read_text())
        assert [t.strip() for t in reader.texts] == expected


def test_quarto_cell_options_and_folding_tags(site):
    """`#| echo: false` hides the code, `#| output: false` the output, `#| include: false`
    the cell; `hide-output` and `hide-cell` fold them in <details>. The option lines are not
    shown. Read back with an HTML parser."""
    from html.parser import HTMLParser

    fence = "```python"
    site.page("q.md", '---\ntitle: "Q"\n---\n\n'
                      f'{fence}\n#| echo: false\nprint("only-output")\n```\n\n'
                      f'{fence}\n#| output: false\nprint("no-output")\n```\n\n'
                      f'{fence}\n#| include: false\nprint("nothing-at-all")\n```\n\n'
                      f'{fence} tags=["hide-output"]\nprint("folded-output")\n```\n\n'
                      f'{fence} tags=["hide-cell"]\nprint("folded-cell")\n```\n')
    report = site.build()
    assert report.ok, report.failed

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.texts = [], []

        def handle_starttag(self, tag, attrs):
            self.stack.append((tag, dict(attrs).get("class", "")))

        def handle_endtag(self, tag):
            while self.stack and self.stack.pop()[0] != tag:
                pass

        def handle_data(self, data):
            if data.strip():
                self.texts.append((data.strip(), tuple(self.stack)))

    reader = Reader()
    reader.feed((site.root / "output/q/index.html").read_text())
    shown = {text: stack for text, stack in reader.texts}
    assert not any("#|" in text for text in shown)
    assert "only-output" in shown and not any('print("only-output")' in t for t in shown)
    assert not any("no-output" == t for t in shown)
    assert not any("nothing-at-all" in t for t in shown)
    folded = [t for t, stack in shown.items() if any(tag == "details" for tag, _ in stack)]
    assert "folded-output" in folded and any("folded-cell" in t for t in folded)
