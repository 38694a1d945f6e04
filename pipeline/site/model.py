"""The site model: what the whole site shows of each page (nav, sections, listings), built
from the pages that are published after the page phase. Pure: no files, no templates.

Whatever a page draws from the whole site is computed here once per build (the nav links,
a section's listing), and a page depends on it through one key, `layout_key`, never through
a scan of every page.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import quote

from pipeline.config import SiteConfig
from pipeline.model import Page
from pipeline.sources.families import shown_family
from pipeline.sources.frontmatter import slug_from_path


@dataclass(frozen=True, slots=True)
class Entry:
    """A page as the site shows it elsewhere (listings, nav, sitemap)."""

    source: str
    url: str
    title: str
    section: str | None
    date: str | None        # ISO
    abstract: str | None
    updated: str | None = None      # ISO: edited, else the date (the sitemap's lastmod)
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()   # output paths of its redirect pages
    image: str | None = None        # its card's image: an output path (or a URL)
    digest: str = ""                # of its article: what feeds and the search index show
    scripts: tuple[str, ...] = ()   # the site's scripts its page loads (assets/plotly.min.js)
    # A family's member: (the listing's URL, its title, the member's place, ((name, value),
    # ...)), values as text.
    family: tuple[str, str, int, tuple[tuple[str, str], ...]] | tuple[()] = ()

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "url": self.url, "title": self.title,
                "section": self.section, "date": self.date, "abstract": self.abstract,
                "updated": self.updated, "tags": list(self.tags), "aliases": list(self.aliases),
                "image": self.image, "digest": self.digest, "scripts": list(self.scripts),
                "family": list(self.family)}

    def card(self) -> list[object]:
        """What a listing shows of the page (not its article: an edit of the text alone
        leaves listings as they are)."""
        return [self.url, self.title, self.date, self.abstract, self.image, list(self.tags)]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Entry":
        known = {k: v for k, v in data.items() if k in cls.__slots__}
        return cls(**{**known, "tags": tuple(known.get("tags", ())),
                      "aliases": tuple(known.get("aliases", ())),
                      "scripts": tuple(known.get("scripts", ())),
                      "family": (*family[:3], tuple(map(tuple, family[3])))
                      if (family := known.get("family")) else ()})


def entry_of(page: Page, rel: str, image: str | None = None, digest: str = "",
             scripts: tuple[str, ...] = ()) -> Entry:
    when = page.sort_date
    abstract = description_of(page)
    updated = page.edited or when
    return Entry(source=rel, url=page.url, title=page.title, section=page.section,
                 date=when.isoformat() if when is not None else None, abstract=abstract,
                 updated=updated.isoformat() if updated is not None else None,
                 tags=page.tags, aliases=page.aliases, image=image, digest=digest,
                 scripts=scripts, family=shown_family(page))


NAV_PAGES = 5       # top-level pages shown in the header when there are no more than this
SEARCH_AUTO = 20_000    # published pages up to which a site has search unless it says: pagefind
                        # takes about 35 KB a page (3.5 GB for 100,000)
SIDEBAR = 50        # pages of a book's section in its sidebar: all of them, or a window


@dataclass(frozen=True, slots=True)
class Listed:
    """A section (None: the top of the site) as a listing shows it: some of its entries."""

    name: str | None
    entries: tuple[Entry, ...]
    total: int                      # its entries in all


@dataclass(frozen=True, slots=True)
class Around:
    """A page's place in its section: the sidebar (a book's) and the pages before and after."""

    sidebar: tuple[Entry, ...]
    previous: Entry | None
    next: Entry | None
    book: bool

    @property
    def empty(self) -> bool:
        return not self.sidebar and self.previous is None and self.next is None

    def key(self) -> list[object]:
        pick = lambda e: (e.url, e.title) if e is not None else None
        return [[pick(e) for e in self.sidebar], pick(self.previous), pick(self.next)]


class SiteModel:
    """The published pages by source path, and what is derived from them, cached until the
    set of pages changes."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self.entries: dict[str, Entry] = {}
        self._cache: dict[str, Any] = {}

    def put(self, rel: str, entry: Entry) -> None:
        old = self.entries.get(rel)
        if old != entry:
            self.entries[rel] = entry
            if old is None or old.digest == entry.digest or _shown(old) != _shown(entry):
                self._cache.clear()
            else:                       # a new article alone: only the views that hold
                for key in [k for k in self._cache if k.startswith(_WITH_ARTICLES)]:
                    del self._cache[key]        # entries for their articles (feeds)

    def drop(self, rel: str) -> None:
        if self.entries.pop(rel, None) is not None:
            self._cache.clear()

    @property
    def sections(self) -> list[str]:
        """Section folders with a published page, in the configured order, then by name."""
        if "sections" not in self._cache:
            self._cache["sections"] = _section_order(
                self.config, [e.section for e in self.entries.values()])
        return self._cache["sections"]

    @property
    def search(self) -> bool:
        """Whether the site has a search index and box: as set, else up to SEARCH_AUTO pages."""
        if self.config.search is not None:
            return self.config.search
        return len(self.entries) <= SEARCH_AUTO

    def nav_links(self) -> tuple[tuple[str, str], ...]:
        """(title, site URL) of the header links, the same on every page; URLs, so the
        paths of sections and pages are percent-encoded ("/c%23-notes/"), as the author
        writes a URL in the settings."""
        if "nav" not in self._cache:
            if self.config.nav is not None:
                links = [(link.title, link.url) for link in self.config.nav]
            else:
                links = [("Home", "/")] + [(section_title(s), quote(section_url(s)))
                                           for s in self.sections]
                if not self._top_pages_off_nav():   # a few (About, CV): in the header; a
                    links += sorted((e.title, quote(e.url)) for e in self.entries.values()
                                    if e.section is None and e.url != "/")
                                                    # book's 67 notebooks: the home page lists them
            self._cache["nav"] = tuple(links)
        return self._cache["nav"]

    def listing(self, slug: str) -> list[Listed]:
        """What the page at `slug` lists: the home page, its top-level pages (dated ones, or
        all of a book's) then the latest of every section; a section's own page, the first
        page of its section; other pages, nothing."""
        key = f"listing:{slug}"
        if key not in self._cache:
            self._cache[key] = self._listing(slug)
        return self._cache[key]

    def _listing(self, slug: str) -> list[Listed]:
        if slug != "":
            name = self.section_at(slug)
            if name is None:
                return []
            every = self.section_entries(name)
            return [Listed(name, tuple(every[:self.config.paginate]), len(every))]
        top = self.section_entries(None)
        latest = [Listed(s, tuple(self.section_entries(s)[:self.config.home_latest]),
                         len(self.section_entries(s))) for s in self.sections]
        return ([Listed(None, tuple(top), len(top))] if top else []) + latest

    def pages_of(self, entries: list[Entry]) -> list[tuple[Entry, ...]]:
        """A listing cut into pages of `paginate` entries (one page at least)."""
        size = self.config.paginate
        return [tuple(entries[i:i + size]) for i in range(0, len(entries), size)] or [()]

    def reading_order(self, name: str | None) -> list[Entry]:
        """A section's pages in the order a reader goes through them: a book's (its pages in
        `toc`, or some undated) by the toc, then by file name; a blog's oldest first."""
        key = f"order:{name}"
        if key not in self._cache:
            chosen = [e for e in self.entries.values() if e.section == name and e.url != "/"]
            if self.is_book(name):
                toc = self._toc_index()
                chosen.sort(key=lambda e: (toc.get(toc_key(self.config, e.source), len(toc)),
                                           e.source))
            else:
                chosen = newest_first(chosen)[::-1]
            self._cache[key] = chosen
        return self._cache[key]

    def is_book(self, name: str | None) -> bool:
        """A section read in order, with a sidebar: some of its pages are in `toc`, or some
        have no date (a blog, all dated, has newer/older links instead). The top of the site
        is a book only when its pages are too many for the header."""
        key = f"book:{name}"
        if key not in self._cache:
            if name is None and not self._top_pages_off_nav():
                self._cache[key] = False
            else:
                toc = self._toc_index()
                self._cache[key] = any(
                    (not e.date or (toc and toc_key(self.config, e.source) in toc))
                    for e in self.entries.values() if e.section == name and e.url != "/")
        return self._cache[key]

    def around(self, rel: str) -> Around:
        """The sidebar (a window of SIDEBAR pages of a book's section) and the previous and
        next pages of the page `rel`."""
        entry = self.entries.get(rel)
        if entry is None or entry.url == "/" or (entry.section is None and not self.is_book(None)):
            return Around((), None, None, False)
        order = self.reading_order(entry.section)
        index = self._positions(entry.section).get(rel)
        if index is None:
            return Around((), None, None, False)
        book = self.is_book(entry.section)
        low = max(0, min(index - SIDEBAR // 2, len(order) - SIDEBAR))
        return Around(tuple(order[low:low + SIDEBAR]) if book else (),
                      order[index - 1] if index > 0 else None,
                      order[index + 1] if index + 1 < len(order) else None, book)

    def _positions(self, name: str | None) -> dict[str, int]:
        key = f"positions:{name}"
        if key not in self._cache:
            self._cache[key] = {e.source: i for i, e in enumerate(self.reading_order(name))}
        return self._cache[key]

    def _toc_index(self) -> dict[str, int]:
        if "toc" not in self._cache:
            self._cache["toc"] = {toc_key(self.config, path): i
                                  for i, path in enumerate(self.config.toc or ())}
        return self._cache["toc"]

    def _top_pages_off_nav(self) -> bool:
        """Too many pages at the top of the site for the header: the home page lists them."""
        return sum(1 for e in self.entries.values()
                   if e.section is None and e.url != "/") > NAV_PAGES

    def section_at(self, slug: str) -> str | None:
        return self._section_slugs().get(slug)

    def _section_slugs(self) -> dict[str, str]:
        if "slugs" not in self._cache:
            self._cache["slugs"] = {section_url(s).strip("/"): s for s in self.sections}
        return self._cache["slugs"]

    def section_entries(self, name: str | None) -> list[Entry]:
        """A section's pages, newest first; None: the pages at the top of the site that are
        dated, or all of them when the header has no room for them (`nav_links`)."""
        key = f"section:{name}"
        if key not in self._cache:
            every = name is None and self._top_pages_off_nav()
            chosen = (e for e in self.entries.values() if e.section == name
                      and (name is not None or ((e.date or every) and e.url != "/")))
            self._cache[key] = newest_first(chosen)
        return self._cache[key]

    def tags(self) -> dict[str, tuple[str, list[Entry]]]:
        """Tag slug -> (the tag as first written, by name order of pages; its pages newest
        first), by slug."""
        if "tags" not in self._cache:
            found: dict[str, tuple[str, list[Entry]]] = {}
            for entry in sorted(self.entries.values(), key=lambda e: e.source):
                for tag in entry.tags:
                    found.setdefault(tag_slug(tag), (tag, []))[1].append(entry)
            self._cache["tags"] = {slug: (tag, newest_first(entries))
                                   for slug, (tag, entries) in sorted(found.items())}
        return self._cache["tags"]

    def families(self) -> dict[str, tuple[str, list[Entry]]]:
        """A family's listing URL -> (its title, its published members in the family's
        order), by URL."""
        if "families" not in self._cache:
            found: dict[str, tuple[str, list[Entry]]] = {}
            for entry in self.entries.values():
                if entry.family:
                    found.setdefault(entry.family[0], (entry.family[1], []))[1].append(entry)
            self._cache["families"] = {url: (title, sorted(members, key=lambda e: e.family[2]))
                                       for url, (title, members) in sorted(found.items())}
        return self._cache["families"]

    def signatures(self) -> dict[str, str]:
        """For each section (and "" for the top of the site), a hash of all that a page in it
        shows of others when it has no listing: the nav, and the section's reading order
        (URLs and titles). A page kept from a build that saw the same has the same layout."""
        nav = self._nav_hash()
        found = {}
        for name in [None, *self.sections]:
            text = "\x1f".join([nav, str(self.is_book(name))] + [
                f"{e.url}\x1e{e.title}" for e in self.reading_order(name)])
            found[name or ""] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return found

    def _nav_hash(self) -> str:
        if "nav_hash" not in self._cache:
            dated = sorted({e.section or "" for e in self.entries.values() if e.date})
            self._cache["nav_hash"] = _hash(self.nav_links(), self.sections, self.search,
                                            dated)      # which sections have a feed to name
        return self._cache["nav_hash"]

    def layout_key(self, slug: str, rel: str | None = None, *more: object) -> str:
        """What the page at `slug` (from the source `rel`) shows of other pages: the nav,
        its listing if it has one, its sidebar and neighbours; `more`: what else a listing
        page shows. A page rendered under another key is laid out again."""
        listing = [(item.name, item.total, [e.card() for e in item.entries])
                   for item in self.listing(slug)]
        self._nav_hash()
        around = self.around(rel) if rel is not None else Around((), None, None, False)
        if not listing and not more:    # most pages: the nav and their neighbours, hashed
            if around.empty:            # as plain text (this runs for every page a build)
                return self._cache["nav_hash"]
            text = "\x1f".join([self._cache["nav_hash"]] + [
                f"{e.url}\x1e{e.title}" if e is not None else ""
                for e in (*around.sidebar, around.previous, around.next)])
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return _hash(self._cache["nav_hash"], listing, around.key(), more)


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Dated entries newest first (of a date, by title; a family's members in its order);
    undated ones after, by title."""
    chosen = sorted(entries, key=lambda e: e.family[1:3] if e.family else (e.title, 0))
    return (sorted((e for e in chosen if e.date), reverse=True, key=lambda e: e.date)
            + [e for e in chosen if not e.date])


def section_url(name: str) -> str:
    """The URL of a section's listing: its folder name as a page slug would spell it
    (`content/Notes Folder/` -> `/notes-folder/`), so the listing sits above its pages."""
    return f"/{slug_from_path(name)}/"


def tag_slug(tag: str) -> str:
    """A tag's part of a URL: "Learning to write" -> "learning-to-write", "CI/CD" -> "ci-cd"
    (tags differing only in case or spacing are one). One that loses a sign telling it apart
    ("C#" from "C", `%`) or all of it ("..") gets a short hash of its name: its own tag."""
    name = " ".join(tag.lower().split())
    slug = re.sub(r"[\s/\\?#%<>\"|*:]+", "-", name).strip("-.")
    if slug and "#" not in name and "%" not in name:
        return slug
    return f"{slug or 'tag'}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def tag_url(tag: str) -> str:
    return f"/tags/{tag_slug(tag)}/"


def section_title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").title()


_WITH_ARTICLES = ("section:", "tags", "feeds:", "listing:")   # the order, sidebar, nav: kept


def _shown(entry: Entry) -> tuple:
    return (entry.card(), entry.section, entry.source, entry.updated, entry.aliases,
            entry.scripts)


def toc_key(config: SiteConfig, path: str) -> str:
    """A page's name as `toc` writes it: from the content (or notebooks) folder, without its
    suffix ("content/blog/a.md", "blog/a.ipynb" and "blog/a" are one)."""
    for folder in (config.content_dir, config.notebooks_dir):
        path = path.removeprefix(folder.strip("/") + "/")
    path = path.split("#")[0]
    stem, dot, suffix = path.rpartition(".")
    return stem if dot and suffix in ("md", "ipynb") else path


def _section_order(config: SiteConfig, found: list[str | None]) -> list[str]:
    present = sorted({s for s in found if s})
    if config.sections is None:
        return present
    return [s for s in config.sections if s in present] + [s for s in present
                                                           if s not in config.sections]


def description_of(page: Page) -> str | None:
    """What the page says of itself: its `abstract`, else a text `description`."""
    description = page.meta.get("description")
    return page.abstract or (description if isinstance(description, str) else None)


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]
