"""HTML blocks of a Markdown page that jupytext splits: two blank lines end a Markdown cell,
even inside an author's `<div>` or `<style>`; the halves are joined again. Containers are
found with an HTML parser, never inside code."""
from __future__ import annotations

import re
from typing import Any

# Container tags whose opening and closing may be split over two cells by a double blank line.
_CONTAINERS = ("div", "style", "script", "section", "figure", "table", "details", "aside",
               "article", "blockquote", "pre", "ul", "ol", "center", "svg", "header", "footer")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


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
    """How many container elements the Markdown text opens without closing, read with an
    HTML parser: code (fenced blocks, inline spans, <pre>, <code>) and the text of <script>
    and <style> are not looked into, and a tag is a tag however it is spelled."""
    from html.parser import HTMLParser

    class Depth(HTMLParser):
        depth = code = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag in _CONTAINERS and not self.code:
                self.depth += 1
            if tag in ("pre", "code"):
                self.code += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("pre", "code"):
                self.code = max(self.code - 1, 0)
            if tag in _CONTAINERS and not self.code:
                self.depth -= 1

    if "<" not in text:
        return 0
    parser = Depth(convert_charrefs=False)
    parser.feed(_INLINE_CODE.sub("", _without_fences(text)))
    parser.close()
    return max(parser.depth, 0)


def _without_fences(text: str) -> str:
    """The Markdown text with its fenced code blocks left out."""
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
    return "\n".join(kept)
