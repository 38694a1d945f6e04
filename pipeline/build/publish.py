"""Which sources a build publishes, and under which names: each source read once (hashed;
its frontmatter parsed only when its bytes changed), drafts left out, and every URL owned by
one page (a clash fails every page of it, naming the others). `nbpress check` asks the same
rules. No page is exported here."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from collections import defaultdict
from pathlib import Path
from dataclasses import dataclass, replace
from typing import Iterable

from pipeline.build.plan import may_run
from pipeline.build.state import BuildState, PageState
from pipeline.config import SiteConfig
from pipeline.errors import LinkError, NbpressError, PageError
from pipeline.files import site_rel
from pipeline.model import Page, Source
from pipeline.sources.families import is_family, members
from pipeline.sources.schedule import hidden_reason
from pipeline.site.files import generated, reserved, static_files


@dataclass(frozen=True, slots=True)
class Scanned:
    """A source read in this build: its page, the hash of its bytes, its path from the root."""

    page: Page
    sha: str
    rel: str

    code: bool = False      # it may have code to run (`plan.may_run`): worked out once a
                            # read (a service keeps the Scanned of an unchanged file)


def publishable(config: SiteConfig, scanned: list[Scanned], drafts: bool,
                kept: dict[Source, str] | None = None, now: dt.datetime | None = None
                ) -> tuple[list[Scanned], list[Scanned], list[tuple[Source, NbpressError]]]:
    """(published, pages left out, slug clashes) of the pages that read: the one rule of
    what a build publishes (`nbpress check` resolves links by it too). Left out: drafts, and
    pages whose `publish` time is after `now` or whose `expires` time is not (`drafts`
    publishes them all). `kept`: the files that did not read whose last good version stays
    published, with its slug."""
    now = now or dt.datetime.now(dt.timezone.utc)
    zone = config.zone
    hidden = {id(s) for s in scanned if not drafts and hidden_reason(s.page, now, zone)}
    published = [s for s in scanned if id(s) not in hidden]
    skipped = [s for s in scanned if id(s) in hidden]
    published, clashes = unique_slugs(published, {rel for _, rel in static_files(config)},
                                      generated(config, (s.page for s in published)))
    published, more = _one_family_a_listing(published)
    clashes += more
    taken = {slug: source for source, slug in (kept or {}).items()}
    for item in [s for s in published if taken.get(s.page.slug, s.page.source) != s.page.source]:
        published.remove(item)
        clashes.append((item.page.source, _clash_kept(item.page, taken[item.page.slug])))
    return published, skipped, clashes


def _one_family_a_listing(published: list[Scanned]
                          ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Families whose listings would share a URL, with another family's listing, an author's
    page (the home page too) or another family's member, fail, each naming the other file."""
    files: dict[str, set[Path]] = defaultdict(set)
    for s in published:
        if s.page.family:
            files[s.page.family.base].add(s.page.source.path)
    pages = {s.page.slug: s.page.source.path for s in published if s.page.family}
    pages.update({s.page.slug: s.page.source.path for s in published if not s.page.family})
    taken = {base: pages[base] for base, paths in files.items()
             if base in pages and pages[base] not in paths}
    shared = {base for base, paths in files.items() if len(paths) > 1 or base in taken}
    if not shared:
        return published, []
    ok, failures = [], []
    for s in published:
        base = s.page.family.base if s.page.family else None
        if base not in shared:
            ok.append(s)
            continue
        others = ", ".join(str(p) for p in sorted(files[base]) if p != s.page.source.path)
        failures.append((s.page.source, PageError(
            f"the family's listing, {'/' + base + '/' if base else '/'}, is also " + (
                f"the listing of {others}" if others else f"the URL of the page {taken[base]}"),
            s.page.source.path, hint="give each family a slug template of its own folder, "
            "e.g. slug: /alerts/{team}, or give that page another slug")))
    return ok, failures


def kept_pages(config: SiteConfig, failures: list[tuple[Source, NbpressError]],
               state: BuildState, scanned: list[Scanned] = ()) -> dict[Source, str]:
    """The slug of the last good version of each page that will not build: a source that
    failed to read, or a page that failed last time and is unchanged. That version stays
    published, so other pages link to it, and no other page may take its URL."""
    kept = {}
    for source, _ in failures:
        slug = _kept_slug(state.pages.get(rel_of(config, source)))
        if slug is not None:
            kept[source] = slug
    for item in scanned:
        old = state.pages.get(item.rel)
        slug = _kept_slug(old) if old is not None and not old.key and old.sha == item.sha else None
        if slug is not None:
            kept[item.page.source] = slug
    return kept


def _kept_slug(old: PageState | None) -> str | None:
    if old is None or not old.files or not old.files[0].endswith("index.html"):
        return None
    return old.files[0][:-len("index.html")].rstrip("/")


def _clash_kept(page: Page, kept: Source) -> PageError:
    return PageError(f"slug {page.slug!r} is the URL of {kept.path}, which could not be read: "
                     "its last good version stays published there", page.source.path,
                     hint=f"fix {kept.path} first, or give this page another slug")


def read_pages(config: SiteConfig, sources: list[Source], state: BuildState,
               memo: dict | None = None
               ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Read and hash every source; frontmatter is parsed only where the bytes changed.
    `memo`: what a build service read last time, by file identity (not read again)."""
    scanned, failures = [], []
    for source in sources:
        rel = rel_of(config, source)
        try:
            read = _read_once(source, rel, state.pages.get(rel), memo)
            scanned += _members(config, read) if is_family(read.page.meta) else [read]
        except NbpressError as error:       # a family's members keep their last versions
            failures += [(member, error) for member in _old_members(source, rel, state)] \
                or [(source, error)]
        except Exception as exc:    # one unreadable page must not stop the others
            from pipeline.build.pages import unexpected

            failures.append((source, unexpected(exc, source)))
    return scanned, failures


def _members(config: SiteConfig, family: Scanned) -> list[Scanned]:
    """A family's members, read each build (its `matrix_from` file may have changed)."""
    return [Scanned(page, family.sha, rel_of(config, page.source), may_run(page))
            for page in members(family.page)]


def _old_members(source: Source, rel: str, state: BuildState) -> list[Source]:
    """The members the last build made of a source (a family that no longer reads)."""
    return [replace(source, variant=name[len(rel) + 1:]) for name in state.pages
            if name.startswith(rel + "#")]


def _read_once(source: Source, rel: str, old: PageState | None, memo: dict | None) -> Scanned:
    if memo is None:
        return _read(source, rel, old)
    st = os.stat(source.path)
    stamp_now = (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)
    known = memo.get(rel)
    if known is not None and known[0] == stamp_now and (known[1].page.source is source
                                                        or known[1].page.source == source):
        return known[1]
    memo[rel] = (stamp_now, _read(source, rel, old))
    return memo[rel][1]


def _read(source: Source, rel: str, old: PageState | None) -> Scanned:
    from pipeline.sources.frontmatter import (decode, make_page, parse_frontmatter, read_bytes,
                                              read_source)

    data = read_bytes(source.path)
    sha = hashlib.sha256(data).hexdigest()
    if source.kind == "md":
        text = decode(data, source.path)
        if old is not None and old.sha.split("@")[0] == sha and isinstance(old.meta, dict):
            meta, body_line = old.meta, old.body_line
        else:
            meta, body_line = parse_frontmatter(text, source.path)
        page = make_page(source, text, body_line, meta)
    else:
        page = read_source(source)
    return Scanned(page, sha, rel, may_run(page))


def unique_slugs(scanned: list[Scanned], static: set[str] = frozenset(),
                 ours: frozenset[str] = frozenset()
                 ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]]]:
    """Pages whose slug is taken by another page, or reserved for a site-wide file (`static`:
    the output paths of static/; `ours`: `site.files.generated`), fail; each error names all."""
    by_slug: dict[str, list[Scanned]] = defaultdict(list)
    for item in scanned:        # one URL on a file system blind to case or to how é is written
        by_slug[unicodedata.normalize("NFC", item.page.slug).lower()].append(item)
    ok, failures = [], []
    for group in by_slug.values():
        if len(group) == 1 and not reserved(group[0].page.slug, static, ours):
            ok.extend(group)
            continue
        for item in group:
            failures.append((item.page.source, _clash(item.page, [g.page for g in group], ours)))
    return ok, failures


def page_files(entries: Iterable) -> dict[str, str]:
    """Each published page's file ("x/index.html") -> its source ("content/x.md")."""
    return {e.url.strip("/") + "/index.html" if e.url != "/" else "index.html":
            e.source.split("#")[0] for e in entries}


def over_a_page(page: Page, source: str, target: str, files: dict[str, str]) -> None:
    """A page refers to the file `source`, to be copied to `target`: an error when that is a
    page's file (`x/index.html` of x.md) or inside its path (`x/index.html/a.png`)."""
    parts = target.split("/")
    clash = next((f for f in ("/".join(parts[:n]) for n in range(1, len(parts) + 1))
                  if f in files), None)
    if clash is not None:
        where = f"over {clash}" if clash == target else f"at {target}, inside {clash}"
        raise LinkError(f"refers to {source}, which would be published {where}, the page of "
                        f"{files[clash]}", page.source.path,
                        hint="rename or move the file (or the page), or link to the page "
                             "instead of the file")


def rel_of(config: SiteConfig, source: Source) -> str:
    """The state key of a source's page (a page family's members add their variant)."""
    rel = site_rel(config.root, source.path)
    return f"{rel}#{source.variant}" if source.variant else rel


def _other_slug(slug: str) -> str:
    parts = [p.replace(".", "-") for p in slug.split("/") if p != "index.html"] or ["page"]
    return "/" + "/".join(parts[:-1] + [parts[-1] + "-page"])


def _clash(page: Page, group: list[Page], ours: frozenset[str] = frozenset()) -> PageError:
    if len(group) == 1:
        other = _other_slug(page.slug)
        if reserved(other.lstrip("/"), set(), ours):       # (`tags/x`: out of tags/)
            other = "/" + page.slug.replace("/", "-")
        return PageError(f"slug {page.slug!r} (the URL /{page.slug}/) would overwrite a file "
                         "nbpress writes for the whole site (404.html, index.html, sitemap.xml, "
                         "assets/, tags/, search/, a listing's page/2/) or a file of static/",
                         page.source.path, hint=f"choose another slug: {other}")
    others = ", ".join(str(p.source.path) for p in group if p is not page)
    if all(p.slug == page.slug for p in group):
        return PageError(f"slug {page.slug!r} is also the slug of {others}", page.source.path,
                         hint="give each page its own slug: two pages cannot share one URL")
    return PageError(f"slug {page.slug!r} is also the slug of {others} but for case or how "
                     "its letters are written in Unicode: one folder on macOS and Windows",
                     page.source.path, hint="give each page its own slug, differing in more "
                                            "than case")


def with_git_dates(config: SiteConfig, scanned: list[Scanned], memo: dict | None = None
                   ) -> list[Scanned]:
    """Pages whose frontmatter has no `edited` get the date of the last commit that touched
    them or their twin (never the file's mtime: a clone resets it), read in one git call for
    all of them, and again only when HEAD moved (`memo`: a service's last reading). The date
    joins the page's hash, so a commit that dates a page lays it out again."""
    from pipeline.sources.gitdates import head_stamp, last_commits

    undated = [s for s in scanned if s.page.edited is None]
    if not undated:
        return scanned
    stamp = head_stamp(config.root)
    if stamp is None:
        return scanned
    paths = {s.rel: [s.page.source.path] + _twins(config, s.page.source) for s in undated}
    wanted = {p for ps in paths.values() for p in ps}
    if memo is not None and memo.get("stamp") == stamp and wanted <= memo["dates"].keys():
        dates = memo["dates"]
    else:
        found = last_commits(config.root, sorted(wanted))
        dates = {p: found.get(p) for p in wanted}
        if memo is not None:
            memo.update(stamp=stamp, dates=dates)
    out = []
    for s in scanned:
        when = [d for d in (dates.get(p) for p in paths.get(s.rel, ())) if d is not None]
        if when:
            edited = max(when)
            s = replace(s, page=replace(s.page, edited=edited), sha=f"{s.sha}@{edited.isoformat()}")
        out.append(s)
    return out


def _twins(config: SiteConfig, source: Source) -> list[Path]:
    if source.kind != "md":
        return []
    return [config.notebooks / f"{source.rel}.ipynb", source.path.with_suffix(".ipynb")]