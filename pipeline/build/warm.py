"""What a build service keeps from one build to the next: the exporter, the compiled
layout, the kernel fork server, the Dask executor, and what the last build read."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.config import SiteConfig
from pipeline.execute.base import Executor


@dataclass(slots=True)
class Warm:
    """What a build service keeps from one build to the next (`build/service.py`): the
    exporter, and the kernel fork server. A plain build starts with an empty one."""

    exporter: Any = None            # render.export.Exporter
    layout: Any = None              # site.layout.Layout (its compiled templates)
    server: Any = None              # execute.kernels.ForkServer
    # Sources read by the last build: (mtime_ns, size, ctime_ns, inode) and what was read,
    # so an unchanged file is not read, hashed and validated again.
    read: dict[str, tuple[tuple[int, int, int, int], Any]] = field(default_factory=dict)
    # The last discovery, and the stamps it was made from (`discovery`).
    found: tuple[dict[str, list[int]], Any] | None = None
    git: dict[str, Any] = field(default_factory=dict)     # the last git dates and HEAD's stamp
    executor: Any = None            # execute.distributed.DaskExecutor, once one is needed

    def discovery(self, config: SiteConfig, seen: dict[str, list[int]]):
        """`scan(config)`, again only when it could differ: when a file came or went, or a
        notebook or sync's record changed (they decide what is a twin). An edited page
        changes neither."""
        from pipeline.sources.discover import scan

        if self.found is not None and _same_files(self.found[0], seen):
            return self.found[1]
        self.found = (seen, scan(config))
        return self.found[1]

    def dask(self, config: SiteConfig, on_note: Any = None) -> Executor:
        """The Dask executor, kept from build to build (a LocalCluster starts once)."""
        self.executor = _dask(config, on_note, self.executor)
        return self.executor

    def settle(self, config: SiteConfig) -> None:
        """A Dask executor these settings no longer use (another executor, another
        scheduler) is closed now: its LocalCluster must not run on until the service ends."""
        if self.executor is not None and (config.executor != "dask"
                                          or self.executor.address != (config.scheduler or None)):
            self.executor.close()
            self.executor = None

    def fork_server(self):
        from pipeline.execute.kernels import ForkServer

        if self.server is None or not self.server.alive():
            self.server = ForkServer().start()
        return self.server

    def forget_site(self) -> None:
        """The settings changed: what was made from them is made again (the layout holds
        the site's title and nav; discovery, its folders)."""
        self.layout, self.found = None, None
        self.read.clear()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None
        if self.server is not None:
            self.server.stop()
            self.server = None


def _dask(config: SiteConfig, on_note: Any, kept: Executor | None) -> Executor:
    """Pages' code on a Dask cluster, connected (or a LocalCluster started) in the build
    process, before its page workers fork; `kept`: a service's, reused when it is the
    same cluster."""
    from pipeline.execute.distributed import DaskExecutor

    if kept is not None and kept.address == (config.scheduler or None) and kept.alive():
        executor = kept
    else:
        if kept is not None:
            kept.close()
        executor = DaskExecutor(config.scheduler or None).start()
    if on_note is not None:
        link = executor.dashboard_link
        workers = executor.worker_count()
        on_note(f"pages' code runs on the Dask cluster at {executor.scheduler}"
                + (f" (dashboard: {link})" if link else "") + (
                    f", {workers} workers" if workers else ": it has no worker yet, and its "
                    f"pages wait for one (start them: dask worker {executor.scheduler} "
                    "--nthreads 1 --preload pipeline.execute.distributed)"))
    return executor


def _same_files(before: dict[str, list[int]], now: dict[str, list[int]]) -> bool:
    return before.keys() == now.keys() and all(
        before[name] == stamp for name, stamp in now.items() if not name.endswith(".md"))
