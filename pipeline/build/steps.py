"""Build notebooks (`[[tool.nbpress.steps]]`): parameterized notebooks that papermill runs
before the pages, in the site's folder, the way Observable's data loaders feed its pages. A
step runs when its code, its parameters or the files it reads changed, when a file it writes
is missing, when it is due (`refresh`, on a scheduled run) or with `--refresh`; otherwise it
is skipped, and the pages use what it wrote last.

Its executed notebook is kept (the newest `keep`) in `.nbpress-cache/steps/<notebook>/` as
evidence. A step that fails leaves the files it writes as they were before it ran (they are
put back), so the pages that read them keep their last good version; the build reports the
step and fails those pages. What each step last did is in `.nbpress-cache/steps.json`."""
from __future__ import annotations

import datetime as dt
import fnmatch
import glob
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.config import SiteConfig, Step
from pipeline.errors import ExecutionError, NbpressError
from pipeline.files import cache_dir, write_atomic
from pipeline.model import Source

RECORD = "steps.json"
EVIDENCE = "steps"


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did in a build."""

    name: str                       # its notebook, from the site's folder
    ran: bool
    reason: str                     # why it ran, or why not
    seconds: float = 0.0
    error: NbpressError | None = None
    writes: tuple[str, ...] = ()
    evidence: str | None = None     # the executed notebook kept, from the site's folder

    @property
    def ok(self) -> bool:
        return self.error is None


def run_steps(config: SiteConfig, *, refresh: bool = False, scheduled: bool = False,
              now: dt.datetime | None = None) -> list[StepResult]:
    """Run the steps that need it, in the order of the settings; record what each did."""
    if not config.steps:
        return []
    now = now or dt.datetime.now(dt.timezone.utc)      # the clock: never `--now`, which
    record = _read_record(config)                       # moves pages, not runs
    results = []
    for step in config.steps:
        _put_back_a_killed_run(config, step)
        key, last = step_key(config, step), record.get(step_id(step), {})
        reason = why_run(config, step, key, last, refresh, scheduled, now)
        if reason is None:
            results.append(StepResult(step.name, False, "unchanged", writes=step.writes))
            continue
        record[step_id(step)] = {**last, "ok": False, "running": True}  # killed now: runs again
        _save_record(config, record)
        result = _run(config, step, reason, now)
        results.append(result)
        record[step_id(step)] = {"key": step_key(config, step) if result.ok else last.get("key", ""),
                                 "ran": now.isoformat(), "ok": result.ok,
                                 "last_good": now.isoformat() if result.ok else last.get("last_good"),
                                 "error": str(result.error) if result.error else None}
        _save_record(config, record)
    return results


def step_id(step: Step) -> str:
    """A step's name in the record: its notebook, and the files it writes (one notebook may
    make many steps with other parameters, as papermill is used; a change of parameters is
    the same step run again)."""
    if not step.writes:
        return step.notebook
    digest = hashlib.sha256("\n".join(sorted(step.writes)).encode())
    return f"{step.notebook}#{digest.hexdigest()[:10]}"


def _save_record(config: SiteConfig, record: dict) -> None:
    write_atomic(cache_dir(config.root) / RECORD, json.dumps(record, indent=1, sort_keys=True))


def failed_by_steps(config: SiteConfig, results: list, steps: tuple, refs: dict) -> list:
    """The results with each page that reads a file of a failed step made failed too: what
    it shows is its last good version (the step's files were put back as they were, so a
    page built again shows the same), and the build says so and exits 1."""
    from pipeline.model import Outcome

    failed = {w: s for s in steps if not s.ok for w in s.writes}
    if not failed:
        return results
    out = []
    for result in results:
        rel = result.source.path.relative_to(config.root).as_posix()
        read = next((w for name in refs.get(rel, {}) for w in _matching(name, failed)), None)
        if read is not None and result.outcome in (Outcome.UNCHANGED, Outcome.BUILT):
            step = failed[read]
            result = replace(result, outcome=Outcome.FAILED, kept_previous=True, error=ExecutionError(
                f"it reads {read}, which the step {step.name} failed to make this build "
                f"({step.error.message})", result.source.path,
                hint="fix the step (its error is above); this page shows its last good version"))
        out.append(result)
    return out


def _matching(ref: str, written: dict) -> list[str]:
    """The files of `written` a page's recorded reference names: the file itself, or a
    pattern of `depends:` (`glob:content/p::*.csv`) that matches it."""
    from pipeline.build.deps import GLOB

    if not ref.startswith(GLOB):
        return [ref] if ref in written else []
    folder, _, pattern = ref[len(GLOB):].partition("::")
    return [w for w in written if fnmatch.fnmatch(w, f"{folder}/{pattern}" if folder else pattern)]


def why_run(config: SiteConfig, step: Step, key: str, last: dict, refresh: bool,
            scheduled: bool, now: dt.datetime) -> str | None:
    """Why the step must run now, or None."""
    if refresh:
        return "--refresh"
    if not last:
        return "never ran"
    if not last.get("ok"):
        return "failed last time"
    if last.get("key") != key:
        return "its notebook, parameters or the files it reads changed"
    missing = next((w for w in step.writes if not (config.root / w).is_file()), None)
    if missing:
        return f"{missing} is missing"
    if scheduled and step.refresh is not None and _age(last.get("last_good"), now) >= step.refresh:
        return f"due: its last run is older than {step.refresh} s"
    return None


def next_due(config: SiteConfig) -> dt.datetime | None:
    """When the first step with a `refresh` is due next (for `nbpress status` and the
    scheduler), or None."""
    return min((when for when, _ in steps_due(config)), default=None)


def steps_due(config: SiteConfig) -> list[tuple[dt.datetime, str]]:
    """(when, notebook) of each step with a `refresh`: that long after its last run (a step
    failing again and again is tried again that long after, not at once)."""
    record, due = _read_record(config), []
    for step in config.steps:
        last = record.get(step_id(step), {})
        when = last.get("ran") or last.get("last_good")
        try:
            moment = dt.datetime.fromisoformat(when) if when else None
        except (TypeError, ValueError):
            moment = None
        if step.refresh is not None and moment is not None and moment.tzinfo is not None:
            due.append((moment + dt.timedelta(seconds=step.refresh), step.name))
    return sorted(due)


def step_key(config: SiteConfig, step: Step) -> str:
    """The step's code, parameters and what it reads, hashed."""
    digest = hashlib.sha256()
    notebook = config.root / step.notebook
    digest.update(notebook.read_bytes() if notebook.is_file() else b"")
    digest.update(json.dumps(step.parameters, sort_keys=True, default=str).encode())
    for path in _read_files(config, step):
        digest.update(path.relative_to(config.root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def _run(config: SiteConfig, step: Step, reason: str, now: dt.datetime) -> StepResult:
    """Run one step; when it fails (or writes nothing) its files are put back as they were."""
    started = time.perf_counter()
    folders = [w for w in step.writes if (config.root / w).is_dir()]
    if folders:
        return StepResult(step.name, True, reason, 0.0, ExecutionError(
            f"its writes name a folder ({', '.join(folders)}), not a file",
            config.config_file or config.root / "pyproject.toml",
            hint="name each file the step writes in `writes`"), step.writes)
    saved = _snapshot(config, step)
    evidence = None
    try:
        executed = _execute(config, step)
        missing = [w for w in step.writes if not (config.root / w).is_file()]
        evidence = _keep(config, step, executed, now)
        if missing:
            raise ExecutionError(
                f"the step ran but did not write {', '.join(missing)}", config.root / step.notebook,
                hint="write each file its `writes` names (paths from the site's folder, where "
                     "the step runs), or correct `writes` in [[tool.nbpress.steps]]")
    except NbpressError as error:
        _restore(config, step, saved)
        return StepResult(step.name, True, reason, time.perf_counter() - started,
                          _as_step_error(error, step), step.writes, evidence)
    finally:
        shutil.rmtree(saved, ignore_errors=True)
    return StepResult(step.name, True, reason, time.perf_counter() - started, None,
                      step.writes, evidence)


def _execute(config: SiteConfig, step: Step):
    """The executed notebook (papermill, through `execute/run.py`), run in the site's folder."""
    from pipeline.execute.run import RunContext, execute
    from pipeline.notebook.convert import to_notebook
    from pipeline.sources.frontmatter import read_source

    path = config.root / step.notebook
    if not path.is_file():
        raise ExecutionError(f"the step's notebook {step.notebook} is not there",
                             config.config_file or config.root / "pyproject.toml",
                             hint="correct `notebook` in [[tool.nbpress.steps]], or add it")
    source = Source(path, path.relative_to(config.root).with_suffix("").as_posix(),
                    "ipynb" if path.suffix == ".ipynb" else "md")
    page = replace(read_source(source), params=dict(step.parameters))
    context = RunContext(build_time=dt.datetime.now(dt.timezone.utc).isoformat(),
                         base_url=config.base_url, scratch=None)
    executed, _ = execute(to_notebook(page, config), page, config, context, cwd=config.root)
    return executed


def _as_step_error(error: NbpressError, step: Step) -> NbpressError:
    hint = (error.hint or "").replace("run the page in Jupyter", "run the notebook in Jupyter") \
        .replace("; the other pages were built", "")
    return type(error)(f"the step {step.name} failed: {error.message}", error.path,
                       line=error.line, detail=error.detail,
                       hint=f"{hint}; the pages that read what it writes keep their last "
                            "good version" if hint else None)


def _snapshot_dir(config: SiteConfig, step: Step) -> Path:
    return _evidence_dir(config, step) / "before-the-run"


def _put_back_a_killed_run(config: SiteConfig, step: Step) -> None:
    """A run killed half-way left its copy of the files as they were: they go back."""
    saved = _snapshot_dir(config, step)
    if saved.is_dir():
        _restore(config, step, saved)
        shutil.rmtree(saved, ignore_errors=True)


def _snapshot(config: SiteConfig, step: Step) -> Path:
    """A copy of the files the step writes, as they are before it runs (kept while it runs:
    a run killed half-way has them put back by the next build)."""
    folder = _snapshot_dir(config, step)
    shutil.rmtree(folder, ignore_errors=True)
    for rel in step.writes:
        source = config.root / rel
        if source.is_file():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _restore(config: SiteConfig, step: Step, saved: Path) -> None:
    for rel in step.writes:
        kept, current = saved / rel, config.root / rel
        if kept.is_file():
            current.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(kept, current)
        elif current.is_file():         # it did not exist before: a half-written one goes
            current.unlink()


def _keep(config: SiteConfig, step: Step, executed, now: dt.datetime) -> str:
    """The executed notebook, kept with the newest `keep` of its step; its path."""
    import nbformat

    folder = _evidence_dir(config, step)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.time_ns():020d}-{now.strftime('%Y%m%dT%H%M%S%z')}.ipynb"  # in run order
    write_atomic(path, nbformat.writes(executed))
    for old in sorted(folder.glob("*.ipynb"))[:-step.keep]:
        old.unlink(missing_ok=True)
    return path.relative_to(config.root).as_posix()


def _evidence_dir(config: SiteConfig, step: Step) -> Path:
    return cache_dir(config.root) / EVIDENCE / step_id(step).replace("/", "__").replace(".", "_")


def _read_files(config: SiteConfig, step: Step) -> list[Path]:
    """The files of `reads`, but those it writes (they change with each run)."""
    found = set()
    for pattern in step.reads:
        found.update(Path(p) for p in glob.glob(str(config.root / pattern), recursive=True))
    written = {(config.root / w).resolve() for w in step.writes}
    return sorted(p for p in found if p.is_file() and p.resolve() not in written
                  and config.root.resolve() in p.resolve().parents)


def _read_record(config: SiteConfig) -> dict:
    try:
        data = json.loads((cache_dir(config.root) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _age(when: str | None, now: dt.datetime) -> float:
    if not when:
        return float("inf")
    try:
        return (now - dt.datetime.fromisoformat(when)).total_seconds()
    except (ValueError, TypeError):
        return float("inf")
