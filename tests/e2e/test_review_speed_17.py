"""Bugs the review of the three speed commits (helper-40) reproduced: the quick exit of the
`nbpress` program (b13cf67) and the host comparison of the draft audit (a7e46c0)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.build.audit import Audit, Hidden, _leak
from tests.conftest import SiteMaker


def _nbpress_closed(fd: int, *args: str) -> subprocess.CompletedProcess:
    """`python -m pipeline ARGS` started with its file descriptor `fd` (1: stdout, 2: stderr)
    closed, as `nbpress build >&-` in a shell, or a service manager with no stdout does."""
    keep = {1: subprocess.DEVNULL, 2: subprocess.PIPE}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE if fd == 2 else keep[1],
                          stderr=subprocess.PIPE if fd == 1 else keep[1],
                          preexec_fn=lambda: os.close(fd), text=True, timeout=300)


def test_a_build_with_stdout_closed_ends_with_its_own_status(tmp_path):
    site = SiteMaker(tmp_path / "site")
    site.page("hello.md", "---\ntitle: Hello\n---\nHi.\n")
    done = _nbpress_closed(1, "build", "--site", str(site.root))
    assert "AttributeError" not in done.stderr, done.stderr
    assert done.returncode == 0
    assert (site.root / "output" / "hello" / "index.html").exists()
    assert _nbpress_closed(1, "--version").returncode == 0


def test_a_usage_error_with_stderr_closed_keeps_status_2(tmp_path):
    done = _nbpress_closed(2, "build", "--site", str(tmp_path / "missing"))
    assert done.returncode == 2


# a7e46c0: "a link to another host than base_url's is not the site's" compares host names as
# written; a browser takes these to base_url's host (IDNA: punycode or Unicode alike, a
# trailing dot, percent-encoded or full-width letters and dots), and the audit before the
# commit failed each.
def test_a_markdown_link_to_a_draft_on_the_site_s_own_unicode_host_fails_the_page(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://bücher.example/"\n')
    site.page("blog/draft.md", "---\ntitle: Secret Plan\ndraft: true\n---\n\nx\n")
    site.page("blog/tips.md", "---\ntitle: Tips\n---\n\n"
                              "See [the plan](https://bücher.example/blog/draft/).\n")
    report = site.build()
    tips = site.root / "output" / "blog" / "tips" / "index.html"
    assert not tips.exists(), tips.read_text(encoding="utf-8")   # shows xn--bcher-kva.example
    (failed,) = report.failed
    assert "draft.md" in failed.error.message


@pytest.mark.parametrize("base, href", [
    ("https://bücher.example/", "https://xn--bcher-kva.example/blog/draft/"),
    ("https://xn--bcher-kva.example/", "https://bücher.example/blog/draft/"),
    ("https://h.example/", "https://h.example./blog/draft/"),
    ("https://h.example/", "https://h%2Eexample/blog/draft/"),
    ("https://h.example/", "https://\uff48.example/blog/draft/"),      # full-width h
    ("https://h.example/", "https://h\uff0eexample/blog/draft/"),      # full-width dot
])
def test_a_link_to_the_site_s_own_host_spelled_otherwise_is_a_leak(base, href):
    audit = Audit([Hidden(Path("/s/content/blog/draft.md"), "/blog/draft/", "Secret Plan")],
                  base, set(), set())
    assert _leak("blog/tips/index.html", f'<a href="{href}">x</a>', audit) is not None


def test_a_page_linking_a_draft_on_the_site_s_host_with_a_trailing_dot_fails(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://h.example/"\n')
    site.page("blog/draft.md", "---\ntitle: Secret Plan\ndraft: true\n---\n\nx\n")
    site.page("blog/tips.md", "---\ntitle: Tips\n---\n\n"
                              '<a href="https://h.example./blog/draft/">the plan</a>\n')
    (failed,) = site.build().failed
    assert "draft.md" in failed.error.message and failed.source.rel == "blog/tips"
    assert not (site.root / "output" / "blog" / "tips").exists()
