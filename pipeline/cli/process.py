"""How the `nbpress` program ends: as any program, but without tearing down its heap.

A build leaves tens of thousands of objects (pages, HTML, the site model) that Python frees
one by one at exit: 60-190 ms of a 1000-page build, for nothing, since the process ends.
Like mypy's fast exit, `run` flushes the streams, runs the atexit functions (logging,
multiprocessing's children, temporary folders) and ends with `os._exit`. If a thread that
Python would wait for is still alive, the ordinary exit does the waiting instead.

It also begins as a program should: an ignored SIGCHLD, which survives exec (a supervisor's
setting, a parent's `preexec_fn`), is set back to the default. With it ignored the system reaps
the page workers before their pool can, and the pool keeps its pipes: 4 fds a rebuild, until a
long preview runs out of them.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading


def run() -> None:
    """The console entry point: the `nbpress` command group, then a quick exit."""
    from pipeline.cli import main

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        main()
    except SystemExit as done:
        end(done.code)


def end(code: object) -> None:
    """Exit with `code` as `sys.exit` would, skipping only the freeing of objects."""
    if _waited_for():
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    _flush()
    atexit._run_exitfuncs()
    _flush()                            # what an exit function printed
    os._exit(status & 0xFF)


def abandon(code: int) -> None:
    """Exit with `code` now, the streams flushed, no exit function run: a thread still works
    (a build whose pool multiprocessing's own exit function would wait for, for ever). The
    processes it started die with this one (their parent's death); the site's lock goes with
    it; the next build removes its scratch folder."""
    _flush()
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is None:              # closed when the program began: nothing to flush
            continue
        try:
            stream.flush()
        except (OSError, ValueError):        # a closed pipe: nothing more can be said
            pass


def _waited_for() -> bool:
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())
