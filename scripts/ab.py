"""A/B of two nbpress checkouts, runs alternated on copies of the same generated corpora
(whole `nbpress build` processes, and the warm service of scripts/warm_edit.py): what
BENCHMARKS.md quotes when a change must be "no slower on any row". A benchmark, not a test.

    git worktree add /tmp/old <commit>; git worktree add /tmp/new HEAD
    .venv/bin/python scripts/ab.py /tmp/old /tmp/new > ab.md

Each checkout runs with PYTHONPATH set to it (the same interpreter and libraries). The
corpus generator is ../shared/bench/make_corpus.py, as for `make bench`."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
MAKE_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "make_corpus.py"
EDITED = "content/pages/page-0001.md"


class AB:
    def __init__(self, old: str, new: str, work: Path):
        self.checkouts = {"old": old, "new": new}
        self.work = work
        self.times: dict[str, dict[str, list[float]]] = {}

    def corpus(self, name: str, prose: int, notebooks: int) -> None:
        base = self.work / f"base-{name}"
        subprocess.run([PY, str(MAKE_CORPUS), str(base), "--prose", str(prose),
                        "--notebooks", str(notebooks)], check=True, stdout=subprocess.DEVNULL)
        for version in self.checkouts:
            shutil.copytree(base, self.site(name, version), symlinks=True)

    def site(self, name: str, version: str) -> Path:
        return self.work / f"{name}-{version}"

    def env(self, version: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": self.checkouts[version]}

    def build(self, version: str, site: Path) -> float:
        started = time.perf_counter()
        done = subprocess.run([PY, "-m", "pipeline", "build", "-q", "--site", str(site)],
                              env=self.env(version), cwd=self.checkouts[version],
                              capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode:
            print(version, site, done.stdout[-500:], done.stderr[-500:], file=sys.stderr)
        return wall

    def add(self, scenario: str, version: str, wall: float) -> None:
        self.times.setdefault(scenario, {}).setdefault(version, []).append(wall)

    def cold(self, scenario: str, name: str, version: str) -> None:
        site = self.site(name, version)
        for folder in (site / "output", site / ".nbpress-cache"):
            shutil.rmtree(folder, ignore_errors=True)
        self.add(f"{scenario}, cold", version, self.build(version, site))
        self.add(f"{scenario}, nothing changed", version, self.build(version, site))

    def edited(self, version: str, run: int) -> None:
        site = self.site("p1k", version)
        page = site / EDITED
        original = page.read_text(encoding="utf-8")
        page.write_text(original + f"\nEdited, run {run}.\n", encoding="utf-8")
        self.add("1000 pages, one page edited", version, self.build(version, site))
        page.write_text(original, encoding="utf-8")
        self.build(version, site)

    def service(self, version: str, runs: int = 7) -> None:
        site = self.site("p1k", version)
        out = subprocess.run([PY, str(Path(self.checkouts[version]) / "scripts" / "warm_edit.py"),
                              str(site), str(site / EDITED), str(runs)],
                             env=self.env(version), cwd=self.checkouts[version],
                             capture_output=True, text=True, check=True)
        times = json.loads(out.stdout.strip().splitlines()[-1])
        for wall in times["edits"]:
            self.add("service (warm): one page edited", version, wall)
        for wall in times["noops"]:
            self.add("service (warm): nothing changed", version, wall)

    def table(self) -> str:
        lines = [f"| scenario | old ({self.checkouts['old']}) | new ({self.checkouts['new']}) "
                 "| runs old / new (s) |", "|---|---|---|---|"]
        for scenario, by in self.times.items():
            old, new = statistics.median(by["old"]), statistics.median(by["new"])
            runs = " / ".join(", ".join(f"{w:.3f}" for w in by[v]) for v in ("old", "new"))
            lines.append(f"| {scenario} | {_wall(old)} | {_wall(new)} | {runs} |")
        return "\n".join(lines)


def _wall(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _order(run: int) -> tuple[str, str]:
    return ("old", "new") if run % 2 == 0 else ("new", "old")


def main(old: str, new: str, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ab = AB(old, new, work)
    ab.corpus("p1k", 1000, 0)
    ab.corpus("nb20", 0, 20)
    ab.corpus("p10k", 10000, 0)
    for run in range(5):
        for version in _order(run):
            ab.cold("1000 prose pages", "p1k", version)
            ab.edited(version, run)
    for run in range(3):
        for version in _order(run):
            ab.cold("20 notebook pages", "nb20", version)
            ab.cold("10,000 prose pages", "p10k", version)
    for run in range(2):
        for version in _order(run):
            ab.service(version)
    print(ab.table())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3] if len(sys.argv) > 3 else "/tmp/nbpress-ab"))
