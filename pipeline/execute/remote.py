"""Stage 3: one page's code run on a Dask worker: the function a task calls
(`execute/distributed.py` sends it), in a folder of its own that mirrors the site, with the
worker's kernel fork server. Plain Python: no dask import here."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.errors import NbpressError
from pipeline.files import alive

FOLDER_PREFIX = "nbpress-dask-"         # a job's folder on a worker: nbpress-dask-<pid>-xxxx


_SERVER: list[Any] = []     # this worker process's kernel fork server, once started


def fork_server():
    """The worker's fork server (`execute/kernels.py`): each page's kernel forked warm, in
    milliseconds, not spawned (a second). A subprocess, which a daemonic Dask worker may
    start; it dies with the worker (its parent-death signal, or its poll of the worker)."""
    from pipeline.execute.kernels import ForkServer

    if not _SERVER or not _SERVER[0].alive():
        server = ForkServer().start()
        import atexit

        atexit.register(server.stop)
        _SERVER[:] = [server]
    return _SERVER[0]


def run_remote(payload: dict[str, Any]) -> dict[str, Any]:
    """One page run in a folder of its own (a rescheduled attempt makes another)."""
    import nbformat

    from pipeline.execute.kernels import manager_class
    from pipeline.execute.run import RunContext, execute

    _sweep()
    folder = Path(os.path.realpath(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")))
    try:
        site, scratch = folder / "site", folder / "scratch"
        scratch.mkdir()
        _write_files(site, payload["files"])
        page, config = _moved(payload, site)
        page.source.path.parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.reads(payload["nb"], as_version=4)
        context = RunContext(payload["build_time"], payload["base_url"],
                             kernel_manager=manager_class(fork_server(), scratch),
                             scratch=str(scratch), fork_server=fork_server(), templates=False)
        try:
            executed, warnings = execute(nb, page, config, context)
        except NbpressError as exc:
            raise _relocated(exc, site, Path(payload["root"])) from None
        # a cell that printed its working folder shows what a local build shows
        return {"nb": _real_text(nbformat.writes(executed), site, payload["root"], _json),
                "warnings": [_real_text(w, site, payload["root"]) for w in warnings],
                "made": _made(page.source.path.parent, site, payload["files"])}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


MADE_LIMIT = 100_000_000     # bytes of the files a page's code writes, sent back at most


def _made(folder: Path, site: Path, shipped: dict[str, bytes]) -> dict[str, bytes]:
    """The files the page's code wrote in its folder (new, or changed from what was sent),
    by path from the site: as a local run leaves them beside the page, for it to show."""
    made, size = {}, 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(site).as_posix()
        data = path.read_bytes()
        if shipped.get(rel) != data and size + len(data) <= MADE_LIMIT:
            made[rel], size = data, size + len(data)
    return made


def _write_files(site: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = site / rel             # `_inside` made it a path inside the site, no ..
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _moved(payload: dict[str, Any], site: Path):
    """The page and the settings as if the site were at `site`."""
    page, config = payload["page"], payload["config"]
    page = replace(page, source=replace(page.source, path=site / payload["source"]))
    return page, replace(config, root=site, config_file=None)


def _real_text(text: str | None, site: Path, root: str, escape=lambda t: t) -> str | None:
    """`text` naming the site's folder where it named the job's (`escape`: as in JSON); the
    job's folder is a real path, as a kernel's os.getcwd() gives it."""
    return text and text.replace(escape(str(site)), escape(root))


def _json(text: str) -> str:
    return json.dumps(text)[1:-1]


def _relocated(exc: NbpressError, site: Path, root: Path) -> NbpressError:
    """The error as a local build gives it: its path and texts name the real files."""
    path = exc.path and (root / exc.path.relative_to(site) if exc.path.is_relative_to(site)
                         else exc.path)
    return type(exc)(_real_text(exc.message, site, str(root)), path, line=exc.line,
                     hint=_real_text(exc.hint, site, str(root)),
                     detail=_real_text(exc.detail, site, str(root)))


def _sweep() -> None:
    """Remove the folders of jobs whose worker process died (killed mid-page)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
