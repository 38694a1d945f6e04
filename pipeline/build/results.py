"""What the site phase adds to the pages' results, once every page is built: a failed page
whose old URL another page took, links to pages that failed after all, links to headings a
page lacks, aliases that get no redirect page."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.build.publish import rel_of
from pipeline.config import SiteConfig
from pipeline.model import Outcome, PageResult, url_of

if TYPE_CHECKING:
    from pipeline.build.writer import SiteWriter


def taken_from_kept(writer: SiteWriter, results: list[PageResult],
                     config: SiteConfig) -> list[PageResult]:
    """A failed page keeps its last good version only where no page of this build now writes
    its page file: a page that took its URL (left when the failed page's slug changed) wins,
    and the failed page is said to have no version published."""
    rels = [rel_of(config, r.source) for r in results]
    owner = {writer.files[rel][0]: r.source.path for r, rel in zip(results, rels)
             if r.outcome is Outcome.BUILT and writer.files.get(rel)}
    out = []
    for r, rel in zip(results, rels):
        files = writer.files.get(rel) if r.kept_previous else None
        if files and files[0] in owner:
            writer.forget(rel)
            r = replace(r, kept_previous=False, warnings=r.warnings + (
                f"{r.source.path}: its last good version is gone: {owner[files[0]]} now has "
                "its old URL",))
        out.append(r)
    return out


def dead_links(writer: SiteWriter, results: list[PageResult],
                config: SiteConfig) -> list[PageResult]:
    """A page built now that links to a page that is not published after all (it failed,
    new), or not where the link says (it failed with a new slug: its last good version is
    at the old one): warned about, and the link recorded as dead, so the page is built
    again, its link made good, by the next build."""
    out, listed = [], {e.source.rsplit("#", 1)[0]: e.family[0]        # families' listings
                       for e in writer.entries.values() if e.family}
    for r in results:
        rel = rel_of(config, r.source)
        dead = [t for t, slug in writer.links.get(rel, {}).items() if slug is not None and (
                t not in writer.entries or writer.entries[t].url != url_of(slug))
                and listed.get(t) != url_of(slug)]
        if r.outcome is Outcome.BUILT and dead:
            for target in dead:
                writer.links[rel][target] = None
            r = replace(r, warnings=r.warnings + tuple(
                f"{r.source.path}: links to {t}, which failed to build: the link leads nowhere "
                "until it builds" for t in dead))
        out.append(r)
    return out


def fragments(writer: SiteWriter, results: list[PageResult],
               config: SiteConfig) -> list[PageResult]:
    """A page that links to a heading its target does not have: warned (as `nbpress check`
    does), with the closest id (`build/fragments.py`). A page built now is checked; of a kept
    page, the links into a page built now or gone (its other warnings are the last build's)."""
    from dataclasses import replace as changed

    from pipeline.build.fragments import Linking, fragment_warnings, said_of, target_of
    from pipeline.site.anchors import element_ids

    kept = {rel_of(config, r.source) for r in results if r.outcome is Outcome.UNCHANGED}
    built = {files[0] for rel, files in writer.files.items() if files and rel not in kept}
    present = {files[0] for files in writer.files.values() if files}
    pages: dict[str, Linking] = {}
    for r in results:
        rel = rel_of(config, r.source)
        if r.outcome not in (Outcome.BUILT, Outcome.UNCHANGED) or not writer.files.get(rel) \
                or not writer.fragment_links.get(rel):
            continue
        links = writer.fragment_links[rel]
        page = Linking(writer.files[rel][0], r.source.shown, tuple(h for h, _ in links),
                       {h: written for h, written in links if written != h})
        if rel in kept:
            page = changed(page, hrefs=tuple(
                h for h in page.hrefs if (t := target_of(h, page.file, config.base_url))
                is not None and (t in built or t not in present)))
        if page.hrefs:
            pages[rel] = page

    def read(file: str) -> str | None:      # a page of this build (not an old file in place)
        return writer.article_text(file, whole=True) if file in present else None

    found = fragment_warnings(pages, read, element_ids, config.base_url) if pages else {}
    out = []
    for r in results:
        page = pages.get(rel := rel_of(config, r.source))
        if page is not None:
            r = replace(r, warnings=tuple(w for w in r.warnings if not any(
                said_of(page, h, w) for h in page.hrefs)) + tuple(found.get(rel, ())))
        out.append(r)
    return out


def alias_clashes(writer: SiteWriter, results: list[PageResult],
                   config: SiteConfig) -> list[PageResult]:
    """A page built now whose alias is another page's URL (or an earlier alias): warned,
    and the alias gets no redirect page (`nbpress check` says the same)."""
    clashes = writer.alias_clashes
    return [replace(r, warnings=r.warnings + tuple(
                f"{r.source.path}: {problem}: no redirect is written for it (remove the alias "
                "or move the other page)" for problem in clashes[rel]))
            if r.outcome is Outcome.BUILT and (rel := rel_of(config, r.source)) in clashes else r
            for r in results]
