"""The orchestrator: discover, read, plan, then for each page keep its output or pair,
execute, export and assemble it. One page's failure is recorded and the others go on; the
output folder changes only when the build completes, and not at all when nothing changed."""
from __future__ import annotations

import datetime as dt
import glob
import hashlib
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Callable

from pipeline import __version__
from pipeline.build import state as statefile
from pipeline.execute import local as parallel
from pipeline.build.deps import stamp
from pipeline.build.writer import SiteWriter
from pipeline.site.files import reserved, static_files
from pipeline.execute.cache import (ExecutionCache, bundle_files, depends_files,
                                    environment_key, execution_key)
from pipeline.config import SiteConfig
from pipeline.build.lock import site_lock
from pipeline.sources.discover import scan
from pipeline.errors import NbpressError, PageError
from pipeline.render.links import LinkResolver
from pipeline.model import BuildReport, Outcome, Page, PageResult, Source
from pipeline.build.output import output_id
from pipeline.sources.frontmatter import decode, make_page, parse_frontmatter, read_source
from pipeline.build.plan import Action, Decision, decide, page_key, site_key
from pipeline.build.state import BuildState, PageState


@dataclass(frozen=True, slots=True)
class BuildOptions:
    drafts: bool = False                                    # publish draft pages too
    on_page: Callable[[PageResult], None] | None = None     # called as each page is done
    jobs: int | None = None         # worker processes; None: one a core
    isolate: bool = False           # a freshly started kernel for every page (no fork server)


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
        output = self.writer.config.output
        state = self.state
        return (bool(state.site_files) and all((output / f).is_file() for f in state.site_files)
                and state.site_refs == site_refs(self.writer.config))


def build_site(config: SiteConfig, options: BuildOptions = BuildOptions()) -> BuildReport:
    with site_lock(config.root):
        return _build(config, options)


def _build(config: SiteConfig, options: BuildOptions) -> BuildReport:
    started = time.perf_counter()
    plan = plan_site(config, options)
    notes = (plan.state.note,) if plan.state.note else ()
    results = [PageResult(s.page.source, Outcome.SKIPPED) for s in plan.skipped]
    notes += plan.left_out + _nothing_published(plan, options)
    if plan.nothing_to_do:
        results += [_unchanged(d, plan.state) for d in plan.decisions]
        return _report(config, results, notes, started)
    writer = plan.writer
    results += [_failed(writer, rel_of(config, s), s, e) for s, e in plan.failures]
    try:
        todo = []
        for decision in plan.decisions:
            if decision.action is Action.KEEP and writer.keep(decision.rel):
                results.append(_unchanged(decision, plan.state))
            else:
                todo.append(decision)
        with _Context.create(config, writer, todo, options) as context:
            for decision, result, written in parallel.run_pages(todo, context, options.jobs):
                results.append(_record(writer, decision, result, written))
                if options.on_page:
                    options.on_page(results[-1])
        writer.relayout([d.page for d in plan.decisions])
        build_id = uuid.uuid4().hex
        site_files = writer.commit(build_id)
    except BaseException:
        writer.abort()
        raise
    state = _new_state(build_id, plan, results, writer)
    state.site_files, state.site_refs = site_files, site_refs(config)
    statefile.save(config.root, __version__, state)
    notes += tuple(n for r in results for n in r.notes)
    return _report(config, results, notes, started)


def plan_site(config: SiteConfig, options: BuildOptions = BuildOptions()) -> SitePlan:
    """Read every page (parsing only those that changed) and decide what each needs."""
    state = statefile.load(config.root, __version__, output_id(config.output))
    found = scan(config)
    scanned, failures = read_pages(config, list(found.pages), state)
    published = [s for s in scanned if options.drafts or not s.page.draft]
    skipped = [s for s in scanned if s.page.draft and not options.drafts]
    published, clashes = unique_slugs(published, {rel.split("/")[0]
                                                  for _, rel in static_files(config)})
    failures += clashes
    pages = [s.page for s in published]
    unpublished = {s.page.source.path for s in skipped} | {src.path for src, _ in failures}
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    writer = SiteWriter(config, LinkResolver(config, pages, unpublished), now, state.pages)
    writer.plan([s.page for s in published if not _will_fail(s, state)])
    site = site_key(config, options.drafts)
    slugs = {s.rel: s.page.slug for s in published}
    decisions = [decide(s.page, s.rel, s.sha, page_key(site, s.sha), site, state, config, slugs)
                 for s in published]
    return SitePlan(decisions, skipped, failures, state, writer, site,
                    tuple(w for _, w in found.warnings))


def _will_fail(scanned: Scanned, state: BuildState) -> bool:
    """A page that failed last time, unchanged, with no earlier version to show: it is left
    out of the planned site model (if it builds after all, the site phase adds it)."""
    old = state.pages.get(scanned.rel)
    return old is not None and not old.key and old.sha == scanned.sha and not old.files


def read_pages(config: SiteConfig, sources: list[Source],
               state: BuildState) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Read and hash every source; frontmatter is parsed only where the bytes changed."""
    scanned, failures = [], []
    for source in sources:
        rel = rel_of(config, source)
        try:
            scanned.append(_read(source, rel, state.pages.get(rel)))
        except NbpressError as error:
            failures.append((source, error))
        except Exception as exc:    # one unreadable page must not stop the others
            failures.append((source, _unexpected(exc, source)))
    return scanned, failures


def _read(source: Source, rel: str, old: PageState | None) -> Scanned:
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
    the top-level names of static/), fail; each error names all."""
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


# -- one page ---------------------------------------------------------------------------------

@dataclass(slots=True)
class _Context:
    """What every page of one build shares: settings, the writer, run parameters, the
    exporter, the caches, and the kernel fork server (when a page may run code)."""

    config: SiteConfig
    writer: SiteWriter
    run: Any            # execute.RunContext
    exporter: Any       # export.Exporter
    cache: ExecutionCache
    environment: str
    server: Any = None  # kernels.ForkServer

    @staticmethod
    def create(config: SiteConfig, writer: SiteWriter, todo: list[Decision],
               options: BuildOptions) -> "_Context":
        from pipeline.execute.run import RunContext
        from pipeline.render.export import Exporter

        server = manager = None
        if any(_may_run(d.page) for d in todo):
            from pipeline.execute.kernels import ForkServer, manager_class

            server = None if options.isolate else ForkServer().start()
            manager = manager_class(server)
        try:
            exporter = Exporter()
            if todo:                   # build what workers need before they fork
                exporter.warm(full=manager is not None)
                writer.warm()
            run = RunContext(build_time=writer.build_time.isoformat(),
                             base_url=config.base_url, kernel_manager=manager)
            return _Context(config, writer, run, exporter, ExecutionCache(config.root),
                            environment_key(), server)
        except BaseException:
            if server is not None:
                server.stop()
            raise

    def __enter__(self) -> "_Context":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()


def _may_run(page: Page) -> bool:
    """Cheap: could this page have code to run? (a fence in its text, or a notebook)"""
    from pipeline.notebook.convert import may_have_code

    return page.execute != "never" and (page.source.kind == "ipynb" or may_have_code(page.text))


def build_one(decision: Decision, context: _Context) -> tuple[PageResult, Any]:
    """Build one page; in the build process or a worker. (result, what was written)."""
    page = decision.page
    try:
        return build_page(page, context.config, context, context.writer, decision.reason)
    except NbpressError as error:
        return PageResult(page.source, Outcome.FAILED, error=error), None
    except Exception as exc:   # a bug or a library failure must not stop the other pages
        return PageResult(page.source, Outcome.FAILED, error=_unexpected(exc, page.source)), None


def _record(writer: SiteWriter, decision: Decision, result: PageResult, written) -> PageResult:
    if written is not None:
        writer.record(decision.page, written)
        return result
    return replace(result, kept_previous=writer.keep_previous(decision.rel))


def build_page(page: Page, config: SiteConfig, context: _Context, writer: SiteWriter,
               reason: str = ""):
    from pipeline.notebook.convert import default_kernelspec, to_notebook, with_outputs_of

    nb = to_notebook(page, config)
    ran, cached, twin, warnings, notes, used, watch = False, False, False, [], [], [], ()
    if needs_execution(page, nb):
        nb.metadata.setdefault("kernelspec", default_kernelspec(config))
        used = sorted(set(depends_files(page)) | set(bundle_files(page)))
        twin_path = twin_of(page, config)
        if twin_path is not None:       # a run in Jupyter, or a new twin, rebuilds the page
            watch = ((twin_path.parent, glob.escape(twin_path.name)),)
            if twin_path.is_file():
                used.append(twin_path)
        stored = twin_with_outputs(page, nb, config)
        if stored is not None:        # the author ran this code in Jupyter: publish that run
            nb, twin = with_outputs_of(nb, stored[1]), True
        else:
            nb, ran, warnings, notes = _run_or_reuse(nb, page, config, context)
            cached = not ran
    written = writer.add_page(page, context.exporter.export(nb), used, watch)
    warnings += written.warnings
    return PageResult(page.source, Outcome.BUILT, executed=ran, cached=cached, twin=twin,
                      reason=reason, warnings=tuple(warnings), notes=tuple(notes)), written


def twin_with_outputs(page: Page, nb, config: SiteConfig):
    """(path, notebook) of the page's notebook twin when it carries outputs of exactly the
    page's code, and the page has no params or depends: data its author's run could not have
    seen, and does not ask to run on every build; else None."""
    if page.source.kind != "md" or page.execute != "auto" or page.params or page.depends:
        return None     # params or data the author's run did not see: the build runs the code
    path = twin_of(page, config)
    if path is None or not path.is_file():
        return None
    from pipeline.notebook.convert import read_ipynb

    try:
        stored = read_ipynb(path.read_text(encoding="utf-8"))
    except Exception:          # an unreadable twin is sync's business; run the code instead
        return None

    def code(notebook) -> list[str]:
        return [c.source for c in notebook.cells if c.cell_type == "code"
                and "injected-parameters" not in c.metadata.get("tags", [])]
    has_outputs = any(c.get("outputs") for c in stored.cells if c.cell_type == "code")
    return (path, stored) if has_outputs and code(stored) == code(nb) else None


def twin_of(page: Page, config: SiteConfig):
    """Where the notebook twin of a Markdown page is (or would be); None for a notebook."""
    return config.notebooks / f"{page.source.rel}.ipynb" if page.source.kind == "md" else None


def _run_or_reuse(nb, page: Page, config: SiteConfig, context: _Context):
    """(notebook with outputs, whether its code ran, warnings, notes): the cached outputs when
    the execution key hits, else a run whose outputs are stored."""
    from pipeline.execute.run import execute
    from pipeline.notebook.convert import with_outputs_of

    key = execution_key(nb, page, config.base_url, context.environment, config.root)
    notes = []
    if page.execute != "always":
        cached, note = context.cache.get(key)
        if cached is not None:
            return with_outputs_of(nb, cached), False, [], []
        notes = [f"{page.source.path}: {note}"] if note else []
    executed, warnings = execute(nb, page, config, context.run)
    context.cache.put(key, executed)
    return executed, True, warnings, notes


def needs_execution(page: Page, nb) -> bool:
    """Pages with code run, unless they say `execute: never`; a notebook that already carries
    outputs is published as saved unless it says `execute: always`."""
    from pipeline.notebook.convert import has_code, has_outputs

    if page.execute == "never" or not has_code(nb):
        return False
    return page.execute == "always" or not (page.source.kind == "ipynb" and has_outputs(nb))


# -- results and state ------------------------------------------------------------------------

def site_refs(config: SiteConfig) -> dict[str, list[int]]:
    """What the site-wide files are made from, besides the pages: the files of static/."""
    return dict(stamp(config.root, path) for path, _ in static_files(config))


def _unchanged(decision: Decision, state: BuildState) -> PageResult:
    """A kept page, with the warnings its last build gave: they are said until fixed."""
    old = state.pages.get(decision.rel)
    return PageResult(decision.page.source, Outcome.UNCHANGED, reason=decision.reason,
                      warnings=tuple(old.warnings) if old else ())


def _nothing_published(plan: SitePlan, options: BuildOptions) -> tuple[str, ...]:
    if plan.decisions or not plan.skipped or options.drafts:
        return ()
    count = len(plan.skipped)
    return (f"no page is published: {count} draft{'s' * (count != 1)} left out (mark a page "
            "draft: false, or build with --drafts to publish drafts)",)


def rel_of(config: SiteConfig, source: Source) -> str:
    return source.path.relative_to(config.root).as_posix()


def _failed(writer: SiteWriter, rel: str, source: Source, error: NbpressError) -> PageResult:
    kept = writer.keep_previous(rel)
    return PageResult(source, Outcome.FAILED, error=error, kept_previous=kept)


def _new_state(build_id: str, plan: SitePlan, results: list[PageResult],
               writer: SiteWriter) -> BuildState:
    ok = {r.source.path for r in results if r.outcome in (Outcome.BUILT, Outcome.UNCHANGED)}
    warned = {r.source.path: list(r.warnings) for r in results}
    pages: dict[str, PageState] = {}
    for d in plan.decisions:
        entry = writer.entries.get(d.rel)
        pages[d.rel] = PageState(warnings=warned.get(d.page.source.path, []),
            layout=writer.layouts.get(d.rel, ""),
            sha=d.sha, meta=_storable(d.page.meta),
            body_line=d.page.body_line, key=d.key if d.page.source.path in ok else "",
            files=writer.files.get(d.rel, []), refs=writer.refs.get(d.rel, {}),
            links=writer.links.get(d.rel, {}), entry=entry.as_json() if entry else {})
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
            started: float) -> BuildReport:
    order = sorted(results, key=lambda r: r.source.rel)
    return BuildReport(config.output, tuple(order), notes=notes,
                       seconds=time.perf_counter() - started)


def _unexpected(exc: Exception, source: Source) -> NbpressError:
    return NbpressError(f"could not be built ({type(exc).__name__}: {exc})", source.path,
                        hint="this looks like a bug in nbpress; please report it with the "
                             "page attached")


def _clash(page: Page, group: list[Page]) -> PageError:
    if len(group) == 1:
        return PageError(f"slug {page.slug!r} would overwrite a file of the whole site "
                         "(404.html, index.html, sitemap.xml, assets/, or a file of static/)",
                         page.source.path, hint="choose another slug, such as "
                         f"/{page.slug.replace('.', '-').replace('/index-html', '')}")
    others = ", ".join(str(p.source.path) for p in group if p is not page)
    return PageError(f"slug {page.slug!r} is also the slug of {others}", page.source.path,
                     hint="give each page its own slug: two pages cannot share one URL")
