"""nbpress check across pages: fragments against the ids the engine makes, links written as
the site's URLs, aliases, the toc, links to other sites (a local server: this machine has no
internet), and what fails the check (errors; warnings only with --strict)."""
from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.site.anchors import FragmentLink, element_ids, has_fragment, missing_fragments
from tests.conftest import SEED


def check(site, *args: str):
    """(exit code, the output as one line of words, the output's lines)."""
    result = CliRunner().invoke(main, ["check", "--site", str(site.root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split()), result.output.splitlines()


def problems(lines, level="error"):
    """The lines of one level, as 'path:line: message' (words joined by one space)."""
    return [" ".join(line.split()[1:]) for line in lines if line.split()[:1] == [level]]


# -- the ids of a page ---------------------------------------------------------------------------

def test_ids_are_the_headings_footnotes_and_what_the_author_wrote():
    from pipeline.render.markdown import Markdown

    html = Markdown().render('# Hello, World!\n\n## Hello, World!\n\nText[^1] <a name="old"></a> '
                             '<span id="x">y</span> <input name="field">\n\n'
                             '```html\n<a id="in-code">\n```\n\n[^1]: note\n')
    ids = element_ids(html)
    assert {"hello-world", "hello-world-1", "fn1", "fnref1", "old", "x"} <= ids
    assert "field" not in ids and "in-code" not in ids      # a form field; escaped code


def test_a_fragment_is_found_as_a_browser_finds_it():
    ids = {"café", "setup"}
    assert has_fragment("caf%C3%A9", ids) and has_fragment("café", ids)
    assert has_fragment("", ids) and has_fragment("top", ids) and has_fragment("TOP", ids)
    assert not has_fragment("Setup", ids) and not has_fragment("%FF", ids)
    (missing,) = missing_fragments([FragmentLink("a", "setpu"), FragmentLink("a", "setup"),
                                    FragmentLink("listing", "anything")], {"a": ids})
    assert (missing.link.fragment, missing.suggestion) == ("setpu", "setup")


# -- fragments ----------------------------------------------------------------------------------

GUIDE = '---\ntitle: "Guide"\n---\n\n## Setup and install\n\nText[^1] <a name="legacy"></a>\n\n' \
        '## Usage\n\n## Usage\n\n[^1]: a note\n'


def test_a_fragment_of_another_page_is_checked_against_its_heading_ids(site):
    site.page("guide.md", GUIDE)
    post = site.page("blog/post.md",
                     "---\ntitle: Post\n---\n\n[ok](../guide.md#setup-and-install)\n\n"
                     "[typo](../guide.md#setup-and-instal)\n\n[second usage](../guide.md#usage-1)"
                     "\n\n[note](../guide.md#fn1) [old](../guide.md#legacy) "
                     "[url](/guide/#usage) [top](../guide.md#top)\n\n[nothing](../guide.md#zzz)\n")
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == [
        "content/blog/post.md:7: link to ../guide.md#setup-and-instal: no heading with that id "
        "(did you mean #setup-and-install?)",
        "content/blog/post.md:13: link to ../guide.md#zzz: no heading with that id (fix: link "
        "to an id the page has; a heading's is its text in lower case, punctuation dropped, "
        "spaces as hyphens)"]
    assert post.exists()


def test_a_same_page_fragment_is_checked_on_that_page(site):
    site.page("a.md", "---\ntitle: A\n---\n\n## Intro\n\nSee [below](#details), [up](#intro), "
                      "[the top](#), [café](#café-au-lait).\n\n## Details\n\n## Café au lait\n\n"
                      "Back to [intro](#intr).\n")
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == ["content/a.md:13: link to #intr: no heading with that id "
                               "(did you mean #intro?)"]


def test_the_ids_check_accepts_are_the_ids_the_build_publishes(site):
    site.page("guide.md", GUIDE)
    site.page("b.md", "---\ntitle: B\n---\n\n[a](guide.md#usage-1) [b](guide.md#usage-2)\n")
    _, _, lines = check(site)
    assert problems(lines) == ["content/b.md:5: link to guide.md#usage-2: no heading with that "
                               "id (did you mean #usage-1?)"]
    assert site.build().ok
    published = published_ids(site, "guide")
    assert {"usage", "usage-1", "setup-and-install"} <= published and "usage-2" not in published


def published_ids(site, slug):
    """The ids of the page the build published at `slug`, read with the standard library's
    HTML parser (not the code under test)."""
    from html.parser import HTMLParser

    class Ids(HTMLParser):
        found: set = set()

        def handle_starttag(self, tag, attrs):
            self.found.update(v for k, v in attrs if k == "id" and v)

    reader = Ids()
    reader.found = set()
    reader.feed((site.root / "output" / slug / "index.html").read_text(encoding="utf-8"))
    return reader.found


def notebook(*cells):
    return nbformat.writes(nbformat.v4.new_notebook(cells=list(cells)))


def test_a_fragment_of_a_notebook_page_is_checked_against_its_markdown_cells(site, tmp_path):
    ran = tmp_path / "ran.txt"
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    site.file("content/analysis.ipynb", notebook(
        md("# Analysis\n\n## Results"), code(f"open({str(ran)!r}, 'w')"),
        md("## Setup"), code("x = 1"), md("## Setup")))
    page = site.page("a.md", "---\ntitle: A\n---\n\n[r](analysis.ipynb#results) "
                             "[s](analysis.ipynb#setup)\n\n[typo](analysis.ipynb#result)\n\n"
                             "[again](analysis.ipynb#setup-1)\n")
    code_, _, lines = check(site)
    assert code_ == 1 and not ran.exists()                  # no kernel: nothing ran
    # cell by cell, as the build exports a notebook with code: ids unique on the page
    assert problems(lines) == [
        "content/a.md:7: link to analysis.ipynb#result: no heading with that id (did you "
        "mean #results?)"]
    assert page.exists()
    assert site.build().ok and ran.exists()                 # the build runs it, and agrees
    assert {"results", "setup", "setup-1"} <= published_ids(site, "analysis")


def test_a_notebook_s_own_links_to_its_headings_are_checked_with_no_line(site):
    md = nbformat.v4.new_markdown_cell
    site.file("notebooks/nb.ipynb", notebook(md("# NB\n\n## Part one\n\n[next](#part-tow)"),
                                             md("## Part two")))
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == ["notebooks/nb.ipynb: link to #part-tow: no heading with that id "
                               "(did you mean #part-two?)"]


# -- links written as the site's URLs -------------------------------------------------------------

def test_links_written_as_urls_must_lead_to_something_the_site_publishes(site):
    site.page("about.md", "---\ntitle: About\n---\n\nMe.\n")
    site.page("blog/first.md", "---\ntitle: First\ndate: 2024-01-01\n---\n\nOne.\n")
    site.file("static/downloads/index.html", "<p>files</p>")
    site.page("blog/post.md", "---\ntitle: Post\ndate: 2024-02-01\naliases: [/2019/post/]\n---"
                              "\n\n[a](/about/) [b](../../about/) [c](/blog/) [d](../first/) "
                              "[e](/downloads/) [f](/2019/post/) [g](/)\n\n"
                              "[too shallow](../about/)\n\n[gone](/blog/frist/)\n\n"
                              "[anchor](/about/#nowhere)\n")
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == [
        "content/blog/post.md:9: link to ../about/ (/blog/about/): no page of the site has "
        "that URL (did you mean /about/?)",
        "content/blog/post.md:11: link to /blog/frist/: no page of the site has that URL "
        "(did you mean /blog/first/?)",
        "content/blog/post.md:13: link to /about/#nowhere: no heading with that id (fix: link "
        "to an id the page has; a heading's is its text in lower case, punctuation dropped, "
        "spaces as hyphens)"]


def test_a_link_to_the_site_s_own_base_url_is_a_link_inside_it(site):
    site.settings('[tool.nbpress]\nbase_url = "https://me.example/"\n')
    site.page("about.md", "---\ntitle: About\n---\n\n## Me\n")
    site.page("a.md", "---\ntitle: A\n---\n\n[ok](https://me.example/about/#me)\n\n"
                      "[bad](https://me.example/abuot/)\n")
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == ["content/a.md:7: link to https://me.example/abuot/ (/abuot/): no "
                               "page of the site has that URL (did you mean /about/?)"]


# -- aliases -----------------------------------------------------------------------------------

def test_aliases_that_take_a_url_something_else_has_are_errors_naming_both(site):
    site.page("b.md", "---\ntitle: B\n---\n\nB.\n")
    site.page("blog/post.md", "---\ntitle: P\ndate: 2024-01-01\n---\n\nP.\n")
    site.file("static/files/index.html", "x")
    site.page("a.md", "---\ntitle: A\naliases:\n  - /b/\n  - /old/\n  - /blog/\n  - /a/\n"
                      "  - /404.html\n  - /assets/x/\n  - /files/\n  - /fine/\n---\n\nA.\n")
    site.page("c.md", "---\ntitle: C\naliases: [/old/]\n---\n\nC.\n")
    code, _, lines = check(site)
    assert code == 1
    assert problems(lines) == [
        "content/a.md:4: alias /b/ is the URL of content/b.md: the redirect would replace that "
        "page (fix: remove the alias, or give that page another slug)",
        "content/a.md:6: alias /blog/ would replace the listing of the blog section (fix: "
        "remove the alias, or choose another old URL)",
        "content/a.md:7: alias /a/ is the page's own URL (fix: remove the alias)",
        "content/a.md:8: alias /404.html would replace the site's 404.html (fix: remove the "
        "alias, or choose another old URL)",
        "content/a.md:9: alias /assets/x/ would overwrite a file nbpress writes for the whole "
        "site (404.html, index.html, sitemap.xml, assets/, tags/, search/, a listing's page/2/) "
        "or a file of static/ (fix: remove the alias)",
        "content/a.md:10: alias /files/ would replace static/files/index.html (fix: remove the "
        "alias, or choose another old URL)",
        "content/c.md:3: alias /old/ is also an alias of content/a.md: one old URL can redirect "
        "to one page only (fix: remove the alias from one of them)"]


def test_duplicate_slugs_are_reported_by_check_with_both_files(site):
    site.page("a.md", '---\ntitle: "A"\nslug: same\n---\n\nx\n')
    site.page("b.md", '---\ntitle: "B"\nslug: same\n---\n\ny\n')
    code, text, lines = check(site)
    assert code == 1
    errors = problems(lines)
    assert len(errors) == 2 and all("slug 'same' is also the slug of" in e for e in errors)
    assert str(site.root / "content/b.md") in errors[0] and \
        str(site.root / "content/a.md") in errors[1]
    assert "2 findings: 2 errors, 0 warnings, 0 notes" in text


# -- toc ------------------------------------------------------------------------------------------

def test_a_toc_entry_that_names_no_page_is_a_warning_that_strict_fails(site):
    site.settings('[tool.nbpress]\ntitle = "Book"\ntoc = [\n  "intro.md",\n  "chapter-1.md",\n'
                  '  "notes/ch2",\n  "nowhere-near-anything-at-all.md",\n]\n')
    site.page("intro.md", "---\ntitle: Intro\n---\n\nHi.\n")
    site.page("chapter1.md", "---\ntitle: One\n---\n\n1.\n")
    site.file("notebooks/notes/ch2.ipynb", notebook(nbformat.v4.new_markdown_cell("# Two")))
    code, _, lines = check(site)
    assert code == 0
    assert problems(lines, "warning") == [
        "pyproject.toml:5: toc entry 'chapter-1.md' names no page: it is left out (did you "
        "mean 'chapter1.md'?)",
        "pyproject.toml:7: toc entry 'nowhere-near-anything-at-all.md' names no page: it is "
        "left out (fix: write a page's path from the content folder, such as \"intro.md\")"]
    assert check(site, "--strict")[0] == 1


# -- what fails the check ------------------------------------------------------------------------

def test_the_seed_page_s_mojibake_is_a_warning_and_only_strict_fails_on_it(site):
    target = site.root / "content/experiences/aws.md"
    target.parent.mkdir(parents=True)
    shutil.copyfile(SEED, target)
    site.file("content/images/aws.png", b"\x89PNG\r\n\x1a\n")
    code, text, lines = check(site)
    assert code == 0, text
    (warning,) = problems(lines, "warning")
    assert warning.startswith("content/experiences/aws.md:47: mojibake")
    assert "1 finding: 0 errors, 1 warning, 0 notes" in text
    code, text, _ = check(site, "--strict")
    assert code == 1 and "--strict: 1 warning fails the check" in text
    assert target.read_bytes() == SEED.read_bytes()


def test_findings_come_once_each_by_file_and_line_with_their_level(site):
    site.page("z.md", "---\ntitle: Z\n---\n\nCafÃ© here.\n\n[x](gone.md) [x](gone.md)\n\n"
                      "[x](gone.md)\n\n```text\nÃ© in code\n```\n")
    site.page("a.md", "---\ntitle: A\n---\n\n[y](#nope)\n")
    code, text, lines = check(site)
    assert code == 1
    shown = [line.split()[0] + " " + line.split()[1] for line in lines if line[:1] != " "][:-1]
    assert shown == ["error content/a.md:5:", "warning content/z.md:5:", "error content/z.md:7:",
                     "error content/z.md:9:", "note content/z.md:12:"]
    assert "5 findings: 3 errors, 1 warning, 1 note" in text


# -- links to other sites -------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    asked: list[tuple[str, str]] = []
    broken: set[str] = set()

    def _answer(self, body: bool) -> None:
        type(self).asked.append((self.command, self.path))
        if self.path in type(self).broken or self.path == "/missing":
            self.send_response(404)
        elif self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/ok")
        elif self.path == "/slow":
            time.sleep(3)
            self.send_response(200)
        elif self.path == "/no-head" and self.command == "HEAD":
            self.send_response(405)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2" if body else "0")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    _Handler.asked, _Handler.broken = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def external_site(site, url):
    site.page("a.md", f"---\ntitle: A\n---\n\n[ok]({url}/ok) [ok again]({url}/ok#part)\n\n"
                      f"[missing]({url}/missing)\n\n[moved]({url}/old)\n\n[slow]({url}/slow)\n\n"
                      f"[no head]({url}/no-head)\n\n[no such host](http://example.invalid/x)\n")
    site.page("b.md", f"---\ntitle: B\n---\n\nAlso <{url}/ok>, [unroutable](http://192.0.2.1/) "
                      "and [mail](mailto:me@example.org).\n")


def test_external_links_are_checked_only_when_asked_each_url_once(site, server):
    external_site(site, server)
    code, _, lines = check(site)
    assert code == 0 and _Handler.asked == [] and problems(lines, "warning") == []

    started = time.monotonic()
    code, text, lines = check(site, "--external", "--timeout", "1")
    assert time.monotonic() - started < 8, "a slow or unreachable host held the check up"
    assert code == 0, text
    warned = problems(lines, "warning")
    assert [w.split(": link to ")[0] for w in warned] == [
        "content/a.md:7", "content/a.md:11", "content/a.md:15", "content/b.md:5"]
    assert "404 Not Found" in warned[0] and "no answer within 1 s" in warned[1]
    assert "http://example.invalid/x: unreachable" in warned[2]
    assert "http://192.0.2.1/:" in warned[3]
    assert problems(lines, "note") == [f"content/a.md:9: link to {server}/old: moved for good "
                                       f"to {server}/ok (link there)"]
    heads = [path for method, path in _Handler.asked if method == "HEAD"]
    assert heads.count("/ok") == 2          # once for itself, once at the end of /old
    assert ("GET", "/no-head") in _Handler.asked and ("GET", "/ok") not in _Handler.asked
    assert check(site, "--external", "--timeout", "1", "--strict")[0] == 1


def test_answers_are_kept_for_a_day_and_asked_again_with_no_cache(site, server):
    site.page("a.md", f"---\ntitle: A\n---\n\n[ok]({server}/ok)\n\n[gone]({server}/missing)\n")
    assert check(site, "--external")[0] == 0
    asked = len(_Handler.asked)
    _Handler.broken.add("/ok")                      # it breaks meanwhile

    _, _, lines = check(site, "--external")         # the day's answers: nothing asked
    assert len(_Handler.asked) == asked and len(problems(lines, "warning")) == 1

    _, _, lines = check(site, "--external", "--no-cache")
    assert [w.split(": link to ")[0] for w in problems(lines, "warning")] == [
        "content/a.md:5", "content/a.md:7"]

    _Handler.broken.clear()
    cache = site.root / ".nbpress-cache/external.json"
    data = json.loads(cache.read_text())
    for answer in data["answers"].values():
        answer["checked"] -= 25 * 3600              # yesterday's answers
    cache.write_text(json.dumps(data))
    asked = len(_Handler.asked)
    _, _, lines = check(site, "--external")
    assert len(_Handler.asked) == asked + 2 and len(problems(lines, "warning")) == 1


def test_a_url_that_got_no_answer_is_asked_again_next_time(site, server):
    site.page("a.md", f"---\ntitle: A\n---\n\n[slow]({server}/slow)\n")
    assert check(site, "--external", "--timeout", "0.5")[0] == 0
    assert check(site, "--external", "--timeout", "0.5")[0] == 0
    assert [p for _, p in _Handler.asked] == ["/slow", "/slow"]
