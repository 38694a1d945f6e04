"""Fixes from review 8, each with real builds: a missing image added where the resolver looks
is picked up by the next build (bug 1), and a fork server signalled with its whole process
group, at any moment of its start, leaves no folder and no process (bug 2)."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import PNG_1PX, REPO, SiteMaker
from tests.e2e.test_processes import processes_marked, wait_until

MARK = "NBPRESS_TEST_RUN"


def _build(root: Path, *args: str, env: dict[str, str] | None = None):
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--site", str(root), *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=180)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


# -- bug 1: every place the resolver looks at is watched ---------------------------------------

def test_an_image_added_at_the_site_root_is_picked_up_by_the_next_build(site):
    site.page("a.md", "---\ntitle: A\n---\n\n![p](/images/pic.png)\n")

    code, said = _build(site.root, "--strict")
    assert code == 1, said
    assert ("'/images/pic.png' refers to a file that does not exist (not at "
            "content/images/pic.png, static/images/pic.png or images/pic.png)") in said, said

    site.file("images/pic.png", PNG_1PX)                # where Jekyll sites keep images/
    code, said = _build(site.root, "--strict")
    assert code == 0, said
    assert "does not exist" not in said, said
    assert (site.root / "output/images/pic.png").read_bytes() == PNG_1PX


def test_an_image_of_any_format_added_later_is_picked_up_by_the_next_build(site):
    site.page("a.md", "---\ntitle: A\n---\n\n![q](fig.*)\n")

    code, said = _build(site.root, "--strict")
    assert code == 1 and "'fig.*' refers to a file that does not exist" in said, said

    site.file("content/fig.png", PNG_1PX)
    code, said = _build(site.root, "--strict")
    assert code == 0, said
    assert (site.root / "output/fig.png").read_bytes() == PNG_1PX


def test_a_missing_image_shown_four_times_is_one_warning(site):
    site.page("a.md", "---\ntitle: A\n---\n\n" + "![p](gone.png)\n\n" * 4)

    code, said = _build(site.root)
    assert code == 0, said
    assert said.count("'gone.png' refers to a file that does not exist") == 1, said
    assert "(4 times on the page)" in said, said


# -- bug 2: a group SIGTERM at any moment of the fork server's start -----------------------------

@pytest.fixture
def temp():
    """A temp folder short enough for the server's socket (a long one sends it to /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix="nb8-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_fork_server_terminated_while_it_starts_removes_its_folder(temp, monkeypatch):
    """SIGTERM at once, or while the interpreter starts (before `serve` has its handler)."""
    from pipeline.execute.kernels import ForkServer

    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.chdir(REPO)
    for delay in (0, 0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15):
        server = ForkServer().start()
        time.sleep(delay)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=10)
        assert server.folder.parent == temp
        assert not server.folder.exists(), f"the fork server left its folder ({delay} s)"
    assert not list(temp.iterdir())


CODE_PAGE = "---\ntitle: {name}\n---\n\n```python\nprint({value})\n```\n"


def test_builds_terminated_with_their_process_group_leave_no_folder_and_no_process(
        tmp_path, temp):
    """As `timeout -s TERM`, CI or systemd do: SIGTERM to the build's whole process group,
    just after the build made the server's folder and at moments of the server's start."""
    site = SiteMaker(tmp_path / "site")
    mark = uuid.uuid4().hex
    env = {**os.environ, MARK: mark, "TMPDIR": str(temp)}
    deadline = time.monotonic() + 30
    tried = 0
    for delay in (0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.35, 0.6):
        if time.monotonic() > deadline:
            break
        for name in ("c", "c2"):            # new code: it runs (no cached execution)
            site.page(f"{name}.md", CODE_PAGE.format(name=name, value=random.random()))
        build = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "build", "-q", "--site", str(site.root)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            started = wait_until(lambda: any(temp.iterdir()) or build.poll() is not None, 60,
                                 step=0.0005)
            assert started and build.poll() is None, f"the build made no fork server ({tried})"
            time.sleep(delay)
            os.killpg(build.pid, signal.SIGTERM)
            build.wait(timeout=10)
            gone = wait_until(lambda: not processes_marked(mark) and not any(temp.iterdir()), 5)
            assert gone, (f"{delay} s after the server's folder: left "
                          f"{list(temp.iterdir())}, {processes_marked(mark)}")
        finally:
            if build.poll() is None:
                build.kill()
                build.wait()
            for pid in processes_marked(mark):
                os.kill(pid, signal.SIGKILL)
        tried += 1
    assert tried >= 5
    code, said = _build(site.root, "--no-wait", env=env)  # no lock is left; the scratch swept
    assert code == 0, said
    assert not list((site.root / ".nbpress-cache" / "tmp").iterdir())
    assert not list(temp.iterdir()) and not processes_marked(mark)
