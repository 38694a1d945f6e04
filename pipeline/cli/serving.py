"""`nbpress serve` in the terminal: the first build, the address, each rebuild as it
happens (what changed, how long, what failed), until Ctrl-C or SIGTERM."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from pipeline.report import Reporter


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
            preview.build()
        except _errors() as error:       # what the service cannot build at all
            reporter.fatal(error)
            sys.exit(2)
        preview.start()
        reporter.console.print(f"serving [bold]{preview.url}[/] (drafts shown; Ctrl-C to stop)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            reporter.console.print(f"[yellow]warning[/] serving on {host}: other machines can "
                                   "see this preview, drafts and pages not yet published too")
        if open_browser:
            import webbrowser

            webbrowser.open(preview.url)
        signal.signal(signal.SIGTERM, lambda *_: preview.stop.set())
        try:
            while not preview.stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    reporter.console.print("stopped")


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
