"""When the scheduler runs: every so long (`--every 1h`), on a cron expression (`--cron
"0 6 * * *"`, read by croniter: the only croniter user, in the site's time zone), and also at
the next time a page is published or expires and when a build notebook is due, whichever
comes first; and whether a scheduled time passed while no run happened (a catch-up run)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """"1h", "30m", "1d12h", "90s", "0.5s", "200ms" as seconds; ValueError otherwise."""
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration such as 1h, 30m, 1d or 90s")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is no time at all")
    return seconds


@dataclass(frozen=True, slots=True)
class Timing:
    """A schedule: every `every` seconds, or on `cron` (in `zone`), or both (the sooner)."""

    every: float | None = None
    cron: str | None = None
    zone: dt.tzinfo = dt.timezone.utc

    def __post_init__(self) -> None:
        if self.cron is not None:
            check_cron(self.cron)

    def after(self, moment: dt.datetime, last: dt.datetime | None = None) -> dt.datetime | None:
        """The first scheduled time after `moment` (`every` counts from `last`, the last
        run, when there was one); None with neither `every` nor `cron`."""
        times = []
        if self.every is not None:
            start = last if last is not None else moment
            times.append(max(start + dt.timedelta(seconds=self.every), moment))
        if self.cron is not None:
            times.append(_cron(self.cron, moment.astimezone(self.zone)).get_next(dt.datetime))
        return min(times, default=None)

    def missed(self, last: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        """The latest scheduled time that passed after the `last` run and before `now`, when
        one did (the machine was off, the scheduler stopped): one catch-up run is owed."""
        if last is None:
            return None
        due = []
        if self.every is not None and now - last >= dt.timedelta(seconds=self.every):
            due.append(last + dt.timedelta(seconds=self.every))
        if self.cron is not None:
            previous = _cron(self.cron, now.astimezone(self.zone)).get_prev(dt.datetime)
            if previous > last:
                due.append(previous)
        return max(due, default=None)


def check_cron(expression: str) -> None:
    """ValueError naming the expression when croniter cannot read it."""
    from croniter import croniter

    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ValueError(f"{expression!r} is not a cron expression (five fields: minute hour "
                         "day-of-month month day-of-week, e.g. \"0 6 * * *\" for 06:00 daily)")


def _cron(expression: str, start: dt.datetime):
    from croniter import croniter

    return croniter(expression, start)
