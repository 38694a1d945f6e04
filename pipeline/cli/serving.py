"""`nbpress serve` in the terminal: the first build, the address, each rebuild as it
happens (what changed, how long, what failed), until Ctrl-C or SIGTERM."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from pipeline.cli.process import abandon
from pipeline.report import Reporter

WATCH_WAIT = 10     # seconds the first build waits for the watch to begin


def run_preview(site: Path, host: str, port: int, open_browser: bool) -> None:
    from pipeline.cli import _errors, _pages_config
    from pipeline.live.preview import Preview

    reporter = Reporter()
    config = _pages_config(site, reporter)
    try:
        preview = Preview(config, host, port, on_build=lambda built: _said(reporter, built, config.root))
    except OSError as exc:
        reporter.console.print(f"[bold red]error[/] cannot serve on {host}:{port}: "
                               f"{exc.strerror or exc}")
        reporter.console.print(f"  [cyan]fix:[/] another program uses the port: nbpress serve "
                               f"--port {port + 1 if port else 8001} (or --port 0 for any free one)")
        sys.exit(2)
    with preview:
        try:
            if not preview.watch(WATCH_WAIT):
                _watch_late(reporter, preview)
            preview.build()
        except _errors() as error:       # what the service cannot build at all, the watch
            reporter.fatal(error)
            sys.exit(2)
        signal.signal(signal.SIGTERM, lambda *_: preview.stop.set())    # before it says so
        preview.start()
        reporter.console.print(f"serving [bold]{preview.url}[/] (drafts shown; Ctrl-C to stop)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            reporter.console.print(f"[yellow]warning[/] serving on {host}: other machines can "
                                   "see this preview, drafts and pages not yet published too")
        if open_browser:
            import webbrowser

            webbrowser.open(preview.url)
        try:
            while not preview.stop.wait(0.5) and preview.watch_error is None:
                pass
        except KeyboardInterrupt:
            preview.stop.set()          # a rebuild cut short by it reports nothing
    if preview.watch_error is not None:     # the watch ended: saves would not be built
        reporter.fatal(preview.watch_error)
        sys.exit(2)
    if preview.building:        # a page's code still runs: its workers and kernels end with
        reporter.console.print("stopped (the build under way is left unfinished)")   # this
        abandon(0)              # process (their parent's death), as a killed build's do
    reporter.console.print("stopped")


def _watch_late(reporter: Reporter, preview) -> None:
    """The watch has not begun (a large folder tree, a slow disk): said now, and when it has."""
    reporter.console.print(f"[yellow]warning[/] the watch of the site's folders has not begun "
                           f"after {WATCH_WAIT} s: what is saved until it has is built when it "
                           "begins (this says when)")

    def began() -> None:
        preview.watching.wait()
        if preview.watch_error is None and not preview.stop.is_set():
            reporter.console.print("watching the site for changes")
            preview.build()             # what was saved before it began

    threading.Thread(target=began, daemon=True, name="nbpress-watch-late").start()


def _said(reporter: Reporter, built, root: Path) -> None:
    """One build of the preview, in the terminal: what changed, then as `nbpress build`."""
    if built.changed:
        names = ", ".join(str(p.relative_to(root)) if root in p.parents else str(p)
                          for p in built.changed[:3])
        more = f" and {len(built.changed) - 3} more" if len(built.changed) > 3 else ""
        reporter.console.print(f"[dim]changed: {names}{more} (built in "
                               f"{built.seconds * 1000:.0f} ms)[/]")
    if built.error is not None:
        reporter.fatal(built.error)
    elif built.report is not None:
        reporter.summary(built.report, root)
