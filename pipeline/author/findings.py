"""What `nbpress check` reports: a finding (a file, a line, a message, a level), and where in
a page's text a reference is written."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import unquote

ERROR, WARNING, NOTE = "error", "warning", "note"
LEVELS = (ERROR, WARNING, NOTE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")
_BEFORE = r"(?<![^\s(<\"'\[=,])"          # a reference as a whole: after a space, ( < " ' [ = ,
_AFTER = r"(?![^\s)>\"'\],])"            # and before a space, ) > " ' ] or ,
_AFTER_PATH = r"(?![^\s)>\"'\],#?])"      # a path: its fragment or query may follow


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of one file. An error fails the check; a warning fails it only with
    `--strict`; a note never does."""

    path: Path
    line: int | None
    message: str
    repaired: str | None = None     # the line as it would be repaired (mojibake only)
    level: str = ERROR

    @property
    def note(self) -> bool:
        return self.level == NOTE


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Each finding once, by file and line (a file's findings without a line first), in the
    order they were found within a line."""
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (str(f.path), f.line or 0))


def line_of(text: str, ref: str, start: int = 1) -> int | None:
    """The first line from `start` where `ref` is written (as it is, or percent-decoded),
    preferring lines outside fenced code; None when the text does not have it."""
    lines = text.splitlines()
    outside = [n for n, _ in outside_fences(lines)]
    for numbers in (outside, range(1, len(lines) + 1)):
        for written in dict.fromkeys((ref, unquote(ref))):
            found = next((n for n in numbers if n >= start and written in lines[n - 1]), None)
            if found is not None:
                return found
    return None


def outside_fences(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(1-based number, line) of each line outside fenced code blocks and their fences."""
    fence = ""
    for number, line in enumerate(lines, start=1):
        found = _FENCE.match(line)
        if not fence:
            if found:
                fence = found.group(1)
            else:
                yield number, line
        elif found and found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence) \
                and not found.group(2).strip():
            fence = ""


class Locator:
    """Where the references of a page are written, in the order the page's HTML has them:
    the n-th time a reference is asked for, the line of its n-th occurrence as a whole (not
    the start of a longer one), outside fenced code and inline code spans (the last one found
    again past them). Notebooks have no lines."""

    def __init__(self, text: str, body_line: int):
        self.text, self.body_line = text, body_line
        lines = text.splitlines()
        fenced = {n for n, _ in outside_fences(lines)}
        self.prose = [(n, "".join(piece for piece, code in code_spans(lines[n - 1]) if not code))
                      for n in range(body_line, len(lines) + 1) if n in fenced]
        self.asked: dict[str, int] = {}

    def find(self, ref: str, path: bool = False) -> int | None:
        """The line of the next occurrence of `ref` (as written, or percent-decoded); `path`:
        it is a URL's path, which its fragment or query may follow."""
        if not self.text:
            return None
        after = _AFTER_PATH if path else _AFTER
        patterns = [re.compile(_BEFORE + re.escape(r) + after) for r in dict.fromkeys(
            (ref, unquote(ref)))]
        found = [n for n, line in self.prose for p in patterns for _ in p.finditer(line)]
        count = self.asked.get(ref, 0)
        self.asked[ref] = count + 1
        if found:
            return sorted(found)[min(count, len(found) - 1)]
        return line_of(self.text, ref, self.body_line)


def code_spans(line: str) -> list[tuple[str, bool]]:
    """The line in pieces, each with whether it is an inline code span: a run of backticks
    up to the next run of the same length."""
    pieces, pos, search = [], 0, 0
    while (opening := _BACKTICKS.search(line, search)) is not None:
        closing = next((m for m in _BACKTICKS.finditer(line, opening.end())
                        if len(m.group()) == len(opening.group())), None)
        if closing is None:
            search = opening.end()
            continue
        pieces += [(line[pos:opening.start()], False), (line[opening.start():closing.end()], True)]
        pos = search = closing.end()
    return [p for p in pieces + [(line[pos:], False)] if p[0]]
