"""The search page in Chromium: pagefind's UI over an index site/search.py made.

The site is made by hand, so the test does not depend on how the build wires search in: a few
pages (two articles marked `data-pagefind-body`, an unmarked listing), the theme's stylesheet,
pagefind's files from `search_files`, and /search/ rendered from the theme's search template
with Jinja2. One HTTP server on 127.0.0.1 serves that site at the domain root and the same
files again under /blog/ (a site with a base path, or one served elsewhere than its base_url:
the pages do not know where they are), and a copy without the pagefind files at /bare/.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LOOPBACK, WIDE, new_page, serve

RESULT = ".pagefind-ui__result-link"
MESSAGE = ".pagefind-ui__message"
WAIT_MS = 20_000

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{root}assets/site.css"></head>
<body><header class="site-header"><nav class="site-nav"><a class="nav-button" href="{root}">Home</a>
</nav></header><main class="site-main">{main}</main></body></html>
"""
ARTICLE = '<article class="page" data-pagefind-body><h1 class="page-title">{title}</h1>' \
          '<div class="page-body"><p>{text}</p></div></article>'


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _search_page() -> str:
    """/search/ from the theme's search template (extending its base.html.j2), with the
    context base.html.j2 shows; what else the base may ask for renders empty here."""
    import jinja2

    from pipeline.site.layout import THEME

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(THEME), autoescape=True,
                             undefined=jinja2.ChainableUndefined)
    root = "../"
    return env.get_template("search.html.j2").render(
        site={"language": "en", "title": "Test site", "author": ""},
        head={"title": "Search | Test site", "og_title": "Search", "og_type": "website",
              "times": [], "feeds": []},
        version="test", root=root, nav=[{"title": "Home", "href": root, "active": False}],
        links=[], stylesheets=[root + "assets/site.css"], search=True)


def _make_site(folder: Path, scratch: Path) -> None:
    from pipeline.site.layout import THEME
    from pipeline.site.search import search_files

    articles = {"alpha": ("Alpha", "The zebrafish swims quickly past the reef."),
                "notes/beta": ("Beta", "Numbats forage at dawn.")}
    for slug, (title, text) in articles.items():
        root = "../" * (slug.count("/") + 1)
        _write(folder / slug / "index.html",
               PAGE.format(title=title, root=root, main=ARTICLE.format(title=title, text=text)))
    _write(folder / "untitled/index.html",    # marked, with no heading: pagefind has no title
           PAGE.format(title="Untitled", root="../",
                       main="<article data-pagefind-body><p>An axolotl, untitled.</p></article>"))
    _write(folder / "index.html",       # a listing: not marked, so its words are not indexed
           PAGE.format(title="Home", root="", main='<ul><li><a href="alpha/">Alpha</a> '
                                                  'and a quokka, only here</li></ul>'))
    _write(folder / "assets/site.css", (THEME / "site.css").read_text(encoding="utf-8"))
    shutil.copy(THEME / "favicon.svg", folder / "assets/favicon.svg")
    for rel, data in search_files(folder, scratch).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    _write(folder / "search/index.html", _search_page())


@pytest.fixture(scope="module")
def server_root(browser, tmp_path_factory) -> Path:
    top = tmp_path_factory.mktemp("search-site")
    site = top / "site"
    _make_site(site, top / "scratch")
    served = top / "served"
    shutil.copytree(site, served)                          # at the domain root
    shutil.copytree(site, served / "blog")                 # under a base path
    bare = served / "bare"
    shutil.copytree(site, bare, ignore=shutil.ignore_patterns("pagefind"))   # no index
    return served


@pytest.fixture(scope="module")
def base(server_root: Path):
    with serve(server_root, "search-tests-http") as url:
        yield url


@pytest.fixture
def page(browser, base):    # this module's pages: its own site, not the example's
    context, page = new_page(browser, WIDE)
    page.base = base
    yield page
    context.close()


def _search(page, path: str):
    response = page.goto(page.base + path, wait_until="load")
    assert response is not None and response.status == 200, path
    return page


def _clean(page) -> None:
    rec = page.recorder
    elsewhere = [u for u in rec.requests if urlsplit(u).hostname != LOOPBACK]
    assert elsewhere == [], elsewhere
    assert rec.failed == [], rec.failed
    errors = [(t, u) for t, u in rec.console_errors if urlsplit(u).path != "/favicon.ico"]
    assert errors == [], errors
    assert rec.page_errors == [], rec.page_errors


@pytest.mark.parametrize("prefix", ["", "/blog"])
def test_query_from_the_address_finds_the_page_and_links_to_it(page, prefix):
    _search(page, f"{prefix}/search/?q=zebrafish")
    page.wait_for_selector(RESULT, timeout=WAIT_MS)
    links = page.locator(RESULT)
    assert links.count() == 1
    assert links.first.inner_text().strip() == "Alpha"
    assert page.locator(".pagefind-ui__search-input").input_value() == "zebrafish"
    href = links.first.evaluate("a => a.href")
    assert href == f"{page.base}{prefix}/alpha/", href

    links.first.click()
    page.wait_for_url(f"{page.base}{prefix}/alpha/")
    assert page.locator("h1").inner_text() == "Alpha"
    assert page.recorder.responses.get(page.url) == 200
    _clean(page)


@pytest.mark.parametrize("prefix", ["", "/blog"])
def test_page_in_a_folder_links_under_it(page, prefix):
    _search(page, f"{prefix}/search/?q=numbats")
    page.wait_for_selector(RESULT, timeout=WAIT_MS)
    assert page.locator(RESULT).evaluate_all("as => as.map(a => a.href)") == [
        f"{page.base}{prefix}/notes/beta/"]
    _clean(page)


@pytest.mark.parametrize("prefix", ["", "/blog"])
def test_result_without_a_title_shows_its_address(page, prefix):
    _search(page, f"{prefix}/search/?q=axolotl")
    page.wait_for_selector(RESULT, timeout=WAIT_MS)
    link = page.locator(RESULT)
    assert link.evaluate_all("as => as.map(a => a.href)") == [f"{page.base}{prefix}/untitled/"]
    assert link.inner_text().strip() == f"{prefix}/untitled/"
    _clean(page)


def test_word_of_an_unindexed_page_finds_nothing(page):
    _search(page, "/search/?q=quokka")
    message = page.locator(MESSAGE)
    message.filter(has_text="No results").wait_for(timeout=WAIT_MS)
    assert "quokka" in message.inner_text()
    assert page.locator(RESULT).count() == 0
    _clean(page)


def test_typing_searches_and_keeps_the_query_in_the_address(page):
    _search(page, "/search/")
    assert page.locator(RESULT).count() == 0
    page.locator(".pagefind-ui__search-input").fill("numbats")
    page.wait_for_selector(RESULT, timeout=WAIT_MS)
    assert urlsplit(page.url).query == "q=numbats"
    _clean(page)


COLOURS = """() => {
    const style = sel => getComputedStyle(document.querySelector(sel));
    const input = style('.pagefind-ui__search-input');
    return {page: style('body').color, surface: style('.nav-button').backgroundColor,
            border: style('.site-search input').borderTopColor,
            input: input.color, inputBg: input.backgroundColor, inputBorder: input.borderTopColor,
            link: style('.pagefind-ui__result-link').color,
            excerpt: style('.pagefind-ui__result-excerpt').color};
}"""
DARK_TEXT = "rgb(226, 232, 240)"       # site.css's dark --nb-fg
LIGHT_TEXT = "rgb(26, 32, 44)"         # its light one (gray-800)


def _colours(page) -> dict[str, str]:
    page.wait_for_selector(RESULT, timeout=WAIT_MS)
    seen = page.evaluate(COLOURS)
    # the search UI in the theme's colours: its text, its surface (the nav buttons'), its lines
    assert seen["input"] == seen["link"] == seen["excerpt"] == seen["page"], seen
    assert seen["inputBg"] == seen["surface"] and seen["inputBorder"] == seen["border"], seen
    return seen


@pytest.mark.parametrize("how", ["toggle", "system"])
def test_dark_mode_reaches_the_search_ui(browser, base, how):
    """Dark chosen with the theme's toggle (data-theme on <html>), or by the system."""
    context, page = new_page(browser, WIDE)
    try:
        page.base = base
        if how == "system":
            page.emulate_media(color_scheme="dark")
        _search(page, "/search/?q=zebrafish")
        if how == "toggle":
            page.evaluate("document.documentElement.dataset.theme = 'dark'")
        seen = _colours(page)
        assert seen["page"] == DARK_TEXT, seen
        assert seen["inputBg"] != "rgb(255, 255, 255)", seen
        _clean(page)
    finally:
        context.close()


def test_light_mode_search_ui(page):
    page.emulate_media(color_scheme="light")
    _search(page, "/search/?q=zebrafish")
    seen = _colours(page)
    assert seen["page"] == LIGHT_TEXT and seen["inputBg"] == "rgb(255, 255, 255)", seen


def test_no_index_says_so(page):
    _search(page, "/bare/search/?q=zebrafish")
    message = page.locator("#search-message")
    message.wait_for(timeout=WAIT_MS)
    assert "no search index" in message.inner_text()


def test_opened_as_a_file_says_to_serve_it(browser, server_root):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((server_root / "search" / "index.html").as_uri())
        message = page.locator("#search-message")
        message.wait_for(timeout=WAIT_MS)
        assert "served over HTTP" in message.inner_text()
    finally:
        context.close()
