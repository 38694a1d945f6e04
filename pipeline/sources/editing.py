"""Stage 1: a page's frontmatter edited in place (`nbpress sync`, the notebook's metadata
written back): only the lines of keys whose value changes are rewritten."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from pipeline.sources.frontmatter import json_safe, parse_date

_MISSING = object()


def edit_frontmatter(block: str, wanted: Mapping[str, Any]) -> str:
    """`block` ("---\\n...\\n---\\n") with its top-level keys set to `wanted` (JSON values).

    Only the lines of keys whose value changes are rewritten, so the rest stays byte for
    byte; a date keeps the form the author used (quoted or not); a new key goes last."""
    import yaml

    lines = block.splitlines(keepends=True)
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    current = yaml.load("".join(lines[1:end]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    for key, value in wanted.items():
        if json_safe(current.get(key, _MISSING)) == value:
            continue
        span = _key_span(lines, key, end)
        old = "".join(lines[span[0]:span[1]]) if span else ""
        new = _render_entry(key, value, old)
        if span:
            lines[span[0]:span[1]] = [new]
            end += 1 - (span[1] - span[0])
        else:
            lines.insert(end, new)
            end += 1
    return "".join(lines)


def _key_span(lines: list[str], key: str, end: int) -> tuple[int, int] | None:
    """The lines of a top-level key's entry: its line and the indented lines under it."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for start in range(1, end):
        if pattern.match(lines[start]):
            stop = start + 1
            while stop < end and (lines[stop][:1] in (" ", "\t", "-") or not lines[stop].strip()):
                stop += 1
            return start, stop
    return None


def _render_entry(key: str, value: Any, old: str) -> str:
    import yaml

    old_value = old.partition(":")[2].strip()
    if isinstance(value, str) and old_value[:1] in ('"', "'"):
        return f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
    if isinstance(value, str) and parse_date(value) is not None and old_value and \
            parse_date(old_value) is not None:
        return f"{key}: {value}\n"                      # an unquoted date stays a date
    dumped = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False,
                            default_flow_style=False)
    return dumped if dumped.endswith("\n") else dumped + "\n"
