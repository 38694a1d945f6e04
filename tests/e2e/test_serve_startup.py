"""`nbpress serve` as it starts: the watch begins before the first build (a save made while
that build runs is built after it), whatever else is written meanwhile; a watch that cannot
begin is an error with its fix; a rebuild cut short by Ctrl-C reports no failure."""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing

import pytest

from pipeline.errors import NbpressError
from pipeline.live.preview import Preview
from tests.e2e.test_serve import REPO, get, preview_site, wait_for   # noqa: F401 (a fixture)

BLOCKED = """---
title: Waits
---

```python
import pathlib, time
pathlib.Path({running!r}).write_text("x")
while not pathlib.Path({go!r}).exists():
    time.sleep(0.05)
print("went")
```
"""


def _serve(root, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0",
                             "--site", str(root)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, **popen)


class _Lines:
    """What a process prints, read in a thread: a test waits for a line with a time limit
    (a blocking readline would wait for ever on a process that never prints it)."""

    def __init__(self, process: subprocess.Popen):
        self.said: list[str] = []
        threading.Thread(target=lambda: self.said.extend(iter(process.stdout.readline, "")),
                         daemon=True).start()

    def wait(self, text: str, seconds: float = 60) -> str:
        return wait_for(lambda: next((line for line in self.said if text in line), None), seconds)


def _fetch(url: str, path: str) -> str:
    host, port = url.split("//")[1].rstrip("/").split(":")
    with closing(http.client.HTTPConnection(host, int(port), timeout=10)) as connection:
        connection.request("GET", path)
        return connection.getresponse().read().decode("utf-8", "replace")


def test_a_save_made_during_the_first_build_is_built_after_it(preview_site, tmp_path):
    running, go = tmp_path / "running", tmp_path / "go"
    preview_site.page("wait.md", BLOCKED.format(running=str(running), go=str(go)))
    process = _serve(preview_site.root)
    try:
        lines = _Lines(process)
        wait_for(running.exists, 60)            # the first build is running the page's code
        preview_site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nSaved meanwhile.\n')
        time.sleep(0.3)                         # (an editor's save is seen, not yet built)
        go.write_text("x")
        url = lines.wait("serving http").split()[1]
        wait_for(lambda: "Saved meanwhile." in _fetch(url, "/blog/a/"), 20)
    finally:
        go.write_text("x")
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def test_a_watch_that_cannot_begin_is_an_error_with_the_fix(preview_site, monkeypatch, capsys):
    import watchfiles

    from pipeline.cli.serving import run_preview

    def limit(*args, **kwargs):
        raise OSError(28, "OS file watch limit reached")
        yield

    monkeypatch.setattr(watchfiles, "watch", limit)
    with Preview(preview_site.config(), port=0) as preview, pytest.raises(NbpressError) as error:
        preview.watch()
    assert "watch limit" in error.value.message and "max_user_watches" in error.value.hint
    with pytest.raises(SystemExit) as done:
        run_preview(preview_site.root, "127.0.0.1", 0, False)
    said = capsys.readouterr()
    assert done.value.code == 2
    assert "cannot watch" in said.out + said.err and "serving" not in said.out + said.err


@pytest.mark.parametrize("written", [".git/log", "content/.ipynb_checkpoints/a-checkpoint.md"])
def test_writes_in_an_ignored_folder_do_not_hold_back_the_watch(preview_site, written):
    """A watcher wakes when nothing changed for a while: writes that go on all the time (a git
    fetch, Jupyter's checkpoints, a tool's cache) must not keep it, and the watch, waiting."""
    log, stop = preview_site.root / written, threading.Event()
    log.parent.mkdir(parents=True, exist_ok=True)

    def churn():
        count = 0
        while not stop.is_set():
            log.write_text(str(count))
            count += 1
            time.sleep(0.02)

    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    try:
        with Preview(preview_site.config(), port=0) as preview:
            started = time.monotonic()
            assert preview.watch(timeout=8)
            assert time.monotonic() - started < 4
    finally:
        stop.set()
        writer.join(5)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a rebuild has no workers")
def test_ctrl_c_during_a_rebuild_reports_no_failed_page(preview_site, tmp_path):
    """Ctrl-C in the terminal stops the page workers too (one process group): the pages they
    held are not failures to report, the preview just stops."""
    running, go = tmp_path / "running", tmp_path / "go"
    preview_site.page("other.md", "---\ntitle: Other\n---\n\n```python\nprint(1)\n```\n")
    process = _serve(preview_site.root, start_new_session=True)
    try:
        lines = _Lines(process)
        lines.wait("serving http")
        preview_site.page("wait.md", BLOCKED.format(running=str(running), go=str(go)))
        preview_site.page("other.md", "---\ntitle: Other\n---\n\n```python\nprint(2)\n```\n")
        wait_for(running.exists, 60)            # a rebuild with page workers is running
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        said = "".join(lines.wait("stopped", 5) and lines.said).split("serving http", 1)[1]
    finally:
        go.write_text("x")
        if process.poll() is None:
            process.kill()
    assert "stopped" in said, said
    assert not re.search(r"[1-9]\d* failed|failed .*:|BrokenProcessPool", said), said


def _inotify_watches() -> int:
    """The folders this process watches with inotify (Linux: each watch is a `wd` line)."""
    count = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            count += sum(line.startswith("inotify wd:")
                         for line in open(f"/proc/self/fdinfo/{fd}", encoding="utf-8"))
        except OSError:
            pass
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fdinfo"), reason="counts watches in /proc")
def test_the_folders_of_a_repository_the_preview_ignores_are_not_watched(preview_site):
    """A site at a repository's root has `.venv`, `.git` and `node_modules` beside its pages:
    thousands of folders whose watching took seconds and the system's watches."""
    for name in (".venv", ".git", "node_modules"):
        for i in range(150):
            (preview_site.root / name / f"lib{i}" / "sub").mkdir(parents=True)
    before = _inotify_watches()
    with Preview(preview_site.config(), port=0) as preview:
        assert preview.watch()
        watches = _inotify_watches() - before
        assert 0 < watches < 50, watches        # the root, content/ and its folders
        (preview_site.root / ".venv" / "lib1" / "x.py").write_text("x = 1\n")
        builds = preview.events.builds
        preview_site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nWatched.\n')
        wait_for(lambda: preview.events.builds > builds, 20)


def test_a_folder_made_at_the_root_is_watched_from_then_on(preview_site):
    import threading as threads

    from pipeline.live.watch import changes

    stop, watching, seen = threads.Event(), threads.Event(), []
    config = preview_site.config()
    thread = threads.Thread(target=lambda: seen.extend(changes(config, stop, watching)), daemon=True)
    thread.start()
    try:
        assert watching.wait(10)
        data = preview_site.root / "data"
        data.mkdir()
        wait_for(lambda: any(data in batch for batch in seen), 10)
        (data / "prices.csv").write_text("a,b\n1,2\n")     # watched before the batch came
        wait_for(lambda: any(data / "prices.csv" in batch for batch in seen), 10)
        shutil.rmtree(data)                     # made again under its name: another folder,
        data.mkdir()                            # watched once its change is taken in (a file
        later = data / "later.csv"              # written at once is read by that change's build)

        def written_and_seen() -> bool:
            later.write_text(f"a,b\n{time.monotonic()},6\n")
            time.sleep(0.2)
            return any(later in batch for batch in seen)

        wait_for(written_and_seen, 30)
        (preview_site.root / "pyproject.toml").write_text('[tool.nbpress]\ntitle = "T"\n')
        wait_for(lambda: any(preview_site.root / "pyproject.toml" in batch for batch in seen), 10)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


LATE_WATCH = """
import sys, time, watchfiles
real = watchfiles.watch
def late(*args, **kwargs):                  # a watch that takes seconds to begin
    time.sleep(2)
    yield from real(*args, **kwargs)
watchfiles.watch = late
import pipeline.cli.serving
pipeline.cli.serving.WATCH_WAIT = 0.5
sys.argv = ["nbpress", "serve", "--port", "0", "--site", sys.argv[1]]
from pipeline.cli.process import run
run()
"""


def test_a_save_made_before_a_late_watch_began_is_built_when_it_does(preview_site):
    process = subprocess.Popen([sys.executable, "-c", LATE_WATCH, str(preview_site.root)],
                               cwd=REPO, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        lines = _Lines(process)
        line = lines.wait("serving http")
        assert any("has not begun" in said for said in lines.said), lines.said
        preview_site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nBefore it.\n')
        lines.wait("watching the site", 30)
        wait_for(lambda: "Before it." in _fetch(line.split()[1], "/blog/a/"), 20)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a rebuild has no workers")
def test_sigterm_during_a_long_rebuild_ends_the_preview_and_its_processes(preview_site, tmp_path):
    """The rebuild's pool, in the preview's watcher thread, outlives close()'s wait: the
    program then ends at once (multiprocessing's exit would wait for that pool for ever),
    and the pool's workers and kernels end with it."""
    running, go = tmp_path / "running", tmp_path / "go"
    preview_site.page("other.md", "---\ntitle: Other\n---\n\n```python\nprint(1)\n```\n")
    process = _serve(preview_site.root)
    try:
        lines = _Lines(process)
        lines.wait("serving http")
        preview_site.page("wait.md", BLOCKED.format(running=str(running), go=str(go)))
        preview_site.page("other.md", "---\ntitle: Other\n---\n\n```python\nprint(2)\n```\n")
        wait_for(running.exists, 60)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        said = "".join(lines.wait("stopped", 5) and lines.said)
    finally:
        if process.poll() is None:
            process.kill()
        go.write_text("x")
    assert process.returncode == 0 and "stopped" in said, said
    time.sleep(0.5)
    leftover = subprocess.run(["pgrep", "-f", str(preview_site.root)], capture_output=True,
                              text=True).stdout.split()
    assert leftover == []


def test_a_save_during_the_first_build_is_said_after_it(preview_site, tmp_path):
    """Builds are said in the order they ran: the first, then the save's that waited for it."""
    running, go = tmp_path / "running", tmp_path / "go"
    preview_site.page("wait.md", BLOCKED.format(running=str(running), go=str(go)))
    said: list[tuple[str, ...]] = []
    with Preview(preview_site.config(), port=0,
                 on_build=lambda built: said.append(tuple(p.name for p in built.changed))) as preview:
        assert preview.watch()
        first = threading.Thread(target=preview.build)
        first.start()
        try:
            wait_for(running.exists, 60)
            preview_site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nSaved.\n')
            time.sleep(0.5)                     # the save's build waits for the first
        finally:
            go.write_text("x")
        first.join(60)
        wait_for(lambda: len(said) >= 2, 20)
    assert said[0] == () and "a.md" in said[1], said


LIMITED = """
import os, sys, threading, time
from pathlib import Path
with open("/proc/sys/user/max_inotify_watches", "w") as limit:     # this namespace's
    limit.write(sys.argv[2])
from pipeline.config import load_config
from pipeline.live.watch import changes
root = Path(sys.argv[1])
stop, watching, seen, failed = threading.Event(), threading.Event(), [], []
def watch():
    try:
        seen.extend(changes(load_config(root), stop, watching))
    except Exception as exc:
        failed.append(exc)
threading.Thread(target=watch, daemon=True).start()
assert watching.wait(20), failed
def saw(path, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not any(path in batch for batch in seen):
        time.sleep(0.02)
    return any(path in batch for batch in seen)
(root / "new").mkdir()
assert saw(root / "new"), failed
later, inside = root / "content" / "blog" / "t7" / "y.md", root / "new" / "z.md"
later.write_text("y")
inside.write_text("z")
print(saw(later), saw(inside), failed)
stop.set()
"""


def _user_namespaces() -> bool:
    done = subprocess.run(["unshare", "-Ur", "true"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not os.path.isdir("/proc/sys/user") or not _user_namespaces(),
                    reason="sets inotify's limit of watches in a user namespace (unshare -Ur)")
def test_a_folder_made_at_the_root_is_watched_within_the_system_s_limit_of_watches(preview_site):
    """The folders are never watched twice, not even while a folder made at the root is
    taken in: a site that fits the system's limit once (600 folders of 1000) keeps being
    watched (the watcher made beside the old one came out half made, and saves went unseen)."""
    for i in range(600):
        (preview_site.root / "content" / "blog" / f"t{i}").mkdir(parents=True)
    done = subprocess.run(["unshare", "-Ur", sys.executable, "-c", LIMITED,
                           str(preview_site.root), "1000"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "[]"], done.stdout
