"""`nbpress serve`: build the site, serve it, and build again what each save changes, in a
warm build service; open pages reload, and what a build failed on shows over them.

The preview builds into its own folder, `.nbpress-cache/preview/site` (with its own build
state beside it), never into `output/`: it shows drafts and pages not yet or no longer
published, which must not reach a folder that gets deployed. Its code results come from the
same execution cache as `nbpress build`'s. Nothing outlives it: `close()` stops the server,
the watcher and the service's kernels, and the lock is held only while a build runs.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Callable

from pipeline.build.engine import BuildOptions
from pipeline.build.service import BuildService
from pipeline.config import SiteConfig
from pipeline.errors import ConfigError, NbpressError
from pipeline.files import CACHE_DIR
from pipeline.live import watch
from pipeline.live.server import Events, PreviewServer
from pipeline.model import BuildReport

PREVIEW_DIR = f"{CACHE_DIR}/preview/site"
OPTIONS = BuildOptions(drafts=True, in_place=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Built:
    """One build of the preview: its report, or the error that stopped it; when it ended."""

    report: BuildReport | None
    error: NbpressError | None
    seconds: float
    changed: tuple[Path, ...] = ()


def preview_config(config: SiteConfig) -> SiteConfig:
    """The site's settings with the preview's own output folder."""
    return dataclasses.replace(config, output_dir=PREVIEW_DIR)


def failures(built: Built) -> list[dict[str, object]]:
    """What the overlay shows: the error that stopped the build, or each failed page's."""
    errors = [built.error] if built.error is not None else [
        r.error for r in (built.report.failed if built.report else ()) if r.error is not None]
    return [{"where": e.where(), "message": e.message, "detail": e.detail or "",
             "hint": e.hint or ""} for e in errors]


class Preview:
    """A warm build service, a web server of its output, a watcher of the site."""

    def __init__(self, config: SiteConfig, host: str = "127.0.0.1", port: int = 8000,
                 on_build: Callable[[Built], None] = lambda built: None):
        self.site = config                  # the site's own settings: what is watched
        self.config = preview_config(config)
        self.service = BuildService(self.config, OPTIONS, adjust=preview_config)
        self.events = Events()
        self.on_build = on_build
        self.stop = threading.Event()
        self.watching = threading.Event()   # set once an edit made now is seen
        self.server = PreviewServer((host, port), self.config.output, self.events)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return self.server.url

    def build(self, changed: tuple[Path, ...] = ()) -> Built:
        """Build what changed; open pages are told (a reload, and the failures)."""
        started = time.perf_counter()
        try:
            built = Built(self.service.build(), None, 0.0, changed)
        except (ConfigError, NbpressError) as error:     # the settings, the lock, the output
            built = Built(None, error, 0.0, changed)
        except Exception as exc:        # a bug: said, and the preview goes on watching
            built = Built(None, NbpressError(
                f"the build stopped ({type(exc).__name__}: {exc})", self.config.root,
                hint="this looks like a bug in nbpress: please report it; save again to "
                     "build again"), 0.0, changed)
        built = dataclasses.replace(built, seconds=time.perf_counter() - started)
        self.events.publish(failures(built))
        self.on_build(built)
        return built

    def start(self) -> None:
        """Serve and watch in threads, returning once the watch has begun (or it could not in
        10 s); the first build must have been made."""
        for target in (self.server.serve_forever, self._watch):
            thread = threading.Thread(target=target, daemon=True, name=f"nbpress-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        self.watching.wait(10)

    def _watch(self) -> None:
        try:
            watch.on_changes(self.site, self.stop, lambda batch: self.build(tuple(sorted(batch))),
                             self.watching)
        finally:                        # a watch that could not begin does not hold start()
            self.watching.set()

    def close(self) -> None:
        self.stop.set()
        self.events.close()
        if self._threads:               # shutdown() waits for serve_forever(): only once
            self.server.shutdown()      # it was started (Ctrl-C in the first build)
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.service.close()

    def __enter__(self) -> "Preview":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
