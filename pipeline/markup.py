"""`html.parser` as a browser reads what it cannot: the one base of every HTML reader of ours.

An author's text may hold `<![` anywhere (`<div><![alt](a.png)`, a stray `<![if x]>`). HTML5
reads it as a bogus comment up to the next `>`; Python 3.11's parser takes it for an SGML
marked section and raises `AssertionError` on any keyword but a few (`_markupbase`), which
failed the whole page. Newer Pythons read it as browsers do; this does so on all of them.
"""
from __future__ import annotations

from html.parser import HTMLParser


class HtmlReader(HTMLParser):
    """An `HTMLParser` whose `<![...>` is a comment to the next `>`, as in a browser."""

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        return self.parse_bogus_comment(i, report)
