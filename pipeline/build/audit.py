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
from html import escape, unescape
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlsplit

from pipeline.errors import NbpressError

# Where a URL is (the last: a search index fragment) and where a title is (an element's whole
# text, a JSON title): one pattern each, starting with its own word, which the regular
# expression engine finds far faster than it tries an alternation at every character, and
# which is looked for first (`in` is faster still: a page has no `<loc>`). Each match takes
# its word alone, what follows is read ahead: a value that holds another's word
# (`content='href='`) never hides the attribute after it, so every text the one alternation
# found is found (and a few more). URLs are looked for in the file's bytes with ASCII letters
# lowered, as a browser reads attribute names (`HREF`, `Src`), their values in either quotes
# or none (`href=/blog/draft/`); the values are then taken from the file as written.
_VALUE = rb"""(?=\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))"""
_URLS = tuple((word, re.compile(re.escape(word) + ahead)) for word, ahead in (
    (b"href", _VALUE), (b"src", _VALUE), (b"content", _VALUE), (b"<loc>", rb"(?=([^<]*)<)"),
    (b"<link>", rb"(?=([^<]*)<)"), (b"<id>", rb"(?=([^<]*)<)"), (b'"url":"', rb'(?=([^"]*)")')))
_JSON_TITLE = ('"title":', re.compile(r'"title":(?=("(?:[^"\\]|\\.)*"))'))
_TEXT = (">", re.compile(r">(?=([^<>]+)<)"))
_BLANK = re.compile(r"\s")
_TEXT_NOT_BLANK = (">", re.compile(r">(?=([^<>\s][^<>]*)<)"))   # when no title starts blank: the
                            # newlines between tags are most of a page's texts, none a title
_AUTHORITY = re.compile(r"^[A-Za-z][\w+.-]*:(?://)?[^/?#]*")
AUDITED = (".html", ".xml", ".json", ".txt")


@dataclass(frozen=True, slots=True)
class Hidden:
    """A page that must not show: where it would be, and what it is called."""

    source: Path
    url: str                # "/blog/draft/"
    title: str


class LeakError(NbpressError):
    """An unpublished page shows in the output."""


class Audit:
    """What a build must not show (the drafts' URLs and titles), less what a published page
    or file of the site also has; made once, asked of each file as it is written (a page, in
    the worker that lays it out) or after (the site's files)."""

    def __init__(self, hidden: list[Hidden], base_url: str, shown_titles: set[str],
                 shown_urls: set[str], output_name: str = "output"):
        self.urls = {h.url: h for h in hidden if h.url not in shown_urls}
        self.titles = {t: h for h in hidden if h.title not in shown_titles
                       for t in {escape(h.title, quote=False), escape(h.title),
                                 json.dumps(h.title, ensure_ascii=False)}}
        self.names = {_last(url) for url in self.urls}
        self._lowered = {name.lower() for name in self.names}
        self._last_of: dict[str, str] = {}     # a reference's last segment, by reference:
                                               # the pages of a build share most of theirs
        self._may: dict[bytes, bool] = {}      # the same of a lowered one: may it hide?
        self.texts = (_TEXT if any(_BLANK.match(t) for t in self.titles) else _TEXT_NOT_BLANK,
                      _JSON_TITLE)
        self.base = urlsplit(base_url).path.rstrip("/") if base_url else ""
        self.output_name = output_name

    def hides(self, ref: str) -> bool:
        """Whether the reference `ref` ends in the last segment of a hidden page's URL."""
        name = self._last_of.get(ref)
        if name is None:
            name = self._last_of[ref] = _last(_read(ref).strip().split("#")[0].split("?")[0])
        return name in self.names

    def may_hide(self, lowered: bytes) -> bool:
        """Whether a reference whose ASCII letters are lowered may be one `hides` (when a
        letter of its last segment is not as the hidden page's URL writes it, it is not)."""
        may = self._may.get(lowered)
        if may is None:
            ref = _read(lowered.decode("utf-8", "replace")).strip()     # as a URL parser
            may = self._may[lowered] = _last(ref.split("#")[0].split("?")[0]).lower() \
                in self._lowered
        return may

    def __bool__(self) -> bool:
        return bool(self.urls or self.titles)

    def text(self, rel: str, text: str) -> None:
        """Raise a LeakError when the output file `rel`, whose content is `text`, shows a
        hidden page."""
        found = _leak(rel, text, self)
        if found is not None:
            what, page = found
            raise LeakError(f"shows the unpublished page {page.source.name} ({what}), so it "
                            "was not published", Path(self.output_name) / rel,
                            hint=f"remove it from the page or template that writes {rel} (a "
                                 "link written as HTML, a theme template), or publish the page "
                                 f"(draft: false in {page.source}); the last published version "
                                 "is kept")

    def files(self, folder: Path, written: Iterable[str]) -> None:
        """`text` of each written file under `folder` that can show a page."""
        if not self:
            return
        for rel in sorted(set(written)):
            text = _text(folder / rel)
            if text is not None:
                self.text(rel, text)


def _leak(rel: str, text: str, audit: Audit) -> tuple[str, Hidden] | None:
    here = "/" + posixpath.dirname(rel)
    data = text.encode("utf-8", "surrogatepass") if audit.urls else b""
    lowered = data.lower()
    if audit.urls and any(map(audit.may_hide, _lowered_values(lowered))):
        for ref in _values(data, lowered):      # one may end in a hidden name: in text order
            if not audit.hides(ref):
                continue                           # a reference that ends in none: no leak
            path = _site_path(ref, here, audit.base)
            if path in audit.urls:
                return f"a link to {path}", audit.urls[path]
    if audit.titles and not audit.titles.keys().isdisjoint(_all(audit.texts, text)):
        for shown in _found(audit.texts, text):
            page = audit.titles.get(shown)
            if page is not None:
                return f"its title {page.title!r}", page
    return None


def _lowered_values(lowered: bytes) -> list[bytes]:
    """The URL values in a file's bytes, ASCII letters lowered, in no order."""
    found = []
    for word, pattern in _URLS:
        if word in lowered:
            found += [v if isinstance(v, bytes) else v[0] or v[1] or v[2]
                      for v in pattern.findall(lowered)]
    return found


def _values(data: bytes, lowered: bytes) -> list[str]:
    """The URL values of a file as written, in text order (matches of two patterns may
    overlap: the audit reads too much rather than too little). An unquoted value counts
    only inside a tag (text shown as `src = ../draft` is none); a `content` value only when
    it can be a URL (`og:type` is "website", a refresh's has `url=`)."""
    spans = []
    for word, pattern in _URLS:
        for m in pattern.finditer(lowered):
            group = next(g for g in range(1, m.re.groups + 1) if m.start(g) >= 0)
            if group == 3 and not _in_a_tag(lowered, m.start()):
                continue
            a, b = m.span(group)
            if word == b"content" and b"/" not in lowered[a:b] and b":" not in lowered[a:b]:
                continue
            spans.append((a, b))
    return [data[a:b].decode("utf-8", "replace") for a, b in sorted(spans)]


def _in_a_tag(lowered: bytes, at: int) -> bool:
    """Whether `at` is between a tag's `<name` and its `>` (the nearest of them before it;
    a `>` inside an earlier quoted value of the same tag is taken for its end)."""
    start = lowered.rfind(b"<", 0, at)
    return start >= 0 and lowered.rfind(b">", start, at) < 0 and \
        lowered[start + 1:start + 2].isalpha()


def _all(patterns: tuple[tuple[str, re.Pattern], ...], text: str) -> list[str]:
    """What the patterns' group catches in `text`, in no order."""
    return [found for word, pattern in patterns if word in text
            for found in pattern.findall(text)]


def _found(patterns: tuple[tuple[str, re.Pattern], ...], text: str) -> list[str]:
    """What the patterns' group catches in `text`, in text order (matches of two patterns may
    overlap: the audit reads too much rather than too little)."""
    return [found for _, found in sorted((m.start(), m.group(1)) for _, pattern in patterns
                                         for m in pattern.finditer(text))]


def _last(url: str) -> str:
    """The last segment of a URL path ("../blog/draft/" and "/draft/index.html": "draft")."""
    path = unquote(url)
    if "/." in path or path.startswith("."):        # dot segments: /draft/./index.html
        path = posixpath.normpath(path)
    return path.removesuffix("index.html").rstrip("/").rpartition("/")[2]


def _site_path(ref: str, here: str, base: str) -> str | None:
    """A reference as a site URL path with a trailing slash ("../draft/" from "/blog" ->
    "/draft/"), or None for another site's. Any host may be the site's: one host has many
    spellings (`bücher.example`, `xn--bcher-kva.example`, `h.example.`), so a path under
    base_url's is the site's on any (a link elsewhere to such a path is read as one)."""
    ref = _read(ref).strip()
    try:
        parts = urlsplit(ref)
    except ValueError:                  # a host Python cannot read ("https://u[@h/"): the
        parts = urlsplit("//h" + _AUTHORITY.sub("", ref))     # path after it, as browsers do
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


def _read(ref: str) -> str:
    """A reference as a browser follows it: character references decoded, `\\` as `/`."""
    return unescape(ref).replace("\\", "/") if "&" in ref or "\\" in ref else ref


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
