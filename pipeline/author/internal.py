"""`nbpress check`: what no single page's build sees. Links written as URLs of the site
(`/blog/post/`, `../about/`) that lead nowhere, fragments (`page.md#section`, `#section`) that
name no id of their page as the engine makes them, aliases that take a URL something else
has, and `toc` entries that name no page. Pages are read as `check.py` rendered them."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable
from urllib.parse import quote, unquote, urljoin, urlsplit

from pipeline.author.findings import WARNING, Finding, Locator, line_of
from pipeline.config import SiteConfig
from pipeline.files import site_rel
from pipeline.model import Page, Source

PAGE_SUFFIXES = (".md", ".ipynb")
_BASE = "http://site.invalid"       # a page's URL made absolute, to resolve links against
_NO_ID = ("(fix: link to an id the page has; a heading's is its text in lower case, "
          "punctuation dropped, spaces as hyphens)")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page as check read it: its article HTML as the build renders its Markdown, and the
    same with its links rewritten as the build rewrites them (None: they could not be)."""

    page: Page
    html: str
    rewritten: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A link of a page, to the site or to another site. `target`: a site URL path
    ("/blog/post/", decoded) or another site's URL without its fragment; `as_url`: written as
    a URL of the site (not a page's file), so what it names must exist."""

    page: Page
    written: str
    line: int | None
    target: str
    fragment: str = ""
    external: bool = False
    as_url: bool = False
    here: bool = False          # "#x": a fragment of the linking page itself


def page_links(item: Rendered, base_url: str = "") -> list[Link]:
    """The links of a page (href, outside code) that lead to a page of the site, to one of its
    URLs, or to another site (http and https); links to files are the resolver's."""
    from pipeline.render.html import url_attributes
    from pipeline.render.links import LINK_ATTRIBUTES

    written = [a.value for a in url_attributes(item.html) if a.name in LINK_ATTRIBUTES]
    rewritten = ([a.value for a in url_attributes(item.rewritten) if a.name in LINK_ATTRIBUTES]
                 if item.rewritten is not None else written)
    if len(rewritten) != len(written):      # not the same links: only the author's spelling
        rewritten = written
    lines = Locator(item.page.text, item.page.body_line)
    found = []
    for value, new in zip(written, rewritten):
        link = _link(item.page, value, new, base_url, lines)
        if link is not None:
            found.append(link)
    return found


def _link(page: Page, written: str, new: str, base_url: str, lines: Locator) -> Link | None:
    try:
        parts = urlsplit(written)
        urlsplit(new)
    except ValueError:                  # not a URL (`http://[::1`): the build warns of it
        return None
    if parts.scheme or parts.netloc:
        url = f"{parts.scheme or 'https'}:{written}" if not parts.scheme else written
        inside = _inside(url, base_url)
        if inside is not None:
            return _site_link(page, written, inside, lines) \
                if urlsplit(inside).path.endswith("/") else None
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        return Link(page, written, lines.find(written), url.split("#")[0],
                    urlsplit(url).fragment, external=True)
    if not parts.path:                                  # "#x", "?q": this page
        return Link(page, written, lines.find(written), page.url, parts.fragment, here=True)
    if parts.path.endswith(PAGE_SUFFIXES):
        if urlsplit(new).path.endswith(PAGE_SUFFIXES):  # not resolved: the resolver said so
            return None
        joined = urlsplit(urljoin(_BASE + quote(page.url), new))
        return Link(page, written, lines.find(written), unquote(joined.path), parts.fragment)
    if parts.path.endswith("/"):
        return _site_link(page, written, written, lines)
    return None


def _site_link(page: Page, written: str, url: str, lines: Locator) -> Link:
    joined = urlsplit(urljoin(_BASE + quote(page.url), url))
    return Link(page, written, lines.find(written), unquote(joined.path), joined.fragment,
                as_url=True)


def _inside(url: str, base_url: str) -> str | None:
    """`url` as a URL of this site ("/blog/post/#x") when it starts with its base_url."""
    if not base_url:
        return None
    base = base_url.rstrip("/") + "/"
    if not url.startswith(base) and url.rstrip("/") + "/" != base:
        return None
    return "/" + url[len(base):]


# -- links to the site's URLs, and their fragments ---------------------------------------------

def link_findings(links: Iterable[Link], rendered: list[Rendered], published: list[Page],
                  outputs: dict[str, str]) -> list[Finding]:
    """Links written as URLs of the site that lead to nothing it publishes, and fragments
    their page has no id for. `rendered`: the pages read (a draft's own fragments are
    checked too); `published`: the pages the site publishes; `outputs`: every other file it
    publishes (listings, aliases, static/ ...), by output path."""
    from pipeline.site.anchors import FragmentLink, element_ids, missing_fragments

    at = {p.url: p.source.path for p in published}
    findings, fragments = [], []
    for link in links:
        if link.external:
            continue
        if link.as_url and link.target not in at and output_of(link.target) not in outputs:
            findings.append(_nowhere(link, sorted(at)))
        elif link.fragment:
            target = link.page.source.path if link.here else at.get(link.target)
            fragments.append(FragmentLink(target, link.fragment, link.written, link))
    ids = {item.page.source.path: element_ids(item.html) for item in rendered}
    for missing in missing_fragments(fragments, ids):
        link = missing.link.where
        hint = f"(did you mean #{missing.suggestion}?)" if missing.suggestion else _NO_ID
        findings.append(Finding(link.page.source.path, link.line,
                                f"link to {link.written}: no heading with that id {hint}"))
    return findings


def output_of(url: str) -> str:
    """The output file of a site URL path: "/blog/post/" -> "blog/post/index.html"."""
    path = url.strip("/")
    return f"{path}/index.html" if path else "index.html"


def _nowhere(link: Link, urls: list[str]) -> Finding:
    shown = link.written if link.written.split("#")[0] == link.target else \
        f"{link.written} ({link.target})"
    close = _closest(link.target, urls)
    hint = f"did you mean {close}?" if close else \
        "fix: link to a page's URL, or to its file (page.md) and let nbpress write its URL"
    return Finding(link.page.source.path, link.line,
                   f"link to {shown}: no page of the site has that URL ({hint})")


def _closest(url: str, urls: list[str]) -> str | None:
    """The URL meant: one whose last part is the same (`../about/` written a folder too
    deep), else the closest spelling."""
    last = url.rstrip("/").rpartition("/")[2]
    same = [u for u in urls if last and u.rstrip("/").rpartition("/")[2] == last]
    if same:
        return min(same, key=len)
    close = difflib.get_close_matches(url, urls, n=1, cutoff=0.6)
    return close[0] if close else None


def site_outputs(config: SiteConfig, pages: list[Page]) -> dict[str, str]:
    """Every file the site publishes besides its pages and their aliases (listings, tag
    pages, feeds, 404, static/ ...), as the build makes them, by output path: what it is."""
    from pipeline.build.publish import rel_of
    from pipeline.site.files import site_files, static_files
    from pipeline.site.layout import Layout
    from pipeline.site.model import SiteModel, entry_of, section_url

    model = SiteModel(config)
    for page in pages:
        rel = rel_of(config, page.source)
        model.put(rel, replace(entry_of(page, rel), aliases=()))
    static = {rel for _, rel in static_files(config)}
    listings = {section_url(s).strip("/") + "/": s for s in model.sections}
    made = site_files(config, model, Layout(config), {p.url for p in pages})
    return {path: _what(config, path, static, listings, model) for path, _, _ in made}


def _what(config: SiteConfig, path: str, static: set[str], listings: dict[str, str],
          model) -> str:
    if path in static:
        return f"{config.static.name}/{path}"
    section = next((name for folder, name in listings.items() if path.startswith(folder)
                    and path[len(folder):].split("/")[0] in ("index.html", "page")), None)
    if section is not None:
        return f"the listing of the {section} section"
    family = next((e.family[1] for e in model.entries.values()
                   if e.family and e.family[0].strip("/") + "/index.html" == path), None)
    if family is not None:
        return f"the listing of the family {family!r}"
    return "a tag's page" if path.startswith("tags/") else f"the site's {path}"


# -- aliases ----------------------------------------------------------------------------------

def alias_findings(config: SiteConfig, pages: list[Page], outputs: dict[str, str]) -> list[Finding]:
    """Each alias (an old URL that redirects to its page) whose file something else has: a
    page, another page's alias, a listing or another file of the site."""
    from pipeline.site.files import generated, reserved, static_files

    static, ours = {rel for _, rel in static_files(config)}, generated(config, pages)
    at = {output_of(p.url): p for p in pages}
    first: dict[str, Page] = {}
    findings = []
    for page in sorted(pages, key=lambda p: str(p.source.path)):
        for alias in page.aliases:
            clash = _alias_clash(config, page, alias, at.get(alias), first.get(alias),
                                 outputs.get(alias),
                                 reserved(alias.removesuffix("/index.html"), static, ours))
            first.setdefault(alias, page)
            if clash is not None:
                findings.append(Finding(page.source.path, _alias_line(page, alias), clash))
    return findings


def _alias_clash(config: SiteConfig, page: Page, alias: str, other: Page | None,
                 aliased: Page | None, output: str | None, reserved: bool) -> str | None:
    shown = "/" + alias.removesuffix("index.html")
    fix = "(fix: remove the alias"
    if other is page:
        return f"alias {shown} is the page's own URL {fix})"
    if other is not None:
        return (f"alias {shown} is the URL of {_rel(config, other.source.path)}: the redirect "
                f"would replace that page {fix}, or give that page another slug)")
    if aliased is not None:
        return (f"alias {shown} is also an alias of {_rel(config, aliased.source.path)}: one "
                f"old URL can redirect to one page only {fix} from one of them)")
    if output is not None:
        return f"alias {shown} would replace {output} {fix}, or choose another old URL)"
    if reserved:
        return (f"alias {shown} would overwrite a file nbpress writes for the whole site "
                f"(404.html, index.html, sitemap.xml, assets/, tags/, search/, a listing's "
                f"page/2/) or a file of static/ {fix})")
    return None


def _alias_line(page: Page, alias: str) -> int | None:
    """The frontmatter line that writes `alias` ("old/index.html" as /old/, /old or old)."""
    stem = alias.removesuffix("index.html").strip("/")
    whole = re.compile(r"(?<![\w.%/-])/?" + re.escape(stem) + r"/?(?![\w.%/-])")
    head = page.text.splitlines()[:page.body_line - 1]
    return next((n for n, line in enumerate(head, start=1) if n > 1 and whole.search(line)), None)


# -- toc ----------------------------------------------------------------------------------------

def toc_findings(config: SiteConfig, sources: list[Source]) -> list[Finding]:
    """A warning for each `toc` entry that names no page (the entry is skipped)."""
    if not config.toc:
        return []
    from pipeline.site.model import toc_key

    names = {toc_key(config, site_rel(config.root, s.path)): f"{s.rel}.{s.kind}"
             for s in sources}
    file = config.config_file or config.root / "pyproject.toml"
    text = _text(file)
    findings = []
    for entry in config.toc:
        if toc_key(config, entry) in names:
            continue
        close = difflib.get_close_matches(toc_key(config, entry), sorted(names), n=1)
        hint = f"did you mean {names[close[0]]!r}?" if close else \
            "fix: write a page's path from the content folder, such as \"intro.md\""
        findings.append(Finding(file, _toc_line(text, entry),
                                f"toc entry {entry!r} names no page: it is left out ({hint})",
                                level=WARNING))
    return findings


def _toc_line(text: str, entry: str) -> int | None:
    for quoted in (f'"{entry}"', f"'{entry}'"):
        found = line_of(text, quoted)
        if found is not None:
            return found
    return line_of(text, "toc") if text else None


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _rel(config: SiteConfig, path: Path) -> str:
    return site_rel(config.root, path)

