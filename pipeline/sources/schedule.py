"""Stage 1: when a page shows. `publish:` keeps a page out of the site until its time comes,
`expires:` takes it out when its time comes (Hugo's `publishDate` and `expiryDate` are read
too). A time without an offset, and a date (its midnight), are in the site's time zone
(`timezone` in the settings, UTC by default); one with an offset is that instant.

`hidden_reason` is the one rule (drafts included) that `build/publish.py` applies; `window`
is the stretch of time around a build in which no page comes or goes, which the fast path
of a build with nothing to do checks the clock against."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pipeline.model import DateLike, Page

UTC = dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Change:
    """A page coming (`publish`) or going (`expires`) at `at`."""

    at: dt.datetime
    what: str                   # "publish" or "expires"
    page: Page


def instant(value: DateLike, zone: dt.tzinfo) -> dt.datetime:
    """The moment a frontmatter date names: a date is its midnight in `zone`, a time with no
    offset is in `zone`, a time with one is that moment."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def hidden_reason(page: Page, now: dt.datetime, zone: dt.tzinfo) -> str | None:
    """Why `page` is not published at `now` ("draft", "scheduled for ...", "expired on
    ..."), or None when it is."""
    if page.draft:
        return "draft"
    if page.publish is not None and instant(page.publish, zone) > now:
        return f"scheduled for {shown(instant(page.publish, zone), zone)}"
    if page.expires is not None and instant(page.expires, zone) <= now:
        return f"expired on {shown(instant(page.expires, zone), zone)}"
    return None


def changes(pages: Iterable[Page], zone: dt.tzinfo) -> list[Change]:
    """Every publish and expiry time of `pages`, in time order (drafts have none: a draft
    waits for its author, not for a time)."""
    found = [Change(instant(value, zone), what, page) for page in pages if not page.draft
             for what, value in (("publish", page.publish), ("expires", page.expires))
             if value is not None]
    return sorted(found, key=lambda change: (change.at, change.page.source.rel))


def window(pages: Iterable[Page], now: dt.datetime,
           zone: dt.tzinfo) -> tuple[float | None, float | None]:
    """[start, end) in POSIX seconds around `now` in which no page of `pages` comes or goes
    (None: unbounded). A page shows from its publish time on and until its expiry time."""
    times = [change.at.timestamp() for change in changes(pages, zone)]
    moment = now.timestamp()
    return (max((t for t in times if t <= moment), default=None),
            min((t for t in times if t > moment), default=None))


def within(bounds: list[float | None] | tuple[float | None, float | None],
           now: dt.datetime) -> bool:
    """`now` is inside a `window`."""
    start, end = bounds
    moment = now.timestamp()
    return (start is None or start <= moment) and (end is None or moment < end)


def shown(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """A moment as the site's authors read it: in the site's zone, to the minute."""
    try:
        local = moment.astimezone(zone)
    except OverflowError:               # at the ends of the calendar: as written
        return moment.isoformat(timespec="minutes")
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def parse_now(text: str, zone: dt.tzinfo) -> dt.datetime:
    """`--now` as given on the command line ("2026-12-24", "2026-12-24T09:00",
    "2026-12-24T09:00+01:00"): in the site's zone unless it has an offset. ValueError when
    it is no date."""
    value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    return instant(value, zone)
