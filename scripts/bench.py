"""Whole-process build timings: `make bench` (a benchmark, not a test).

Each scenario runs `nbpress build` as a fresh process several times and reports the median
wall time, the median CPU time and the peak resident memory of the largest process (the
build, or a kernel it started). Corpora come from ../shared/bench/make_corpus.py.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
NBPRESS = [sys.executable, "-m", "pipeline", "build", "-q"]


def run_once(site: Path, cold: bool) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak MB, exit code) of one build process."""
    if cold:
        shutil.rmtree(site / "output", ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen(NBPRESS + ["--site", str(site)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def scenario(name: str, site: Path, repeat: int, pages: int) -> dict:
    runs = [run_once(site, cold=True) for _ in range(repeat)]
    codes = {r[3] for r in runs}
    wall = statistics.median(r[0] for r in runs)
    return {"name": name, "pages": pages, "wall": wall,
            "cpu": statistics.median(r[1] for r in runs),
            "peak": max(r[2] for r in runs), "per_page_ms": 1000 * wall / pages,
            "runs": repeat, "exit": ",".join(map(str, sorted(codes)))}


def example_site(tmp: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from tests.conftest import copy_example_site

    return copy_example_site(tmp / "example")


def corpus(tmp: Path, prose: int, notebooks: int) -> Path:
    out = tmp / f"corpus-{prose}-{notebooks}"
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(out), "--prose", str(prose),
                    "--notebooks", str(notebooks)], check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results = [
            scenario("example site, cold (6 pages, 1 with code)", example_site(tmp), args.repeat, 6),
            scenario("200 prose pages, cold", corpus(tmp, 200, 0), args.repeat, 180),
        ]
    print(f"nbpress bench, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| scenario | published pages | wall (median) | CPU (median) | per page | peak RSS | runs | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['pages']} | {r['wall']:.2f} s | {r['cpu']:.2f} s | "
              f"{r['per_page_ms']:.1f} ms | {r['peak']:.0f} MB | {r['runs']} | {r['exit']} |")


if __name__ == "__main__":
    main()
