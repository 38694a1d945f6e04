"""Warm forked kernels keep pages isolated; parallel builds give the same site as serial ones."""
from __future__ import annotations

import filecmp
import os
import uuid

import pytest

from tests.conftest import copy_example_site
from tests.e2e.test_processes import MARK, processes_marked

SETTER = """\
---
title: "{name}"
---

```python
import json, sys
json.NBPRESS_MARK = "{name}"
SHARED = "{name}"
sys.modules["nbpress_planted"] = json
print("pid", __import__("os").getpid())
```
"""

CHECKER = """\
---
title: "{name}"
---

```python
import json, sys
print("{name}", hasattr(json, "NBPRESS_MARK"), "SHARED" in globals(), "nbpress_planted" in sys.modules)
```
"""


@pytest.mark.parametrize("isolate", [False, True])
@pytest.mark.parametrize("jobs", [1, 2])
def test_no_page_sees_another_pages_state(site, jobs, isolate):
    for i in range(3):
        site.page(f"a{i}.md", SETTER.format(name=f"a{i}"))
        site.page(f"b{i}.md", CHECKER.format(name=f"b{i}"))
    report = site.build(jobs=jobs, isolate=isolate)
    assert report.ok and sum(r.executed for r in report.results) == 6
    for i in range(3):
        html = (site.root / f"output/b{i}/index.html").read_text(encoding="utf-8")
        assert f"b{i} False False False" in html
    pids = {(site.root / f"output/a{i}/index.html").read_text().split("pid ")[1].split()[0]
            for i in range(3)}
    assert len(pids) == 3 and str(os.getpid()) not in pids       # a process each


def kernel_processes(mark: str) -> list[int]:
    """Kernels and fork servers of this test's builds (their environment carries `mark`;
    other people's kernels on the machine do not count)."""
    return [pid for pid, cmd in processes_marked(mark).items()
            if "pipeline.execute.forkserver" in cmd or "ipykernel" in cmd]


@pytest.mark.parametrize("isolate", [False, True])
def test_no_kernel_or_fork_server_outlives_a_build(site, monkeypatch, isolate):
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)            # the processes a build starts inherit it
    site.page("a.md", SETTER.format(name="a"))
    site.page("b.md", CHECKER.format(name="b"))
    site.page("c.md", "---\ntitle: C\n---\n\n```python\nraise ValueError('x')\n```\n")
    site.build(jobs=2, isolate=isolate)
    assert kernel_processes(mark) == []


def test_serial_and_parallel_builds_write_the_same_site(tmp_path):
    from pipeline.build.engine import BuildOptions, build_site
    from pipeline.config import load_config

    outputs = []
    for jobs in (1, 2):
        root = copy_example_site(tmp_path / f"jobs{jobs}")
        assert build_site(load_config(root), BuildOptions(jobs=jobs)).ok
        outputs.append(root / "output")
    compared = filecmp.dircmp(*outputs, ignore=[".nbpress.json"])

    def differences(cmp) -> list[str]:
        diff = cmp.diff_files + cmp.left_only + cmp.right_only
        return diff + [d for sub in cmp.subdirs.values() for d in differences(sub)]
    assert differences(compared) == []


def test_a_failing_page_in_a_worker_is_reported_like_in_the_build_process(site):
    site.page("bad.md", "---\ntitle: B\n---\n\nx\n\n```python\n1/0\n```\n")
    for i in range(4):
        site.page(f"ok{i}.md", f"---\ntitle: P{i}\n---\n\nText {i}.\n")
    report = site.build(jobs=2)
    (failed,) = report.failed
    assert failed.error.path == site.root / "content/bad.md" and failed.error.line == 8
    assert "ZeroDivisionError" in failed.error.message and failed.error.hint
