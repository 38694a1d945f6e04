"""Stage 4: Markdown to HTML with markdown-it-py and mdit-py-plugins (the engine of the MyST
parser), for prose pages and for the Markdown cells of notebook pages alike (nbconvert's
`markdown2html` filter calls it: `render/export.py`). The only markdown-it importer.

CommonMark with raw HTML kept as written, plus GitHub's tables and strikethrough, footnotes,
task lists, definition lists, `$...$` and `$$...$$` math (kept as TeX in a `math` span or
div, for the theme to render), and an `id` on every heading that stays the same from build to
build (GitHub's rule: lower case, punctuation dropped, spaces to hyphens; a repeated heading
gets `-1`, `-2`). One parser serves a whole build: building one costs about 2 ms.
"""
from __future__ import annotations

import re
import unicodedata

_NOT_ID = re.compile(r"[^\w\- ]")


class Markdown:
    """The site's Markdown renderer: `render(text) -> html`."""

    def __init__(self) -> None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.anchors import anchors_plugin
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.dollarmath import dollarmath_plugin
        from mdit_py_plugins.footnote import footnote_plugin
        from mdit_py_plugins.tasklists import tasklists_plugin

        self._md = (MarkdownIt("commonmark", {"html": True})
                    .enable(["table", "strikethrough"])
                    .use(footnote_plugin)
                    .use(deflist_plugin)
                    .use(tasklists_plugin)
                    .use(dollarmath_plugin, double_inline=True)
                    .use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_id))
        # `$$...$$` inside a paragraph is display math, but a <div> cannot be in a <p>
        self._md.add_render_rule("math_inline_double", _display_math_in_text)

    def render(self, text: str) -> str:
        return self._md.render(text)


def _display_math_in_text(self, tokens, idx, options, env) -> str:
    from markdown_it.common.utils import escapeHtml

    return f'<span class="math display">{escapeHtml(tokens[idx].content)}</span>'


def heading_id(title: str) -> str:
    """GitHub's heading ids: "Hello, World!" -> "hello-world"; letters of any script kept."""
    text = unicodedata.normalize("NFC", title).strip().lower()
    return _NOT_ID.sub("", text).replace(" ", "-") or "section"
