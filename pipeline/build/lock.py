"""One build, sync or clean of a site at a time: `.nbpress-cache/lock`.

The lock is a POSIX record lock (`fcntl.lockf`), not `flock`: a record lock belongs to the
process that took it, so the worker processes a build forks do not inherit it, and the
kernel drops it the moment that process dies (`kill -9` included). A killed build can
therefore never leave the site locked. After taking the lock the holder writes who it is
(pid, command, since when) into the lock file, so a second build can say what it waits for,
or, with `wait=False`, fail at once naming the holder.

Two rules of record locks shape the code. Closing *any* descriptor of the file drops the
process's lock, so the holder never opens the file twice, and a nested `site_lock` in the
same process (the CLI around `build_site`, which locks too) re-uses the first one instead
of opening the file again: the lock is re-entrant per thread, and other threads of the
process wait on an in-process mutex, since the kernel would let them straight through.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import struct
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from pipeline.errors import NbpressError

LOCK_FILE = "lock"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a site's lock: what a waiting build tells its user."""

    pid: int
    command: str = ""
    since: str = ""          # local time the lock was taken, ISO; "" when not known

    def __str__(self) -> str:
        command = f" ({self.command})" if self.command else ""
        since = f", since {self.since}" if self.since else ""
        return f"pid {self.pid}{command}{since}"


class LockedError(NbpressError):
    """Another nbpress process holds the site's lock, and this one was told not to wait."""

    def __init__(self, message: str, path: Path | str | None = None, *,
                 holder: Holder | None = None, **kwargs):
        super().__init__(message, path, **kwargs)
        self.holder = holder


@dataclass(slots=True)
class _Hold:
    """This process's hold on one lock file: the one descriptor, and how deep it is taken."""

    mutex: threading.RLock
    fd: int = -1
    depth: int = 0
    holder: Holder | None = None


_HOLDS: dict[tuple[int, str], _Hold] = {}     # by (pid, lock path): a forked child starts clean
_GUARD = threading.Lock()


def lock_path(root: Path) -> Path:
    return Path(root) / ".nbpress-cache" / LOCK_FILE


@contextlib.contextmanager
def site_lock(root: Path, *, wait: bool = True,
              on_wait: Callable[[Holder], None] | None = None) -> Iterator[None]:
    """Hold the site's lock for the block. Held by someone else: with `wait`, call
    `on_wait(holder)` once and wait; without, raise LockedError naming the holder."""
    path = lock_path(root)
    hold = _hold(path)
    _enter(hold, path, wait, on_wait)
    try:
        yield
    finally:
        _leave(hold)


def _hold(path: Path) -> _Hold:
    key = (os.getpid(), str(path.absolute()))
    with _GUARD:
        return _HOLDS.setdefault(key, _Hold(threading.RLock()))


def _enter(hold: _Hold, path: Path, wait: bool, on_wait) -> None:
    if not hold.mutex.acquire(blocking=False):     # another thread of this process has it
        _busy(path, hold.holder or Holder(os.getpid()), wait, on_wait)
        hold.mutex.acquire()
    try:
        if hold.depth == 0:
            hold.fd = _acquire(path, wait, on_wait)
            hold.holder = _announce(hold.fd)
        hold.depth += 1
    except BaseException:
        hold.mutex.release()
        raise


def _leave(hold: _Hold) -> None:
    hold.depth -= 1
    if hold.depth == 0:
        fd, hold.fd, hold.holder = hold.fd, -1, None
        os.close(fd)                  # drops the record lock; the stale note is harmless
    hold.mutex.release()


def _acquire(path: Path, wait: bool, on_wait) -> int:
    """A descriptor of the lock file, locked. Waits (or raises) while another process has it."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            _busy(path, read_holder(fd), wait, on_wait)
            fcntl.lockf(fd, fcntl.LOCK_EX)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _busy(path: Path, holder: Holder | None, wait: bool, on_wait) -> None:
    holder = holder or Holder(0, "another process")
    if not wait:
        stuck = f"; if it is stuck, stop it with `kill {holder.pid}`" if holder.pid else ""
        raise LockedError(f"the site is locked by {holder}", path, holder=holder,
                          hint="wait for that build, sync or clean to finish, or run again "
                               f"without --no-wait to wait for it{stuck}")
    if on_wait is not None:
        on_wait(holder)


def _announce(fd: int) -> Holder:
    """Write who holds the lock into the lock file (through the one descriptor)."""
    holder = Holder(os.getpid(), _command(),
                    dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    data = json.dumps({"pid": holder.pid, "command": holder.command,
                       "since": holder.since}).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data + b"\n", 0)
    return holder


def _command() -> str:
    argv = getattr(sys, "orig_argv", None) or sys.argv
    text = shlex.join(argv)
    return text if len(text) <= 200 else text[:197] + "..."


def read_holder(fd: int) -> Holder | None:
    """Who holds the lock, seen through a descriptor that does not hold it: the note in the
    file when it is the lock owner's (the kernel names the owner), else what /proc says."""
    owner = _owner(fd)
    try:
        note = json.loads(os.pread(fd, 4096, 0) or b"null")
        noted = Holder(int(note["pid"]), str(note["command"]), str(note["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        noted = None
    if noted is not None and owner in (None, noted.pid):
        return noted
    if owner is None:
        return None
    return Holder(owner, _proc_command(owner))   # the note is stale, or not written yet


def _owner(fd: int) -> int | None:
    """The pid holding a conflicting record lock on the file (F_GETLK); None when unknown."""
    import fcntl

    layout = "hhqqi"                     # struct flock: type, whence, start, len, pid
    query = struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query + bytes(8))
        kind, _whence, _start, _len, pid = struct.unpack_from(layout, answer)
    except (OSError, struct.error, AttributeError):
        return None
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def _proc_command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return shlex.join(part.decode(errors="replace")
                              for part in f.read().split(b"\0") if part)
    except OSError:
        return ""
