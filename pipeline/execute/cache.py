"""The execution cache: a page's code runs again only when something that affects it changed.

The key hashes what decides the results of the code: the code cells (with the tags that change
how they run, not display-only ones such as `hide-input`), the page's params, the site's base
URL, the kernel, the page's working folder (from the site root), the files of its bundle (the
data beside it, which its code may read) and of its `depends:` patterns, and the environment
(the installed packages). Prose, titles and dates are not in it, so a prose edit never starts
a kernel. The build time is not in it either: a page that must run on every build says
`execute: always`.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.model import Page
from pipeline.files import cache_dir, write_atomic

FORMAT = 1
FREEZE_DIR = "_freeze"          # in the site's folder: committed with it


def environment_key() -> str:
    """The Python that runs `python3` kernels here, and the packages installed in it."""
    digest = hashlib.sha256(sys.version.encode())
    for folder in sorted({p for p in sys.path if p.endswith("-packages")}):
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".dist-info"))
        except OSError:
            continue
        digest.update("\n".join(names).encode())
    return digest.hexdigest()


def depends_files(page: Page) -> list[Path]:
    """The files matched by the page's `depends:` patterns, from its own folder."""
    folder = page.source.path.parent
    found = {p for pattern in page.depends for p in folder.glob(pattern) if p.is_file()}
    return sorted(found)


# Tags that change what a cell does when it runs (papermill, nbclient); all others only
# change how the page shows it.
EXECUTION_TAGS = frozenset({"parameters", "injected-parameters", "raises-exception",
                            "skip-execution"})
PAGE_SUFFIXES = (".md", ".ipynb")


def execution_key(nb, page: Page, base_url: str, environment: str, root: Path,
                  files: dict[str, str] | None = None) -> str:
    """What decides the results of the page's code; `root` is the site's folder; `files`:
    its `data_files`, when the caller has them already."""
    return _key(code_parts(nb, page, base_url, root)
                + [data_files(page) if files is None else files, environment])


def code_parts(nb, page: Page, base_url: str, root: Path) -> list:
    """What decides the results of the page's code but its data and the packages: the key of
    its frozen results (`FrozenResults`)."""
    code = [(c.source, sorted(EXECUTION_TAGS.intersection(c.metadata.get("tags", []))))
            for c in nb.cells if c.cell_type == "code"]
    spec = nb.metadata.get("kernelspec", {})
    return [FORMAT, code, dict(page.params), base_url, spec.get("name"), spec.get("language"),
            _rel(page.source.path.parent, root)]


def data_files(page: Page) -> dict[str, str]:
    """The files its code may read (`depends:` and its bundle), by name from its folder: hash."""
    folder = page.source.path.parent
    return {p.relative_to(folder).as_posix(): _file_hash(p)
            for p in sorted(set(depends_files(page)) | set(bundle_files(page)))}


def _key(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def bundle_files(page: Page) -> list[Path]:
    """The data a page's code may read without declaring it: the files beside the page (not
    other pages, not hidden files) and those in sub-folders that hold no page (`data/`)."""
    return files_of_bundle(page.source.path.parent)


def files_of_bundle(folder: Path) -> list[Path]:
    found: list[Path] = []
    for entry in _entries(folder):
        if entry.is_file() and not entry.name.endswith(PAGE_SUFFIXES):
            found.append(entry)
        elif entry.is_dir() and not _holds_pages(entry):
            found += sorted(p for p in entry.rglob("*") if p.is_file() and not _hidden(p, entry))
    return found


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        return []


def _holds_pages(folder: Path) -> bool:
    return any(p.suffix in PAGE_SUFFIXES for p in folder.rglob("*") if not _hidden(p, folder))


def _hidden(path: Path, top: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(top).parts)


def _rel(folder: Path, root: Path) -> str:
    try:
        return folder.relative_to(root).as_posix()
    except ValueError:
        return folder.as_posix()


class ExecutionCache:
    """Executed notebooks under `.nbpress-cache/exec/<key>.ipynb`, written atomically."""

    def __init__(self, root: Path):
        self.folder = cache_dir(root) / "exec"

    def get(self, key: str) -> tuple[Any | None, str | None]:
        """(the executed notebook, None), (None, None) on a miss, or (None, a note) when the
        entry was damaged and has been removed."""
        import nbformat

        path = self.folder / f"{key}.ipynb"
        try:
            nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
            nbformat.validate(nb)
            if nb.metadata.get("nbpress", {}).get("execution_key") != key:
                raise ValueError("it belongs to another key")
        except FileNotFoundError:
            return None, None
        except Exception as exc:       # unreadable, invalid JSON, invalid notebook
            path.unlink(missing_ok=True)
            return None, f"discarded a damaged execution cache entry ({type(exc).__name__})"
        return nb, None

    def put(self, key: str, nb) -> None:
        import nbformat

        nb.metadata.setdefault("nbpress", {})["execution_key"] = key
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / f"{key}.ipynb", nbformat.writes(nb))


class FrozenResults:
    """`freeze = true`: each page's last executed notebook kept in `_freeze/<page>.ipynb`, a
    folder meant to be committed (Quarto's `_freeze/`), so a machine without the data or the
    packages (CI) publishes what the author ran. A frozen result is used when the page's code
    is the same (`code_parts`: not the packages) and no data file the page has here differs
    from the one it ran with (a file missing here, as in CI, is taken as it was)."""

    def __init__(self, root: Path):
        self.root, self.folder = root, root / FREEZE_DIR

    def path(self, page: Page) -> Path:
        rel = _rel(page.source.path, self.root)
        return self.folder / (rel.rsplit(".", 1)[0] + (f"#{page.variant}" if page.variant else "")
                              + ".ipynb")

    def get(self, page: Page, key: str, files: dict[str, str]):
        import nbformat

        try:
            nb = nbformat.reads(self.path(page).read_text(encoding="utf-8"), as_version=4)
        except (OSError, ValueError):
            return None
        frozen = nb.metadata.get("nbpress", {}).get("freeze", {})
        if frozen.get("key") != key or any(frozen.get("files", {}).get(name) != digest
                                           for name, digest in files.items()):
            return None
        return nb

    def put(self, page: Page, key: str, files: dict[str, str], nb) -> None:
        import copy

        import nbformat

        nb = copy.deepcopy(nb)
        nb.metadata.setdefault("nbpress", {})["freeze"] = {"key": key, "files": files}
        self.path(page).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path(page), nbformat.writes(nb))


def freeze_key(nb, page: Page, base_url: str, root: Path) -> str:
    return _key(code_parts(nb, page, base_url, root))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
