"""HTML blocks of a Markdown page that jupytext splits: two blank lines end a Markdown cell,
even inside an author's `<div>` or `<style>`; the halves are joined again. Containers are
found with an HTML parser, never inside code."""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator

from pipeline.markup import HtmlReader

# Container tags whose opening and closing may be split over two cells by a double blank line.
_CONTAINERS = ("div", "style", "script", "section", "figure", "table", "details", "aside",
               "article", "blockquote", "pre", "ul", "ol", "center", "svg", "header", "footer")
_CODE = ("pre", "code")                      # what is inside them is shown, not parsed
_RAW_TEXT = ("pre", "script", "style")       # Markdown does not look inside them
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_BLANK_LINE = re.compile(r"(\n[ \t]*\n)")
_ESCAPE_OR_BACKTICK = re.compile(r"[\\`]")
_BACKTICKS = re.compile(r"`+")
_INDENTS = ("    ", "\t", " \t", "  \t", "   \t")    # four columns in (a tab stops at four)


def merge_split_html(cells: list[Any]) -> list[Any]:
    """Join markdown cells that jupytext split inside an open HTML element (two blank lines)."""
    merged: list[Any] = []
    for cell in cells:
        prev = merged[-1] if merged else None
        if (prev is not None and prev.cell_type == "markdown" == cell.cell_type
                and open_containers(prev.source) > 0):
            prev.source = f"{prev.source}\n\n\n{cell.source}"
        else:
            merged.append(cell)
    return merged


def open_containers(text: str) -> int:
    """How many container elements the Markdown text opens and leaves open, read with an
    HTML parser: code (fenced and indented blocks, inline spans, <pre>, <code>), characters
    escaped with a backslash and the text of <script> and <style> are not looked into, and
    a tag is a tag however it is spelled. An end tag with no element open to close (one an
    earlier cell opened) closes nothing."""
    if "<" not in text:
        return 0
    parser, pending = _OpenElements(), []

    def in_raw_text() -> bool:              # the parser reads up to here first
        parser.feed("".join(pending))
        pending.clear()
        return parser.in_raw_text()

    lines = _without_inline_code(_without_fences(text)).split("\n")
    for line in _prose_lines(lines, in_raw_text):
        pending.append(f"{line}\n")
    parser.feed("".join(pending))
    parser.close()
    return sum(1 for tag in parser.open if tag in _CONTAINERS)


class _OpenElements(HtmlReader):
    """The stack of open containers and code elements, innermost last."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []

    def in_code(self) -> bool:
        return any(tag in _CODE for tag in self.open)

    def in_raw_text(self) -> bool:
        return any(tag in _RAW_TEXT for tag in self.open)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if (tag in _CONTAINERS or tag in _CODE) and not self.in_code():
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        """`<div/>` opens nothing (HTML ignores the slash; authors mean an empty element)."""

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost open `tag` and what is open inside it. Inside code only a
        code element's end tag counts; an end tag with nothing open to close is ignored."""
        if tag not in self.open or (self.in_code() and tag not in _CODE):
            return
        del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]


def _without_fences(text: str) -> str:
    """The Markdown text with the lines of its fenced code blocks blank."""
    kept, fence = [], None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence[0]) \
                and len(match.group(1)) >= len(fence) and not match.group(2).strip():
            fence = None
        elif fence is None:
            kept.append(line)
            continue
        kept.append("")
    return "\n".join(kept)


def _prose_lines(lines: Iterable[str], in_raw_text: Callable[[], bool]) -> Iterator[str]:
    """Each line, blank for a line of an indented code block: four columns in, after a blank
    line or more code, outside a list item and outside <pre>, <script> and <style> (asked
    of the parser as the lines reach it)."""
    after_blank, in_list = True, False
    for line in lines:
        blank = not line or line.isspace()
        indented = not blank and line.startswith(_INDENTS)
        if indented and after_blank and not in_list and not in_raw_text():
            yield ""
            continue
        if not blank and not indented:
            in_list = bool(_LIST_ITEM.match(line)) or (in_list and not after_blank)
        after_blank = blank
        yield line


def _without_inline_code(text: str) -> str:
    """The text with its inline code spans (a run of backticks up to the next run as long,
    in the same paragraph) and its backslash-escaped `<` and backticks blanked out; the
    lines stay where they were."""
    parts = _BLANK_LINE.split(text)
    return "".join(part if i % 2 else _paragraph_without_code(part)
                   for i, part in enumerate(parts))


def _paragraph_without_code(text: str) -> str:
    out, pos = [], 0
    while (found := _ESCAPE_OR_BACKTICK.search(text, pos)) is not None:
        start = found.start()
        out.append(text[pos:start])
        if text[start] == "\\":
            pos = start + 2
            out.append(" " if text[start + 1:pos] in ("<", "`") else text[start:pos])
            continue
        pos = _BACKTICKS.match(text, start).end()
        run = pos - start
        close = next((m for m in _BACKTICKS.finditer(text, pos) if len(m.group()) == run), None)
        if close is None:
            out.append(text[start:pos])
        else:
            out.append(" " + "\n" * text.count("\n", start, close.end()))
            pos = close.end()
    return "".join(out) + text[pos:]
