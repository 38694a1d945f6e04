"""Prose pages rendered ahead while the build plans (`build/ahead.py`): a real forked
process, real pages. What it renders is what a worker renders; a build that uses it writes
what a build without it writes; a page edited after it rendered is rendered again; what it
was writing when killed is left out; it never outlives its build."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.build import ahead as ahead_module
from pipeline.build.ahead import WORTH_IT, Ahead, _entries
from tests.conftest import SiteMaker

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"),
                                reason="renders ahead only with a second core, forked")

PROSE = """\
---
title: "Page {i}"
---

<style>p {{ margin: 0 }}</style>

# Heading {i}

Text with a footnote[^n] and a [link](../page-{j}/) and <b>bold *HTML*</b>.

:::{{note}}
A note on page {i}.
:::

:::{{unknown-directive}}
kept as a block
:::

[^n]: The note of page {i}.
"""


def _site(site: SiteMaker, count: int = WORTH_IT + 16) -> list[str]:
    rels = []
    for i in range(count):
        site.page(f"pages/page-{i}.md", PROSE.format(i=i, j=(i + 1) % count))
        rels.append(f"content/pages/page-{i}.md")
    site.page("pages/code.md", "---\ntitle: Code\n---\n\n```python\nprint(1)\n```\n")
    site.page("pages/draft.md", "---\ntitle: Draft\ndraft: true\n---\n\nA draft.\n")
    site.page("pages/broken.md", "---\ntitle: [unclosed\n---\n\nBroken.\n")
    site.page("pages/paired.md", "---\njupyter:\n  jupytext:\n    formats: md\n---\n\nPaired.\n")
    site.page("pages/crlf.md", "---\r\ntitle: CRLF\r\n---\r\n\r\nWindows lines.\r\n")
    site.page("pages/shown.md", "---\ntitle: Shown\ndraft: False  # not yet\n---\n\nShown.\n")
    site.page("pages/yes.md", "---\ntitle: Yes\ndraft: yes\n---\n\nNo boolean: it fails.\n")
    site.page("pages/nested.md", "---\ntitle: N\ndraft: false\nold:\n  draft: true\n---\n\nN.\n")
    return rels + [f"content/pages/{name}.md" for name in ("code", "draft", "broken", "paired",
                                                           "crlf", "shown", "yes", "nested")]


def _finished(pid: int, within: float = 60.0) -> None:
    """Wait until the process has rendered all it was given and ended (a zombie: not reaped,
    so `Ahead` still owns its pid)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return
        time.sleep(0.02)
    raise AssertionError(f"the process rendering ahead ({pid}) did not finish")


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="watches the process through /proc (Linux)")


@needs_proc
def test_what_it_renders_is_what_the_exporter_renders_for_each_prose_page(site):
    from pipeline.model import Source
    from pipeline.notebook.convert import is_prose, prose_body
    from pipeline.render.export import Exporter
    from pipeline.sources.frontmatter import read_source

    rels = _site(site)
    config = site.config()
    ahead = Ahead.start(config, rels, jobs=2)
    assert ahead is not None
    _finished(ahead.pid)
    done = ahead.take()
    exporter, expected = Exporter(), {}
    for path in sorted((site.root / "content" / "pages").glob("*.md")):
        if path.stem in ("code", "draft", "broken", "paired", "yes"):
            continue
        page = read_source(Source(path, "pages/" + path.stem, "md"))
        assert is_prose(page)
        expected[prose_body(page)] = exporter.export_prose(prose_body(page))
    assert set(expected) <= set(done)       # not the page with code, the draft, the one
    assert set(done) - set(expected) == {"Broken."}     # jupytext pairs; the one whose YAML
                                                        # is bad: rendered, unused
    for text, exported in expected.items():
        assert pickle.loads(done[text]) == exported
    assert any(pickle.loads(e).unsupported for e in done.values())   # the warning comes too


def test_drafts_are_rendered_ahead_when_they_are_published(site):
    rels = _site(site)
    ahead = Ahead.start(site.config(), rels, jobs=2, drafts=True)
    _finished(ahead.pid)
    assert any("A draft." in text for text in ahead.take())


@pytest.fixture
def finished_before_take(monkeypatch):
    """Each build's process rendering ahead is let finish before it is taken (a build of a
    few pages plans faster than it starts); the numbers taken are recorded."""
    taken, take = [], Ahead.take

    def patient(self):
        _finished(self.pid)
        taken.append(take(self))
        return taken[-1]
    monkeypatch.setattr(Ahead, "take", patient)
    return taken


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".nbpress.json"}


@needs_proc
def test_a_build_that_renders_ahead_writes_what_a_build_without_it_writes(
        site, finished_before_take, tmp_path):
    _site(site)
    report = site.build(jobs=2)
    assert len(finished_before_take) == 1 and len(finished_before_take[0]) == WORTH_IT + 20
    ahead_tree = _tree(site.root / "output")
    assert sorted(r.source.path.name for r in report.failed) == ["broken.md", "yes.md"]
    import shutil

    shutil.rmtree(site.root / "output")
    shutil.rmtree(site.root / ".nbpress-cache")
    site.build(jobs=1)                      # one process: nothing is rendered ahead
    assert len(finished_before_take) == 1
    assert _tree(site.root / "output") == ahead_tree
    page = (site.root / "output" / "pages" / "page-3" / "index.html").read_text()
    assert "The note of page 3." in page and "unknown-directive" in page


@needs_proc
def test_a_page_edited_after_it_was_rendered_ahead_shows_its_new_text(site, monkeypatch):
    _site(site)
    start = Ahead.start.__func__

    def then_edit(cls, *args, **kwargs):
        ahead = start(cls, *args, **kwargs)
        _finished(ahead.pid)                # it rendered the page as it was
        site.page("pages/page-5.md", PROSE.format(i=5, j=6).replace("A note on page 5.",
                                                                    "An edited note."))
        return ahead
    monkeypatch.setattr(Ahead, "start", classmethod(then_edit))
    site.build(jobs=2)
    page = (site.root / "output" / "pages" / "page-5" / "index.html").read_text()
    assert "An edited note." in page and "A note on page 5." not in page


def test_what_it_was_writing_when_killed_is_left_out():
    entries = [pickle.dumps((f"text {i}", pickle.dumps(i)), -1) for i in range(3)]
    data = b"".join(ahead_module._SIZE.pack(len(e)) + e for e in entries)
    assert _entries(data) == {f"text {i}": pickle.dumps(i) for i in range(3)}
    for cut in (1, len(entries[-1]) // 2, len(entries[-1]) + 2):
        assert set(_entries(data[:-cut])) == {"text 0", "text 1"}
    assert _entries(b"") == {} and _entries(data[:2]) == {}


def test_it_is_not_started_for_few_pages_or_one_job(site):
    rels = _site(site)
    config = site.config()
    assert Ahead.start(config, rels[:WORTH_IT - 1], jobs=2) is None
    assert Ahead.start(config, rels, jobs=1) is None
    assert Ahead.start(config, [r[:-3] + ".ipynb" for r in rels], jobs=2) is None


def test_it_is_reaped_when_closed_and_closing_twice_is_harmless(site):
    ahead = Ahead.start(site.config(), _site(site), jobs=2)
    pid = ahead.pid
    ahead.close()
    ahead.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@needs_proc
def test_it_dies_with_a_build_process_that_is_killed(site, tmp_path):
    rels = _site(site)
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from pipeline.config import load_config
        from pipeline.build.ahead import Ahead
        rels = {rels!r} * 400           # a minute's work, cut short by the kill
        ahead = Ahead.start(load_config({str(site.root)!r}), rels, jobs=2)
        open({str(tmp_path / "pid")!r}, "w").write(str(ahead.pid))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, timeout=60)   # (no pipe it could hold)
    assert run.returncode == -signal.SIGKILL
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("the process rendering ahead outlived its build process")


def test_a_build_with_sigchld_ignored_succeeds(site):
    """An ignored SIGCHLD survives exec (a supervisor's, a Python program's subprocess): the
    system reaps the process rendering ahead itself, and the build must not trip on it."""
    _site(site)
    run = subprocess.run([sys.executable, "-m", "pipeline", "build", "-q", "--jobs", "2",
                          "--site", str(site.root)], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2],
                         preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    assert run.returncode == 1, run.stderr          # the two bad pages, nothing else
    assert "Traceback" not in run.stderr + run.stdout
    assert (site.root / "output" / "pages" / "page-7" / "index.html").is_file()


def test_pages_only_touched_are_not_rendered_ahead(site, monkeypatch):
    _site(site)
    site.build(jobs=2)
    started, start = [], Ahead.start.__func__

    def spied(cls, *args, **kwargs):
        started.append(start(cls, *args, **kwargs))
        return started[-1]
    monkeypatch.setattr(Ahead, "start", classmethod(spied))
    for path in (site.root / "content").rglob("*.md"):
        os.utime(path)                  # a checkout, a cache restored: same bytes, new times
    site.build(jobs=2)
    assert started == [None]
    for i in range(WORTH_IT):           # edited: another size
        site.page(f"pages/page-{i}.md", PROSE.format(i=i, j=i + 1) + "\nEdited.\n")
    site.build(jobs=2)
    assert started[-1] is not None
