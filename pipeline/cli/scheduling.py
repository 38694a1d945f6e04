"""`nbpress schedule` in the terminal: each run's summary and the next wake-up, until Ctrl-C,
SIGTERM or `--runs`; `--emit` prints the schedule for cron, systemd or GitHub Actions."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from pipeline.report import Reporter


def run_schedule(site: Path, every: str | None, cron: str | None, runs: int | None,
                 once: bool, on_failure: str | None, emit_kind: str | None,
                 report: bool = False) -> None:
    from pipeline.cli import _pages_config
    from pipeline.schedule.timing import Timing, duration

    reporter = Reporter()
    config = _pages_config(site, reporter)
    if every is None and cron is None and not once:
        raise click.UsageError("say when: --every 1h, --cron \"0 6 * * *\" (or both), or --once")
    try:
        timing = Timing(duration(every) if every else None, cron, config.zone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every/--cron") from None
    if emit_kind is not None:
        _emit(emit_kind, config, timing, on_failure)
        return
    from pipeline.schedule.runner import Scheduler

    with Scheduler(config, timing, on_failure, said=lambda run: _said(reporter, run, config.root),
                   report=report) as scheduler:
        signal.signal(signal.SIGTERM, lambda *_: scheduler.stop.set())
        try:
            done = scheduler.run(runs=runs, once=once)
        except KeyboardInterrupt:
            sys.exit(130)                   # stopped: not a run that went well
    sys.exit(0 if not once or (done and all(run.ok for run in done)) else 1)


def _emit(kind: str, config, timing, on_failure: str | None) -> None:
    from pipeline.schedule.emit import EmitError, emit

    try:
        click.echo(emit(kind, config, timing, on_failure), nl=False)
    except EmitError as exc:
        raise click.BadParameter(str(exc), param_hint="--emit") from None


def _said(reporter: Reporter, run, root: Path) -> None:
    line = run.line
    if line["catch_up"]:
        reporter.console.print(f"[cyan]catch-up[/] a run was due at {line['catch_up']} "
                               "while none ran: this run makes up for it")
    if run.report is not None:
        reporter.summary(run.report, root)
    elif line.get("report"):
        reporter.console.print(f"{line['built']} pages built, {line['kept']} unchanged, "
                               f"{line['failed']} failed: the report is {line['report']}")
    else:
        reporter.console.print(f"[bold red]run failed[/] {line['error']}")
    reporter.console.print(f"[dim]next run: {line['next'] or 'none scheduled'}[/]")
