"""What the preview watches: every file of the site but its outputs and caches (pages,
notebooks, data beside them, `static/`, `theme/`, images at the root, the settings), with
watchfiles (the only watchfiles user) and a short debounce: an editor's save of one page, in
however many writes, is one build. The watcher says when it watches: the preview announces
itself only then, so an edit made the moment it says "serving" is built."""
from __future__ import annotations

import os
import threading
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
    begun (watchfiles watches from the moment its watcher is made: what changes after is seen).

    The site's root is watched alone, and each of its folders the preview builds for (not
    `.venv`, `.git`, the outputs: thousands of folders a repository's site would have had
    watched, seconds before it could begin, and the system's limit of watches) with all that
    is below it; a folder made at the root is watched from then on, before the build its
    making starts. Each watcher wakes every `READY_MS` when nothing changes, and yields every
    change it sees (the ignored are dropped here: dropped by watchfiles, a folder written all
    the time would hold one watcher, and the other, for ever)."""
    import watchfiles

    def watcher(*paths: Path, recursive: bool = True):
        return watchfiles.watch(*paths, watch_filter=None, recursive=recursive,
                                debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop,
                                rust_timeout=READY_MS, yield_on_timeout=True,
                                raise_interrupt=False, ignore_permission_denied=True)

    top, folders = watcher(config.root, recursive=False), _folders(config)
    below = watcher(*folders) if folders else None
    try:
        while True:
            seen, at_root = set(), False
            for source in (top, below):
                batch = next(source, None) if source is not None else set()
                if batch is None:                       # stopped
                    return
                at_root |= source is top and bool(batch)
                seen |= {Path(path) for _, path in batch if not ignored(config, path)}
            if at_root and _folders(config) != folders:     # a folder made, renamed, removed
                if below is not None:
                    below.close()
                folders = _folders(config)
                below = watcher(*folders) if folders else None
            watching.set()
            if seen:
                yield seen
    finally:
        for source in (top, below):
            if source is not None:
                source.close()


def _folders(config: SiteConfig) -> tuple[Path, ...]:
    """The folders at the site's root that the preview builds for."""
    try:
        entries = sorted(os.scandir(config.root), key=lambda entry: entry.name)
    except OSError:
        return ()
    return tuple(Path(e.path) for e in entries
                 if e.is_dir() and not ignored(config, e.path))


def on_changes(config: SiteConfig, stop: threading.Event,
               then: Callable[[set[Path]], None], watching: threading.Event) -> None:
    """Call `then` with each batch of changes until `stop` is set (a thread's loop)."""
    for batch in changes(config, stop, watching):
        then(batch)
