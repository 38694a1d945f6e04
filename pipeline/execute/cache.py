"""The execution cache: a page's code runs again only when something that affects it changed.

The key hashes what decides the results of the code: the code cells (with their tags), the
page's params, the site's base URL, the kernel, the files the page declares in `depends:`,
and the environment (the installed packages). Prose, titles and dates are not in it, so a
prose edit never starts a kernel. The build time is not in it either: a page that must run on
every build says `execute: always`.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.model import Page
from pipeline.build.state import cache_dir, write_atomic

FORMAT = 1


def environment_key() -> str:
    """The Python that runs `python3` kernels here, and the packages installed in it."""
    digest = hashlib.sha256(sys.version.encode())
    for folder in sorted({p for p in sys.path if p.endswith("-packages")}):
        try:
            names = sorted(n for n in Path(folder).iterdir() if n.suffix == ".dist-info")
        except OSError:
            continue
        digest.update("\n".join(n.name for n in names).encode())
    return digest.hexdigest()


def depends_files(page: Page) -> list[Path]:
    """The files matched by the page's `depends:` patterns, from its own folder."""
    folder = page.source.path.parent
    found = {p for pattern in page.depends for p in folder.glob(pattern) if p.is_file()}
    return sorted(found)


def execution_key(nb, page: Page, base_url: str, environment: str) -> str:
    code = [(c.source, c.metadata.get("tags", [])) for c in nb.cells if c.cell_type == "code"]
    spec = nb.metadata.get("kernelspec", {})
    files = {p.relative_to(page.source.path.parent).as_posix(): _file_hash(p)
             for p in depends_files(page)}
    parts = [FORMAT, code, dict(page.params), base_url, spec.get("name"), spec.get("language"),
             files, environment]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
