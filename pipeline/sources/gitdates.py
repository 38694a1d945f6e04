"""Stage 1: when each page was last committed, from git: the `edited` date of a page whose
frontmatter has none. Never a file's mtime, which a clone or a checkout resets to the day it
ran.

Two calls, both silent when there is no git (no repository, no git program: no dates):
- `last_commits(root, paths)`: the committer date of the last commit that touched each path,
  for all pages at once, from ONE `git log` over the folders that hold them, read as it
  streams and stopped once every committed path has its date (the log is newest first;
  `git ls-tree HEAD` says which paths are committed, so a new page does not cost a walk of
  the whole history);
- `head_stamp(root)`: the commit HEAD points at, read from the files of `.git` without
  running git, so a build with nothing to do can tell in a few reads that the dates it
  knows are still the dates git would give.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable

# How `git log` prints each commit: an empty field (a file name never is), then the committer
# date with its own offset; with -z every field ends in NUL and the first file name of a
# commit is preceded by a newline.
LOG_FORMAT = "--format=%x00%cI"
# Environment paths git reads relative to its working folder: made absolute, since git runs
# in the site's folder (a git hook, for one, exports GIT_INDEX_FILE=.git/index).
_GIT_PATH_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE",
                  "GIT_OBJECT_DIRECTORY")
_PER_WORKTREE = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")   # not in the common dir


def last_commits(root: Path, paths: Iterable[Path]) -> dict[Path, dt.datetime]:
    """For each of `paths` (page sources and their notebook twins, absolute or from `root`),
    the committer date (aware, with the commit's own offset) of the last commit that touched
    it, by the path as given. A path no commit touched (a new file not yet committed), or
    outside `root`, gets no date; so does every path when `root` is in no git repository or
    git is not installed. A tracked file with uncommitted edits keeps the date of its last
    commit: the date is of what was committed, never of the working file. A rename is the
    new name's last change (`--no-renames`: git cannot follow renames for many files at
    once). In a shallow clone a file last changed before its oldest commit gets that commit's
    date. `root` may be a folder inside the repository (a site in a subfolder).

    Two git processes, however many paths: `git ls-tree HEAD` (which paths are committed),
    then one `git log` over the top folders that hold them (content/, notebooks/), read as
    it streams and stopped once every committed path has its date: on a long history only
    the commits back to the oldest page's last change are read."""
    root = Path(os.path.abspath(root))
    wanted = _wanted(root, paths)
    git = shutil.which("git")
    if not wanted or git is None:
        return {}
    specs = sorted({rel.split("/", 1)[0] for rel in wanted})
    tracked = _in_head(git, root, specs) & set(wanted)
    found = _read_log(_log_command(git, root, specs), tracked) if tracked else {}
    return {path: when for rel, when in found.items() for path in wanted[rel]}


def _wanted(root: Path, paths: Iterable[Path]) -> dict[str, list[Path]]:
    """The paths asked for, by their path from `root` as git prints it (posix)."""
    wanted: dict[str, list[Path]] = {}
    for path in paths:
        rel = _relative(root, Path(path))
        if rel is not None:
            wanted.setdefault(rel, []).append(path)
    return wanted


def _relative(root: Path, path: Path) -> str | None:
    full = Path(os.path.abspath(root / path))
    for top, inside in ((root, full), (root.resolve(), full.resolve())):   # a symlinked root
        try:
            rel = inside.relative_to(top).as_posix()
        except ValueError:
            continue
        return rel if rel != "." else None
    return None


def _git(git: str, root: Path, *args: str) -> list[str]:
    """git run in `root`, never paging, coloring or quoting, pathspecs taken literally."""
    return [git, "--no-pager", "--literal-pathspecs", "-c", "core.quotepath=off",
            "-c", "log.showSignature=false", "-C", str(root), *args]


def _in_head(git: str, root: Path, specs: list[str]) -> set[str]:
    """The files of HEAD's tree under `specs`, by their path from `root`: the paths whose
    last commit the log is sure to reach, so it can stop there (a page not committed yet
    would otherwise cost a walk of the whole history). Empty when there is no repository
    or no commit yet."""
    try:
        done = subprocess.run(_git(git, root, "ls-tree", "-r", "-z", "--name-only", "HEAD",
                                   "--", *specs), stdin=subprocess.DEVNULL,
                              capture_output=True, env=_git_env())
    except OSError:
        return set()
    if done.returncode != 0:
        return set()
    return {os.fsdecode(name) for name in done.stdout.split(b"\0") if name}


def _log_command(git: str, root: Path, specs: list[str]) -> list[str]:
    """`git log` limited to the top folder of each path (or the file itself, at the root), with
    file names relative to `root` (`--relative`: no process to learn the prefix)."""
    return _git(git, root, "log", LOG_FORMAT, "--name-only", "-z", "--no-renames",
                "--relative", "--no-color", "--", *specs)


def _read_log(command: list[str], wanted: set[str]) -> dict[str, dt.datetime]:
    """Run `command`, parse its output as it comes, stop git once every path is found."""
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, env=_git_env())
    except OSError:         # git vanished, or cannot be run
        return {}
    reader = LogReader(wanted)
    try:
        while reader.left:
            chunk = process.stdout.read1(1 << 16)
            if not chunk:
                break
            reader.feed(chunk)
    finally:
        if process.poll() is None:
            process.kill()              # every path found: the rest of history is not read
        process.stdout.close()
        process.wait()
    return reader.found         # what was read is right even if git failed later on


def _git_env() -> dict[str, str]:
    """The environment, with git's paths as they are meant from this process's folder."""
    env = dict(os.environ)
    for name in _GIT_PATH_VARS:
        if env.get(name) and not os.path.isabs(env[name]):
            env[name] = os.path.abspath(env[name])
    if env.get("GIT_DIR") and not env.get("GIT_WORK_TREE"):
        env["GIT_WORK_TREE"] = os.getcwd()      # what git takes for the top, run from here
    return env


class LogReader:
    """The output of `git log LOG_FORMAT --name-only -z`, fed in chunks of any size: the date
    of the first (newest) commit listing each wanted path. Fields end in NUL; an empty field
    comes before each commit's date, then its file names (the first after a newline)."""

    def __init__(self, wanted: set[str]):
        self.left = set(wanted)
        self.found: dict[str, dt.datetime] = {}
        self._rest = b""
        self._when: dt.datetime | None = None
        self._next = "date"         # what the next field is: "date", "first" file, "file"

    def feed(self, chunk: bytes) -> None:
        fields = (self._rest + chunk).split(b"\0")
        self._rest = fields.pop()           # unfinished: completed by the next chunk
        for field in fields:
            self._field(field)

    def _field(self, field: bytes) -> None:
        if not field:
            self._next = "date"
        elif self._next == "date":
            self._when = _parse_date(field)
            self._next = "first"
        else:
            if self._next == "first" and field.startswith(b"\n"):
                field = field[1:]
            self._next = "file"
            name = os.fsdecode(field)
            if name in self.left and self._when is not None:
                self.left.discard(name)
                self.found[name] = self._when


def _parse_date(field: bytes) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(field.decode("ascii").strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def head_stamp(root: Path) -> str | None:
    """The commit HEAD points at in the repository holding `root` (and the shallow clone's
    boundary, if any), read from `.git` without running git: a few small files. The dates
    `last_commits` gives change only when this does, so a build keeps the dates it read under
    the same stamp. None: `root` is in no repository (or `.git` cannot be read); a branch
    with no commit yet gives "unborn <branch>". Worktrees and submodules (a `.git` file
    naming the git folder), detached HEADs, packed refs and $GIT_DIR are read as git does."""
    found = _git_dirs(Path(os.path.abspath(root)))
    if found is None:
        return None
    gitdir, common, head = found
    stamp = _resolve(head, gitdir, common)
    if stamp is None:
        return None
    shallow = _read_bytes(common / "shallow")
    if shallow:         # `git fetch --deepen` changes dates, not HEAD
        stamp += " shallow " + hashlib.sha256(shallow).hexdigest()[:16]
    return stamp


def _git_dirs(root: Path) -> tuple[Path, Path, str] | None:
    """(git folder, common git folder, HEAD's text) of the repository holding `root`."""
    if os.environ.get("GIT_DIR"):
        return _git_dir_at(Path(os.path.abspath(os.environ["GIT_DIR"])))
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_file():
            text = _read_text(dot) or ""
            if not text.startswith("gitdir:"):
                continue
            found = _git_dir_at(folder / text[len("gitdir:"):].strip())
        elif dot.is_dir():
            found = _git_dir_at(dot)
        else:
            continue
        if found is not None:
            return found
    return None


def _git_dir_at(gitdir: Path) -> tuple[Path, Path, str] | None:
    head = _read_text(gitdir / "HEAD")
    if head is None:
        return None         # not a git folder: git too would look further up
    common = _read_text(gitdir / "commondir")       # a linked worktree's: the main .git
    if os.environ.get("GIT_COMMON_DIR"):
        common = os.path.abspath(os.environ["GIT_COMMON_DIR"])
    return gitdir, (gitdir / common.strip()) if common else gitdir, head.strip()


def _resolve(head: str, gitdir: Path, common: Path) -> str | None:
    """The commit id a HEAD text names, through symbolic refs, loose refs and packed-refs."""
    value = head
    for _ in range(5):          # HEAD -> branch -> (a symbolic ref) -> commit
        if not value.startswith("ref:"):
            return value if _is_hex(value) else None
        name = value[len("ref:"):].strip()
        folder = gitdir if name.startswith(_PER_WORKTREE) else common
        loose = _read_text(folder / name)
        if loose is None:
            packed = _packed(common, name)
            if packed is not None:
                return packed
            return _reftable(common) or f"unborn {name}"
        value = loose.strip()
    return None


def _packed(common: Path, name: str) -> str | None:
    text = _read_text(common / "packed-refs")
    for line in (text or "").splitlines():
        if line and line[0] not in "#^":
            commit, _, ref = line.partition(" ")
            if ref.strip() == name:
                return commit
    return None


def _reftable(common: Path) -> str | None:
    """A repository whose refs are in reftables: the list of tables, which every ref update
    rewrites, stands for HEAD's commit."""
    tables = _read_bytes(common / "reftable" / "tables.list")
    return "reftable " + hashlib.sha256(tables).hexdigest() if tables else None


def _is_hex(value: str) -> bool:
    return len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value.lower())


def _read_text(path: Path) -> str | None:
    data = _read_bytes(path)
    return data.decode("utf-8", "surrogateescape") if data is not None else None


def _read_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None
