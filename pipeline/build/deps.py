"""Dependencies: what a page's output was made from, recorded as the build touches it, and
asked again by the next build (lektor's model, `builder.py`). The one module that knows how a
dependency is written down and checked.

A page records the files it used (its images and downloads, the data of its code, its
notebook twin) as `path -> [mtime_ns, size, ctime_ns]`, the folders-and-patterns it watches (`depends:`
globs, a twin that may appear) as `glob:folder::pattern -> [hash of the matching names, 0]`,
and the pages it links to with their slugs. What every page depends on (nbpress's code, its
libraries, the settings) is the site key; what it shows of other pages (nav, listings) is its
layout key (`site/model.py`).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

GLOB = "glob:"
BUNDLE = "bundle:"
PACKAGE = Path(__file__).parents[1]     # pipeline/
SHAPING_LIBRARIES = ("nbconvert", "nbformat", "mistune", "markdown-it-py", "mdit-py-plugins",
                     "pygments", "jupytext", "jinja2", "pyyaml", "python-frontmatter",
                     "latex2mathml", "tinycss2", "feedgen", "pillow", "pagefind-bin", "plotly")
_CODE_HASH: str | None = None


@dataclass(slots=True)
class Recorder:
    """Collects one page's dependencies while it is built (in a worker or the build)."""

    root: Path
    refs: dict[str, list[int]] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)

    def file(self, path: Path) -> None:
        name, value = stamp(self.root, path)
        self.refs[name] = value

    def bundle(self, folder: Path) -> None:
        """The set of files of a page's bundle (`execute/cache.py`): one added is a change."""
        self.refs[f"{BUNDLE}{folder.relative_to(self.root).as_posix()}"] = [_bundle(folder), 0]

    def glob(self, folder: Path, pattern: str) -> None:
        if folder != self.root and self.root not in folder.parents:
            return                          # outside the site: not ours to watch
        name, value = glob_ref(self.root, folder, pattern)
        self.refs[name] = value

    def link(self, target: Path, slug: str | None) -> None:
        self.links[target.relative_to(self.root).as_posix()] = slug


def stamp(root: Path, path: Path) -> tuple[str, list[int]]:
    return path.relative_to(root).as_posix(), stamp_of(path.stat())


def stamp_of(st: os.stat_result) -> list[int]:
    """What says a file changed without reading it: its modification time and size, and the
    time of its last change of any kind (ctime), which no tool sets back: `cp -p`, `tar` and
    `touch -d` can restore an mtime, never a ctime. Sources, data, static files."""
    return [st.st_mtime_ns, st.st_size, st.st_ctime_ns]


def glob_ref(root: Path, folder: Path, pattern: str) -> tuple[str, list[int]]:
    """A pattern as a reference: the files it matches (a new or a removed one is a change)."""
    return f"{GLOB}{folder.relative_to(root).as_posix()}::{pattern}", [_matches(folder, pattern), 0]


def changed_ref(root: Path, refs: dict[str, list[int]]) -> str | None:
    """Why a page's output may be out of date: the first file it used whose stamp differs
    (size, mtime, or ctime alone: touched), or a pattern that now matches other files."""
    for name, seen in refs.items():
        if name.startswith(BUNDLE):
            if _bundle(root / name[len(BUNDLE):]) != seen[0]:
                return f"the files beside {name[len(BUNDLE):]} changed"
            continue
        if name.startswith(GLOB):
            folder, _, pattern = name[len(GLOB):].partition("::")
            if _matches(root / folder, pattern) != seen[0]:
                return f"the files matching {folder}/{pattern} changed"
            continue
        try:
            st = os.stat(os.path.join(root, name))       # strings: the fast path's loop
        except OSError:
            return f"{name} is gone"
        if [st.st_mtime_ns, st.st_size] != seen[:2]:
            return f"{name} changed"
        if st.st_ctime_ns != seen[2]:
            return f"{name} was touched (its size and time are the same: built to be sure)"
    return None


def _bundle(folder: Path) -> int:
    from pipeline.execute.cache import files_of_bundle

    names = sorted(p.relative_to(folder).as_posix() for p in files_of_bundle(folder))
    return int(hashlib.sha256("\n".join(names).encode()).hexdigest()[:12], 16)


def _matches(folder: Path, pattern: str) -> int:
    names = sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())
    return int(hashlib.sha256("\n".join(names).encode()).hexdigest()[:12], 16)


def code_hash() -> str:
    """nbpress's own code and templates, and the versions of the libraries that shape a
    page's HTML: an upgrade or a local change rebuilds every page. Once a process."""
    global _CODE_HASH
    if _CODE_HASH is None:
        digest = hashlib.sha256()
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PACKAGE).as_posix().encode())
                digest.update(path.read_bytes())
        digest.update(json.dumps(library_versions()).encode())
        _CODE_HASH = digest.hexdigest()
    return _CODE_HASH


def library_versions() -> dict[str, str | None]:
    """Each shaping library's installed version, from the names of the `.dist-info` folders
    of site-packages (one listing; importlib.metadata takes ten times as long)."""
    import sys

    wanted = {_normal(name): name for name in SHAPING_LIBRARIES}
    versions: dict[str, str | None] = dict.fromkeys(SHAPING_LIBRARIES)
    for folder in dict.fromkeys(p for p in sys.path if p.endswith("-packages")):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for entry in names:
            if entry.endswith(".dist-info"):
                dist, _, version = entry[:-len(".dist-info")].partition("-")
                name = wanted.get(_normal(dist))
                if name is not None and versions[name] is None:
                    versions[name] = version
    return versions


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")
