"""Anchors: the ids a page's article has, and the links whose fragment names none of them.
Pure: no files, no pages read here (`nbpress check` uses it, and the build can).

A fragment is found as browsers find it (the HTML standard's "indicated part of the
document"): an element whose `id` is the fragment, or an `<a>` whose `name` is, first as
written, then percent-decoded; an empty fragment and `top` are the top of the page. The ids
are those of the article HTML: the headings' (`render/markdown.py:heading_id`, "-1", "-2" for
a repeat), footnotes' (`fn1`, `fnref1`), and whatever `id=` or `<a name=>` an author wrote.
"""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from typing import Collection, Hashable, Iterable, Mapping
from urllib.parse import unquote

from pipeline.markup import HtmlReader

TOP = "top"             # scrolls to the top of any page, with or without such an element


@dataclass(frozen=True, slots=True)
class FragmentLink:
    """A link with a fragment: to the page known as `target` (the linking page itself for
    `#x`), `fragment` as written in the URL (percent-encoded or not). `written` is the link as
    the author wrote it and `where` anything the caller needs to report it (a file and line);
    neither is read here."""

    target: Hashable
    fragment: str
    written: str = ""
    where: object = None


@dataclass(frozen=True, slots=True)
class MissingFragment:
    """A link whose fragment names no element of its target page, and the closest id it has
    (None: nothing is close)."""

    link: FragmentLink
    suggestion: str | None


def element_ids(html: str) -> frozenset[str]:
    """Every id of the article HTML: each element's `id`, and each `<a>`'s `name`."""
    reader = _Ids()
    reader.feed(html)
    reader.close()
    return frozenset(reader.ids)


def has_fragment(fragment: str, ids: Collection[str]) -> bool:
    """Whether a browser finds `fragment` (as written in a URL, without its `#`) in a page
    with these ids."""
    if not fragment or fragment in ids:
        return True
    try:
        decoded = unquote(fragment, errors="strict")
    except UnicodeDecodeError:      # not UTF-8 once decoded: only the fragment as written
        decoded = fragment
    return decoded in ids or decoded.lower() == TOP


SUGGESTIONS = 25     # "did you mean" for this many missing fragments of one page in a page
                     # at most: each reads every id (many near misses: quadratic time)


def suggestion(fragment: str, ids: Collection[str]) -> str | None:
    """The id closest to `fragment` (decoded; case ignored first: `#Setup` is `setup`), or
    None when none is close."""
    wanted = unquote(fragment)
    by_case = [i for i in ids if i.lower() == wanted.lower()]
    if by_case:
        return sorted(by_case)[0]
    close = difflib.get_close_matches(wanted, sorted(ids), n=1, cutoff=0.6)
    return close[0] if close else None


def missing_fragments(links: Iterable[FragmentLink],
                      ids: Mapping[Hashable, Collection[str]]) -> list[MissingFragment]:
    """The links whose fragment their target page does not have, in the order given, each with
    the closest id the page has. A target missing from `ids` (a listing, a page not read) is
    not judged."""
    found, asked = [], Counter()
    for link in links:
        known = ids.get(link.target)
        if known is not None and not has_fragment(link.fragment, known):
            key = (link.target, getattr(getattr(link.where, "page", None), "source", None))
            asked[key] += 1             # by target and linking page
            close = suggestion(link.fragment, known) if asked[key] <= SUGGESTIONS else None
            found.append(MissingFragment(link, close))
    return found


class _Ids(HtmlReader):
    """Collects `id` attributes (of any element) and the `name` of `<a>` elements. Escaped
    text in code listings is text, not tags: it adds nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
