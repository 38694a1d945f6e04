"""What the preview watches: every file of the site but its outputs and caches (pages,
notebooks, data beside them, `static/`, `theme/`, images at the root, the settings), with
watchfiles (the only watchfiles user) and a short debounce: an editor's save of one page, in
however many writes, is one build. The watcher says when it watches: the preview announces
itself only then, so an edit made the moment it says "serving" is built."""
from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from pipeline.config import SiteConfig
from pipeline.files import CACHE_DIR

DEBOUNCE_MS = 60        # how long to gather the writes of one save after the first
STEP_MS = 5             # how long a save is quiet before it is one
READY_MS = 100          # how often the watcher wakes with nothing seen (how soon it says it watches)
IGNORED = {CACHE_DIR, "_freeze", ".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints",
           "node_modules", ".venv", "venv", ".lab", ".bench"}


def ignored(config: SiteConfig, path: str) -> bool:
    """A path the preview does not build for: the outputs (any output folder), caches,
    version control, editors' temporary files."""
    rel = Path(path)
    try:
        parts = rel.relative_to(config.root).parts
    except ValueError:
        return True
    output = config.output
    if not parts or any(rel == folder or folder in rel.parents for folder in (
            output, output.with_name(f".{output.name}.staging"),
            output.with_name(f".{output.name}.old"))):
        return True             # what `nbpress build` writes beside the preview
    name = parts[-1]
    return (any(p in IGNORED for p in parts) or name.endswith(("~", ".swp", ".swx", ".tmp"))
            or name.startswith((".#", "#")) or name == ".DS_Store")


def changes(config: SiteConfig, stop: threading.Event,
            watching: threading.Event) -> Iterable[set[Path]]:
    """Each batch of changed paths, until `stop` is set; `watching` is set once the watch has
    begun (what changes after is seen).

    The site's root is watched alone, and each of its folders the preview builds for (not
    `.venv`, `.git`, the outputs: thousands of folders a repository's site would have had
    watched, seconds before it could begin, and the system's limit of watches) with all that
    is below it, each by a watcher of its own in a thread. When the root's folders change (one
    made, removed, or made again under its name), their watcher ends and one of the new set
    begins, before the build of that change (which reads every folder: a save in between is
    built too)."""
    events: queue.Queue = queue.Queue()
    top, folders, below = _Watcher(events, stop, (config.root,), recursive=False), (), None
    try:
        folders = _folders(config)
        below = _Watcher(events, stop, folders) if folders else None
        if not all(w.begun() for w in (top, below) if w is not None):
            return
        watching.set()
        while not stop.is_set():
            batches = _taken(events)
            if not batches:
                continue
            if any(source is top and _refolded(config, batch, folders)
                   for source, batch in batches):
                if below is not None:       # first: the folders are not watched twice (the
                    below.end()             # system's limits), and the build scans them all
                folders = _folders(config)
                below = _new_watcher(events, stop, folders) if folders else None
                if below is None and folders:
                    return
            seen = {Path(path) for _, batch in batches for _, path in batch
                    if not ignored(config, path)}
            if seen:
                yield seen
    finally:
        for watcher in (top, below):
            if watcher is not None:
                watcher.end()


def _new_watcher(events: queue.Queue, stop: threading.Event, folders: tuple[Path, ...]):
    """A watcher of `folders` that has begun (None: the preview stopped first); the inotify
    instance of the one just ended is let go by the system a moment after its thread ends,
    so making this one may fail a few times at the limit of instances."""
    for attempt in range(6):
        watcher = _Watcher(events, stop, folders)
        try:
            return watcher if watcher.begun() else None
        except OSError:
            watcher.end()
            if attempt == 5:
                raise
            time.sleep(0.1)
    return None


def _taken(events: queue.Queue) -> list[tuple[object, set]]:
    """What the watchers put since the last look (waiting a little for the first); a
    watcher's error is raised here."""
    try:
        taken = [events.get(timeout=READY_MS / 1000)]
    except queue.Empty:
        return []
    while True:
        try:
            taken.append(events.get_nowait())
        except queue.Empty:
            break
    for _, batch in taken:
        if isinstance(batch, BaseException):
            raise batch
    return taken


class _Watcher:
    """One watchfiles watch of `paths`, in a thread, putting (itself, changes) on `events`,
    until the preview stops or `end()`; its error is put there too."""

    def __init__(self, events: queue.Queue, stop: threading.Event, paths: tuple[Path, ...],
                 recursive: bool = True):
        self._events, self._stop, self._ended = events, stop, threading.Event()
        self._began, self.error = threading.Event(), None
        self._thread = threading.Thread(target=self._watch, args=(paths, recursive),
                                        daemon=True, name="nbpress-watcher")
        self._thread.start()

    def is_set(self) -> bool:           # watchfiles' stop event: the preview's, or this one's
        return self._stop.is_set() or self._ended.is_set()

    def begun(self) -> bool:
        """Wait until the watch has begun: True; False when the preview stopped first. Raises
        the error that kept it from beginning."""
        while not (self._began.wait(READY_MS / 1000) or self._stop.is_set()):
            pass
        if self.error is not None:
            raise self.error
        return not self._stop.is_set()

    def end(self) -> None:
        self._ended.set()
        self._thread.join(timeout=2)

    def _watch(self, paths: tuple[Path, ...], recursive: bool) -> None:
        import watchfiles

        try:
            for batch in watchfiles.watch(*paths, watch_filter=None, recursive=recursive,
                                          debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self,
                                          rust_timeout=READY_MS, yield_on_timeout=True,
                                          raise_interrupt=False):
                self._began.set()       # (permission denied is an error: with it ignored,
                if batch:               # so was the system's limit of watches)
                    self._events.put((self, batch))
        except Exception as exc:        # the system's limits; watchfiles' own error for
            if type(exc).__name__ == "WatchfilesRustInternalError":     # inotify's instances
                exc = OSError(f"{exc} (the system's limit of inotify instances or files)")
            if self._began.is_set():    # while watching: the loop raises it
                self._events.put((self, exc))
            self.error = exc            # as it began: `begun` raises it
        finally:
            self._began.set()           # a watch that could not begin does not hold `begun`


def _folders(config: SiteConfig) -> tuple[Path, ...]:
    """The folders at the site's root that the preview builds for."""
    try:
        entries = sorted(os.scandir(config.root), key=lambda entry: entry.name)
    except OSError:
        return ()
    return tuple(Path(e.path) for e in entries if _is_dir(e) and not ignored(config, e.path))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:                     # gone meanwhile
        return False


def _refolded(config: SiteConfig, batch: set, folders: tuple[Path, ...]) -> bool:
    """Whether changes at the root made, removed or replaced one of its folders (a folder
    removed and made again under its name is another: its watch went with the first)."""
    from watchfiles import Change

    return any(change is not Change.modified and not ignored(config, path)
               and (Path(path) in folders or os.path.isdir(path)) for change, path in batch)


def on_changes(config: SiteConfig, stop: threading.Event,
               then: Callable[[set[Path]], None], watching: threading.Event) -> None:
    """Call `then` with each batch of changes until `stop` is set (a thread's loop)."""
    for batch in changes(config, stop, watching):
        then(batch)
