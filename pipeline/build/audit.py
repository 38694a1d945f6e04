"""The draft audit: after the site phase, before the new output is swapped in, every file this
build wrote (pages, listings, tag pages, feeds, sitemap, redirects, the search index) is read
for the URL and the title of each page that is not published (a draft). One found fails the
build, and the last published site stays.

A URL is found in a link or source attribute, a sitemap `<loc>` or a feed `<link>`, resolved
from the file that holds it; a title, as the whole text of an element (`>Title<`, the way a
listing, a feed or the nav shows it). Written files alone are read: a file kept from the last
build was read when it was written, and a page that links to a page that became a draft is
built again (its link is dead)."""
from __future__ import annotations

import gzip
import json
import posixpath
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlsplit

from pipeline.errors import NbpressError

_URL = re.compile(r"""(?:href|src|content)\s*=\s*["']([^"']*)["']|<(?:loc|link|id)>([^<]*)<"""
                  r'|"url":"([^"]*)"')        # the last: a search index fragment
AUDITED = (".html", ".xml", ".json", ".txt")


@dataclass(frozen=True, slots=True)
class Hidden:
    """A page that must not show: where it would be, and what it is called."""

    source: Path
    url: str                # "/blog/draft/"
    title: str


class LeakError(NbpressError):
    """An unpublished page shows in the output."""


def audit(folder: Path, written: Iterable[str], hidden: list[Hidden], base_url: str,
          shown_titles: set[str], shown_urls: set[str], output_name: str = "output") -> None:
    """Raise a LeakError naming the first output file (under `folder`) that shows a hidden
    page. Titles and URLs that a published page also has are not evidence."""
    urls = {h.url: h for h in hidden if h.url not in shown_urls}
    titles = {t: h for h in hidden if h.title not in shown_titles
              for t in {f">{escape(h.title, quote=False)}<", f">{escape(h.title)}<",
                        '"title":' + json.dumps(h.title, ensure_ascii=False)}}
    if not urls and not titles:
        return
    base = urlsplit(base_url).path.rstrip("/") if base_url else ""
    for rel in sorted(set(written)):
        text = _text(folder / rel)
        if text is None:
            continue
        found = _leak(rel, text, urls, titles, base)
        if found is not None:
            what, page = found
            raise LeakError(f"shows the unpublished page {page.source.name} ({what}), so the "
                            "site was not published", Path(output_name) / rel,
                            hint=f"remove it from the page or template that writes {rel} (a "
                                 "link written as HTML, a theme template), or publish the page "
                                 f"(draft: false in {page.source}); the last published site "
                                 "is kept")


def _leak(rel: str, text: str, urls: dict[str, Hidden], titles: dict[str, Hidden],
          base: str) -> tuple[str, Hidden] | None:
    here = "/" + posixpath.dirname(rel)
    for match in _URL.finditer(text):
        path = _site_path(match.group(1) or match.group(2) or match.group(3) or "", here, base)
        if path in urls:
            return f"a link to {path}", urls[path]
    for needle, page in titles.items():
        if needle in text:
            return f"its title {page.title!r}", page
    return None


def _site_path(ref: str, here: str, base: str) -> str | None:
    """A reference as a site URL path with a trailing slash ("../draft/" from "/blog" ->
    "/draft/"), or None for another site's."""
    parts = urlsplit(ref.strip())
    if parts.scheme in ("mailto", "data", "javascript"):
        return None
    path = unquote(parts.path)
    if parts.netloc:
        if not path.startswith(base + "/") and path != base:
            return None
        path = path[len(base):] or "/"
    elif not path.startswith("/"):
        path = posixpath.join(here, path)
    path = posixpath.normpath(path) if path else here
    path = path.removesuffix("/index.html")
    return path.rstrip("/") + "/" if path not in ("", "/", ".") else "/"


def _text(path: Path) -> str | None:
    """A written file's text: HTML, XML, JSON; a search index fragment unzipped."""
    try:
        if path.suffix in AUDITED:
            return path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".pf_fragment":
            return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return None
