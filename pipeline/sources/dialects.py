"""Pages written the way other tools write them: fastpages and nbdev notebooks, whose first
Markdown cell holds the frontmatter (`# Title`, `> summary`, `- key: value`), dated by file
name; MyST's `% comment` lines."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.sources.frontmatter import parse_date


_FASTPAGES_ITEM = re.compile(r"^-\s+([A-Za-z_][\w-]*):\s*(.*?)\s*$")
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_MYST_COMMENT = re.compile(r"^ {0,3}%")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def fastpages_frontmatter(source: str, path: Path | None = None) -> dict[str, Any] | None:
    """The front matter of a fastpages/nbdev notebook: a first Markdown cell of the form

        # Title
        > summary
        - key: value

    as a mapping (title, description, keys), or None when the cell is ordinary prose."""
    import yaml

    lines = [line.rstrip() for line in source.strip().splitlines()]
    if len(lines) < 2 or not lines[0].startswith("# "):
        return None
    meta: dict[str, Any] = {"title": lines[0][2:].strip().strip('"')}
    for line in lines[1:]:
        item = _FASTPAGES_ITEM.match(line)
        if line.startswith(">"):
            meta["description"] = line[1:].strip()
        elif item:
            try:
                meta[item.group(1)] = yaml.safe_load(item.group(2)) if item.group(2) else None
            except (yaml.YAMLError, ValueError):     # (ValueError: 2024-02-30, no date)
                meta[item.group(1)] = item.group(2)
        elif line.strip():
            return None
    if len(meta) == 1:
        return None
    dated = _DATED_NAME.match(path.name) if path is not None else None
    if dated and "date" not in meta and parse_date(dated.group(1)):
        meta["date"] = dated.group(1)            # Jekyll's convention: the date is in the name
    if "permalink" in meta and "slug" not in meta:
        meta["slug"] = meta["permalink"]
    return meta


def without_myst_comments(text: str) -> str:
    """MyST Markdown without its `% comment` lines outside code fences: the author's notes,
    never published (MyST's rule; jupytext keeps them in a notebook's Markdown cells)."""
    kept, fence = [], None
    for line in text.split("\n"):
        if _FENCE.match(line) and (fence is None or line.strip().startswith(fence)):
            fence = line.strip()[:3] if fence is None else None
        if fence is not None or not _MYST_COMMENT.match(line):
            kept.append(line)
    return "\n".join(kept)
