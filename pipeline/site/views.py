"""What the templates show of the site model, as plain dicts with links relative to the page
being rendered: cards, listings, pagers, the sidebar and neighbours, the in-page table of
contents, tags. Pure: no files, no templates."""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from pipeline.model import DateLike
from pipeline.render.html import headings
from pipeline.render.links import relative_url
from pipeline.site.model import Around, Entry, Listed, SiteModel, section_title, section_url, \
    tag_url

DATE_LABELS = {"date": "Published", "created": "Created", "edited": "Edited"}
TOC_MIN = 3             # headings an article needs for an in-page table of contents


def target(url: str) -> str:
    """A site URL as an output path for relative_url: "/aws/" -> "aws/", "/" -> ""."""
    path = url.strip("/")
    return f"{path}/" if path else ""


def href(url: str, from_slug: str) -> str:
    """The href of a site URL ("/blog/") from the page at `from_slug`."""
    return relative_url(target(url), from_slug)


def entry_views(entries: tuple[Entry, ...] | list[Entry], from_slug: str) -> list[dict[str, Any]]:
    return [entry_view(e, from_slug) for e in entries]


def entry_view(e: Entry, from_slug: str) -> dict[str, Any]:
    image = None
    if e.image:
        image = e.image if is_url(e.image) else relative_url(e.image, from_slug)
    return {"title": e.title, "href": href(e.url, from_slug),
            "date": date_view("date", parse_iso(e.date)) if e.date else None,
            "abstract": e.abstract, "image": image, "tags": tag_views(e.tags, from_slug)}


def family_view(entries: list[Entry], from_slug: str) -> dict[str, Any]:
    """A family's listing: its parameters' names, and a row for each member (its values, its
    link and title, its card's image: the first figure its code drew)."""
    names = [name for name, _ in entries[0].family[3]] if entries else []
    rows = [{**entry_view(e, from_slug), "values": [value for _, value in e.family[3]]}
            for e in entries]
    return {"names": names, "rows": rows}


def tag_views(tags: tuple[str, ...], from_slug: str) -> list[dict[str, str]]:
    return [{"name": tag, "href": href(tag_url(tag), from_slug)} for tag in tags]


def listing_views(items: list[Listed], from_slug: str, more: bool = True) -> list[dict[str, Any]]:
    """Listed sections as the templates show them; `more`: a link to the whole section when
    only some of its entries are shown (the home page)."""
    views = []
    for item in items:
        entries = entry_views(item.entries, from_slug)
        if item.name is None:           # pages at the top of the site: no heading, no page
            views.append({"name": "posts", "title": "", "href": "", "entries": entries,
                          "more": None})
            continue
        link = href(section_url(item.name), from_slug)
        views.append({"name": item.name, "title": section_title(item.name), "href": link,
                      "entries": entries,
                      "more": ({"href": link, "count": item.total}
                               if more and item.total > len(item.entries) else None)})
    return views


def page_url(base: str, number: int) -> str:
    """The URL of page `number` of the listing at `base` ("/blog/" -> "/blog/page/2/")."""
    return base if number == 1 else f"{base}page/{number}/"


def pager_view(base: str, number: int, count: int, from_slug: str) -> dict[str, Any] | None:
    if count <= 1:
        return None
    link = lambda n: href(page_url(base, n), from_slug) if 1 <= n <= count else None
    return {"number": number, "count": count, "previous": link(number - 1),
            "next": link(number + 1)}


def around_view(around: Around, from_slug: str, current: str) -> dict[str, Any] | None:
    if around.empty:
        return None
    side = [{"title": e.title, "href": href(e.url, from_slug), "current": e.url == current}
            for e in around.sidebar]
    pick = lambda e: {"title": e.title, "href": href(e.url, from_slug)} if e is not None else None
    return {"sidebar": side, "previous": pick(around.previous), "next": pick(around.next),
            "book": around.book}


def toc_view(body: str, wanted: bool) -> list[dict[str, Any]]:
    """The article's h2/h3 headings, when it has enough of them (and the page did not say
    `toc: false`)."""
    found = headings(body) if wanted else []
    if len(found) < TOC_MIN:
        return []
    return [{"level": level, "href": "#" + ident, "title": text} for level, ident, text in found]


def tag_index_view(model: SiteModel, from_slug: str) -> list[dict[str, Any]]:
    return [{"name": tag, "href": href(tag_url(tag), from_slug), "count": len(entries)}
            for slug, (tag, entries) in model.tags().items()]


def date_view(field: str, value: DateLike) -> dict[str, str]:
    day = value.date() if isinstance(value, dt.datetime) else value
    return {"field": field, "label": DATE_LABELS[field], "iso": value.isoformat(),
            "human": f"{day.day} {day:%B %Y}"}


def parse_iso(text: str) -> DateLike:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.fromisoformat(text)


def is_url(ref: str) -> bool:
    """An address on the web, not a file name with a colon in it ("a:b.png")."""
    parts = urlsplit(ref)
    return bool(parts.netloc) or parts.scheme.lower() in ("http", "https", "data")
