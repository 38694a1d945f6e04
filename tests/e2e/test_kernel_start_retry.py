"""A kernel that dies as it starts (another process took its port between jupyter_client's
pick and the kernel's bind, jupyter_client#487) is started once more, and the page builds;
a kernel that dies every time still fails the page, with the message."""
from __future__ import annotations

import json
import sys

import pytest

WRAPPER = """import os, sys
marker = {marker!r}
if {die_always} or not os.path.exists(marker):
    open(marker, "a").close()
    sys.exit(1)                       # dies before it replies to kernel_info
from ipykernel import kernelapp
sys.argv = ["ipykernel_launcher"] + sys.argv[1:]
kernelapp.launch_new_instance()
"""


@pytest.fixture
def flaky_kernel(tmp_path, monkeypatch):
    def make(die_always: bool):
        spec = tmp_path / "jupyter" / "kernels" / "python-flaky"
        spec.mkdir(parents=True, exist_ok=True)
        wrapper = spec / "wrapper.py"
        wrapper.write_text(WRAPPER.format(marker=str(tmp_path / "started-once"),
                                          die_always=die_always))
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, str(wrapper), "-f", "{connection_file}"],
            "display_name": "Flaky", "language": "python"}))
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return make


def page_with_code(site):
    site.settings('[tool.nbpress]\ntitle = "K"\nsearch = false\nkernel = "python-flaky"\n')
    site.page("p.md", "---\ntitle: P\n---\n\n```python\nprint(6 * 7)\n```\n")


def test_a_kernel_that_dies_as_it_starts_is_started_once_more(site, flaky_kernel):
    flaky_kernel(die_always=False)
    page_with_code(site)
    report = site.build(isolate=True)
    assert report.ok, [str(r.error) for r in report.failed]
    assert "42" in (site.root / "output" / "p" / "index.html").read_text()


def test_a_kernel_that_always_dies_fails_the_page(site, flaky_kernel):
    flaky_kernel(die_always=True)
    page_with_code(site)
    (failed,) = site.build(isolate=True).failed
    assert "Kernel died before replying to kernel_info" in failed.error.message
