"""Pages written the way other tools write them: fastpages and nbdev notebooks, whose first
Markdown cell holds the frontmatter (`# Title`, `> summary`, `- key: value`), dated by file
name; MyST's `% comment` lines."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from pipeline.sources.frontmatter import parse_date


_FASTPAGES_ITEM = re.compile(r"^-\s+([A-Za-z_][\w-]*):\s*(.*?)\s*$")
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_MYST_COMMENT = re.compile(r"^ {0,3}%")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_NOT_PROSE = re.compile(r"^(?:\s|$|[-*+>|<]|\d+[.)])")     # blank, indented, a list, a quote...


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
    never published (MyST's rule; jupytext keeps them in a notebook's Markdown cells). One
    between two lines of a paragraph becomes a blank line (in MyST it ends the paragraph);
    elsewhere (a list item's, a block's edge) it goes, the list staying as it was."""
    lines, kept = text.split("\n"), []
    for n, (line, code) in enumerate(_fenced(lines)):
        if code or not _MYST_COMMENT.match(line):
            kept.append(line)
        elif line.startswith("%") and n + 1 < len(lines) and kept and \
                not _NOT_PROSE.match(kept[-1]) and not _NOT_PROSE.match(lines[n + 1]):
            kept.append("")
    return "\n".join(kept)


def substitution_line(lines: list[str], start: int) -> int | None:
    """The index of the first line from `start` that uses a MyST substitution (`{{ key }}`)
    outside code fences, or None."""
    return next((start + n for n, (line, code) in enumerate(_fenced(lines[start:]))
                 if not code and "{{" in line), None)


def _fenced(lines: list[str]) -> Iterator[tuple[str, bool]]:
    """Each line, and whether it is a fenced code block's (its fences too): a fence closes
    on a line of its own character, at least as long as its opening, with no info string."""
    fence: tuple[str, int] | None = None
    for line in lines:
        found = _FENCE.match(line)
        if fence is None and found and not (found.group(1)[0] == "`" and "`" in found.group(2)):
            fence = (found.group(1)[0], len(found.group(1)))    # (```a``` is inline code)
        elif fence is not None and found and found.group(1)[0] == fence[0] and \
                len(found.group(1)) >= fence[1] and not found.group(2).strip():
            fence = None
        else:
            yield line, fence is not None
            continue
        yield line, True
