"""The `nbpress` command: a thin layer over the library. Heavy imports happen inside commands."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli.group import Nbpress

LOCKED = 75     # EX_TEMPFAIL: another build holds the site; try again later


def _existing(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """A --site that does not exist is a typo, not a new site: building there would create
    it and publish an empty site with exit 0."""
    if not value.exists():
        raise click.BadParameter(
            f"{value} does not exist. To start a site there, run "
            f"`nbpress new \"My first page\" --site {value}`, or create the folder with a "
            f"content/ folder in it (mkdir -p {value / 'content'}).", ctx, param)
    return value


SITE = click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path),
                    default=".", callback=_existing,
                    help="The site folder, or any folder inside it (default: here).")
NEW_SITE = click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path),
                        default=".", help="The site folder, or any folder inside it (default: "
                                          "here); created if missing.")
DRAFTS = click.option("--drafts", is_flag=True, help="Publish pages marked draft: true as "
                      "well, and pages whose publish time is to come or expires time is past.")
NOW = click.option("--now", "now", metavar="DATE-TIME", default=None,
                   help="Build as if it were then (\"2026-12-24T09:00\", in the site's "
                        "timezone unless it has an offset): which pages publish: and expires: "
                        "show, as Hugo's --clock.")


@click.group(cls=Nbpress, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nbpress")
def main() -> None:
    """Publish a website written in Markdown pages and Jupyter notebooks."""


@main.command()
@SITE
@DRAFTS
@click.option("--why", is_flag=True, help="Say for each page whether it was built or kept, and why.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Pages built at once (default: one a core).")
@click.option("--isolate", is_flag=True,
              help="Start a new kernel process for every page instead of forking warm ones.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and the summary.")
@click.option("--no-wait", is_flag=True, help="When another build, sync or clean of the site "
              f"is running, exit at once (status {LOCKED}) instead of waiting for it.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when the build warns (a "
              "missing image, a broken link), as mkdocs --strict: for CI.")
@NOW
@click.option("--refresh", is_flag=True, help="Run every build notebook ([[tool.nbpress.steps]]) "
              "whether or not it changed.")
@click.option("--report", is_flag=True, help="Build through the report notebook and keep it, "
              "with its HTML, in .nbpress-cache/reports/.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
              help="Where pages' code runs: here, in forked kernels (default), or on a Dask "
                   "cluster ([tool.nbpress] executor sets the default).")
@click.option("--scheduler", metavar="ADDRESS", default=None, help="The Dask scheduler "
              "(tcp://host:8786); with --executor dask and none, a LocalCluster here.")
def build(site: Path, drafts: bool, why: bool, jobs: int | None, isolate: bool,
          quiet: bool, no_wait: bool, strict: bool, now: str | None, refresh: bool,
          report: bool, executor: str | None, scheduler: str | None) -> None:
    """Build the site into its output folder (only what changed)."""
    from dataclasses import replace

    from pipeline.build.engine import BuildOptions, build_site
    from pipeline.config import scheduler_problem
    from pipeline.cli.content import warn_no_pages
    from pipeline.model import Outcome
    from pipeline.report import Reporter

    reporter = Reporter(quiet=quiet)
    config = _pages_config(site, reporter)
    if scheduler is not None and scheduler_problem(scheduler):
        raise click.BadParameter(scheduler_problem(scheduler), param_hint="--scheduler")
    if executor or scheduler:
        config = replace(config, executor=executor or "dask",
                         scheduler=config.scheduler if scheduler is None else scheduler)
    if report:
        _reported_build(config, reporter, drafts, refresh)
    try:
        with _locked(config, reporter, wait=not no_wait), reporter.progress() as on_page:
            report = build_site(config, BuildOptions(drafts=drafts, on_page=on_page, jobs=jobs,
                                                     isolate=isolate, now=_now(now, config),
                                                     refresh=refresh, on_note=reporter.note,
                                                     on_jobs=reporter.jobs))
    except _errors() as error:
        _fail(reporter, error)
    if why:
        reporter.why(report, config.root)
    reporter.summary(report, config.root)
    if not sum(report.count(outcome) for outcome in Outcome):
        warn_no_pages(reporter.console, config)
    warned = len(report.warnings())
    if strict and warned:
        reporter.note(f"--strict: {warned} warning{'s' * (warned != 1)} fail the build "
                      "(the pages are published)")
    sys.exit(0 if report.ok and not (strict and warned) else 1)


@main.command()
@SITE
@DRAFTS
@NOW
def status(site: Path, drafts: bool, now: str | None) -> None:
    """Say what the next build would do for each page, and why, and which pages come or go
    next (publish:, expires:); build nothing."""
    from pipeline.build.engine import BuildOptions
    from pipeline.report import Reporter
    from pipeline.build.status import status_and_coming

    reporter = Reporter()
    config = _pages_config(site, reporter)
    try:
        lines, coming = status_and_coming(config, BuildOptions(drafts=drafts,
                                                               now=_now(now, config)))
    except _errors() as error:
        reporter.fatal(error)
        sys.exit(2)
    reporter.status(lines, config.root, coming)
    if not lines:
        from pipeline.cli.content import warn_no_pages

        warn_no_pages(reporter.console, config)


@main.command()
@SITE
@click.option("--cache", is_flag=True, help="Also remove the build cache (stored results of "
              "code); sync's record and backups are kept.")
def clean(site: Path, cache: bool) -> None:
    """Remove the output folder (and with --cache, the site's cache)."""
    from pipeline.build.output import remove_output
    from pipeline.report import Reporter
    from pipeline.files import cache_dir, remove_caches

    reporter = Reporter()
    config = _config(site, reporter)
    try:
        with _locked(config, reporter):
            removed = remove_output(config.output)
            if cache:               # the build's caches; never sync's record or its backups
                removed += remove_caches(cache_dir(config.root))
    except _errors() as error:
        _fail(reporter, error)
    reporter.removed(removed, config.root)


@main.command()
@SITE
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port to serve on (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The interface to serve on; another than this machine's own only on purpose "
                   "(0.0.0.0 shows drafts to the network).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
def serve(site: Path, port: int, host: str, open_browser: bool) -> None:
    """Build the site, serve it, and build again what each save changes; open pages reload.
    Drafts and pages not yet published are shown. Nothing is written to the output folder."""
    from pipeline.cli.serving import run_preview

    run_preview(site, host, port, open_browser)


@main.command()
@SITE
@click.option("--every", metavar="DURATION", help="Build every so long: 30m, 1h, 1d.")
@click.option("--cron", metavar="EXPRESSION", help="Build on a cron schedule, in the site's "
              "timezone: \"0 6 * * *\" is 06:00 daily.")
@click.option("--runs", type=click.IntRange(min=1), default=None,
              help="Stop after this many runs (tests, CI).")
@click.option("--once", is_flag=True, help="One scheduled run now, logged, then exit (what "
              "cron, systemd and GitHub Actions call); exit 1 when it failed.")
@click.option("--on-failure", metavar="COMMAND", help="A shell command run after a failed "
              "run, with the run's summary (one JSON line) on its standard input.")
@click.option("--emit", "emit_kind", type=click.Choice(["cron", "systemd", "github-actions"]),
              help="Print the schedule for that scheduler instead of running it.")
@click.option("--report/--no-report", default=True, show_default=True,
              help="Each run through the report notebook, kept with its HTML in "
                   ".nbpress-cache/reports/ (--no-report: in a warm build service, faster).")
def schedule(site: Path, every: str | None, cron: str | None, runs: int | None, once: bool,
             on_failure: str | None, emit_kind: str | None, report: bool) -> None:
    """Rebuild on a schedule, in the foreground: also when a page is published or expires
    and when a build notebook is due. Each run is logged in .nbpress-cache/runs.jsonl; a run
    missed while the machine was off is made up at start."""
    from pipeline.cli.scheduling import run_schedule

    run_schedule(site, every, cron, runs, once, on_failure, emit_kind, report)


def _reported_build(config, reporter, drafts: bool, refresh: bool) -> None:
    """`build --report`: the build runs in the report notebook's kernel; its outcome is said."""
    from pipeline.schedule.report import run_report

    try:
        reported = run_report(config, drafts=drafts, refresh=refresh)
    except _errors() as error:
        _fail(reporter, error)
    said = reported.outcome
    reporter.console.print(f"{said.get('built', 0)} pages built, {said.get('kept', 0)} unchanged, "
                           f"{said.get('failed', 0)} failed: the report is {reported.notebook} "
                           f"(and {reported.html.name})")
    sys.exit(0 if reported.ok else 1)


def _now(text: str | None, config):
    """`--now`, read in the site's time zone; a value that is no date stops here."""
    if text is None:
        return None
    from pipeline.sources.schedule import parse_now

    try:
        return parse_now(text, config.zone)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date or a date and time: write it as "
                                 "2026-12-24, 2026-12-24T09:00 or 2026-12-24T09:00+01:00",
                                 param_hint="--now") from None


@main.command()
@SITE
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prefer", type=click.Choice(["md", "ipynb"]),
              help="Where both twins changed: keep this side's version.")
def sync(site: Path, paths: tuple[Path, ...], prefer: str | None) -> None:
    """Bring every content/X.md and notebooks/X.ipynb pair in step (or those under PATHS)."""
    from pipeline.report import Reporter
    from pipeline.author.sync import sync_site

    reporter = Reporter()
    config = _config(site, reporter)
    try:
        with _locked(config, reporter):
            outcomes = sync_site(config, [str(p) for p in paths], prefer)
    except _errors() as error:
        _fail(reporter, error)
    reporter.synced(outcomes, config.root)
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


@main.command()
@NEW_SITE
@click.argument("title")
@click.option("--section", help="The section folder under content/ (blog, projects, ...).")
@click.option("--notebook", is_flag=True, help="Also create its notebook, to open in Jupyter.")
def new(site: Path, title: str, section: str | None, notebook: bool) -> None:
    """Create a draft page titled TITLE, with the frontmatter its section expects."""
    from pipeline.author.new import new_page
    from pipeline.report import Reporter

    reporter = Reporter()
    config = _config(site, reporter)
    try:
        created = new_page(config, title, section, notebook)
    except _errors() as error:
        reporter.fatal(error)
        sys.exit(2)
    for path in created:
        reporter.console.print(f"created {path.relative_to(config.root)}")


@main.command()
@SITE
@click.option("--fix", is_flag=True, help="Repair mojibake in place (only the lines shown).")
@click.option("--strict", is_flag=True, help="Exit with status 1 on warnings too (mojibake, "
              "toc entries, external links): for CI.")
@click.option("--external", is_flag=True, help="Also check links to other sites (each URL "
              "once, in parallel; answers kept for a day in .nbpress-cache/external.json).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="Seconds each external link may take.")
@click.option("--no-cache", is_flag=True,
              help="With --external: ask every URL again, not trusting the last day's answers.")
def check(site: Path, fix: bool, strict: bool, external: bool, timeout: float,
          no_cache: bool) -> None:
    """Check every page as a build would (fields, slugs, links, fragments, images and
    aliases, without running code), look for mojibake (broken characters), and with
    --external, links to other sites. Errors exit 1; warnings only with --strict."""
    from rich.markup import escape

    from pipeline.author.check import check_site
    from pipeline.author.external import External
    from pipeline.author.findings import ERROR, NOTE, WARNING
    from pipeline.report import Reporter

    reporter = Reporter()
    config = _pages_config(site, reporter)
    options = External(timeout=timeout, cache=not no_cache) if external else None
    try:
        if fix:                     # it writes pages: not while a build or a sync runs
            with _locked(config, reporter):
                findings = check_site(config, fix=fix, external=options)
        else:
            findings = check_site(config, fix=fix, external=options)
    except _errors() as error:
        reporter.fatal(error)
        sys.exit(2)
    labels = {ERROR: "[red]error[/]  ", WARNING: "[yellow]warning[/]", NOTE: "[cyan]note[/]   "}
    for f in findings:
        where = f"{f.path.relative_to(config.root)}" + (f":{f.line}" if f.line else "")
        reporter.console.print(f"{labels[f.level]} {escape(where)}: {escape(f.message)}")
        if f.repaired is not None:
            verb = "repaired as" if fix else "would read"
            reporter.console.print(f"        {verb}: {escape(f.repaired.strip())}")
    if findings and not fix and any(f.repaired for f in findings):
        reporter.console.print("  [cyan]fix:[/] run `nbpress check --fix` to repair the lines "
                               "shown (nothing else in the files changes)")
    left = [f for f in findings if not (fix and f.repaired is not None)]
    count = {level: sum(1 for f in left if f.level == level) for level in labels}
    repaired = len(findings) - len(left)
    plural = lambda n, word: f"{n} {word}{'s' * (n != 1)}"
    reporter.console.print(
        f"{plural(len(findings), 'finding')}" + (f", {repaired} repaired" if fix else "")
        + f": {plural(count[ERROR], 'error')}, {plural(count[WARNING], 'warning')}, "
        f"{plural(count[NOTE], 'note')}" + (" left" if fix else ""))
    if strict and count[WARNING]:
        reporter.note(f"--strict: {plural(count[WARNING], 'warning')} "
                      f"{'fails' if count[WARNING] == 1 else 'fail'} the check")
    if not findings:
        _warn_if_no_pages(reporter, config)
    sys.exit(1 if count[ERROR] or (strict and count[WARNING]) else 0)


def _warn_if_no_pages(reporter, config) -> None:
    from pipeline.cli.content import warn_no_pages
    from pipeline.sources.discover import discover

    if not discover(config):
        warn_no_pages(reporter.console, config)


def _pages_config(site: Path, reporter):
    """The settings of a site whose pages the command reads: no folder to read them from
    is an error that says where they seem to be."""
    from pipeline.cli.content import missing_content

    config = _config(site, reporter)
    error = missing_content(config)
    if error is not None:
        reporter.fatal(error)
        sys.exit(2)
    return config


def _config(site: Path, reporter):
    from pipeline.config import load_config

    try:
        config = load_config(site)
    except _errors() as error:
        reporter.fatal(error)
        sys.exit(2)
    if config.root != site.resolve():
        reporter.note(f"the site is {config.root}: the nearest folder above {site} with a "
                      "content/ folder or [tool.nbpress] settings")
    return config


def _locked(config, reporter, wait: bool = True):
    """The site's lock, saying whom it waits for. Re-entrant: the library locks too."""
    from pipeline.build.lock import site_lock

    return site_lock(config.root, wait=wait, on_wait=reporter.waiting)


def _fail(reporter, error) -> None:
    from pipeline.build.lock import LockedError

    reporter.fatal(error)
    sys.exit(LOCKED if isinstance(error, LockedError) else 2)


def _errors():
    from pipeline.errors import NbpressError

    return NbpressError
