"""The orchestrator: discover, read, plan, then for each page keep its output or pair,
execute, export and assemble it. One page's failure is recorded and the others go on; the
output folder changes only when the build completes, and not at all when nothing changed."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from pipeline import __version__
from pipeline.build import state as statefile
from pipeline.build.ahead import Ahead
from pipeline.build.audit import Hidden
from pipeline.build.fastpath import git_stamp, site_current, site_refs, unchanged_site
from pipeline.build.lock import site_lock
from pipeline.build.output import output_id
from pipeline.build.plan import Action, Decision, Planner, site_key
from pipeline.build.publish import Scanned, kept_pages, publishable, read_pages, rel_of, \
    with_git_dates
from pipeline.build.results import alias_clashes, dead_links, fragments, taken_from_kept
from pipeline.build.state import BuildState, PageState
from pipeline.build.steps import failed_by_steps, run_steps
from pipeline.config import SiteConfig
from pipeline.errors import NbpressError
from pipeline.files import state_dir
from pipeline.model import BuildReport, Outcome, PageResult, Source
from pipeline.sources.discover import scan, stamps
from pipeline.sources.schedule import hidden_reason, window

if TYPE_CHECKING:       # the page phase is imported when there is a page to build
    from pipeline.build.warm import Warm
    from pipeline.build.writer import SiteWriter


@dataclass(frozen=True, slots=True)
class BuildOptions:
    drafts: bool = False                                    # publish draft pages too
    on_page: Callable[[PageResult], None] | None = None     # called as each page is done
    jobs: int | None = None         # worker processes; None: one a core
    isolate: bool = False           # a freshly started kernel for every page (no fork server)
    # Update the output folder in place, file by file (each file whole), instead of staging
    # a new folder and swapping it in: for the preview, where a build is one page and must
    # not cost a copy of the site. A stopped build can leave old and new pages side by side.
    in_place: bool = False
    now: dt.datetime | None = None  # build as if it were then (`--now`); None: the clock
    refresh: bool = False           # run every build notebook (`--refresh`)
    scheduled: bool = False         # a scheduled run: steps past their `refresh` run again
    on_note: Callable[[str], None] | None = None    # said at once (the Dask dashboard's link)
    on_jobs: Callable[[tuple[int, int, int]], None] | None = None   # a cluster's jobs: queued,
                                                                    # running, done


@dataclass(slots=True)
class SitePlan:
    """Everything known before any page is exported: what to keep, what to build, and why."""

    decisions: list[Decision]
    skipped: list[Scanned]
    failures: list[tuple[Source, NbpressError]]
    state: BuildState
    writer: SiteWriter
    site_key: str
    left_out: tuple[str, ...] = ()      # files that are not pages, and why (orphaned twins)
    environment: str = ""               # the packages code pages were keyed with
    now: dt.datetime | None = None      # the moment the build publishes for
    window: tuple[float | None, float | None] = (None, None)   # in which no page comes or goes

    @property
    def nothing_to_do(self) -> bool:
        built_before = {rel for rel, p in self.state.pages.items() if p.files}
        return (not self.failures and all(d.action is Action.KEEP for d in self.decisions)
                and built_before == {d.rel for d in self.decisions} and self.site_is_current)

    @property
    def site_is_current(self) -> bool:
        """The site-wide files the last build wrote are all there, and static/ is unchanged."""
        return site_current(self.writer.config, self.state)


def build_site(config: SiteConfig, options: BuildOptions = BuildOptions()) -> BuildReport:
    """Build the site once. (A build service, `build/service.py`, builds again and again.)"""
    with site_lock(config.root):
        return run_build(config, options)[0]


def run_build(config: SiteConfig, options: BuildOptions, warm: Warm | None = None,
              state: BuildState | None = None) -> tuple[BuildReport, BuildState]:
    """One build, the lock held by the caller; `warm` and `state` are what a service kept
    from its last build. Returns the report and the state saved."""
    started = time.perf_counter()
    now = options.now or dt.datetime.now(dt.timezone.utc)
    steps = tuple(run_steps(config, refresh=options.refresh,   # before the pages: they read
                            scheduled=options.scheduled))     # its files (the clock's time)
    output = output_id(config.output)
    if state is None or state.build_id != output:
        state = statefile.load(_state_dir(config), __version__, output, pages=False)
    seen = stamps(config)
    unchanged = unchanged_site(config, state, seen, options.drafts, site_key(config), now)
    if unchanged is not None and all(s.ok for s in steps):     # the fast path: no page is
        return BuildReport(config.output, unchanged, tuple(state.left_out),   # read, nothing
                           time.perf_counter() - started, steps), state        # is written
    ahead = Ahead.start(config, _resized(seen, state), options.jobs, options.drafts)
    try:
        return _planned(config, options, warm, state, seen, started, steps, now, ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _resized(seen: dict[str, list[int]], state: BuildState) -> list[str]:
    """The files that are new or changed size since the last build: edited, surely (a file
    only touched, by a checkout or a cache restored, keeps its size: rendering it ahead, on
    the core the plan leaves idle, would be work for nothing)."""
    return [rel for rel, stamp in seen.items()
            if (old := state.sources.get(rel)) is None or old[1] != stamp[1]]


def _planned(config: SiteConfig, options: BuildOptions, warm: Warm | None, state: BuildState,
             seen: dict, started: float, steps: tuple, now: dt.datetime, ahead: Ahead | None
             ) -> tuple[BuildReport, BuildState]:
    plan = plan_site(config, replace(options, now=now),
                     statefile.with_pages(_state_dir(config), state), warm, seen)
    notes = (plan.state.note,) if plan.state.note else ()
    results = [PageResult(s.page.source, Outcome.SKIPPED,
                          reason=hidden_reason(s.page, now, config.zone) or "")
               for s in plan.skipped]
    notes += plan.left_out + _nothing_published(plan, options)
    if plan.nothing_to_do and not (options.drafts and plan.state.window != list(plan.window)):
        results += [_unchanged(d, plan.state) for d in plan.decisions]   # (a page's notice may
                                                                         # change: --drafts)
        stamp, hidden = git_stamp(config), _hidden(config, results)
        if (plan.state.sources != seen or plan.state.drafts != options.drafts
                or plan.state.git_stamp != stamp or plan.state.window != list(plan.window)
                or plan.state.hidden != hidden):          # touched, not changed: the next
            plan.state.sources, plan.state.drafts = seen, options.drafts       # is fast
            plan.state.git_stamp, plan.state.window = stamp, list(plan.window)
            plan.state.hidden = hidden
            statefile.save(_state_dir(config), __version__, plan.state)
        return _report(config, results, notes, started, steps,
                       {rel: p.refs for rel, p in plan.state.pages.items()}), plan.state
    writer = plan.writer
    writer.hidden = [Hidden(s.page.source.path, s.page.url, s.page.title) for s in plan.skipped]
    results += [_failed(writer, rel_of(config, s), s, e) for s, e in plan.failures]
    try:
        todo, at = [], {_index_of(d.page.slug): d.rel for d in plan.decisions}
        for decision in plan.decisions:
            old = plan.state.pages.get(decision.rel)
            if decision.action is Action.KEEP and old and any(
                    at.get(f, decision.rel) != decision.rel for f in old.files[1:]):
                decision = replace(decision, action=Action.BUILD,       # its file is where a
                                   reason="a page now has the URL of a file it refers to")
            if decision.action is Action.KEEP and writer.keep(decision.rel):
                results.append(_unchanged(decision, plan.state))
            else:
                todo.append(decision)
        from pipeline.build.pages import PageContext

        with PageContext.create(config, writer, todo, options.isolate, warm,
                                plan.environment, options.on_note,
                                ahead.exporter if ahead is not None else None) as context:
            if ahead is not None:
                context.prerendered = ahead.take()
            results += _build(todo, context, options)
            again = _mended(plan, results, writer)
            if again:           # pages kept with a dead link to a page that built after all
                results = [r for r in results if r.source not in again]
                mended = [replace(d, reason="a page it links to built after all")
                          for d in plan.decisions if d.page.source in again]
                context.ready(mended)   # their code may run, where the first pages' did not
                results += _build(mended, context, options)
        results = dead_links(writer, taken_from_kept(writer, results, config), config)
        shown = {r.source for r in results if r.outcome in (Outcome.BUILT, Outcome.UNCHANGED)}
        kept = {rel_of(config, r.source) for r in results if r.outcome is Outcome.UNCHANGED}
        if _hidden_again(plan, options):        # pages hidden that showed: the pages kept
            writer.written += [f for rel in kept for f in writer.files.get(rel, [])]   # are read too
        signatures = writer.relayout([d.page for d in plan.decisions if d.page.source in shown],
                                     kept, plan.state.layout_sigs)
        results = fragments(writer, results, config)
        build_id = uuid.uuid4().hex
        site_files = writer.commit(build_id, plan.site_key)
        results = alias_clashes(writer, results, config)
    except BaseException:
        writer.abort()
        raise
    state = _new_state(build_id, plan, results, writer)
    if warm is not None:                # a service: its next save encodes changed pages only
        state.encoded = plan.state.encoded if plan.state.encoded is not None else {}
    state.site_files, state.site_refs = site_files, site_refs(config)
    state.sources, state.left_out, state.drafts = seen, list(plan.left_out), options.drafts
    state.environment = plan.environment
    state.git_stamp = git_stamp(config)
    state.layout_sigs, state.window = signatures, list(plan.window)
    state.hidden = _hidden(config, results)
    statefile.save(_state_dir(config), __version__, state)
    notes += tuple(n for r in results for n in r.notes) + tuple(writer.notes)
    return _report(config, results, notes, started, steps, writer.refs), state


def plan_site(config: SiteConfig, options: BuildOptions = BuildOptions(),
              state: BuildState | None = None, warm: Warm | None = None,
              seen: dict[str, list[int]] | None = None) -> SitePlan:
    """Read every page (parsing only those that changed) and decide what each needs;
    `state`: the last build's, kept in memory by a service (read from disk otherwise);
    `seen`: the stamps of the sources, taken by the caller."""
    output = output_id(config.output)
    if state is None or state.build_id != output:
        state = statefile.load(_state_dir(config), __version__, output)
    found = warm.discovery(config, seen) if warm is not None and seen is not None else scan(config)
    scanned, failures = read_pages(config, list(found.pages), state,
                                   warm.read if warm is not None else None)
    scanned = with_git_dates(config, scanned, warm.git if warm is not None else None)
    kept = kept_pages(config, failures, state, scanned)
    now = options.now or dt.datetime.now(dt.timezone.utc)
    published, skipped, clashes = publishable(config, scanned, options.drafts, kept, now)
    failures += clashes
    pages = [s.page for s in published]
    unpublished = {s.page.source.path for s in skipped} | {src.path for src, _ in failures}
    unpublished -= {source.path for source in kept}
    in_place = options.in_place and bool(state.site_files) and config.output.is_dir()
    from pipeline.build.writer import SiteWriter
    from pipeline.render.links import LinkResolver

    links = _kept_links(config, state, kept)
    resolver = LinkResolver(config, pages, unpublished, links)
    writer = SiteWriter(config, resolver, now.replace(microsecond=0), state.pages,
                        state.site_files, in_place, warm.layout if warm is not None else None)
    if warm is not None:
        warm.layout = writer.layout         # templates compiled once a service
    writer.plan([s.page for s in published if not _will_fail(s, state)])
    site = site_key(config)
    slugs = _slugs(config, [s for s in published if not _will_fail(s, state)])
    slugs.update((rel_of(config, source), slug) for source, slug in kept.items())   # as linked
    slugs.update((rel_of(config, replace(s, variant="")), links[s.path]) for s in kept if s.variant)
    planner = Planner.of(config, state, site, slugs, any(s.code for s in published))
    decisions = [planner.decide(s.page, s.rel, s.sha, s.code) for s in published]
    return SitePlan(decisions, skipped, failures, state, writer, site,
                    tuple(w for _, w in found.warnings), planner.environment, now,
                    window([s.page for s in scanned], now, config.zone))


def _kept_links(config: SiteConfig, state: BuildState, kept: dict[Source, str]) -> dict:
    """Where links to a file that will not build lead: its last good version, or for a
    family that no longer reads, its listing as the last build made it."""
    links = {}
    for source, slug in kept.items():
        old = state.pages.get(rel_of(config, source)) if source.variant else None
        family = old.entry.get("family") if old is not None and old.entry else None
        links[source.path] = family[0].strip("/") if family else slug
    return links


def _slugs(config: SiteConfig, scanned: list[Scanned]) -> dict[str, str]:
    """The slug of each page by its name, and of each family by its source's: its listing's."""
    slugs = {s.rel: s.page.slug for s in scanned}
    slugs.update((rel_of(config, replace(s.page.source, variant="")), s.page.family.base)
                 for s in scanned if s.page.family)
    return slugs


def _state_dir(config: SiteConfig):
    return state_dir(config.root, config.output)


def _hidden(config: SiteConfig, results: list[PageResult]) -> dict[str, str]:
    """The pages left out for their publish or expiry time, and why (drafts are many: the
    fast path counts them from its index)."""
    return {rel_of(config, r.source): r.reason for r in results
            if r.outcome is Outcome.SKIPPED and r.reason != "draft"}


def _hidden_again(plan: SitePlan, options: BuildOptions) -> bool:
    """Pages the last build showed are left out now (drafts hidden again, a page expired):
    the pages kept are audited for them too."""
    return (plan.state.drafts and not options.drafts) or any(
        (old := plan.state.pages.get(s.rel)) is not None and old.files and old.key != "draft"
        for s in plan.skipped)


def _will_fail(scanned: Scanned, state: BuildState) -> bool:
    """A page that failed last time, unchanged, with no earlier version to show: it is left
    out of the planned site model (if it builds after all, the site phase adds it)."""
    old = state.pages.get(scanned.rel)
    return old is not None and not old.key and old.sha == scanned.sha and not old.files


def _build(todo: list[Decision], context, options: BuildOptions) -> list[PageResult]:
    from pipeline.build.pages import build_one
    from pipeline.execute import local as parallel

    results, ran = [], 0
    slots = getattr(context.executor, "slots", None)     # a cluster: a page worker a slot
    jobs = options.jobs or (max(os.cpu_count() or 1, slots()) if slots else None)
    pages = parallel.run_pages(todo, build_one, context, jobs,
                               one_at_a_time=context.run.kernel_manager is not None)
    with contextlib.closing(pages):     # stopped: the workers end before the abort
        for decision, result, written in pages:
            results.append(_record(context.writer, decision, result, written))
            if options.on_page:
                options.on_page(results[-1])
            ran += result.executed
            if result.executed and options.on_jobs and hasattr(context.executor, "cluster_counts"):
                counts = context.executor.cluster_counts()      # asked when a job came back
                if counts is not None:
                    options.on_jobs((*counts, ran))
    return results


def _mended(plan: "SitePlan", results: list[PageResult], writer: SiteWriter) -> set:
    """The kept pages that recorded a dead link to a page built in this build (it failed
    before, unchanged, so it was planned absent): built again now, their warning gone, as a
    fresh build would give."""
    built = {rel_of(writer.config, s) for r in results if r.outcome is Outcome.BUILT
             for s in {r.source, replace(r.source, variant="")}}   # a family's: its listing
    kept = {r.source for r in results if r.outcome is Outcome.UNCHANGED}
    return {d.page.source for d in plan.decisions if d.page.source in kept
            and any(slug is None and t in built
                    for t, slug in plan.state.pages[d.rel].links.items())}


def _index_of(slug: str) -> str:
    return f"{slug}/index.html" if slug else "index.html"


def _record(writer: SiteWriter, decision: Decision, result: PageResult, written) -> PageResult:
    if written is not None:
        writer.record(decision.page, written)
        return result
    return replace(result, kept_previous=writer.keep_previous(decision.rel))


# -- results and state ------------------------------------------------------------------------

def _unchanged(decision: Decision, state: BuildState) -> PageResult:
    """A kept page, with the warnings its last build gave: they are said until fixed."""
    old = state.pages.get(decision.rel)
    return PageResult(decision.page.source, Outcome.UNCHANGED, reason=decision.reason,
                      warnings=tuple(old.warnings) if old else ())


def _nothing_published(plan: SitePlan, options: BuildOptions) -> tuple[str, ...]:
    shown = plan.decisions or not plan.skipped or options.drafts
    return () if shown else _drafts_note(len(plan.skipped))


def _drafts_note(count: int) -> tuple[str, ...]:
    return (f"no page is published: {count} draft{'s' * (count != 1)} left out (mark a page "
            "draft: false, or build with --drafts to publish drafts)",)


def _failed(writer: SiteWriter, rel: str, source: Source, error: NbpressError) -> PageResult:
    kept = writer.keep_previous(rel)
    return PageResult(source, Outcome.FAILED, error=error, kept_previous=kept)


def _new_state(build_id: str, plan: SitePlan, results: list[PageResult],
               writer: SiteWriter) -> BuildState:
    ok = {r.source for r in results if r.outcome in (Outcome.BUILT, Outcome.UNCHANGED)}
    warned = {r.source: list(r.warnings) for r in results}
    peaks = {r.source: r.peak_memory for r in results}
    pages: dict[str, PageState] = {}
    for d in plan.decisions:
        entry, old = writer.entries.get(d.rel), plan.state.pages.get(d.rel)
        page = PageState(warnings=warned.get(d.page.source, []),
            always=d.page.execute == "always",
            layout=writer.layouts.get(d.rel, ""), sha=d.sha,
            meta=old.meta if old is not None and old.meta is d.page.meta else _storable(d.page.meta),
            body_line=d.page.body_line, key=d.key if d.page.source in ok else "",
            files=writer.files.get(d.rel, []), refs=writer.refs.get(d.rel, {}),
            links=writer.links.get(d.rel, {}), entry=entry.as_json() if entry else {},
            fragments=[list(f) for f in writer.fragment_links.get(d.rel, ())],
            peak_memory=peaks.get(d.page.source) or (old.peak_memory if old else 0))
        pages[d.rel] = old if page == old else page     # the same: saved without encoding
    for s in plan.skipped:
        pages[s.rel] = PageState(sha=s.sha, meta=_storable(s.page.meta),
                                 body_line=s.page.body_line, key="draft")
    for source, _ in plan.failures:      # keep what was kept, so a second failure keeps it too
        rel = source.path.relative_to(writer.config.root).as_posix()
        old = writer.previous.get(rel)
        pages[rel] = PageState(sha="", meta=None, body_line=1, files=writer.files.get(rel, []),
                               refs=writer.refs.get(rel, {}), entry=old.entry if old else {},
                               layout=old.layout if old else "")
    return BuildState(build_id=build_id, site_key=plan.site_key, pages=pages)


def _storable(meta) -> dict | None:
    return dict(meta) if statefile.storable(meta) else None


def _report(config: SiteConfig, results: list[PageResult], notes: tuple[str, ...],
            started: float, steps: tuple = (), refs: dict | None = None) -> BuildReport:
    results = failed_by_steps(config, results, steps, refs or {})
    order = sorted(results, key=lambda r: r.source.rel)
    return BuildReport(config.output, tuple(order), notes=notes,
                       seconds=time.perf_counter() - started, steps=steps)

