"""Bad input: each problem is reported with its file, line and fix; the other pages are built;
nothing is lost (author's files, the previous site, the last good version of a page)."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import ExecutionError, LinkError, PageError
from pipeline.model import Outcome
from tests.conftest import REPO, PNG_1PX

GOOD = """\
---
title: "Good page"
---

Still here.
"""


def result_for(report, rel):
    return next(r for r in report.results if r.source.rel == rel)


def code_page(*cells: str, front: str = 'title: "Code"') -> str:
    fences = "\n\n".join(f"```python\n{c}\n```" for c in cells)
    return f"---\n{front}\n---\n\nSome prose.\n\n{fences}\n"


def test_invalid_yaml_names_file_and_line_and_others_build(site):
    site.page("good.md", GOOD)
    bad = site.page("bad.md", '---\ntitle: "Bad"\ntags: [a, b\nslug: x\n---\n\nbody\n')
    report = site.build()
    failed = result_for(report, "bad")
    assert failed.outcome is Outcome.FAILED and isinstance(failed.error, PageError)
    assert failed.error.path == bad and failed.error.line == 3      # where the [ opened
    assert "YAML" in failed.error.message and failed.error.hint
    assert result_for(report, "good").outcome is Outcome.BUILT
    assert (site.root / "output/good/index.html").is_file()
    assert not report.ok


def test_not_utf8_names_the_line(site):
    site.page("good.md", GOOD)
    path = site.root / "content/latin.md"
    path.write_bytes(b'---\ntitle: "x"\n---\n\ncaf\xe9 au lait\n')
    error = result_for(site.build(), "latin").error
    assert error.path == path and error.line == 5 and "UTF-8" in error.hint


def test_ill_typed_field(site):
    site.page("p.md", '---\ntitle: "P"\ndraft: "no"\n---\n\nx\n')
    error = result_for(site.build(), "p").error
    assert error.line == 3 and "draft" in error.message and "draft: true" in error.hint


def test_duplicate_slugs_fail_both_and_name_both(site):
    a = site.page("a.md", '---\ntitle: "A"\nslug: /same\n---\n\nA\n')
    b = site.page("blog/b.md", '---\ntitle: "B"\nslug: same\n---\n\nB\n')
    site.page("good.md", GOOD)
    report = site.build()
    ea, eb = result_for(report, "a").error, result_for(report, "blog/b").error
    assert ea.path == a and str(b) in ea.message
    assert eb.path == b and str(a) in eb.message
    assert not (site.root / "output/same").exists()
    assert result_for(report, "good").outcome is Outcome.BUILT


def test_slug_that_leaves_the_output_is_refused(site):
    site.page("evil.md", '---\ntitle: "E"\nslug: ../../outside\n---\n\nx\n')
    error = result_for(site.build(), "evil").error
    assert isinstance(error, PageError) and "leave the output" in error.message
    assert not (site.root.parent / "outside").exists()


def test_image_path_that_leaves_the_site_is_refused(site):
    site.file("secret.png", PNG_1PX)            # exists, but outside content/
    site.page("p.md", '---\ntitle: "P"\n---\n\n![x](../secret.png)\n')
    error = result_for(site.build(), "p").error
    assert isinstance(error, LinkError) and "outside" in error.message
    assert not list((site.root / "output").rglob("secret.png"))


def test_missing_image_is_published_broken_and_named_with_page_and_reference(site):
    page = site.page("p.md", '---\ntitle: "P"\n---\n\n![x](images/nope.png)\n')
    result = result_for(site.build(), "p")
    assert result.error is None
    [warning] = result.warnings
    assert str(page) in warning and "images/nope.png" in warning


def test_missing_featured_image_names_page_and_reference(site):
    page = site.page("p.md", '---\ntitle: "P"\nfeaturedImage: images/nope.png\n---\n\nP.\n')
    error = result_for(site.build(), "p").error
    assert isinstance(error, LinkError) and error.path == page
    assert "images/nope.png" in error.message and error.hint


def test_cell_that_raises_names_cell_line_and_traceback(site):
    page = site.page("c.md", code_page("x = 1", "def f():\n    return 1 / 0\nf()"))
    site.page("good.md", GOOD)
    report = site.build()
    error = result_for(report, "c").error
    assert isinstance(error, ExecutionError) and error.path == page
    assert "code cell 2" in error.message and "ZeroDivisionError" in error.message
    assert error.line == page.read_text().splitlines().index("def f():") + 1
    assert "return 1 / 0" in error.detail and "\x1b[" not in error.detail
    assert result_for(report, "good").outcome is Outcome.BUILT


def test_cell_past_the_timeout(site):
    site.settings("[tool.nbpress]\ntimeout = 2\n")
    page = site.page("slow.md", code_page("import time", "time.sleep(60)"))
    started = time.monotonic()
    error = result_for(site.build(), "slow").error
    assert time.monotonic() - started < 30
    assert isinstance(error, ExecutionError) and "timeout" in error.message
    assert "code cell 2" in error.message and error.line == 12 and "timeout" in error.hint
    assert error.path == page


def test_kernel_that_dies(site):
    site.page("dies.md", code_page("import os", "os._exit(3)"))
    error = result_for(site.build(), "dies").error
    assert isinstance(error, ExecutionError) and "kernel died" in error.message
    assert "code cell 2" in error.message


def test_unknown_kernel(site):
    front = 'title: "K"\njupyter:\n  kernelspec:\n    name: no-such-kernel\n    language: python\n    display_name: X'
    error = result_for(site.build() if site.page("k.md", code_page("1", front=front)) else None,
                       "k").error
    assert isinstance(error, ExecutionError) and "no-such-kernel" in error.message


def test_failed_rebuild_keeps_the_last_good_page(site):
    page = site.page("p.md", '---\ntitle: "P"\n---\n\nFirst version.\n')
    assert site.build().ok
    page.write_text('---\ntitle: "P\n---\n\nBroken YAML.\n', encoding="utf-8")
    report = site.build()
    result = result_for(report, "p")
    assert result.outcome is Outcome.FAILED and result.kept_previous
    html = (site.root / "output/p/index.html").read_text(encoding="utf-8")
    assert "First version." in html
    assert "/p/" in (site.root / "output/index.html").read_text(encoding="utf-8") or True


def test_deleted_page_disappears_from_output(site):
    site.page("keep.md", GOOD)
    gone = site.page("gone.md", '---\ntitle: "Gone"\n---\n\nx\n')
    assert site.build().ok
    assert (site.root / "output/gone/index.html").is_file()
    gone.unlink()
    assert site.build().ok
    assert not (site.root / "output/gone").exists()
    assert (site.root / "output/keep/index.html").is_file()


def test_interrupted_build_leaves_previous_site_intact(site):
    for i in range(3):
        site.page(f"p{i}.md", f'---\ntitle: "P{i}"\n---\n\nVersion one.\n')
    assert site.build().ok
    before = {p: p.read_bytes() for p in (site.root / "output").rglob("*") if p.is_file()}
    for i in range(3):
        site.page(f"p{i}.md", f'---\ntitle: "P{i}"\n---\n\nVersion two.\n')

    def stop(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        site.build(on_page=stop)
    after = {p: p.read_bytes() for p in (site.root / "output").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in site.root.iterdir() if p.name.startswith(".output")] == []


def test_a_build_stopped_by_its_caller_leaves_no_worker_writing(site):
    """A build stopped while other workers are still in their pages (a caller's callback
    raised): they end before the staging folder is removed, so none makes it again."""
    for i in range(120):
        site.page(f"p{i}.md", f'---\ntitle: "P{i}"\n---\n\n' + "Some prose. " * 400 + "\n")

    def stop(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        site.build(on_page=stop, jobs=2)
    time.sleep(1)                     # a worker left running would write by now
    assert [p.name for p in site.root.iterdir() if p.name.startswith(".output")] == []
    assert site.build(jobs=2).ok


def test_users_own_output_folder_is_never_replaced(site):
    site.page("p.md", GOOD)
    mine = site.file("output/notes.txt", "my notes")
    from pipeline.build.engine import build_site
    from pipeline.errors import OutputError

    with pytest.raises(OutputError) as info:
        build_site(site.config())
    assert info.value.path == site.root / "output" and info.value.hint
    assert mine.read_text() == "my notes"


def test_drafts_only_with_the_flag(site):
    site.page("d.md", '---\ntitle: "D"\ndraft: true\n---\n\nx\n')
    report = site.build()
    assert result_for(report, "d").outcome is Outcome.SKIPPED
    assert not (site.root / "output/d").exists()
    assert result_for(site.build(drafts=True), "d").outcome is Outcome.BUILT
    assert (site.root / "output/d/index.html").is_file()


def test_cli_exit_code_and_summary(site):
    site.page("good.md", GOOD)
    site.page("bad.md", '---\ntitle: [\n---\n\nx\n')
    run = subprocess.run([sys.executable, "-m", "pipeline", "build", "--site", str(site.root)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    assert "1 page built" in run.stderr and "1 failed" in run.stderr
    assert re.search(r"bad\.md:\d+: invalid YAML", run.stderr) and "fix:" in run.stderr


def test_cli_config_error_exit_code(site):
    site.page("good.md", GOOD)
    site.settings("[tool.nbpress]\ntitel = 'x'\n")
    run = subprocess.run([sys.executable, "-m", "pipeline", "build", "--site", str(site.root)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 2 and "titel" in run.stderr and "'title'" in run.stderr
    assert not (site.root / "output").exists()


def test_a_page_holding_a_marked_section_is_built_as_a_browser_reads_it(site):
    """`<![` in a page (`<div><![alt](a.png)`) failed the page with Python 3.11's
    `AssertionError: unknown status keyword`; a browser reads a comment to the next `>`."""
    site.page("a.md", """\
        ---
        title: A
        ---

        <div><![i](i.png) [b](b.md)

        text <![if x]> and <![CDATA[ c ]]> and <![ open
        """)
    site.page("b.md", "---\ntitle: B\n---\n\nb\n")
    report = site.build()
    assert not report.failed, report.failed
    assert (site.root / "output" / "a" / "index.html").is_file()
