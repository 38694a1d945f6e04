"""What a build tells its user: progress while it runs, then problems and a summary (rich)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator

from rich.console import Console
from rich.markup import escape

from pipeline.errors import NbpressError
from pipeline.model import BuildReport, Outcome, PageResult


class Reporter:
    def __init__(self, quiet: bool = False, console: Console | None = None):
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet

    @contextlib.contextmanager
    def progress(self) -> Iterator[Callable[[PageResult], None]]:
        if self.quiet or not self.console.is_terminal:
            yield lambda result: None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                      console=self.console, transient=True) as bar:
            task = bar.add_task("building pages")
            self._bar, self._task, self._jobs = bar, task, ""

            def on_page(result: PageResult) -> None:
                bar.update(task, advance=1,
                           description=f"built {escape(result.source.rel)}"
                                       f"{escape(' [' + result.source.values + ']') if result.source.variant else ''}"
                                       f"{self._jobs}")
            try:
                yield on_page
            finally:
                self._bar = None

    def jobs(self, counts: tuple[int, int, int]) -> None:
        """The cluster's jobs, beside the page being built (`--executor dask`)."""
        queued, running, done = counts
        self._jobs = f"  [dim](Dask: {queued} queued, {running} running, {done} done)[/]"
        if getattr(self, "_bar", None) is not None:
            self._bar.update(self._task, description=self._bar.tasks[0].description.split(
                "  [dim](Dask")[0] + self._jobs)

    def waiting(self, holder) -> None:
        """Said once, even when quiet: a build that waits in silence looks hung."""
        self.console.print(f"[cyan]waiting[/] the site is locked by {escape(str(holder))}; "
                           "this command goes on when that one ends (Ctrl-C to give up, "
                           "--no-wait to fail at once)")

    def note(self, text: str) -> None:
        """Said even when quiet: which site a command acts on is never a detail."""
        self.console.print(f"[cyan]note[/] {escape(text)}")

    def fatal(self, error: NbpressError) -> None:
        self._error(error, "error")

    def summary(self, report: BuildReport, root: Path) -> None:
        for step in report.steps:
            if step.error is not None:
                self._error(step.error, "step failed", "its files are as they were before it ran")
            elif step.ran:
                self.console.print(f"[cyan]step[/] {escape(step.name)} ran ({escape(step.reason)}) "
                                   f"in {step.seconds:.1f} s")
        for note in report.notes:
            self.console.print(f"[cyan]note[/] {escape(_short(note, root))}")
        for warning in report.warnings():
            self.console.print(f"[yellow]warning[/] {escape(_short(warning, root))}")
        said: set[str] = set()          # a family's members that fail alike: said once
        for result in report.failed:
            if str(result.error) in said:
                continue
            said.add(str(result.error))
            self._error(result.error, "failed",
                        "kept the last good version of the page" if result.kept_previous else None)
        self.console.print(summary_line(report, _short(str(report.output), root)))

    def why(self, report: BuildReport, root: Path) -> None:
        for r in report.results:
            code = (" (code ran)" if r.executed else " (code from cache)" if r.cached
                    else " (outputs from its notebook)" if r.twin else "")
            reason = r.reason or (r.error.message if r.error else "draft")
            self.console.print(f"{r.outcome.value:>9}  {escape(_short(r.source.shown, root))}"
                               f"  [dim]{escape(reason)}{code}[/]")

    def status(self, lines, root: Path, coming=()) -> None:
        for line in lines:
            code = f", code {line.code}" if line.code else ""
            colour = {"keep": "green", "build": "yellow", "skip": "dim", "fail": "red"}[line.action]
            self.console.print(f"[{colour}]{line.action:>5}[/]  {escape(line.source)}  "
                               f"[dim]{escape(line.reason)}{code}[/]")
        todo = sum(1 for line in lines if line.action == "build")
        self.console.print(f"{todo} page{'s' * (todo != 1)} to build, "
                           f"{sum(1 for line in lines if line.action == 'keep')} unchanged")
        for change in coming:           # publish: and expires: times still to come
            verb = {"publish": "publishes", "expires": "expires"}.get(
                change.what, "is due to run again (on a scheduled run)")
            self.console.print(f"[cyan]next[/]  {escape(change.when)}  {escape(change.source)} "
                               f"{verb}")

    def synced(self, outcomes, root: Path) -> None:
        changed = [o for o in outcomes if o.action.value != "unchanged"]
        for o in changed:
            colour = "green" if o.ok else "red"
            self.console.print(f"[{colour}]{o.action.value:>16}[/]  {escape(o.pair.rel)}")
            if o.detail:
                self.console.print(f"[dim]{escape(_indent(o.detail))}[/]")
        bad = [o for o in outcomes if not o.ok]
        if any(o.action.value == "conflict" for o in bad):
            self.console.print("  [cyan]fix:[/] both twins of a page changed: keep one side with "
                               "`nbpress sync --prefer md PATH` or `--prefer ipynb PATH`, or "
                               "merge the edits by hand and sync again; nothing was overwritten")
        self.console.print(f"{len(outcomes)} pairs: {len(outcomes) - len(changed)} unchanged, "
                           f"{len(changed) - len(bad)} synced, {len(bad)} need you")

    def removed(self, paths: list[Path], root: Path) -> None:
        for path in paths:
            self.console.print(f"removed {escape(_short(str(path), root))}"
                               + ("" if path.suffix else "/"))
        if not paths:
            self.console.print("nothing to remove")

    def _error(self, error: NbpressError | None, label: str, note: str | None = None) -> None:
        if error is None:
            return
        root = Path.cwd()
        where = _short(error.where(), root) if error.path else ""
        place = f" [bold]{escape(where)}[/]:" if where else ":"
        self.console.print(f"[bold red]{label}[/]{place} {escape(error.message)}")
        if error.detail:
            self.console.print(f"[dim]{escape(_indent(error.detail))}[/]")
        if error.hint:
            self.console.print(f"  [cyan]fix:[/] {escape(error.hint)}")
        if note:
            self.console.print(f"  [dim]{note}[/]")


def summary_line(report: BuildReport, where: str) -> str:
    built, failed = report.count(Outcome.BUILT), report.count(Outcome.FAILED)
    unchanged, skipped = report.count(Outcome.UNCHANGED), report.count(Outcome.SKIPPED)
    ran, cached, twins = report.count_code()
    code = (f" ({ran} ran code, {cached} from cache"
            + (f", {twins} from their notebooks" if twins else "") + ")") if ran or cached or twins else ""
    colour = "red" if failed else "green"
    whys = report.skipped_why()
    why = (f"draft{'s' * (skipped != 1)}" if set(whys) <= {"draft"} else
           ", ".join(f"{n} {'drafts' if w == 'draft' and n != 1 else w}" for w, n in whys.items()))
    return (f"[{colour}]{built} page{'s' * (built != 1)} built[/]{code}, {unchanged} unchanged, "
            f"{skipped} skipped ({why}), "
            f"[{'red' if failed else 'default'}]{failed} failed[/] "
            f"in {report.seconds:.1f} s -> {escape(where)}/")


def _short(text: str, root: Path) -> str:
    prefix = str(root) + "/"
    return text.replace(prefix, "")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


