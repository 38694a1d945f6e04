"""Review 16: commits 78ae65a (real content and bad input: a file never copied over a page,
`tags/`, `search/` and `page/N` reserved, nbformat 3, dangling symlinks, MyST `(target)=`,
`%` and `+++`, `{code-cell}` options, duplicate frontmatter keys, hashed tag slugs, base_url,
case/NFC slug clashes, `nbpress new --section`) and 579214e (fragment warnings: kept pages,
links as written, root-relative and own-URL links, the 25 suggestions, `check` with stored
outputs, malformed URLs, the template loader), read as a new user and as a maintainer would,
looking for what they break on ordinary sites.

Each `test_FINDING_...` fails on this code for the reason its docstring gives; the other
tests pin behaviour that was checked and works.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.model import Outcome
from tests.conftest import PNG_1PX, SiteMaker

REPO = Path(__file__).parents[2]
BEFORE = "fc16645"          # the parent of 78ae65a
H = '---\ntitle: "{}"\n---\n\n'


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def by_rel(report) -> dict:
    return {r.source.rel: r for r in report.results}


def broken(report) -> dict[str, list[str]]:
    """Page -> the links its fragment warnings name, and whether each has a 'did you mean'."""
    return {r.source.rel: [(w.split(": links to ", 1)[1].split(": no heading")[0],
                            "did you mean" in w)
                           for w in r.warnings if "no heading with that id" in w]
            for r in report.results}


def check(root: Path):
    from pipeline.author.check import check_site
    from pipeline.config import load_config

    return check_site(load_config(root))


def output(site, rel: str) -> str:
    return (site.root / "output" / rel).read_text(encoding="utf-8")


# == FINDINGS ====================================================================================

def test_FINDING_a_line_starting_with_percent_in_ordinary_markdown_vanishes(site):
    """render/markdown.py now uses mdit_py_plugins' myst_block_plugin for every page, and its
    `myst_line_comment` rule may interrupt a paragraph, a list item and a quote: any line whose
    first character is `%` is dropped from the page, silently. On a site about notebooks a
    line naming a magic (`%timeit ...`, `- %matplotlib inline: ...`) is ordinary CommonMark
    prose (README: "Markdown is CommonMark"), and it published before 78ae65a."""
    site.page("magics.md", H.format("Magics")
              + "IPython's line magics are handy:\n%timeit sum(range(100))\ntimes one line.\n\n"
                "- %matplotlib inline: plots in the page\n- %time: one run\n\n"
                "> Cell magics too:\n> %%writefile saves a cell\n\n"
                "Prices rose by 40\n% in a year.\n")
    assert site.build().ok
    html = output(site, "magics/index.html")
    for text in ("%timeit sum(range(100))", "%matplotlib inline", "%time: one run",
                 "%%writefile saves a cell", "% in a year"):
        assert text in html, f"{text!r} is not on the page"


def test_FINDING_pages_at_search_and_tags_fail_on_a_site_that_writes_nothing_there(site):
    """site/files.py `RESERVED` now holds `tags` and `search` whatever the site makes, and
    `reserved()` refuses `<x>/page/<n>` for every n: with `search = false` nbpress writes no
    /search/ page, a site without tags no /tags/, and no listing ever has a /page/1/
    (views.page_url gives page 1 the listing's own URL); yet a page `search.md`, `tags.md`, a
    section `content/search/` and `notes/page/1.md` all fail ("would overwrite a file nbpress
    writes"). Each built before 78ae65a."""
    site.settings("[tool.nbpress]\nsearch = false\n")
    site.page("search.md", H.format("How to find things here") + "Use the menu.\n")
    site.page("tags.md", H.format("My topics") + "A list I keep by hand.\n")
    site.page("search/engines.md", H.format("On search engines") + "Text\n")
    site.page("notes/page/1.md", H.format("Notebook page one") + "Text\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]


def test_FINDING_the_slug_a_reserved_page_is_told_to_take_is_reserved_too(site):
    """A page under `content/tags/` fails with "fix: choose another slug:
    /tags/html-tags-page" (publish._other_slug appends "-page" to the last part); that slug
    is under tags/ too, so following the fix fails the page again with the same advice."""
    site.page("post.md", "---\ntitle: Post\ntags: [html]\n---\nx\n")
    site.page("tags/html-tags.md", H.format("HTML tags") + "Text\n")
    (failed,) = site.build().failed
    offered = re.search(r"choose another slug: (\S+)", str(failed.error)).group(1)
    site.page("tags/html-tags.md", f'---\ntitle: "HTML tags"\nslug: {offered}\n---\n\nText\n')
    report = site.build()
    assert report.ok, f"the offered slug {offered} fails too: {report.failed[0].error}"


def test_FINDING_ordinary_tags_with_a_slash_or_a_leading_dot_change_url(site):
    """site/model.py `tag_slug` now adds a hash whenever a character is dropped, not only
    when two tags would meet: `CI/CD` moves from /tags/ci-cd/ to /tags/ci-cd-<hash>/, `.NET`
    from /tags/net/ to /tags/net-<hash>/ (their feeds too), though no other tag is there. The
    published URLs and feed subscriptions break, with no redirect (an alias under tags/ is
    refused as reserved)."""
    from pipeline.site.model import tag_url

    site.page("a.md", "---\ntitle: A\ntags: [CI/CD, .NET, TCP/IP]\n---\nx\n")
    assert site.build().ok
    made = sorted(p.name for p in (site.root / "output/tags").iterdir() if p.is_dir())
    assert [tag_url(t) for t in ("CI/CD", ".NET", "TCP/IP")] == [
        "/tags/ci-cd/", "/tags/net/", "/tags/tcp-ip/"], made


def test_FINDING_a_page_added_where_a_kept_page_s_file_is_published_takes_it_silently(
        site, tmp_path):
    """a.md links to the file content/demo/index.html; later demo.md is added. A clean build
    fails a.md ("refers to content/demo/index.html, which would be published over
    demo/index.html, the page of content/demo.md"), but the incremental build keeps a.md
    UNCHANGED with no word: writer._not_over_a_page runs only when a page is rendered, and a
    kept page's files are never held against pages new in this build. The file is lost, a.md's
    link now opens the page (the service the same)."""
    site.page("a.md", H.format("A") + "See [the demo](demo/index.html).\n")
    site.file("content/demo/index.html", "<html><body>DEMO FILE</body></html>")
    assert site.build().ok
    site.page("demo.md", H.format("Demo page") + "The demo page.\n")
    incremental = by_rel(site.build())["a"]
    clean = SiteMaker(tmp_path / "clean")
    shutil.copytree(site.root / "content", clean.root / "content", dirs_exist_ok=True)
    assert by_rel(clean.build())["a"].outcome is Outcome.FAILED
    assert incremental.outcome is Outcome.FAILED, (incremental.outcome, incremental.warnings)


def test_FINDING_check_passes_a_file_the_build_refuses_to_copy_over_a_page(site):
    """The same clash, asked of `nbpress check`: no finding (exit 0), while the build fails
    the page. The test lives in writer.py only; check.py never calls publish.over_a_page."""
    site.page("a.md", H.format("A") + "See [the demo](demo/index.html).\n")
    site.file("content/demo/index.html", "<html><body>DEMO FILE</body></html>")
    site.page("demo.md", H.format("Demo page") + "The demo page.\n")
    (failed,) = site.build().failed
    assert "demo/index.html" in str(failed.error)
    assert any("demo/index.html" in f.message for f in check(site.root)), "check says nothing"


def test_FINDING_after_upgrading_a_page_with_two_values_for_a_key_builds_but_check_fails_it(
        site, tmp_path):
    """A site built with nbpress before 78ae65a has a page giving `title:` twice (PyYAML kept
    the last). After the upgrade every page is built again, but publish._read (publish.py:176)
    reuses the frontmatter it parsed last time when the file's SHA is the same (old.meta): the
    new duplicate-key check never runs, the page builds, while `nbpress check` and a clean
    build fail it. What a build says depends on its cache."""
    if shutil.which("git") is None:
        pytest.skip("no git")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE, "pipeline"],
                             capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"commit {BEFORE} not in this clone")
    parent = tmp_path / "parent"
    parent.mkdir()
    subprocess.run(["tar", "-x", "-C", str(parent)], input=archive.stdout, check=True)
    site.page("a.md", "---\ntitle: First\ntags: [x]\ntitle: Second\n---\n\nText\n")
    site.page("b.md", H.format("B") + "Text\n")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--site", str(site.root)],
                          cwd=parent, env={**os.environ, "PYTHONPATH": str(parent)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert any("given twice" in f.message for f in check(site.root))
    a = by_rel(site.build())["a"]
    assert a.outcome is Outcome.FAILED, f"{a.outcome.name}: the duplicate key is not told"


def test_FINDING_strasse_and_strasse_with_eszett_are_said_to_share_one_slug(site):
    """publish.unique_slugs groups slugs by `str.casefold()`, full case folding: 'ß' folds
    to 'ss', so `straße` and `strasse` fail both ("slug 'straße' is also the slug of
    strasse.md"), though no file system takes them for one name (macOS and Windows fold
    case simply: ß stays ß). `.lower()` (or simple folding) is what the file systems do."""
    site.page("strasse.md", H.format("Strasse") + "A\n")
    site.page("b.md", '---\ntitle: "Straße"\nslug: straße\n---\n\nB\n')
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]


def test_FINDING_a_clash_by_case_alone_is_told_as_the_same_slug(site):
    """`slug: About` beside about.md: both fail with "slug 'About' is also the slug of
    .../about.md" (publish._clash), which is not so on the author's Linux machine; nothing
    says the slugs differ only in case (one folder on macOS and Windows, where the site may
    be served or checked out), which is the reason and the fix."""
    site.page("about.md", H.format("About") + "A\n")
    site.page("me.md", '---\ntitle: "Me"\nslug: About\n---\n\nB\n')
    errors = [r.error.message.replace(str(site.root), "<site>")    # (its path holds "case")
              for r in site.build().failed]
    assert len(errors) == 2 and all("is also the slug of" in e for e in errors), errors
    assert all("case" in e for e in errors), errors


def test_FINDING_a_page_s_did_you_mean_depends_on_other_pages_and_on_what_was_built(site):
    """fragments.fragment_warnings counts suggestions per target over every page of the
    build (anchors.SUGGESTIONS = 25): of 27 pages with one typo each to t.md#setpu, the two
    sorted last get no "did you mean #setup?". Edit one of them and it alone is rebuilt: now
    it has the suggestion. The same link's warning differs by what else links there and by
    what the build rebuilt (check counts in its own order)."""
    site.page("t.md", H.format("T") + "## Setup\n")
    for i in range(27):
        site.page(f"p{i:02d}.md", H.format(f"P{i}") + "[x](t.md#setpu)\n")
    full = broken(site.build())
    site.page("p26.md", H.format("P26, edited") + "[x](t.md#setpu)\n")
    again = broken(site.build())
    assert again["p26"] == [("t.md#setpu", True)]
    assert full["p26"] == full["p25"] == again["p25"] == [("t.md#setpu", True)], (
        full["p25"], full["p26"], again["p25"])


def test_FINDING_check_names_no_line_for_a_link_that_is_not_a_url(site):
    """`<a href="http://[::1#x">` on line 7: `nbpress check` reports "the link ... is not a
    URL" (an error) with no line, while every other resolver finding has its line:
    check._urls skips a value urlsplit refuses, so check._finding cannot find the reference
    the message names (check.py:209-213)."""
    site.page("a.md", H.format("A") + "One\n\nTwo\n\n<a href=\"http://[::1#x\">l</a>\n")
    (found,) = [f for f in check(site.root) if "not a URL" in f.message]
    assert found.line == 9, found


def test_FINDING_a_notebook_without_metadata_is_called_a_bug_in_nbpress(site):
    """notebooks.notebook_shape takes a missing `metadata` as {} (`nb.get("metadata", {})`),
    so a notebook JSON without it (written by a script) passes the new shape check, then
    jupytext/nbformat refuse it: "could not be built (ValidationError ...) fix: this looks
    like a bug in nbpress", instead of the shape check's "is not a Jupyter notebook: ..."."""
    site.page("gen.ipynb", json.dumps({"cells": [{"cell_type": "markdown", "source": "# Hi"}],
                                       "nbformat": 4, "nbformat_minor": 5}))
    (failed,) = site.build().failed
    assert "bug in nbpress" not in str(failed.error), failed.error


def test_FINDING_a_myst_target_named_as_its_heading_gives_two_elements_one_id(site):
    """Jupyter Book writes `(getting-started)=` above `# Getting started`: the heading's own
    id and the target's `<span id>` (markdown.py heading_open, `_target`) are the same id
    twice in the page, which HTML forbids (validators and accessibility checkers flag it).
    A target equal to its heading's id needs no span."""
    site.page("a.md", H.format("A") + "(getting-started)=\n## Getting started\n\nText\n")
    assert site.build().ok
    ids = re.findall(r'\sid="([^"]*)"', output(site, "a/index.html"))
    assert ids.count("getting-started") == 1, ids


def test_FINDING_two_different_keys_or_two_spellings_of_one_value_are_called_duplicates(site):
    """yamlfront.UniqueKeys compares keys by their text only: `1:` and `'1':` are two keys
    (an int and a string; PyYAML keeps both) yet fail as "the key '1' is given twice"; and
    values by text: `draft: false` then `draft: False` (one boolean) fail as "two values"."""
    site.page("ratings.md", "---\ntitle: R\nratings:\n  1: poor\n  '1': first\n---\nx\n")
    site.page("draft.md", "---\ntitle: D\ndraft: false\ndraft: False\n---\nx\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]


def test_FINDING_new_refuses_a_section_written_from_the_content_folder_as_dot_slash(site):
    """`nbpress new --section ./blog "Title"`: new._section_folder refuses any `.` part, and
    says "the section './blog' is not a folder of the content folder", which it is."""
    from pipeline.author.new import new_page

    (site.root / "content/blog").mkdir(parents=True)
    (made,) = new_page(site.config(), "Hello", section="./blog")
    assert made == site.root / "content/blog/hello.md"


# == what works ==================================================================================

def test_page_bundles_and_images_in_a_folder_named_like_a_page_are_not_over_a_page(site):
    site.page("post/index.md", H.format("Post") + "![a](pic.png)\n")
    site.file("content/post/pic.png", PNG_1PX)
    site.page("a.md", H.format("A") + "![b](a/pic.png) [bundle](post/index.md)\n")
    site.file("content/a/pic.png", PNG_1PX)
    site.page("docs.md", H.format("Docs") + "x\n")
    site.page("docs/guide/index.md", H.format("Guide") + "![c](shot.png)\n")
    site.file("content/docs/guide/shot.png", PNG_1PX)
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    for rel in ("post/pic.png", "a/pic.png", "docs/guide/shot.png", "post/index.html",
                "a/index.html", "docs/guide/index.html"):
        assert (site.root / "output" / rel).is_file(), rel


def test_anchors_merge_keys_quoting_and_repeated_equal_values_are_not_duplicates(site):
    site.page("merge.md", "---\ntitle: M\nbase: &b\n  a: 1\n  b: 2\nx:\n  <<: *b\n  a: 3\n"
                          "y:\n  <<: [*b, {c: 4}]\n  c: 5\n---\nx\n")
    site.page("quoted.md", "---\ntitle: Q\n'title': \"Q\"\nauthor: {name: A}\n"
                           "author:\n  name: A\n---\nx\n")
    site.page("alias.md", "---\ntitle: L\nv: &v [1, 2]\nw: *v\nw: [1, 2]\n---\nx\n")
    site.page("lists.md", "---\ntitle: L2\nitems:\n  - {a: 1, b: 2}\n  - a: 1\n    a: 1\n---\nx\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    site.page("nested.md", "---\ntitle: N\nitems:\n  - name: x\n    name: y\n---\nx\n")
    (failed,) = site.build().failed
    assert failed.error.line == 5 and "'name' is given twice" in str(failed.error)


def test_non_ascii_and_punctuated_tags_keep_their_urls():
    from pipeline.site.model import tag_url

    assert [tag_url(t) for t in ("café", "日本語", "C++", "node.js", "Q&A", "Machine  Learning")] \
        == ["/tags/café/", "/tags/日本語/", "/tags/c++/", "/tags/node.js/", "/tags/q&a/",
            "/tags/machine-learning/"]
    assert tag_url("C#") != tag_url("C") and tag_url("C#") == tag_url("c#")


def test_myst_markers_in_code_tables_math_and_mid_line_are_left_alone(site):
    site.page("a.md", H.format("A")
              + "```\n+++\n% x\n(x)=\n```\n\n| a | b |\n|---|---|\n| +++ | % y |\n| (z)= | w |\n\n"
                "$$\n% a TeX comment\nx = 1\n$$\n\nIt is 100% (not)= a target.\n")
    assert site.build().ok
    html = output(site, "a/index.html")
    assert "+++\n% x\n(x)=" in html and "<td>% y</td>" in html and "<td>(z)=</td>" in html
    assert "100% (not)= a target." in html


def test_myst_targets_are_anchors_a_link_can_name(site):
    site.page("a.md", "(top-target)=\n# Intro Title\n\nText\n\n(sec)=\n## Section\n\n"
                      "(para)=\nA paragraph.\n")
    site.page("b.md", H.format("B") + "[t](a.md#top-target) [s](a.md#sec) [p](a.md#para) "
                                      "[n](a.md#nope)\n")
    assert broken(site.build())["b"] == [("a.md#nope", False)]


@pytest.mark.parametrize("mode", ["build", "service"])
def test_fragment_warnings_follow_a_target_and_are_named_as_written(site, mode):
    from contextlib import nullcontext

    from pipeline.build.service import BuildService

    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](t.md#nope) [y](/t/#nope2) [z](t.md#there) "
                                      "[w](#self-nope)\n")
    with BuildService(site.config()) if mode == "service" else nullcontext() as service:
        build = service.build if service else site.build
        names = lambda: sorted(link for link, _ in broken(build())["a"])
        assert names() == ["#self-nope", "/t/#nope2", "t.md#nope"]
        site.page("t.md", H.format("T") + "## There\n\n## More\n")
        assert names() == ["#self-nope", "/t/#nope2", "t.md#nope"]       # kept: said again
        assert names() == ["#self-nope", "/t/#nope2", "t.md#nope"]       # nothing built
        site.page("t.md", H.format("T") + "## Nope\n")
        assert names() == ["#self-nope", "/t/#nope2", "t.md#there"]
        site.page("t.md", H.format("T") + "## There\n\n## Nope\n\n## Nope2\n")
        assert names() == ["#self-nope"]


def test_a_dangling_symlink_page_fails_alone_and_check_says_the_same(site):
    site.page("a.md", H.format("A") + "Text\n")
    os.symlink("drafts/b.md", site.root / "content/b.md")
    report = site.build()
    (failed,) = report.failed
    assert "it is a link to drafts/b.md, which is not there" in str(failed.error)
    assert by_rel(report)["a"].outcome is Outcome.BUILT
    assert [f.message for f in check(site.root) if "b.md" in str(f.path)][0].startswith(
        "cannot be read")


def test_notebooks_that_are_no_notebook_fail_naming_what_is_wrong(site):
    site.page("list.ipynb", "[1, 2]")
    site.page("cells.ipynb", json.dumps({"cells": [{"cell_type": "heading", "source": "x",
                                                    "metadata": {}}], "metadata": {},
                                         "nbformat": 4, "nbformat_minor": 5}))
    errors = {r.source.rel: str(r.error) for r in site.build().failed}
    assert "its JSON is not an object" in errors["list"]
    assert "cell 1 has no cell_type" in errors["cells"]


def test_base_url_takes_a_local_address_with_a_port_and_a_path(site):
    from pipeline.errors import ConfigError

    site.settings('[tool.nbpress]\nbase_url = "http://localhost:8000/project/"\n')
    assert site.config().base_url == "http://localhost:8000/project/"
    site.settings('[tool.nbpress]\nbase_url = "example.org"\n')
    with pytest.raises(ConfigError, match="base_url must be"):
        site.config()
