"""Links to a heading that is not there, found by the build as `nbpress check` finds them:
each page built lists its links with a fragment (`#x` on the page, `../other/#x` to another
page), read from its article as published (the links of `render/html.url_attributes`: no
comment, code or other attribute), and after the site phase each fragment is looked up among
the ids of the page it leads to as this build publishes it (`site/anchors.py`). A page kept
from the last build is looked at again when a page it links to was built (its headings may
have changed) or is gone; only the pages such links lead to are read, each once."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Collection
from urllib.parse import unquote, urlsplit

from pipeline.site.anchors import has_fragment, suggestion

_ANCHOR = re.compile(r'<a class="anchor-link" href="#([^"]*)"')
_FIX = " (correct the fragment after # to a heading of that page)"


@dataclass(frozen=True, slots=True)
class Linking:
    """A page with fragment links: its page file ("blog/a/index.html"), its name in a
    warning (its source path; a family member's values too) and its `fragment_links`."""

    file: str
    shown: str
    hrefs: tuple[str, ...]


def fragment_links(article: str) -> tuple[str, ...]:
    """The links of an article with a fragment (`#x`, `../other/#x`), unescaped, each once,
    but for its headings' own anchor marks. The article is parsed only when something but
    those marks may be one: a `#` (or `&num;`) and an `href`."""
    from pipeline.render.html import url_attributes
    from pipeline.render.links import LINK_ATTRIBUTES

    rest = _ANCHOR.sub("", article) if "anchor-link" in article else article
    if ("#" not in rest and "&num" not in rest) or "href" not in rest.lower():
        return ()
    own = _own(article)
    return tuple(dict.fromkeys(a.value for a in url_attributes(article)
                               if a.name in LINK_ATTRIBUTES and "#" in a.value
                               and a.value not in own))


def targets(page: Linking) -> set[str]:
    """The page files its fragment links lead to."""
    found = (_target(href, page.file) for href in page.hrefs)
    return {target for target, fragment in found if target is not None and fragment}


def is_fragment_warning(warning: str) -> bool:
    return warning.endswith(_FIX)


def fragment_warnings(pages: dict[str, Linking], read: Callable[[str], str | None],
                      ids_of: Callable[[str], Collection[str]]) -> dict[str, list[str]]:
    """`pages`: state key -> the page; `read(file)` a page's article HTML as published (None:
    not ours); `ids_of(article)` the ids in it. State key -> warnings."""
    known: dict[str, Collection[str] | None] = {}

    def ids(file: str) -> Collection[str] | None:
        if file not in known:
            article = read(file)
            known[file] = ids_of(article) if article is not None else None
        return known[file]

    found: dict[str, list[str]] = {}
    for key, page in sorted(pages.items()):
        for href in page.hrefs:
            target, fragment = _target(href, page.file)
            if target is None or not fragment:
                continue
            there = ids(target)
            if there is None or has_fragment(fragment, there):
                continue
            close = suggestion(fragment, there)
            found.setdefault(key, []).append(
                f"{page.shown}: links to {href}: no heading with that id"
                + (f" (did you mean #{close}?)" if close else "") + _FIX)
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
