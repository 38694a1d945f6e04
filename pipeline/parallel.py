"""Pages built side by side: a pool of forked worker processes, one a core by default.

Workers are forked after the build process has imported the libraries and compiled the
templates, so each starts warm and shares them (copy-on-write); each builds whole pages
(pair, run or reuse code, export, write) and returns small records to the build process,
which alone books results and writes the listings.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Any, Iterator

_CONTEXT: Any = None    # set in each worker by _start: the build's shared context


def run_pages(todo: list, context: Any, jobs: int | None) -> Iterator[tuple[Any, Any, Any]]:
    """(decision, result, written) for every decision in `todo`, in completion order."""
    from .build import build_one

    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers <= 1:
        for decision in todo:
            yield (decision, *build_one(decision, context))
        return
    runs_code = context.run.kernel_manager is not None
    chunk = 1 if runs_code else max(1, min(32, len(todo) // (workers * 4)))
    pool = multiprocessing.get_context("fork").Pool(workers, _start, (context,))
    try:
        for index, result, written in pool.imap_unordered(_work, enumerate(todo), chunk):
            yield todo[index], result, written
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _start(context: Any) -> None:
    global _CONTEXT
    _CONTEXT = context


def _work(item: tuple[int, Any]) -> tuple[int, Any, Any]:
    from .build import build_one

    index, decision = item
    return (index, *build_one(decision, _CONTEXT))
