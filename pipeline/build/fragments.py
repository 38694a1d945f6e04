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
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Collection
from urllib.parse import unquote, urlsplit

from pipeline.site.anchors import SUGGESTIONS, has_fragment, suggestion

_ANCHOR = re.compile(r'<a class="anchor-link" href="#([^"]*)"')
_HASH = r"(?:#|&num;?|&\#0*35;?|&\#x0*23;?)"     # `#`, as written or as a character reference
_MAYBE = re.compile(rf"""href\s*=\s*(?:"[^"]*{_HASH}|'[^']*{_HASH}|[^\s"'>]*{_HASH})""",
                    re.IGNORECASE)              # an href whose value may hold a `#`
_FIX = " (correct the fragment after # to a heading of that page)"


@dataclass(frozen=True, slots=True)
class Linking:
    """A page with fragment links: its page file ("blog/a/index.html"), its name in a
    warning (its source path; a family member's values too) and its `fragment_links`."""

    file: str
    shown: str
    hrefs: tuple[str, ...]
    spelled: dict[str, str] = field(default_factory=dict)   # an href as the author wrote it


def fragment_links(article: str, spelled: dict[str, str] | None = None
                   ) -> tuple[tuple[str, str], ...]:
    """The links of an article with a fragment (`#x`, `../other/#x`), unescaped, each once,
    but for its headings' own anchor marks, each with how the author wrote it (`spelled`:
    the resolver's, `t.md#x` for `../t/#x`). The article is parsed only when something but
    those marks may be one: an `href` whose value holds a `#`."""
    from pipeline.render.html import url_attributes
    from pipeline.render.links import LINK_ATTRIBUTES

    rest = _ANCHOR.sub("", article) if "anchor-link" in article else article
    if not ("#" in rest or "&" in rest) or not _MAYBE.search(rest):  # `in` first: many times
                                    # faster than the pattern, which tries every character
        return ()
    own, spelled = _own(article), spelled or {}
    hrefs = dict.fromkeys(a.value for a in url_attributes(article)
                          if a.name in LINK_ATTRIBUTES and "#" in a.value and a.value not in own)
    return tuple((href, spelled.get(href, href)) for href in hrefs)


def target_of(href: str, file: str, base_url: str = "") -> str | None:
    """The page file a fragment link of the page file `file` leads to (None: another site's,
    or no page)."""
    target, fragment = _target(href, file, base_url)
    return target if fragment else None


def is_fragment_warning(warning: str) -> bool:
    return warning.endswith(_FIX)


def said_of(page: Linking, href: str, warning: str) -> bool:
    """Whether `warning` is the one `fragment_warnings` gives for this link of this page."""
    return (warning.startswith(f"{page.shown}: links to {page.spelled.get(href, href)}: ")
            and is_fragment_warning(warning))


def fragment_warnings(pages: dict[str, Linking], read: Callable[[str], str | None],
                      ids_of: Callable[[str], Collection[str]],
                      base_url: str = "") -> dict[str, list[str]]:
    """`pages`: state key -> the page; `read(file)` a page's article HTML as published (None:
    not ours); `ids_of(article)` the ids in it; `base_url`: the site's (its absolute links
    are its pages). State key -> warnings."""
    known: dict[str, Collection[str] | None] = {}

    def ids(file: str) -> Collection[str] | None:
        if file not in known:
            article = read(file)
            known[file] = ids_of(article) if article is not None else None
        return known[file]

    found: dict[str, list[str]] = {}
    asked: Counter = Counter()              # suggestions made, by page and target
    for key, page in sorted(pages.items()):
        for href in page.hrefs:
            target, fragment = _target(href, page.file, base_url)
            if target is None or not fragment:
                continue
            there = ids(target)
            if there is None or has_fragment(fragment, there):
                continue
            asked[key, target] += 1
            close = suggestion(fragment, there) if asked[key, target] <= SUGGESTIONS else None
            found.setdefault(key, []).append(
                f"{page.shown}: links to {page.spelled.get(href, href)}: no heading with that id"
                + (f" (did you mean #{close}?)" if close else "") + _FIX)
    return found


def _own(article: str) -> set[str]:
    """The `#id` links of the headings' own anchor marks: always there."""
    return {f"#{m}" for m in _ANCHOR.findall(article)}


def _target(href: str, file: str, base_url: str = "") -> tuple[str | None, str]:
    """The page file a link leads to from `file`, and its fragment; None for another site or
    a file that is not a page. `/x/` and the site's own absolute URLs are from its root, as
    `nbpress check` reads them."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    if base and href.startswith(base):
        href = "/" + href[len(base):]
    try:
        parts = urlsplit(href)
    except ValueError:                  # a broken host (`http://[::1`): no page of ours
        return None, ""
    if parts.scheme or parts.netloc:
        return None, ""
    if not parts.path:
        return file, unquote(parts.fragment)
    here = "" if parts.path.startswith("/") else posixpath.dirname(file)
    path = posixpath.normpath(posixpath.join(here, unquote(parts.path).lstrip("/")))
    if path.startswith(".."):
        return None, ""
    if parts.path.endswith("/") or path == ".":
        path = "index.html" if path == "." else f"{path}/index.html"
    return (path if path.endswith(".html") else None), unquote(parts.fragment)
