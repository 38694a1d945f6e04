"""Files nbpress keeps for itself: where its cache folder is, the name of sync's record, and
writing a file in one step; and the processes it starts, which die with it. Below every
stage: any module may use it."""
from __future__ import annotations

import functools
import os
import shutil
import signal
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable

CACHE_DIR = ".nbpress-cache"
SYNC_RECORD = "sync.json"       # `nbpress sync`'s record of each pair (author/sync.py)
SYNC_FORMAT = 1
SCRATCH = "tmp"                 # one build's passing files (`scratch_dir`)


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


def state_dir(root: Path, output: Path) -> Path:
    """Where the state of the builds into `output` is kept: the cache folder; for an output
    folder inside it (the preview's), beside that folder, so each output has its own."""
    cache = cache_dir(root)
    return output.parent if cache in output.parents else cache


def scratch_dir(root: Path) -> Path:
    """A new folder for one build's passing files (executed copies of notebooks, kernel
    connection files), named by the build's pid, in the site's cache folder. A killed build
    cannot remove its own: the next build does (`sweep_scratch`)."""
    folder = cache_dir(root) / SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{pid}-{_started(pid)}-", dir=folder))


def sweep_scratch(root: Path) -> None:
    """Remove the scratch folders of builds that are gone (killed, say). Called with the
    site's lock held, so no other build of the site is running; a folder whose process is
    alive (a service between builds, another thread) is kept."""
    try:
        entries = list(os.scandir(cache_dir(root) / SCRATCH))
    except OSError:
        return
    for entry in entries:
        pid, _, rest = entry.name.partition("-")
        started = rest.partition("-")[0]
        if not (pid.isdigit() and alive(int(pid)) and started == _started(int(pid))):
            shutil.rmtree(entry.path, ignore_errors=True)


def alive(pid: int) -> bool:
    """Whether process `pid` runs. A zombie (dead, not yet reaped by its parent: a killed Dask
    worker until its nanny waits for it) does not; another user's process does."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):           # no /proc: kill(0) is all there is to know
        return True


def _started(pid: int) -> str:
    """When the process started (Linux: clock ticks after boot), so a folder whose pid now
    belongs to another process is not taken for a live build's; "0" where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Replace `path` with `text` (or its pieces, written one by one: a large file need not be
    whole in memory) in one step (a temp file beside it, then a rename), keeping the file's
    permissions and writing through a symlink to the file it points to."""
    path = path.resolve() if path.is_symlink() else path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if isinstance(text, str):
                f.write(text)
            else:
                f.writelines(text)
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@functools.lru_cache(maxsize=1 << 17)     # a build asks it of each page many times
def site_rel(root: Path, path: Path) -> str:
    """`path` from the site root, posix: a prefix cut (relpath costs ten times more)."""
    top, text = str(root), str(path)
    if text.startswith(top + os.sep):
        return text[len(top) + 1:].replace(os.sep, "/")
    return os.path.relpath(text, top).replace(os.sep, "/")


def parent_death(parent: int, signum: int = signal.SIGKILL) -> Callable[[], None]:
    """What a child runs to have Linux send it `signum` the moment `parent` dies
    (`prctl(PR_SET_PDEATHSIG)`, kept across exec), and to get it now if the parent is gone
    already: no worker, fork server, kernel or pagefind outlives a build that is killed (a
    CI timeout, `kill -9`). libc is looked up here, before a fork, so the child only makes
    the call (a `preexec_fn`). Elsewhere only the check."""
    prctl = None
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None

    def pact() -> None:
        if prctl is not None:
            import ctypes

            prctl(ctypes.c_int(1), ctypes.c_ulong(signum), ctypes.c_ulong(0),
                  ctypes.c_ulong(0), ctypes.c_ulong(0))     # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)
    return pact


def die_with_parent(parent: int, signum: int = signal.SIGKILL) -> None:
    """`parent_death`, in the process itself (a forked worker, the fork server)."""
    parent_death(parent, signum)()


class Existing:
    """The file system's answers for one build, where many pages ask the same (each page's
    `../images/logo.png`): paths resolved, and whether each is a file or a folder. Only what
    exists is remembered, so a file that a page's code writes later in the build is found."""

    def __init__(self) -> None:
        self._real: dict[Path, Path] = {}
        self._is_file: dict[Path, bool] = {}

    def resolve(self, path: Path) -> Path:
        real = self._real.get(path)
        if real is None:
            real = path.resolve()
            if self._kind(real) is not None:
                self._real[path] = real
        return real

    def exists(self, path: Path) -> bool:
        return self._kind(path) is not None

    def is_file(self, path: Path) -> bool:
        return self._kind(path) is True

    def _kind(self, path: Path) -> bool | None:
        known = self._is_file.get(path)
        if known is None:
            try:
                known = stat.S_ISREG(os.stat(path).st_mode)
            except (OSError, ValueError):
                return None
            self._is_file[path] = known
        return known


def remove_caches(folder: Path) -> list[Path]:
    """`nbpress clean --cache`: the build's caches in the cache folder, what was removed
    (never sync's record or its backups)."""
    removed = []
    for part in (folder / name for name in ("build.json", "pages.json", "exec", SCRATCH)):
        if part.is_dir():
            shutil.rmtree(part)
        elif part.exists():
            part.unlink()
        else:
            continue
        removed.append(part)
    return removed
