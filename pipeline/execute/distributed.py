"""Stage 3: pages' code run on a Dask cluster. The only dask/distributed importer.

`DaskExecutor` implements the executor interface (`execute/base.py`). The build keeps the
plan, the export and the site phase; only cache misses are shipped, a Dask task a page: the
notebook as JSON, the page, the settings, the bytes of the files its code may read. A worker
writes them into a folder of its own mirroring the site, runs the notebook there (papermill,
a kernel it spawns) and returns it with the warnings; a failing cell comes back as a local
build's ExecutionError, in the page's real file (paths in outputs are the real ones too).

    build machine                                  Dask cluster
    ─────────────                                  ────────────
    plan ─ pages: cache hit? ── miss ─▶ submit ─▶  scheduler ──▶ worker 1: papermill + kernel
      │                                    ▲           │     ──▶ worker 2: papermill + kernel
      ▼                                    └─ result ◀─┘         (one job = one page, its own
    export, write, site phase                                      folder, its own kernel)

On one machine, `DaskExecutor()` starts a LocalCluster (a trial). For a real cluster, start
a scheduler and workers with the `dask` CLI, in the *same environment* as the build (nbpress,
the kernels the pages name, the packages their code imports), and give the build its address:

    dask scheduler --port 8786                    # prints tcp://HOST:8786; dashboard on :8787
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1 \
        --preload pipeline.execute.distributed    # papermill imported before the first page

One thread a worker process: a page's kernel is a process of its own. A page that asks for
resources (`resources: {memory: 4GB, gpu: 1}`, see `dask_resources`) runs only on workers
started with them, `--resources "MEMORY=8e9 GPU=1"`; with no such worker it fails at once. A
worker that dies mid-page has its page run again on another by Dask (allowed-failures: 3),
each attempt in its own folder with its own kernel.

Batch clusters: dask-jobqueue (`SLURMCluster`, `PBSCluster`, ...) and Kubernetes
(dask-kubernetes `KubeCluster`) start the same workers; pass their `scheduler_address`.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing.util
import os
import re
import threading
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Mapping

from pipeline.errors import ExecutionError, NbpressError
from pipeline.execute import remote as on_worker
from pipeline.execute.base import Job, Ran

_INHERITED: list[Any] = []   # a parent's client and cluster, never touched in a forked child
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


AUTO_MARGIN = 1.5      # `memory: auto`: the last run's peak, and half as much again


def dask_resources(resources: Mapping[str, Any] | None) -> dict[str, float] | None:
    """A page's `resources:` as Dask resources: `memory` ("512MB", "4GB", "2GiB", bytes) as
    MEMORY bytes, `gpu` as GPU, any other key upper-cased; None when it asks for nothing."""
    if resources is None:
        return None
    if not isinstance(resources, Mapping):
        raise ValueError(f"resources must be a mapping such as {{memory: 4GB, gpu: 1}}, not "
                         f"{resources!r}")
    found: dict[str, float] = {}
    for key, value in resources.items():
        name = str(key).strip()
        if not name:
            raise ValueError("resources has an empty key: name each resource, e.g. gpu: 1")
        if name.lower() == "memory":
            found["MEMORY"] = _bytes(value)
        else:
            found["GPU" if name.lower() == "gpu" else name.upper()] = _amount(name, value)
    return found or None


def _bytes(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _amount("memory", value, "4GB")
    match = _SIZE.match(value) if isinstance(value, str) else None
    unit = match.group(2).lower().removesuffix("b") if match else None
    if unit is None or unit not in _UNITS:
        raise ValueError(f"resources: memory must be a size such as 512MB, 4GB or 2GiB, not "
                         f"{value!r}")
    return _amount("memory", float(match.group(1)) * _UNITS[unit], "4GB")


def _amount(name: str, value: Any, example: str = "1") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e300:
        raise ValueError(f"resources: {name} must be a positive amount (e.g. {name}: "
                         f"{example}), not {value!r}")
    return float(value)


class DaskExecutor:
    """Jobs run as Dask tasks: on the scheduler at `address` (tcp://host:8786), or on a
    LocalCluster of `workers` processes started on first use (or by `start()`).

    A Client belongs to the process that made it: a page worker forked from the build makes
    its own, never closing the parent's. Start the executor before forking (the LocalCluster
    is then shared); a child closes its client as it exits."""

    def __init__(self, address: str | None = None, workers: int = 2):
        self.address, self.workers = address, workers
        self.scheduler = address                # what clients connect to (a LocalCluster's)
        self._client, self._cluster = None, None     # distributed's Client, LocalCluster
        self._pid = self._cluster_pid = None    # the processes they belong to
        self._lock, self._done = threading.Lock(), 0
        self._pending: dict[Any, Any] = {}      # key -> dask future, until it settles
        self.token = uuid.uuid4().hex[:12]      # this build's jobs: ("nbpress", token, page)

    def start(self) -> "DaskExecutor":
        """Connect (and start the LocalCluster) now, in this process: before forking."""
        try:
            self._client_here()
        except (OSError, ValueError) as exc:     # down, or not an address distributed reads
            raise _unreachable(self.scheduler, exc, None) from None
        return self

    def _client_here(self):
        if self._pid == os.getpid():
            return self._client
        if self._pid is not None:           # forked: the parent's client has no thread here
            _INHERITED.append(self._client)
            self._client, self._pending, self._done = None, {}, 0
            self._lock = threading.Lock()   # a parent's thread may have held it at the fork
        from distributed import Client

        for name in ["distributed", *logging.root.manager.loggerDict]:  # we say what failed
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL)

        if self.scheduler is None:
            self._cluster, self._cluster_pid = _local_cluster(self.workers), os.getpid()
            self.scheduler = self._cluster.scheduler_address
        self._client = Client(self.scheduler, set_as_default=False)
        if self._pid is not None:
            multiprocessing.util.Finalize(self, _close_client, (self._client,), exitpriority=0)
        self._pid = os.getpid()
        return self._client

    def submit(self, job: Job) -> "Future[Ran]":
        out: Future[Ran] = Future()
        try:
            payload, resources = _payload(job), _resources_of(job)
            client = self._client_here()
            resources = _check_resources(client, resources, job)
            source = job.page.source
            key = ("nbpress", self.token, f"{source.rel}"      # "nbpress": the task prefix
                   f"{f'[{source.variant}]' if source.variant else ''}-{uuid.uuid4().hex[:10]}")
            remote = client.submit(on_worker.run_remote, payload, pure=False, key=key,
                                   resources=resources)
        except (NbpressError, OSError) as exc:     # OSError: no scheduler there, a file gone
            out.set_exception(exc if isinstance(exc, NbpressError)
                              else _unreachable(self.scheduler, exc, job.page.source.path))
            return out
        with self._lock:
            self._pending[key] = remote
        out.add_done_callback(lambda f: f.cancelled() and remote.cancel())
        remote.add_done_callback(lambda f: self._settle(f, out, job))
        return out

    def _settle(self, remote, out: "Future[Ran]", job: Job) -> None:    # a Dask thread's
        import nbformat

        with self._lock:            # a job closed away (close()) is not counted
            self._done += self._pending.pop(remote.key, None) is not None
        if out.cancelled():
            return
        try:
            value = remote.result()
        except NbpressError as exc:
            out.set_exception(exc)
        except BaseException as exc:        # KilledWorker, cancelled, a worker-side bug
            out.set_exception(_lost(exc, job))
        else:
            _put_back(job, value.get("made", {}))
            out.set_result(Ran(nbformat.reads(value["nb"], as_version=4),
                               tuple(value["warnings"])))

    def alive(self) -> bool:
        """Connected from this process, the scheduler still there (a service's, kept)."""
        return self._client is not None and self._pid == os.getpid() \
            and self._client.status == "running"

    def worker_count(self) -> int:
        return len(self._client_here().scheduler_info(n_workers=-1).get("workers", {}))

    def slots(self) -> int:
        """Pages the cluster runs at once: its workers' threads (a page worker each)."""
        workers = self._client_here().scheduler_info(n_workers=-1).get("workers", {})
        return max(1, sum(w.get("nthreads", 1) for w in workers.values()))

    def cluster_counts(self) -> tuple[int, int] | None:
        """(queued, running) of this executor's jobs on the scheduler, whichever process of
        the build sent them (its page workers do): the progress display's. None when the
        scheduler cannot say (gone: the pages it held fail on their own)."""
        try:
            return tuple(self._client_here().run_on_scheduler(_job_states, token=self.token))
        except Exception:       # distributed raises OSError, CommClosedError, TimeoutError...
            return None

    def counts(self) -> tuple[int, int, int]:
        """(queued, running, done) of the jobs this process sent. Running: the scheduler's
        `processing` of each worker, up to its threads (it sends a worker a few more)."""
        with self._lock:
            pending, done = set(self._pending), self._done
        running = 0
        if pending and self._pid == os.getpid():
            threads = {a: w.get("nthreads", 1) for a, w in
                       self._client.scheduler_info(n_workers=-1).get("workers", {}).items()}
            running = sum(min(len(pending.intersection(keys)), threads.get(worker, 1))
                          for worker, keys in self._client.processing().items())
        return len(pending) - running, running, done

    @property
    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard; None without one (a LocalCluster without bokeh)."""
        if self._client is None or self._pid != os.getpid() \
                or (self._cluster is not None and importlib.util.find_spec("bokeh") is None):
            return None
        try:
            services = self._client.scheduler_info().get("services", {})
            return self._client.dashboard_link if "dashboard" in services else None
        except Exception:       # a scheduler gone
            return None

    def close(self) -> None:
        """Close this process's client, and the LocalCluster if this process started it.
        Safe to call twice; a later submit connects again."""
        client, cluster, mine = self._client, self._cluster, self._pid == os.getpid()
        self._client, self._pid, self._pending = None, None, {}
        if client is not None and mine:
            _close_client(client)
        elif client is not None:
            _INHERITED.append(client)
        if cluster is not None and self._cluster_pid == os.getpid():
            self._cluster, self._cluster_pid, self.scheduler = None, None, self.address
            cluster.close()


def _put_back(job: Job, made: dict[str, bytes]) -> None:
    """The files the page's code wrote on the worker, beside the page here, as a local run
    leaves them (an image it then shows); never outside the site, never over the same bytes."""
    root = job.config.root.resolve()
    for rel, data in made.items():
        target = (root / rel).resolve()
        if root not in target.parents or any(p in target.parents for p in (
                job.config.output.resolve(), (root / ".nbpress-cache").resolve())):
            continue
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def _job_states(dask_scheduler, token: str) -> tuple[int, int]:
    """On the scheduler: one build's tasks waiting for a worker, and running."""
    states = [ts.state for key, ts in dask_scheduler.tasks.items()
              if isinstance(key, tuple) and key[:2] == ("nbpress", token)]
    running = states.count("processing")
    return (len(states) - running - states.count("memory") - states.count("erred"), running)


def _local_cluster(workers: int):
    """A trial cluster on this machine: each worker offers its share of the memory as the
    MEMORY resource, so pages that ask for memory (`auto` too) run on it as on a real one."""
    from distributed import LocalCluster
    from distributed.system import MEMORY_LIMIT

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", preload=[__name__],    # ":0": a free port
                        resources={"MEMORY": MEMORY_LIMIT // workers})


def _unreachable(address: str | None, exc: OSError, path: Path | None) -> ExecutionError:
    return ExecutionError(f"nothing could be sent to the Dask scheduler at {address} ({exc})",
                          path, hint="start it (dask scheduler) and its workers, or give its "
                                     "address: --scheduler tcp://HOST:8786")


def _close_client(client) -> None:
    with contextlib.suppress(Exception):     # the scheduler went first: nothing to close
        client.close(timeout=10)


def dask_setup(worker) -> None:
    """`dask worker --preload pipeline.execute.distributed`: papermill, nbclient and the
    kernel client imported once, as the worker starts, not in its first page (3-4 s)."""
    logging.getLogger("distributed.worker").addFilter(_not_a_page_error)
    importlib.import_module("papermill")        # nbclient, nbformat, jupyter_client with it
    on_worker.fork_server()  # warm kernels: it imports ipykernel while the worker waits


def _not_a_page_error(record: logging.LogRecord) -> bool:
    """A page's failing cell is for the build to report, not for the worker's log."""
    args = record.args if isinstance(record.args, tuple) and len(record.args) > 3 else None
    return not (args and str(record.msg).startswith("Compute Failed")
                and str(args[0]).startswith("('nbpress'") and str(args[3]).startswith("Execution"))


def _resources_of(job: Job) -> dict[str, float] | None:
    """The job's resources; `memory: auto` is half as much again as its kernel reached last
    time (nothing asked of memory until a run has been seen)."""
    asked = job.page.meta.get("resources")
    if _auto_memory(job):
        asked = {k: v for k, v in asked.items() if k != "memory"} | (
            {"memory": int(job.memory * AUTO_MARGIN)} if job.memory else {})
    try:
        return dask_resources(asked)
    except ValueError as exc:
        raise ExecutionError(str(exc), job.page.source.path, line=_line_of(job, "resources"),
                             hint="write e.g. resources: {memory: 4GB, gpu: 1}") from None


def _auto_memory(job: Job) -> bool:
    asked = job.page.meta.get("resources")
    return isinstance(asked, Mapping) and str(asked.get("memory", "")).strip().lower() == "auto"


def _line_of(job: Job, key: str) -> int | None:
    match = re.search(rf"^{key}\s*:", job.page.text, re.MULTILINE)
    return job.page.text.count("\n", 0, match.start()) + 1 if match else None


def _check_resources(client, resources: dict[str, float] | None,
                     job: Job) -> dict[str, float] | None:
    """The resources to ask for. Fail a page no worker could ever run; with no worker at all
    (scaling up) it waits. `memory: auto` asks nothing of workers that offer no memory."""
    if not resources:
        return resources
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    offers = [w.get("resources", {}) for w in workers.values()]
    if offers and _auto_memory(job) and not any("MEMORY" in o for o in offers):
        resources = {k: v for k, v in resources.items() if k != "MEMORY"} or None
    if not resources or not offers or any(
            all(o.get(k, 0) >= v for k, v in resources.items()) for o in offers):
        return resources
    wanted = " ".join(f"{k}={v:g}" for k, v in resources.items())
    raise ExecutionError(f"no Dask worker offers the resources it asks for ({wanted})",
                         job.page.source.path, line=_line_of(job, "resources"),
                         hint=f"start workers with --resources \"{wanted}\" (dask worker ...)")


def _payload(job: Job) -> dict[str, Any]:
    """What a worker needs, as plain values: the files by path from the site's folder."""
    import nbformat

    files = {_inside(path, job): Path(path).read_bytes() for path in job.files}
    return {"nb": nbformat.writes(job.nb), "page": job.page, "config": job.config,
            "root": str(job.config.root), "source": _inside(job.page.source.path, job),
            "files": files, "build_time": job.run.build_time, "base_url": job.run.base_url}


def _inside(path: Path, job: Job) -> str:
    try:
        return Path(os.path.normpath(path)).relative_to(job.config.root).as_posix()
    except ValueError:
        raise ExecutionError(f"its code may read {path}, which is outside the site's folder: "
                             "a Dask worker is sent only files inside it", job.page.source.path,
                             hint="move the file into the site (beside the page, or in data/), "
                                  "or run the build without Dask") from None


def _lost(exc: BaseException, job: Job) -> ExecutionError:
    from distributed import KilledWorker

    path = job.page.source.path
    if isinstance(exc, KilledWorker):
        return ExecutionError(f"the Dask workers running its code died, {exc.allowed_failures + 1}"
                              " times", path, hint="it may run out of memory or crash Python: "
                              "run it in Jupyter; or ask for memory: resources: {memory: 8GB}")
    name = type(exc).__name__
    if "Cancelled" in name:
        return ExecutionError("its Dask task was cancelled before it finished (the client or "
                              "the cluster was closed)", path, hint="build again")
    return ExecutionError(f"its code could not be run on a Dask worker ({name}: {exc})", path,
                          hint="check that the workers run the same environment as the "
                               "build (nbpress, the kernel, the page's packages)")
