"""MyST admonitions (```` ```{note} ````, `:::{warning}`) and Quarto callouts
(`::: {.callout-tip}`) as boxes: a core rule of `render/markdown.py` turns each such fence
into its body's tokens, parsed as part of the page, between box_open and box_close."""
from __future__ import annotations

import re
from html import escape

DIRECTIVE = re.compile(r"^\{([\w-]+)\}\s*(.*)$")           # {note} Optional title
_CALLOUT = re.compile(r"^\{\.callout-(\w+)([^}]*)\}$")        # {.callout-tip title="..."}
_TITLE_ATTR = re.compile(r'title\s*=\s*"([^"]*)"')
_OPTION = re.compile(r"^:[\w-]+:.*$")                           # :class: dropdown
ADMONITIONS = ("note", "tip", "hint", "important", "warning", "caution", "attention",
               "danger", "error", "seealso", "admonition")
CALLOUTS = ("note", "tip", "important", "warning", "caution")


def expand_boxes(state) -> None:
    """Core rule after `block`: each box (admonition, callout, plain `:::` container) becomes
    its body's tokens, parsed with the page's `env`, between box_open and box_close: its
    headings, footnotes, links and math are the page's."""
    state.tokens = _expanded(state.tokens, state)


def _expanded(tokens: list, state) -> list:
    from markdown_it.token import Token

    out = []
    for token in tokens:
        box = _box_of(token) if token.type in ("fence", "colon_fence") else None
        if box is None:
            out.append(token)
            continue
        kind, title, body = box
        out.append(Token("box_open", "div", 1, map=token.map, meta={"kind": kind}, block=True))
        if kind:
            out += [Token("inline", "", 0, map=token.map, content=title, children=[]),
                    Token("box_title_close", "p", -1, block=True)]
        inner: list = []
        state.md.block.parse(body, state.md, state.env, inner)
        out += _expanded(inner, state) + [Token("box_close", "div", -1, block=True)]
    return out


def _box_of(token) -> tuple[str, str, str] | None:
    """(kind, title, body) of a fence that is a box (kind "": a plain `:::` container)."""
    info = token.info.strip()
    callout = _CALLOUT.match(info)
    if callout:
        return _callout(callout, token.content)
    directive = DIRECTIVE.match(info)
    if directive is None:
        return ("", "", token.content) if token.type == "colon_fence" else None
    name, title = directive.group(1), directive.group(2).strip()
    if name not in ADMONITIONS:
        return None
    return name, title or name.capitalize(), _without_options(token.content)


def _callout(match: re.Match, content: str) -> tuple[str, str, str]:
    kind = match.group(1) if match.group(1) in CALLOUTS else "note"
    title = _TITLE_ATTR.search(match.group(2))
    lines = content.split("\n")
    if title is None and lines and lines[0].startswith("#"):   # Quarto: the first heading
        return kind, lines[0].lstrip("#").strip(), "\n".join(lines[1:])
    return kind, title.group(1) if title else kind.capitalize(), content


def box_open(kind: str) -> str:
    if not kind:
        return "<div>\n"
    return f'<div class="admonition {escape(kind)}">\n<p class="admonition-title">'


def _without_options(content: str) -> str:
    """A MyST directive's body without its `:option: value` lines."""
    lines = content.split("\n")
    while lines and _OPTION.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)
