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
        self.watching = threading.Event()   # set once an edit made now is seen (or the
        self.watch_error: NbpressError | None = None    # watch could not begin: this says why)
        self.server = PreviewServer((host, port), self.config.output, self.events)
        self._building = threading.Lock()   # one build at a time: the first, then the saves'
        self._watcher: threading.Thread | None = None
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def build(self, changed: tuple[Path, ...] = ()) -> Built | None:
        """Build what changed; open pages are told (a reload, and the failures). None when
        the preview is stopping: a build it cut short reports nothing (its pages' workers
        were stopped, not broken)."""
        with self._building:            # (said inside: a build waiting is said after)
            if self.stop.is_set():
                return None
            try:
                built = self._built(changed)
            except BaseException:       # Ctrl-C in this build: no save's build follows it
                self.stop.set()
                raise
            if self.stop.is_set():
                return None
            self.events.publish(failures(built))
            self.on_build(built)
            return built

    @property
    def building(self) -> bool:
        """Whether a build is under way (one that `close()` did not see end)."""
        return self._building.locked()

    def _built(self, changed: tuple[Path, ...]) -> Built:
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
        return dataclasses.replace(built, seconds=time.perf_counter() - started)

    def watch(self, timeout: float = 10) -> bool:
        """Watch the site in a thread (before the first build: a save made while it runs is
        built after it), returning once the watch has begun: True; False when it has not
        after `timeout` seconds (it goes on starting). Raises the error that kept it from
        beginning."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True, name="nbpress-watch")
            self._watcher.start()
        began = self.watching.wait(timeout)
        if self.watch_error is not None:
            raise self.watch_error
        return began

    def start(self) -> None:
        """Serve in a thread, and watch if `watch()` was not called."""
        if self._watcher is None:
            self.watch()
        if self._serving is None:
            self._serving = threading.Thread(target=self.server.serve_forever, daemon=True,
                                             name="nbpress-serve")
            self._serving.start()

    def _watch(self) -> None:
        try:
            watch.on_changes(self.site, self.stop, lambda batch: self.build(tuple(sorted(batch))),
                             self.watching)
        except KeyboardInterrupt:       # Ctrl-C ended a build's page workers: the preview
            self.stop.set()             # stops (the terminal's main thread says it)
        except OSError as exc:          # the system's limit of watches, the folder gone
            self.watch_error = NbpressError(
                f"cannot watch the site for changes: {exc}", self.site.root,
                hint="a folder it cannot read: make it readable, or move it out of the site; "
                     "a limit: raise the system's limits of watched folders and watchers "
                     "(Linux: sudo sysctl fs.inotify.max_user_watches=524288 "
                     "fs.inotify.max_user_instances=1024), close other watching programs, "
                     "or watch by polling: WATCHFILES_FORCE_POLLING=1 nbpress serve")
        except Exception as exc:        # a bug: said, and the preview stops
            self.watch_error = NbpressError(
                f"the watch of the site stopped ({type(exc).__name__}: {exc})", self.site.root,
                hint="this looks like a bug in nbpress: please report it")
        finally:                        # a watch that could not begin does not hold watch()
            self.watching.set()

    def close(self) -> None:
        self.stop.set()
        self.events.close()
        if self._serving is not None:   # shutdown() waits for serve_forever(): only once it
            self.server.shutdown()      # was started (Ctrl-C in the first build)
        self.server.server_close()
        for thread in (self._watcher, self._serving):   # (a build's page code may run on:
            if thread is not None:                      # not waited for long)
                thread.join(timeout=1 if self.building else 5)
        self.service.close()

    def __enter__(self) -> "Preview":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
