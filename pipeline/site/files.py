"""The files of the whole site besides its pages: listings, stylesheet, favicon, 404,
sitemap, and the author's `static/` folder, as (output path, bytes or text). Writes nothing."""
from __future__ import annotations

import hashlib
import os
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Iterable, Iterator

from pipeline.config import SiteConfig
from pipeline.site.model import Entry, SiteModel, section_url, tag_url
from pipeline.site.views import page_url

if TYPE_CHECKING:
    from pipeline.model import Page
    from pipeline.site.layout import Layout

RESERVED = {"assets", "404.html", "index.html", "sitemap.xml", "robots.txt", "feed.xml",
            "rss.xml", "pagefind", ".nbpress.json"}   # ours
Made = Iterator[tuple[str, str, Callable[[], str | bytes]]]


def site_files(config: SiteConfig, model: SiteModel, layout: Layout, page_urls: set[str],
               article: Callable[[Entry], str | None] = lambda e: None,
               clashes: dict[str, list[str]] | None = None) -> Made:
    """Every site-wide file as (output path, key, make): `make()` gives its content, and the
    key changes whenever the content would (the writer keeps a file whose key it saw last
    time). A listing is left out where a page of the author's has its URL
    (`content/blog/index.md` is the blog's listing page). static/ comes last: it wins.
    `article(entry)`: a published page's article HTML (for the feeds); `clashes` gets, by
    page, the aliases that get no redirect page, and why."""
    from pipeline.site.feeds import feed_files

    ours: list[tuple[str, str, Callable[[], str | bytes]]] = []
    if "/" not in page_urls:
        ours.append(("index.html", model.layout_key(""), lambda: layout.home(model)))
    ours += _listings(model, layout, page_urls)
    ours += _theme_files(config)
    ours += _scripts(model)
    ours.append(("404.html", model.layout_key("404.html"), lambda: layout.not_found(model)))
    if model.search and "/search/" not in page_urls:
        ours.append(("search/index.html", model.layout_key("search"), lambda: layout.search(model)))
    static = static_files(config)
    feeds = list(feed_files(config, model, article)) if config.base_url else []
    yield from ours
    files = {rel for rel, _, _ in ours + feeds} | {rel for _, rel in static}
    if config.base_url:
        files |= {"sitemap.xml", "robots.txt"}
    yield from _aliases(model, layout, page_urls, files, {} if clashes is None else clashes)
    if config.base_url:
        urls = _lastmods(model, page_urls)
        yield ("sitemap.xml", _hash([f"{u} {m}" for u, m in sorted(urls.items())]),
               lambda: sitemap(config, urls))
        if "robots.txt" not in {rel for _, rel in static}:     # the author's wins
            yield "robots.txt", _hash([config.base_url]), lambda: robots(config)
        yield from feeds
    for path, rel in static:
        st = path.stat()
        yield rel, f"{st.st_mtime_ns}:{st.st_size}:{st.st_ctime_ns}", path.read_bytes


def _listings(model: SiteModel, layout: Layout, page_urls: set[str]) -> Made:
    """Each section's listing and the pages after its first (`/blog/page/2/`), each tag's
    pages, and the tag index."""
    for name in model.sections:
        pages = model.pages_of(model.section_entries(name))
        base = section_url(name)
        for number, entries in enumerate(pages, 1):
            url = page_url(base, number)
            if url in page_urls:
                continue
            key = model.layout_key("", None, url, [e.card() for e in entries], len(pages)) \
                if number > 1 else model.layout_key(base.strip("/"), None,
                                                    *_family_cards(model, base))
            yield (f"{url.strip('/')}/index.html", key,
                   lambda name=name, n=number, e=entries, c=len(pages): layout.section(model, name, n, e, c))
    tags = model.tags()
    for slug, (tag, every) in tags.items():
        pages = model.pages_of(every)
        for number, entries in enumerate(pages, 1):
            url = page_url(tag_url(tag), number)
            if url not in page_urls:
                key = model.layout_key("", None, url, tag, [e.card() for e in entries], len(pages))
                yield (f"{url.strip('/')}/index.html", key,
                       lambda s=slug, n=number, e=entries, c=len(pages): layout.tag(model, s, n, e, c))
    sections = {section_url(name) for name in model.sections}
    for url in family_urls(model, page_urls):
        if url not in sections:         # (a section's listing shows the family's table)
            key = model.layout_key("", None, url, *_family_cards(model, url))
            yield f"{url.strip('/')}/index.html", key, lambda u=url: layout.family(model, u)
    if tags and "/tags/" not in page_urls:
        index = [(tag, len(every)) for tag, every in tags.values()]
        yield "tags/index.html", model.layout_key("", None, "tags", index), \
            lambda: layout.tag_index(model)


def _family_cards(model: SiteModel, url: str) -> list:
    """What the listing of the family at `url` shows of its members (none there: [])."""
    family = model.families().get(url)
    return [[e.card() + [e.family] for e in family[1]]] if family else []


def _aliases(model: SiteModel, layout: Layout, page_urls: set[str], files: set[str],
             clashes: dict[str, list[str]]) -> Made:
    """A redirect page at each old URL of a page, unless a page, a listing or another file
    of the site (`files`) is there: such an alias is put in `clashes` by page, with why (the
    build warns, `nbpress check` says the same)."""
    pages = {url.strip("/") + "/index.html" if url != "/" else "index.html": rel
             for rel, e in model.entries.items() if (url := e.url) in page_urls}
    taken: dict[str, str] = {}
    ours = ({"tags"} if model.tags() else set()) | ({"search"} if model.search else set())
    for rel, entry in sorted(model.entries.items()):
        if entry.url not in page_urls:
            continue
        for path in entry.aliases:
            shown = "/" + path.removesuffix("index.html")
            why = (f"its alias {shown} is the page's own URL" if pages.get(path) == rel
                   else f"its alias {shown} is the URL of {pages[path]}" if path in pages
                   else f"its alias {shown} is also an alias of {taken[path]}" if path in taken
                   else f"its alias {shown} is a file of the site ({path})"
                   if path in files or reserved(path.removesuffix("/index.html"), set(), ours)
                   else None)
            if why is not None:
                clashes.setdefault(rel, []).append(why)
                continue
            taken[path] = rel
            yield path, _hash([entry.url, entry.title, path]), \
                lambda p=path, e=entry: layout.alias(model, p, e)


def _theme_files(config: SiteConfig) -> Made:
    """The stylesheet (with Pygments', light and dark), the favicon, a site's own theme files
    (`theme/x.css` is published as `assets/x.css`, replacing ours of that name) and its
    `extra_css`."""
    from pipeline.render.export import code_stylesheet
    from pipeline.site.layout import THEME, extra_css_path

    own = {}
    if config.theme.is_dir():
        own = {p.relative_to(config.theme).as_posix(): p for p in sorted(config.theme.rglob("*"))
               if p.is_file() and not p.name.endswith(".j2") and not p.name.startswith(".")}
    if "site.css" not in own:       # made of nbpress's files and Pygments: the site key
        yield ("assets/site.css", "theme",
               lambda: (THEME / "site.css").read_text(encoding="utf-8") + "\n/* code */\n"
               + code_stylesheet())
    if "favicon.svg" not in own:
        yield "assets/favicon.svg", "theme", lambda: (THEME / "favicon.svg").read_bytes()
    for rel, path in own.items():   # their stamps are in the site key
        yield f"assets/{rel}", "theme", path.read_bytes
    for css in config.extra_css:
        path = config.root / css
        yield extra_css_path(css), "theme", path.read_bytes


def _scripts(model: SiteModel) -> Made:
    """The libraries pages draw with, one copy for the site: plotly.js, from the plotly
    package of the environment that builds (its version is in the site key)."""
    from pipeline.render.plotly import SCRIPT, plotly_script

    if any(SCRIPT in e.scripts for e in model.entries.values()):
        data = plotly_script()
        if data is not None:
            yield f"assets/{SCRIPT}", "theme", lambda: data


def sitemap(config: SiteConfig, urls: dict[str, str | None]) -> str:
    """Every published URL with its `lastmod` (the page's `edited`, else its date; a listing's
    is its newest page's), XML-escaped."""
    from pipeline.site.layout import absolute_url

    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url, lastmod in sorted(urls.items()):
        when = f"<lastmod>{escape(lastmod[:10])}</lastmod>" if lastmod else ""
        lines.append(f"<url><loc>{escape(absolute_url(config, url), quote=False)}</loc>{when}</url>")
    return "\n".join(lines + ["</urlset>", ""])


def robots(config: SiteConfig) -> str:
    """Crawlers welcome, and told where the sitemap is (static/robots.txt replaces it)."""
    from pipeline.site.layout import absolute_url

    return f"User-agent: *\nAllow: /\n\nSitemap: {absolute_url(config, '/sitemap.xml')}\n"


def _lastmods(model: SiteModel, page_urls: set[str]) -> dict[str, str | None]:
    """URL -> its lastmod: each page's own; a section's (and a tag's page), its newest page's;
    the home page's and the tag index's, the newest of all. Pages after a listing's first
    (`/blog/page/2/`) are left out, as search engines ask."""
    found: dict[str, str | None] = {"/": None}
    for entry in model.entries.values():
        if entry.url not in page_urls:
            continue
        found[entry.url] = max(found.get(entry.url) or "", entry.updated or "") or None
        for listing in ("/", section_url(entry.section) if entry.section else None):
            if listing is not None and entry.updated and (found.get(listing) or "") < entry.updated:
                found[listing] = entry.updated
    for name in model.sections:
        found.setdefault(section_url(name), None)
    tags = model.tags()
    for tag, entries in tags.values():
        shown = [e.updated for e in entries if e.url in page_urls and e.updated]
        if any(e.url in page_urls for e in entries):
            found[tag_url(tag)] = max(shown) if shown else None
    if tags and "/tags/" not in page_urls:
        found["/tags/"] = found["/"]
    for url in family_urls(model, page_urls):
        found.setdefault(url, max((e.updated for e in model.families()[url][1] if e.updated),
                                  default=None))
    return found


def family_urls(model: SiteModel, page_urls: set[str]) -> list[str]:
    """The URLs of the families' listings, but where a page of the author's is (or the
    home page: a family's listing at the top of the site is its home page's)."""
    return [url for url in model.families() if url not in page_urls and url != "/"]


def static_files(config: SiteConfig) -> list[tuple[Path, str]]:
    """The files of the site's `static/` folder (CNAME, robots.txt, downloads), each with its
    path in the output: copied to the output root as they are. Hidden files are left out."""
    top = config.static
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder, name)
                found.append((path, path.relative_to(top).as_posix()))
    return found


def generated(config: SiteConfig, pages: Iterable[Page]) -> frozenset[str]:
    """The top folders nbpress writes on this site besides RESERVED: tags/ when a page has
    tags, search/ when the site has search (as `SiteModel.search` decides)."""
    from pipeline.site.model import SEARCH_AUTO

    pages = list(pages)
    search = config.search if config.search is not None else len(pages) <= SEARCH_AUTO
    return frozenset({"tags"} if any(p.tags for p in pages) else ()) | (
        {"search"} if search else set())


def reserved(slug: str, static: set[str], ours: Collection[str] = ()) -> bool:
    """Whether a page at `slug` would collide with a file nbpress writes for the whole site
    (404.html, sitemap.xml, assets/, the tag pages, the search page, a listing's page 2),
    with a file of static/ (`static`: their output paths; `static/robots.txt` and a page at
    `robots.txt`, or `static/a/index.html` and a page at `a`: a folder of static/ beside
    pages is fine), or with a folder's index.html; `ours`: the site's `generated` folders."""
    parts = slug.split("/")
    if parts[0] in RESERVED or parts[0] in ours or "index.html" in parts or (
            len(parts) > 1 and parts[-2] == "page" and parts[-1].isdigit()
            and int(parts[-1]) > 1):
        return True             # (`blog/page/2`: where a listing's second page is)
    prefixes = {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return bool(prefixes & static) or f"{slug}/index.html" in static


def _hash(value: list[str]) -> str:
    return hashlib.sha256("\n".join(value).encode()).hexdigest()[:32]
