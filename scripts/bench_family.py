"""The page-family corpora of `make bench` (scripts/bench.py imports this): one family of 20
members whose cell tagged `shared` loads a data file, against the same work as 20 separate
pages (each loads the file itself). A benchmark, not a test.

    bench_family.py WORK     writes WORK/family-20 and WORK/separate-20 and prints their paths
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

MEMBERS = 20
ROWS = 300_000          # the data file every member reads: ~5 MB of CSV

LOAD = '''import csv
from collections import Counter

with open("data/events.csv", newline="", encoding="utf-8") as f:
    events = list(csv.DictReader(f))
by_team = Counter(e["team"] for e in events)
print(f"{len(events)} events of {len(by_team)} teams")
'''
MEMBER = '''mine = [e for e in events if e["team"] == team]
print(f"{team}: {len(mine)} events, {sum(int(e['ms']) for e in mine)} ms in all")
'''


def teams() -> list[str]:
    return [f"t{n:02d}" for n in range(MEMBERS)]


def data(folder: Path) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["team,ms,kind"] + [f"{rng.choice(teams())},{rng.randint(1, 999)},{rng.choice('abc')}"
                                for _ in range(ROWS)]
    (folder / "events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def family_site(root: Path) -> Path:
    site = root / f"family-{MEMBERS}"
    pages = site / "content" / "teams"
    data(pages / "data")
    (pages / "dash.md").write_text(
        "---\ntitle: \"Team {team}\"\nslug: /teams/{team}\n"
        f"matrix:\n  team: [{', '.join(teams())}]\n---\n\n"
        '```python tags=["parameters"]\nteam = "t00"\n```\n\n'
        f'```python tags=["shared"]\n{LOAD}```\n\n```python\n{MEMBER}```\n', encoding="utf-8")
    return site


def separate_site(root: Path) -> Path:
    site = root / f"separate-{MEMBERS}"
    pages = site / "content" / "teams"
    data(pages / "data")
    for team in teams():
        (pages / f"{team}.md").write_text(
            f"---\ntitle: \"Team {team}\"\n---\n\n"
            f'```python tags=["parameters"]\nteam = "{team}"\n```\n\n'
            f"```python\n{LOAD}```\n\n```python\n{MEMBER}```\n", encoding="utf-8")
    return site


if __name__ == "__main__":
    work = Path(sys.argv[1])
    print(family_site(work), separate_site(work))
