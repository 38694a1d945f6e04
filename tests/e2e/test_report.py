"""The report notebook: papermill runs it as it is, it builds the site through the API and
shows pages built, kept and failed, the slowest, the steps, every failure with its traceback
and what is due next; `nbpress build --report` and `schedule --report` keep it with its HTML."""
from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.schedule.report import NOTEBOOK

REPO = Path(__file__).resolve().parents[2]
PAPERMILL = Path(sys.executable).with_name("papermill")


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "td"

    def handle_data(self, data):
        if self._in:
            self.cells.append(data)

    def handle_endtag(self, tag):
        self._in = False


def table_cells(nb) -> list[str]:
    parser = _Cells()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parser.feed(output.get("data", {}).get("text/html", ""))
    return parser.cells


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def small_site(site):
    site.settings('[tool.nbpress]\ntitle = "R"\nsearch = false\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    site.page("soon.md", '---\ntitle: Soon\npublish: "2999-01-01"\n---\n\nLater.\n')
    site.page("bad.md", "---\ntitle: Bad\n---\n\n```python\nraise ValueError('boom here')\n```\n")
    return site


def test_papermill_runs_the_report_as_it_is(site):
    small_site(site)
    out = site.root / "out.ipynb"
    done = subprocess.run([str(PAPERMILL), str(REPO / "notebooks" / "_report.ipynb"), str(out),
                           "-p", "site", str(site.root)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    cells = table_cells(nb)
    assert "built" in cells and "failed" in cells and "bad" in cells     # outcomes, slowest
    assert "ValueError: boom here" in printed(nb)                       # the traceback
    assert "soon.md" in " ".join(cells) and "publish" in cells          # due next


def test_build_report_keeps_the_notebook_and_its_html_and_exits_1_on_a_failure(site):
    small_site(site)
    result = CliRunner().invoke(main, ["build", "--report", "--site", str(site.root)])
    assert result.exit_code == 1, result.output
    reports = site.root / ".nbpress-cache" / "reports"
    (notebook,) = reports.glob("*.ipynb")
    assert notebook.with_suffix(".html").is_file()
    assert "1 failed" in result.output and str(notebook) in result.output.replace("\n", "")
    (site.root / "content" / "bad.md").unlink()
    again = CliRunner().invoke(main, ["build", "--report", "--site", str(site.root)])
    assert again.exit_code == 0, again.output


def test_a_scheduled_run_through_the_report_logs_where_it_is(site):
    small_site(site)
    (site.root / "content" / "bad.md").unlink()
    result = CliRunner().invoke(main, ["schedule", "--once", "--report", "--site", str(site.root)])
    assert result.exit_code == 0, result.output
    line = json.loads((site.root / ".nbpress-cache" / "runs.jsonl").read_text().splitlines()[-1])
    assert line["report"].endswith(".ipynb") and Path(line["report"]).is_file()
    assert line["built"] == 1 and line["skipped"] == 1


def test_the_sites_report_is_the_one_nbpress_ships():
    ours, shipped = (nbformat.read(p, as_version=4) for p in (REPO / "notebooks" / "_report.ipynb",
                                                              NOTEBOOK))
    assert [c.source for c in ours.cells] == [c.source for c in shipped.cells]
    (parameters,) = [c for c in shipped.cells if "parameters" in c.metadata.get("tags", [])]
    for name in ("site", "output", "drafts", "pages", "force"):
        assert f"{name} = " in parameters.source
