"""Stage 4: Markdown to HTML with markdown-it-py and mdit-py-plugins (the engine of the MyST
parser), for prose pages and for the Markdown cells of notebook pages alike (nbconvert's
`markdown2html` filter calls it: `render/export.py`). The only markdown-it importer.

CommonMark with raw HTML kept as written, plus GitHub's tables and strikethrough, footnotes,
task lists, definition lists, `$...$` and `$$...$$` math (MathML made at build time,
`render/math.py`, in a `math` span or div: no script), and an `id` on every heading that stays
the same from build to build (GitHub's rule: lower case, punctuation dropped, spaces to
hyphens; a repeated heading gets `-1`, `-2`). Boxes as MyST and Quarto write them:
```` ```{note} ````, `:::{warning}`, `::: {.callout-tip}`. A directive we do not support, and a
formula that cannot be converted, are shown as written, never dropped, and reported
(`Markdown.unsupported`). One parser serves a whole build.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

from pipeline.render.math import to_mathml

_NOT_ID = re.compile(r"[^\w\- ]")
_DIRECTIVE = re.compile(r"^\{([\w-]+)\}\s*(.*)$")          # {note} Optional title
_CALLOUT = re.compile(r"^\{\.callout-(\w+)([^}]*)\}$")        # {.callout-tip title="..."}
_TITLE_ATTR = re.compile(r'title\s*=\s*"([^"]*)"')
_OPTION = re.compile(r"^:[\w-]+:.*$")                           # :class: dropdown
_BARE_URL = re.compile(r"(?<![(<\"'=/\w])(?:https?://|www\.)", re.IGNORECASE)
ADMONITIONS = ("note", "tip", "hint", "important", "warning", "caution", "attention",
               "danger", "error", "seealso", "admonition")
CALLOUTS = ("note", "tip", "important", "warning", "caution")
DISPLAY = {"display_mode": True}                 # dollarmath's options of a display formula
MATH_NAMES = ("$", "$$")          # an Unsupported formula's name: never a directive's


@dataclass(frozen=True, slots=True)
class Unsupported:
    """What is shown as written: a directive (its name and the line that opens it), or a
    formula latex2mathml could not convert (`$` inline, `$$` display; the text to find it by:
    `$` and its first line inline, the first line of its TeX for display)."""

    name: str
    opening: str


class Markdown:
    """The site's Markdown renderer: `render(text) -> html`."""

    def __init__(self) -> None:
        # Two parsers alike but for linkify (bare URLs as links), which doubles the cost of
        # a page: it is used only for a text with a URL outside link syntax (`(`, `<`, `="`).
        self._plain, self._linking = self._parser(linkify=False), self._parser(linkify=True)
        self.unsupported: list[Unsupported] = []      # since the caller last cleared it

    def render(self, text: str) -> str:
        md = self._linking if _BARE_URL.search(text) else self._plain
        return md.render(text)

    def render_inline(self, text: str) -> str:
        return self._plain.renderInline(text)

    def _parser(self, linkify: bool):
        from markdown_it import MarkdownIt
        from mdit_py_plugins.anchors import anchors_plugin
        from mdit_py_plugins.colon_fence import colon_fence_plugin
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.dollarmath import dollarmath_plugin
        from mdit_py_plugins.footnote import footnote_plugin
        from mdit_py_plugins.tasklists import tasklists_plugin

        md = (MarkdownIt("commonmark", {"html": True, "linkify": linkify})
              .enable(["table", "strikethrough"] + (["linkify"] if linkify else []))
              .use(footnote_plugin)
              .use(deflist_plugin)
              .use(tasklists_plugin)
              # Pandoc's rule: "$5 and $10" is money, not math
              .use(dollarmath_plugin, double_inline=True, allow_space=False, allow_digits=False,
                   renderer=self._math)
              .use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_id)
              .use(colon_fence_plugin))
        # `$$...$$` inside a paragraph is display math, but a <div> cannot be in a <p>
        rules = md.renderer.rules           # called as rule(tokens, idx, options, env)
        rules["math_inline_double"] = lambda tokens, idx, options, env: (
            f'<span class="math display">{self._math(tokens[idx].content.strip(), DISPLAY)}</span>')
        fence = rules["fence"]
        rules["fence"] = rules["colon_fence"] = (
            lambda tokens, idx, options, env: self._box_or_fence(tokens, idx, options, env, fence))
        rules["table_open"] = lambda *_: '<div class="table-wrap">\n<table>\n'   # it scrolls,
        rules["table_close"] = lambda *_: "</table>\n</div>\n"                 # the page not
        return md

    def _math(self, tex: str, options: dict) -> str:
        """dollarmath's renderer: the formula as MathML; else its TeX shown, and reported."""
        display = bool(options.get("display_mode"))
        mathml = to_mathml(tex, display)
        if mathml is not None:
            return mathml
        delimiter = "$$" if display else "$"
        first = next((line.strip() for line in tex.split("\n") if line.strip()), "")
        self.unsupported.append(Unsupported(delimiter, first if display else "$" + first))
        return f'<code class="math-tex">{escape(delimiter + tex + delimiter, quote=False)}</code>'

    def _box_or_fence(self, tokens, idx, options, env, fence) -> str:
        token = tokens[idx]
        info = token.info.strip()
        callout = _CALLOUT.match(info)
        if callout:
            return self._callout(callout, token.content)
        directive = _DIRECTIVE.match(info)
        if directive is None:
            if token.type == "colon_fence":        # ::: with no directive: a plain container
                return f"<div>\n{self.render(token.content)}</div>\n"
            return (_highlight(token.content, info.split()[0] if info else "")
                    or fence(tokens, idx, options, env))
        name, title = directive.group(1), directive.group(2).strip()
        if name in ADMONITIONS:
            return self._box(name, title or name.capitalize(), _without_options(token.content))
        self.unsupported.append(Unsupported(name, token.markup + token.info))
        return (f'<div class="directive unsupported" data-directive="{escape(name)}">'
                f'<p class="directive-name">{escape("{" + name + "}")} {escape(title)}</p>'
                f"<pre>{escape(token.content)}</pre></div>\n")

    def _callout(self, match: re.Match, content: str) -> str:
        kind = match.group(1) if match.group(1) in CALLOUTS else "note"
        title = _TITLE_ATTR.search(match.group(2))
        lines = content.split("\n")
        if title is None and lines and lines[0].startswith("#"):   # Quarto: the first heading
            return self._box(kind, lines[0].lstrip("#").strip(), "\n".join(lines[1:]))
        return self._box(kind, title.group(1) if title else kind.capitalize(), content)

    def _box(self, kind: str, title: str, content: str) -> str:
        return (f'<div class="admonition {escape(kind)}">\n'
                f'<p class="admonition-title">{self.render_inline(title)}</p>\n'
                f"{self.render(content)}</div>\n")


def _without_options(content: str) -> str:
    """A MyST directive's body without its `:option: value` lines."""
    lines = content.split("\n")
    while lines and _OPTION.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)


def _highlight(code: str, lang: str) -> str | None:
    """A fenced block in the language its info names, highlighted by Pygments with the
    site's one stylesheet (`.highlight`, as nbconvert's code cells); None: shown plain."""
    if not lang:
        return None
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang)
    except ClassNotFound:
        return None
    return highlight(code, lexer, HtmlFormatter(cssclass="highlight", wrapcode=False))


def heading_id(title: str) -> str:
    """GitHub's heading ids: "Hello, World!" -> "hello-world"; letters of any script kept."""
    text = unicodedata.normalize("NFC", title).strip().lower()
    return _NOT_ID.sub("", text).replace(" ", "-") or "section"
