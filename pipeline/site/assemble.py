"""Stage 5: pages into the site: layout, links and files, listings, stylesheet, atomic commit."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from html import unescape
from urllib.parse import quote
from typing import Any

from pipeline import __version__
from pipeline.config import SiteConfig
from pipeline.render.links import Asset, LinkResolver, relative_url
from pipeline.model import DateLike, Exported, Page
from pipeline.build.output import Staging
from pipeline.sources.frontmatter import json_safe, slug_from_path
from pipeline.build.plan import glob_ref, stamp
from pipeline.build.state import PageState

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
SITE_TEMPLATES = Path(__file__).parent / "theme"
RESERVED = {"assets", "404.html", "index.html", "sitemap.xml", ".nbpress.json"}   # ours
STATIC_DIR = "static"          # copied to the output root as it is
DATE_LABELS = {"date": "Published", "created": "Created", "edited": "Edited"}


@dataclass(frozen=True, slots=True)
class Written:
    """What writing one page produced: recorded by the build, wherever the page was written."""

    files: tuple[str, ...]                  # output files, from the output folder
    refs: dict[str, list[int]]              # files its output used -> [mtime_ns, size]
    links: dict[str, str | None]            # pages it links to -> their slugs
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """A page as a listing shows it."""

    source: str
    url: str
    title: str
    section: str | None
    date: str | None        # ISO
    abstract: str | None

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "url": self.url, "title": self.title,
                "section": self.section, "date": self.date, "abstract": self.abstract}


class SiteWriter:
    """Writes one build into a staging folder; `commit()` makes it the output folder."""

    def __init__(self, config: SiteConfig, resolver: LinkResolver, build_time: dt.datetime,
                 previous: dict[str, PageState]):
        self.config = config
        self.resolver = resolver
        self.build_time = build_time
        self.previous = previous
        self.entries: dict[str, Entry] = {}
        self.files: dict[str, list[str]] = {}              # output files, by source
        self.refs: dict[str, dict[str, list[int]]] = {}    # files each page used, by source
        self.links: dict[str, dict[str, str | None]] = {}  # pages each page links to: slugs
        self.sections = _section_order(config, [])
        self._staging: Staging | None = None
        self._env = None

    @property
    def staging(self) -> Staging:
        if self._staging is None:
            self._staging = Staging(self.config.output)
        return self._staging

    @property
    def env(self):
        if self._env is None:
            self._env = _environment()
        return self._env

    def plan(self, pages: list[Page]) -> None:
        """Tell the writer every page of the build first: listings and nav need them all."""
        self.sections = _section_order(self.config, [p.section for p in pages])
        for page in pages:
            self.entries[self._rel(page)] = _entry(page, self._rel(page))

    def listing_key(self, page: Page) -> str:
        """What an index page (home, or a section's own page) shows of the other pages."""
        sections = self._sections_for(page.slug)
        return json.dumps(sections, sort_keys=True, default=str) if sections else ""

    def keep(self, page_rel: str) -> bool:
        """An unchanged page: its previous output goes into this build as it is."""
        return self._carry(page_rel) is not None

    def _carry(self, page_rel: str) -> PageState | None:
        """Bring a page's files from the last build, with what they were built from."""
        old = self.previous.get(page_rel)
        if old is None or not old.files or not self.staging.carry(old.files):
            return None
        self.files[page_rel] = list(old.files)
        self.refs[page_rel] = dict(old.refs)
        self.links[page_rel] = dict(old.links)
        return old

    def add_page(self, page: Page, exported: Exported, used: list[Path] = (),
                 watch: tuple[tuple[Path, str], ...] = ()) -> Written:
        """Render and write one page with its figures and the files it refers to; `used` are
        further files its output depends on (its data, its notebook twin), `watch` are
        (folder, pattern) pairs whose matches it depends on (a twin that may appear). Safe in
        a worker process: it writes files and returns what it did, and `record()` books it."""
        rewritten = self.resolver.rewrite(page, exported.body, set(exported.files))
        assets = list(rewritten.assets)
        image = None
        if page.featured_image and _is_url(page.featured_image):
            image = page.featured_image                 # already a URL: used as it is
        elif page.featured_image:
            featured = self.resolver.asset(page, page.featured_image)
            assets.append(featured)
            image = featured.target
        html = self._render_page(page, rewritten.html, image)
        folder = f"{page.slug}/" if page.slug else ""
        written = [f"{folder}index.html"]
        self.staging.write(written[0], html)
        for name, data in exported.files.items():
            self.staging.write(folder + name, data)
            written.append(folder + name)
        written += self._copy(assets)
        refs = dict(stamp(self.config.root, path)
                    for path in sorted({a.source for a in assets} | set(used)))
        watched = [(page.source.path.parent, pattern) for pattern in page.depends] + list(watch)
        refs.update(glob_ref(self.config.root, folder, pattern) for folder, pattern in watched)
        links = {target.relative_to(self.config.root).as_posix(): self.resolver.slug_of(target)
                 for target in rewritten.pages}
        return Written(tuple(written), refs, links, rewritten.warnings)

    def record(self, page_rel: str, written: Written) -> None:
        self.files[page_rel] = list(written.files)
        self.refs[page_rel] = written.refs
        self.links[page_rel] = written.links

    def warm(self) -> None:
        """Compile the templates now (before worker processes fork, so they share them)."""
        self.env.get_template("page.html.j2")
        _ = self.staging

    def keep_previous(self, page_rel: str) -> bool:
        """A page failed: publish its last good version, if the previous build made one."""
        old = self._carry(page_rel)
        if old is None:
            self.entries.pop(page_rel, None)
            return False
        if old.entry:
            self.entries[page_rel] = Entry(**old.entry)
        return True

    def commit(self, build_id: str) -> list[str]:
        """Listings, stylesheet, 404, sitemap and the site's static files; then swap the
        staging folder in. The site-wide files written, for the next build to verify."""
        from pipeline.render.export import code_stylesheet

        written = self._write_listings()
        css = (SITE_TEMPLATES / "site.css").read_text(encoding="utf-8")
        self.staging.write("assets/site.css", css + "\n/* code */\n" + code_stylesheet())
        self.staging.copy(SITE_TEMPLATES / "favicon.svg", "assets/favicon.svg")
        self.staging.write("404.html", self._render("404.html.j2", None, "/404.html",
                                                    title="Page not found", root=_site_root(self.config)))
        written += ["assets/site.css", "assets/favicon.svg", "404.html"]
        if self.config.base_url:
            self.staging.write("sitemap.xml", self._sitemap())
            written.append("sitemap.xml")
        for path, rel in static_files(self.config):     # the author's own file wins
            self.staging.write(rel, path.read_bytes())
            written.append(rel)
        self.staging.commit({"nbpress": __version__, "build_id": build_id})
        return written

    def abort(self) -> None:
        if self._staging is not None:
            self._staging.abort()

    # -- pages -------------------------------------------------------------------------------

    def _rel(self, page: Page) -> str:
        return page.source.path.relative_to(self.config.root).as_posix()

    def _render_page(self, page: Page, body: str, image: str | None) -> str:
        dates = [_date_view(field, getattr(page, field)) for field in ("date", "created", "edited")
                 if getattr(page, field) is not None]
        data = {"title": page.title, "url": page.url, "source": self._rel(page),
                "frontmatter": json_safe(dict(page.meta))}
        listing = self._sections_for(page.slug)
        return self._render(
            "page.html.j2", page, page.url, title=page.title, page=page, body=body, dates=dates, image=image,
            page_json=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
            sections=listing, show_section_headings=page.slug == "")

    def _copy(self, assets: list[Asset]) -> list[str]:
        for asset in assets:
            self.staging.copy(asset.source, asset.target)
        return [a.target for a in assets]

    # -- listings ----------------------------------------------------------------------------

    def _write_listings(self) -> list[str]:
        slugs = {e.url for e in self.entries.values()}
        written = []
        if "/" not in slugs:
            written.append("index.html")
            self.staging.write("index.html", self._render(
                "listing.html.j2", None, "/", title=self.config.title, heading=self.config.title,
                intro=self.config.description, sections=self._sections_for(""),
                show_section_headings=True))
        for name in self.sections:
            url = section_url(name)
            if url not in slugs:
                written.append(f"{url.strip('/')}/index.html")
                self.staging.write(written[-1], self._render(
                    "listing.html.j2", None, url, title=section_title(name),
                    heading=section_title(name), intro="",
                    sections=self._sections_for(url.strip("/")),
                    show_section_headings=False))
        return written

    def _sections_for(self, slug: str) -> list[dict[str, Any]]:
        """The listing shown on the home page (dated top-level pages, then every section) or
        on a section's own page."""
        if slug != "":
            name = next((s for s in self.sections if section_url(s) == f"/{slug}/"), None)
            return [self._section_view(name, slug)] if name is not None else []
        top = [self._section_view(None, "")] if any(
            e.section is None and e.date and e.url != "/" for e in self.entries.values()) else []
        return top + [self._section_view(name, "") for name in self.sections]

    def _section_view(self, name: str | None, from_slug: str) -> dict[str, Any]:
        entries = sorted((e for e in self.entries.values() if e.section == name
                          and (name is not None or (e.date and e.url != "/"))),
                         key=lambda e: (e.date or "", e.title), reverse=True)
        if name is None:                # posts at the top of the site: no heading, no page
            return {"name": "posts", "title": "", "href": "", "entries": self._entry_views(
                entries, from_slug)}
        return {"name": name, "title": section_title(name),
                "href": relative_url(_target(section_url(name)), from_slug),
                "entries": self._entry_views(entries, from_slug)}

    def _entry_views(self, entries: list[Entry], from_slug: str) -> list[dict[str, Any]]:
        return [{"title": e.title, "href": relative_url(_target(e.url), from_slug),
                 "date": _date_view("date", _parse_iso(e.date)) if e.date else None,
                 "abstract": e.abstract} for e in entries]

    # -- layout ------------------------------------------------------------------------------

    def _render(self, template: str, described: Page | None, url: str, *, title: str,
                root: str | None = None, image: str | None = None, **context: Any) -> str:
        """Render a template in the site layout; `described` is the page the head describes."""
        slug = url.strip("/")
        head = self._head(described, url, title, image, context.get("body", ""))
        return self.env.get_template(template).render(
            site=self.config, head=head, version=__version__,
            nav=self._nav(slug, root), root=root or relative_url("", slug), **context)

    def _head(self, page: Page | None, url: str, title: str, image: str | None,
              body: str = "") -> dict[str, Any]:
        site = self.config
        description = (page and (page.abstract or _text(page.meta.get("description"))
                                 or excerpt(body))) or site.description
        times = []
        if page is not None:
            published = page.date or page.created
            if published is not None:
                times.append(("article:published_time", published.isoformat()))
            if page.edited is not None:
                times.append(("article:modified_time", page.edited.isoformat()))
        return {
            "title": title if page is None or page.slug == "" else f"{title} | {site.title}",
            "og_title": title,
            "og_type": "article" if page is not None and page.slug else "website",
            "description": description,
            "url": absolute_url(site, url) if url.endswith("/") else None,
            "image": absolute_url(site, image) if image else None,
            "times": times,
        }

    def _nav(self, slug: str, root: str | None = None) -> list[dict[str, Any]]:
        """The header links; relative to the page, or under `root` for pages served anywhere."""
        if self.config.nav is not None:
            links = [(link.title, link.url) for link in self.config.nav]
        else:
            links = [("Home", "/")] + [(section_title(s), section_url(s)) for s in self.sections]
            links += sorted((e.title, e.url) for e in self.entries.values()
                            if e.section is None and e.url != "/")
        current = f"/{slug}/" if slug else "/"
        return [{"title": title,
                 "href": root + url.lstrip("/") if root and url.startswith("/") else _nav_href(url, slug),
                 "active": url == current or (url != "/" and url.startswith("/")
                                              and current.startswith(url))}
                for title, url in links]

    def _sitemap(self) -> str:
        urls = sorted({"/", *(section_url(s) for s in self.sections),
                       *(e.url for rel, e in self.entries.items() if rel in self.files)})
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        lines += [f"<url><loc>{_xml(absolute_url(self.config, u))}</loc></url>" for u in urls]
        return "\n".join(lines + ["</urlset>", ""])


def excerpt(html: str, limit: int = 160) -> str:
    """The text of the first paragraph of `html`, cut at a word near `limit` characters."""
    match = _PARAGRAPH.search(html)
    text = " ".join(_TAGS.sub("", match.group(1)).split()) if match else ""
    text = unescape(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def static_files(config: SiteConfig) -> list[tuple[Path, str]]:
    """The files of the site's `static/` folder (CNAME, robots.txt, downloads), each with its
    path in the output: copied to the output root as they are. Hidden files are left out."""
    top = config.root / STATIC_DIR
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder, name)
                found.append((path, path.relative_to(top).as_posix()))
    return found


def reserved(slug: str, static: set[str]) -> bool:
    """Whether a page at `slug` would collide with a file nbpress writes for the whole site
    (404.html, sitemap.xml, assets/, a static/ file) or with a folder's index.html."""
    parts = slug.split("/")
    return parts[0] in RESERVED or parts[0] in static or "index.html" in parts


def section_url(name: str) -> str:
    """The URL of a section's listing: its folder name as a page slug would spell it
    (`content/Notes Folder/` -> `/notes-folder/`), so the listing sits above its pages."""
    return f"/{slug_from_path(name)}/"


def section_title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").title()


def absolute_url(site: SiteConfig, path: str | None) -> str | None:
    """The public URL of an output path, when the site has a base_url."""
    if path is not None and _is_url(path):
        return path
    if not site.base_url or path is None:
        return None
    return site.base_url.rstrip("/") + "/" + quote(path.lstrip("/"), safe="/")


def _is_url(ref: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(ref)
    return bool(parts.scheme or parts.netloc)


def _site_root(site: SiteConfig) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(site.base_url).path.rstrip("/") + "/") if site.base_url else "/"


def _target(url: str) -> str:
    """A site URL as an output path for relative_url: "/aws/" -> "aws/", "/" -> ""."""
    path = url.strip("/")
    return f"{path}/" if path else ""


def _nav_href(url: str, slug: str) -> str:
    return relative_url(_target(url), slug) if url.startswith("/") else url


def _section_order(config: SiteConfig, found: list[str | None]) -> list[str]:
    present = sorted({s for s in found if s})
    if config.sections is None:
        return present
    return [s for s in config.sections if s in present] + [s for s in present
                                                           if s not in config.sections]


def _entry(page: Page, rel: str) -> Entry:
    when = page.sort_date
    return Entry(source=rel, url=page.url, title=page.title, section=page.section,
                 date=when.isoformat() if when is not None else None,
                 abstract=page.abstract or _text(page.meta.get("description")))


def _date_view(field: str, value: DateLike) -> dict[str, str]:
    day = value.date() if isinstance(value, dt.datetime) else value
    return {"field": field, "label": DATE_LABELS[field], "iso": value.isoformat(),
            "human": f"{day.day} {day:%B %Y}"}


def _parse_iso(text: str) -> DateLike:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.fromisoformat(text)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(SITE_TEMPLATES),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=False, keep_trailing_newline=True)
