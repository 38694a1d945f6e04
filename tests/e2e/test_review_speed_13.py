"""Review 13 (5a40fdd^..HEAD: Layout.fresh and the templates' bytecode cache, the warm-up of
templates, fragment links listed by workers, markup.HtmlReader, the regex fast paths of
render/html.py). Tests named FINDING failed on the code reviewed, for the reason their docstring
gives; the others pin behaviour checked to work."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from pipeline.errors import NbpressError
from pipeline.render import html as H
from tests.unit.test_engine_urls import both
from tests.unit.test_html_prefix import parsed_heading, parsed_paragraph

THEME = Path(__file__).parents[2] / "pipeline/site/theme"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "nbpress" / "templates"


def warnings_of(report, rel):
    return [w for r in report.results if r.source.rel == rel for w in r.warnings]


def notebook(markdown: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


# --- build/fragments.py -----------------------------------------------------------------------

def test_FINDING_a_heading_removed_from_the_target_warns_the_unchanged_linking_page(site):
    """Only pages built now are checked (results.fragments): a.md is kept, so its link to the
    heading t.md just lost is never reported, while `nbpress check` reports it as an error."""
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n\nx\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\n[ok](t.md#there)\n')
    assert not warnings_of(site.build(), "a")
    site.page("t.md", '---\ntitle: "T"\n---\n\n## Elsewhere\n\nx\n')
    report = site.build()
    assert any("#there" in w for w in warnings_of(report, "a")), report.results


@pytest.mark.parametrize("service", [False, True])
def test_a_kept_page_s_fragment_warning_follows_its_target(site, service):
    """Said while the heading is missing, through builds that keep both pages, and gone once
    the heading is back (the kept page's stored warning is not said again)."""
    from contextlib import nullcontext

    from pipeline.build.service import BuildService

    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n\nx\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\n[ok](t.md#there) [me](#mine)\n')
    site.page("o.md", '---\ntitle: "O"\n---\n\nother\n')
    with BuildService(site.config()) if service else nullcontext() as running:
        build = running.build if service else site.build
        assert [w for w in warnings_of(build(), "a") if "#there" in w] == []
        site.page("t.md", '---\ntitle: "T"\n---\n\n## Elsewhere\n\nx\n')
        said = warnings_of(build(), "a")
        assert sum("#there" in w for w in said) == 1 and sum("#mine" in w for w in said) == 1
        site.page("o.md", '---\ntitle: "O"\n---\n\nother, edited\n')   # a and t kept
        said = warnings_of(build(), "a")
        assert sum("#there" in w for w in said) == 1 and sum("#mine" in w for w in said) == 1
        site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n\nback\n')
        report = build()
        said = warnings_of(report, "a")
        assert {r.source.rel: r.outcome.name for r in report.results}["a"] == "UNCHANGED"
        assert not any("#there" in w for w in said) and sum("#mine" in w for w in said) == 1


@pytest.mark.parametrize("link", ["<a href='t.md#nope'>sq</a>", '<A HREF="#nope">up</A>'])
def test_FINDING_raw_html_links_check_finds_are_warned_by_the_build(site, link):
    """fragments._HREF is `href="..."`, lowercase and double-quoted only: a single-quoted or
    upper-case href (valid HTML, found by `nbpress check`) is never looked up."""
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n')
    site.page("a.md", f'---\ntitle: "A"\n---\n\n{link}\n')
    assert any("nope" in w for w in warnings_of(site.build(), "a"))


@pytest.mark.parametrize("html", [
    '<!-- <a href="#commented">old</a> -->',            # a comment: no link
    '<span data-href="#data">d</span>',                 # not an href attribute
    "<p title='see href=\"#intitle\"'>t</p>",           # text of an attribute
    '<a href="#caf&eacute;-au-lait">ent</a>',           # the heading below, once unescaped
])
def test_FINDING_no_fragment_warning_for_what_is_no_link_to_a_missing_id(site, html):
    """The regex reads the article as text: it takes comments and other attributes for links
    and does not unescape entities; `nbpress check` reports none of these."""
    site.page("a.md", f'---\ntitle: "A"\n---\n\n## Café au lait\n\n{html}\n\nx\n')
    assert warnings_of(site.build(), "a") == []


def test_FINDING_a_family_member_s_fragment_warnings_are_its_own(site):
    """results.fragments keys warnings by source path: every member of a family gets the
    warnings of all members (each line twice with two members)."""
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n')
    site.page("fam.md", '---\ntitle: "F {team}"\nslug: /fam/{team}\nmatrix:\n  team: [x, y]\n'
                        '---\n\n[f](#nope) [g](t.md#nope2)\n\n## Here\n')
    report = site.build()
    members = [r for r in report.results if r.source.rel.startswith("fam")]
    assert len(members) == 2
    for member in members:
        assert len(member.warnings) == len(set(member.warnings)) == 2, member.warnings


def test_fragments_warned_for_prose_notebooks_families_and_jobs_1(site):
    site.page("t.md", '---\ntitle: "T"\n---\n\n## There\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\n[a](t.md#nope1) [b](#nope2) [ok](t.md#there)\n')
    (site.root / "notebooks").mkdir()
    nbformat.write(notebook("# NB\n\n[x](#nope3) [y](../t/#nope4)\n\n## Real"),
                   site.root / "notebooks/nb.ipynb")
    nbformat.write(notebook("# C\n\n[x](#nope5) [ok](#real)\n\n## Real"),
                   site.root / "content/cnb.ipynb")
    site.page("fam.md", '---\ntitle: "F {team}"\nslug: /fam/{team}\nmatrix:\n  team: [x, y]\n'
                        '---\n\n[f](#nope6)\n')
    for options in ({}, {"jobs": 1}):
        report = site.build(**options)
        said = " ".join(w for r in report.results for w in r.warnings)
        for n in range(1, 7):
            assert f"#nope{n}" in said, (n, options)
        assert "#there" not in said and "#real" not in said
        shutil.rmtree(site.root / "output")
        shutil.rmtree(site.root / ".nbpress-cache")


def test_fragments_warned_in_a_service_in_place(site):
    from pipeline.build.service import BuildService

    site.page("a.md", '---\ntitle: "A"\n---\n\n[bad](#nope)\n\n## Here\n')
    with BuildService(site.config()) as service:
        assert any("#nope" in w for w in warnings_of(service.build(), "a"))
        site.page("a.md", '---\ntitle: "A"\n---\n\n[bad](#nope) [ok](#here)\n\n## Here\n')
        said = warnings_of(service.build(), "a")
        assert any("#nope" in w for w in said) and not any("#here" in w for w in said)


# --- site/layout.py: Layout.fresh, warm -------------------------------------------------------

def test_a_service_follows_the_theme_folder_made_edited_emptied_and_removed(site):
    from pipeline.build.service import BuildService

    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    out, theme = site.root / "output", site.root / "theme"
    base = (THEME / "base.html.j2").read_text()

    def page():
        return (out / "a/index.html").read_text()

    with BuildService(site.config()) as service:
        assert service.build().ok and "MARK" not in page()
        theme.mkdir()
        assert service.build().ok
        (theme / "base.html.j2").write_text(base.replace("<body>", "<body>MARK-1"))
        assert service.build().ok and "MARK-1" in page()
        (theme / "sub").mkdir()
        (theme / "sub/x.j2").write_text("MARK-2")
        (theme / "base.html.j2").write_text(base.replace("<body>", "<body>{% include 'sub/x.j2' %}"))
        assert service.build().ok and "MARK-2" in page()
        (theme / "sub/x.j2").write_text("MARK-3")           # only the included part
        assert service.build().ok and "MARK-3" in page() and "MARK-2" not in page()
        (theme / "base.html.j2").unlink()                   # removed: nbpress's again
        assert service.build().ok and "MARK" not in page()
        (theme / "base.html.j2").write_text(base.replace("<body>", "<body>MARK-4"))
        assert service.build().ok and "MARK-4" in page()
        shutil.rmtree(theme)                                # the whole folder
        assert service.build().ok and "MARK" not in page()


@pytest.mark.parametrize("name, text, line", [
    ("base.html.j2", "<html>\n<body>\n{% if %}\n</body>", 3),
    ("listing.j2", "{% macro sections_list(s) %}\n{{ s | nosuchfilter }}\n{% endmacro %}", 2),
])
def test_a_broken_part_override_is_one_error_naming_its_file_and_line(site, name, text, line):
    from pipeline.errors import ConfigError

    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    site.file(f"theme/{name}", text)
    with pytest.raises(ConfigError) as info:
        site.build()
    assert name in str(info.value.path) and info.value.line == line


def test_a_broken_included_template_fails_the_page_naming_it(site):
    page = (THEME / "page.html.j2").read_text().replace(
        "{%- block main %}", "{%- block main %}{% include 'part.j2' %}", 1)
    site.file("theme/page.html.j2", page)
    site.file("theme/part.j2", "ok\n{{ x | nosuch }}\n")
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    report = site.build()
    assert not report.ok
    error = next(r.error for r in report.results if r.source.rel == "a")
    assert error.path.name == "part.j2" and error.line == 2, error


def test_FINDING_a_theme_template_not_in_utf8_is_an_error_naming_it(site):
    """Layout.warm catches TemplateSyntaxError and TemplateNotFound only: a Latin-1 byte in the
    site's base.html.j2 ends the build with a UnicodeDecodeError traceback naming no file."""
    data = (THEME / "base.html.j2").read_bytes().replace(b"<body>", b"<body>caf\xe9")
    site.file("theme/base.html.j2", data)
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    with pytest.raises(NbpressError) as info:
        site.build()
    assert "base.html.j2" in str(info.value)


def test_an_included_template_not_in_utf8_fails_the_page_naming_it(site):
    page = (THEME / "page.html.j2").read_text().replace(
        "{%- block main %}", "{%- block main %}{% include 'part.j2' %}", 1)
    site.file("theme/page.html.j2", page)
    site.file("theme/part.j2", b"caf\xe9\n")
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    report = site.build()
    error = next(r.error for r in report.results if r.source.rel == "a")
    assert error.path.name == "part.j2" and "UTF-8" in str(error), error


# --- render/templates.py --------------------------------------------------------------------

def test_a_cache_that_cannot_be_written_is_no_error(site, own_cache, monkeypatch):
    import jinja2

    def refuse(self, bucket):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", refuse)
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    nbformat.write(notebook("# N\n\nText."), site.root / "content/n.ipynb")
    assert site.build().ok
    assert not own_cache.exists() or not any(own_cache.iterdir())


# --- markup.py: `<![` -------------------------------------------------------------------------

def test_marked_sections_build_and_check_as_comments(site):
    from click.testing import CliRunner
    from pipeline.cli import main

    site.page("t.md", '---\ntitle: "T"\n---\n\n## H\n')
    site.page("a.md", '---\ntitle: "A"\n---\n\n<![CDATA[ x ]]>\n\nFirst para.\n\n'
                      '<div><![if gte mso 9]>x<![endif]></div>\n\n<div><!x>y</div>\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\n<div><![ never closed\n\n[t](t.md)\n')
    site.page("c.md", '---\ntitle: "C"\n---\n\n<div><![CDATA[ <a href="gone.md">in</a> ]]></div>\n')
    nbformat.write(notebook("# N\n\n<div><![if x]>i<![endif]></div>\n\n<div><![ open"),
                   site.root / "content/n.ipynb")
    report = site.build()
    assert report.ok and not [w for r in report.results for w in r.warnings]
    out = site.root / "output"
    assert 'content="First para."' in (out / "a/index.html").read_text()
    assert '<a href="../t/">t</a>' in (out / "b/index.html").read_text()
    result = CliRunner().invoke(main, ["check", "--site", str(site.root)])
    assert result.exit_code == 0, result.output


# --- render/html.py: the fast paths against the parser ---------------------------------------

# Python's `\s` (in _ATTRS, the lookahead `<p[\s/>]`, _BEFORE_H1) is Unicode whitespace and
# \x0b; html.parser's tag name runs to \t \n \r \f space / > \x00 only: `<p\xa0class=x>` is the
# element `p\xa0class=x` for it (and for a browser), a `<p>` for the regexes.
@pytest.mark.parametrize("text", ["<p\u00a0class=x>Hello</p><p>Real</p>",
                                  "<p\x0bid=x>Hello</p><p>Real</p>", "<p\x1c>Hi</p>"])
def test_FINDING_first_paragraph_after_a_tag_with_unicode_space(text):
    assert H.first_paragraph_text(text) == parsed_paragraph(text)


@pytest.mark.parametrize("text", ["<div\u00a0><h1>T</h1>", "<style\u00a0>x</style><h1>T</h1>",
                                  "<div\u2003id=a><h1>T</h1>"])
def test_FINDING_leading_heading_after_a_tag_with_unicode_space(text):
    assert H.leading_heading(text) == parsed_heading(text)


@pytest.mark.parametrize("text", ["<style\u00a0><code></style>\n\n[x](x.md)\n",
                                  "<style\u00a0><pre></style>\n\n[x](x.md)\n"])
def test_FINDING_plain_piece_style_with_unicode_space_leaves_code_open(text):
    parsed, read, _ = both(text)
    assert read == parsed


def test_FINDING_a_page_description_with_a_nbsp_in_its_first_tag(site):
    """In a page: the meta description is "Hello" (the regex's <p>), the parser's is the real
    paragraph."""
    site.page("a.md", '---\ntitle: "A"\n---\n\n<p\u00a0class="lead">Hello</p>\n\nReal paragraph.\n')
    assert site.build().ok
    html = (site.root / "output/a/index.html").read_text()
    assert '<meta name="description" content="Real paragraph.">' in html, \
        re.findall(r'<meta name="description"[^>]*>', html)


PIECES_NOT_GENERATED = [
    "<P CLASS=a HIDDEN>Up</P>", "<div hidden data-x><p hidden>v</p>", "&lt;p>x<p>&amp;y</p>",
    "\r\n<p\r\nid=x>a\r\nb</p\r\n>", "\x00<p>\x00n</p>", "\ufeff<p>bom</p>", "\ufeff<h1>B</h1>",
    "<template><p>t</p></template><p>u</p>", "<svg><style><p>s</p></style></svg><p>v</p>",
    "<math><annotation><p>m</p></annotation></math>", "<svg><style>a</style></svg><h1>S</h1>",
    "<DIV>\r\n<H1 hidden>T</H1>", "<section\tclass=a><h1>T</h1>", "<header/><h1>T</h1>",
    "<p =x>a</p>", "<p a= b>c</p>", "<X-Y><p>xy</p>", "<a:b><h1>T</h1>",
    "<![CDATA[<p>in</p>]]><p>out</p>", "<!----><h1>E</h1>", "&nbsp;<p>n</p>",
]


@pytest.mark.parametrize("text", PIECES_NOT_GENERATED)
def test_shapes_the_property_tests_do_not_generate_read_as_the_parser_reads_them(text):
    assert H.first_paragraph_text(text) == parsed_paragraph(text)
    assert H.leading_heading(text) == parsed_heading(text)
    markdown = text + "\n\n[l](l.md) <a href='r.md'>r</a> <CODE>[c](c.md)</CODE>\n"
    parsed, read, _ = both(markdown)
    assert read == parsed
