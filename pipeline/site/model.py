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

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "url": self.url, "title": self.title,
                "section": self.section, "date": self.date, "abstract": self.abstract,
                "updated": self.updated, "tags": list(self.tags), "aliases": list(self.aliases),
                "image": self.image, "digest": self.digest}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Entry":
        known = {k: v for k, v in data.items() if k in cls.__slots__}
        return cls(**{**known, "tags": tuple(known.get("tags", ())),
                      "aliases": tuple(known.get("aliases", ()))})


def entry_of(page: Page, rel: str, image: str | None = None, digest: str = "") -> Entry:
    when = page.sort_date
    abstract = description_of(page)
    updated = page.edited or when
    return Entry(source=rel, url=page.url, title=page.title, section=page.section,
                 date=when.isoformat() if when is not None else None, abstract=abstract,
                 updated=updated.isoformat() if updated is not None else None,
                 tags=page.tags, aliases=page.aliases, image=image, digest=digest)


NAV_PAGES = 5       # top-level pages shown in the header when there are no more than this


class SiteModel:
    """The published pages by source path, and what is derived from them, cached until the
    set of pages changes."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self.entries: dict[str, Entry] = {}
        self._cache: dict[str, Any] = {}

    def put(self, rel: str, entry: Entry) -> None:
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self._cache.clear()

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

    def listing(self, slug: str) -> list[tuple[str | None, list[Entry]]]:
        """What the page at `slug` lists: the home page, dated top-level pages then every
        section; a section's own page, its section; other pages, nothing."""
        key = f"listing:{slug}"
        if key not in self._cache:
            self._cache[key] = self._listing(slug)
        return self._cache[key]

    def _listing(self, slug: str) -> list[tuple[str | None, list[Entry]]]:
        if slug != "":
            name = self.section_at(slug)
            return [(name, self.section_entries(name))] if name is not None else []
        top = self.section_entries(None)
        return ([(None, top)] if top else []) + [(s, self.section_entries(s))
                                                 for s in self.sections]

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

    def layout_key(self, slug: str) -> str:
        """What the page at `slug` shows of other pages: the nav, and its listing if it has
        one. A page rendered under another key is laid out again."""
        listing = [(name, [e.as_json() for e in entries]) for name, entries in self.listing(slug)]
        if "nav_hash" not in self._cache:
            self._cache["nav_hash"] = _hash(self.nav_links(), self.sections)
        if not listing:
            return self._cache["nav_hash"]
        return _hash(self._cache["nav_hash"], listing)


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Dated entries newest first; undated ones after, by title."""
    chosen = list(entries)
    return (sorted((e for e in chosen if e.date), reverse=True, key=lambda e: (e.date, e.title))
            + sorted((e for e in chosen if not e.date), key=lambda e: e.title))


def section_url(name: str) -> str:
    """The URL of a section's listing: its folder name as a page slug would spell it
    (`content/Notes Folder/` -> `/notes-folder/`), so the listing sits above its pages."""
    return f"/{slug_from_path(name)}/"


def tag_slug(tag: str) -> str:
    """A tag's part of a URL: "Learning to write" -> "learning-to-write" (tags that differ
    only in case or spacing are one tag)."""
    slug = re.sub(r"[\s/\\?#%<>\"|*:]+", "-", tag.strip().lower()).strip("-.")
    return slug or "tag"


def tag_url(tag: str) -> str:
    return f"/tags/{tag_slug(tag)}/"


def section_title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").title()


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
