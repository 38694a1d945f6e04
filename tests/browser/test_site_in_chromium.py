"""The website layer of the example site in Chromium: every page clean and local, a page's own
style kept in its article, dark mode without a flash, folded cells, MathML, feeds, tags,
aliases, cards, no sideways scrolling, and screenshots to look at.

The example site (content/ of the repo) is built once for the module and served over HTTP on
127.0.0.1 (fixtures in conftest.py); folded cells get a small site of their own, since the
example has none. Screenshots go to <basetemp>/screenshots/ (said at the end of the run) and,
when NBPRESS_SCREENSHOTS names a folder, there too.
"""
from __future__ import annotations

import html.parser
import io
import json
import os
import re
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import (LOOPBACK, NARROW, SUMMARY_LINES, WIDE, Recorder,
                                    load_images, new_page, open_page, serve)

BASE = "https://peter.example.org/"          # the example's base_url (pyproject.toml)
LIGHT_BG = "rgb(240, 255, 244)"              # the old site's green-50 background
LIGHT_TEXT = "rgb(26, 32, 44)"               # its gray-800 text
PX = 1.5                                     # tolerance for measured lengths
THEME_KEY = "nbpress-theme"                  # where the toggle keeps the reader's choice
WAIT_MS = 10_000                             # for what a page does by itself (a redirect)
SCREENSHOT_PAGES = ["/aws/", "/projects/alerts-dashboard/checkout/", "/projects/",
                    "/tags/python/", "/projects/alerts-dashboard/"]


# --- reading the output -----------------------------------------------------------------------

_REFRESH = re.compile(r"^\s*\d+\s*;\s*url\s*=\s*", re.I)      # "0; url=" before the target


class _PageFacts(html.parser.HTMLParser):
    """The few facts a test needs from a built HTML file: where a redirect page sends the
    reader (<meta http-equiv="refresh">) and the page's JSON (<script id="nbpress-page">)."""

    def __init__(self):
        super().__init__()
        self.refresh: str | None = None
        self.page_json = ""
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.refresh = _REFRESH.sub("", a.get("content") or "")
        self._in_json = tag == "script" and a.get("id") == "nbpress-page"

    def handle_endtag(self, tag):
        self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.page_json += data


def _facts(file: Path) -> _PageFacts:
    facts = _PageFacts()
    facts.feed(file.read_text(encoding="utf-8"))
    facts.close()
    return facts


def _html_pages(output_dir: Path) -> list[tuple[str, Path]]:
    """(URL path, file) of every HTML file of the output."""
    pages = []
    for file in sorted(output_dir.rglob("*.html")):
        rel = file.relative_to(output_dir).as_posix()
        path = "/" + (rel[:-len("index.html")] if rel.endswith("index.html") else rel)
        pages.append((path, file))
    return pages


class _Links(html.parser.HTMLParser):
    """Every URL an HTML fragment points at: href, src, poster and each srcset candidate."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src", "poster"):
                self.urls.append(value)
            elif name == "srcset":
                self.urls += [c.split()[0] for c in value.split(",") if c.strip()]


def _urls_in(fragment: str) -> list[str]:
    links = _Links()
    links.feed(fragment)
    links.close()
    return links.urls


def _luminance(css: str) -> float:
    """WCAG relative luminance of a computed colour "rgb(r, g, b)" / "rgba(r, g, b, a)"."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


# --- visiting pages ---------------------------------------------------------------------------

def _visit(page, path: str, file: Path, settle: bool = False) -> list[dict]:
    """Open `path` (a redirect page: on to where it sends the reader), optionally wait until
    the network is quiet, then load every image as a reader scrolling would."""
    open_page(page, path)
    target = _facts(file).refresh
    if target:
        page.wait_for_url(urljoin(page.base + path, target), timeout=WAIT_MS)
        page.wait_for_load_state("load")
    if settle:
        page.wait_for_load_state("networkidle")
    return load_images(page)


def _problems(rec: Recorder, images: list[dict]) -> dict:
    found = {
        "left 127.0.0.1": [u for u in rec.requests
                           if urlsplit(u).scheme != "http" or urlsplit(u).hostname != LOOPBACK],
        "failed requests": rec.failed,
        "error statuses": {u: s for u, s in rec.responses.items() if s >= 400},
        "console errors": rec.console_errors,
        "page errors": rec.page_errors,
        "images not loaded": [i for i in images if not (i["complete"] and i["naturalWidth"] > 0)],
    }
    return {k: v for k, v in found.items() if v}


def _background(page) -> dict:
    return page.evaluate("""key => ({theme: document.documentElement.dataset.theme || null,
        bg: getComputedStyle(document.body).backgroundColor,
        fg: getComputedStyle(document.body).color,
        stored: localStorage.getItem(key)})""", THEME_KEY)


def _is_dark(seen: dict) -> bool:
    return _luminance(seen["bg"]) < 0.2 and _luminance(seen["fg"]) > 0.6


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site_pages(output_dir: Path) -> list[tuple[str, Path]]:
    from pipeline.config import load_config

    assert load_config(output_dir.parent).base_url == BASE     # the example is as described
    pages = _html_pages(output_dir)
    assert len(pages) >= 15, pages                            # the walk sees the whole site
    return pages


@pytest.fixture(scope="module")
def folded_base(browser, tmp_path_factory):
    """A small site of its own: a code page whose code is folded (Quarto's code-fold) and
    one cell whose output is folded (Jupyter Book's hide-output tag)."""
    from tests.conftest import SiteMaker

    site = SiteMaker(tmp_path_factory.mktemp("folded") / "site")
    site.page("folded.md", '''
        ---
        title: "Folded"
        ---

        Some prose.

        ```python
        #| code-fold: true
        answer = 6 * 7
        print("the answer is", answer)
        ```

        ```python tags=["hide-output"]
        print("a folded output line")
        ```
        ''')
    report = site.build()
    assert report.ok, report
    with serve(site.root / "output", "folded-site-http") as url:
        yield url


@pytest.fixture(scope="module")
def screenshot_dirs(tmp_path_factory, pytestconfig) -> list[Path]:
    folders = [tmp_path_factory.getbasetemp() / "screenshots"]
    if os.environ.get("NBPRESS_SCREENSHOTS"):
        folders.append(Path(os.environ["NBPRESS_SCREENSHOTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    lines = pytestconfig.stash.setdefault(SUMMARY_LINES, [])
    lines += [f"screenshots of the example site: {folder}" for folder in folders]
    print("screenshots in:", *folders)
    return folders


# --- every page: clean, local, images loaded; never sideways at 600 px ------------------------

def test_every_page_loads_clean_and_stays_local(browser, base_url, site_pages):
    context, page = new_page(browser, WIDE)
    page.base = base_url
    problems, images_seen = {}, 0
    try:
        for path, file in site_pages:
            page.recorder = Recorder()
            images = _visit(page, path, file, settle=True)
            images_seen += len(images)
            if found := _problems(page.recorder, images):
                problems[path] = found
    finally:
        context.close()
    assert problems == {}, json.dumps(problems, indent=1)
    assert images_seen >= 4, images_seen      # the badge, the chart, the cards: really checked


def test_no_page_scrolls_sideways_at_600px(browser, base_url, site_pages):
    context, page = new_page(browser, NARROW)
    page.base = base_url
    too_wide = {}
    try:
        for path, file in site_pages:
            _visit(page, path, file)
            widths = page.evaluate("() => ({doc: document.documentElement.scrollWidth, "
                                   "win: window.innerWidth})")
            assert widths["win"] == NARROW["width"], widths
            if widths["doc"] > NARROW["width"]:
                too_wide[path] = widths["doc"]
    finally:
        context.close()
    assert too_wide == {}, too_wide


# --- the seed page's own style stays in its article -------------------------------------------

# Elements like the page's own, put outside its article: the header, the footer and the main
# column's heading. The page's rules (p, h3, .content, .badge) must not reach them.
PLANT_OUTSIDE = """() => {
    const homes = {header: document.querySelector('.site-header'),
                   footer: document.querySelector('.site-footer'),
                   heading: document.querySelector('.site-heading')};
    for (const [name, home] of Object.entries(homes)) {
        const p = document.createElement('p'); p.className = 'planted'; p.textContent = name;
        const h3 = document.createElement('h3'); h3.className = 'planted'; h3.textContent = name;
        const content = document.createElement('div');
        content.className = 'content planted'; content.textContent = name;
        home.append(p, h3, content);
    }
}"""
MEASURE_STYLE = """() => {
    const pick = (sel, props) => [...document.querySelectorAll(sel)].map(e => {
        const s = getComputedStyle(e);
        return Object.fromEntries([['where', e.parentElement.className],
                                   ...props.map(p => [p, s.getPropertyValue(p)])]);
    });
    return {
        outsideP: pick('p.planted', ['padding-bottom']),
        outsideH3: pick('h3.planted', ['padding-top', 'font-size']),
        outsideContent: pick('div.planted', ['display', 'gap']),
        outsideLinks: pick('.site-header a, .site-footer a, .site-footer span, .site-heading a',
                           ['padding-bottom']),
        insideP: pick('.page-body p', ['padding-bottom']),
        insideH3: pick('.page-body h3', ['padding-top', 'font-size']),
        insideContent: pick('.page-body .content', ['display', 'gap']),
    };
}"""


def test_aws_page_style_stays_in_its_article(page):
    open_page(page, "/aws/")
    page.evaluate(PLANT_OUTSIDE)
    seen = page.evaluate(MEASURE_STYLE)

    # inside the article: the page's rules apply
    assert len(seen["insideP"]) >= 5 and all(p["padding-bottom"] == "15px"
                                             for p in seen["insideP"]), seen["insideP"]
    assert len(seen["insideH3"]) == 2 and all(h["font-size"] == "18px" and h["padding-top"] == "5px"
                                              for h in seen["insideH3"]), seen["insideH3"]
    assert seen["insideContent"] == [{"where": "page-body", "display": "flex", "gap": "15px"}]

    # outside it (the header, the footer, the site's heading): they do not
    assert len(seen["outsideP"]) == 3, seen
    assert [p for p in seen["outsideP"] if p["padding-bottom"] != "0px"] == [], seen["outsideP"]
    assert [h for h in seen["outsideH3"] if h["padding-top"] != "0px"
            or h["font-size"] == "18px"] == [], seen["outsideH3"]
    assert [c for c in seen["outsideContent"] if c["display"] != "block"] == [], seen
    assert seen["outsideLinks"], seen
    assert [a for a in seen["outsideLinks"] if a["padding-bottom"] == "15px"] == [], seen


# --- dark mode --------------------------------------------------------------------------------

def test_system_dark_gives_a_dark_page_with_light_text(browser, base_url):
    context, page = new_page(browser, WIDE, color_scheme="dark")
    try:
        page.base = base_url
        seen = _background(open_page(page, "/aws/"))
        text = page.evaluate("getComputedStyle(document.querySelector('.page-body p')).color")
    finally:
        context.close()
    assert seen["theme"] is None, seen               # nothing chosen: the system's setting
    assert _luminance(seen["bg"]) < 0.2, seen
    assert _luminance(seen["fg"]) > 0.6 and _luminance(text) > 0.6, (seen, text)


def test_system_light_gives_the_old_sites_pale_green(browser, base_url):
    context, page = new_page(browser, WIDE, color_scheme="light")
    try:
        page.base = base_url
        seen = _background(open_page(page, "/aws/"))
    finally:
        context.close()
    assert seen["bg"] == LIGHT_BG and seen["fg"] == LIGHT_TEXT, seen


@pytest.mark.parametrize("system", ["light", "dark"])
def test_toggle_switches_the_theme_and_a_reload_keeps_it(browser, base_url, system):
    context, page = new_page(browser, WIDE, color_scheme=system)
    other = "dark" if system == "light" else "light"
    try:
        page.base = base_url
        open_page(page, "/aws/")
        toggle = page.locator(".theme-toggle")
        assert toggle.count() == 1 and toggle.is_visible()
        assert _is_dark(_background(page)) == (system == "dark")

        toggle.click()
        seen = _background(page)
        assert seen["theme"] == other and seen["stored"] == other, seen
        assert _is_dark(seen) == (other == "dark"), seen

        page.reload(wait_until="load")
        again = _background(page)
        assert again["theme"] == other and again["bg"] == seen["bg"], (seen, again)

        page.locator(".theme-toggle").click()                 # and back
        page.reload(wait_until="load")
        back = _background(page)
        assert back["theme"] == system and back["stored"] == system, back
        assert _is_dark(back) == (system == "dark"), back
    finally:
        context.close()
    assert page.recorder.console_errors == [] and page.recorder.page_errors == []


# Run in every document before its own scripts: what <html> says when <body> is first seen
# (the parser is about to show the page; before the stylesheet may be there), on the first
# readystatechange, and at the first animation frame (just before the first paint).
FIRST_LOOK = """(() => {
    const seen = window.__nbFirstLook = {};
    const look = () => ({theme: document.documentElement.dataset.theme || null,
        bg: document.body ? getComputedStyle(document.body).backgroundColor : null,
        scheme: getComputedStyle(document.documentElement).colorScheme,
        state: document.readyState});
    new MutationObserver((records, observer) => {
        if (document.body) { seen.body = look(); observer.disconnect(); }
    }).observe(document, {childList: true, subtree: true});
    document.addEventListener('readystatechange', () => { seen.ready = seen.ready || look(); });
    requestAnimationFrame(() => { seen.frame = look(); });
})();"""


@pytest.mark.parametrize("system, stored", [("light", "dark"), ("dark", "light")])
def test_a_stored_choice_is_applied_before_the_first_paint(browser, base_url, system, stored):
    state = {"cookies": [], "origins": [
        {"origin": base_url, "localStorage": [{"name": THEME_KEY, "value": stored}]}]}
    context, page = new_page(browser, WIDE, color_scheme=system, storage_state=state)
    try:
        page.base = base_url
        page.add_init_script(FIRST_LOOK)
        open_page(page, "/projects/alerts-dashboard/checkout/")
        page.wait_for_function("() => window.__nbFirstLook.frame && window.__nbFirstLook.ready",
                               timeout=WAIT_MS)
        first = page.evaluate("window.__nbFirstLook")
        final = _background(page)
    finally:
        context.close()
    assert final["theme"] == stored and _is_dark(final) == (stored == "dark"), final
    assert first["body"]["theme"] == stored, first           # set in <head>, before <body>
    assert first["ready"]["theme"] == stored and first["ready"]["bg"] == final["bg"], first
    # the first frame: the page's background already the chosen one (before <body> is
    # there, only the canvas is drawn: in the chosen scheme's colours)
    frame = first["frame"]
    assert frame["theme"] == stored, first
    if frame["bg"] is None:
        assert frame["scheme"] == stored, first
    else:
        assert frame["bg"] == final["bg"], (first, final)


# --- folded cells -----------------------------------------------------------------------------

@pytest.mark.parametrize("part, summary, shown", [
    ("nb-input", "Show code", "answer = 6 * 7"),
    ("nb-output", "Show output", "a folded output line"),
])
def test_folded_cell_opens_on_click(browser, folded_base, part, summary, shown):
    context, page = new_page(browser, WIDE)
    try:
        page.base = folded_base
        open_page(page, "/folded/")
        details = page.locator(f"details.{part}")
        assert details.count() == 1
        code = details.locator("pre")
        assert not details.evaluate("d => d.open") and not code.is_visible()
        assert page.get_by_text("the answer is 42").is_visible()   # its output is not folded

        details.locator("summary").click()
        assert details.evaluate("d => d.open")
        code.wait_for(state="visible", timeout=WAIT_MS)
        assert shown in code.inner_text(), code.inner_text()
        assert "#|" not in page.locator(".page-body").inner_text()    # the option is not shown
    finally:
        context.close()


# --- math: MathML, drawn by the browser, no script --------------------------------------------

MEASURE_MATH = """() => {
    const box = e => { const r = e.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                width: r.width, height: r.height}; };
    const size = e => parseFloat(getComputedStyle(e).fontSize);
    const sub = document.querySelector('.page-body math[display=block] msub');
    const under = document.querySelector('.page-body math[display=block] munder');
    return {
        math: [...document.querySelectorAll('.page-body math')].map(m => ({
            ns: m.namespaceURI, display: m.getAttribute('display'), box: box(m),
            css: getComputedStyle(m).display})),
        sub: sub && {base: box(sub.children[0]), script: box(sub.children[1]),
                     baseSize: size(sub.children[0]), scriptSize: size(sub.children[1])},
        under: under && {base: box(under.children[0]), script: box(under.children[1])},
        scripts: [...document.querySelectorAll('script[src]')].map(s => s.getAttribute('src')),
        text: document.querySelector('.page-body').innerText,
    };
}"""


def test_math_is_mathml_laid_out_by_the_browser_without_a_script(page):
    seen = open_page(page, "/projects/this-website/").evaluate(MEASURE_MATH)
    maths = seen["math"]
    assert len(maths) == 3, maths                         # $n$, $c \cdot n$ and the $$ block
    for m in maths:
        assert m["ns"] == "http://www.w3.org/1998/Math/MathML", m
        assert m["box"]["width"] > 0 and m["box"]["height"] > 0, m
    # MathML's own display types: `math` (inline) and `block math`
    assert [m["css"] for m in maths] == ["math", "math", "block math"], maths

    # laid out as mathematics: the subscript below and smaller, the sum's limits under it
    sub, under = seen["sub"], seen["under"]
    assert sub and under, seen
    assert sub["script"]["bottom"] > sub["base"]["bottom"] + 1, sub
    assert sub["scriptSize"] < sub["baseSize"], sub
    assert under["script"]["top"] >= under["base"]["bottom"] - PX, under

    assert seen["scripts"] == [], seen["scripts"]
    for tex in ("\\cdot", "\\text", "t_{"):               # the TeX annotation is not shown
        assert tex not in seen["text"], (tex, seen["text"])
    assert page.recorder.console_errors == [] and page.recorder.page_errors == []


# --- feeds: parse, absolute links -------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
RSS_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def _feed_links(root: ET.Element) -> tuple[list[str], list[str]]:
    """(entry links, URLs in entry content) of an Atom or RSS feed."""
    if root.tag == f"{ATOM}feed":
        entries = root.findall(f"{ATOM}entry")
        links = [link.get("href", "") for e in entries for link in e.findall(f"{ATOM}link")]
        bodies = [e.findtext(f"{ATOM}content") or "" for e in entries]
    else:
        assert root.tag == "rss", root.tag
        entries = root.findall("channel/item")
        links = [e.findtext("link") or "" for e in entries]
        # the page in content:encoded, or (an entry without an abstract) in the description
        bodies = [(e.findtext(RSS_CONTENT) or "") + (e.findtext("description") or "")
                  for e in entries]
    assert len(links) >= len(entries) > 0 and all(bodies), (root.tag, len(entries))
    return links, [u for body in bodies for u in _urls_in(body)]


def test_feeds_parse_and_every_link_in_them_is_absolute(base_url, output_dir):
    feeds = sorted(p.relative_to(output_dir).as_posix()
                   for name in ("feed.xml", "rss.xml") for p in output_dir.rglob(name))
    assert "feed.xml" in feeds and "rss.xml" in feeds and "tags/python/feed.xml" in feeds, feeds
    relative, nowhere, content_urls = {}, {}, 0
    for feed in feeds:
        with urllib.request.urlopen(f"{base_url}/{feed}", timeout=10) as answer:
            assert answer.status == 200, feed
            root = ET.parse(io.BytesIO(answer.read())).getroot()
        links, urls = _feed_links(root)
        content_urls += len(urls)
        if bad := [u for u in links + urls if not u.startswith(BASE)]:
            relative[feed] = bad
        # each entry's link is a page of the site
        if missing := [u for u in links if u.startswith(BASE)
                       and not (output_dir / u[len(BASE):] / "index.html").is_file()]:
            nowhere[feed] = missing
    assert relative == {}, relative
    assert nowhere == {}, nowhere
    assert content_urls > 0                       # the content's links and images were checked


# --- tags -------------------------------------------------------------------------------------

def _tags_of_pages(site_pages) -> dict[str, set[str]]:
    """tag -> URLs of the pages that carry it, from each page's JSON."""
    tags: dict[str, set[str]] = {}
    for _path, file in site_pages:
        text = _facts(file).page_json
        if text:
            data = json.loads(text)
            for tag in data.get("frontmatter", {}).get("tags") or []:
                tags.setdefault(tag, set()).add(data["url"])
    return tags


def test_a_tag_link_leads_to_its_page_listing_the_page(page):
    open_page(page, "/projects/this-website/")
    page.locator(".page-header .tags").get_by_role("link", name="python", exact=True).click()
    page.wait_for_url(page.base + "/tags/python/", timeout=WAIT_MS)
    assert page.recorder.responses.get(page.url) == 200
    titles = page.locator("main .listing-entry .entry-title")
    hrefs = titles.evaluate_all("as => as.map(a => [a.textContent.trim(), a.href])")
    assert ["This website", page.base + "/projects/this-website/"] in hrefs, hrefs
    assert ["On-call alerts: checkout", page.base + "/projects/alerts-dashboard/checkout/"] in hrefs, hrefs


def test_the_tag_index_lists_every_tag_with_its_pages(page, site_pages):
    expected = _tags_of_pages(site_pages)
    assert {"python", "notebooks", "web", "on-call", "data", "jupyter"} <= set(expected), expected
    open_page(page, "/tags/")
    listed = page.locator(".tag-index li").evaluate_all("""lis => lis.map(li => ({
        name: li.querySelector('a').textContent.trim(), href: li.querySelector('a').href,
        count: li.querySelector('.tag-count').textContent.trim()}))""")
    assert sorted(t["name"] for t in listed) == sorted(expected), listed
    for tag in listed:
        assert tag["count"] == str(len(expected[tag["name"]])), tag
        open_page(page, urlsplit(tag["href"]).path)
        shown = page.locator("main .listing-entry .entry-title").evaluate_all(
            "as => as.map(a => new URL(a.href).pathname)")
        assert set(shown) == expected[tag["name"]], (tag, shown)


# --- aliases ----------------------------------------------------------------------------------

def test_an_alias_url_redirects_to_its_page(page):
    open_page(page, "/projects/nbpress/")
    page.wait_for_url(page.base + "/projects/this-website/", timeout=WAIT_MS)
    page.wait_for_load_state("load")
    assert page.recorder.responses.get(page.url) == 200
    assert page.locator("h1").inner_text().strip() == "This website"


# --- cards ------------------------------------------------------------------------------------

def test_project_cards_show_their_images_the_notebooks_its_first_figure(page):
    open_page(page, "/projects/alerts-dashboard/checkout/")
    figures = page.locator(".page-body .nb-output img")
    assert figures.count() >= 1, "the notebook page shows no figure"
    first_figure = figures.first.evaluate("i => i.src")

    open_page(page, "/projects/")
    load_images(page)
    cards = page.locator("main .listing-entry.with-image").evaluate_all("""lis => lis.map(li => {
        const img = li.querySelector('.entry-image img');
        return {title: li.querySelector('.entry-title').textContent.trim(),
                src: img.currentSrc || img.src, complete: img.complete,
                naturalWidth: img.naturalWidth, width: img.getBoundingClientRect().width};
    })""")
    by_title = {c["title"]: c for c in cards}
    teams = {f"On-call alerts: {t}" for t in ("checkout", "search", "auth", "payments", "email",
                                              "inventory")}
    assert set(by_title) == {"This website"} | teams, cards
    for card in cards:
        assert card["complete"] and card["naturalWidth"] > 0 and card["width"] > 0, card
        assert page.recorder.responses.get(card["src"]) == 200, card

    notebook = urlsplit(by_title["On-call alerts: checkout"]["src"]).path
    assert notebook.startswith("/projects/alerts-dashboard/checkout/"), notebook
    assert notebook.endswith(".png"), notebook
    assert notebook == urlsplit(first_figure).path, (notebook, first_figure)
    assert urlsplit(by_title["This website"]["src"]).path == "/images/site-card.png", by_title


# --- screenshots ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1200", "600"])
@pytest.mark.parametrize("path", SCREENSHOT_PAGES)
def test_screenshot(browser, base_url, screenshot_dirs, path, viewport, scheme):
    from PIL import Image

    context, page = new_page(browser, viewport, color_scheme=scheme)
    try:
        page.base = base_url
        open_page(page, path)
        load_images(page)
        data = page.screenshot(full_page=True, animations="disabled")
    finally:
        context.close()
    name = f"{path.strip('/').replace('/', '-')}-{scheme}-{viewport['width']}.png"
    for folder in screenshot_dirs:
        (folder / name).write_bytes(data)
        assert (folder / name).stat().st_size > 1000

    assert data.startswith(PNG_SIGNATURE), data[:8]
    with Image.open(io.BytesIO(data)) as shot:
        assert shot.width == viewport["width"] and shot.height >= viewport["height"], shot.size
        corner = shot.convert("RGB").getpixel((1, shot.height - 2))   # the page's background
    if scheme == "light":
        assert corner == (240, 255, 244), corner
    else:
        assert _luminance("rgb({}, {}, {})".format(*corner)) < 0.2, corner
