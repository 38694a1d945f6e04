"""Stage 4: a page's own `<style>` applied to its article only (the only tinycss2 user).

An author's `<style>` in a page (`p { padding-bottom: 15px }`) would style the whole page:
header, nav and footer too. `scope_styles(body, ".page-body")` prefixes each selector of each
`<style>` element of the article with the scope: `p` -> `.page-body p`, `h1, h2` -> each one,
`html`, `body` and `:root` -> the scope itself. Rules inside `@media`, `@supports`, `@layer`,
`@container` and `@starting-style` are scoped the same way; other at-rules (`@keyframes`,
`@font-face`, `@import`, `@charset`, `@page`, ...) and everything inside a rule's block (its
declarations, and nested rules, which are relative to their parent) stay as written.

Only the selectors are rewritten, each by its span in the text (tinycss2's source positions):
whitespace, comments and declarations keep the author's bytes. A selector that already starts
with the scope is left alone, so scoping twice changes nothing. A `<style scoped>`, a style
of another type, one inside `<pre>`/`<code>` or a comment, and CSS the parser reports an error
in at the level of rules (an unmatched `}`, a broken string) are left exactly as they are.
"""
from __future__ import annotations

import functools
import re

from pipeline.markup import HtmlReader
from pipeline.render.html import LITERAL_ELEMENTS

SCOPED_AT_RULES = frozenset({"media", "supports", "layer", "container", "starting-style"})
ROOTS = frozenset({"html", "body"})        # with `:root` and a top-level `&`: the scope itself
CSS_TYPES = frozenset({"", "text/css"})
_MAYBE_STYLE = re.compile(r"<style", re.IGNORECASE)
_STYLE_END = re.compile(r"</style\s*>", re.IGNORECASE)
_CSS_NEWLINE = re.compile(r"\r\n|[\r\n\f]")      # as tinycss2 counts lines
_NAME_CHAR = re.compile(r"[\w\-\\]|[^\x00-\x7f]")
_BETWEEN_RULES = frozenset({"whitespace", "comment"})
_CDO_CDC = frozenset({"<!--", "-->"})            # ignored between rules, as browsers do


class _Unparsable(Exception):
    """The CSS has an error at the level of rules, or positions that do not match its text."""


def scope_styles(html: str, scope: str) -> str:
    """`html` with the CSS of each `<style>` element scoped to `scope` (a selector such as
    `.page-body`); every other byte unchanged. A text with no `<style` is not parsed."""
    if not _MAYBE_STYLE.search(html):
        return html
    last = max(m.end() for m in _STYLE_END.finditer(html)) if _STYLE_END.search(html) else 0
    head = html[:last]           # nothing after the last </style> is read: a page's style
    finder = _StyleFinder(head)  # is most often at its top, and the parser is slow
    finder.feed(head)
    finder.close()
    parts: list[str] = []
    pos = 0
    for start, end in finder.found:
        css = html[start:end]
        scoped = scope_css(css, scope)
        if scoped != css:
            parts += [html[pos:start], scoped]
            pos = end
    return "".join(parts) + html[pos:] if parts else html


@functools.lru_cache(maxsize=256)         # a site's pages often share one style block
def scope_css(css: str, scope: str) -> str:
    """A style sheet's text with its selectors scoped; unchanged when it cannot be parsed."""
    if "{" not in css:
        return css
    try:
        return _scoped(css, scope)
    except (_Unparsable, RecursionError):
        return css


def _scoped(css: str, scope: str) -> str:
    import tinycss2

    nodes = tinycss2.parse_component_value_list(css, skip_comments=False)
    starts = _offsets(css, nodes) + [len(css)]
    out: list[str] = []
    pos, prelude = 0, []                 # indices of the nodes of the rule being read
    for index, node in enumerate(nodes):
        if node.type == "error":
            raise _Unparsable(node.message)
        if not prelude and (node.type in _BETWEEN_RULES
                            or node.type == "literal" and node.value in _CDO_CDC):
            continue
        prelude.append(index)
        if node.type == "literal" and node.value == ";" and nodes[prelude[0]].type == "at-keyword":
            prelude = []                 # `@import ...;`, `@layer a, b;`: as written
        elif node.type == "{} block":
            out.append(css[pos:starts[prelude[0]]])
            pos = starts[prelude[0]]
            first = nodes[prelude[0]]
            if first.type != "at-keyword":
                out.append(_selectors(css, nodes, prelude[:-1], starts, scope))
                pos = starts[index]
            elif first.lower_value in SCOPED_AT_RULES:
                inner, end = starts[index] + 1, starts[index + 1]
                if end > inner and css[end - 1] == "}":
                    end -= 1                 # else not closed: the block runs to the end
                out += [css[pos:inner], _scoped(css[inner:end], scope)]
                pos = end
            prelude = []
    return "".join(out) + css[pos:]


def _offsets(css: str, nodes) -> list[int]:
    """Each node's offset in `css`, from tinycss2's line and column (1-based)."""
    lines = [0] + [m.end() for m in _CSS_NEWLINE.finditer(css)]
    starts = []
    for node in nodes:
        if node.source_line > len(lines):
            raise _Unparsable("a position past the end")
        start = lines[node.source_line - 1] + node.source_column - 1
        expected = ("{" if node.type == "{} block" else "@" if node.type == "at-keyword"
                    else node.value[:1] if node.type == "literal" else None)
        if expected and css[start:start + 1] != expected:
            raise _Unparsable(f"{node.type} not found at {start}")
        starts.append(start)
    return starts


def _selectors(css: str, nodes, prelude: list[int], starts: list[int], scope: str) -> str:
    """The prelude of a style rule (its selector list) with each selector scoped, its
    whitespace and comments as written; as written when a selector of the list is empty."""
    groups: list[list[int]] = [[]]
    for index in prelude:
        if nodes[index].type == "literal" and nodes[index].value == ",":
            groups.append([])
        else:
            groups[-1].append(index)
    out, pos = [], starts[prelude[0]] if prelude else 0
    for group in groups:
        core = [i for i in group if nodes[i].type not in _BETWEEN_RULES]
        if not core:
            return css[starts[prelude[0]]:starts[prelude[-1] + 1]] if prelude else ""
        first, last = core[0], core[-1]
        out += [css[pos:starts[first]], _selector(css, nodes, range(first, last + 1), starts,
                                                  scope)]
        pos = starts[last + 1]
    return "".join(out) + css[pos:starts[prelude[-1] + 1]]


def _selector(css: str, nodes, span: range, starts: list[int], scope: str) -> str:
    """One selector (the nodes `span`) scoped: `p` -> `.s p`, `body > p` -> `.s > p`,
    `:root` -> `.s`; one that already starts with the scope unchanged."""
    begin, end = starts[span.start], starts[span.stop]
    text = css[begin:end]
    if text.startswith(scope) and not _NAME_CHAR.match(text[len(scope):len(scope) + 1]):
        return text
    root = _root_end(nodes, span)
    if root is not None:
        return scope + css[starts[root]:end]
    return f"{scope} {text}"


def _root_end(nodes, span: range) -> int | None:
    """The index of the node after a leading `html`, `body`, `:root` or `&` (or a run of
    them: `html body`), None when the selector does not start with one."""
    after, index = None, span.start
    while index < span.stop:
        node = nodes[index]
        if node.type == "ident" and node.lower_value in ROOTS or (
                node.type == "literal" and node.value == "&"):
            index += 1
        elif (node.type == "literal" and node.value == ":" and index + 1 < span.stop
              and nodes[index + 1].type == "ident" and nodes[index + 1].lower_value == "root"):
            index += 2
        else:
            break
        after = index
        if index + 1 < span.stop and nodes[index].type == "whitespace":
            index += 1                      # `html body`: another root may follow
    return after


class _StyleFinder(HtmlReader):
    """The spans of the text of the `<style>` elements to scope, outside `<pre>`/`<code>`;
    comments, scripts and other styles are the parser's job, as browsers read them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.lines = [0] + [m.end() for m in re.finditer("\n", html)]
        self.literal_depth = 0
        self.text_start: int | None = None
        self.found: list[tuple[int, int]] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LITERAL_ELEMENTS:
            self.literal_depth += 1
        elif tag == "style":
            names = dict(attrs)
            scoped = "scoped" in names or (names.get("type") or "").strip().lower() not in CSS_TYPES
            self.text_start = (None if scoped or self.literal_depth
                               else self._offset() + len(self.get_starttag_text()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LITERAL_ELEMENTS:
            self.literal_depth += 1             # `<code/>` opens a code element, as in browsers

    def handle_endtag(self, tag: str) -> None:
        if tag in LITERAL_ELEMENTS and self.literal_depth:
            self.literal_depth -= 1
        elif tag == "style" and self.text_start is not None:
            self.found.append((self.text_start, self._offset()))
            self.text_start = None
