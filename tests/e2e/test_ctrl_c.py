"""Ctrl-C on `nbpress build`: the terminal sends SIGINT to the build's whole process group
(the build, its page workers, its kernels). The build ends at once, takes no further page,
leaves no process and no lock, and the next build builds every page."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import SiteMaker, default_sigint
from tests.e2e.test_processes import MARK, SLOW_PAGE, processes_marked, wait_until

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds processes through /proc (Linux)")


@pytest.mark.parametrize("isolate", [False, True], ids=["forked", "isolate"])
def test_ctrl_c_ends_the_build_its_workers_and_kernels(tmp_path, isolate):
    site, signals, mark = SiteMaker(tmp_path / "site"), tmp_path / "signals", uuid.uuid4().hex
    signals.mkdir()
    (signals / "slow").touch()              # the pages' code waits while this file is there
    for i in range(4):
        site.page(f"p{i}.md", SLOW_PAGE.format(name=f"p{i}", signals=signals))
    argv = [sys.executable, "-m", "pipeline", "build", "--site", str(site.root), "--jobs", "2",
            *(["--isolate"] if isolate else [])]
    env = {**os.environ, MARK: mark}
    build = subprocess.Popen(argv, env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=default_sigint)
    try:
        assert wait_until(lambda: len(list(signals.glob("started-*"))) >= 2, 90), \
            "the pages' code did not start"
        os.killpg(build.pid, signal.SIGINT)
        try:
            build.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("the build was still running 15 s after Ctrl-C")
        said = build.stderr.read().decode()
        assert build.returncode == 130 and "interrupted" in said, said[-800:]   # not "Aborted!"
        left = wait_until(lambda: not processes_marked(mark), 10) or processes_marked(mark)
        assert left is True, f"left behind after Ctrl-C: {left}"
        started = sorted(p.name for p in signals.glob("started-*"))
        assert len(started) == 2, f"pages started after Ctrl-C: {started}"
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
        for pid in processes_marked(mark):
            os.kill(pid, signal.SIGKILL)
    (signals / "slow").unlink()
    again = subprocess.run(argv[:6], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-800:]
    assert len(list((site.root / "output").glob("p*/index.html"))) == 4


def _blocked(item, signals):
    """A page's work that waits (its worker's pid written) until told to go on."""
    import time

    (signals / f"worker-{os.getpid()}").touch()
    while not (signals / "go").exists():
        time.sleep(0.02)
    return item, None


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no pool of page workers")
def test_workers_ended_by_ctrl_c_stop_the_pool_in_a_thread_too(tmp_path):
    """The preview builds in a thread: Ctrl-C reaches its page workers (one process group)
    before its main thread can say the preview stops. Their pages are not failures (the
    pool's 'BrokenProcessPool ... may have run out of memory'): the pool is stopped."""
    import threading
    from types import SimpleNamespace

    from pipeline.execute.local import run_pages

    signals = tmp_path / "signals"
    signals.mkdir()
    raised: list[BaseException] = []
    got: list = []
    pages = [SimpleNamespace(page=SimpleNamespace(source=SimpleNamespace(path=tmp_path / f"p{i}.md")))
             for i in range(4)]                 # as the pool's failures name them

    def build() -> None:
        try:
            got.extend(run_pages(pages, _blocked, signals, jobs=2, one_at_a_time=True))
        except BaseException as exc:    # noqa: BLE001 (what the thread's caller would see)
            raised.append(exc)

    thread = threading.Thread(target=build)
    thread.start()
    try:
        assert wait_until(lambda: len(list(signals.glob("worker-*"))) >= 2, 30)
        for marker in signals.glob("worker-*"):
            os.kill(int(marker.name.split("-")[1]), signal.SIGINT)
        thread.join(20)
    finally:
        (signals / "go").touch()
        thread.join(20)
    assert not thread.is_alive()
    assert [type(e) for e in raised] == [KeyboardInterrupt], (raised, got)
    assert got == []
