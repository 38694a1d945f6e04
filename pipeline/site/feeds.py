"""Atom and RSS feeds of the site, of each section and of each tag, as (output path, key,
make) like the other site-wide files (the only feedgen user). Writes nothing.

A feed holds the dated pages only (an About page is not a post), newest first, at most
`feed_items`. Everything in it is derived from the entries and the settings, never from the
clock, so the same site gives the same bytes. Values from pages reach the XML through
feedgen (lxml escapes them), with the characters XML 1.0 cannot hold taken out first; an
entry's content is its article HTML with every URL attribute made absolute, found by the
one HTML reader (`render/html.py`), so links in code listings stay as they are.

Feeds need absolute URLs: a site without `base_url` has none.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator
from urllib.parse import quote, urljoin, urlsplit

from pipeline.config import SiteConfig
from pipeline.render.html import replace_values, srcset_urls, url_attributes
from pipeline.site.layout import URL_SAFE, absolute_url
from pipeline.site.model import Entry, SiteModel, newest_first, section_title, section_url, tag_url

ATOM, RSS = "application/atom+xml", "application/rss+xml"
FORMATS = (("feed.xml", ATOM), ("rss.xml", RSS))     # file name in the feed's folder, type
_FILE_OF = {kind: name for name, kind in FORMATS}
GENERATOR = "nbpress"
# What XML 1.0 cannot hold (lxml refuses it): C0 controls but tab and line ends, lone
# surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTML_SPACE = " \t\n\r\f"
_PAGED = re.compile(r"(/(?:.+/)?)page/[0-9]+/")          # a listing's later pages (views.page_url)
_NO_ENTRIES = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)   # `updated` of an empty feed


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed: its folder in the output ("" for the site's), its title, the site URL of
    the page it follows ("/", "/blog/", "/tags/python/") and its entries, newest first."""

    folder: str
    title: str
    page: str
    entries: tuple[Entry, ...]

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}" if self.folder else name


def feed_files(config: SiteConfig, model: SiteModel,
               article: Callable[[Entry], str | None]
               ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """(output path, key, make) of every feed: `feed.xml` (Atom) and `rss.xml` (RSS) at the
    top, in each section's folder and in `tags/<slug>/`; nothing without config.base_url.
    `article(entry)` gives an entry's article HTML, links relative to its page (or None);
    it is asked once an entry however many feeds show it, and only by a `make()`. The key
    changes whenever the bytes would."""
    contents: dict[str, str | None] = {}

    def content_of(entry: Entry) -> str | None:
        if entry.source not in contents:
            body = article(entry) if config.feed_content == "full" else None
            contents[entry.source] = None if body is None else absolute_article(
                body, _page_url(config, entry))
        return contents[entry.source]

    for feed in site_feeds(config, model):
        for name, kind in FORMATS:
            path = feed.path(name)
            yield (path, feed_key(config, feed, path),
                   lambda feed=feed, kind=kind: render(config, feed, kind, content_of))


def feed_links(config: SiteConfig, model: SiteModel, url: str) -> list[tuple[str, str, str]]:
    """(type, title, site URL path) of the feeds the page at site URL `url` names in its
    `<link rel="alternate">`: the site's feed always, its section's for a page in a section
    or on a section's listing (any of its pages: `/blog/page/2/`), a tag page's own (any of
    its pages). Paths as the model writes site URLs (`/blog/feed.xml`, not percent-encoded:
    `layout.absolute_url` encodes them). Nothing without config.base_url, and only feeds
    that `feed_files` makes."""
    if not config.base_url:
        return []
    at = "/" + url.strip("/") + "/" if url.strip("/") else "/"
    listing = _first_listing_page(at)
    feeds = [Feed("", config.title, "/", ())]       # always made: its entries are not needed
    section = _section_of_page(model, at) or model.section_at(listing.strip("/"))
    if section is not None:
        feeds.append(_section_feed(config, model, section))
    tag = _tag_at(model, listing)
    if tag is not None:
        feeds.append(_tag_feed(config, tag[0], tag[1]))
    links = []
    for feed in feeds:
        if feed.entries or feed.folder == "":
            links += [(ATOM, feed.title, "/" + feed.path("feed.xml")),
                      (RSS, f"{feed.title} (RSS)", "/" + feed.path("rss.xml"))]
    return links


def site_feeds(config: SiteConfig, model: SiteModel) -> list[Feed]:
    """The feeds of the site: its own always, those of sections and tags with dated pages."""
    if not config.base_url:
        return []
    feeds = [_site_feed(config, model)]
    feeds += [_section_feed(config, model, name) for name in model.sections]
    feeds += [_tag_feed(config, tag, entries) for tag, entries in model.tags().values()]
    return [f for f in feeds if f.entries or f.folder == ""]


def _site_feed(config: SiteConfig, model: SiteModel) -> Feed:
    return Feed("", config.title, "/", _posts(config, newest_first(model.entries.values())))


def _section_feed(config: SiteConfig, model: SiteModel, name: str) -> Feed:
    url = section_url(name)
    return Feed(url.strip("/"), f"{section_title(name)} — {config.title}", url,
                _posts(config, model.section_entries(name)))


def _tag_feed(config: SiteConfig, tag: str, entries: list[Entry]) -> Feed:
    url = tag_url(tag)
    return Feed(url.strip("/"), f"Tagged “{tag}” — {config.title}", url, _posts(config, entries))


def _posts(config: SiteConfig, entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """The first `feed_items` dated entries of `entries` (newest first already)."""
    dated = (e for e in entries if e.date and moment(e.date) is not None)
    return tuple(e for _, e in zip(range(config.feed_items), dated))


def _first_listing_page(url: str) -> str:
    """The URL of the first page of the listing at `url` ("/blog/page/2/" -> "/blog/")."""
    paged = _PAGED.fullmatch(url)
    return paged.group(1) if paged else url


def _section_of_page(model: SiteModel, url: str) -> str | None:
    """The section of the published page at `url`, from a map made once per site model (in
    the model's cache, which it empties when its pages change)."""
    cache = model._cache                # noqa: SLF001 - the model's own per-version cache
    if "feeds:sections" not in cache:
        cache["feeds:sections"] = {e.url: e.section for e in model.entries.values()}
    return cache["feeds:sections"].get(url)


def _tag_at(model: SiteModel, url: str) -> tuple[str, list[Entry]] | None:
    if not url.startswith("/tags/"):
        return None
    found = model.tags().get(url[len("/tags/"):].strip("/"))
    return found if found is not None and tag_url(found[0]) == url else None


def feed_key(config: SiteConfig, feed: Feed, path: str) -> str:
    """A hash of everything the file at `path` shows: the settings it uses, its title and
    page, and each entry's URL, title, dates, tags, abstract and article digest."""
    settings = [config.base_url, config.title, config.description, config.author,
                config.language, config.feed_content, config.feed_items, GENERATOR]
    entries = [[e.url, e.title, e.date, e.updated, list(e.tags), e.abstract, e.digest]
               for e in feed.entries]
    text = json.dumps([path, feed.title, feed.page, settings, entries], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def render(config: SiteConfig, feed: Feed, kind: str,
           content_of: Callable[[Entry], str | None]) -> bytes:
    """The feed as Atom (`kind` ATOM) or RSS bytes, UTF-8."""
    from feedgen.feed import FeedGenerator

    generator = FeedGenerator()
    if kind == RSS:
        generator.load_extension("dc", atom=False, rss=True)    # dc:creator: an author by name
    _describe(generator, config, feed, kind)
    for entry in feed.entries:
        _add_entry(generator, config, entry, content_of(entry), kind)
    made = generator.atom_str if kind == ATOM else generator.rss_str
    return made(pretty=True, encoding="UTF-8", xml_declaration=True)


def _describe(generator, config: SiteConfig, feed: Feed, kind: str) -> None:
    """The feed's own fields: id (its Atom URL), title, links (self first: feedgen takes the
    last link as RSS's <link>), updated (its newest entry's), language, author, generator."""
    own = _absolute(config, "/" + feed.path(_FILE_OF[kind]))
    generator.id(_absolute(config, "/" + feed.path("feed.xml")))
    generator.title(xml_text(feed.title) or xml_text(config.base_url))
    generator.link(href=own, rel="self", type=kind)
    generator.link(href=_absolute(config, feed.page), rel="alternate", type="text/html")
    generator.description(xml_text(config.description) or xml_text(feed.title) or GENERATOR)
    generator.updated(max((_updated(e) for e in feed.entries), default=_NO_ENTRIES))
    generator.generator(GENERATOR)
    if config.language:
        generator.language(xml_text(config.language))
    if kind == ATOM:    # Atom needs an author for the feed or for every entry: the site's
        generator.author(name=xml_text(config.author) or xml_text(config.title) or GENERATOR)


def _add_entry(generator, config: SiteConfig, entry: Entry, content: str | None,
               kind: str) -> None:
    """One entry: id and link its page's absolute URL, dates, author, tags, the abstract as
    summary, the article (links made absolute) as content."""
    item = generator.add_entry(order="append")
    url = _page_url(config, entry)
    item.guid(url, permalink=True)                  # Atom id and RSS guid
    item.title(xml_text(entry.title) or url)
    item.link(href=url, rel="alternate", type="text/html")
    item.published(moment(entry.date))
    item.updated(_updated(entry))
    author = xml_text(config.author)
    if author and kind == ATOM:
        item.author(name=author)
    elif author:
        item.dc.dc_creator(author)
    for tag in entry.tags:
        if xml_text(tag).strip():
            item.category(term=xml_text(tag))
    if entry.abstract and xml_text(entry.abstract).strip():     # text, written as HTML
        item.summary(html.escape(xml_text(entry.abstract), quote=False), type="html")
    if content is not None:
        item.content(xml_text(content), type="html")


def absolute_article(body: str, page: str) -> str:
    """Article HTML with every URL attribute (src, href, srcset, poster, xlink:href) outside
    code made absolute against `page`, the page's absolute URL: `fig.png`, `../x/`, `#top`
    and `/a` resolve as a browser resolves them there; `data:`, `mailto:` and other URLs
    with a scheme stay as written. Every other byte stays."""
    changes = []
    for attr in url_attributes(body):
        if attr.name == "srcset":
            changes.append((attr, _absolute_srcset(attr.value, page)))
        else:
            changes.append((attr, absolute_ref(attr.value, page)))
    return replace_values(body, changes)


def absolute_ref(ref: str, page: str) -> str:
    """One reference resolved against the absolute URL `page`, percent-encoded once."""
    value = ref.strip(_HTML_SPACE)
    try:
        if urlsplit(value).scheme:      # https:, data:, mailto:, ...: already absolute
            return ref
        return quote(urljoin(page, value), safe=URL_SAFE)
    except ValueError:                  # not a URL ("http://[x"): left as written
        return ref


def _absolute_srcset(value: str, page: str) -> str:
    parts, pos = [], 0
    for start, end in srcset_urls(value):
        parts += [value[pos:start], absolute_ref(value[start:end], page)]
        pos = end
    return "".join(parts) + value[pos:]


def xml_text(value: str | None) -> str:
    """`value` without the characters XML 1.0 cannot hold ("" for None)."""
    return _NOT_XML.sub("", value) if value else ""


def moment(iso: str | None) -> dt.datetime | None:
    """An ISO date or time as an aware datetime: a date is its midnight UTC, a naive time
    is UTC. None when it is not one."""
    if not iso:
        return None
    try:
        if len(iso) == 10:
            day = dt.date.fromisoformat(iso)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def _updated(entry: Entry) -> dt.datetime:
    """When the entry last changed: its `updated`, never before its date."""
    published = moment(entry.date) or _NO_ENTRIES
    return max(moment(entry.updated) or published, published)


def _page_url(config: SiteConfig, entry: Entry) -> str:
    return _absolute(config, entry.url)


def _absolute(config: SiteConfig, path: str) -> str:
    return absolute_url(config, path) or path
