"""Fixes from a review of main, each a whole build or command: an HTML block split again
after an end tag (bug 5), a `files/` folder (bug 8), links to static/ files (bug 9), mojibake
in code (bug 11), a site without its content folder (bug 12)."""
from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from pipeline.author.check import check_site
from pipeline.cli import main
from pipeline.render.html import url_attributes
from tests.conftest import PNG_1PX, REPO


def _html(site, slug: str) -> str:
    return (site.root / "output" / slug / "index.html").read_text(encoding="utf-8")


def _urls(html: str) -> list[str]:
    return [a.value for a in url_attributes(html)]


def _warnings(report) -> list[str]:
    return [w for r in report.results for w in r.warnings]


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, " ".join(result.output.split())


# -- bug 5: a <style> after a </div> in a page with code ------------------------------------

STYLE_AFTER_A_DIV = '''
    ---
    title: "Styled"
    ---
    <div class="note">

    ```python
    print(1)
    ```

    </div>

    <style>
    .one { color: red; }


    .two { color: blue; }
    </style>
    '''


def test_a_style_opened_after_an_end_tag_keeps_its_blank_lines_inside_it(site):
    site.page("styled.md", STYLE_AFTER_A_DIV)

    report = site.build()

    assert report.ok, [str(r.error) for r in report.failed]
    html = _html(site, "styled")
    style = html[html.index("<style>\n.page-body .one"):]      # scoped to its article
    style = style[:style.index("</style>")]
    assert ".page-body .two { color: blue; }" in style and "<p>" not in style, style


# -- bug 8: a folder named files/ -------------------------------------------------------------

def test_files_in_a_folder_named_files_are_linked_and_shown_as_written(site):
    site.file("content/blog/files/pic.png", PNG_1PX)
    site.file("content/blog/files/x.pdf", b"%PDF-1.4 fake")
    site.file("content/files/top.pdf", b"%PDF-1.4 top")
    site.page("blog/prose.md", "---\ntitle: P\n---\n\n![pic](files/pic.png) [pdf](files/x.pdf)"
                               " [top](/files/top.pdf)\n")
    site.page("blog/code.md", "---\ntitle: C\n---\n\n![pic](files/pic.png) [pdf](files/x.pdf)"
                              "\n\n```python\nprint(1)\n```\n")

    report = site.build()

    assert report.ok, [str(r.error) for r in report.failed]
    assert not _warnings(report)
    assert _urls(_html(site, "blog/prose")).count("../files/pic.png") == 1
    assert {"../files/x.pdf", "../../files/top.pdf"} <= set(_urls(_html(site, "blog/prose")))
    assert {"../files/pic.png", "../files/x.pdf"} <= set(_urls(_html(site, "blog/code")))
    assert (site.root / "output/blog/files/pic.png").read_bytes() == PNG_1PX
    assert (site.root / "output/files/top.pdf").is_file()


# -- bug 9: links to files of static/ --------------------------------------------------------

def _static_site(site):
    site.file("static/downloads/doc.pdf", b"%PDF-1.4 fake")
    site.file("static/img/logo.png", PNG_1PX)
    site.page("blog/post.md", "---\ntitle: P\n---\n\n[doc](/downloads/doc.pdf) and "
                              '<img src="/img/logo.png" alt="logo">\n')


def test_a_site_absolute_link_to_a_static_file_is_accepted_and_left_as_written(site):
    _static_site(site)

    report = site.build()

    assert report.ok, [str(r.error) for r in report.failed]
    assert _warnings(report) == []
    urls = _urls(_html(site, "blog/post"))
    assert "/downloads/doc.pdf" in urls and "/img/logo.png" in urls
    assert (site.root / "output/downloads/doc.pdf").is_file()
    assert check_site(site.config()) == []


def test_a_static_file_that_goes_or_comes_is_noticed_by_the_next_build(site):
    _static_site(site)
    assert site.build().ok
    (site.root / "static/downloads/doc.pdf").unlink()

    report = site.build()

    assert [w for w in _warnings(report) if "'/downloads/doc.pdf'" in w], _warnings(report)
    site.file("static/downloads/doc.pdf", b"%PDF-1.4 back")
    assert _warnings(site.build()) == []


# -- bug 11: check --fix leaves code alone ------------------------------------------------------

MOJIBAKE_IN_CODE = ("---\ntitle: \"Mojibake explained\"\n---\n\n"
                    "When “quotes” are read as cp1252 you get this:\n\n"
                    "```text\nâ€œquotesâ€\n```\n\nAlso the inline `cafÃ©` example.\n")


def test_check_fix_never_changes_code_and_the_notes_do_not_fail_it(site):
    page = site.page("blog/moji.md", MOJIBAKE_IN_CODE)

    code, text = _cli("check", "--fix", "--site", str(site.root))

    assert page.read_text(encoding="utf-8") == MOJIBAKE_IN_CODE
    assert code == 0, text
    assert "moji.md:8: mojibake in code, left as written" in text
    assert "moji.md:11: mojibake in code, left as written" in text
    assert "repaired as" not in text and "2 findings, 0 repaired" in text


def test_check_does_not_offer_a_partial_repair(site):
    page = site.page("half.md", "---\ntitle: H\n---\n\nLost a byte: â€œquotesâ€\n")
    before = page.read_bytes()

    run = subprocess.run([sys.executable, "-m", "pipeline", "check", "--fix", "--site",
                          str(site.root)], capture_output=True, text=True, cwd=REPO)

    assert run.returncode == 1
    assert "cannot be repaired whole" in run.stderr and "repaired as" not in run.stderr
    assert "0 repaired" in run.stderr
    assert page.read_bytes() == before


# -- bug 12: no content folder ----------------------------------------------------------------

def _book(tmp_path):
    """A Jupyter Book: its pages in docs/, settings that do not say so."""
    root = tmp_path / "book"
    (root / "docs/intro").mkdir(parents=True)
    (root / "docs/intro/start.md").write_text("# Start\n", encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.nbpress]\ntitle = "Book"\n', encoding="utf-8")
    return root


def test_a_site_without_its_content_folder_is_an_error_naming_it_and_the_fix(tmp_path):
    root = _book(tmp_path)
    for command in ("build", "check", "status"):
        code, text = _cli(command, "--site", str(root))

        assert code == 2, (command, text)
        assert str(root / "content") in text and "does not exist" in text, text
        assert 'content_dir = "docs" under [tool.nbpress]' in text, text
        assert "nbpress new" in text, text
    assert not (root / "output").exists()


def test_an_empty_content_folder_is_said_after_the_build(tmp_path):
    root = _book(tmp_path)
    (root / "content").mkdir()

    code, text = _cli("build", "--site", str(root))

    assert code == 0, text
    assert f"warning no pages (.md or .ipynb files) in {root / 'content'}" in text, text
    assert 'content_dir = "docs"' in text and "nbpress new" in text, text
