"""How the `nbpress` program ends (pipeline/cli/process.py): its exit status, everything it
printed (through a pipe too), and the atexit functions run, as an ordinary exit would; only
the freeing of the heap is skipped, and a thread Python waits for is still waited for."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import SiteMaker


def _nbpress(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, timeout=300)


def test_a_build_says_everything_through_a_pipe_and_exits_with_its_status(tmp_path):
    site = SiteMaker(tmp_path / "site")
    for i in range(300):
        site.page(f"p{i:03}.md", f"---\ntitle: Page {i}\n---\nText {i}.\n")
    done = _nbpress("build", "--why", "--site", str(site.root))
    assert done.returncode == 0, done.stderr
    told = done.stdout + done.stderr
    assert all(f"p{i:03}" in told for i in range(300)), "a page's line was lost at exit"
    assert "300 pages built" in told

    site.page("broken.md", "---\ntitle: [unclosed\n---\nText.\n")
    failed = _nbpress("build", "--site", str(site.root))
    assert failed.returncode == 1
    assert "broken.md" in failed.stdout + failed.stderr


def test_usage_errors_keep_click_s_status_and_message(tmp_path):
    done = _nbpress("build", "--site", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert _nbpress("--version").returncode == 0


def _end(code: str, before: str = "") -> subprocess.CompletedProcess:
    program = (f"import atexit, threading, time\n{before}\n"
               "atexit.register(lambda: print('atexit ran', flush=True))\n"
               f"from pipeline.cli.process import end\nend({code})\n")
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)


def test_end_runs_the_atexit_functions_and_says_a_message_as_sys_exit_does():
    assert _end("None").returncode == 0
    quiet = _end("3")
    assert (quiet.returncode, quiet.stdout) == (3, "atexit ran\n")
    said = _end("'nbpress: no site here'")
    assert (said.returncode, said.stderr, said.stdout) == (1, "nbpress: no site here\n",
                                                           "atexit ran\n")


def test_end_waits_for_a_thread_python_would_wait_for():
    thread = ("t = threading.Thread(target=lambda: (time.sleep(0.5), print('joined', "
              "flush=True)))\nt.start()")
    done = _end("4", before=thread)
    assert done.returncode == 4
    assert "joined" in done.stdout and "atexit ran" in done.stdout


def test_what_an_atexit_function_prints_unflushed_is_said(monkeypatch):
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    program = ("import atexit\natexit.register(lambda: print('said at exit'))\n"
               "print('before')\nfrom pipeline.cli.process import end\nend(0)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout) == (0, "before\nsaid at exit\n")
