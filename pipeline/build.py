"""The orchestrator: discover, read, pair, execute, export, assemble. One page's failure is
recorded and the others go on; the output folder changes only when the build completes."""
from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from .assemble import RESERVED, SiteWriter
from .config import SiteConfig
from .discover import discover
from .errors import NbpressError, PageError
from .execute import RunContext, execute
from .export import Exporter
from .links import LinkResolver
from .model import BuildReport, Outcome, Page, PageResult, Source
from .pages import read_source
from .pairing import has_code, has_outputs, to_notebook


@dataclass(frozen=True, slots=True)
class BuildOptions:
    drafts: bool = False                                    # publish draft pages too
    on_page: Callable[[PageResult], None] | None = None     # called as each page is done


def build_site(config: SiteConfig, options: BuildOptions = BuildOptions()) -> BuildReport:
    started = time.perf_counter()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    pages, failures = read_pages(discover(config))
    published = [p for p in pages if options.drafts or not p.draft]
    skipped = [p for p in pages if p.draft and not options.drafts]
    published, clashes = unique_slugs(published)
    failures += clashes
    unpublished = {p.source.path for p in skipped} | {s.path for s, _ in failures}
    writer = SiteWriter(config, LinkResolver(config, published, unpublished), now)
    writer.plan(published)
    results = [PageResult(p.source, Outcome.SKIPPED) for p in skipped]
    results += [_failed(writer, config, source, error) for source, error in failures]
    context = RunContext(build_time=now.isoformat(), base_url=config.base_url)
    exporter = Exporter()
    try:
        for page in published:
            results.append(build_page(page, config, context, exporter, writer))
            if options.on_page:
                options.on_page(results[-1])
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    order = sorted(results, key=lambda r: r.source.rel)
    return BuildReport(config.output, tuple(order), seconds=time.perf_counter() - started)


def read_pages(sources: list[Source]) -> tuple[list[Page], list[tuple[Source, NbpressError]]]:
    pages, failures = [], []
    for source in sources:
        try:
            pages.append(read_source(source))
        except NbpressError as error:
            failures.append((source, error))
        except Exception as exc:    # one unreadable page must not stop the others
            failures.append((source, _unexpected(exc, source)))
    return pages, failures


def unique_slugs(pages: list[Page]) -> tuple[list[Page], list[tuple[Source, NbpressError]]]:
    """Pages whose slug is taken by another page, or reserved, fail; each error names all."""
    by_slug: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_slug[page.slug].append(page)
    ok, failures = [], []
    for slug, group in by_slug.items():
        if len(group) == 1 and slug.split("/")[0] not in RESERVED:
            ok.extend(group)
            continue
        for page in group:
            failures.append((page.source, _clash(page, group)))
    return ok, failures


def build_page(page: Page, config: SiteConfig, context: RunContext, exporter: Exporter,
               writer: SiteWriter) -> PageResult:
    warnings: list[str] = []
    try:
        nb = to_notebook(page, config)
        executed = needs_execution(page, nb)
        if executed:
            nb, notes = execute(nb, page, config, context)
            warnings += notes
        warnings += writer.add_page(page, exporter.export(nb))
        return PageResult(page.source, Outcome.BUILT, executed=executed, warnings=tuple(warnings))
    except NbpressError as error:
        return _failed(writer, config, page.source, error)
    except Exception as exc:   # a bug or a library failure must not stop the other pages
        return _failed(writer, config, page.source, _unexpected(exc, page.source))


def needs_execution(page: Page, nb) -> bool:
    """Pages with code run; a notebook that already carries outputs is published as saved."""
    if not has_code(nb):
        return False
    return not (page.source.kind == "ipynb" and has_outputs(nb))


def _failed(writer: SiteWriter, config: SiteConfig, source: Source,
            error: NbpressError) -> PageResult:
    kept = writer.keep_previous(source.path.relative_to(config.root).as_posix())
    return PageResult(source, Outcome.FAILED, error=error, kept_previous=kept)


def _unexpected(exc: Exception, source: Source) -> NbpressError:
    return NbpressError(f"could not be built ({type(exc).__name__}: {exc})", source.path,
                        hint="this looks like a bug in nbpress; please report it with the "
                             "page attached")


def _clash(page: Page, group: list[Page]) -> PageError:
    if len(group) == 1:
        return PageError(f"slug {page.slug!r} is reserved for nbpress's own files",
                         page.source.path, hint="choose another slug")
    others = ", ".join(str(p.source.path) for p in group if p is not page)
    return PageError(f"slug {page.slug!r} is also the slug of {others}", page.source.path,
                     hint="give each page its own slug: two pages cannot share one URL")
