"""The schedule handed to a scheduler a team already runs: a crontab line, a systemd service
and timer pair, or a GitHub Actions workflow that builds on that schedule, keeps the build
cache between runs and publishes `output/` to GitHub Pages. Each runs one scheduled build
(`nbpress schedule --once`: due steps, the run logged, `--on-failure` told)."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.schedule.timing import Timing

KINDS = ("cron", "systemd", "github-actions")
_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class EmitError(ValueError):
    """This schedule cannot be written for that scheduler (the message says what to use)."""


def emit(kind: str, config: SiteConfig, timing: Timing, on_failure: str | None = None) -> str:
    if timing.every is not None and timing.cron is not None:
        raise EmitError("give --every or --cron to --emit, not both (a scheduler of its own "
                        "takes one schedule)")
    command = _command(config, on_failure)
    if kind == "cron":
        return _crontab(config, _cron_of(timing), command.replace("%", "\\%"))   # cron's newline
    if kind == "systemd":
        return _systemd(config, timing, command.replace("%", "%%").replace("$", "$$"))
    if kind == "github-actions":
        return _workflow(config, _cron_of(timing), on_failure)
    raise EmitError(f"--emit takes one of {', '.join(KINDS)}, not {kind!r}")


def _command(config: SiteConfig, on_failure: str | None) -> str:
    nbpress = Path(sys.executable).with_name("nbpress")
    program = shlex.quote(str(nbpress)) if nbpress.exists() else "nbpress"
    failure = f" --on-failure {shlex.quote(on_failure)}" if on_failure else ""
    return f"{program} schedule --once --site {shlex.quote(str(config.root))}{failure}"


def _cron_of(timing: Timing) -> str:
    """A cron expression for the schedule: `--cron` as given, or `--every` when cron can say
    it (minutes that divide an hour, hours that divide a day, a day)."""
    if timing.cron is not None:
        return timing.cron
    every = timing.every or 0
    minutes, hours = every / 60, every / 3600
    if minutes == int(minutes) and 1 <= minutes < 60 and 60 % int(minutes) == 0:
        return f"*/{int(minutes)} * * * *" if minutes > 1 else "* * * * *"
    if hours == int(hours) and 1 <= hours < 24 and 24 % int(hours) == 0:
        return f"0 */{int(hours)} * * *" if hours > 1 else "0 * * * *"
    if every == 86400:
        return "0 0 * * *"
    raise EmitError(f"every {every:g} s cannot be written as a cron schedule: give --cron "
                    "(e.g. --cron \"0 6 * * *\"), or an --every that divides an hour or a day")


def _crontab(config: SiteConfig, cron: str, command: str) -> str:
    log = shlex.quote(str(config.root / ".nbpress-cache" / "schedule.log"))
    zone = (f"# CRON_TZ sets the zone of the lines below it too; cron daemons without it (Debian's)\n"
            f"# read the time in the machine's zone: shift the hours to {config.timezone} there\n"
            f"CRON_TZ={config.timezone}\n") if config.timezone != "UTC" else ""
    return (f"# nbpress: scheduled builds of {config.root} (crontab -e, then paste)\n"
            f"{zone}{cron} {command} >> {log} 2>&1\n")


def _systemd(config: SiteConfig, timing: Timing, command: str) -> str:
    if timing.cron is not None:
        when = f"OnCalendar={_calendar(timing.cron)} {config.timezone}\nPersistent=true"
    else:
        when = f"OnBootSec=1min\nOnUnitActiveSec={int(timing.every or 3600)}s"
    return f"""# nbpress.service (in ~/.config/systemd/user/; then:
#   systemctl --user daemon-reload && systemctl --user enable --now nbpress.timer)
[Unit]
Description=nbpress: a scheduled build of {config.root}

[Service]
Type=oneshot
WorkingDirectory={config.root}
ExecStart={command}

# nbpress.timer
[Unit]
Description=nbpress: when to build {config.root}

[Timer]
{when}

[Install]
WantedBy=timers.target
"""


def _calendar(cron: str) -> str:
    """A cron expression as systemd's OnCalendar= (`0 6 * * 1-5` -> `Mon..Fri *-*-* 06:00:00`)."""
    fields = cron.split()
    if len(fields) != 5 or any(c.isalpha() for c in cron.replace("*", "")):
        raise EmitError(f"{cron!r} cannot be written for systemd: use numbers, lists (1,2), "
                        "ranges (1-5) and steps (*/15) in the five fields")
    if fields[2] != "*" and fields[4] != "*":
        raise EmitError(f"{cron!r} names days of the month and of the week: cron takes either, "
                        "systemd both at once; give one of them")
    if "/" in fields[4]:
        raise EmitError(f"{cron!r}: steps in the day of the week cannot be written for systemd; "
                        "list the days (1,3,5)")
    minute, hour = _field(fields[0]), _field(fields[1])
    day, month = (_field(f, first="1") for f in fields[2:4])
    weekday = _field(fields[4])
    days = "" if weekday == "*" else ",".join(_weekday(part) for part in weekday.split(",")) + " "
    return f"{days}*-{month}-{day} {hour}:{minute}:00"


def _field(text: str, first: str = "0") -> str:
    """A cron field in systemd's words: `*/15` -> `0/15` (`1/2` for days and months, which
    start at 1), `1-5` -> `1..5`."""
    return text.replace("*/", f"{first}/").replace("-", "..")


def _weekday(part: str) -> str:
    if ".." in part:
        first, last = part.split("..")
        return f"{_DAYS[int(first)]}..{_DAYS[int(last)]}"
    return _DAYS[int(part)]


def _workflow(config: SiteConfig, cron: str, on_failure: str | None) -> str:
    note = ("" if config.timezone == "UTC" else
            f"    # GitHub reads cron in UTC; the site's timezone is {config.timezone}: shift the hours\n")
    failure = f" --on-failure {shlex.quote(on_failure)}" if on_failure else ""
    run = json.dumps(f"nbpress schedule --once --site .{failure}")     # a YAML string, quoted
    return f"""# .github/workflows/nbpress.yml: build on a schedule and publish output/ to GitHub Pages
name: nbpress
on:
  schedule:
{note}    - cron: "{cron}"
  workflow_dispatch:
  push:
    branches: [main]
permissions:
  contents: read
  pages: write
  id-token: write
concurrency:
  group: nbpress
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0          # dates from git need the history
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install nbpress
      - uses: actions/cache/restore@v4
        with:
          path: .nbpress-cache
          key: nbpress-${{{{ github.run_id }}}}
          restore-keys: nbpress-
      - run: {run}
      - uses: actions/cache/save@v4
        if: always()
        with:
          path: .nbpress-cache
          key: nbpress-${{{{ github.run_id }}}}
      - uses: actions/upload-pages-artifact@v3
        with:
          path: {config.output_dir}
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""
