"""Build notebooks (`[[tool.nbpress.steps]]`): papermill runs them before the pages when they
changed, when what they read or write changed, when due or with --refresh; a page reading
what one writes follows it; a step that fails puts its files back and fails the pages that
read them, which keep their last good version."""
from __future__ import annotations

import datetime as dt
import json

import nbformat
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.model import Outcome

WRITE = ('import pathlib\nrows = [str(i * scale) for i in range(n)]\n'
         'pathlib.Path(out).write_text("x\\n" + "\\n".join(rows) + "\\n")')
SETTINGS = '''[tool.nbpress]
title = "Steps"
search = false

[[tool.nbpress.steps]]
notebook = "notebooks/_data/make.ipynb"
parameters = {{ n = {n} }}
writes = ["content/p/data.csv"]
reads = ["inputs/*.txt"]
refresh = "6h"
keep = 2
'''


def notebook(path, code: str = WRITE) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("n = 1\nscale = 1\nout = 'content/p/data.csv'",
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def step_site(site):
    site.settings(SETTINGS.format(n=3))
    notebook(site.root / "notebooks" / "_data" / "make.ipynb")
    site.file("inputs/a.txt", "one\n")
    site.page("p/index.md", "---\ntitle: Data\ndepends: [data.csv]\n---\n\n```python\n"
                            "print(open('data.csv').read().split())\n```\n")
    site.page("other.md", "---\ntitle: Other\n---\n\nNo data here.\n")
    return site


def data(site) -> str:
    return (site.root / "content" / "p" / "data.csv").read_text()


def shown(site) -> str:
    return (site.root / "output" / "p" / "index.html").read_text()


def ran(report) -> list[str]:
    return [s.reason for s in report.steps if s.ran]


def test_a_step_runs_before_the_pages_and_is_skipped_while_nothing_it_uses_changed(step_site):
    first = step_site.build()
    assert first.ok and ran(first) == ["never ran"]
    assert data(step_site) == "x\n0\n1\n2\n" and "&#39;2&#39;" in shown(step_site)
    (step,) = first.steps
    assert step.evidence and (step_site.root / step.evidence).is_file()
    executed = nbformat.read(step_site.root / step.evidence, as_version=4)
    assert executed.metadata.papermill["parameters"]["n"] == 3
    again = step_site.build()
    assert again.ok and ran(again) == [] and again.count(Outcome.UNCHANGED) == 2


def test_new_parameters_a_changed_input_or_a_missing_file_run_it_again(step_site):
    assert step_site.build().ok
    step_site.settings(SETTINGS.format(n=4))
    report = step_site.build()
    assert ran(report) == ["its notebook, parameters or the files it reads changed"]
    assert data(step_site).endswith("3\n") and "&#39;3&#39;" in shown(step_site)
    step_site.file("inputs/b.txt", "two\n")                     # a new file it reads
    assert ran(step_site.build()) == ["its notebook, parameters or the files it reads changed"]
    (step_site.root / "content" / "p" / "data.csv").unlink()
    assert ran(step_site.build()) == ["content/p/data.csv is missing"]
    assert ran(step_site.build(refresh=True)) == ["--refresh"]
    kept = list((step_site.root / ".nbpress-cache" / "steps").rglob("*.ipynb"))
    assert len(kept) == 2                                       # keep = 2: the newest


def age_the_record(site, hours: float) -> None:
    """The step's last run as if it were `hours` ago (the clock, not --now, says when)."""
    path = site.root / ".nbpress-cache" / "steps.json"
    record = json.loads(path.read_text())
    for entry in record.values():
        for key in ("ran", "last_good"):
            entry[key] = (dt.datetime.fromisoformat(entry[key])
                          - dt.timedelta(hours=hours)).isoformat()
    path.write_text(json.dumps(record))


def test_refresh_runs_it_again_on_a_scheduled_run_once_it_is_due(step_site):
    assert step_site.build().ok
    age_the_record(step_site, 5)
    assert ran(step_site.build(scheduled=True)) == []
    age_the_record(step_site, 2)
    assert ran(step_site.build()) == []                         # a plain build: not due
    assert ran(step_site.build(scheduled=True))[0].startswith("due")
    far = dt.datetime(2030, 6, 1, tzinfo=dt.timezone.utc)       # --now moves pages, not runs
    assert step_site.build(now=far).ok
    record = json.loads((step_site.root / ".nbpress-cache" / "steps.json").read_text())
    assert all(not entry["ran"].startswith("2030") for entry in record.values())


def test_a_failing_step_puts_its_file_back_and_fails_the_pages_that_read_it(step_site):
    assert step_site.build().ok
    before_data, before_page = data(step_site), shown(step_site)
    notebook(step_site.root / "notebooks" / "_data" / "make.ipynb",
             'open("content/p/data.csv", "w").write("half")\nraise ValueError("API down")')
    report = step_site.build()
    assert not report.ok
    (step,) = report.steps
    assert "ValueError: API down" in step.error.message and step.error.path.name == "make.ipynb"
    assert data(step_site) == before_data                       # put back
    failed = {r.source.rel: r for r in report.results if r.outcome is Outcome.FAILED}
    assert set(failed) == {"p/index"} and failed["p/index"].kept_previous
    assert shown(step_site) == before_page
    assert (step_site.root / "output" / "other" / "index.html").is_file()
    record = json.loads((step_site.root / ".nbpress-cache" / "steps.json").read_text())
    (entry,) = record.values()
    assert entry["ok"] is False
    notebook(step_site.root / "notebooks" / "_data" / "make.ipynb")      # mended
    mended = step_site.build()
    assert mended.ok and ran(mended) == ["failed last time"]


def test_a_step_that_does_not_write_its_file_fails(step_site):
    notebook(step_site.root / "notebooks" / "_data" / "make.ipynb", "x = 1")
    report = step_site.build()
    (step,) = report.steps
    assert not report.ok and "did not write content/p/data.csv" in step.error.message


def test_the_command_runs_steps_with_refresh(step_site):
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--site", str(step_site.root)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["build", "--site", str(step_site.root), "--refresh"])
    assert again.exit_code == 0 and "ran (--refresh)" in again.output


@pytest.mark.parametrize("table, said", [
    ('notebok = "x.ipynb"', "did you mean 'notebook'"),
    ('notebook = "n.ipynb"\nrefresh = "6 hours"', "refresh must be a duration"),
    ('notebook = "n.ipynb"\nwrites = ["../outside.csv"]', "inside the site's folder"),
    ('notebook = "n.ipynb"\nkeep = 0', "keep must be"),
])
def test_a_bad_step_setting_names_it(site, table, said):
    site.settings(f"[tool.nbpress]\n\n[[tool.nbpress.steps]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        site.config()
    assert said in caught.value.detail


def test_one_notebook_in_two_steps_with_other_parameters_is_two_records(step_site):
    step_site.settings(SETTINGS.format(n=3) + '''
[[tool.nbpress.steps]]
notebook = "notebooks/_data/make.ipynb"
parameters = { n = 2, scale = 10, out = "content/p/other.csv" }
writes = ["content/p/other.csv"]
''')
    first = step_site.build()
    assert [s.ran for s in first.steps] == [True, True]
    again = step_site.build()
    assert [s.ran for s in again.steps] == [False, False], [s.reason for s in again.steps]


def test_reads_that_match_what_it_writes_do_not_run_it_every_build(step_site):
    step_site.settings(SETTINGS.format(n=3).replace('reads = ["inputs/*.txt"]',
                                                    'reads = ["content/p/*.csv"]'))
    assert ran(step_site.build()) == ["never ran"]
    assert ran(step_site.build()) == []


def test_a_step_that_deletes_its_file_and_ends_well_has_it_put_back(step_site):
    assert step_site.build().ok
    before = data(step_site)
    notebook(step_site.root / "notebooks" / "_data" / "make.ipynb",
             'import os\nos.remove("content/p/data.csv")')
    report = step_site.build()
    assert not report.ok and data(step_site) == before
    (failed,) = [r for r in report.results if r.outcome is Outcome.FAILED]
    assert failed.source.rel == "p/index" and "content/p/data.csv" in failed.error.message
    assert failed.error.path.name == "index.md"                 # the page, named


def test_a_run_killed_half_way_has_its_files_put_back_and_runs_again(step_site):
    assert step_site.build().ok
    before = data(step_site)
    from pipeline.build.steps import _snapshot
    from pipeline.config import load_config

    config = load_config(step_site.root)
    _snapshot(config, config.steps[0])                          # what a run keeps as it starts,
    (step_site.root / "content" / "p" / "data.csv").write_text("x\n0\n")   # then is killed
    record = step_site.root / ".nbpress-cache" / "steps.json"
    saved = json.loads(record.read_text())
    for entry in saved.values():
        entry.update(ok=False, running=True)
    record.write_text(json.dumps(saved))
    report = step_site.build()
    assert report.ok and ran(report) == ["failed last time"] and data(step_site) == before


def test_writes_naming_a_folder_fail_the_step_with_the_fix(step_site):
    step_site.settings(SETTINGS.format(n=3).replace('writes = ["content/p/data.csv"]',
                                                    'writes = ["content/p"]'))
    report = step_site.build()
    (step,) = report.steps
    assert "a folder" in step.error.message and (step_site.root / "content" / "p").is_dir()
