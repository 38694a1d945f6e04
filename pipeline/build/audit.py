"""The draft audit: after the site phase, before the new output is swapped in, every file this
build wrote (pages, listings, tag pages, feeds, sitemap, redirects, the search index) is read
for the URL and the title of each page that is not published (a draft). One found fails the
build, and the last published site stays.

A URL is found in an attribute a browser follows or fetches (in a tag, any case, any
quoting: href, src, srcset, data, ping, formaction, poster, a refresh's `url=`...), a sitemap
`<loc>` or a feed `<link>`, resolved from the file that holds it (or its `<base href>`), as a
URL parser reads it (entities decoded, tabs and line breaks dropped, dot segments resolved); a title, as the whole text of an element (`>Title<`, the way a
listing, a feed or the nav shows it). Written files alone are read: a file kept from the last
build was read when it was written, and a page that links to a page that became a draft is
built again (its link is dead)."""
from __future__ import annotations

import bisect
import gzip
import json
import posixpath
import re
from dataclasses import dataclass
from html import escape, unescape
from itertools import chain
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urljoin, urlsplit

from pipeline.errors import NbpressError

# Where a URL is (the last: a search index fragment) and where a title is (an element's whole
# text, a JSON title): one pattern each, starting with its own word, which the regular
# expression engine finds far faster than it tries an alternation at every character, and
# which is looked for first (`in` is faster still: a page has no `<loc>`). Each match takes
# its word alone, what follows is read ahead: a value that holds another's word
# (`content='href='`) never hides the attribute after it, so every text the one alternation
# found is found (and a few more). URLs are looked for in the file's bytes with ASCII letters
# lowered, as a browser reads attribute names (`HREF`, `Src`), their values in either quotes
# or none (`href=/blog/draft/`), inside a tag; the values are then taken as written. Every
# attribute a browser follows or fetches (`formaction`, `data-src`: the word ends the name).
_VALUE = rb"""(?=\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))"""
_ATTRIBUTES = (b"href", b"src", b"srcset", b"content", b"data", b"ping", b"action", b"poster",
               b"cite", b"background", b"manifest")
_URLS = tuple((word, re.compile(re.escape(word) + ahead)) for word, ahead in (
    *((word, _VALUE) for word in _ATTRIBUTES), (b"<loc>", rb"(?=([^<]*)<)"),
    (b"<link>", rb"(?=([^<]*)<)"), (b"<id>", rb"(?=([^<]*)<)"), (b'"url":"', rb'(?=([^"]*)")')))
# A tag, its quoted values skipped (a `>` in one does not end it): where attributes are
_TAG = re.compile(rb"""<[a-z][^\s/>]*(?:[^>"']|"[^"]*"|'[^']*')*>""")
_REFRESH = re.compile(rb"""^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*?)\1\s*$""",
                      re.IGNORECASE | re.DOTALL)     # <meta http-equiv=refresh content="0; url=">
_BASE = re.compile(rb"<base\s[^>]*>")
# The first look: every attribute's value (whatever its name), pieces of lists too
_ANY_VALUE = re.compile(rb"""=(?=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))""")   # each =,
                            # one inside another's value too (`<loc>href="</loc> <a href=`)
_PIECES = re.compile(rb"""[\s,;='"]+""")
# A value with nothing to decode or normalise (no entity, percent-escape, backslash, tab, line
# break or dot segment): the last segment of each URL it may hold, found in one pass
_TO_READ = re.compile(rb"[&%\\\t\n\r]|/\.")
_SEGMENT_ENDS = re.compile(rb"([^/\s,;=#?]+)/*(?:index\.html)?(?:[#?][^\s,;=]*)?(?=[\s,;=]|$)")
_ELEMENTS = _URLS[len(_ATTRIBUTES):]       # <loc>, <link>, <id>, "url": XML and JSON
_IN_JSON = _URLS[-1:]
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
        self._lowered_bytes = {name.encode("utf-8", "surrogatepass") for name in self._lowered}
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
            name = self._last_of[ref] = _last(_read(ref).split("#")[0].split("?")[0])
        return name in self.names

    def may_hide(self, lowered: bytes) -> bool:
        """Whether a reference whose ASCII letters are lowered may be one `hides` (when a
        letter of its last segment is not as the hidden page's URL writes it, it is not)."""
        may = self._may.get(lowered)
        if may is None:
            if not _TO_READ.search(lowered):            # most: at C speed
                value = lowered if lowered.isascii() else \
                    lowered.decode("utf-8", "replace").lower().encode("utf-8", "surrogatepass")
                ends = _SEGMENT_ENDS.findall(value)
                if b"'" in value or b'"' in value:      # url='../draft/' (and it's: its)
                    ends += _SEGMENT_ENDS.findall(value.translate(None, b"'\""))
                may = not self._lowered_bytes.isdisjoint(ends)
            else:
                refs = [lowered] + (_PIECES.split(lowered) if _PIECES.search(lowered) else [])
                may = any(map(self._may_end_hidden, refs))
            self._may[lowered] = may
        return may

    def may_hide_any(self, values: list[bytes]) -> bool:
        """`may_hide` of any of them: those seen before (most of a page's) looked up at C speed."""
        memo = self._may
        for value in [v for v in values if v not in memo]:
            self.may_hide(value)
        return any(map(memo.__getitem__, values))

    def _may_end_hidden(self, ref: bytes) -> bool:
        ref = _read(ref.decode("utf-8", "replace"))
        return _last(ref.split("#")[0].split("?")[0]).lower() in self._lowered

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
    if audit.urls and audit.may_hide_any(_lowered_values(lowered, rel)):
        based = _based(data, lowered, here)
        for ref in _values(data, lowered):      # one may end in a hidden name: in text order
            if not audit.hides(ref):
                continue                           # a reference that ends in none: no leak
            path = _site_path(based(ref), here, audit.base)
            if path in audit.urls:
                return f"a link to {path}", audit.urls[path]
    if audit.titles and not audit.titles.keys().isdisjoint(_all(audit.texts, text)):
        for shown in _found(audit.texts, text):
            page = audit.titles.get(shown)
            if page is not None:
                return f"its title {page.title!r}", page
    return None


def _lowered_values(lowered: bytes, rel: str = "") -> list[bytes]:
    """A first look, for a name that may be hidden (`Audit.may_hide` reads a list's pieces
    too): in a file's bytes, ASCII letters lowered, every attribute value, whatever its name
    and wherever it is; in XML and JSON, the elements' and keys' values as well; no order."""
    found = list(filter(None, chain.from_iterable(_ANY_VALUE.findall(lowered))))
    for word, pattern in _IN_JSON if rel.endswith(".html") else _ELEMENTS:
        if word in lowered:
            found += pattern.findall(lowered)
    return found


def _values(data: bytes, lowered: bytes) -> list[str]:
    """The URL values of a file as written, in text order, an attribute's only in a tag
    (matches of two patterns may overlap: the audit reads too much rather than too little)."""
    tags = None
    spans = []
    for word, pattern in _URLS:
        for m in pattern.finditer(lowered) if word in lowered else ():
            if word in _ATTRIBUTES:
                tags = tags if tags is not None else [t.span() for t in _TAG.finditer(lowered)]
                at = bisect.bisect(tags, (m.start(), len(lowered))) - 1
                if at < 0 or tags[at][1] <= m.start():
                    continue            # text that reads like one (code shown): no link
            spans.append((next(m.span(g) for g in range(1, m.re.groups + 1) if m.start(g) >= 0),
                          word))
    return [url.decode("utf-8", "replace") for (a, b), word in sorted(spans)
            for url in _urls_of(word, data[a:b])]


def _urls_of(word: bytes, value: bytes) -> list[bytes]:
    """The URLs of one value: a srcset's candidates, ping's list, a refresh's target too."""
    if word == b"srcset":
        return [part.split()[0] for part in value.split(b",") if part.strip()]
    if word == b"ping":
        return value.split()
    if word == b"content":
        target = _REFRESH.match(value)
        if target and target.group(2) != value:
            return [value, target.group(2)]
    return [value]


def _based(data: bytes, lowered: bytes, here: str):
    """How a relative reference of this file resolves: against its folder, or the document's
    `<base href>` (the first)."""
    tag = _BASE.search(lowered) if b"<base" in lowered else None
    refs = _values(data[tag.start():tag.end()], lowered[tag.start():tag.end()]) if tag else []
    if not refs:
        return lambda ref: ref
    base = urljoin(here.rstrip("/") + "/", _read(refs[0]).strip())
    return lambda ref: urljoin(base, _read(ref).strip())


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
    """The last segment of a URL path ("../blog/draft/", "/draft/index.html" and
    "/draft/x/..": "draft")."""
    path = unquote(url)
    if "." in path and (path.rstrip("/").endswith("/.") or "/.." in path or path in (".", "..")):
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
    """A reference as a browser follows it: character references decoded, `\\` as `/`, tabs
    and line breaks gone (the URL parser drops them)."""
    if "&" in ref or "\\" in ref or "\t" in ref or "\n" in ref or "\r" in ref:
        ref = unescape(ref).replace("\\", "/").replace("\t", "").replace("\n", "")
        return ref.replace("\r", "")
    return ref


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
