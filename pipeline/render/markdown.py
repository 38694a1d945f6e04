"""Stage 4: Markdown to HTML with markdown-it-py and mdit-py-plugins (the engine of the MyST
parser), for prose pages and for the Markdown cells of notebook pages alike (nbconvert's
`markdown2html` filter calls it: `render/export.py`). With render/boxes.py, the only
markdown-it importer.

CommonMark with raw HTML kept as written, plus GitHub's tables and strikethrough, footnotes,
task lists, definition lists, `$...$` and `$$...$$` math (MathML made at build time,
`render/math.py`, in a `math` span or div: no script), and an `id` on every heading that stays
the same from build to build (GitHub's rule: lower case, punctuation dropped, spaces to
hyphens; a repeated heading gets `-1`, `-2`). Boxes as MyST and Quarto write them:
```` ```{note} ````, `:::{warning}`, `::: {.callout-tip}`, their bodies parsed as part of the
page. A directive we do not support, and a formula that cannot be converted, are shown as
written, never dropped, and reported (`Markdown.unsupported`). Links made of bare text are
GitHub's: `http://`, `https://`, `www.` and e-mail addresses, never a bare domain (`setup.py`)
(`render/autolinks.py`).

A `Markdown` renders one page at a time, in one text (a prose page) or in several (a page's
cells, one by one): heading ids are unique across the page's texts, in order, and a footnote
defined in an earlier text can be referred to by a later one. `begin_page()` (or
`unsupported.clear()`, which callers do before each page) starts the next page. One parser
serves a whole build.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import escape

from pipeline.render.autolinks import github_links, linkable
from pipeline.render.boxes import DIRECTIVE, box_open, expand_boxes
from pipeline.render.math import to_mathml
from pipeline.render.triggers import idle_rules

_NOT_ID = re.compile(r"[^\w\- ]")
_LEFT_AS_TEXT = re.compile(r"\[\^([^\]\s]+)\]")                 # [^2] with no definition
DISPLAY = {"display_mode": True}                 # dollarmath's options of a display formula
MATH_NAMES = ("$", "$$")          # an Unsupported formula's name: never a directive's
PAGE, FIRST, LEFT = "nbpress_page", "nbpress_first_note", "nbpress_left_as_text"  # env keys
MARK = "nbpress_mark_raw"
RAW_OPEN, RAW_CLOSE = "\ue000", "\ue001"       # private use: around the author's HTML


@dataclass(frozen=True, slots=True)
class Unsupported:
    """What is shown as written: a directive (its name and the line that opens it), or a
    formula latex2mathml could not convert (`$` inline, `$$` display; the text to find it by:
    `$` and its first line inline, the first line of its TeX for display)."""

    name: str
    opening: str


@dataclass(slots=True)
class _Page:
    """What the texts of one page share: the heading ids given, the footnote plugin's data
    (`refs`: label -> number, `list`: number -> note), each definition's (label, whether it
    came after a text that wrote its reference as text), labels written as text so far."""

    ids: set[str] = field(default_factory=set)
    footnotes: dict = field(default_factory=lambda: {"refs": {}, "list": {}})
    defined: dict[int, tuple[str, bool]] = field(default_factory=dict)
    left_as_text: set[str] = field(default_factory=set)


class _Reported(list):
    """`Markdown.unsupported`: a list whose `clear()`, which render/export.py and
    author/check.py call before each page, starts a page (`Markdown.begin_page`)."""

    def __init__(self, on_clear) -> None:
        super().__init__()
        self._on_clear = on_clear

    def clear(self) -> None:
        super().clear()
        self._on_clear()


class Markdown:
    """The site's Markdown renderer: `render(text) -> html`, page by page."""

    def __init__(self) -> None:
        # Parsers alike but for the rules a text cannot set off (`render/triggers.py`), and
        # linkify (bare URLs as links, which doubles the cost of a page): each made for the
        # first text that needs it.
        self._parsers: dict[tuple[bool, frozenset[str]], object] = {}
        self.unsupported: list[Unsupported] = _Reported(self._new_page)  # this page's
        self._page = _Page()

    def begin_page(self) -> None:
        """The next texts are another page: ids and footnotes start again, as does
        `unsupported`."""
        self.unsupported.clear()

    def _new_page(self) -> None:
        self._page = _Page()

    def render(self, text: str) -> str:
        """One text of the current page (all of it, or one of its cells) as HTML."""
        return self._render(self._parser_for(text), text)

    def render_marked(self, text: str) -> tuple[str, tuple[tuple[int, int], ...] | None]:
        """A page of one text (a prose page; the page begins here): its HTML, and where in
        it the author's own HTML is (its blocks and inline tags, as written): the rest is
        the engine's, in which every `<` opens a tag (`render/html.url_attributes`). None
        where that cannot be told (the page holds a mark's character: U+E000, U+E001)."""
        self.begin_page()
        md = self._parser_for(text)
        marks = [0]                     # how many pieces of HTML `_raw` marked
        marked = self._render(md, text, {MARK: marks})
        if not (marked.count(RAW_OPEN) == marked.count(RAW_CLOSE) == marks[0]):
            self.begin_page()           # the engine wrote a mark's character itself (an
            return self.render(text), None      # entity, a title): rendered again, unmarked
        if not marks[0]:
            return marked, ()
        first, *rest = marked.split(RAW_OPEN)
        html, spans, pos = [first], [], len(first)
        for part in rest:
            raw, _, after = part.partition(RAW_CLOSE)
            spans.append((pos, pos + len(raw)))
            html += [raw, after]
            pos += len(raw) + len(after)
        return "".join(html), tuple(spans)

    def _parser_for(self, text: str):
        return self._with(linkable(text), idle_rules(text))

    def _full(self, linkify: bool):
        """The parser with every rule on (tests compare the others with it)."""
        return self._with(linkify, frozenset())

    def _with(self, linkify: bool, idle: frozenset[str]):
        key = (linkify, idle)
        md = self._parsers.get(key)
        if md is None:
            if len(self._parsers) >= 64:        # a long-running service's: bounded
                self._parsers.clear()
            md = self._parsers[key] = self._parser(linkify=linkify)
            md.disable(list(idle))
        return md

    def _render(self, md, text: str, more: dict | None = None) -> str:
        page = self._page
        return md.render(text, {"footnotes": page.footnotes, PAGE: page,
                                FIRST: len(page.footnotes["list"]), LEFT: set(), **(more or {})})

    @property
    def warnings(self) -> list[str]:
        """This page's footnote definitions no reference reached, each with the fix."""
        notes, found = self._page.footnotes["list"], []
        for number, (label, after_reference) in self._page.defined.items():
            if after_reference:
                found.append(f"the footnote [^{label}] is referred to in a cell before the one "
                             "that defines it (each cell of a page with code is rendered on "
                             "its own): the reference is shown as written and the note at the "
                             f"end of its own cell; move the definition [^{label}]: into the "
                             "cell that refers to it, or an earlier one")
            elif not notes[number].get("count"):
                found.append(f"the footnote [^{label}] is defined but never referred to: its "
                             "note is shown at the end of the cell (or page) that defines it; "
                             f"refer to it with [^{label}] (in that cell or a later one) or "
                             "remove it")
        return found

    def _parser(self, linkify: bool):
        from markdown_it import MarkdownIt
        from mdit_py_plugins.colon_fence import colon_fence_plugin
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.dollarmath import dollarmath_plugin
        from mdit_py_plugins.footnote import footnote_plugin
        from mdit_py_plugins.myst_blocks.index import target as myst_target
        from mdit_py_plugins.tasklists import tasklists_plugin

        md = (MarkdownIt("commonmark", {"html": True, "linkify": linkify})
              .enable(["table", "strikethrough"] + (["linkify"] if linkify else []))
              .use(footnote_plugin)
              .use(deflist_plugin)
              .use(tasklists_plugin)
              # Pandoc's rule: "$5 and $10" is money, not math
              .use(dollarmath_plugin, double_inline=True, allow_space=False, allow_digits=False,
                   renderer=self._math)
              .use(colon_fence_plugin))
        # MyST's `(label)=` line, between blocks only (its `%` comments and `+++` are left to
        # MyST pages: `notebook/convert.py`; here they would take ordinary lines)
        md.block.ruler.before("hr", "myst_target", myst_target, {"alt": []})
        github_links(md.linkify)
        core = md.core.ruler
        core.after("block", "nbpress_boxes", expand_boxes)
        core.after("inline", "nbpress_left_as_text", _refs_left_as_text)
        core.before("footnote_tail", "nbpress_notes_defined", _notes_defined)
        core.after("footnote_tail", "nbpress_notes_of_this_text", _notes_of_this_text)
        core.push("nbpress_heading_ids", _heading_ids)
        # `$$...$$` inside a paragraph is display math, but a <div> cannot be in a <p>
        rules = md.renderer.rules           # called as rule(tokens, idx, options, env)
        rules["math_inline_double"] = lambda tokens, idx, options, env: (
            f'<span class="math display">{self._math(tokens[idx].content.strip(), DISPLAY)}</span>')
        fence = rules["fence"]
        rules["fence"] = rules["colon_fence"] = (
            lambda tokens, idx, options, env: self._fence(tokens, idx, options, env, fence))
        rules["box_open"] = lambda tokens, idx, *_: box_open(tokens[idx].meta["kind"])
        rules["box_title_close"] = lambda *_: "</p>\n"
        rules["box_close"] = lambda *_: "</div>\n"
        rules["html_block"] = rules["html_inline"] = _raw
        rules["myst_target"] = lambda tokens, idx, *_: (
            "" if tokens[idx].meta.get("heading") else _target(tokens[idx].content))
        rules["heading_open"] = lambda tokens, idx, options, env: md.renderer.renderToken(
            tokens, idx, options, env) + "".join(map(_target, tokens[idx].meta.get("targets", ())))
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

    def _fence(self, tokens, idx, options, env, fence) -> str:
        """A fence that is no box (`_expand_boxes` took those): code, highlighted when its
        language is known, or a directive we do not support, shown and reported."""
        token = tokens[idx]
        info = token.info.strip()
        directive = DIRECTIVE.match(info)
        if directive is None:
            return (_highlight(token.content, info.split()[0] if info else "")
                    or fence(tokens, idx, options, env))
        name, title = directive.group(1), directive.group(2).strip()
        self.unsupported.append(Unsupported(name, token.markup + token.info))
        return (f'<div class="directive unsupported" data-directive="{escape(name)}">'
                f'<p class="directive-name">{escape("{" + name + "}")} {escape(title)}</p>'
                f"<pre>{escape(token.content)}</pre></div>\n")


def _raw(tokens, idx, options, env) -> str:
    """The author's HTML, as written; between marks when the caller asked (`MARK`)."""
    content, marks = tokens[idx].content, env.get(MARK)
    if marks is None:
        return content
    marks[0] += 1
    return f"{RAW_OPEN}{content}{RAW_CLOSE}"


def _page_of(env: dict) -> _Page:
    """The page of the text being parsed (one of its own when the parser is called without
    `Markdown.render`)."""
    if PAGE not in env:
        notes = env.setdefault("footnotes", {})
        notes.setdefault("refs", {})
        env.update({PAGE: _Page(footnotes=notes), LEFT: set(),
                    FIRST: len(notes.setdefault("list", {}))})
    return env[PAGE]


def _refs_left_as_text(state) -> None:
    """Core rule after `inline`: the labels of `[^x]` left as text (no definition yet)."""
    _page_of(state.env)
    for token in state.tokens:
        if token.type == "inline":
            for child in token.children or ():
                if child.type == "text" and "[^" in child.content:
                    state.env[LEFT].update(_LEFT_AS_TEXT.findall(child.content))


def _notes_defined(state) -> None:
    """Core rule before the footnote plugin's tail: a definition no reference reached (on
    this page so far) gets its number, so the tail shows it at the end of its text, never
    dropped; each definition is recorded for `Markdown.warnings`."""
    page, data = _page_of(state.env), state.env["footnotes"]
    for token in state.tokens:
        if token.type != "footnote_reference_open":
            continue
        key = ":" + token.meta["label"]
        if data["refs"].get(key, -1) < 0:
            data["refs"][key] = number = len(data["list"])
            data["list"][number] = {"label": token.meta["label"], "count": 0}
        page.defined.setdefault(data["refs"][key],
                                (token.meta["label"], token.meta["label"] in page.left_as_text))


def _notes_of_this_text(state) -> None:
    """Core rule after the footnote plugin's tail, which lists every note of the page: only
    the notes of this text are kept (an earlier text showed its own), and a note nothing
    refers to gets no link back."""
    page = _page_of(state.env)
    notes, first = state.env["footnotes"]["list"], state.env[FIRST]
    page.left_as_text |= state.env[LEFT]
    kept, keep = [], True
    for token in state.tokens:
        if token.type == "footnote_open":
            keep = token.meta["id"] >= first
        unreferenced = (token.type == "footnote_anchor"
                        and not notes[token.meta["id"]].get("count", 1))
        if keep and not unreferenced:
            kept.append(token)
        if token.type == "footnote_close":
            keep = True
    if not any(token.type == "footnote_open" for token in kept):
        kept = [t for t in kept if t.type not in ("footnote_block_open", "footnote_block_close")]
    state.tokens = kept


def _heading_ids(state) -> None:
    """Core rule, last: each heading's id, unique on the page (`-1`, `-2` for a repeat)."""
    ids = _page_of(state.env).ids
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        title = "".join(child.content for child in state.tokens[index + 1].children or ()
                        if child.type in ("text", "code_inline"))
        slug = unique = heading_id(title)
        count = 0
        while unique in ids:
            count += 1
            unique = f"{slug}-{count}"
        ids.add(unique)
        token.attrSet("id", unique)
        before = index - 1                  # MyST targets of the heading: anchors in it
        while before >= 0 and state.tokens[before].type == "myst_target":
            state.tokens[before].meta["heading"] = True
            if state.tokens[before].content != unique:      # (the heading's id already)
                token.meta.setdefault("targets", []).insert(0, state.tokens[before].content)
            before -= 1


def _target(label: str) -> str:
    """A MyST target, `(label)=`: an anchor a link can name (`#label`)."""
    return f'<span id="{escape(label)}"></span>'


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
