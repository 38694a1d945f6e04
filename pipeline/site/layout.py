"""The site layout: pages, listings and the 404 page rendered to HTML strings with the
theme's Jinja2 templates, from a page, its article HTML and the site model. Writes nothing.

Every value from a page reaches the templates through autoescaping (HTML text and
attributes), `absolute_url` (percent-encoded URLs), or `script_json` (JSON in a <script>).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pipeline import __version__
from pipeline.config import SiteConfig
from pipeline.errors import ConfigError
from pipeline.model import Page, url_of
from pipeline.render.html import leading_heading, script_safe
from pipeline.render.links import relative_url
from pipeline.render.templates import installed_templates_cache
from pipeline.site.model import Entry, Listed, SiteModel, description_of, section_title, \
    section_url, tag_url
from pipeline.site.views import around_view, date_view, family_view, href, is_url, listing_views, \
    page_url, pager_view, tag_index_view, tag_views, target, toc_view
from pipeline.sources.frontmatter import json_safe, plain_text

THEME = Path(__file__).parent / "theme"
TEMPLATES = ("page.html.j2", "listing.html.j2", "tags.html.j2", "search.html.j2",
             "alias.html.j2", "404.html.j2", "family.html.j2")
PARTS = ("base.html.j2", "listing.j2")     # what ours extend and import: compiled before the
                                           # workers fork too, not once in each
_DICT_ATTRIBUTES = frozenset(dir(dict))
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"     # what a URL may hold besides letters, digits and -._


class Layout:
    """The theme's templates (the site's `theme/` folder first, file by file, then ours),
    compiled once a build (before worker processes fork)."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self._env = None
        self._stamp: tuple = ()

    @property
    def env(self):
        if self._env is None:
            self._env, self._stamp = _environment(self.config), _theme_stamp(self.config)
        return self._env

    def fresh(self) -> "Layout":
        """Once a build (a service keeps its layout): the templates are compiled again when
        the site's theme folder changed since, or one of them did. Jinja2 itself does not
        look while pages render (`auto_reload` off: its look cost three `stat` calls a page)."""
        env = self._env
        if env is not None and (_theme_stamp(self.config) != self._stamp or any(
                not template.is_up_to_date for template in env.cache.values())):
            self._env = None
        return self

    def warm(self) -> None:
        """Compile every template now: before worker processes fork (they share them), and
        so a site's broken template is one error naming its file and line, not a traceback
        in every page."""
        import jinja2

        for name in TEMPLATES + PARTS:
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"the template {name} is not valid Jinja2: {exc.message}",
                                  Path(exc.filename or self.config.theme / name), line=exc.lineno,
                                  hint="correct the template (see nbpress's own in "
                                       f"{THEME}), or remove it to use nbpress's") from None
            except jinja2.TemplateNotFound as exc:
                raise ConfigError(f"the template {name} asks for {exc.name}, which is not there",
                                  self.config.theme / name,
                                  hint="name one of nbpress's templates, or add it to the "
                                       "theme folder") from None

    def page(self, page: Page, rel: str, body: str, image: str | None, model: SiteModel,
             scripts: tuple[str, ...] = (), notice: str | None = None) -> str:
        """A page: its article HTML in the site layout, with its listing if it has one;
        `scripts`: the site's scripts it needs (assets/plotly.min.js); `notice`: why it is
        not published (a draft shown by `--drafts` or the preview), shown above it."""
        dates = [date_view(field, getattr(page, field)) for field in ("date", "created", "edited")
                 if getattr(page, field) is not None]
        data = {"title": page.title, "url": page.url, "source": rel,
                "frontmatter": json_safe(dict(page.meta))}
        return self._render(
            "page.html.j2", model, page, page.url, title=page.title, page=page, body=body,
            dates=dates, image=image, page_json=script_json(data),
            show_title=leading_heading(body) not in (page.title, plain_text(page.title)),
            article=script_json({"image": image, "scripts": list(scripts)}),
            page_scripts=[relative_url(f"assets/{name}", page.slug) for name in scripts],
            tags=tag_views(page.tags, page.slug),
            around=around_view(model.around(rel), page.slug, page.url),
            toc=toc_view(body, page.meta.get("toc") is not False),
            sections=listing_views(model.listing(page.slug), page.slug, more=page.slug == ""),
            show_section_headings=page.slug == "", pager=self._first_pager(model, page.slug),
            notice=notice)

    def home(self, model: SiteModel) -> str:
        site = self.config
        return self._render("listing.html.j2", model, None, "/", title=site.title,
                            heading=site.title, intro=site.description,
                            sections=listing_views(model.listing(""), ""),
                            show_section_headings=True, pager=None)

    def section(self, model: SiteModel, name: str, number: int, entries: tuple[Entry, ...],
                count: int) -> str:
        """Page `number` of `count` of a section's listing."""
        base = section_url(name)
        url = page_url(base, number)
        listed = [Listed(name, entries, len(model.section_entries(name)))]
        title = section_title(name) + (f" (page {number})" if number > 1 else "")
        family = model.families().get(base) if number == 1 else None   # its listing is here
        return self._render("listing.html.j2", model, None, url, title=title,
                            heading=section_title(name), intro="",
                            family=family and family_view(family[1], url.strip("/")),
                            sections=listing_views(listed, url.strip("/"), more=False),
                            show_section_headings=False,
                            pager=pager_view(base, number, count, url.strip("/")))

    def tag(self, model: SiteModel, slug: str, number: int, entries: tuple[Entry, ...],
            count: int) -> str:
        tag, every = model.tags()[slug]
        base = tag_url(tag)
        url = page_url(base, number)
        listed = [Listed(None, entries, len(every))]
        return self._render("listing.html.j2", model, None, url, title=f"Tagged “{tag}”",
                            heading=f"Tagged “{tag}”", intro=f"{len(every)} "
                            + ("page" if len(every) == 1 else "pages"),
                            sections=listing_views(listed, url.strip("/"), more=False),
                            show_section_headings=False,
                            pager=pager_view(base, number, count, url.strip("/")))

    def family(self, model: SiteModel, url: str) -> str:
        """The listing of a page family at its URL: a row for each published member."""
        title, members = model.families()[url]
        return self._render("family.html.j2", model, None, url, title=title, heading=title,
                            intro=members[0].abstract if members else "",
                            family=family_view(members, url.strip("/")))

    def tag_index(self, model: SiteModel) -> str:
        return self._render("tags.html.j2", model, None, "/tags/", title="Tags",
                            tags=tag_index_view(model, "tags"))

    def search(self, model: SiteModel) -> str:
        return self._render("search.html.j2", model, None, "/search/", title="Search")

    def alias(self, model: SiteModel, path: str, entry: Entry) -> str:
        """A redirect page at the output path `path` (an old URL) to the page of `entry`."""
        here = path.rsplit("/", 1)[0] if "/" in path else ""
        return self.env.get_template("alias.html.j2").render(
            site=self.config, title=entry.title, href=href(entry.url, here),
            canonical=absolute_url(self.config, entry.url))

    def not_found(self, model: SiteModel) -> str:
        return self._render("404.html.j2", model, None, "/404.html", title="Page not found",
                            root=_site_root(self.config))

    def _first_pager(self, model: SiteModel, slug: str) -> dict[str, Any] | None:
        """An author's page at a section's URL lists the section's first page."""
        name = model.section_at(slug) if slug else None
        if name is None:
            return None
        count = len(model.pages_of(model.section_entries(name)))
        return pager_view(section_url(name), 1, count, slug)

    def _render(self, template: str, model: SiteModel, described: Page | None, url: str, *,
                title: str, root: str | None = None, image: str | None = None,
                **context: Any) -> str:
        """Render a template in the site layout; `described` is the page the head describes."""
        slug = url.strip("/") if url.endswith("/") else url.rsplit("/", 1)[0]
        head = self._head(model, described, url, title, image, context.get("body", ""))
        root = root or relative_url("", slug)
        try:
            return self.env.get_template(template).render(
                site=self.config, head=head, version=__version__, nav=_nav(model, slug, root),
                root=root, links=[{"title": link.title, "href": _nav_href(link.url, slug, None)}
                                  for link in self.config.links],
                stylesheets=[root + css for css in stylesheets(self.config)],
                search=model.search, **{"page_scripts": [], **context})
        except Exception as exc:        # a site's template that fails as it renders
            raise self._template_error(exc, template) from None

    def _template_error(self, exc: Exception, template: str) -> ConfigError:
        """The error of a template that failed while rendering, at the file and line of the
        site's template it happened in (Jinja2 puts them in the traceback)."""
        import traceback

        if isinstance(exc, ConfigError):        # a template not in UTF-8, named
            return exc
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.endswith(".j2")]
        where = frames[-1] if frames else None
        path = Path(where.filename) if where else self.config.theme / template
        ours = THEME in path.parents
        if ours and not isinstance(exc, LookupError):
            raise exc                   # a bug of nbpress's own templates: as it is
        what = (f"asks for the template {exc.name}, which is not there"
                if type(exc).__name__ == "TemplateNotFound" else f"failed: {type(exc).__name__}: {exc}")
        return ConfigError(f"the template {path.name} {what}", path,
                           line=where.lineno if where else None,
                           hint="correct the site's template (nbpress's own are in "
                                f"{THEME}), or remove it to use nbpress's")

    def _head(self, model: SiteModel, page: Page | None, url: str, title: str,
              image: str | None, body: str = "") -> dict[str, Any]:
        from pipeline.site.feeds import feed_links

        site = self.config
        description = (page and (description_of(page) or excerpt(body))) or site.description
        return {
            "title": title if page is None or page.slug == "" else f"{title} | {site.title}",
            "og_title": title,
            "og_type": "article" if page is not None and page.slug else "website",
            "description": description,
            "url": absolute_url(site, url) if url.endswith("/") else None,
            "image": absolute_url(site, image) if image else None,
            "times": _times(page) if page is not None else [],
            "feeds": [{"type": kind, "title": name, "href": absolute_url(site, path)}
                      for kind, name, path in feed_links(site, model, url)],
        }


def stylesheets(config: SiteConfig) -> list[str]:
    """Output paths of the stylesheets every page links: the theme's, then `extra_css`."""
    return ["assets/site.css"] + [extra_css_path(css) for css in config.extra_css]


def extra_css_path(css: str) -> str:
    return "assets/extra/" + "/".join(p for p in css.split("/") if p not in ("", ".", ".."))


ARTICLE_START, ARTICLE_END = "<!--nbpress:article ", "<!--/nbpress:article-->"


def article_of(html: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """(article HTML, featured image, scripts) of a page this layout rendered, read back from between
    its markers (a theme without them gives None: the page is built again instead). The
    first start marker is ours (page text before the article is escaped), the last end one
    too (the article may hold anything; the page JSON after it escapes `<`)."""
    start, end = html.find(ARTICLE_START), html.rfind(ARTICLE_END)
    close = html.find("-->\n", start) if start >= 0 else -1
    if start < 0 or end < 0 or close < 0 or close > end:
        return None
    try:
        meta = json.loads(html[start + len(ARTICLE_START):close])
    except ValueError:
        return None
    body = html[close + len("-->\n"):end]
    return (body[:-1] if body.endswith("\n") else body, meta.get("image"),
            tuple(meta.get("scripts", ())))


def script_json(value: Any) -> str:
    """JSON that is safe inside <script> (`render/html.script_safe`)."""
    return script_safe(json.dumps(value, ensure_ascii=False, allow_nan=False))


def excerpt(html: str, limit: int = 160) -> str:
    """The text of the first paragraph of `html`, cut at a word near `limit` characters."""
    from pipeline.render.html import first_paragraph_text

    text = first_paragraph_text(html)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def absolute_url(site: SiteConfig, path: str | None) -> str | None:
    """The public URL of an output path, when the site has a base_url; percent-encoded."""
    if path is not None and is_url(path):
        return quote(path, safe=URL_SAFE)          # as written, but a valid URL
    if not site.base_url or path is None:
        return None
    return site.base_url.rstrip("/") + "/" + quote(path.lstrip("/"), safe="/")


def _nav(model: SiteModel, slug: str, root: str | None) -> list[dict[str, Any]]:
    """The header links; relative to the page, or under `root` for pages served anywhere."""
    current = url_of(slug)
    links = []
    for title, url in model.nav_links():
        path = unquote(urlsplit(url).path)
        links.append({"title": title, "href": _nav_href(url, slug, root),
                      "active": path == current or (path != "/" and url.startswith("/")
                                                    and current.startswith(path))})
    return links


def _times(page: Page) -> list[tuple[str, str]]:
    times = []
    published = page.date or page.created
    if published is not None:
        times.append(("article:published_time", published.isoformat()))
    if page.edited is not None:
        times.append(("article:modified_time", page.edited.isoformat()))
    return times


def _site_root(site: SiteConfig) -> str:
    return (urlsplit(site.base_url).path.rstrip("/") + "/") if site.base_url else "/"


def _nav_href(url: str, slug: str, root: str | None) -> str:
    """A nav URL as an href: a site path ("/blog/?p=2#top", "/caf%C3%A9/") relative to the
    page or under `root`, percent-encoded once, its query and fragment kept; others as written."""
    if not url.startswith("/"):
        return quote(url, safe=URL_SAFE)
    parts = urlsplit(url)
    path = unquote(parts.path)
    tail = ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
    href = root + quote(path.lstrip("/")) if root else relative_url(target(path), slug)
    return href + quote(tail, safe=URL_SAFE)


def _environment(config: SiteConfig):
    import jinja2

    class Loader(jinja2.FileSystemLoader):
        """A template not in UTF-8 is an error naming its file and line."""

        def get_source(self, environment, template):
            try:
                return super().get_source(environment, template)
            except UnicodeDecodeError as exc:
                path = next(p for top in self.searchpath if (p := Path(top, template)).is_file())
                raise ConfigError(f"the template {template} is not UTF-8 text (byte "
                                  f"{exc.object[exc.start:exc.start + 1]!r})", path,
                                  line=exc.object.count(b"\n", 0, exc.start) + 1,
                                  hint="save the template as UTF-8 in your editor") from None

    class Environment(jinja2.Environment):
        """`x.name` of a dict as Jinja2 reads it, a dict method first, then its key, but
        without the failed `getattr` it tries first (an exception: 1.4 µs against 0.2; a
        page's layout reads 60 keys)."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    return self.undefined(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

    loaders = [Loader(config.theme)] if config.theme.is_dir() else []
    return Environment(loader=jinja2.ChoiceLoader(loaders + [jinja2.FileSystemLoader(THEME)]),
                       autoescape=True, undefined=jinja2.StrictUndefined,
                       trim_blocks=False, keep_trailing_newline=True, auto_reload=False,
                       bytecode_cache=installed_templates_cache(_ours))


def _ours(path: Path) -> bool:
    return path.parent == THEME


def _theme_stamp(config: SiteConfig) -> tuple:
    """The files of the site's theme folder with their sizes and times: one added (a
    template that overrides ours) or edited shows."""
    if not config.theme.is_dir():
        return ()
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in config.theme.rglob("*") if p.is_file()))
