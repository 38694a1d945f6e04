"""Writing one build into the staging folder: pages (in workers or the build process), their
files, the pages kept from the last build, and in the site phase, the layout of pages whose
view of the site changed and the site-wide files; then the swap.

The page phase renders each page with the site model as planned (every page expected to be
published). The site phase knows the outcomes: a page that failed and had no earlier version
leaves the model, and every page whose layout key (its nav and listing) differs from the one
it was rendered with is laid out again from its article HTML, read back from between the
markers of the page itself as this build publishes it, without exporting it again. So a failed new page is never linked, and a new top-level page costs a re-layout of
the others, not a rebuild.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.build.audit import Audit, Hidden
from pipeline.build.deps import Recorder
from pipeline.build.fragments import fragment_links
from pipeline.build.output import InPlace, Staging
from pipeline.build.state import PageState
from pipeline.files import site_rel
from pipeline.config import SiteConfig
from pipeline.errors import LinkError, NbpressError
from pipeline.model import Exported, Page, url_of
from pipeline.render.links import Asset, LinkResolver
from pipeline.site.files import site_files
from pipeline.site.layout import Layout, article_of, is_url
from pipeline.site.model import Entry, SiteModel, entry_of, section_url
from pipeline.sources.schedule import hidden_reason

FIGURES = (".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp")


@dataclass(frozen=True, slots=True)
class Written:
    """What writing one page produced: recorded by the build, wherever the page was written."""

    files: tuple[str, ...]                  # output files, from the output folder
    refs: dict[str, list[int]]              # files its output used -> [mtime_ns, size]
    links: dict[str, str | None]            # pages it links to -> their slugs
    warnings: tuple[str, ...] = ()
    layout: str = ""                        # the layout key it was rendered with
    image: str | None = None                # its card's image (featured, else its first figure)
    digest: str = ""                        # of its article HTML
    scripts: tuple[str, ...] = ()           # the site's scripts it needs (assets/<name>)
    fragment_links: tuple[tuple[str, str], ...] = ()   # its #fragment links, as written too


class SiteWriter:
    """Writes one build into a staging folder; `commit()` makes it the output folder."""

    def __init__(self, config: SiteConfig, resolver: LinkResolver, build_time: dt.datetime,
                 previous: dict[str, PageState], previous_site: dict[str, str] | None = None,
                 in_place: bool = False, layout: Layout | None = None):
        """`previous_site`: the site-wide files of the last build with their keys;
        `in_place`: update the last build's output folder instead of staging a new one."""
        self.config = config
        self.resolver = resolver
        self.build_time = build_time
        self.previous = previous
        self.model = SiteModel(config)
        self.layout = layout.fresh() if layout is not None else Layout(config)
        self.files: dict[str, list[str]] = {}              # output files, by source
        self.refs: dict[str, dict[str, list[int]]] = {}    # files each page used, by source
        self.links: dict[str, dict[str, str | None]] = {}  # pages each page links to: slugs
        self.fragment_links: dict[str, tuple[tuple[str, str], ...]] = {}   # of each page
        self.layouts: dict[str, str] = {}                  # layout key each page has now
        self.previous_site = previous_site
        self.in_place = in_place
        self.notes: list[str] = []                         # what the site phase could not do
        self.hidden: list[Hidden] = []                     # pages that must not show (drafts)
        self.written: list[str] = []                       # files this build wrote: audited
        self.alias_clashes: dict[str, list[str]] = {}      # aliases given no redirect, by page
        self._auditor: Audit | None = None
        self._page_files: tuple[int, dict] | None = None   # (entries, page file -> page)
        self._staging: Staging | InPlace | None = None

    @property
    def staging(self) -> Staging | InPlace:
        if self._staging is None:
            if not self.in_place:
                self._staging = Staging(self.config.output)
            else:
                old = {f for p in self.previous.values() for f in p.files}
                self._staging = InPlace(self.config.output, old | set(self.previous_site or {}))
        return self._staging

    @property
    def entries(self) -> dict[str, Entry]:
        return self.model.entries

    def plan(self, pages: list[Page]) -> None:
        """The pages expected to be published: the model the page phase renders with (with
        the card image and article digest each had last time: they come from its output)."""
        for page in pages:
            rel = self._rel(page)
            old = self.previous.get(rel)
            made = old.entry if old is not None and old.entry else {}
            self.model.put(rel, entry_of(page, rel, made.get("image"), made.get("digest", ""),
                                         tuple(made.get("scripts", ()))))

    def warm(self) -> None:
        """Compile the templates now (before worker processes fork, so they share them)."""
        self.layout.warm()
        _ = self.staging

    # -- the page phase ----------------------------------------------------------------------

    def keep(self, page_rel: str) -> bool:
        """An unchanged page: its previous output goes into this build as it is."""
        return self._carry(page_rel) is not None

    def add_page(self, page: Page, exported: Exported, used: list[Path] = (),
                 watch: tuple[tuple[Path, str], ...] = (),
                 bundle: Path | None = None) -> Written:
        """Render and write one page with its figures and the files it refers to; `used` are
        further files its output depends on (its data, its notebook twin), `watch` are
        (folder, pattern) pairs whose matches it depends on (a twin that may appear), `bundle`
        the folder
        whose set of data files its code may read (a page with code). Safe in a worker
        process: it writes files and returns what it did, and `record()` books it."""
        from pipeline.render.style import scope_styles

        rewritten = self.resolver.rewrite(page, exported.body, exported.files,
                                          raw_spans=exported.raw_spans)
        article = scope_styles(rewritten.html, ".page-body")    # a page's <style>: its own
        assets = list(rewritten.assets)
        image, warnings = None, list(rewritten.said)    # each once
        if page.featured_image and is_url(page.featured_image):
            image = page.featured_image                 # already a URL: used as it is
        elif page.featured_image:
            try:
                featured = self.resolver.asset(page, page.featured_image)
            except LinkError as exc:
                if "featuredImage" in page.meta:        # nbpress's own field: as written
                    raise
                warnings.append(f"{page.source.path}: {exc.message}: the page has no card image "
                                "(correct the path in its `image:` field, or add the file)")
            else:
                assets.append(featured)
                image = featured.target
        self._not_over_a_page(page, assets)
        rel = self._rel(page)
        layout = self._layout_key(page, rel)
        scripts = tuple(exported.scripts)
        html = self.layout.page(page, rel, article, image, self.model, scripts, self._notice(page))
        self.auditor().text(_index(page), html)         # a draft shown: the page fails
        self.staging.write(_index(page), html)
        folder = f"{page.slug}/" if page.slug else ""
        for name, data in exported.files.items():
            self.staging.write(folder + name, data)
        files = [_index(page), *(folder + n for n in exported.files), *self._copy(assets)]
        deps = Recorder(self.config.root)
        for path in sorted({a.source for a in assets if not a.derived} | set(used)):
            deps.file(path)
        for folder_path, pattern in [(page.source.path.parent, p) for p in page.depends] + list(watch):
            deps.glob(folder_path, pattern)
        if bundle is not None:
            deps.bundle(bundle)
        for target in rewritten.pages:
            deps.link(target, self.resolver.slug_of(target))
        for folder_path, pattern in rewritten.watch:    # a file it refers to, coming later
            deps.glob(folder_path, pattern)             # (or a better one) rebuilds the page
        card = image or next((folder + n for n in exported.files
                              if n.lower().endswith(FIGURES)), None)
        digest = hashlib.sha256(article.encode()).hexdigest()[:16]
        return Written(tuple(files), deps.refs, deps.links, tuple(warnings), layout,
                       card, digest, scripts, fragment_links(article, dict(rewritten.spelled)))

    def _not_over_a_page(self, page: Page, assets: list[Asset]) -> None:
        """A file a page refers to is never copied over a page's file, nor into its path."""
        from pipeline.build.publish import over_a_page, page_files

        if assets and (self._page_files is None or self._page_files[0] != len(self.model.entries)):
            self._page_files = (len(self.model.entries), page_files(self.model.entries.values()))
        for asset in assets:
            over_a_page(page, site_rel(self.config.root, asset.source), asset.target,
                        self._page_files[1])

    def record(self, page: Page, written: Written) -> None:
        rel = self._rel(page)
        self.written += written.files[1:]       # its page was audited in its worker, not its files
        self.files[rel] = list(written.files)
        self.refs[rel] = written.refs
        self.links[rel] = written.links
        self.layouts[rel] = written.layout
        self.fragment_links[rel] = written.fragment_links
        self.model.put(rel, entry_of(page, rel, written.image, written.digest, written.scripts))

    def keep_previous(self, page_rel: str) -> bool:
        """A page failed: publish its last good version, if the previous build made one."""
        old = self._carry(page_rel)
        if old is None:
            self.model.drop(page_rel)
            return False
        if old.entry:
            self.model.put(page_rel, Entry.from_json(old.entry))
        return True

    def forget(self, page_rel: str) -> None:
        """A page kept from the last build is not published after all."""
        for mine in (self.files, self.refs, self.links, self.layouts, self.fragment_links):
            mine.pop(page_rel, None)
        self.model.drop(page_rel)

    def _carry(self, page_rel: str) -> PageState | None:
        """Bring a page's files from the last build, with what they were built from."""
        old = self.previous.get(page_rel)
        if old is None or not old.files or not self.staging.carry(old.files):
            return None
        self.files[page_rel] = list(old.files)
        self.refs[page_rel] = dict(old.refs)
        self.links[page_rel] = dict(old.links)
        self.layouts[page_rel] = old.layout
        self.fragment_links[page_rel] = tuple((f, f) if isinstance(f, str) else tuple(f)
                                              for f in old.fragments)
        return old

    def _copy(self, assets: list[Asset]) -> list[str]:
        for asset in assets:
            self.staging.copy(asset.source, asset.target)
        return [a.target for a in assets]

    # -- the site phase ----------------------------------------------------------------------

    def relayout(self, pages: list[Page], kept: set[str] = frozenset(),
                 before: dict[str, str] | None = None) -> dict[str, str]:
        """Lay out again each page whose view of the site changed: `pages` are the pages
        published as built or kept (a page kept after a failure is left as it was: its new
        frontmatter is not what it shows). The article is read back from the page as it
        stands in this build's output, so it is always the one published. A page of `kept`
        (unchanged, from the last build) with no listing, in a section whose signature is
        the one the last build saw (`before`), is not asked: nothing it shows moved.
        Returns this build's signatures, for the next."""
        now = self.model.signatures()
        for page in pages:
            rel = self._rel(page)
            if (before and rel in kept and page.slug and self.model.section_at(page.slug) is None
                    and before.get(page.section or "") == now.get(page.section or "")
                    and not (page.draft or page.publish or page.expires)):  # no notice to change
                continue
            key = self._layout_key(page, rel)
            if rel not in self.files or self.layouts.get(rel) == key:
                continue
            try:
                article = article_of(self.staging.path(_index(page)).read_text(encoding="utf-8"))
            except OSError:
                article = None
            if article is None:         # not our layout's page: built on the next build
                self.layouts[rel] = ""
                continue
            body, image, scripts = article
            self.staging.write(_index(page), self.layout.page(page, rel, body, image, self.model,
                                                              scripts, self._notice(page)))
            self.written.append(_index(page))       # audited with the site's files
            self.layouts[rel] = key
        return now

    def commit(self, build_id: str, site_key: str) -> dict[str, str]:
        """Listings, stylesheet, 404, sitemap and the site's static files; then swap the
        staging folder in. The site-wide files, each with its key, for the next build: one
        whose key is unchanged is kept as it is, not rendered again. `site_key`: nbpress,
        its templates and the settings, which every one of them depends on."""
        urls = {e.url for rel, e in self.model.entries.items() if rel in self.files}
        old = self.previous_site or {}
        written = {}
        for rel, key, make in site_files(self.config, self.model, self.layout, urls,
                                         self._article, self.alias_clashes):
            key = f"{site_key[:16]}:{key}" if key else ""
            if not (key and old.get(rel) == key and self.staging.carry([rel])):
                self.staging.write(rel, make())
                self.written.append(rel)
            written[rel] = key
        if self.config.search is None and not self.model.search:
            self.notes.append(f"no search index: {len(self.model.entries):,} pages would take "
                              "pagefind several GB of memory (set search = true in "
                              "[tool.nbpress] to make it anyway, or search = false to say so)")
        if self.model.search:
            written.update(self._search_index(site_key, old))
        self._audit(written)
        keep = {f for files in self.files.values() for f in files} | set(written)
        self.staging.commit({"nbpress": __version__, "build_id": build_id}, keep)
        return written

    def _search_index(self, site_key: str, old: dict[str, str]) -> dict[str, str]:
        """pagefind's index of the published pages, made again only when a page's text,
        title or URL changed (its files all carry one key)."""
        from pipeline.files import scratch_dir
        from pipeline.site.search import index_into, search_files

        shown = sorted((e.url, e.title, e.digest) for rel, e in self.model.entries.items()
                       if rel in self.files)
        key = f"{site_key[:16]}:search:" + hashlib.sha256(repr(shown).encode()).hexdigest()[:32]
        before = [rel for rel, k in old.items() if k == key]
        if before and self.staging.carry(before):
            return dict.fromkeys(before, key)
        last = {rel: k for rel, k in old.items() if ":search:" in k}
        if self.in_place and last and self.staging.carry(list(last)):
            return last         # a service (preview) keeps the last index: 1 s a 1000 pages
                                # is not spent on each save; the next plain build makes it
        pages = [files[0] for files in self.files.values() if files]
        scratch = scratch_dir(self.config.root)
        top = self.staging.path("x").parent
        try:
            if self.in_place:               # the live folder: only this build's pages
                found = search_files(top, scratch, pages=pages)
            else:                           # a new folder: its index moved in, not written
                found = dict.fromkeys(index_into(top, scratch, pages=pages))
        except NbpressError as exc:         # the pages are fine: the search is not new
            kept = bool(last) and self.staging.carry(list(last))
            self.notes.append(f"the search index could not be made: {exc.message}"
                              + (" (the last one is kept)" if kept else "")
                              + "\n  " + (exc.hint or ""))
            return {rel: "" for rel in last} if kept else {}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for rel, data in found.items():
            if data is not None:
                self.staging.write(rel, data)
        self.written += found
        return dict.fromkeys(found, key)

    def _audit(self, site_files: dict[str, str]) -> None:
        """No file the site phase wrote shows a page that is not published (`build/audit.py`;
        pages were read as they were laid out); a URL the site has (a page's, a listing's: a
        draft `blog/index.md` leaves the blog's listing at its URL) is not evidence."""
        if self.hidden:
            self.auditor(site_files, fresh=True).files(self.staging.path("x").parent,
                                                       self.written)

    def auditor(self, site_files: dict[str, str] | None = None, fresh: bool = False) -> Audit:
        """The audit of this build, from the site model as it stands (planned, in a worker)."""
        if fresh or self._auditor is None:
            shown = [e for rel, e in self.model.entries.items() if fresh is False or rel in self.files]
            urls = {e.url for e in shown} | {url_of(f.removesuffix("index.html").strip("/"))
                                             for f in (site_files or ()) if f.endswith("index.html")}
            urls |= {section_url(s) for s in self.model.sections} | {"/"}
            titles = {e.title for e in shown} | {title for title, _ in self.model.nav_links()}
            self._auditor = Audit(self.hidden, self.config.base_url, titles, urls,
                                  self.config.output_dir)
        return self._auditor

    def _article(self, entry: Entry) -> str | None:
        """A published page's article HTML as this build publishes it (for the feeds)."""
        return self.article_text(entry.url.strip("/") + "/index.html" if entry.url != "/"
                                 else "index.html")

    def article_text(self, path: str, whole: bool = False) -> str | None:
        """The article HTML of the page file `path` as this build publishes it; None when
        there is none, or it is not a page of ours (`whole`: then the page itself, laid out
        by a theme without nbpress's article marks)."""
        top = str(self.staging.path("x").parent)    # its root, made if need be: nothing else
        target = os.path.normpath(os.path.join(top, path))
        if not target.startswith(top + os.sep):
            return None
        try:
            with open(target, encoding="utf-8") as file:
                text = file.read()
        except (OSError, ValueError):
            return None
        found = article_of(text)
        return found[0] if found else text if whole else None

    def abort(self) -> None:
        if self._staging is not None:
            self._staging.abort()

    def _notice(self, page: Page) -> str | None:
        """Why a page shown by `--drafts` (or the preview) is not published, or None."""
        return hidden_reason(page, self.build_time, self.config.zone)

    def _layout_key(self, page: Page, rel: str) -> str:
        notice = self._notice(page)
        return self.model.layout_key(page.slug, rel, notice) if notice else \
            self.model.layout_key(page.slug, rel)

    def _rel(self, page: Page) -> str:
        return page_name(self.config, page)


def page_name(config: SiteConfig, page: Page) -> str:
    """A page's name in the build state: its source from the site root, and its variant."""
    rel = site_rel(config.root, page.source.path)
    return f"{rel}#{page.variant}" if page.variant else rel


def _index(page: Page) -> str:
    return f"{page.slug}/index.html" if page.slug else "index.html"


