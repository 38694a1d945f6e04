"""Pages built side by side: a pool of forked worker processes, one a core by default.

Workers are forked after the build process has imported the libraries and compiled the
templates, so each starts warm and shares them (copy-on-write); each builds whole pages
(pair, run or reuse code, export, write) and returns small records to the build process,
which alone books results and writes the listings. The pages themselves are never sent:
a worker forks with the list of them and is given index ranges. A worker that dies (out of memory, a
crash in a library) fails the pages it held, with a message; the build never hangs on it.
Workers die with the build process (Linux's parent-death signal): a killed build leaves no
worker behind, running pages or holding files open; Ctrl-C ends them at once.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator

_WORK: Any = None       # set in each worker by _start: (the callable, the build's context,
                        # the items)
_INTERRUPTED: Any = None    # and the pool's flag of Ctrl-C (shared memory)

Work = Callable[[Any, Any], tuple[Any, Any]]    # (item, context) -> (result, written)


def run_pages(todo: list, work: Work, context: Any, jobs: int | None,
              one_at_a_time: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """(item, result, written) for every item of `todo`, `work(item, context)` run in
    forked workers, in completion order. `work` must not raise (it returns a failure).
    `one_at_a_time`: items are long (they run code), so each worker takes one at a time."""
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers <= 1 or not _may_reap():
        for item in todo:
            yield (item, *work(item, context))
        return
    size = 1 if one_at_a_time else max(1, min(32, len(todo) // (workers * 4)))
    chunks = [range(i, min(i + size, len(todo))) for i in range(0, len(todo), size)]
    # Forked, the workers have `todo` as it is here: only index ranges go to them (pickling
    # the pages, their text and all, cost the build process 40 ms a 1000 and each worker 20).
    fork = multiprocessing.get_context("fork")
    interrupted = fork.RawValue("b", 0)     # set by a worker that Ctrl-C ends
    with _reaped_by_the_pool(), ProcessPoolExecutor(
            workers, mp_context=fork, initializer=_start,
            initargs=(work, context, os.getpid(), todo, interrupted)) as pool:
        futures = {pool.submit(_work, chunk): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                try:
                    done = future.result()
                except Exception as exc:      # the worker died: its pages fail, the rest go on
                    if interrupted.value:     # ended by Ctrl-C (the terminal's process group,
                        raise KeyboardInterrupt from None   # a thread's build too): stopped
                    done = [(i, _lost(todo[i], exc), None) for i in futures[future]]
                for index, result, written in done:
                    yield todo[index], result, written
        except BaseException:       # Ctrl-C, or the build stopped: no page is started, and
            pool.shutdown(wait=True, cancel_futures=True)   # none is still writing after it
            raise                   # (on Ctrl-C the workers have ended: `_interrupted`)


def _may_reap() -> bool:
    """Whether a pool can reap its workers: SIGCHLD ignored (a parent's setting, inherited:
    `nbpress` itself resets it, a program calling `build_site` may not) lets the system reap
    them first, and the pool then keeps their pipes, 4 fds a build. Only the main thread can
    set it back for the pool's time (`_reaped_by_the_pool`): built from another thread, the
    pages are built one by one, in this process."""
    return signal.getsignal(signal.SIGCHLD) is not signal.SIG_IGN or \
        threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _reaped_by_the_pool() -> Iterator[None]:
    """SIGCHLD at its default while the pool runs, when it was ignored; then ignored again,
    and the children that ended meanwhile (the caller's too) reaped, as the system would
    have: with it ignored, no one waits for them, and their exit status is not kept."""
    if signal.getsignal(signal.SIGCHLD) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass


def _lost(decision: Any, exc: Exception):
    from pipeline.errors import NbpressError
    from pipeline.model import Outcome, PageResult

    error = NbpressError(f"the worker process building this page stopped ({type(exc).__name__})",
                         decision.page.source.path,
                         hint="it may have run out of memory or crashed in a library: try "
                              "nbpress build --jobs 1, or --isolate")
    return PageResult(decision.page.source, Outcome.FAILED, error=error)


def _start(work: Work, context: Any, parent: int, todo: list, interrupted: Any) -> None:
    from pipeline.files import die_with_parent

    global _WORK, _INTERRUPTED
    die_with_parent(parent)
    _WORK, _INTERRUPTED = (work, context, todo), interrupted
    signal.signal(signal.SIGINT, _interrupted)


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C reaches the whole process group: a worker ends at once, not taking the next
    page (its writes are atomic; the build process reports and releases the lock), and says
    so: its pages are not lost to a crash."""
    _INTERRUPTED.value = 1
    os._exit(128 + signum)


def _work(chunk: range) -> list[tuple[int, Any, Any]]:
    work, context, todo = _WORK
    return [(index, *work(todo[index], context)) for index in chunk]
