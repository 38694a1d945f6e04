"""`nbpress schedule`: rebuilds in the foreground, on a schedule (`timing.Timing`), and also at
the next time a page is published or expires and when a build notebook is due. Each run is a
scheduled build in a warm build service (steps past their `refresh` run again, pages with
`execute: always` too, the rest comes from the cache); two builds never overlap (the site's
lock: a manual build waits for a run, a run for a manual build).

A run that fails is logged and the next comes on time: the scheduler never dies of a page,
a step or a broken setting. Each run appends one JSON line to `.nbpress-cache/runs.jsonl`
(its start, duration, pages built, kept and failed, the steps that ran, the failures by
file, the next wake-up), and `on_failure` (a shell command) gets the run's line on its
standard input. When a scheduled time passed since the last logged run (the machine was
off), one catch-up run happens at once, and its line says so."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pipeline.build.engine import BuildOptions
from pipeline.build.service import BuildService
from pipeline.build.steps import next_due
from pipeline.config import SiteConfig
from pipeline.files import cache_dir, parent_death
from pipeline.model import BuildReport, Outcome
from pipeline.schedule.timing import Timing

LOG = "runs.jsonl"
ON_FAILURE_TIMEOUT = 120.0          # seconds a failure command may take
UTC = dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Run:
    """One run, as logged."""

    line: dict
    report: BuildReport | None

    @property
    def ok(self) -> bool:
        return self.line["error"] is None and not self.line["failed"] and self.line["steps_ok"]


def last_run(config: SiteConfig) -> dt.datetime | None:
    """When the last logged run started (a damaged line is passed over)."""
    try:
        lines = (cache_dir(config.root) / LOG).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for text in reversed(lines):
        try:
            return dt.datetime.fromisoformat(json.loads(text)["start"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


class Scheduler:
    """Runs builds of `config` as `timing` says until `stop` is set or `runs` are done."""

    def __init__(self, config: SiteConfig, timing: Timing, on_failure: str | None = None,
                 said: Callable[[Run], None] = lambda run: None, report: bool = False):
        """`report`: each run goes through the report notebook (kept with its HTML)."""
        self.config, self.timing, self.on_failure, self.said = config, timing, on_failure, said
        self.report = report
        self.stop = threading.Event()
        self.service = BuildService(config, BuildOptions(scheduled=True, in_place=True))

    def run(self, runs: int | None = None, once: bool = False) -> list[Run]:
        """The scheduled runs (a catch-up first when one is owed); `once`: one run now."""
        done: list[Run] = []
        last = last_run(self.config)
        missed = None if once else self.timing.missed(last, _now())
        while not self.stop.is_set() and (runs is None or len(done) < runs):
            if once or missed is not None:
                done.append(self.run_once(catch_up=missed))
                missed = None
                if once:
                    break
                continue
            wake = self.next_wake(done[-1].line["start_at"] if done else last)
            if wake is None or self.stop.wait(max(0.0, (wake - _now()).total_seconds())):
                break                   # nothing scheduled, or stopped while waiting
            done.append(self.run_once())
        return done

    def next_wake(self, last: dt.datetime | None) -> dt.datetime | None:
        """The sooner of the schedule, the next page coming or going, a step due."""
        now = _now()
        times = [self.timing.after(now, last), self._next_page_change(), next_due(self.config)]
        return min((t for t in times if t is not None       # a time the last run already
                    and (last is None or t > last)), default=None)   # saw never wakes it

    def run_once(self, catch_up: dt.datetime | None = None) -> Run:
        started, clock = _now(), time.perf_counter()
        report, error, outcome = None, None, None
        try:
            if self.report:
                from pipeline.schedule.report import run_report

                reported = run_report(self.config, scheduled=True)
                outcome = {**reported.outcome, "report": str(reported.notebook)}
            else:
                report = self.service.build()
        except Exception as exc:        # a setting, the lock, a bug: logged, never fatal
            error = f"{type(exc).__name__}: {exc}"
        line = _line(report, error, started, time.perf_counter() - clock, catch_up, outcome)
        line["next"] = _iso(self.next_wake(started))
        run = Run(line, report)
        if not run.ok and self.on_failure:
            line["on_failure"] = self._tell(line)
        self._log(line)
        self.said(run)
        return run

    def _next_page_change(self) -> dt.datetime | None:
        """When a page is next published or expires: the end of the window the last build
        (this service's, or the last one on disk) saw no page come or go in."""
        state = self.service.state
        window = state.window if state is not None else _saved_window(self.config)
        end = window[1] if window else None
        return dt.datetime.fromtimestamp(end, UTC) if isinstance(end, (int, float)) and end else None

    def _log(self, line: dict) -> None:
        path = cache_dir(self.config.root) / LOG
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {k: v for k, v in line.items() if k != "start_at"}
        with path.open("a+b") as f:             # a line cut short (a killed run) ends first
            cut = False
            if f.seek(0, os.SEEK_END) > 0:
                f.seek(-1, os.SEEK_END)
                cut = f.read(1) != b"\n"
            f.write((b"\n" if cut else b"") + json.dumps(record, sort_keys=True).encode() + b"\n")

    def _tell(self, line: dict) -> str:
        """`on_failure` with the run's line on its standard input; what became of it (for
        the run's line), never raised."""
        record = {k: v for k, v in line.items() if k != "start_at"}
        try:
            done = subprocess.run(self.on_failure, shell=True, input=json.dumps(record) + "\n",
                                  text=True, timeout=ON_FAILURE_TIMEOUT, cwd=self.config.root,
                                  preexec_fn=parent_death(os.getpid()))
        except (OSError, subprocess.SubprocessError) as exc:
            return f"failed: {exc}"
        return "told" if done.returncode == 0 else f"failed: exit status {done.returncode}"

    def close(self) -> None:
        self.stop.set()
        self.service.close()

    def __enter__(self) -> "Scheduler":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _saved_window(config: SiteConfig) -> list | None:
    """The window of the last build on disk (its index alone, as the fast path reads it)."""
    from pipeline import __version__
    from pipeline.build import state as statefile
    from pipeline.build.output import output_id
    from pipeline.files import state_dir

    saved = statefile.load(state_dir(config.root, config.output), __version__,
                           output_id(config.output), pages=False)
    return saved.window if saved.build_id else None


def _line(report: BuildReport | None, error: str | None, started: dt.datetime, seconds: float,
          catch_up: dt.datetime | None, outcome: dict | None = None) -> dict:
    if outcome is not None:             # a run through the report notebook
        return {"start": started.isoformat(), "start_at": started, "seconds": round(seconds, 3),
                "built": 0, "kept": 0, "failed": 0, "skipped": 0, "steps": [],
                "steps_ok": True, "failures": {}, **outcome, "error": error,
                "catch_up": _iso(catch_up) if catch_up is not None else None}
    failures = {}
    if report is not None:
        failures = {str(r.source.path): r.error.message for r in report.failed if r.error}
        failures.update({s.name: s.error.message for s in report.steps if s.error})
    count = (lambda outcome: report.count(outcome)) if report is not None else (lambda _: 0)
    return {"start": started.isoformat(), "start_at": started, "seconds": round(seconds, 3),
            "built": count(Outcome.BUILT), "kept": count(Outcome.UNCHANGED),
            "failed": count(Outcome.FAILED), "skipped": count(Outcome.SKIPPED),
            "steps": [s.name for s in report.steps if s.ran] if report is not None else [],
            "steps_ok": report.steps_ok if report is not None else True,
            "failures": failures, "error": error,
            "catch_up": _iso(catch_up) if catch_up is not None else None}


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
