"""Prose pages' Markdown rendered ahead, on the core the plan leaves idle.

Reading and planning a site is the build process's work alone; the page workers fork after
it. A build with many changed pages therefore forks one process first, which reads those
Markdown pages and renders the body of each prose page (`Exporter.export_prose`), writing
each result whole to a file of no name, until the page workers are about to fork: then it
is killed, and what it wrote whole is taken. Each result is keyed by the exact text it was
rendered from, and a worker uses one only for that text: a page edited meanwhile, or read
otherwise by the plan, is rendered by its worker as before. The process reads pages and
writes to that file, nothing else; it dies with the build process, and is always ended and
reaped before the build returns.
"""
from __future__ import annotations

import os
import pickle
import re
import signal
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import SiteConfig

WORTH_IT = 64               # changed pages, at least, for a process of its own to pay
AT_MOST = 64 * 1024 ** 2    # bytes of results it writes (some 18,000 pages here): read
                            # back, they are held three times over for a moment
_SIZE = struct.Struct("<I")


@dataclass(slots=True)
class Ahead:
    """The process rendering ahead, the file it writes to, and the exporter it renders
    with, warmed before the fork: the build's exporter from then on."""

    pid: int
    out: int
    exporter: Any
    handle: int = -1        # a pidfd: signalled, the process is this one, whoever reaped it

    @classmethod
    def start(cls, config: SiteConfig, rels: list[str], jobs: int | None,
              drafts: bool = False) -> Ahead | None:
        """Render the Markdown pages at `rels` (paths from the site's root) ahead, when they
        are many and the build has a second core; None otherwise. `drafts`: drafts are
        published, so rendered too."""
        pages = [r for r in rels if r.endswith(".md")]
        cores = _cores()
        if len(pages) < WORTH_IT or min(jobs or cores, cores) < 2:
            return None
        from pipeline.files import parent_death
        from pipeline.render.export import Exporter
        from pipeline.sources.frontmatter import preload

        exporter = Exporter()
        exporter.warm(full=False)       # imported here, once: the build needs them anyway
        preload()
        pact, out = parent_death(os.getpid()), _scratch_file()
        pid = os.fork()
        if pid == 0:                    # the child: it never returns
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                pact()
                _no_terminal()
                _render(config, pages, exporter, drafts, out)
            finally:
                os._exit(0)
        return cls(pid, out, exporter, _pidfd(pid))

    def take(self) -> dict[str, bytes]:
        """End the process and take what it wrote whole: each text's `Exported`, pickled
        (page by page, by the process: a worker loads only those it uses)."""
        out, self.out = self.out, -1
        self.close()
        try:
            return _entries(os.pread(out, os.fstat(out).st_size, 0))
        finally:
            os.close(out)

    def close(self) -> None:
        """End the process at once, reap it and close its file; a second call does nothing."""
        pid, self.pid = self.pid, 0
        if pid:
            try:
                if self.handle >= 0:
                    signal.pidfd_send_signal(self.handle, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:          # ended, and reaped by the system
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:           # SIGCHLD ignored: the system reaps it
                pass
        for fd in (self.handle, self.out):
            if fd >= 0:
                os.close(fd)
        self.handle = self.out = -1


def _cores() -> int:
    """The cores this process may run on (`taskset`, a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _pidfd(pid: int) -> int:
    """A handle on the child that no other process can take over (Linux 5.3), or -1: with
    SIGCHLD ignored, the system reaps it as it ends and its pid may be given to another."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _scratch_file() -> int:
    """A file of no name (memory, on Linux) the process writes to: nothing to remove."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("nbpress-ahead", os.MFD_CLOEXEC)
    import tempfile

    with tempfile.TemporaryFile() as file:      # its name is gone already
        return os.dup(file.fileno())


def _no_terminal() -> None:
    """Standard input and output on /dev/null: the process holds no pipe of the build's
    open (`nbpress build | tee log` ends with the build)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _render(config: SiteConfig, rels: list[str], exporter: Any, drafts: bool, out: int) -> None:
    from pipeline.notebook.convert import is_prose, prose_body

    written = 0
    for rel in rels:
        path = config.root / rel
        try:
            page = _read(path, path.relative_to(config.content).with_suffix("").as_posix())
            if (page.draft and not drafts) or not is_prose(page):
                continue
            text = prose_body(page)
            entry = pickle.dumps((text, pickle.dumps(exporter.export_prose(text), -1)), -1)
        except Exception:               # its worker renders it, and says what is wrong
            continue
        written += _write_all(out, _SIZE.pack(len(entry)) + entry)
        if written > AT_MOST:
            return


def _read(path: Path, name: str):
    """The page as far as `is_prose` and `prose_body` read it: its frontmatter's YAML is
    parsed only when its text names a key they ask for (most pages' is not: a fifth of the
    time of a page here)."""
    from pipeline.model import Page, Source
    from pipeline.sources.frontmatter import decode, read_bytes, read_source, split_header

    text = decode(read_bytes(path), path)
    header, body_line = split_header(text)
    if "jupyter" in header or "jupytext" in header or "myst" in header or (
            "draft" in header and not (header.count("draft") == 1 and _NOT_DRAFT.search(header))):
        return read_source(Source(path, name, "md"))
    return Page(Source(path, name, "md"), text, body_line, {}, title="", slug=name)


# `draft: false` as a line of its own: the one place the header names a draft, a page that
# is not one (`draft: no` is no boolean to the frontmatter's reader: the page fails)
_NOT_DRAFT = re.compile(r"^draft:[ \t]*(?:false|False|FALSE)[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return len(data)


def _entries(data: bytes) -> dict[str, bytes]:
    """The (text, pickled Exported) pairs written whole, in order; the last may be cut short
    (the process was killed while writing it): it is left out."""
    found, at = {}, 0
    while at + _SIZE.size <= len(data):
        (size,), at = _SIZE.unpack_from(data, at), at + _SIZE.size
        if at + size > len(data):
            break
        text, done = pickle.loads(data[at:at + size])
        found[text] = done
        at += size
    return found
