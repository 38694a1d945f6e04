"""Second review of issue 10 (a read-only review's four suspected bugs), each reproduced by real
builds: page families whose listing lands on another page's URL, a build service that
switches away from Dask, and a Dask build whose second round (pages mended by it) must run
code. Each test asserts what the README promises; a test that fails shows the bug."""
from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.build.engine import BuildOptions, build_site
from pipeline.files import alive
from pipeline.model import Outcome
from tests.conftest import PNG_1PX
from tests.e2e.test_dask_build import tasks_run
from tests.e2e.test_review_dask import cluster, code_page  # noqa: F401  (cluster: a fixture)

distributed = pytest.importorskip("distributed") if not os.environ.get("CI") else \
    __import__("distributed")


def said(report) -> list[str]:
    """Every failure (with its file) and warning of a build."""
    return [str(r.error) for r in report.failed] + list(report.warnings())


def title_of(site, rel: str) -> str:
    html = (site.root / "output" / rel).read_text(encoding="utf-8")
    return html.split("<title>", 1)[1].split("</title>", 1)[0]


# -- 1. a family's listing at the site's root, and the author's index.md --------------------

ROOT_FAMILY = """\
    ---
    title: "Team {team}"
    slug: /{team}
    matrix:
      team: [a, b]
    ---

    Prose only.
    """


def test_a_family_listing_at_the_root_clashes_with_the_author_s_index_page(site):
    """content/README.md is a family with `slug: /{team}`: its listing's URL (the base) is
    the file's slug, "" (the site's root), where the author's content/index.md is too.
    README: "A page of the author's at that URL is published and the family fails, naming
    it." The build is ok and says nothing: output/index.html is the author's page, the
    family's listing is written nowhere, and a link to README.md leads to the author's
    home page (`_one_family_a_listing`: `base and base in pages` passes over base "")."""
    site.page("index.md", "---\ntitle: Author home\n---\nWelcome.\n")
    site.page("README.md", ROOT_FAMILY)
    site.page("about.md", "---\ntitle: About\n---\nSee [the teams](README.md).\n")
    report = site.build()
    assert title_of(site, "index.html").startswith("Author home")      # the page is published
    clash = [s for s in said(report) if "README.md" in s and "index.md" in s]
    assert clash, f"no clash of README.md's listing with index.md reported: {said(report)}"
    failed = {r.source.variant for r in report.failed if r.source.rel == "README"}
    assert failed == {"team=a", "team=b"}, "the family does not fail"


# -- 2. a family's listing on a member of another family ------------------------------------

FAMILY_X = """\
    ---
    title: "X {v}"
    slug: /x/{v}
    matrix:
      v: [a, b]
    ---

    Family X.
    """

FAMILY_Y = """\
    ---
    title: "Y {w}"
    slug: /x/a/{w}
    matrix:
      w: [p, q]
    ---

    Family Y.
    """


def test_a_family_listing_on_another_family_s_member_is_a_clash(site):
    """fx.md's members are /x/a/ and /x/b/; fy.md's listing is /x/a/ (its members under
    it). The build is ok and says nothing: output/x/a/index.html is fx.md's member "X a",
    fy.md's listing is gone, and a link to fy.md leads to fx.md's member
    (`_one_family_a_listing` checks a listing against the pages that are no family's
    member only)."""
    site.page("fx.md", FAMILY_X)
    site.page("fy.md", FAMILY_Y)
    site.page("about.md", "---\ntitle: About\n---\nSee [Y](fy.md).\n")
    report = site.build()
    clash = [s for s in said(report) if "fx.md" in s and "fy.md" in s]
    assert clash, (f"no clash reported; x/a/index.html is {title_of(site, 'x/a/index.html')!r}: "
                   f"{said(report)}")


# -- 3. a build service that leaves Dask --------------------------------------------------

def _children() -> dict[int, str]:
    """This process's descendants, pid: command line (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):      # ended meanwhile
            pass
    mine = {os.getpid()}
    while grown := {pid for pid, ppid in parents.items() if ppid in mine} - mine:
        mine |= grown
    found = {}
    for pid in mine - {os.getpid()}:
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")[:120]
        except OSError:
            pass
    return found


def _alive(pids) -> list[int]:
    return [pid for pid in pids if alive(pid)]


def _listening(address: str) -> bool:
    where = urlsplit(address)
    with socket.socket() as s:
        return s.connect_ex((where.hostname, where.port)) == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes in /proc")
def test_a_service_that_leaves_dask_ends_its_local_cluster(site):
    """A BuildService (nbpress serve) with `executor = "dask"` and no scheduler starts a
    LocalCluster (two worker processes and a scheduler) and keeps it between builds. The
    settings are edited to the local executor: the next build runs the code here, and the
    cluster is still running, workers and scheduler, until the service closes
    (`Warm.forget_site` keeps `executor`; nothing closes it when config.executor is no
    longer "dask")."""
    from pipeline.build.service import BuildService

    site.settings('[tool.nbpress]\nexecutor = "dask"\n')
    page = site.page("p.md", code_page('print("v1")'))
    notes: list[str] = []
    before = set(_children())
    with BuildService(site.config(), BuildOptions(in_place=True, on_note=notes.append)) as service:
        assert service.build().ok
        address = next(n for n in notes if "Dask cluster" in n).split(" at ", 1)[1].split()[0]
        address = address.rstrip(",")
        cluster_pids = {pid for pid, line in _children().items() if pid not in before
                        and "resource_tracker" not in line}   # multiprocessing's, for good
        assert cluster_pids and _listening(address)         # the cluster this test watches
        site.settings('[tool.nbpress]\n')                    # back to the local executor
        page.write_text(page.read_text().replace("v1", "v2"))
        report = service.build()
        assert report.ok and report.count_code()[0] == 1, said(report)
        deadline = time.monotonic() + 10
        while (_alive(cluster_pids) or _listening(address)) and time.monotonic() < deadline:
            time.sleep(0.25)
        left = [_children().get(pid, pid) for pid in _alive(cluster_pids)]
        listening = _listening(address)
    assert not left and not listening, (
        f"after the switch to the local executor, the LocalCluster runs on: scheduler at "
        f"{address} {'listening' if listening else 'closed'}, processes still alive {left}")
    assert not _alive(cluster_pids)                 # (closing the service ends them)


# -- 4. a Dask build's second round -------------------------------------------------------

CODE_LINKING = """\
    ---
    title: A
    ---
    See [B](../b/b.md).

    ```python
    import os
    print("ran in", os.getcwd())
    ```
    """


def test_a_page_mended_in_the_second_round_runs_its_code_on_the_cluster(site, cluster):  # noqa: F811
    """content/a/a.md has code and links to content/b/b.md, a prose page whose featured
    image is missing: B fails (no earlier version), and A keeps a dead link to it. The
    image is added and the execution cache is cleared (nothing of A changed, so A is kept
    by the plan); the build is on the Dask cluster. B builds now, so A is built again in
    the engine's second round, and its code must run (the cache misses). The pre-pass that
    decides whether to connect (`pages._sends_job`) saw only B (prose), so the build's
    executor is the InlineExecutor: A's code runs on the build machine, in content/a, and
    no job reaches the cluster."""
    site.page("a/a.md", CODE_LINKING)
    site.page("b/b.md", "---\ntitle: B\nfeaturedImage: fig.png\n---\nWords.\n")
    first = site.build()
    assert [r.source.rel for r in first.failed] == ["b/b"]
    second = site.build()                       # A records the link to B as dead
    assert second.count(Outcome.UNCHANGED) == 1 and [r.source.rel for r in second.failed] == ["b/b"]
    site.file("content/b/fig.png", PNG_1PX)
    shutil.rmtree(site.root / ".nbpress-cache" / "exec")    # A's run is no longer cached
    before = tasks_run(cluster[1])
    notes: list[str] = []
    config = replace(site.config(), executor="dask", scheduler=cluster[0].scheduler_address)
    report = build_site(config, BuildOptions(on_note=notes.append))
    assert report.ok, said(report)
    a = next(r for r in report.results if r.source.rel == "a/a")
    assert a.outcome is Outcome.BUILT and a.reason == "a page it links to built after all"
    assert a.executed                           # the second round ran A's code
    html = (site.root / "output" / "a" / "a" / "index.html").read_text(encoding="utf-8")
    where = html.split("ran in", 2)[-1].split("<", 1)[0].strip()
    assert tasks_run(cluster[1]) - before == 1, (
        f"A's code did not run on the cluster: no job sent, it ran in {where} "
        f"(notes: {notes})")
