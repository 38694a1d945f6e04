"""A page family's cells tagged `shared` run once, in a template its members' kernels are
forked from (execute/shared.py), through whole builds with real kernels."""
from __future__ import annotations

import os
import re

from pipeline.build.service import BuildService

FAMILY = """\
    ---
    title: "S {team}"
    slug: /s/{team}
    matrix:
      team: [a, b, c]
    params:
      scale: 2
    ---
    ```python tags=["parameters"]
    team = "all"
    scale = 1
    ```

    ```python tags=["shared"]
    import os
    loaded_by = os.getpid()
    data = list(range(10 * scale))
    print("loaded", len(data))
    ```

    ```python
    print(f"team {team}: {len(data)} rows, loaded in {loaded_by}, here {os.getpid()}")
    ```
    """


def shown(site, team: str) -> tuple[str, str, str]:
    html = (site.root / "output" / "s" / team / "index.html").read_text(encoding="utf-8")
    found = re.search(r"team (\w+): (\d+) rows, loaded in (\d+), here (\d+)", html)
    assert found, html
    assert "<pre>loaded 20\n</pre>" in html          # the shared cell's own output, shown
    assert "skip-execution" not in html and "nbpress_shared" not in html
    return found.group(2), found.group(3), found.group(4)


def test_a_shared_cell_runs_once_and_every_member_starts_with_its_variables(site):
    site.page("dash.md", FAMILY)
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert not report.warnings()
    seen = [shown(site, team) for team in "abc"]
    assert {rows for rows, _, _ in seen} == {"20"}              # the family's params: scale 2
    assert len({loader for _, loader, _ in seen}) == 1           # one template for them all
    assert len({here for _, _, here in seen}) == 3               # each member its own kernel
    assert all(loader != here for _, loader, here in seen)


def test_a_shared_cell_that_fails_in_the_template_is_run_by_each_member(site):
    """A cell that needs a kernel (get_ipython) fails in the plain-Python template."""
    site.page("dash.md", FAMILY.replace("loaded_by = os.getpid()",
                                        "loaded_by = os.getpid() + 0 * len(str(get_ipython()))"))
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    (warning,) = report.warnings()
    assert "NameError" in warning and "dash.md" in warning and "each member ran" in warning
    html = (site.root / "output" / "s" / "a" / "index.html").read_text(encoding="utf-8")
    loader, here = re.search(r"loaded in (\d+), here (\d+)", html).groups()
    assert loader == here                       # ran in the member's own kernel
    assert "loaded 20" in html


def test_a_template_does_not_outlive_the_build_of_a_service(site):
    site.page("dash.md", FAMILY)
    with BuildService(site.config()) as service:
        assert service.build().ok
        server = service._warm.server
        assert server is not None and server.alive()
        assert not children_of(server.process.pid)      # templates and kernels gone
        site.page("dash.md", FAMILY.replace("scale: 2", "scale: 3"))
        again = service.build()
        assert again.ok and again.count_code()[0] == 3          # ran again, from a new template
        assert "<pre>loaded 30\n</pre>" in (site.root / "output/s/a/index.html").read_text(
            encoding="utf-8")
        assert not children_of(server.process.pid)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found
