"""Review 14 (fc16645, against its parent 8f643de): fragment links read from each published
article with the HTML reader and looked up after the site phase, kept pages checked again when
a page they link to was built or is gone, their warnings keyed by state key (families), kept in
PageState.fragments; a theme template not in UTF-8 an error naming it (site/layout.py); HTML's
whitespace in the fast paths of render/html.py. Each is held against `nbpress check`.

Tests named FINDING fail on the commit reviewed, for the reason their docstring gives; the
others pin behaviour checked to work."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from pipeline.errors import NbpressError

REPO = Path(__file__).parents[2]
THEME = REPO / "pipeline/site/theme"
PARENT = "8f643de"
H = '---\ntitle: "{}"\n---\n\n'


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def broken(report) -> dict[str, list[str]]:
    """Page (rel, a member with its values) -> the links its fragment warnings name."""
    found: dict[str, list[str]] = {}
    for r in report.results:
        key = r.source.rel + (f"[{r.source.values}]" if r.source.variant else "")
        found[key] = [w.split(": links to ", 1)[1].split(": no heading")[0]
                      for w in r.warnings if "no heading with that id" in w]
    return found


def checked(root: Path) -> tuple[int, list[tuple[str, str]]]:
    """`nbpress check`: its exit code and (file, link as written) of each fragment finding."""
    from pipeline.cli import main

    result = CliRunner().invoke(main, ["check", "--site", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, re.findall(r"(content/\S+?)(?::\d+)?: link to (\S+): no heading",
                                        result.output)


def numbers(links) -> set[str]:
    return {m for link in links for m in re.findall(r"nope\d+", link)}


# --- build/fragments.py: incremental builds -----------------------------------------------------

STEPS = [   # what is done to t.md (a.md links to t.md#there), and whether a.md is then warned
    ("first", H.format("T") + "## There\n", False),
    ("heading removed", H.format("T") + "## Elsewhere\n", True),
    ("renamed to u.md", None, False),
    ("back, heading back", H.format("T") + "## There\n", False),
    ("slug changed, heading gone", '---\ntitle: "T"\nslug: tt\n---\n\n## Gone\n', True),
    ("slug back, heading back", H.format("T") + "## There\n", False),
    ("a draft", '---\ntitle: "T"\ndraft: true\n---\n\n## Zip\n', False),
    ("published, no heading", H.format("T") + "## Zip\n", True),
    ("failing (its last version kept)", '---\ntitle: "T\n---\n\n## There\n', True),
    ("fixed, heading back", H.format("T") + "## There\n", False),
    ("deleted", False, False),
    ("new, no heading", H.format("T") + "## Zip\n", True),
]


@pytest.mark.parametrize("mode", ["build", "jobs 1", "service"])
def test_a_linking_page_s_warnings_follow_its_target_through_edits(site, mode):
    """Edit, rename, slug change, draft, failure, deletion of the target: the linking page
    (kept while it can be) is warned exactly while the published target lacks the heading,
    once, its own-page warning said throughout; `nbpress check` agrees (but while the target
    fails: check does not judge a page that fails, the build its last good version)."""
    from pipeline.build.service import BuildService

    site.page("a.md", H.format("A") + "[x](t.md#there) [y](#nope1)\n")
    site.page("o.md", H.format("O") + "other\n")
    t = site.root / "content/t.md"
    with BuildService(site.config()) if mode == "service" else nullcontext() as service:
        build = service.build if service else (
            (lambda: site.build(jobs=1)) if mode == "jobs 1" else site.build)
        for name, text, warned in STEPS:
            if text is None:
                t.rename(t.with_name("u.md"))
            elif text is False:
                t.unlink()
            else:
                for old in (t, t.with_name("u.md")):
                    old.unlink(missing_ok=True)
                site.page("t.md", text)
            said = broken(build())["a"]
            assert sum("#there" in s for s in said) == warned, (name, said)
            assert said.count("#nope1") == 1, (name, said)
            if "failing" not in name:
                assert any("#there" in s for _, s in checked(site.root)[1]) == warned, name


@pytest.mark.parametrize("service", [False, True])
def test_kept_family_members_are_checked_again_each_for_itself(site, service):
    from pipeline.build.service import BuildService

    site.page("t.md", H.format("T") + "## There\n")
    site.page("fam.md", '---\ntitle: "F {team}"\nslug: /fam/{team}\nmatrix:\n  team: [x, y]\n'
                        '---\n\n[t](t.md#there) [s](#self)\n')
    with BuildService(site.config()) if service else nullcontext() as running:
        build = running.build if service else site.build
        assert broken(build()) == {"t": [], "fam[team=x]": ["#self"], "fam[team=y]": ["#self"]}
        for heading, there in (("Gone", 1), ("Gone again", 1), ("There", 0)):
            site.page("t.md", H.format("T") + f"## {heading}\n")
            report = broken(build())
            for member in ("fam[team=x]", "fam[team=y]"):
                assert report[member].count("#self") == 1
                assert sum("#there" in s for s in report[member]) == there, (heading, report)


def test_FINDING_a_service_warns_a_kept_page_of_headings_of_a_page_that_is_gone(site):
    """The service builds in place: results.fragments reads a target that is no page of this
    build (`t not in present`) with writer.article_text, which finds the old file of a page
    deleted (or moved) this build, still in the output folder until commit. a.md is warned
    "links to ../t/#nope: no heading with that id" about a page that is gone; `nbpress build`
    (a staging folder) says nothing of the kind, and the service itself stops saying it on
    the next build."""
    from pipeline.build.service import BuildService

    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](../t/#nope)\n")
    with BuildService(site.config()) as service:
        assert broken(service.build())["a"] == ["../t/#nope"]
        (site.root / "content/t.md").unlink()
        report = service.build()
        assert not (site.root / "output/t/index.html").exists()
        assert broken(report)["a"] == [], report.results


def test_a_staging_build_says_nothing_of_a_page_that_is_gone(site):
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](../t/#nope)\n")
    assert broken(site.build())["a"] == ["../t/#nope"]
    (site.root / "content/t.md").unlink()
    assert broken(site.build())["a"] == []


def test_FINDING_a_hub_page_edited_rereads_every_page_that_links_to_it(site, monkeypatch):
    """results.fragments checks a kept page again whole when one of its targets was built:
    its links to itself (`#x`) and to other kept pages too, so every such page's own file is
    read back and parsed again (fragment_warnings' `ids(target)` for `#x`). With the 1000-page
    corpus, each page linking to a heading of page-0001 and to one of its own, a service build
    after an edit of page-0001 took 0.44 s (median of 7; the parent 0.16 s); without the
    own-page links 0.16 s for both. Only the links into a page built (or gone) need asking
    again; the warnings of the others are the last build's."""
    from pipeline.build.writer import SiteWriter

    site.page("hub.md", H.format("Hub") + "## There\n")
    for n in range(5):
        site.page(f"p{n}.md", H.format(f"P{n}") + f"## Mine\n\n[h](hub.md#there) [m](#mine)\n")
    assert site.build().ok
    read: list[str] = []
    article_text = SiteWriter.article_text
    monkeypatch.setattr(SiteWriter, "article_text",
                        lambda self, path, **kw: read.append(path) or article_text(self, path, **kw))
    site.page("hub.md", H.format("Hub") + "## There\n\nEdited.\n")
    report = site.build()
    assert {r.source.rel: r.outcome.name for r in report.results}["p0"] == "UNCHANGED"
    assert read == ["hub/index.html"], read


# --- build/fragments.py and `nbpress check`: the same links ------------------------------------

def test_index_pages_sections_and_encodings_are_judged_as_check_judges_them(site):
    site.page("index.md", H.format("Home") + "## Welcome\n\n[a](blog/index.md#nope1) "
              "[b](blog/#nope2) [c](blog/post.md#nope3) [d](#top) [e](#) [f](#Welcome) "
              "[g](docs/x.md#nope4) [ok](#welcome) [ok2](docs/x.md#caf%C3%A9)\n")
    site.page("blog/index.md", H.format("Blog") + "## Bloggy\n\n[h](../index.md#nope5) "
              "[i](../#nope6) [j](post.md#nope7) [ok](post.md#p)\n")
    site.page("blog/post.md", H.format("Post") + "## P\n\n[k](index.md#nope8) [l](../#nope9) "
              "[m](../../#nope10) [ok](../index.md#welcome) [ok2](#TOP)\n")
    site.page("docs/x.md", H.format("X") + "## X\n\n[o](../blog/post.md#nope11) "
              "[p](../../blog/#nope12) [q](#p%20q) [r](#caf%C3%A9) [s](#caf&eacute;) "
              "<a href='&num;nope13'>t</a> <a href=\"#caf&#xE9;\">u</a> "
              "<svg><a xlink:href=\"#nope14\">v</a></svg>\n\n## Café\n")
    report = site.build()
    said = {rel: numbers(links) for rel, links in broken(report).items()}
    code, found = checked(site.root)
    by_check: dict[str, set[str]] = {}
    for file, link in found:
        by_check.setdefault(file.removeprefix("content/").rsplit(".", 1)[0], set()).update(
            numbers([link]))
    assert said == {"index": {"nope1", "nope2", "nope3", "nope4"},
                    "blog/index": {"nope5", "nope6", "nope7"},
                    "blog/post": {"nope8", "nope9", "nope10"},
                    "docs/x": {"nope11", "nope12", "nope13", "nope14"}}
    assert by_check == said and code == 1
    everything = " ".join(" ".join(v) for v in broken(report).values())
    assert "#Welcome" in everything and "#p%20q" in everything     # no id: both warned
    assert "#top" not in everything.lower() and "caf" not in everything


def test_FINDING_a_root_relative_link_s_fragment_is_not_checked_by_the_build(site):
    """`nbpress check` reads `/t/#nope` as the site's URL /t/ (internal._site_link) and reports
    the fragment; the build's fragments._target joins "/t/" to the page's folder, gets an
    absolute path ("/t/index.html"), which writer.article_text refuses (not under the output
    folder): no warning."""
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](/t/#nope)\n")
    assert ("content/a.md", "/t/#nope") in checked(site.root)[1]
    assert broken(site.build())["a"] == ["/t/#nope"]


def test_FINDING_a_link_by_the_site_s_own_absolute_url_is_checked_by_neither(site):
    """With base_url set, https://example.org/t/#nope is a link to the page t.md: the build's
    fragments._target gives None for any URL with a scheme, and `nbpress check` reads it as
    the site's "/t/#nope", which `internal._link` judges only if it ends with "/" (the
    fragment is still on it): neither the fragment nor even the page is checked (without the
    fragment, a URL of no page is an error of check)."""
    site.settings('[tool.nbpress]\nbase_url = "https://example.org/"\n')
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](https://example.org/t/#nope) "
              "[y](https://example.org/nosuch/#x)\n")
    code, found = checked(site.root)
    assert ("content/a.md", "https://example.org/t/#nope") in found, found
    assert broken(site.build())["a"] == ["https://example.org/t/#nope"]


def test_FINDING_a_theme_page_template_without_the_article_marks_turns_fragment_warnings_off(site):
    """results.fragments reads each target's ids back from its page file between nbpress's
    `<!--nbpress:article` marks (writer.article_text -> layout.article_of); a site's
    page.html.j2 without them (which the build supports: such pages are built again rather
    than laid out) makes every target "not ours": no broken fragment is ever warned, while
    `nbpress check` reports both as errors."""
    site.file("theme/page.html.j2", "<!doctype html><html><head><title>{{ page.title }}</title>"
                                    "</head><body><main>{{ body | safe }}</main></body></html>\n")
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](t.md#nope1) [y](#nope2)\n")
    report = site.build()
    assert report.ok
    assert numbers(link for _, link in checked(site.root)[1]) == {"nope1", "nope2"}
    assert numbers(broken(report)["a"]) == {"nope1", "nope2"}, report.results


def test_FINDING_the_build_names_the_link_as_the_author_did_not_write_it(site):
    """The build's warning names the link as rewritten in the published page ("links to
    ../t/#nope", and "../../t/#nope" for a family member), which is nowhere in the page's
    source; `nbpress check` names it as written ("link to t.md#nope") with its line."""
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](t.md#nope)\n")
    assert checked(site.root)[1] == [("content/a.md", "t.md#nope")]
    assert broken(site.build())["a"] == ["t.md#nope"]


def executed_notebook(root: Path) -> None:
    """A notebook whose stored output (not run again: execute: never) has a heading and a link."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    code = nbformat.v4.new_code_cell("show()")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": '<h2 id="generated">Generated</h2><a href="#nope-out">o</a>'})]
    nb.cells = [nbformat.v4.new_raw_cell("---\ntitle: N\nexecute: never\n---"),
                nbformat.v4.new_markdown_cell("[gen](#generated) [bad](#nope-md)"), code]
    nbformat.write(nb, root / "content/n.ipynb")


def test_the_build_judges_a_notebook_s_links_against_its_outputs_too(site):
    executed_notebook(site.root)
    assert sorted(broken(site.build())["n"]) == ["#nope-md", "#nope-out"]


def test_FINDING_check_judges_a_notebook_without_its_outputs(site):
    """check.article_html renders the Markdown cells only: an id an output makes
    (#generated) is an error of `nbpress check` (exit 1) though the published page has it,
    and a broken link in an output (#nope-out), which the build warns, is not reported."""
    executed_notebook(site.root)
    code, found = checked(site.root)
    assert sorted(link for _, link in found) == ["#nope-md", "#nope-out"], found


# --- build/fragments.py: cost ---------------------------------------------------------------------

def test_FINDING_many_near_miss_links_to_a_long_page_take_quadratic_time():
    """fragment_warnings asks anchors.suggestion for each missing fragment, which runs
    difflib.get_close_matches over every id of the target (sorted again each time): n links
    to a page with n ids cost n^2 SequenceMatcher ratios. Measured in whole builds (a page of
    n headings, a page with n links each one letter off): n=300 3.2 s, 1000 33 s, 2000 139 s
    (`nbpress check` the same: 3.5, 35, 166 s), against 0.5 s without the links. Here: 300
    links, 300 ids, the lookup alone."""
    from pipeline.build.fragments import Linking, fragment_warnings

    ids = frozenset(f"heading-number-{i}-of-the-page" for i in range(300))
    page = Linking("a/index.html", "a.md",
                   tuple(f"../t/#heading-nmber-{i}-of-the-page" for i in range(300)))
    started = time.perf_counter()
    found = fragment_warnings({"a.md": page}, lambda file: "", lambda article: ids)
    took = time.perf_counter() - started
    assert len(found["a.md"]) == 300
    assert took < 1.0, f"{took:.1f} s"


# --- odd input --------------------------------------------------------------------------------

def test_FINDING_a_link_with_a_broken_ipv6_host_crashes_check_and_fails_the_page(site):
    """`<a href="http://[::1#x">`: urlsplit raises ValueError ("Invalid IPv6 URL") in
    render/links.py `_shown` (and LinkResolver's other urlsplit calls): the build fails the
    page "could not be built (ValueError ...): this looks like a bug in nbpress", and
    `nbpress check` ends with a traceback. It is a typo in a link of another site: a warning,
    the link left as written."""
    from pipeline.cli import main

    site.page("a.md", H.format("A") + '<a href="http://[::1#x">l</a>\n')
    result = CliRunner().invoke(main, ["check", "--site", str(site.root)])
    assert not isinstance(result.exception, ValueError), result.exception
    assert site.build().ok


# --- upgrade: a cache the parent wrote ----------------------------------------------------------

def test_a_cache_written_by_the_parent_commit_is_built_on(site, tmp_path):
    """The parent's state is of FORMAT 8: discarded with a note, every page read and built
    again, so the warnings are right at once."""
    if shutil.which("git") is None:
        pytest.skip("no git")
    parent = tmp_path / "parent"
    parent.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PARENT, "pipeline"],
                             capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"commit {PARENT} not in this clone")
    subprocess.run(["tar", "-x", "-C", str(parent)], input=archive.stdout, check=True)
    site.page("t.md", H.format("T") + "## There\n")
    site.page("a.md", H.format("A") + "[x](t.md#there) [y](t.md#nope1)\n")
    site.page("b.md", H.format("B") + "[z](t.md#nope2)\n")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--site", str(site.root)],
                          cwd=parent, env={**os.environ, "PYTHONPATH": str(parent)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "#nope1" in done.stdout + done.stderr
    site.page("t.md", H.format("T") + "## Gone\n")
    report = site.build()
    assert any("discarded the build state" in n for n in report.notes)   # FORMAT 9: read anew
    said = broken(report)
    assert numbers(said["a"]) == {"nope1"} and any("#there" in s for s in said["a"])
    assert said["b"] == ["t.md#nope2"]            # named as the author wrote it
    site.page("t.md", H.format("T") + "## There\n")
    said = broken(site.build())
    assert said["a"] == ["t.md#nope1"] and said["b"] == ["t.md#nope2"]


# --- site/layout.py: a theme template not in UTF-8 --------------------------------------------

def test_a_base_template_not_in_utf8_is_an_error_naming_it_from_the_command_line(site):
    from pipeline.cli import main

    site.file("theme/base.html.j2", (THEME / "base.html.j2").read_bytes().replace(
        b"<body>", b"<body>caf\xe9"))
    site.page("a.md", H.format("A") + "A.\n")
    result = CliRunner().invoke(main, ["build", "--site", str(site.root)])
    assert result.exit_code != 0 and "base.html.j2 is not UTF-8" in result.output
    assert "Traceback" not in result.output


def test_FINDING_an_unused_old_template_is_blamed_for_the_one_not_in_utf8(site):
    """layout._not_utf8 does not know which file the loader failed on (UnicodeDecodeError
    names none): it names the first .j2 of the theme folder, sorted, that is not UTF-8. With a
    backup a-old.j2 (used by nothing) beside the failing base.html.j2, the error is about
    a-old.j2."""
    site.file("theme/base.html.j2", (THEME / "base.html.j2").read_bytes().replace(
        b"<body>", b"<body>caf\xe9"))
    site.file("theme/a-old.j2", b"caf\xe9, an old backup\n")
    site.page("a.md", H.format("A") + "A.\n")
    with pytest.raises(NbpressError) as info:
        site.build()
    assert info.value.path.name == "base.html.j2", info.value


def test_FINDING_an_included_template_not_named_j2_is_not_the_one_named(site):
    """`{% include 'part.html' %}` of a theme file not in UTF-8: _not_utf8 looks only at
    `*.j2` files, finds none, and names the page's template page.html.j2, which is valid
    UTF-8 (the page fails "the template page.html.j2 is not UTF-8 text")."""
    page = (THEME / "page.html.j2").read_text().replace(
        "{%- block main %}", "{%- block main %}{% include 'part.html' %}", 1)
    site.file("theme/page.html.j2", page)
    site.file("theme/part.html", b"caf\xe9\n")
    site.page("a.md", H.format("A") + "A.\n")
    error = next(r.error for r in site.build().results if r.source.rel == "a")
    assert error is not None and error.path.name == "part.html", error


# --- render/html.py: HTML's whitespace ----------------------------------------------------------

@pytest.mark.parametrize("text", [
    "\u00a0<h1>T</h1>", "\x0b<h1>T</h1>", "<div>\u00a0<h1>T</h1>", "<p class=a\u00a0b>x</p>",
    "<p class=a\x0b>x</p>", "<p\tclass=x\u00a0>Hi</p><p>R</p>", "<h1>T</h1\u00a0>x",
    "</div\u00a0><h1>T</h1>", "<p>a</p\u00a0><p>b</p>", "<p\x0c>f</p>", "<P\r\nID=x>r</P\t>",
])
def test_the_fast_paths_read_unicode_spaces_as_the_parser_does(text):
    from pipeline.render import html as Html
    from tests.unit.test_engine_urls import both
    from tests.unit.test_html_prefix import parsed_heading, parsed_paragraph

    assert Html.leading_heading(text) == parsed_heading(text)
    assert Html.first_paragraph_text(text) == parsed_paragraph(text)
    parsed, read, _ = both(text + "\n\n[l](l.md) <a href='r.md'>r</a>\n")
    assert read == parsed


@pytest.mark.parametrize("hash_in", ["issue #12 and C# code", "<style>p { color: #333 }</style>",
                                     "It&#39;s"])
def test_FINDING_a_page_with_a_hash_but_no_fragment_link_is_parsed_whole(hash_in, monkeypatch):
    """fragment_links parses the whole article with the HTML reader whenever a `#` is left
    once the anchor marks are taken out and "href" appears anywhere: a `#` in prose ("issue
    #12", "C#"), a CSS colour or any numeric entity is enough. The parent's regex cost nothing
    there. The corpus's 900 published articles with "issue #12 (C# code)" added: 196 ms of
    fragment_links (4 ms without the `#`; parent ~0.1 ms); in a --jobs 1 build profiled,
    0.62 s of 9.1 s. A cheap test for an href value with a `#` (or `&num;`, `&#35;`, `&#x23;`)
    before parsing, or the links the resolver already walks (LinkResolver.rewrite), would
    not."""
    from pipeline.build import fragments
    from pipeline.render import html as Html

    article = (f'<h3 id="s">S<a class="anchor-link" href="#s">¶</a></h3><p>{hash_in} '
               '<a href="https://example.org/">x</a> <a href="../t/">t</a></p>\n') * 20
    parsed = []
    real = Html.url_attributes
    monkeypatch.setattr(Html, "url_attributes", lambda *a, **k: parsed.append(1) or real(*a, **k))
    assert fragments.fragment_links(article) == ()
    assert parsed == [], "parsed although no href has a #"
