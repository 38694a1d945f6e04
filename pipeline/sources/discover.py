"""Stage 1: find the files that become pages."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.model import Source

SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules", ".git"}


def discover(config: SiteConfig) -> list[Source]:
    """Every `content/**/*.md`, and every `notebooks/**/*.ipynb` that has no Markdown twin yet."""
    pages = [Source(path, rel, "md") for path, rel in walk(config.content, ".md")]
    twins = {s.rel for s in pages}
    pages += [Source(path, rel, "ipynb") for path, rel in walk(config.notebooks, ".ipynb")
              if rel not in twins]
    return sorted(pages, key=lambda s: (s.rel, s.kind))


def walk(top: Path, suffix: str) -> list[tuple[Path, str]]:
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in files:
            if name.endswith(suffix) and not name.startswith("."):
                path = Path(folder, name)
                rel = path.relative_to(top).with_suffix("").as_posix()
                found.append((path, rel))
    return found
