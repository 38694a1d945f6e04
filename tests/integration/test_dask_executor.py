"""The Dask executor (execute/distributed.py) on a real LocalCluster with real kernels: the
same outputs, warnings and errors as the inline executor, the page's files shipped, a
worker killed mid-page, a client made again in a forked page worker, and no process left."""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

try:
    import dask.config
    from distributed import LocalCluster
except ImportError:
    if os.environ.get("CI"):       # CI installs the dask extra: a missing import is a failure
        raise
    pytest.skip("needs dask.distributed: pip install -e '.[dask]' (make build installs it)",
                allow_module_level=True)

from pipeline.errors import ExecutionError
from pipeline.execute.base import InlineExecutor, Job
from pipeline.execute.cache import bundle_files, depends_files
from pipeline.execute.distributed import DaskExecutor
from pipeline.execute.remote import FOLDER_PREFIX
from pipeline.execute.run import RunContext
from pipeline.model import Source
from pipeline.notebook.convert import default_kernelspec, to_notebook
from pipeline.sources.frontmatter import read_source
from tests.conftest import REPO

RUN = RunContext(build_time="2026-01-02T03:04:05+00:00", base_url="https://x.example/")
MEMORY = 8e9            # what the cluster's workers offer (--resources "MEMORY=8e9")


@pytest.fixture(scope="module")
def cluster():
    # a task whose worker dies runs once more, then fails (Dask's default: 3 more times)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                             dashboard_address=":0", resources={"MEMORY": MEMORY},
                             preload=["pipeline.execute.distributed"])
    with local:
        yield local


@pytest.fixture(scope="module")
def remote(cluster):
    executor = DaskExecutor(cluster.scheduler_address).start()
    yield executor
    executor.close()


def job_of(site, rel: str, text: str):
    """A function making the page's Job as build/pages.py does (a fresh notebook a call)."""
    path = site.page(rel, text)
    config = site.config()
    page = read_source(Source(path, rel.removesuffix(".md"), "md"))

    def make() -> Job:
        nb = to_notebook(page, config)
        nb.metadata.setdefault("kernelspec", default_kernelspec(config))
        data = tuple(sorted(set(depends_files(page)) | set(bundle_files(page))))
        return Job(nb, page, config, RUN, files=data)
    return make


def streams(nb) -> list[str]:
    """What each of the page's code cells printed (not papermill's injected cell)."""
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
            for c in nb.cells if c.cell_type == "code"
            and "injected-parameters" not in c.metadata.get("tags", [])]


SALES = """\
    ---
    title: "Sales"
    params:
      region: north
      regoin: typo
    ---

    ```python tags=["parameters"]
    region = "south"
    ```

    ```python
    import csv, os
    rows = list(csv.DictReader(open("data/x.csv")))
    print(region, sum(int(r["total"]) for r in rows if r["region"] == region))
    print("in", os.getcwd())
    ```
    """


def test_a_page_gives_the_same_outputs_and_warnings_as_inline(site, remote):
    site.file("content/report/data/x.csv", "region,total\nnorth,3\nsouth,4\nnorth,5\n")
    make = job_of(site, "report/index.md", SALES)
    inline = InlineExecutor().submit(make()).result()
    future = remote.submit(make())
    (site.root / "content/report/data/x.csv").unlink()     # the worker has its own copy
    ran = future.result(timeout=30)
    assert streams(ran.nb) == streams(inline.nb)
    assert streams(ran.nb)[1] == f"north 8\nin {site.root / 'content/report'}\n"  # param,
    # the file shipped, and the job's folder shown as the page's
    assert ran.warnings == inline.warnings and len(ran.warnings) == 1
    assert ran.warnings[0].startswith(f"{site.root / 'content/report/index.md'}: param 'regoin'")
    assert type(ran.nb).__name__ == "NotebookNode" and ran.nb.metadata.papermill.parameters


def test_a_failing_cell_is_the_same_execution_error_naming_the_real_page(site, remote):
    site.file("content/data/n.txt", "41\n")
    make = job_of(site, "p.md", """\
        ---
        title: "P"
        ---

        ```python
        n = int(open("data/n.txt").read())
        ```

        Text.

        ```python
        import os
        raise ValueError(f"bad {n + 1} in {os.getcwd()}")
        ```
        """)
    with pytest.raises(ExecutionError) as local:
        InlineExecutor().submit(make()).result()
    with pytest.raises(ExecutionError) as shipped:
        remote.submit(make()).result()
    error = shipped.value
    assert error.path == site.root / "content/p.md" and error.line == 12
    assert (error.message, error.line, error.hint, error.detail) == \
        (local.value.message, local.value.line, local.value.hint, local.value.detail)
    assert error.message == f"code cell 2 raised ValueError: bad 42 in {site.root / 'content'}"
    assert str(error) == str(local.value)
    logs = [text for records in remote._client.get_worker_logs().values()
            for _, text in records if "Compute Failed" in text]
    assert not logs, "the worker logged the page's error: the build reports it"


def _restrictions(key: str, dask_scheduler=None):
    task = dask_scheduler.tasks.get(key)
    return None if task is None else task.resource_restrictions


def test_resources_are_asked_for_and_a_page_no_worker_can_run_fails_at_once(site, remote):
    make = job_of(site, "big.md", '---\ntitle: "Big"\nresources: {memory: 4GB}\n---\n\n'
                                  '```python\nimport time\ntime.sleep(1)\nprint("big")\n```\n')
    future = remote.submit(make())
    [key] = remote._pending
    asked = None
    while asked is None and not future.done():
        asked = remote._client.run_on_scheduler(_restrictions, key)
    assert asked == {"MEMORY": 4e9}
    assert streams(future.result(timeout=30).nb) == ["big\n"]
    make = job_of(site, "gpu.md", '---\ntitle: "G"\nresources: {gpu: 1, memory: 4GB}\n---\n\n'
                                  '```python\nprint("gpu")\n```\n')
    started = time.monotonic()
    with pytest.raises(ExecutionError) as failed:
        remote.submit(make()).result(timeout=30)
    assert time.monotonic() - started < 5
    assert failed.value.path == site.root / "content/gpu.md"
    assert "GPU=1" in failed.value.message and '--resources "GPU=1 MEMORY=4e+09"' in \
        failed.value.hint
    make = job_of(site, "bad.md", '---\ntitle: "B"\nresources: {memory: lots}\n---\n\n'
                                  '```python\n1\n```\n')
    with pytest.raises(ExecutionError, match="memory must be a size such as 512MB"):
        remote.submit(make()).result(timeout=30)


_FORKED: dict = {}


def _keep(executor, make) -> None:
    _FORKED.update(executor=executor, make=make)


def _in_child() -> tuple[int, list[str], float]:
    started = time.monotonic()
    ran = _FORKED["executor"].submit(_FORKED["make"]()).result()
    return os.getpid(), streams(ran.nb), time.monotonic() - started


def test_a_forked_page_worker_makes_its_own_client(site, remote):
    make = job_of(site, "f.md", '---\ntitle: "F"\n---\n\n```python\nprint("forked", 6 * 7)\n```\n')
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                               initializer=_keep, initargs=(remote, make))
    try:
        pid, text, seconds = pool.submit(_in_child).result(timeout=30)
    except BaseException:
        for process in list(pool._processes.values()):    # stuck on the parent's client
            process.kill()
        raise
    finally:
        pool.shutdown()
    assert pid != os.getpid() and text == ["forked 42\n"]
    assert seconds < 8          # the parent's client left alone: closing it here would hang
    assert streams(remote.submit(make()).result().nb) == ["forked 42\n"]   # the parent's, intact


def test_a_worker_killed_mid_page_has_its_page_run_again_on_another(site, remote, cluster,
                                                                    tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    make = job_of(site, "slow.md", f"""\
        ---
        title: "Slow"
        ---

        ```python
        import os, pathlib, time
        marks = pathlib.Path({str(marks)!r})
        first = not any(marks.iterdir())
        worker = int(open(f"/proc/{{os.getppid()}}/stat").read().rsplit(")", 1)[1].split()[1])
        (marks / f"{{os.getpid()}}-{{worker}}").touch()       # the kernel's server's parent
        if first:
            time.sleep(3)
        print("done")
        ```
        """)
    client = remote._client
    workers = set(client.run(os.getpid).values())
    future = remote.submit(make())
    deadline = time.monotonic() + 30
    while not any(marks.iterdir()):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    kernel, worker = map(int, next(marks.iterdir()).name.split("-"))
    assert worker in workers
    os.kill(worker, signal.SIGKILL)
    assert streams(future.result(timeout=60).nb) == ["done\n"]
    assert len(list(marks.iterdir())) == 2      # run again, from the start
    assert _gone(kernel, 10), "the killed worker's kernel is still running"
    assert not list(Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}{worker}-*"))
    client.wait_for_workers(2, timeout=30)       # the nanny started a new worker


def test_a_page_that_kills_every_worker_it_runs_on_fails_saying_so(site, remote):
    make = job_of(site, "crash.md", '---\ntitle: "Crash"\n---\n\n```python\nimport os, signal\n'
                                    'stat = open(f"/proc/{os.getppid()}/stat").read()\n'
                                    'os.kill(int(stat.rsplit(")", 1)[1].split()[1]), signal.SIGKILL)'
                                    '\n```\n')    # the worker: the kernel's fork server's parent
    with pytest.raises(ExecutionError) as failed:
        remote.submit(make()).result(timeout=60)
    assert failed.value.path == site.root / "content/crash.md"
    assert failed.value.message == "the Dask workers running its code died, 2 times"
    assert "memory" in failed.value.hint
    remote._client.wait_for_workers(2, timeout=30)


def test_close_leaves_no_process_and_may_be_called_twice(site):
    make = job_of(site, "c.md", '---\ntitle: "C"\n---\n\n```python\nimport time\n'
                                'time.sleep(1)\nprint("c")\n```\n')
    before = _descendants(os.getpid())
    executor = DaskExecutor(workers=1)
    first, second = executor.submit(make()), executor.submit(make())
    deadline = time.monotonic() + 30
    while executor.counts() != (1, 1, 0):
        assert time.monotonic() < deadline and not first.done(), executor.counts()
        time.sleep(0.05)
    assert [streams(f.result(timeout=60).nb) for f in (first, second)] == [["c\n"]] * 2
    assert executor.counts() == (0, 0, 2)
    workers = set(executor._client.run(os.getpid).values())
    assert workers and workers <= _descendants(os.getpid())
    executor.close()
    executor.close()
    assert all(_gone(pid, 10) for pid in workers)
    assert not {p for p in _descendants(os.getpid()) - before if not _tracker(p)}
    assert executor.dashboard_link is None and executor.counts() == (0, 0, 2)


KEEPER = """
import os, sys
from pipeline.execute.distributed import DaskExecutor
executor = DaskExecutor(workers=1).start()
print(*executor._client.run(os.getpid).values(), flush=True)
sys.stdin.read()
"""


def test_closing_an_executor_of_a_running_scheduler_closes_its_client_alone(cluster, remote):
    executor = DaskExecutor(cluster.scheduler_address).start()
    name = executor._client.id
    assert name in cluster.scheduler.clients
    assert executor.scheduler == cluster.scheduler_address and executor.slots() == 2
    executor.close()
    executor.close()
    deadline = time.monotonic() + 10
    while name in cluster.scheduler.clients:
        assert time.monotonic() < deadline, "the scheduler still has the client"
        time.sleep(0.05)
    assert len(cluster.scheduler.workers) == 2 and remote._client.status == "running"


def test_a_scheduler_out_of_reach_fails_the_page_saying_what_to_start(site):
    make = job_of(site, "u.md", '---\ntitle: "U"\n---\n\n```python\n1\n```\n')
    executor = DaskExecutor("tcp://127.0.0.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ExecutionError) as failed:
            executor.submit(make()).result(timeout=30)
        with pytest.raises(ExecutionError, match="the Dask scheduler at tcp://127.0.0.1:1 "):
            DaskExecutor("tcp://127.0.0.1:1").start()       # what a build does first
    executor.close()
    assert failed.value.path == site.root / "content/u.md"
    assert failed.value.message.startswith("nothing could be sent to the Dask scheduler at "
                                           "tcp://127.0.0.1:1 (")
    assert "dask scheduler" in failed.value.hint and "--scheduler" in failed.value.hint


def test_the_workers_of_its_local_cluster_die_with_a_killed_build():
    """distributed's workers exit when the process that started them is gone (a pipe of
    theirs closes): a killed build leaves none behind. (A kernel whose worker is killed
    exits too: the test of a worker killed mid-page.)"""
    with subprocess.Popen([sys.executable, "-c", KEEPER], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          cwd=REPO) as build:
        try:
            workers = [int(pid) for pid in build.stdout.readline().split()]
        finally:
            build.kill()
    assert workers and all(_gone(pid, 10) for pid in workers)


def _descendants(root: int) -> set[int]:
    """Living processes below `root`, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if entry.name.isdigit() and fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def _tracker(pid: int) -> bool:
    """multiprocessing's resource tracker: one for the test process, not a worker of ours."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
