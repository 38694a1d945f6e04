"""Whole builds whose pages' code runs on a real Dask cluster (a LocalCluster of two worker
processes, started once for the module): the same pages as a local build, a worker killed
mid-page loses no page, a family's members, and a build with nothing to do sends no job."""
from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time

import pytest

from pipeline.model import Outcome

distributed = pytest.importorskip("distributed") if not os.environ.get("CI") else \
    __import__("distributed")

PAGE = """\
    ---
    title: "Page {n}"
    ---
    ```python tags=["parameters"]
    scale = 1
    ```

    ```python
    import csv
    rows = list(csv.reader(open("data/values.csv")))
    print("page {n}:", sum(int(r[0]) for r in rows) * scale, len(rows))
    ```
    """


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as made, Client(made) as client:
        yield made, client


def dask_site(site, cluster):
    site.settings(f'[tool.nbpress]\nexecutor = "dask"\nscheduler = "{cluster[0].scheduler_address}"\n')
    return site


def articles(output) -> dict[str, str]:
    found = {}
    for path in sorted(output.rglob("index.html")):
        html = path.read_text(encoding="utf-8")
        article = re.search(r"<!--nbpress:article.*?-->(.*)<!--/nbpress:article-->", html, re.S)
        if article:
            found[path.relative_to(output).as_posix()] = article.group(1)
    return found


def tasks_run(client) -> int:
    """Tasks of nbpress's the scheduler has seen, in all."""
    def count(dask_scheduler):
        prefix = dask_scheduler.task_prefixes.get("nbpress")
        return 0 if prefix is None else prefix.state_counts["memory"]
    return client.run_on_scheduler(count)


def test_ten_notebook_pages_built_on_the_cluster_are_the_local_build_s(site, cluster, tmp_path):
    site.file("content/notes/data/values.csv", "".join(f"{i}\n" for i in range(100)))
    for n in range(10):
        site.page(f"notes/p{n}.md", PAGE.replace("{n}", str(n)))
    shutil.copytree(site.root, tmp_path / "local")
    before = tasks_run(cluster[1])
    report = dask_site(site, cluster).build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert report.count_code()[0] == 10 and tasks_run(cluster[1]) - before == 10
    from tests.conftest import SiteMaker

    local = SiteMaker(tmp_path / "local")
    assert local.build().ok
    remote, here = articles(site.root / "output"), articles(local.root / "output")
    assert remote.keys() == here.keys() and len(remote) == 10
    for name in remote:
        assert remote[name] == here[name], name
    assert "page 3: 4950 100" in remote["notes/p3/index.html"]


def test_a_build_with_nothing_to_do_sends_no_job(site, cluster):
    site.file("content/data/values.csv", "1\n2\n")
    site.page("p.md", PAGE.replace("{n}", "0"))
    assert dask_site(site, cluster).build().ok
    before = tasks_run(cluster[1])
    again = site.build()
    assert again.ok and again.count(Outcome.UNCHANGED) == 1
    site.page("p.md", PAGE.replace("{n}", "0") + "\nProse only changed.\n")
    third = site.build()                  # rebuilt, its code's results from the cache
    assert third.count(Outcome.BUILT) == 1 and third.count_code()[0] == 0
    assert tasks_run(cluster[1]) == before


def test_a_worker_killed_during_a_page_loses_no_page(site, cluster, tmp_path):
    marker = tmp_path / "running"
    site.page("slow.md", f"""\
        ---
        title: Slow
        ---
        ```python
        import os, pathlib, time
        marker = pathlib.Path({str(marker)!r})
        if not marker.exists():             # the first try: say where, then take long
            stat = open(f"/proc/{{os.getppid()}}/stat").read()      # the kernel's fork server's
            marker.write_text(stat.rsplit(")", 1)[1].split()[1])      # parent: the worker
            time.sleep(60)
        print("done in the end")
        ```
        """)
    killed = []

    def kill_its_worker():
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        worker = int(marker.read_text())
        os.kill(worker, signal.SIGKILL)
        killed.append(worker)

    thread = threading.Thread(target=kill_its_worker)
    thread.start()
    started = time.monotonic()
    report = dask_site(site, cluster).build()
    thread.join()
    assert killed, "the page never started"
    assert report.ok, [str(r.error) for r in report.failed]
    assert time.monotonic() - started < 50          # run again elsewhere, not waited out
    html = (site.root / "output" / "slow" / "index.html").read_text(encoding="utf-8")
    assert "done in the end" in html
    cluster[1].wait_for_workers(2, timeout=30)      # the nanny starts the killed one again


def test_a_family_on_the_cluster_writes_one_page_per_combination_and_its_listing(site, cluster):
    site.page("dash.md", """\
        ---
        title: "T {team}"
        slug: /t/{team}
        matrix:
          team: [a, b, c]
        ---
        ```python tags=["parameters"]
        team = "x"
        ```

        ```python tags=["shared"]
        base = 10
        ```

        ```python
        print(f"team {team} on", base)
        ```
        """)
    report = dask_site(site, cluster).build()
    assert report.ok, [str(r.error) for r in report.failed]
    out = site.root / "output" / "t"
    for team in "abc":
        assert f"team {team} on 10" in (out / team / "index.html").read_text(encoding="utf-8")
    listing = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{team}/"' in listing for team in "abc")


def test_memory_auto_asks_the_cluster_for_the_last_run_s_peak(site, tmp_path):
    """A build records each page's kernel's peak memory; `resources: {memory: auto}` then
    asks for half as much again: on a cluster whose worker offers less, the page says so."""
    from distributed import LocalCluster

    big = 'x = bytearray(150_000_000)\nimport time; time.sleep(0.5)\nprint("held", len(x))'
    site.page("big.md", f'---\ntitle: Big\nresources: {{memory: auto}}\n---\n```python\n{big}\n```\n')
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      resources={"MEMORY": 100e6}) as small:
        site.settings(f'[tool.nbpress]\nexecutor = "dask"\nscheduler = "{small.scheduler_address}"\n')
        first = site.build()            # no run seen yet: no memory asked
        assert first.ok, [str(r.error) for r in first.failed]
        (result,) = first.results
        assert result.peak_memory > 150_000_000, result.peak_memory
        site.page("big.md", (site.root / "content/big.md").read_text(encoding="utf-8")
                  .replace("held", "holds"))
        second = site.build()
        (failed,) = second.failed       # 1.5 x 150 MB asked; the worker has 100 MB
        assert "MEMORY" in str(failed.error) and failed.error.path.name == "big.md", str(failed.error)


def test_a_local_build_records_the_peak_memory_of_each_page_s_kernel(site):
    import json

    site.page("small.md", '---\ntitle: S\n---\n```python\nprint(1)\n```\n')
    site.page("big.md", '---\ntitle: B\n---\n```python\nx = bytearray(120_000_000)\n'
                        'import time; time.sleep(0.4)\n```\n')
    report = site.build()
    assert report.ok
    peaks = {r.source.path.name: r.peak_memory for r in report.results}
    assert 0 < peaks["small.md"] < peaks["big.md"] and peaks["big.md"] > 120_000_000, peaks
    state = json.loads(next((site.root / ".nbpress-cache").rglob("pages.json")).read_text())
    assert state["pages"]["content/big.md"]["peak_memory"] == peaks["big.md"]
    site.page("big.md", (site.root / "content/big.md").read_text() + "\nProse.\n")
    again = site.build()                 # its code from the cache: the peak is still known
    assert {r.source.path.name: r.peak_memory for r in again.results}["big.md"] == peaks["big.md"]
