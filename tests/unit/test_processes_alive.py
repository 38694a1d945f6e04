"""`alive(pid)`: what sweeps a dead process's folders asks. A process killed and not yet
reaped by its parent (a zombie: a Dask worker killed mid-page until its nanny waits for it)
is dead, so the job rerun on another worker removes the killed one's folder at once."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from pipeline.execute.remote import FOLDER_PREFIX, _sweep
from pipeline.files import alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="a zombie is seen through /proc (Linux)")


def _zombie() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    deadline = time.monotonic() + 10
    while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return pid


def test_a_running_process_is_alive_a_zombie_and_a_reaped_one_are_not():
    assert alive(os.getpid())
    pid = _zombie()
    try:
        assert not alive(pid)
    finally:
        os.waitpid(pid, 0)
    assert not alive(pid)


def test_the_folder_of_a_killed_unreaped_worker_is_swept():
    pid = _zombie()
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
    try:
        (folder / "site").mkdir()
        _sweep()
        assert not folder.exists()
        assert mine.exists()                # a live process's folder stays
    finally:
        os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
