"""The executor interface: a Job holds everything one run of a notebook needs, and an
Executor runs jobs, `submit(job) -> Future[Ran]`. The build asks an executor only for cache
misses; where a job runs (this process, a Dask worker) is the executor's business.

A job carries values, not the orchestrator: the notebook, the page it comes from (for error
locations), the working folder, the parameters, the kernel and the timeout, and the files the
run may read (`files`: for an executor on another machine to ship).
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline.config import SiteConfig
from pipeline.model import Page


@dataclass(frozen=True, slots=True)
class Job:
    nb: Any                         # nbformat.NotebookNode, parameters not yet injected
    page: Page
    config: SiteConfig
    run: Any                        # execute.run.RunContext: build time, base URL, kernels
    files: tuple[Path, ...] = field(default=())     # data the code may read
    memory: int = 0                 # bytes its kernel reached last time (`memory: auto`)

    @property
    def cwd(self) -> Path:
        return self.page.source.path.parent

    def __repr__(self) -> str:
        return f"Job({self.page.source.rel!r}, cells={len(self.nb.cells)})"


@dataclass(frozen=True, slots=True)
class Ran:
    """A job's result: the executed notebook and warnings for its page."""

    nb: Any
    warnings: tuple[str, ...] = ()


class Executor(Protocol):
    def submit(self, job: Job) -> "Future[Ran]": ...

    def close(self) -> None: ...


class InlineExecutor:
    """Runs each job at once in the calling process (a page worker of the local pool), with
    the kernels of the job's RunContext (forked from the warm template, or spawned)."""

    def submit(self, job: Job) -> "Future[Ran]":
        from pipeline.execute.run import execute

        future: Future[Ran] = Future()
        try:
            nb, warnings = execute(job.nb, job.page, job.config, job.run)
        except BaseException as exc:        # the caller sees it from future.result()
            future.set_exception(exc)
        else:
            future.set_result(Ran(nb, tuple(warnings)))
        return future

    def close(self) -> None:
        pass
