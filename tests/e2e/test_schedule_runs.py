"""`nbpress schedule`: runs on time, logs each run, survives failing pages, makes up a run
missed while it was down, wakes when a page is due, tells `--on-failure`, never overlaps
another build, and hands its schedule to cron, systemd and GitHub Actions."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
import time

import pytest
import yaml
from click.testing import CliRunner

from pipeline.build.lock import site_lock
from pipeline.cli import main
from pipeline.schedule.runner import LOG, Scheduler
from pipeline.schedule.timing import Timing, duration

UTC = dt.timezone.utc
GOOD = "---\ntitle: Flaky\n---\n\nFine today.\n"
BROKEN = '---\ntitle: "Flaky\n---\n\nBroken.\n'


@pytest.fixture
def sched_site(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    site.page("stable.md", "---\ntitle: Stable\n---\n\nAlways here.\n")
    return site


def log(site) -> list[dict]:
    path = site.root / ".nbpress-cache" / LOG
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_runs_come_on_time_and_each_is_one_logged_line(sched_site):
    with Scheduler(sched_site.config(), Timing(every=0.2)) as scheduler:
        started = time.monotonic()
        runs = scheduler.run(runs=3)
    assert len(runs) == 3 and time.monotonic() - started >= 0.4
    lines = log(sched_site)
    assert [l["built"] for l in lines] == [2, 0, 0] and [l["kept"] for l in lines] == [0, 2, 2]
    assert all(l["error"] is None and l["failures"] == {} and l["next"] for l in lines)
    starts = [dt.datetime.fromisoformat(l["start"]) for l in lines]
    assert all(b - a >= dt.timedelta(seconds=0.19) for a, b in zip(starts, starts[1:]))


def test_fifty_cycles_with_a_page_failing_every_other_run(sched_site):
    flaky = sched_site.page("flaky.md", GOOD)
    out = sched_site.root / "output"

    def toggle(run):
        flaky.write_text(BROKEN if run.ok else GOOD)       # broken after a good run

    with Scheduler(sched_site.config(), Timing(every=0.02), said=toggle) as scheduler:
        runs = scheduler.run(runs=50)
    assert len(runs) == 50
    failed = [l["failed"] for l in log(sched_site)]
    assert failed == [0, 1] * 25
    assert all("flaky.md" in next(iter(l["failures"])) for l in log(sched_site) if l["failed"])
    assert (out / "stable" / "index.html").is_file() and (out / "flaky" / "index.html").is_file()
    assert "Fine today." in (out / "flaky" / "index.html").read_text()   # its last good version


def test_a_run_missed_while_the_scheduler_was_down_is_made_up_at_once(sched_site):
    path = sched_site.root / ".nbpress-cache" / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    three_hours_ago = dt.datetime.now(UTC) - dt.timedelta(hours=3)
    path.write_text(json.dumps({"start": three_hours_ago.isoformat()}) + "\n")
    started = time.monotonic()
    with Scheduler(sched_site.config(), Timing(every=3600)) as scheduler:
        threading.Timer(30, scheduler.stop.set).start()     # never an hour's wait in a test
        (run,) = scheduler.run(runs=1)
    assert time.monotonic() - started < 30
    assert run.line["catch_up"] is not None and run.line["built"] == 2
    assert log(sched_site)[-1]["catch_up"] == run.line["catch_up"]


def test_the_scheduler_wakes_when_a_page_is_published(sched_site):
    soon = dt.datetime.now(UTC) + dt.timedelta(seconds=2)
    sched_site.page("post.md", f'---\ntitle: Post\npublish: "{soon.isoformat()}"\n---\n\nNew.\n')
    assert sched_site.build().ok and not (sched_site.root / "output" / "post").exists()
    with Scheduler(sched_site.config(), Timing(every=3600)) as scheduler:
        threading.Timer(30, scheduler.stop.set).start()     # never an hour's wait in a test
        (run,) = scheduler.run(runs=1)
    assert dt.datetime.fromisoformat(run.line["start"]) >= soon
    assert (sched_site.root / "output" / "post" / "index.html").is_file()


def test_a_failed_run_tells_the_failure_command_on_its_standard_input(sched_site):
    sched_site.page("bad.md", BROKEN)
    told = sched_site.root / "told.json"
    with Scheduler(sched_site.config(), Timing(every=3600), on_failure=f"cat > {told}") as s:
        (run,) = s.run(once=True)
    assert not run.ok
    said = json.loads(told.read_text())
    assert said["failed"] == 1 and any(k.endswith("bad.md") for k in said["failures"])


def test_a_broken_setting_is_a_failed_run_and_the_next_one_comes(sched_site):
    def mend(run):
        if not run.ok:
            sched_site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')

    with Scheduler(sched_site.config(), Timing(every=0.05), said=mend) as scheduler:
        sched_site.settings('[tool.nbpress]\ntitle = 3\n')
        runs = scheduler.run(runs=2)
    assert not runs[0].ok and "title" in runs[0].line["error"] and runs[1].ok


def test_a_run_waits_for_a_build_that_holds_the_site(sched_site):
    config = sched_site.config()
    held = threading.Event()

    def hold():
        with site_lock(config.root):
            held.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    with Scheduler(config, Timing(every=3600)) as scheduler:
        (run,) = scheduler.run(once=True)
    holder.join()
    assert run.ok and run.line["seconds"] >= 0.9


def test_once_from_the_command_line_exits_1_when_the_run_failed(sched_site):
    runner = CliRunner()
    good = runner.invoke(main, ["schedule", "--once", "--site", str(sched_site.root)])
    assert good.exit_code == 0, good.output
    sched_site.page("bad.md", BROKEN)
    bad = runner.invoke(main, ["schedule", "--once", "--site", str(sched_site.root)])
    assert bad.exit_code == 1 and "next run" in bad.output
    nothing = runner.invoke(main, ["schedule", "--site", str(sched_site.root)])
    assert nothing.exit_code == 2 and "--every" in nothing.output


def test_the_schedule_is_written_for_cron_systemd_and_github_actions(sched_site):
    runner = CliRunner()
    root = str(sched_site.root)
    cron = runner.invoke(main, ["schedule", "--site", root, "--every", "15m", "--emit", "cron"])
    assert cron.exit_code == 0
    line = cron.output.strip().splitlines()[-1]
    assert line.startswith("*/15 * * * * ") and "schedule --once --site" in line
    unit = runner.invoke(main, ["schedule", "--site", root, "--cron", "30 6 * * 1-5",
                                "--emit", "systemd"])
    assert unit.exit_code == 0 and "Type=oneshot" in unit.output
    calendar = next(l for l in unit.output.splitlines() if l.startswith("OnCalendar="))
    if shutil.which("systemd-analyze"):
        checked = subprocess.run(["systemd-analyze", "calendar", calendar.split("=", 1)[1]],
                                 capture_output=True, text=True)
        assert checked.returncode == 0 and "Mon..Fri *-*-* 06:30:00" in checked.stdout
    flow = runner.invoke(main, ["schedule", "--site", root, "--cron", "0 6 * * *",
                                "--emit", "github-actions"])
    workflow = yaml.safe_load(flow.output)
    assert workflow[True]["schedule"] == [{"cron": "0 6 * * *"}]      # YAML reads `on` as True
    steps = [s.get("run", s.get("uses")) for s in workflow["jobs"]["build"]["steps"]]
    assert "nbpress schedule --once --site ." in steps
    assert any(str(s).startswith("actions/upload-pages-artifact") for s in steps)
    odd = runner.invoke(main, ["schedule", "--site", root, "--every", "7m", "--emit", "cron"])
    assert odd.exit_code == 2 and "--cron" in odd.output
    bad = runner.invoke(main, ["schedule", "--site", root, "--cron", "every day"])
    assert bad.exit_code == 2 and "cron expression" in bad.output


@pytest.mark.parametrize("text, seconds", [("1h", 3600), ("30m", 1800), ("1d12h", 129600),
                                           ("200ms", 0.2), ("1.5s", 1.5)])
def test_durations(text, seconds):
    assert duration(text) == pytest.approx(seconds)


def test_a_cron_schedule_owes_a_catch_up_only_when_a_time_passed():
    timing = Timing(cron="0 6 * * *")
    last = dt.datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
    assert timing.missed(last, dt.datetime(2026, 12, 2, 5, 0, tzinfo=UTC)) is None
    assert timing.missed(last, dt.datetime(2026, 12, 2, 7, 0, tzinfo=UTC)) == \
        dt.datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    assert timing.after(dt.datetime(2026, 12, 2, 7, 0, tzinfo=UTC)) == \
        dt.datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def test_a_failing_step_due_again_is_tried_again_after_its_refresh_not_at_once(site):
    import nbformat

    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n\n[[tool.nbpress.steps]]\n'
                  'notebook = "notebooks/_data/s.ipynb"\nwrites = ["content/d.csv"]\n'
                  'refresh = "1h"\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("open('content/d.csv', 'w').write('x')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    (site.root / "notebooks" / "_data").mkdir(parents=True)
    nbformat.write(nb, site.root / "notebooks" / "_data" / "s.ipynb")
    assert site.build().ok                              # it ran well once, two hours ago
    record = site.root / ".nbpress-cache" / "steps.json"
    saved = json.loads(record.read_text())
    two_hours_ago = (dt.datetime.now(UTC) - dt.timedelta(hours=2)).isoformat()
    for entry in saved.values():
        entry.update(ran=two_hours_ago, last_good=two_hours_ago)
    record.write_text(json.dumps(saved))
    nb.cells = [nbformat.v4.new_code_cell("raise ValueError('the API is down')")]
    nbformat.write(nb, site.root / "notebooks" / "_data" / "s.ipynb")
    with Scheduler(site.config(), Timing(every=3600)) as scheduler:
        threading.Timer(6, scheduler.stop.set).start()
        runs = scheduler.run(runs=5)
    assert len(runs) == 1 and not runs[0].ok            # then it waits an hour, not 0 s


def test_emitted_schedules_keep_percent_signs_dollars_and_colons(sched_site):
    runner = CliRunner()
    root = str(sched_site.root)
    command = 'mail -s "build of $(date +%F): failed" me@example.org'
    cron = runner.invoke(main, ["schedule", "--site", root, "--cron", "0 6 * * *",
                                "--on-failure", command, "--emit", "cron"])
    assert "\\%F" in cron.output and "+%F" not in cron.output.replace("\\%F", "")
    unit = runner.invoke(main, ["schedule", "--site", root, "--cron", "0 6 */2 * *",
                                "--on-failure", command, "--emit", "systemd"])
    assert "%%F" in unit.output and "$$(date" in unit.output
    calendar = next(l for l in unit.output.splitlines() if l.startswith("OnCalendar="))
    if shutil.which("systemd-analyze"):
        checked = subprocess.run(["systemd-analyze", "calendar", calendar.split("=", 1)[1]],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    flow = runner.invoke(main, ["schedule", "--site", root, "--cron", "0 6 * * *",
                                "--on-failure", command, "--emit", "github-actions"])
    steps = [s.get("run") for s in yaml.safe_load(flow.output)["jobs"]["build"]["steps"]]
    assert f"nbpress schedule --once --site . --on-failure '{command}'" in steps
    for bad in (["--cron", "0 6 * * * 30"], ["--cron", "30 2 1 * 1", "--emit", "systemd"],
                ["--cron", "0 6 * * *", "--every", "1h", "--emit", "cron"]):
        refused = runner.invoke(main, ["schedule", "--site", root, *bad] +
                                ([] if "--emit" in bad else ["--emit", "cron"]))
        assert refused.exit_code == 2, (bad, refused.output)


def test_a_line_cut_short_is_ended_and_the_failure_command_s_fate_is_logged(sched_site):
    path = sched_site.root / ".nbpress-cache" / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"start": "2026-12-01T00:00:00+00:00", "built"')     # a killed run's
    sched_site.page("bad.md", BROKEN)
    with Scheduler(sched_site.config(), Timing(every=3600), on_failure="exit 3") as scheduler:
        (run,) = scheduler.run(once=True)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["on_failure"] == "failed: exit status 3"
