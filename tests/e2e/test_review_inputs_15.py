"""Review 15: nbpress as a new user meets it, with real content and with bad input.

What was tried (each either pinned below as working, or a `test_FINDING_...` that fails on
this code for the reason its docstring gives):

- the three corpora of ../shared/corpora copied as a site laid out as the README says
  (gatsby-starter-lumen as `content/`; fastpages' `_posts` as `content/` and `_notebooks` as
  `notebooks/`; jupyter-book's `docs` as `content/`), built with no settings, then looked at:
  the HTML (parsed), the report, the exit code, `check`, and a listing of the site folder
  before and after (nothing but output/ and .nbpress-cache/ may change);
- frontmatter: not a mapping, a tab in YAML, duplicate keys, 2024-02-30 (quoted or not), a
  file of only `---`, an empty file, a BOM, CRLF, a NUL byte, Latin-1 bytes, YAML tags
  (python/object, binary, set), anchors; titles with `</script>`, quotes, `&`, RTL and
  zero-width characters, emoji, 2000 characters;
- slugs with `..`, `/`, `%2e%2e`, absolute paths, backslashes, NFC against NFD, case only,
  `.nbpress.json`, `pagefind`, `404.html`, and the URLs nbpress makes itself (`tags/<tag>`,
  `<section>/page/2`, a section named `tags` or `search`); two pages with one slug;
- tags `..`, `.`, `index`, `tag`, `C#` beside `C`, `%2e%2e`, `feed.xml`, non-ASCII;
- notebooks: invalid JSON, JSON that is not a notebook, nbformat 3, sources as lists, no
  metadata, a 20 MB output, `text/html` with `<script>`, widget outputs with and without state,
  fastpages front matter with an impossible date; MyST notebooks (`(label)=`, `%` comments,
  `{code-cell}` with `:tags:`);
- images and links with `../../` out of the site, absolute paths, symlinks out of the site, a
  dangling symlink page, a file at another page's output path, a folder named like a page's
  `index.html`;
- aliases onto pages, listings, tag pages, site files, each other;
- settings: wrong types, `output_dir` over the content, `base_url` without a scheme, `toc`
  entries naming missing pages or `..`;
- `nbpress new` with titles that are paths, markup, empty, 300 characters, and `--section`
  outside the content folder; `nbpress status` on a site with a bad notebook; `check --fix`
  on a file with a BOM and CRLF line ends;
- incremental builds: rename, delete, draft, drop an image, then build again.

The corpus tests skip, saying why, without ../shared/corpora beside the clone; from a
worktree elsewhere, NBPRESS_CORPORA=/path/to/shared/corpora names the team's copy.
"""
from __future__ import annotations

import json
import os
import shutil
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from pipeline.errors import ConfigError, NbpressError
from pipeline.model import Outcome
from tests.conftest import CORPORA as _BESIDE, PNG_1PX

# ../shared/corpora beside the clone; a worktree elsewhere may name the team's copy instead
CORPORA = _BESIDE if _BESIDE.is_dir() else Path(os.environ.get("NBPRESS_CORPORA", _BESIDE))
needs_corpora = pytest.mark.skipif(
    not CORPORA.is_dir(),
    reason=f"needs the real sites of ../shared/corpora ({_BESIDE}), which are not in the "
           "repository; put that folder there (or name it in NBPRESS_CORPORA) to run these tests")


# -- helpers -------------------------------------------------------------------------------------

class Page(HTMLParser):
    """What a reader and a crawler see of a page: <title>, every <h1>, the article's text,
    links, the canonical URL, and the JSON of its data scripts."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.title, self.h1, self.links, self.json, self.canonical = "", [], [], [], None
        self.anchors: list[list[str]] = []      # [href, text] of every link
        self.article: list[str] = []
        self._in, self._depth, self._script = set(), 0, None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in.add("title")
        if tag == "h1":
            self.h1.append("")
            self._in.add("h1")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            self.anchors.append([a["href"], ""])
            self._in.add("a")
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        if tag == "script":
            self._script = [a.get("type"), ""]
        if tag == "div" and "page-body" in (a.get("class") or "").split():
            self._depth = 1
        elif tag == "div" and self._depth:
            self._depth += 1

    def handle_endtag(self, tag):
        self._in.discard(tag)
        if tag == "script" and self._script is not None:
            if self._script[0] in ("application/json", "application/ld+json"):
                self.json.append(json.loads(self._script[1]))
            self._script = None
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._script is not None:
            self._script[1] += data
        if "title" in self._in:
            self.title += data
        if "h1" in self._in:
            self.h1[-1] += data
        if "a" in self._in:
            self.anchors[-1][1] += data
        if self._depth:
            self.article.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.article).split())


def page_at(root: Path, url_path: str) -> Page:
    return Page((root / "output" / url_path).read_text(encoding="utf-8"))


def said(report) -> list[str]:
    """Everything the build told its user about pages: failures and warnings."""
    return [str(r.error) for r in report.failed] + list(report.warnings())


def listing(root: Path) -> dict[str, bytes]:
    """Every file of the site folder but the build's own (output/, .nbpress-cache/)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(("output/", ".nbpress-cache/")):
            found[rel] = path.read_bytes()
    return found


def notebook(cells, metadata=None, nbformat=4, minor=5) -> str:
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return json.dumps({"cells": cells, "metadata": meta if metadata is None else metadata,
                       "nbformat": nbformat, "nbformat_minor": minor})


def md_cell(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code_cell(text, outputs=()):
    return {"cell_type": "code", "metadata": {}, "source": text,
            "execution_count": 1 if outputs else None, "outputs": list(outputs)}


NBFORMAT_3 = json.dumps({
    "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
    "worksheets": [{"cells": [
        {"cell_type": "markdown", "metadata": {},
         "source": ["# An old notebook\n", "\n", "Written with IPython 2."]},
        {"cell_type": "code", "metadata": {}, "input": "print(6 * 7)", "language": "python",
         "collapsed": False, "prompt_number": 1,
         "outputs": [{"output_type": "stream", "stream": "stdout", "text": "42\n"}]}]}]})

MYST_HEADER = ("---\njupytext:\n  text_representation:\n    extension: .md\n"
               "    format_name: myst\nkernelspec:\n  display_name: Python 3\n"
               "  language: python\n  name: python3\n---\n")


def corpus(tmp_path: Path, name: str, layout: dict[str, str]) -> Path:
    """A corpus copied into a new site folder: `layout` maps the site's folders to the corpus
    folders they are copied from (the shared copy is read-only: modes are made writable)."""
    root = tmp_path / "site"
    for target, source in layout.items():
        shutil.copytree(CORPORA / name / source, root / target)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def build(root: Path, **options):
    from pipeline.build.engine import BuildOptions, build_site
    from pipeline.config import load_config

    return build_site(load_config(root), BuildOptions(**options))


def check(root: Path):
    from pipeline.author.check import check_site
    from pipeline.config import load_config

    return check_site(load_config(root))


# == FINDINGS ====================================================================================

def test_FINDING_a_file_a_page_links_to_replaces_another_page_silently(site):
    """A page links to a file of the content folder, `x/index.html` (an exported HTML file, a
    demo); page `x.md` publishes at the same output path. The file is copied over the page:
    /x/ serves the raw file, page X is gone, the build exits 0 and `check` finds nothing.
    writer.py `_copy` copies every asset to its target with no look at the pages' outputs."""
    site.page("x.md", "---\ntitle: Page X\n---\nThe real page X.\n")
    site.file("content/x/index.html", "<html><body>RAW FILE X</body></html>")
    site.page("y.md", "---\ntitle: Y\n---\nSee [the raw file](x/index.html).\n")
    report = site.build()
    html = (site.root / "output/x/index.html").read_text(encoding="utf-8")
    told = said(report) + [f.message for f in check(site.root)]
    assert any("x/index.html" in s for s in told), "nothing says the file and page X clash"
    assert Page(html).h1 == ["Page X"], html[:80]


def test_FINDING_a_file_inside_a_pages_index_html_path_is_called_a_bug_in_nbpress(site):
    """An image at `content/z/index.html/pic.png` (a folder named like a page's output file)
    shown by one page while page `z.md` exists: that page fails with "FileExistsError ... this
    looks like a bug in nbpress", not with what clashes and how to fix it."""
    site.page("z.md", "---\ntitle: Z\n---\nZ\n")
    site.file("content/z/index.html/pic.png", PNG_1PX)
    site.page("y.md", "---\ntitle: Y\n---\n![a picture](z/index.html/pic.png)\n")
    report = site.build()
    for text in said(report):
        assert "bug in nbpress" not in text and "FileExistsError" not in text, text


@pytest.mark.parametrize("pages, listing_at, lists", [
    # a section named `tags`: its page python.md is at /tags/python/, the tag's listing's URL
    ({"tags/python.md": "---\ntitle: My Python notes\n---\nnotes\n",
      "blog/x.md": "---\ntitle: Tagged post\ndate: 2024-01-02\ntags: [python]\n---\nx\n"},
     "tags/python/index.html", "Tagged post"),
    # a page at the blog listing's second page (paginate = 2): the oldest post is in no listing
    ({"blog/a.md": "---\ntitle: Oldest post\ndate: 2024-01-01\n---\na\n",
      "blog/b.md": "---\ntitle: B\ndate: 2024-01-02\n---\nb\n",
      "blog/c.md": "---\ntitle: C\ndate: 2024-01-03\n---\nc\n",
      "two.md": "---\ntitle: Page two\nslug: blog/page/2\n---\nmine\n"},
     "blog/page/2/index.html", "Oldest post"),
    # a section named `search`: its listing and the search page share /search/
    ({"search/engines.md": "---\ntitle: On search engines\ndate: 2024-01-01\n---\ns\n"},
     "search/index.html", "On search engines"),
], ids=["section-tags-page-at-a-tag-url", "slug-blog-page-2", "section-named-search"])
def test_FINDING_a_page_or_section_at_a_url_nbpress_makes_loses_a_listing_silently(
        site, pages, listing_at, lists):
    """A page whose URL is one nbpress makes for a listing (a tag's page `/tags/python/`, a
    listing's `/blog/page/2/`, a section `search/` whose listing is at the search page's URL)
    takes it over with no word: the tag's posts, the oldest posts of the blog, or the
    section's listing are gone, the build exits 0 and `check` finds nothing (the same URL as
    an alias is an error of `check`). site/files.py `_listings` leaves a listing out where a
    page is (`if url in page_urls: continue`, and the search page and a section listing at
    one path), and `reserved()` (site/files.py:232) knows only the top-level RESERVED names,
    not `tags/...`, `search/` or `.../page/N/`."""
    site.settings('[tool.nbpress]\npaginate = 2\n')
    for rel, text in pages.items():
        site.page(rel, text)
    report = site.build()
    shown = [text for _, text in page_at(site.root, listing_at).anchors]
    told = said(report) + [f.message for f in check(site.root)]
    assert lists in shown or any(listing_at.removesuffix("index.html") in s for s in told), (
        f"/{listing_at} no longer lists {lists!r} and nothing says why")


def test_FINDING_tags_that_differ_by_more_than_case_are_merged_into_one(site):
    """README: "tags that differ only in case are one". But `C#` and `C` (and `..`, `.` and
    `tag`) are one tag too: the page tagged `C` shows a chip "C" leading to "Tagged “C#”",
    and the tag index lists no "C". site/model.py `tag_slug` drops `#`, `.` and more, and
    `SiteModel.tags` groups by that slug (model.py:280) under the first name written."""
    site.page("a.md", "---\ntitle: Sharp\ndate: 2024-01-01\ntags: ['C#', '..']\n---\na\n")
    site.page("b.md", "---\ntitle: Plain C\ndate: 2024-01-02\ntags: [C, tag]\n---\nb\n")
    assert site.build().ok
    shown = {text for _, text in page_at(site.root, "tags/index.html").anchors}
    assert {"C", "C#", "tag", ".."} <= shown, f"the tag index shows {sorted(shown)}"


def test_FINDING_new_with_a_section_outside_the_content_folder_writes_there(site, tmp_path):
    """`nbpress new "x" --section ../../elsewhere` (or an absolute path) creates the page
    outside the site's content folder, anywhere on disk, and with an absolute path then ends in
    a traceback (ValueError from relative_to). author/new.py:33 joins `section` to
    config.content unchecked."""
    from pipeline.author.new import new_page

    outside = tmp_path / "elsewhere"
    for section in ("../../elsewhere", str(outside)):
        try:
            new_page(site.config(), "Escaped page", section=section)
        except NbpressError:
            pass
    assert not (outside / "escaped-page.md").exists(), \
        f"nbpress new wrote {outside / 'escaped-page.md'}, outside {site.root / 'content'}"


def test_FINDING_new_with_a_long_title_ends_in_a_traceback(site):
    """`nbpress new` with a 60-word title: an OSError traceback (File name too long) instead of
    a shortened file name or an error. author/new.py `slugify` never shortens the name."""
    from pipeline.cli import main

    title = " ".join(["word"] * 60)
    result = CliRunner().invoke(main, ["new", title, "--site", str(site.root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)


def test_FINDING_an_nbformat_3_notebook_fails_as_a_bug_in_nbpress(site):
    """An IPython 2 notebook (nbformat 3, which Jupyter and nbconvert still open) fails with
    "could not be built (AttributeError: cells) ... this looks like a bug in nbpress".
    notebook/convert.py:37 reads it with `jupytext.read`, which keeps v3's `worksheets`;
    nbformat.read(path, as_version=4) converts it (as export.py and run.py do)."""
    site.file("content/legacy.ipynb", NBFORMAT_3)
    site.page("ok.md", "---\ntitle: OK\n---\nok\n")
    report = site.build()
    assert report.ok, said(report)
    text = page_at(site.root, "legacy/index.html").text
    assert "Written with IPython 2." in text and "42" in text


def test_FINDING_status_crashes_on_a_site_with_an_nbformat_3_notebook(site):
    """`nbpress status` on a site holding an nbformat 3 notebook ends in a traceback
    (AttributeError: cells) instead of listing the pages: build/status.py:66 calls
    `to_notebook` for every page to build with no guard (a build fails only that page)."""
    from pipeline.build.status import site_status

    site.file("content/legacy.ipynb", NBFORMAT_3)
    site.page("ok.md", "---\ntitle: OK\n---\nok\n")
    lines = site_status(site.config())
    assert {line.source for line in lines} == {"content/legacy.ipynb", "content/ok.md"}


@pytest.mark.parametrize("name, data", [
    ("cells-are-strings", notebook(["just a string"])),
    ("top-level-list", "[1, 2]"),
    ("metadata-a-list", notebook([md_cell("# M")], metadata=[])),
    ("cell-without-type", notebook([{"source": "hi", "metadata": {}}])),
    ("fastpages-impossible-date",
     notebook([md_cell("# Post\n> summary\n- date: 2024-02-30\n"), md_cell("body")])),
])
def test_FINDING_a_broken_notebook_is_reported_as_a_bug_in_nbpress(site, name, data):
    """Valid JSON that is not a notebook, or fastpages front matter with an impossible date
    (`- date: 2024-02-30`): the build says "could not be built (AttributeError/ValueError ...)
    fix: this looks like a bug in nbpress" (check: "open it in Jupyter and save it again"),
    not what in the file is wrong. frontmatter.py `_read_notebook` and convert.py
    `_notebook_page` assume the notebook's shape; dialects.py:38 catches only YAMLError, not
    the ValueError of an impossible date (a Markdown page's date gets a clear error)."""
    site.file(f"content/{name}.ipynb", data)
    report = site.build()
    (failed,) = report.failed
    assert "bug in nbpress" not in str(failed.error), str(failed.error)


def test_FINDING_myst_comments_and_targets_are_published_as_text(site):
    """A MyST notebook (jupytext `format_name: myst`, as Jupyter Book writes them) with a
    `(label)=` target and a `% comment`: both are published as paragraphs, so the private
    comment is on the web, and the page shows its title twice (the target comes before the
    `# heading`). render/markdown.py builds markdown-it without mdit_py_plugins'
    myst_block_plugin, which reads targets, `%` comments and `+++` breaks."""
    site.page("guide.md", MYST_HEADER + "\n(guide-label)=\n# Guide\n\n"
              "% private note: do not publish\n\nText.\n\n+++\n\nMore.\n")
    assert site.build().ok
    page = page_at(site.root, "guide/index.html")
    assert "private note" not in page.text
    assert "(guide-label)=" not in page.text and "+++" not in page.text
    assert page.h1 == ["Guide"]


@needs_corpora
def test_FINDING_jupyter_book_targets_show_as_text_and_titles_twice(tmp_path):
    """jupyter-book's docs copied to content/: `file-types/markdown.md` and
    `myst-notebooks.md` open with a `(file-types:...)=` target; the published pages show
    "(file-types:markdown)=" as text and their title twice (two <h1>). Same root cause as
    test_FINDING_myst_comments_and_targets_are_published_as_text."""
    root = corpus(tmp_path, "jupyter-book-docs", {"content": "docs"})
    for rel in ("content/content", "content/interactive", "content/file-types/notebooks.ipynb"):
        path = root / rel             # pages with code: not needed here, and slow
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert build(root).ok
    for url in ("file-types/markdown/index.html", "file-types/myst-notebooks/index.html"):
        page = page_at(root, url)
        assert ")=" not in page.text.split()[0], page.text[:60]
        assert len(page.h1) == 1, page.h1


def test_FINDING_a_myst_code_cell_with_options_loses_its_failure_line(site):
    """A `{code-cell}` with a `:tags:` line (as in jupyter-book's code-outputs.md) that raises:
    the error names no line (code-outputs.md is reported without one, output-insert.md with
    one). convert.py `code_fences` matches a fence's body against the cell's source, and the
    body still holds the option lines."""
    site.page("run.md", MYST_HEADER + "\n# Run\n\n```{code-cell} ipython3\n:tags: [hide-input]\n\n"
              "1 / 0\n```\n")
    (failed,) = site.build().failed
    assert failed.error.line in (14, 15, 17), (failed.error.line, str(failed.error))


def test_FINDING_base_url_without_a_scheme_makes_relative_canonical_links(site):
    """`base_url = "example.org"` (no https://) is accepted: canonical links, the sitemap's
    <loc>, feeds and robots.txt say "example.org/a/", which a browser reads as a path under
    the page. config.py checks base_url only for being a string (_SCALARS); every other
    setting is checked for its meaning."""
    site.settings('[tool.nbpress]\nbase_url = "example.org"\n')
    site.page("a.md", "---\ntitle: A\n---\na\n")
    try:
        site.config()
    except ConfigError:
        return                          # refused, naming it: fine
    assert site.build().ok
    canonical = urlsplit(page_at(site.root, "a/index.html").canonical)
    assert canonical.scheme in ("http", "https") and canonical.netloc == "example.org"


def test_FINDING_a_dangling_symlink_page_stops_the_whole_build(site):
    """A page that is a symlink to a moved file (content/old.md -> nowhere): the build ends in
    a FileNotFoundError traceback before any page is built, instead of failing that page;
    `check` calls it unreadable with "open it in Jupyter and save it again". discover.py:223
    (`_stamp_tree`) calls entry.stat() unguarded."""
    site.page("a.md", "---\ntitle: A\n---\na\n")
    os.symlink(site.root / "nowhere" / "old.md", site.root / "content" / "old.md")
    report = site.build()
    assert (site.root / "output/a/index.html").is_file()
    assert any("old.md" in s for s in said(report))


def test_FINDING_duplicate_frontmatter_keys_are_silently_accepted(site):
    """`title:` written twice (a paste, a merge): YAML says keys are unique, Hugo refuses it;
    nbpress publishes the last one with no word, and `check` says nothing. PyYAML's loader
    (frontmatter.py parse_frontmatter) keeps the last value."""
    site.page("dup.md", "---\ntitle: The real title\ndate: 2024-01-01\ntitle: Draft name\n---\nx\n")
    report = site.build()
    told = said(report) + [f.message for f in check(site.root)]
    assert any("title" in s and ("twice" in s or "duplicate" in s.lower()) for s in told), told


def test_FINDING_slugs_equal_under_unicode_normalisation_are_both_published(site):
    """`café.md` saved by macOS (NFD) beside `café.md` (NFC): two pages whose URLs look the
    same are both published with no word (on a normalisation-insensitive file system, APFS,
    one overwrites the other). publish.py `unique_slugs` compares slugs as code points;
    file names differing only in case are caught there because slug_from_path lowercases."""
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    site.page(f"{nfc}.md", "---\ntitle: One\n---\none\n")
    site.page(f"{nfd}.md", "---\ntitle: Two\n---\ntwo\n")
    report = site.build()
    assert len(report.failed) == 2 or any("café" in unicodedata.normalize("NFC", s)
                                          for s in report.warnings())


# == what works (pinned) =========================================================================

@pytest.mark.parametrize("data, line, words", [
    (b"---\n- a\n- b\n---\nbody\n", 2, "not a mapping"),
    (b"---\ntitle: x\n\tslug: y\n---\nbody\n", 2, "tab"),
    (b"---\ntitle: bd\nfoo: 1\ndate: 2024-02-30\n---\nbody\n", 4, "invalid date"),
    (b"---\ntitle: bd\ndate: \"2024-02-30\"\n---\nbody\n", 3, "not a date"),
    (b"---\n", 1, "no closing"),
    (b"---\ntitle: Caf\xe9\n---\nhi\n", 2, "not UTF-8"),
    (b"---\ntitle: !!python/object/apply:os.system ['true']\n---\nx\n", 2, "invalid YAML"),
    (b"---\ntitle: T\nkey: !!binary aGVsbG8=\n---\nx\n", 3, "binary"),
], ids=["list", "tab", "date-unquoted", "date-quoted", "only-dashes", "latin-1", "python-tag",
        "binary"])
def test_bad_frontmatter_fails_its_page_with_file_line_and_fix_and_the_rest_builds(
        site, data, line, words):
    site.file("content/bad.md", data)
    site.page("ok.md", "---\ntitle: OK\n---\nok\n")
    report = site.build()
    (failed,) = report.failed
    assert failed.error.path.name == "bad.md" and failed.error.line == line
    assert words in failed.error.message and failed.error.hint
    assert (site.root / "output/ok/index.html").is_file()
    (finding,) = check(site.root)
    assert finding.line == line


@pytest.mark.parametrize("data, title", [
    (b"", "Empty"),
    (b"\xef\xbb\xbf---\ntitle: With BOM\n---\nhi\n", "With BOM"),
    (b"---\r\ntitle: Crlf\r\ndate: 2024-01-02\r\n---\r\n# Crlf\r\n\r\ntext\r\n", "Crlf"),
    (b"---\ntitle: Nul\n---\nhi\x00there\n", "Nul"),
    (b"---\n---\n# From the heading\n\ntext\n", "From the heading"),
])
def test_odd_but_readable_files_build(site, data, title):
    site.file("content/empty.md", data)
    assert site.build().ok
    page = page_at(site.root, "empty/index.html")
    assert page.h1 == [title] and page.title.startswith(title)


def test_titles_with_markup_quotes_and_bidi_characters_are_text_everywhere(site):
    title = 'a </script><script>alert(1)</script> " & <b> \u202eevil\u200b 😀 שלום'
    site.settings('[tool.nbpress]\ntitle = "S </script> & \\"x\\""\nbase_url = "https://e.org/"\n')
    site.page("t.md", "---\ntitle: " + json.dumps(title, ensure_ascii=False) + "\nabstract: '</script> & \"q\"'\n"
              "date: 2024-01-01\ntags: ['</script>', 'a&b']\n---\nhi\n")
    site.page("long.md", "---\ntitle: " + "Long " * 400 + "\n---\nhi\n")
    assert site.build().ok
    page = page_at(site.root, "t/index.html")
    assert page.h1 == [title] and page.title == f'{title} | S </script> & "x"'
    assert any(j.get("title") == title for j in page.json if isinstance(j, dict))
    import xml.etree.ElementTree as ET

    for feed in ("feed.xml", "rss.xml", "sitemap.xml", "tags/a&b/feed.xml"):
        ET.parse(site.root / "output" / feed)           # well-formed
    assert page_at(site.root, "long/index.html").h1 == [("Long " * 400).strip()]


@pytest.mark.parametrize("slug", ["../../etc", "%2e%2e/x", "a\\..\\..\\b", ".nbpress.json",
                                  "pagefind", "404.html", "assets/x"])
def test_slugs_that_leave_the_output_or_take_a_site_file_fail_with_a_fix(site, slug):
    site.page("p.md", "---\ntitle: P\nslug: " + json.dumps(slug) + "\n---\nhi\n")
    (failed,) = site.build().failed
    assert "slug" in failed.error.message and failed.error.hint
    assert [f for f in check(site.root) if "slug" in f.message]


def test_an_absolute_slug_stays_inside_the_output_and_two_pages_with_one_slug_both_fail(site):
    site.page("abs.md", "---\ntitle: Abs\nslug: /etc/passwd\n---\nhi\n")
    site.page("n.md", "---\ntitle: N\nslug: same\n---\nhi\n")
    site.page("o.md", "---\ntitle: O\nslug: /same/\n---\nhi\n")
    report = site.build()
    assert {r.source.rel for r in report.failed} == {"n", "o"}
    assert all("also the slug of" in r.error.message for r in report.failed)
    assert (site.root / "output/etc/passwd/index.html").is_file()


def test_files_out_of_the_site_are_refused_and_never_copied(site, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG_1PX)
    (outside / "secret.txt").write_text("SECRET")
    site.page("up.md", "---\ntitle: Up\n---\n![x](../../outside/secret.png)\n")
    site.page("html.md", "---\ntitle: Html\n---\n<img src=\"../../outside/secret.png\">\n")
    site.page("sym.md", "---\ntitle: Sym\n---\n![x](link.png)\n\n[t](linkdir/secret.txt)\n")
    os.symlink(outside / "secret.png", site.root / "content/link.png")
    os.symlink(outside, site.root / "content/linkdir")
    report = site.build()
    assert {r.source.rel for r in report.failed} == {"up", "html", "sym"}
    assert all("outside the site" in r.error.message for r in report.failed)
    for path in (site.root / "output").rglob("*"):
        assert not path.is_file() or b"SECRET" not in path.read_bytes()
    assert not list((site.root / "output").rglob("secret*"))


def test_aliases_onto_pages_listings_and_site_files_get_no_redirect_and_are_said(site):
    site.settings('[tool.nbpress]\nbase_url = "https://e.org/"\n')
    for i in range(3):
        site.page(f"blog/p{i}.md", f"---\ntitle: P{i}\ndate: 2024-01-0{i + 1}\ntags: [python]\n"
                  "---\nx\n")
    site.page("a.md", "---\ntitle: A\naliases: [/tags/python/, /blog/, /search/, /b/, "
              "/feed.xml, /.nbpress.json, /old/]\n---\nA\n")
    site.page("b.md", "---\ntitle: B\naliases: [/old/]\n---\nB\n")
    report = site.build()
    assert report.ok and len(report.warnings()) == 7
    assert page_at(site.root, "tags/python/index.html").h1 == ["Tagged “python”"]
    assert len([f for f in check(site.root) if "alias" in f.message]) == 7


def test_notebook_outputs_scripts_widgets_and_list_sources_are_published_as_saved(site):
    site.file("content/listsrc.ipynb", notebook([
        md_cell(["# List source\n", "hello ", "world"]),
        code_cell(["x = 1\n", "print(x)"], [{"output_type": "stream", "name": "stdout",
                                            "text": ["1\n"]}])]))
    site.file("content/widget.ipynb", notebook([md_cell("# Widget"), code_cell("w", [{
        "output_type": "display_data", "metadata": {},
        "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc",
                 "version_major": 2, "version_minor": 0}, "text/plain": "IntSlider(value=3)"}}])],
        metadata={"kernelspec": {"name": "python3", "display_name": "P", "language": "python"},
                  "widgets": {"application/vnd.jupyter.widget-state+json": {"version_major": 2}}}))
    site.file("content/bad.ipynb", '{"cells": [')
    report = site.build()
    (failed,) = report.failed
    assert failed.source.rel == "bad" and failed.error.line == 1 and "JSON" in failed.error.message
    assert not any(r.executed for r in report.results)           # outputs as saved
    assert "hello world" in page_at(site.root, "listsrc/index.html").text
    assert "IntSlider(value=3)" in page_at(site.root, "widget/index.html").text
    assert any("widget" in w and "widget.ipynb" in w for w in report.warnings())


def test_incremental_rename_delete_draft_leaves_nothing_stale_and_writes_only_output(site):
    site.settings('[tool.nbpress]\nbase_url = "https://e.org/"\n')
    site.page("blog/a.md", "---\ntitle: Alpha Secret\ndate: 2024-01-01\ntags: [onlya]\n"
              "aliases: [/old-a/]\n---\nA\n")
    site.page("blog/b.md", "---\ntitle: Beta\ndate: 2024-01-02\n---\nB\n")
    site.page("blog/c.md", "---\ntitle: Gamma\ndate: 2024-01-03\n---\n![i](pic.png)\n")
    site.file("content/blog/pic.png", PNG_1PX)
    assert site.build().ok
    before = listing(site.root)
    a = site.root / "content/blog/a.md"
    a.write_text(a.read_text().replace("date:", "draft: true\ndate:"))
    (site.root / "content/blog/b.md").rename(site.root / "content/blog/beta.md")
    (site.root / "content/blog/c.md").write_text("---\ntitle: Gamma\ndate: 2024-01-03\n---\nno\n")
    edited = listing(site.root)
    assert site.build().ok
    assert listing(site.root) == edited and set(before) - set(edited) == {"content/blog/b.md"}
    out = site.root / "output"
    assert not (out / "blog/a").exists() and not (out / "old-a").exists()
    assert not (out / "blog/b").exists() and (out / "blog/beta/index.html").is_file()
    assert not (out / "blog/pic.png").exists() and not (out / "tags").exists()
    for path in out.rglob("*"):
        if path.suffix in (".html", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert "Alpha Secret" not in text and "/blog/b/" not in text, path


def test_check_fix_keeps_the_bom_and_crlf_line_ends(site):
    broken = "😎 café".encode("utf-8").decode("cp1252").encode("utf-8")
    data = b"\xef\xbb\xbf---\r\ntitle: Fix\r\n---\r\n\r\nGood\r\nBroken " + broken + b"\r\n"
    site.file("content/a.md", data)
    from pipeline.author.check import check_site

    check_site(site.config(), fix=True)
    assert (site.root / "content/a.md").read_bytes() == data.replace(broken, "😎 café".encode())


@needs_corpora
def test_lumen_as_content_builds_every_post_with_no_settings_and_check_is_clean(tmp_path):
    root = corpus(tmp_path, "gatsby-starter-lumen", {"content": "content"})
    before = listing(root)
    report = build(root)
    assert report.ok and report.count(Outcome.BUILT) == 7 and not report.warnings()
    assert check(root) == []
    assert listing(root) == before
    page = page_at(root, "the-birth-of-movable-type/index.html")
    assert page.h1 == ["Johannes Gutenberg: The Birth of Movable Type"]
    assert "Johannes Gensfleisch zur Laden zum Gutenberg" in page.text
    assert page_at(root, "tags/typography/index.html").h1 == ["Tagged “Typography”"]


@needs_corpora
def test_fastpages_as_content_and_notebooks_builds_and_writes_only_output(tmp_path):
    root = corpus(tmp_path, "fastpages", {"content": "_posts", "notebooks": "_notebooks"})
    shutil.copytree(CORPORA / "fastpages" / "images", root / "content" / "images")
    for path in (root / "content" / "images").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    before = listing(root)
    report = build(root)
    assert report.ok, said(report)
    assert listing(root) == before
    page = page_at(root, "fastcore/index.html")
    assert page.h1[0] == "fastcore: An Underrated Python Library"
    assert "pip install -U git+git" not in page.text              # a #hide cell
    # an `image:` fastpages writes from the site root is a warning naming the file, not a failure
    assert any("2020-02-20-test.ipynb" in w and "chart-preview.png" in w for w in report.warnings())


# == after the fixes ==============================================================================

def test_a_key_given_twice_with_one_value_is_accepted(site):
    """fastpages' posts write `hide: false` twice: harmless, so published (two values fail)."""
    site.page("twice.md", "---\ntitle: T\nhide: false\ntoc: false\nhide: false\n---\nx\n")
    site.page("nested.md", "---\ntitle: N\nparams:\n  a: [1, 2]\n  a: [1, 2]\n---\nx\n")
    site.page("two.md", "---\ntitle: T\nparams:\n  a: 1\n  a: 2\n---\nx\n")
    report = site.build()
    failed = {r.source.rel: r.error for r in report.results if r.error is not None}
    assert set(failed) == {"two"}, failed
    assert failed["two"].line == 5 and "'a' is given twice" in str(failed["two"])


def test_a_section_for_a_new_page_is_a_folder_under_content(site):
    from pipeline.author.new import new_page, slugify

    (made,) = new_page(site.config(), "Nested", section="docs/api")
    assert made == site.root / "content/docs/api/nested.md"
    assert "slug: /docs/api/nested" in made.read_text(encoding="utf-8")
    with pytest.raises(NbpressError, match="not a folder of the content folder"):
        new_page(site.config(), "Out", section="docs/../../x")
    name = slugify(" ".join(["word"] * 60))
    assert len(name) <= 80 and name.endswith("word") and not name.endswith("-")


def test_tags_keep_their_plain_urls_and_others_are_told_apart(site):
    from pipeline.site.model import tag_slug

    assert tag_slug("Learning  to Write") == tag_slug("learning to write") == "learning-to-write"
    assert tag_slug("node.js") == "node.js"
    assert len({tag_slug(t) for t in ("C#", "C", "c", "..", ".", "tag", "C/C++")}) == 6


@pytest.mark.parametrize("slug", ["tags/python", "search", "blog/page/2", "page/3"])
def test_a_page_at_a_url_nbpress_writes_fails_naming_it(site, slug):
    site.page("t.md", "---\ntitle: T\ntags: [python]\n---\nt\n")    # the site has tags
    site.page("a.md", f"---\ntitle: A\nslug: {slug}\n---\na\n")
    (failed,) = site.build().failed
    assert f"/{slug}/" in str(failed.error) and "nbpress writes" in str(failed.error)
