"""Issue 7: every value from a page is escaped for where it lands, whole builds.

A frontmatter value or a site setting lands in HTML text (<title>, <h1>, listings, dates), an
HTML attribute (<meta content>), a URL (canonical, og:image, hrefs from slugs and file names),
the JSON in <script id="nbpress-page">, or sitemap.xml. Hypothesis puts hostile text in each
(`</script>`, `<!--`, quotes, `&amp;`, `]]>`, U+2028, RTL marks, YAML syntax, long strings)
and every output page is parsed (the standard library's html.parser, sitemap.xml with
ElementTree): its tags and attributes must be those of the same site built with harmless
values, the JSON must be strict JSON holding the values as written, and every text, attribute
and link must read back as the value. Values a page cannot carry (control characters, a lone
surrogate, NaN, bytes) must fail their page with a clear error, never the build.

The frontmatter is written as YAML double-quoted strings with escapes (`yaml_scalar`), so the
value nbpress reads is the value generated; each site is built in its own folder.
Carriage returns are left out of the generated text: HTML turns them into line feeds."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from pipeline.errors import ConfigError, PageError
from pipeline.model import Outcome
from pipeline.site.model import section_title
from tests.conftest import PNG_1PX, SiteMaker

BASE = "https://ex.org/"
# Each example builds a site (about a second): few examples, and no shrinking.
FEW = settings(max_examples=25, deadline=None, derandomize=True,
               phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])

# -- hostile values ----------------------------------------------------------------------------

HOSTILE = (
    "</script>", "</SCRIPT >", "<script>alert(1)</script>", "<!--", "-->", "<!-- x -->",
    "\"'><img src=x onerror=alert(1)>", "' onmouseover='x", "&amp;", "&#34;", "&lt;", "&",
    "]]>", "<![CDATA[x]]>", "<?xml ?>", "\u2028", "\u2029", "\u200f", "\u202e", "\u2066",
    "\ufeff", "\U0001f600", "\u00e9", "\t", "\n", " | ", "{{ x }}", "{% raw %}", "${x}", "\\",
    "\\u003c", "'", '"', "---", "...", "# no comment", "key: value", "- item", "[a, b]",
    "{a: 1}", "*alias", "&anchor", "!tag", "%YAML 1.1", "@", "`", "null", "~", "yes", "on",
    "2024-01-01", "0x1F", "1e3", ".nan", "<<", "? x", "|", ">",
)
LONG = "<&>\"'" * 4000 + "</script>"
# Characters a page can carry: no control characters besides tab and newline, no surrogates.
PLAIN = st.characters(blacklist_categories=("Cs", "Cc"))
piece = st.sampled_from(HOSTILE) | st.text(PLAIN, min_size=1, max_size=6)
short_text = st.lists(piece, min_size=1, max_size=6).map("".join)
text = short_text | st.just(LONG)
keys = short_text           # YAML keys without `?` are at most 1024 characters long
# What JSON and YAML both carry: JSON-safe integers, no floats (YAML 1.1 reads 1e3 as text).
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 53, 2 ** 53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8)
ZONES = (dt.timezone.utc, dt.timezone(dt.timedelta(hours=5, minutes=30)),
         dt.timezone(-dt.timedelta(hours=9, minutes=45)))


@st.composite
def date_texts(draw) -> tuple[str, bool]:
    """A date as an author writes it, and whether to write it unquoted (a YAML date)."""
    if draw(st.booleans()):
        return draw(st.dates()).isoformat(), draw(st.booleans())
    when = draw(st.datetimes(timezones=st.none() | st.sampled_from(ZONES)))
    spec = draw(st.sampled_from(("seconds", "minutes", "microseconds")))
    written = when.isoformat(sep=draw(st.sampled_from("T ")), timespec=spec)
    return draw(st.sampled_from(("", " "))) + written, False


# -- writing sites -----------------------------------------------------------------------------

# What YAML reads as it is in a double-quoted string: not U+2028/9 (line breaks) nor a BOM.
_YAML_RAW = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                       "\U00010000-\U0010ffff]")


def yaml_scalar(value: str) -> str:
    """A YAML double-quoted string that reads back as `value`, whatever it holds."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _YAML_RAW.fullmatch(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def yaml_value(value: Any) -> str:
    if isinstance(value, str):
        return yaml_scalar(value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(yaml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_scalar(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Raw):
        return value.text
    raise TypeError(value)


@dataclass(frozen=True)
class Raw:
    """YAML written as it is (an unquoted date, `.nan`, `!!binary ...`)."""

    text: str


def markdown(meta: dict[str, Any], body: str = "Body text.") -> bytes:
    lines = [f"{yaml_scalar(k)}: {yaml_value(v)}" for k, v in meta.items()]
    doc = "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"
    plain = {k: v for k, v in meta.items() if not isinstance(v, Raw)}
    loaded = yaml_load(doc.split("---\n")[1]) or {}
    assert {k: loaded[k] for k in plain} == plain, "the test wrote YAML that reads differently"
    return doc.encode("utf-8")


def yaml_load(text: str) -> Any:
    """YAML read as python-frontmatter reads it (libyaml when it is there)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def iso_date(written: str) -> dt.date | dt.datetime:
    try:
        return dt.date.fromisoformat(written.strip())
    except ValueError:
        return dt.datetime.fromisoformat(written.strip())


def toml_string(value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def settings_toml(title: str = "Site", description: str = "About the site", author: str = "Ann",
                  language: str = "en", nav: list[tuple[str, str]] | None = None,
                  base_url: str = BASE) -> str:
    lines = ["[tool.nbpress]", f"title = {toml_string(title)}",
             f"description = {toml_string(description)}", f"author = {toml_string(author)}",
             f"language = {toml_string(language)}", f"base_url = {toml_string(base_url)}"]
    if nav is not None:
        items = ", ".join(f"{{ title = {toml_string(t)}, url = {toml_string(u)} }}" for t, u in nav)
        lines.append(f"nav = [{items}]")
    return "\n".join(lines) + "\n"


def new_site(factory) -> SiteMaker:
    return SiteMaker(factory.mktemp("escaping") / "site")


# -- reading the output ------------------------------------------------------------------------

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Document(HTMLParser):
    """An HTML page as the sequence of what the parser met, and its elements with their text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.shape: list[tuple[str, tuple[str, ...]]] = []
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.shape.append((tag, tuple(sorted(name for name, _ in attrs))))
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.shape.append(("/", ()))

    def handle_endtag(self, tag):
        self.shape.append(("/" + tag, ()))
        while self._open and self._open.pop().tag != tag:
            pass

    def handle_data(self, data):
        for element in self._open:
            element.parts.append(data)

    def handle_comment(self, data):
        self.shape.append(("<!--", ()))

    def handle_decl(self, decl):
        self.shape.append(("<!" + decl.split()[0].lower(), ()))

    def handle_pi(self, data):
        self.shape.append(("<?", ()))

    def unknown_decl(self, data):
        self.shape.append(("<![", ()))

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> Element:
        (found,) = self.find(tag, **attrs)
        return found

    def meta(self, key: str) -> str:
        """The content of <meta name=key> or <meta property=key>, unescaped."""
        (found,) = [e for e in self.elements if e.tag == "meta"
                    and key in (e.attrs.get("name"), e.attrs.get("property"))]
        return found.attrs["content"]

    def classed(self, name: str) -> list[Element]:
        return [e for e in self.elements if name in (e.attrs.get("class") or "").split()]

    def page_json(self) -> Any:
        """The page's JSON: exactly one JSON <script>, holding strict JSON with no `<` in it;
        the others are the theme's own inline scripts (no page value in them)."""
        (script,) = self.find("script", id="nbpress-page")
        assert script.attrs == {"type": "application/json", "id": "nbpress-page"}
        others = [e for e in self.find("script") if e is not script]
        assert all(not e.attrs and "nbpress-theme" in e.text for e in others), others
        assert "<" not in script.text, "a '<' in <script> can close it or open a comment"
        return json.loads(script.text, parse_constant=_not_json)

    def hrefs(self) -> list[str]:
        return [e.attrs["href"] for e in self.elements
                if e.tag in ("a", "link") and e.attrs.get("href") is not None]


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON: a browser's JSON.parse rejects it")


URL = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def valid_url(url: str) -> bool:
    """Only the characters a URL may hold, every `%` a percent-escape (RFC 3986)."""
    return URL.fullmatch(url) is not None


def read(site: SiteMaker, rel: str) -> Document:
    html = (site.root / "output" / rel).read_text(encoding="utf-8")
    bad = BAD_CHARACTER.search(html)
    assert bad is None, f"{rel}: raw control character {bad.group()!r} in the HTML"
    return Document(html)


def public_url(rel: str) -> str:
    """The address an output file is served at: `a b/index.html` -> https://ex.org/a%20b/."""
    return BASE + quote(rel.removesuffix("index.html"))


def check_links(site: SiteMaker, rel: str, doc: Document) -> None:
    """Every href is a valid URL; one into the site reaches a file of the output."""
    for href in doc.hrefs():
        assert valid_url(href), f"{rel}: href {href!r} is not a percent-encoded URL"
        target = urlsplit(urljoin(public_url(rel), href))
        if target.netloc == urlsplit(BASE).netloc:
            path = unquote(target.path).removeprefix("/")
            file = site.root / "output" / (path + "index.html" if path.endswith("/") or not path
                                           else path)
            assert file.is_file(), f"{rel}: href {href!r} leads to no file ({path!r})"


def site_path(href: str, rel: str) -> tuple[str, str, str]:
    """Where an href of the page at output `rel` leads: its path unquoted, query, fragment."""
    parts = urlsplit(urljoin(public_url(rel), href))
    return unquote(parts.path), parts.query, parts.fragment


def html_pages(site: SiteMaker) -> list[str]:
    out = site.root / "output"
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))


def shapes(site: SiteMaker) -> dict[str, list]:
    return {rel: read(site, rel).shape for rel in html_pages(site)}


def check_ids(doc: Document, rel: str) -> None:
    for element in doc.elements:
        value = element.attrs.get("id")
        if value is not None:
            assert value and not re.search(r"[ \t\n\f\r]", value), \
                f"{rel}: id {value!r} is not a valid HTML id (empty or with spaces)"


def built(site: SiteMaker):
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    return report


_baselines: dict[str, dict[str, list]] = {}


def same_shape_as_harmless(name: str, site: SiteMaker, harmless, roles=None) -> None:
    """The output pages have the tags and attributes the harmless twin of the site has;
    `roles` names the pages whose paths differ between the two ({role: output path})."""
    def by_role(built_site: SiteMaker, named: dict[str, str]) -> dict[str, list]:
        rels = html_pages(built_site)
        assert set(named.values()) <= set(rels), (named, rels)
        role_of = {rel: role for role, rel in named.items()}
        return {role_of.get(rel, rel): read(built_site, rel).shape for rel in rels}

    if name not in _baselines:
        twin, twin_roles = harmless()
        built(twin)
        _baselines[name] = by_role(twin, twin_roles)
    got = by_role(site, roles or {})
    assert got.keys() == _baselines[name].keys()
    for role, shape in got.items():
        assert shape == _baselines[name][role], f"{role}: the document's structure changed"


# -- page fields -------------------------------------------------------------------------------

def page_fields_site(factory, title, abstract, title2, description, extra, date) -> SiteMaker:
    site = new_site(factory)
    site.settings(settings_toml())
    written, unquoted = date
    meta = {"title": title, "abstract": abstract,
            "date": Raw(written) if unquoted else written, **extra}
    site.file("content/blog/p.md", markdown(meta))
    site.file("content/blog/d.md", markdown({"title": title2, "description": description}))
    return site


@FEW
@given(title=text, abstract=text, title2=text, description=text,
       extra=st.dictionaries(keys.map(lambda k: "extra " + k), json_value, max_size=3),
       date=date_texts())
@example(title=LONG, abstract="</script><!--", title2="]]>&amp;", description="\u2028\u202e",
         extra={"extra </script>": {"<!--": ["\"'><img src=x onerror=alert(1)>", None, 1]}},
         date=("2024-02-24", True))
def test_page_fields_are_escaped_in_text_attributes_and_json(
        tmp_path_factory, title, abstract, title2, description, extra, date):
    site = page_fields_site(tmp_path_factory, title, abstract, title2, description, extra, date)
    built(site)

    same_shape_as_harmless("page fields", site, lambda: (page_fields_site(
        tmp_path_factory, "T", "A", "T2", "D", {"extra k": 1}, ("2024-01-01", False)), {}))
    written, unquoted = date
    when = iso_date(written)
    page = read(site, "blog/p/index.html")
    data = page.page_json()
    assert data["title"] == title and data["url"] == "/blog/p/"
    assert data["frontmatter"] == {"title": title, "abstract": abstract,
                                   "date": when.isoformat() if unquoted else written, **extra}
    assert page.one("title").text == f"{title} | Site"
    assert page.one("h1").text == title
    assert page.meta("og:title") == title
    assert page.meta("description") == page.meta("og:description") == abstract
    assert page.one("time").attrs["datetime"] == when.isoformat()
    assert page.meta("article:published_time") == when.isoformat()

    other = read(site, "blog/d/index.html")
    assert other.page_json()["frontmatter"] == {"title": title2, "description": description}
    assert other.one("h1").text == title2
    assert other.meta("description") == other.meta("og:description") == description

    for rel in ("index.html", "blog/index.html"):
        listing = read(site, rel)
        entries = {site_path(e.attrs["href"], rel)[0]: e.text for e in listing.classed("entry-title")}
        assert entries == {"/blog/p/": title, "/blog/d/": title2}
        assert sorted(e.text for e in listing.classed("entry-abstract")) == sorted(
            [abstract, description])
        (entry_date,) = listing.classed("entry-date")
        assert entry_date.attrs["datetime"] == when.isoformat()
    for rel in html_pages(site):
        check_links(site, rel, read(site, rel))


# -- site settings and nav ---------------------------------------------------------------------

segment = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                blacklist_characters="/?#%\\"), min_size=1, max_size=8)
url_text = st.text(st.sampled_from("abcXYZ019-._~!$&'()*+,;=:@/?"), max_size=10)


@st.composite
def nav_urls(draw) -> tuple[str, str, str]:
    """A nav link into the site, as an author writes it: (path, query, fragment)."""
    path = "/n-" + draw(segment) + "/"
    return path, draw(url_text), draw(url_text)


def nav_url(path: str, query: str, fragment: str) -> str:
    return path + ("?" + query if query else "") + ("#" + fragment if fragment else "")


EXTERNAL = "https://other.example/a/b;c?x=1&y='2'&z=(3)#top"


def settings_site(factory, title, description, author, language, nav_titles, internal):
    site = new_site(factory)
    site.settings(settings_toml(title, description, author, language,
                                nav=[(nav_titles[0], nav_url(*internal)),
                                     (nav_titles[1], EXTERNAL)]))
    site.file("content/blog/p.md", markdown({"title": "Post"}))
    return site


@FEW
@given(title=text, description=text, author=text, language=text,
       nav_titles=st.tuples(text, text), internal=nav_urls())
@example(title="</script>", description="<!--", author="\"'><img src=x onerror=alert(1)>",
         language='en" onload="x', nav_titles=("&amp;", "]]>"),
         internal=("/n-my notes/", "a=1&b=2", "top"))
@example(title="\u202eRTL", description=LONG, author="&", language="\u2028",
         nav_titles=("\u200f", "\ufeff"), internal=("/n-caf\u00e9 \"x\" <y>/", "", ""))
def test_site_settings_and_nav_are_escaped(tmp_path_factory, title, description, author,
                                           language, nav_titles, internal):
    site = settings_site(tmp_path_factory, title, description, author, language, nav_titles,
                         internal)
    built(site)

    same_shape_as_harmless("settings", site, lambda: (settings_site(
        tmp_path_factory, "S", "D", "A", "en", ("N1", "N2"), ("/n-x/", "", "")), {}))
    home = read(site, "index.html")
    assert home.one("html").attrs["lang"] == language
    assert home.one("title").text == title and home.one("h1").text == title
    assert home.meta("og:site_name") == home.meta("og:title") == title
    assert home.meta("description") == home.meta("og:description") == description
    assert home.meta("author") == author
    assert home.classed("listing-intro")[0].text == description
    for rel in ("index.html", "blog/p/index.html", "blog/index.html", "404.html"):
        doc = read(site, rel)
        assert doc.classed("site-heading")[0].text == title
        assert doc.find("span")[-1].text == f"{author} \u00b7 built with nbpress"
        links = doc.classed("nav-button")
        assert [a.text for a in links] == list(nav_titles)
        path, query, fragment = internal
        assert site_path(links[0].attrs["href"], rel) == (path, query, fragment), rel
        assert links[1].attrs["href"] == EXTERNAL
        for href in doc.hrefs():
            assert valid_url(href), f"{rel}: href {href!r} is not a percent-encoded URL"
    page = read(site, "blog/p/index.html")
    assert page.one("title").text == f"Post | {title}"
    assert page.page_json()["title"] == "Post"


def test_a_nav_url_written_percent_encoded_is_not_encoded_again(tmp_path_factory):
    site = new_site(tmp_path_factory)
    site.settings(settings_toml(nav=[("Caf\u00e9", "/caf%C3%A9/"), ("Q", "/blog/?page=2#list")]))
    site.file("content/blog/p.md", markdown({"title": "Post"}))
    site.file("content/caf\u00e9.md", markdown({"title": "Caf\u00e9"}))
    built(site)

    for rel in ("index.html", "blog/p/index.html", "404.html"):
        cafe, blog = read(site, rel).classed("nav-button")
        assert site_path(cafe.attrs["href"], rel) == ("/caf\u00e9/", "", ""), cafe.attrs["href"]
        assert site_path(blog.attrs["href"], rel) == ("/blog/", "page=2", "list"), blog.attrs["href"]


# -- slugs, file names and the sitemap ---------------------------------------------------------

slug_part = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                                  blacklist_characters='/\\?#%<>"|*:'), min_size=1, max_size=8
                    ).filter(lambda s: s.strip() == s and s not in (".", ".."))
name_part = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z"), blacklist_characters="/"),
                    min_size=1, max_size=8) | st.sampled_from(("a b", "&amp;", "#x?y", "'\"", "<b>"))
image_name = st.lists(name_part, min_size=1, max_size=3).map(" ".join).map(
    lambda s: s + ".png").filter(lambda s: not re.search("%[0-9A-Fa-f]{2}", s))


def slugs_site(factory, slug_parts, section, stem, image) -> SiteMaker:
    site = new_site(factory)
    site.settings(settings_toml())
    slug = "s-" + "/".join(slug_parts)
    site.file("content/blog/p.md", markdown({"title": "Slugged", "slug": "/" + slug + "/",
                                             "featuredImage": image}))
    site.file(f"content/blog/{image}", PNG_1PX)
    site.file(f"content/f-{section}/f-{stem}.md", markdown({"title": "Named"}))
    return site


@FEW
@given(slug_parts=st.lists(slug_part, min_size=1, max_size=3), section=name_part,
       stem=name_part, image=image_name)
@example(slug_parts=["a&b", "c d", "\u2028'"], section="Notes Folder", stem="a#b?c%d",
         image="im &#?'\".png")
@example(slug_parts=["\u202e"], section="<b>", stem="100%", image="a:b.png")
def test_slugs_and_file_names_are_percent_encoded_in_every_url(
        tmp_path_factory, slug_parts, section, stem, image):
    site = slugs_site(tmp_path_factory, slug_parts, section, stem, image)
    built(site)

    slug = "s-" + "/".join(slug_parts)
    named_rel = next(r for r in html_pages(site) if r.startswith("f-") and r.count("/") == 2)
    named_url = read(site, named_rel).page_json()["url"]
    section_rel = named_rel.split("/")[0] + "/index.html"
    same_shape_as_harmless(
        "slugs", site, lambda: (slugs_site(tmp_path_factory, ["x"], "s", "n", "i.png"),
                                {"slugged": "s-x/index.html", "named": "f-s/f-n/index.html",
                                 "section": "f-s/index.html"}),
        {"slugged": f"{slug}/index.html", "named": named_rel, "section": section_rel})
    sections = {"/blog/", "/" + section_rel.removesuffix("index.html")}
    page = read(site, f"{slug}/index.html")
    assert page.page_json()["url"] == f"/{slug}/"
    for key in ("og:url",):
        url = page.meta(key)
        assert valid_url(url) and unquote(urlsplit(url).path) == f"/{slug}/", url
    (canonical,) = [e for e in page.find("link", rel="canonical")]
    assert canonical.attrs["href"] == page.meta("og:url")
    picture = page.meta("og:image")
    assert valid_url(picture), picture
    assert picture.startswith(BASE) and unquote(urlsplit(picture).path) == f"/blog/{image}", \
        f"og:image {picture!r} is not the image {image!r}"
    assert (site.root / "output/blog" / image).read_bytes() == PNG_1PX

    listing = read(site, section_rel)
    assert listing.one("h1").text == section_title("f-" + section)
    for rel in html_pages(site):
        doc = read(site, rel)
        check_links(site, rel, doc)
        check_ids(doc, rel)
    home = read(site, "index.html")
    listed = {site_path(e.attrs["href"], "index.html")[0] for e in home.classed("entry-title")}
    assert listed == {f"/{slug}/", named_url}

    sitemap = ET.fromstring((site.root / "output/sitemap.xml").read_bytes())
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert all(valid_url(loc) and loc.startswith(BASE) for loc in locs), locs
    assert {unquote(urlsplit(loc).path) for loc in locs} == {"/", f"/{slug}/", named_url,
                                                             *sections}


def test_a_base_url_with_an_ampersand_is_escaped_in_the_sitemap(tmp_path_factory):
    site = new_site(tmp_path_factory)
    base = "https://ex.org/R&D/"
    site.settings(settings_toml(base_url=base))
    site.file("content/blog/a&b.md", markdown({"title": "A&B"}))
    built(site)

    sitemap = ET.fromstring((site.root / "output/sitemap.xml").read_bytes())
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs == [base, base + "blog/", base + "blog/a%26b/"]
    assert read(site, "blog/a&b/index.html").meta("og:url") == base + "blog/a%26b/"


# -- values a page cannot carry: a clear error for that page, never for the build ----------------

def other_page_built(report) -> None:
    (ok,) = [r for r in report.results if r.source.rel == "ok"]
    assert ok.outcome is Outcome.BUILT, ok.error


def clear_failure(report, rel: str, word: str) -> None:
    """The page failed with an error about it that names the field, not an internal error."""
    (result,) = [r for r in report.results if r.source.rel == rel]
    assert result.outcome is Outcome.FAILED
    assert isinstance(result.error, PageError), result.error
    assert word in str(result.error) and "bug in nbpress" not in str(result.error), result.error


def one_bad_page(site: SiteMaker, data: bytes, name: str = "bad.md"):
    site.settings(settings_toml())
    site.file(f"content/{name}", data)
    site.file("content/ok.md", markdown({"title": "Fine"}))
    return site.build()


INVALID_SLUGS = ["../x", "a/../../b", "a/./b", "a\x00b", "a\x01b", "a\x1fb", "a%2e%2e/b", "a?b",
                 "a#b", "<a>", 'a"b',
                 *(f"a{c}b" for c in "\x7f\x85\x9f")]


@pytest.mark.parametrize("slug", INVALID_SLUGS, ids=ascii)
def test_an_invalid_slug_fails_its_page_clearly(site, slug):
    report = one_bad_page(site, markdown({"title": "Bad", "slug": slug}))

    clear_failure(report, "bad", "slug")
    other_page_built(report)
    for rel in html_pages(site):
        check_links(site, rel, read(site, rel))


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x9f"], ids=ascii)
def test_a_file_name_with_a_control_character_fails_its_page_clearly(site, char):
    """Not a whitespace control (tab, U+0085): the slug has "-" in their place."""
    report = one_bad_page(site, markdown({"title": "Bad"}), name=f"a{char}b.md")

    clear_failure(report, f"a{char}b", "slug")
    other_page_built(report)
    for rel in html_pages(site):
        read(site, rel)


CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f"]


@pytest.mark.parametrize("key", ["title", "abstract", "description"])
@pytest.mark.parametrize("char", CONTROLS, ids=ascii)
def test_a_control_character_in_shown_text_fails_the_page_or_never_reaches_the_html(
        site, key, char):
    meta = {"title": "T", key: f"a{char}b"}
    report = one_bad_page(site, markdown(meta))

    (result,) = [r for r in report.results if r.source.rel == "bad"]
    if result.outcome is Outcome.FAILED:
        clear_failure(report, "bad", key)
    other_page_built(report)
    for rel in html_pages(site):                 # the HTML never holds the raw character
        read(site, rel)


@pytest.mark.parametrize("key", ["title", "description", "author", "nav"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"], ids=ascii)
def test_a_control_character_in_the_settings_is_refused_or_never_reaches_the_html(
        site, key, char):
    value = f"a{char}b"
    values = {"nav": [(value, "/")]} if key == "nav" else {key: value}
    site.settings(settings_toml(**values))
    site.file("content/ok.md", markdown({"title": "Fine"}))
    try:
        site.build()
    except ConfigError as exc:
        assert key in str(exc), exc
        return
    for rel in html_pages(site):
        read(site, rel)


def test_a_notebook_with_a_lone_surrogate_in_its_title_fails_alone(site):
    notebook = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "Hi."}],
                "metadata": {"nbpress": {"frontmatter": {"title": "a\ud800b"}}},
                "nbformat": 4, "nbformat_minor": 5}
    report = one_bad_page(site, json.dumps(notebook).encode(), name="bad.ipynb")

    clear_failure(report, "bad", "title")
    other_page_built(report)


@pytest.mark.parametrize("written", [".nan", "-.inf", ".inf", "[1, .nan]", "!!binary aGVsbG8="],
                         ids=ascii)
def test_a_value_json_cannot_carry_fails_the_page_or_stays_strict_json(site, written):
    report = one_bad_page(site, markdown({"title": "T", "extra": Raw(written)}))

    (result,) = [r for r in report.results if r.source.rel == "bad"]
    if result.outcome is Outcome.FAILED:
        clear_failure(report, "bad", "extra")
    else:
        value = read(site, "bad/index.html").page_json()["frontmatter"]["extra"]
        assert not (isinstance(value, float) and not math.isfinite(value))
    other_page_built(report)


def test_the_yaml_writer_of_these_tests_reads_back_every_character():
    every = "".join(chr(c) for c in [*range(0x10000), *range(0x10000, 0x110000, 0x3fff)]
                    if not 0xD800 <= c <= 0xDFFF)
    assert yaml_load(yaml_scalar(every)) == every
