"""The orchestrator: discover, read, plan, then for each page keep its output or pair,
execute, export and assemble it. One page's failure is recorded and the others go on; the
output folder changes only when the build completes, and not at all when nothing changed."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from pipeline import __version__
from pipeline.build import state as statefile
from pipeline.build.fastpath import site_current, site_refs, unchanged_site
from pipeline.build.lock import site_lock
from pipeline.build.output import output_id
from pipeline.build.plan import Action, Decision, Planner, site_key
from pipeline.build.state import BuildState, PageState
from pipeline.config import SiteConfig
from pipeline.errors import NbpressError, PageError
from pipeline.files import site_rel
from pipeline.model import BuildReport, Outcome, Page, PageResult, Source
from pipeline.site.files import reserved, static_files
from pipeline.sources.discover import scan, stamps

if TYPE_CHECKING:       # the page phase is imported when there is a page to build
    from pipeline.build.pages import Warm
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


@dataclass(frozen=True, slots=True)
class Scanned:
    """A source read in this build: its page, the hash of its bytes, its path from the root."""

    page: Page
    sha: str
    rel: str


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
    output = output_id(config.output)
    if state is None or state.build_id != output:
        state = statefile.load(config.root, __version__, output, pages=False)
    seen = stamps(config)
    unchanged = unchanged_site(config, state, seen, options.drafts, site_key(config))
    if unchanged is not None:           # the fast path: no page is read, nothing is written
        return BuildReport(config.output, unchanged, tuple(state.left_out),
                           time.perf_counter() - started), state
    plan = plan_site(config, options, statefile.with_pages(config.root, state), warm, seen)
    notes = (plan.state.note,) if plan.state.note else ()
    results = [PageResult(s.page.source, Outcome.SKIPPED) for s in plan.skipped]
    notes += plan.left_out + _nothing_published(plan, options)
    if plan.nothing_to_do:
        results += [_unchanged(d, plan.state) for d in plan.decisions]
        if plan.state.sources != seen or plan.state.drafts != options.drafts:
            plan.state.sources, plan.state.drafts = seen, options.drafts   # touched, not changed:
            statefile.save(config.root, __version__, plan.state)          # the next is fast
        return _report(config, results, notes, started), plan.state
    writer = plan.writer
    results += [_failed(writer, rel_of(config, s), s, e) for s, e in plan.failures]
    try:
        todo = []
        for decision in plan.decisions:
            if decision.action is Action.KEEP and writer.keep(decision.rel):
                results.append(_unchanged(decision, plan.state))
            else:
                todo.append(decision)
        from pipeline.build.pages import PageContext, build_one
        from pipeline.execute import local as parallel

        with PageContext.create(config, writer, todo, options.isolate, warm) as context:
            pages = parallel.run_pages(todo, build_one, context, options.jobs,
                                       one_at_a_time=context.run.kernel_manager is not None)
            with contextlib.closing(pages):     # stopped: the workers end before the abort
                for decision, result, written in pages:
                    results.append(_record(writer, decision, result, written))
                    if options.on_page:
                        options.on_page(results[-1])
        results = _dead_links(writer, results, config)
        shown = {r.source.path for r in results if r.outcome in (Outcome.BUILT, Outcome.UNCHANGED)}
        writer.relayout([d.page for d in plan.decisions if d.page.source.path in shown])
        build_id = uuid.uuid4().hex
        site_files = writer.commit(build_id, plan.site_key)
    except BaseException:
        writer.abort()
        raise
    state = _new_state(build_id, plan, results, writer)
    state.site_files, state.site_refs = site_files, site_refs(config)
    state.sources, state.left_out, state.drafts = seen, list(plan.left_out), options.drafts
    statefile.save(config.root, __version__, state)
    notes += tuple(n for r in results for n in r.notes)
    return _report(config, results, notes, started), state


def plan_site(config: SiteConfig, options: BuildOptions = BuildOptions(),
              state: BuildState | None = None, warm: Warm | None = None,
              seen: dict[str, list[int]] | None = None) -> SitePlan:
    """Read every page (parsing only those that changed) and decide what each needs;
    `state`: the last build's, kept in memory by a service (read from disk otherwise);
    `seen`: the stamps of the sources, taken by the caller."""
    output = output_id(config.output)
    if state is None or state.build_id != output:
        state = statefile.load(config.root, __version__, output)
    found = warm.discovery(config, seen) if warm is not None and seen is not None else scan(config)
    scanned, failures = read_pages(config, list(found.pages), state,
                                   warm.read if warm is not None else None)
    published, skipped, clashes = publishable(config, scanned, options.drafts)
    failures += clashes
    pages = [s.page for s in published]
    unpublished = {s.page.source.path for s in skipped} | {src.path for src, _ in failures}
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    in_place = options.in_place and bool(state.site_files) and config.output.is_dir()
    from pipeline.build.writer import SiteWriter
    from pipeline.render.links import LinkResolver

    writer = SiteWriter(config, LinkResolver(config, pages, unpublished), now, state.pages,
                        state.site_files, in_place, warm.layout if warm is not None else None)
    if warm is not None:
        warm.layout = writer.layout         # templates compiled once a service
    writer.plan([s.page for s in published if not _will_fail(s, state)])
    site = site_key(config)
    slugs = {s.rel: s.page.slug for s in published if not _will_fail(s, state)}
    planner = Planner.of(config, state, site, slugs)
    decisions = [planner.decide(s.page, s.rel, s.sha) for s in published]
    return SitePlan(decisions, skipped, failures, state, writer, site,
                    tuple(w for _, w in found.warnings))


def publishable(config: SiteConfig, scanned: list[Scanned], drafts: bool
                ) -> tuple[list[Scanned], list[Scanned], list[tuple[Source, NbpressError]]]:
    """(published, drafts left out, slug clashes) of the pages that read: the one rule of
    what a build publishes (`nbpress check` resolves links by it too)."""
    published = [s for s in scanned if drafts or not s.page.draft]
    skipped = [s for s in scanned if s.page.draft and not drafts]
    published, clashes = unique_slugs(published, {rel for _, rel in static_files(config)})
    return published, skipped, clashes


def _will_fail(scanned: Scanned, state: BuildState) -> bool:
    """A page that failed last time, unchanged, with no earlier version to show: it is left
    out of the planned site model (if it builds after all, the site phase adds it)."""
    old = state.pages.get(scanned.rel)
    return old is not None and not old.key and old.sha == scanned.sha and not old.files


def read_pages(config: SiteConfig, sources: list[Source], state: BuildState,
               memo: dict | None = None
               ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Read and hash every source; frontmatter is parsed only where the bytes changed.
    `memo`: what a build service read last time, by file identity (not read again)."""
    scanned, failures = [], []
    for source in sources:
        rel = rel_of(config, source)
        try:
            scanned.append(_read_once(source, rel, state.pages.get(rel), memo))
        except NbpressError as error:
            failures.append((source, error))
        except Exception as exc:    # one unreadable page must not stop the others
            from pipeline.build.pages import unexpected

            failures.append((source, unexpected(exc, source)))
    return scanned, failures


def _read_once(source: Source, rel: str, old: PageState | None, memo: dict | None) -> Scanned:
    if memo is None:
        return _read(source, rel, old)
    st = os.stat(source.path)
    stamp_now = (st.st_mtime_ns, st.st_size, st.st_ino)
    known = memo.get(rel)
    if known is not None and known[0] == stamp_now and (known[1].page.source is source
                                                        or known[1].page.source == source):
        return known[1]
    memo[rel] = (stamp_now, _read(source, rel, old))
    return memo[rel][1]


def _read(source: Source, rel: str, old: PageState | None) -> Scanned:
    from pipeline.sources.frontmatter import decode, make_page, parse_frontmatter, read_source

    data = source.path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if source.kind == "md":
        text = decode(data, source.path)
        if old is not None and old.sha == sha and isinstance(old.meta, dict):
            meta, body_line = old.meta, old.body_line
        else:
            meta, body_line = parse_frontmatter(text, source.path)
        return Scanned(make_page(source, text, body_line, meta), sha, rel)
    return Scanned(read_source(source), sha, rel)


def unique_slugs(scanned: list[Scanned], static: set[str] = frozenset()
                 ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Pages whose slug is taken by another page, or reserved for a site-wide file (`static`:
    the output paths of static/), fail; each error names all."""
    by_slug: dict[str, list[Scanned]] = defaultdict(list)
    for item in scanned:
        by_slug[item.page.slug].append(item)
    ok, failures = [], []
    for slug, group in by_slug.items():
        if len(group) == 1 and not reserved(slug, static):
            ok.extend(group)
            continue
        for item in group:
            failures.append((item.page.source, _clash(item.page, [g.page for g in group])))
    return ok, failures


def _record(writer: SiteWriter, decision: Decision, result: PageResult, written) -> PageResult:
    if written is not None:
        writer.record(decision.page, written)
        return result
    return replace(result, kept_previous=writer.keep_previous(decision.rel))


# -- results and state ------------------------------------------------------------------------

def _dead_links(writer: SiteWriter, results: list[PageResult],
                config: SiteConfig) -> list[PageResult]:
    """A page built now that links to a page that is not published after all (it failed,
    new): warned about, and the link recorded as dead, so the page is built again, its link
    made good, once the other page builds."""
    out = []
    for r in results:
        rel = rel_of(config, r.source)
        dead = [t for t, slug in writer.links.get(rel, {}).items()
                if slug is not None and t not in writer.entries]
        if r.outcome is Outcome.BUILT and dead:
            for target in dead:
                writer.links[rel][target] = None
            r = replace(r, warnings=r.warnings + tuple(
                f"{r.source.path}: links to {t}, which failed to build: the link leads nowhere "
                "until it builds" for t in dead))
        out.append(r)
    return out


def _unchanged(decision: Decision, state: BuildState) -> PageResult:
    """A kept page, with the warnings its last build gave: they are said until fixed."""
    old = state.pages.get(decision.rel)
    return PageResult(decision.page.source, Outcome.UNCHANGED, reason=decision.reason,
                      warnings=tuple(old.warnings) if old else ())


def _nothing_published(plan: SitePlan, options: BuildOptions) -> tuple[str, ...]:
    if plan.decisions or not plan.skipped or options.drafts:
        return ()
    return _drafts_note(len(plan.skipped))


def _only_drafts(results: list[PageResult], options: BuildOptions) -> tuple[str, ...]:
    if options.drafts or any(r.outcome is not Outcome.SKIPPED for r in results) or not results:
        return ()
    return _drafts_note(len(results))


def _drafts_note(count: int) -> tuple[str, ...]:
    return (f"no page is published: {count} draft{'s' * (count != 1)} left out (mark a page "
            "draft: false, or build with --drafts to publish drafts)",)


def rel_of(config: SiteConfig, source: Source) -> str:
    """The state key of a source's page (a page family's members add their variant)."""
    return site_rel(config.root, source.path)


def _failed(writer: SiteWriter, rel: str, source: Source, error: NbpressError) -> PageResult:
    kept = writer.keep_previous(rel)
    return PageResult(source, Outcome.FAILED, error=error, kept_previous=kept)


def _new_state(build_id: str, plan: SitePlan, results: list[PageResult],
               writer: SiteWriter) -> BuildState:
    ok = {r.source.path for r in results if r.outcome in (Outcome.BUILT, Outcome.UNCHANGED)}
    warned = {r.source.path: list(r.warnings) for r in results}
    pages: dict[str, PageState] = {}
    for d in plan.decisions:
        entry, old = writer.entries.get(d.rel), plan.state.pages.get(d.rel)
        page = PageState(warnings=warned.get(d.page.source.path, []),
            always=d.page.execute == "always",
            layout=writer.layouts.get(d.rel, ""), sha=d.sha,
            meta=old.meta if old is not None and old.meta is d.page.meta else _storable(d.page.meta),
            body_line=d.page.body_line, key=d.key if d.page.source.path in ok else "",
            files=writer.files.get(d.rel, []), refs=writer.refs.get(d.rel, {}),
            links=writer.links.get(d.rel, {}), entry=entry.as_json() if entry else {})
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
    return BuildState(build_id=build_id, site_key=plan.site_key, pages=pages,
                      encoded=plan.state.encoded)


def _storable(meta) -> dict | None:
    return dict(meta) if statefile.storable(meta) else None


def _report(config: SiteConfig, results: list[PageResult], notes: tuple[str, ...],
            started: float) -> BuildReport:
    order = sorted(results, key=lambda r: r.source.rel)
    return BuildReport(config.output, tuple(order), notes=notes,
                       seconds=time.perf_counter() - started)


def _other_slug(slug: str) -> str:
    parts = [p.replace(".", "-") for p in slug.split("/") if p != "index.html"] or ["page"]
    return "/" + "/".join(parts[:-1] + [parts[-1] + "-page"])


def _clash(page: Page, group: list[Page]) -> PageError:
    if len(group) == 1:
        return PageError(f"slug {page.slug!r} would overwrite a file of the whole site "
                         "(404.html, index.html, sitemap.xml, assets/, or a file of static/)",
                         page.source.path, hint=f"choose another slug: {_other_slug(page.slug)}")
    others = ", ".join(str(p.source.path) for p in group if p is not page)
    return PageError(f"slug {page.slug!r} is also the slug of {others}", page.source.path,
                     hint="give each page its own slug: two pages cannot share one URL")
