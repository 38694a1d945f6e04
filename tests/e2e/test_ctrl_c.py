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
