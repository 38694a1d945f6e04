"""Links to a heading that is not there, found by the build as `nbpress check` finds them:
each page built in this build lists its links with a fragment (`#x` on the page, `../other/#x`
to another page) as it is written, and after the site phase each fragment is looked up among
the ids of the page it leads to as this build publishes it (`site/anchors.py`). Only the pages
such links lead to are read, each once."""
from __future__ import annotations

import posixpath
import re
from typing import Callable
from urllib.parse import unquote, urlsplit

from pipeline.site.anchors import has_fragment, suggestion

_HREF = re.compile(r'href="([^"]*#[^"]*)"')
_ANCHOR = re.compile(r'<a class="anchor-link" href="#([^"]*)"')


def fragment_links(article: str) -> tuple[str, ...]:
    """The links of an article with a fragment (`#x`, `../other/#x`), each once, but for its
    headings' own anchor marks: found where the page is built (in its worker), as it is
    published (the site phase lays a page out again, its article as it was)."""
    if "#" not in article:
        return ()
    own = _own(article)
    return tuple(dict.fromkeys(h for h in _HREF.findall(article) if h not in own))


def fragment_warnings(pages: dict[str, tuple[str, tuple[str, ...]]],
                      read: Callable[[str], str | None],
                      ids_of: Callable[[str], frozenset[str]]) -> dict[str, list[str]]:
    """`pages`: page file ("blog/a/index.html") -> (the source it was built from, its
    `fragment_links`); `read(file)` a page's article HTML as published (None: not ours);
    `ids_of(article)` the ids in it. Source -> warnings."""
    known: dict[str, frozenset[str] | None] = {}

    def ids(file: str) -> frozenset[str] | None:
        if file not in known:
            article = read(file)
            known[file] = ids_of(article) if article is not None else None
        return known[file]

    found: dict[str, list[str]] = {}
    for file, (source, hrefs) in sorted(pages.items()):
        for href in hrefs:
            target, fragment = _target(href, file)
            if target is None or not fragment:
                continue
            there = ids(target)
            if there is None or has_fragment(fragment, there):
                continue
            close = suggestion(fragment, there)
            found.setdefault(source, []).append(
                f"{source}: links to {href}: no heading with that id"
                + (f" (did you mean #{close}?)" if close else "")
                + " (correct the fragment after # to a heading of that page)")
    return found


def _own(article: str) -> set[str]:
    """The `#id` links of the headings' own anchor marks: always there."""
    return {f"#{m}" for m in _ANCHOR.findall(article)}


def _target(href: str, file: str) -> tuple[str | None, str]:
    """The page file a link leads to from `file`, and its fragment; None for another site or
    a file that is not a page."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None, ""
    if not parts.path:
        return file, unquote(parts.fragment)
    path = posixpath.normpath(posixpath.join(posixpath.dirname(file), unquote(parts.path)))
    if path.startswith(".."):
        return None, ""
    if parts.path.endswith("/") or path == ".":
        path = "index.html" if path == "." else f"{path}/index.html"
    return (path if path.endswith(".html") else None), unquote(parts.fragment)
