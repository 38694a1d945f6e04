"""What the preview watches: every file of the site but its outputs and caches (pages,
notebooks, data beside them, `static/`, `theme/`, images at the root, the settings), with
watchfiles (the only watchfiles user) and a short debounce: an editor's save of one page, in
however many writes, is one build. The watcher says when it watches: the preview announces
itself only then, so an edit made the moment it says "serving" is built."""
from __future__ import annotations

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
    begun: watchfiles watches from the moment its watcher is made, and the first Python it
    runs after is its first quiet wake or its first look at a change (ignored ones too: a
    folder written all the time, `.git` in a fetch, would hold back every quiet wake)."""
    import watchfiles

    def wanted(_, path: str) -> bool:
        watching.set()
        return not ignored(config, path)

    for batch in watchfiles.watch(config.root, watch_filter=wanted, debounce=DEBOUNCE_MS,
                                  step=STEP_MS, stop_event=stop, rust_timeout=READY_MS,
                                  yield_on_timeout=True, raise_interrupt=False,
                                  ignore_permission_denied=True):
        watching.set()
        if batch:
            yield {Path(path) for _, path in batch}


def on_changes(config: SiteConfig, stop: threading.Event,
               then: Callable[[set[Path]], None], watching: threading.Event) -> None:
    """Call `then` with each batch of changes until `stop` is set (a thread's loop)."""
    for batch in changes(config, stop, watching):
        then(batch)
