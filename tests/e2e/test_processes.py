"""Processes and the site lock: a killed build leaves nothing behind, a second build says
whom it waits for (or, with --no-wait, exits 75), forked kernels see the sys.path a spawned
kernel sees, and a --site that does not exist is an error.

Real `nbpress build` processes, real kill -9. Every process of a build run here carries a
marker in its environment; processes are found by scanning /proc for it, and the fixture
kills any that are left, whatever the test saw.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import SiteMaker

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds processes through /proc (Linux)")

MARK = "NBPRESS_TEST_RUN"

SLOW_PAGE = """\
---
title: "{name}"
---

```python
import os, pathlib, time
signals = pathlib.Path(r"{signals}")
(signals / "started-{name}").write_text(str(os.getpid()))
deadline = time.time() + 120
while (signals / "slow").exists() and time.time() < deadline:
    time.sleep(0.05)
print("done")
```
"""


def processes_marked(mark: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries `MARK=mark`."""
    needle = f"{MARK}={mark}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found[int(entry.name)] = cmd
    return found


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def wait_until(check, timeout: float, step: float = 0.05):
    """The first truthy value of check() within `timeout` seconds, else the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


class Builds:
    """`nbpress build` processes of one site, each marked, with stderr kept in a file."""

    def __init__(self, root: Path, signals: Path):
        self.root, self.signals = root, signals
        self.mark = uuid.uuid4().hex
        self.started: list[subprocess.Popen] = []
        self.temp = signals / "tmp"          # the builds' system temp folder
        self.temp.mkdir()

    def start(self, *args: str) -> tuple[subprocess.Popen, Path]:
        log = self.signals / f"build-{len(self.started)}.log"
        env = {**os.environ, MARK: self.mark, "TMPDIR": str(self.temp)}
        with open(log, "w") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "build", "--site", str(self.root), *args],
                cwd=self.signals, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err)
        self.started.append(process)
        return process, log

    def wait_started(self, count: int, timeout: float = 90) -> None:
        started = wait_until(lambda: len(list(self.signals.glob("started-*"))) >= count, timeout)
        assert started, f"the pages' code did not start within {timeout} s"

    def release(self) -> None:
        (self.signals / "slow").unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Kill the builds first (their processes follow, and the fork server removes its
        socket folder), then whatever is left."""
        self.release()
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        wait_until(lambda: not processes_marked(self.mark), 5)
        for pid in processes_marked(self.mark):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def builds(tmp_path: Path):
    site, signals = SiteMaker(tmp_path / "site"), tmp_path / "signals"
    signals.mkdir()
    (signals / "slow").touch()
    for i in range(3):
        site.page(f"p{i}.md", SLOW_PAGE.format(name=f"p{i}", signals=signals))
    runs = Builds(site.root, signals)
    yield runs
    runs.cleanup()


@pytest.mark.parametrize("isolate", [False, True], ids=["forked", "isolate"])
def test_a_killed_build_leaves_no_process_and_no_lock(builds, isolate):
    build, _ = builds.start("--jobs", "2", *(["--isolate"] if isolate else []))
    builds.wait_started(2)
    alive = processes_marked(builds.mark)
    servers = [cmd for pid, cmd in alive.items()
               if "pipeline.execute.forkserver" in cmd and parent_of(pid) == build.pid]
    assert len(alive) >= 5, alive       # the build, 2 workers, 2 kernels (and a fork server)
    assert len(servers) == (0 if isolate else 1), alive
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    left = wait_until(lambda: not processes_marked(builds.mark), 5) or processes_marked(builds.mark)
    assert left is True, f"left behind by the killed build: {left}"
    for server in servers:
        assert not Path(next(a for a in server.split() if a.endswith(".sock"))).parent.exists(), "the fork server left its folder"
    builds.release()
    second, log = builds.start()
    try:
        code = second.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a build after a killed one did not finish: {log.read_text()}")
    assert code == 0, log.read_text()
    assert len(list((builds.root / "output").glob("p*/index.html"))) == 3
    # nor files: kernel connection files and executed copies live in the build's scratch
    # folder, which the next build sweeps; nothing is left in the system's temp folder
    assert not list(builds.temp.iterdir())
    assert not list((builds.root / ".nbpress-cache" / "tmp").iterdir())


def test_a_second_build_says_who_holds_the_site_and_waits(builds):
    first, _ = builds.start("--jobs", "1")
    builds.wait_started(1)
    second, log = builds.start()
    said = wait_until(lambda: f"pid {first.pid}" in log.read_text(), 30)
    text = log.read_text()
    assert said, f"the waiting build did not name the holder (pid {first.pid}): {text!r}"
    assert "waiting" in text and "pipeline build" in text and "since" in text, text
    time.sleep(0.5)
    assert second.poll() is None, "the second build did not wait for the first"
    builds.release()
    assert first.wait(timeout=90) == 0
    assert second.wait(timeout=90) == 0, log.read_text()


def test_no_wait_exits_75_naming_the_holder(builds):
    first, _ = builds.start("--jobs", "1")
    builds.wait_started(1)
    started = time.monotonic()
    other, log = builds.start("--no-wait")
    try:
        code = other.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"--no-wait waited: {log.read_text()!r}")
    text = log.read_text()
    assert code == 75, text
    assert f"pid {first.pid}" in text and "since" in text and "lock" in text, text
    assert time.monotonic() - started < 20
    assert first.poll() is None        # the first build is untouched


def test_the_lock_is_reentrant_and_not_inherited_by_forked_children(tmp_path):
    from pipeline.build.lock import LockedError, site_lock

    with site_lock(tmp_path):
        with site_lock(tmp_path, wait=False):          # nested, same process: no deadlock
            pass
        child = os.fork()
        if child == 0:                                 # a forked worker does not hold it
            try:
                with site_lock(tmp_path, wait=False):
                    os._exit(1)
            except LockedError as error:
                os._exit(0 if error.holder.pid == os.getppid() else 2)
            os._exit(3)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0      # still held after the nested exit
    child = os.fork()
    if child == 0:
        try:
            with site_lock(tmp_path, wait=False):
                os._exit(0)
        finally:
            os._exit(4)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0          # released at the end


SYS_PATH_PAGE = """\
---
title: Path
---

```python
import importlib.util, json, sys
import helper
seen = {"path": sys.path, "helper": helper.WHERE,
        "only_here": importlib.util.find_spec("only_in_build_cwd") is not None}
open(r"OUT", "w").write(json.dumps(seen))
print(sys.path[0])
```
"""


def test_a_forked_kernel_has_the_sys_path_of_a_spawned_one(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "only_in_build_cwd.py").write_text("")
    monkeypatch.chdir(elsewhere)                       # the build runs from another folder
    seen = {}
    for isolate in (False, True):
        site = SiteMaker(tmp_path / f"site-{'spawned' if isolate else 'forked'}")
        out = tmp_path / f"seen-{isolate}.json"
        site.page("a/page.md", SYS_PATH_PAGE.replace("OUT", str(out)))
        site.file("content/a/helper.py", "WHERE = __file__\n")
        report = site.build(isolate=isolate)
        assert report.ok, [str(r.error) for r in report.failed]
        seen[isolate] = json.loads(out.read_text())
        assert seen[isolate]["helper"] == str(site.root / "content/a/helper.py")
    forked, spawned = seen[False], seen[True]
    assert forked["path"][0] == spawned["path"][0]
    assert forked["path"] == spawned["path"]
    assert str(elsewhere) not in forked["path"] and not forked["only_here"]


@pytest.mark.parametrize("command", ["build", "status", "sync", "check", "clean"])
def test_a_missing_site_folder_is_an_error_that_says_how_to_start_one(tmp_path, command):
    from click.testing import CliRunner

    from pipeline.cli import main

    missing = tmp_path / "does" / "not" / "exist"
    result = CliRunner().invoke(main, [command, "--site", str(missing)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert str(missing) in text and "nbpress new" in text and "content/" in text, text
    assert not (tmp_path / "does").exists()


def test_a_fork_server_whose_build_dies_while_it_imports_leaves_no_folder(tmp_path):
    """The build may die in the second the server spends importing ipykernel: the server
    goes too (parent-death signal), and removes its socket folder even then."""
    folder = tmp_path / "nbpress-kernels-x"
    folder.mkdir()
    starter = ("import os, subprocess, sys, time\n"
               "subprocess.Popen([sys.executable, '-m', 'pipeline.execute.forkserver', "
               f"{str(folder / 'fork.sock')!r}, str(os.getpid()), 'pdeathsig'])\n"
               "time.sleep(0.15)\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", starter], check=True,
                   cwd=Path(__file__).resolve().parents[2])
    assert wait_until(lambda: not folder.exists(), 10), "the fork server left its folder"
