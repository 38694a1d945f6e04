"""The output folder: built whole in a staging folder beside it, then swapped in.

A build that fails half-way leaves the previous site as it was; files of pages that no longer
exist disappear with the old folder. Pages never write outside the output folder; the only
things beside it are the build's own `.output.staging` and, for an instant, `.output.old`.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from pipeline.errors import OutputError

MARKER = ".nbpress.json"      # in the output folder: the build that made it, and that it is ours


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _make_folder(folder: str) -> None:
    """`os.makedirs(folder, exist_ok=True)` in one system call when its parent is there (a
    page's folder, most often), not two or more."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        if not os.path.isdir(folder):
            raise
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


class _Folder:
    """Paths inside the folder a build writes (`_root`), never outside it. The folder is ours
    and holds no links, so normalizing the path is enough (no file system round trips)."""

    output: Path
    _root: str
    _made: set[str]

    def path(self, rel: str) -> Path:
        target = os.path.normpath(os.path.join(self._root, rel))
        if not target.startswith(self._root + os.sep):
            raise OutputError(f"refusing to write {rel!r}: it is outside the output folder",
                              self.output, hint="this is a bug in nbpress: please report it "
                                                "with the page that names this file")
        folder = os.path.dirname(target)
        if folder not in self._made:
            _make_folder(folder)
            self._made.add(folder)
        return Path(target)


class Staging(_Folder):
    """A private folder that becomes the output folder on `commit()`."""

    def __init__(self, output: Path):
        self.output = output
        self.dir = output.parent / f".{output.name}.staging"
        self._old = output.parent / f".{output.name}.old"
        recover(output)
        _check_ours(output)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self._root = os.path.abspath(self.dir)
        self._made: set[str] = {self._root}
        self._copied: set[tuple[Path, str]] = set()

    def write(self, rel: str, data: str | bytes) -> None:
        target = self.path(rel)
        data = data.encode("utf-8") if isinstance(data, str) else data
        try:
            fd = os.open(target, _NEW_FILE, 0o666)
        except FileExistsError:         # it may be a hard link into the live site, made by
            os.unlink(target)           # any process of the build (not always this one)
            fd = os.open(target, _NEW_FILE, 0o666)
        try:
            with open(fd, "wb", buffering=0) as file:   # unbuffered: no more system calls
                view = memoryview(data)                 # than the write (a short one goes on)
                while view:
                    view = view[file.write(view):]
        except BaseException:           # a full disk: no half a page left to be published
            os.unlink(target)           # (its last good version is carried instead)
            raise

    def copy(self, source: Path, rel: str) -> None:
        """Copy a file the site uses, unless the copy there is of this very version (same
        size and modification time: copies keep the time). Any other gives way, a version
        carried from the last build too, whichever process carried it. Once a process: many
        pages show the same image, and nothing else writes there but this build's copies."""
        if (source, rel) not in self._copied:
            copy_file(source, self.path(rel))
            self._copied.add((source, rel))

    def carry(self, rels: list[str]) -> bool:
        """Bring files of the previous build into this one: an unchanged page, or one whose
        rebuild failed. Hard links where the file system allows: no bytes are copied."""
        sources = [self.output / r for r in rels]
        if not sources or not all(s.is_file() for s in sources):
            return False
        for source, rel in zip(sources, rels):
            target = self.path(rel)
            if target.exists():
                continue
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)      # with its time: `copy_file` compares it
        return True

    def commit(self, manifest: dict[str, Any], keep: set[str] = frozenset()) -> None:
        self.write(MARKER, json.dumps(manifest, indent=1, sort_keys=True))
        shutil.rmtree(self._old, ignore_errors=True)
        if self.output.exists():
            os.replace(self.output, self._old)
        os.replace(self.dir, self.output)
        shutil.rmtree(self._old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class InPlace(_Folder):
    """An incremental build into the output folder itself: each file is replaced in one step
    (a temp file beside it, then a rename), so a reader never sees half a file, and only what
    changed is written. `commit()` removes the files of the last build that this build no
    longer has, then marks the folder with the new build. Used when the folder is the last
    build's (its marker matches the build state); a cold build stages a whole new folder.
    A build stopped half-way leaves every page whole, old or new; the next build, which
    trusts the state the stopped one did not replace, builds the changed pages again."""

    def __init__(self, output: Path, previous: set[str]):
        self.output = output
        self.previous = previous            # files of the last build, from the output folder
        self._root = os.path.abspath(output)
        self._made: set[str] = {self._root}
        self._kept: set[str] = set()        # written or carried by this build

    def write(self, rel: str, data: str | bytes) -> None:
        target = self.path(rel)
        data = data.encode("utf-8") if isinstance(data, str) else data
        self._kept.add(rel)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return                      # the same bytes: leave the file as it is
        except OSError:
            pass
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def copy(self, source: Path, rel: str) -> None:
        self._kept.add(rel)
        copy_file(source, self.path(rel))

    def carry(self, rels: list[str]) -> bool:
        """Files of the last build that stay: they are already in place. (The plan found
        every file of a kept page there; its first one, the page, is looked at again.)"""
        if not rels or not os.path.isfile(os.path.join(self._root, rels[0])):
            return False
        self._kept.update(rels)
        return True

    def commit(self, manifest: dict[str, Any], keep: set[str] = frozenset()) -> None:
        """`keep`: every file of this build (workers wrote some: this process cannot know)."""
        for rel in sorted(self.previous - self._kept - keep):
            (self.output / rel).unlink(missing_ok=True)
            _remove_empty_parents(self.output, rel)
        self.write(MARKER, json.dumps(manifest, indent=1, sort_keys=True))

    def abort(self) -> None:
        """Nothing to undo: every file written is whole, and the marker is the last build's."""


def _remove_empty_parents(output: Path, rel: str) -> None:
    folder = (output / rel).parent
    while folder != output:
        try:
            folder.rmdir()
        except OSError:                     # not empty (or gone): stop here
            return
        folder = folder.parent


def copy_file(source: Path, target: Path) -> None:
    """`source` at `target`, replaced in one step (a temp file, then a rename: two workers
    copying one image never leave half of it), skipped when `target` is a copy of it (copy2 keeps the mtime; an edit that keeps the
    size and mtime, `cp -p` say, still changes the source's ctime)."""
    src = source.stat()
    try:
        st = target.stat()
        if (st.st_size == src.st_size and st.st_mtime_ns == src.st_mtime_ns
                and src.st_ctime_ns <= st.st_ctime_ns):     # not changed since it was copied
            return
    except FileNotFoundError:
        pass
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copy2(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_output(output: Path) -> list[Path]:
    """Delete the output folder if nbpress made it; what was removed."""
    recover(output)
    if not output.exists():
        return []
    _check_ours(output)
    shutil.rmtree(output)
    return [output]


def output_id(output: Path) -> str | None:
    """The id of the build that made the output folder, or None."""
    try:
        data = json.loads((output / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("build_id") if isinstance(data, dict) else None


def recover(output: Path) -> None:
    """Put back the previous site if a build stopped between the two renames of a commit."""
    old = output.parent / f".{output.name}.old"
    if old.is_dir() and not output.exists():
        os.replace(old, output)


def _check_ours(output: Path) -> None:
    if output.is_dir() and any(output.iterdir()) and not (output / MARKER).is_file():
        raise OutputError("the output folder holds files that nbpress did not write", output,
                          hint="move them away or set output_dir in [tool.nbpress] to a new "
                               "folder; nbpress replaces its output folder on every build")
    if output.exists() and not output.is_dir():
        raise OutputError("the output path is a file, not a folder", output,
                          hint="remove it or set output_dir in [tool.nbpress]")
