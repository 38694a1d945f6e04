"""Review of issue 10's Dask executor (and of the page-family fixes that came with it): each
test reproduces a problem found by building real sites on a real Dask cluster (a
LocalCluster, or a `dask scheduler` / `dask worker` started here), with real kernels.
Each one fails on the code reviewed."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.build.engine import BuildOptions, build_site
from pipeline.model import Outcome
from tests.conftest import REPO, default_sigint

distributed = pytest.importorskip("distributed") if not os.environ.get("CI") else \
    __import__("distributed")

PY = sys.executable
DASK = str(Path(sys.executable).with_name("dask"))
PRELOAD = "pipeline.execute.distributed"


def code_page(text: str, title: str = "P") -> str:
    return f"---\ntitle: {title}\n---\n\n```python\n{text}\n```\n"


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", preload=[PRELOAD]) as made, \
            Client(made) as client:
        yield made, client


def on_dask(config, cluster=None):
    """The settings as `--executor dask [--scheduler ADDRESS]` makes them."""
    return replace(config, executor="dask",
                   scheduler=cluster[0].scheduler_address if cluster else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Schedulers, workers and builds started by a test, each in a session of its own,
    all ended (by their process group) when the test ends."""

    def __init__(self, folder: Path):
        self.folder, self.started = folder, []

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=default_sigint,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
        process.log = self.folder / f"{name}.log"
        self.started.append(process)
        return process

    def scheduler(self) -> str:
        port = free_port()
        self.start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                 "--dashboard-address", ":0", "--no-show"])
        address = f"tcp://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return address
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)

    def worker(self, address: str) -> None:
        from distributed import Client

        self.start("worker", [DASK, "worker", address, "--nworkers", "1", "--nthreads", "2",
                              "--preload", PRELOAD, "--no-dashboard"])
        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)

    def build(self, site: Path, *args: str, **env: str) -> subprocess.Popen:
        return self.start("build", [PY, "-m", "pipeline", "build", "--site", str(site), *args],
                          **env)

    def end(self) -> None:
        for process in reversed(self.started):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@pytest.fixture
def processes(tmp_path):
    made = Processes(tmp_path)
    yield made
    made.end()


def output_of(process: subprocess.Popen) -> str:
    return process.log.read_text(encoding="utf-8", errors="replace")


def ended(build: subprocess.Popen, timeout: float) -> str:
    """What the build said, once it ended within `timeout` seconds (else the test fails)."""
    try:
        build.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the build did not end in {timeout} s:\n{output_of(build)[-600:]}")
    return output_of(build)


# -- 1. a file the page's code writes -------------------------------------------------------

MADE_IMAGE = """\
    ---
    title: Made
    ---

    ```python
    import base64
    open("made.png", "wb").write(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M8AAAMBAQAam4wrAAAAAElFTkSuQmCC"))
    print("drawn")
    ```

    ![the figure its code drew](made.png)
    """


def test_an_image_the_page_s_code_writes_is_published_as_in_a_local_build(site, cluster):
    """Locally the code runs in the page's folder and the image it writes is published;
    on Dask it is written in the worker's temp folder, which is removed: the page links a
    missing image ("refers to a file that does not exist")."""
    site.page("made.md", MADE_IMAGE)
    report = build_site(on_dask(site.config(), cluster), BuildOptions())
    assert report.ok, [str(r.error) for r in report.failed]
    assert not [w for w in report.warnings() if "does not exist" in w], report.warnings()
    assert (site.root / "output" / "made.png").is_file()


# -- 2. the executor in the site's key ------------------------------------------------------

def test_running_the_same_site_on_dask_does_not_rebuild_every_page(site, cluster):
    """`executor` and `scheduler` are in the settings every page's key hashes
    (build/plan.py site_key): switching to `--executor dask`, or a cluster whose address
    changes at each run (dask-jobqueue, Kubernetes), rebuilds every page of the site."""
    for n in range(3):
        site.page(f"p{n}.md", code_page(f"print({n})"))
    site.page("prose.md", "---\ntitle: Prose\n---\nJust words.\n")
    assert site.build().ok
    report = build_site(on_dask(site.config(), cluster), BuildOptions())
    assert report.ok
    assert report.count(Outcome.UNCHANGED) == 4, [(r.source.rel, r.reason) for r in report.results]


# -- 3. a cluster for a build with nothing to run --------------------------------------------

def test_a_build_whose_code_comes_from_the_cache_starts_no_local_cluster(site):
    """README: "A build with nothing to run sends no job, and starts no cluster." A page
    whose prose changed is built again with its code's results from the cache, yet the
    build starts a LocalCluster (two worker processes, seconds) for it (build/pages.py
    `_executor`, called whenever a page *may* run code)."""
    site.page("p.md", code_page('print("hi")'))
    assert site.build().ok                                  # the cache has its results
    site.page("p.md", code_page('print("hi")') + "\nMore prose.\n")
    notes: list[str] = []
    started = time.monotonic()
    report = build_site(on_dask(site.config()), BuildOptions(on_note=notes.append))
    assert report.ok and report.count_code()[:2] == (0, 1)  # nothing ran
    assert notes == [], f"{notes} ({time.monotonic() - started:.1f} s)"


def test_a_page_with_no_code_cell_starts_no_local_cluster(site):
    """A prose page that shows a ```text block: `may_run` (a fence in its text) starts a
    LocalCluster for a build that has no code at all."""
    site.page("a.md", "---\ntitle: A\n---\nWords.\n\n```text\nnot code\n```\n")
    notes: list[str] = []
    report = build_site(on_dask(site.config()), BuildOptions(on_note=notes.append))
    assert report.ok and report.count_code()[:2] == (0, 0)
    assert notes == [], notes


# -- 4. a malformed scheduler address ---------------------------------------------------------

@pytest.mark.parametrize("address", ["foo", "http://127.0.0.1:8786"])
def test_a_malformed_scheduler_address_is_an_error_and_the_build_ends(site, processes, address):
    """`--scheduler foo` (or `scheduler = "foo"`, which config.py takes as it is): the
    Client raises ValueError, which `DaskExecutor.start` does not catch (only OSError):
    a traceback, then the process never exits (the half-made Client's __del__ waits on
    its loop at exit). The lock's holder is then alive for ever."""
    site.page("p.md", code_page('print("hi")'))
    build = processes.build(site.root, "--executor", "dask", "--scheduler", address)
    said = ended(build, 12)
    assert "Traceback" not in said, said[-600:]
    assert build.returncode == 2 and address in said, said[-600:]


# -- 5. the scheduler goes away mid-build -----------------------------------------------------

def test_a_scheduler_that_goes_away_mid_build_fails_the_pages_not_the_build(site, processes,
                                                                             tmp_path):
    """The progress line asks the scheduler for its counts after each page
    (engine.py `_build`, `cluster_counts`), unguarded: when the scheduler is gone the
    build ends with an OSError traceback (no report, no summary) instead of the pages it
    could not run failing."""
    address = processes.scheduler()
    processes.worker(address)
    marker = tmp_path / "slow-started"
    site.page("fast.md", code_page('print("fast")', "Fast"))
    site.page("slow.md", code_page(f'import pathlib, time\npathlib.Path({str(marker)!r}).touch()\n'
                                   'time.sleep(60)', "Slow"))
    build = processes.build(site.root, "--scheduler", address,
                            DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and build.poll() is None, output_of(build)
        time.sleep(0.1)
    time.sleep(1)
    for process in processes.started[:2]:            # the scheduler and its worker
        os.killpg(process.pid, signal.SIGKILL)
    said = ended(build, 45)
    assert "Traceback" not in said, said[-1200:]
    assert build.returncode == 1 and "slow.md" in said and "1 failed" in said, said[-1200:]


# -- 6. Ctrl-C ----------------------------------------------------------------------------------

def test_ctrl_c_ends_a_build_on_a_local_cluster(site, processes):
    """Ctrl-C (SIGINT to the terminal's process group: the build, its page workers and the
    LocalCluster's workers): the page workers take the next page and submit it to a
    cluster whose workers are gone, and wait on its future for ever (pages.py
    `_run_or_reuse`: `.result()` with no end). A local build ends once its pages have."""
    for n in range(3):
        site.page(f"p{n}.md", code_page(f'import time\ntime.sleep(4)\nprint({n})'))
    build = processes.build(site.root, "--executor", "dask")
    deadline = time.monotonic() + 60
    while "Dask cluster at" not in output_of(build):
        assert time.monotonic() < deadline and build.poll() is None, output_of(build)
        time.sleep(0.1)
    time.sleep(2)                                          # two pages running
    os.killpg(build.pid, signal.SIGINT)
    try:
        build.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the build was still running 15 s after Ctrl-C "
                    f"(its pages take 4 s):\n{output_of(build)[-600:]}")


# -- 7. the progress line's counts ------------------------------------------------------------

def test_the_progress_counts_are_this_build_s_jobs(site, cluster):
    """`cluster_counts` counts as done the scheduler's `nbpress` task prefix since it
    started (all builds, all sites: `state_counts` is cumulative), and a page whose name is
    a plain word (about.md) is never counted: Dask's key_split makes the prefix of
    `nbpress-about-1a2b3c4d5e` "nbpress-about"."""
    for name in ("alpha", "beta", "gamma"):
        site.page(f"{name}.md", code_page(f'print("{name}")'))
    seen: list[tuple[int, int, int]] = []
    config = on_dask(site.config(), cluster)
    assert build_site(config, BuildOptions(on_jobs=seen.append)).ok
    assert seen[-1] == (0, 0, 3), seen
    for name in ("alpha", "beta", "gamma"):              # their code changed: they run again
        site.page(f"{name}.md", code_page(f'print("{name}!")'))
    seen.clear()
    assert build_site(config, BuildOptions(on_jobs=seen.append)).ok
    assert seen[-1] == (0, 0, 3), seen


def test_pages_that_send_no_job_do_not_each_ask_the_scheduler(site, cluster):
    """The counts are asked of the scheduler (a round trip, and a walk over all its tasks)
    after every page, prose pages too: a site of 10,000 pages and one notebook pays 10,000
    round trips (1 ms each here, a network's latency on a real cluster)."""
    site.page("code.md", code_page('print("hi")'))
    for n in range(40):
        site.page(f"prose/p{n}.md", f"---\ntitle: Prose {n}\n---\nWords {n}.\n")
    seen: list[tuple[int, int, int]] = []
    report = build_site(on_dask(site.config(), cluster), BuildOptions(on_jobs=seen.append))
    assert report.ok and report.count_code()[0] == 1
    assert len(seen) <= 5, f"the scheduler was asked {len(seen)} times for one job"


# -- 8. a scheduler with no worker -------------------------------------------------------------

def test_a_scheduler_without_workers_is_said_not_waited_on_in_silence(site, processes):
    """A scheduler started without its workers (forgotten, or they failed to start): the
    build submits its pages and waits for ever, saying nothing but where code runs."""
    address = processes.scheduler()
    site.page("p.md", code_page('print("hi")'))
    build = processes.build(site.root, "--scheduler", address)
    try:
        build.wait(timeout=15)
    except subprocess.TimeoutExpired:
        said = output_of(build)
        assert "worker" in said.lower(), f"still waiting after 15 s, having said: {said!r}"


# -- 9. a build service -----------------------------------------------------------------------

def test_a_build_service_keeps_its_local_cluster_between_builds(site):
    """`nbpress serve` (a BuildService) with `executor = "dask"` and no scheduler starts a
    LocalCluster for every build and closes it after: each saved page costs seconds of
    cluster start-up where the service's point is milliseconds."""
    from pipeline.build.service import BuildService

    site.settings('[tool.nbpress]\nexecutor = "dask"\n')
    page = site.page("p.md", code_page('print("v1")'))
    notes: list[str] = []
    with BuildService(site.config(), BuildOptions(in_place=True, on_note=notes.append)) as service:
        assert service.build().ok
        page.write_text(page.read_text().replace("v1", "v2"))
        started = time.monotonic()
        assert service.build().ok
        took = time.monotonic() - started
    addresses = [re.search(r"tcp://\S+", note).group(0) for note in notes]
    assert len(set(addresses)) == 1, f"{addresses}: the second build took {took:.1f} s"


# -- 10. page families (the fixes reviewed with this diff) -----------------------------------

def test_a_family_listing_on_a_page_s_url_is_a_clash_not_dropped_in_silence(site):
    """A family whose listing is at /alerts/ and a page whose slug is /alerts: both are
    written to output/alerts/index.html; the build is ok and says nothing, and the
    listing is gone (`_one_family_a_listing` compares families with families only)."""
    site.page("alerts.md", "---\ntitle: The alerts page\n---\nA page of its own.\n")
    site.page("fam.md", """\
        ---
        title: "Alerts {team}"
        slug: /alerts/{team}
        matrix:
          team: [a, b]
        ---

        Prose only.
        """)
    report = site.build()
    said = [str(r.error) for r in report.failed] + list(report.warnings())
    assert any("alerts" in s for s in said), "no clash reported"


def test_a_shared_cell_that_catches_exceptions_still_has_the_site_s_timeout(site):
    """The template's timeout is a TimeoutError raised in the cell (shared.py
    `_run_cells`), an Exception: a cell that catches Exception (a retry loop) runs on past
    the site's `timeout` (for ever if it loops), and its members build. The same cell in a
    page of its own is stopped at the timeout (nbclient interrupts the kernel:
    KeyboardInterrupt, which `except Exception` does not catch)."""
    site.settings("[tool.nbpress]\ntimeout = 2\n")
    loop = ("import time\nend = time.time() + 7\nwhile time.time() < end:\n"
            "    try:\n        time.sleep(0.2)\n    except Exception:\n        pass\nbase = 1")
    site.page("alone.md", code_page(loop, "Alone"))
    site.page("fam.md", f"""\
---
title: "F {{team}}"
slug: /f/{{team}}
matrix:
  team: [a, b]
---

```python tags=["parameters"]
team = "x"
```

```python tags=["shared"]
{loop}
```

```python
print(team, base)
```
""")
    report = site.build()
    failed = {r.source.shown for r in report.failed}
    assert any("alone.md" in f for f in failed), failed        # a page of its own: stopped
    assert len(failed) == 3, f"only {failed} failed: the family's shared cell ran 7 s"
