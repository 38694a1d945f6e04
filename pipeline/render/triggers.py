"""Stage 4: which of the Markdown engine's rules a text can set off.

markdown-it tries each block rule at the start of every block, and each inline rule at every
character that may begin markup, and most of them look only to find their marker missing. A
rule whose marker is nowhere in the text can never match, so `render/markdown.py` renders a
text with a parser whose rules are only those its characters allow: the same HTML, a fifth
less time on a page of prose. A test here is a superset of its rules' (a `|` anywhere lets
tables in): a wrong guess costs time, never a change in the page.
"""
from __future__ import annotations

import re

# A definition list's `:` or `~` begins a line, after indentation, quote or list markers
# (`\r` ends a line too: markdown-it's normalize rule makes it `\n`).
_DEFINITION = re.compile(r"\n[ \t>*+\-\d.)]*[:~]")      # searched in "\n" + the text

# (the rules, what one of them needs in the text: any of these strings)
_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("table",), ("|",)),
    (("math_block", "math_inline"), ("$",)),
    (("fence",), ("```", "~~~")),
    (("colon_fence",), (":::",)),
    (("nbpress_boxes",), ("```", "~~~", ":::")),        # a box is a fence or a colon fence
    (("blockquote",), (">",)),
    (("myst_target",), (")=",)),
    (("reference",), ("]:",)),
    (("html_block", "html_inline", "autolink"), ("<",)),
    (("heading",), ("#",)),
    (("backticks",), ("`",)),
    (("strikethrough",), ("~~",)),
    (("emphasis",), ("*", "_")),
    (("link",), ("[",)),
    (("image",), ("![",)),
    (("entity",), ("&",)),
    (("github-tasklists",), ("[ ]", "[x]", "[X]", "[\t]")),
    # footnotes: the plugin's rules and ours that keep a page's notes in step across texts
    (("footnote_def", "footnote_ref", "footnote_inline", "footnote_tail",
      "nbpress_left_as_text", "nbpress_notes_defined", "nbpress_notes_of_this_text"),
     ("[^", "^[")),
)


_MARKERS = tuple(sorted({(m, tuple(set(m))) for _, markers in _RULES for m in markers}))
_IDLE: dict[frozenset[str], frozenset[str]] = {}


def idle_rules(text: str) -> frozenset[str]:
    """The rules that cannot match anywhere in `text`: they may be left out of its parse."""
    found = _found(text)
    idle = _IDLE.get(found)
    if idle is None:
        idle = _IDLE[found] = frozenset(name for names, markers in _RULES
                                        if found.isdisjoint(markers) for name in names)
    if (":" not in text and "~" not in text) or _DEFINITION.search(
            "\n" + (text.replace("\r", "\n") if "\r" in text else text)) is None:
        idle |= {"deflist"}
    return idle


def _found(text: str) -> frozenset[str]:
    """The markers in `text`. (A character missing is found out fastest: a marker is looked
    for only when each of its characters is in the text.)"""
    found = []
    for marker, chars in _MARKERS:
        for char in chars:
            if char not in text:
                break
        else:
            if len(marker) == 1 or marker in text:
                found.append(marker)
    return frozenset(found)
