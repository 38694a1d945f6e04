"""The built example site in a real browser: Debian's Chromium driven by playwright.

The site is built once per module from a copy of the repo's example site and served over HTTP on
127.0.0.1 (random port). One browser per module; every test gets a fresh context and page
(the fixtures are in conftest.py).

The page /aws/ is the seed page (content/experiences/aws.md). The numbers below are how it
looked on the old site, measured in Chromium at 1200 and 600 px wide (../shared/seed/README.md).

Without /usr/bin/chromium (or playwright) these tests skip, except when the environment variable
CI is set: then they fail, so a CI run never passes silently without them.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LOOPBACK, NARROW, WIDE, load_images, open_page
from tests.conftest import SEED

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture skips (or fails, in CI)
    expect = None

MOJIBAKE = "\u00f0\u0178\u02dc\u017d"   # 😎's UTF-8 bytes read as Windows-1252: 'ðŸ˜Ž'
PX = 1.5   # tolerance for measured lengths (sub-pixel layout, rounding)


MEASURE_CONTENT = """() => {
    const content = document.querySelectorAll('.page-body .content');
    if (content.length !== 1) return {error: `${content.length} .content elements`};
    const c = content[0];
    const box = e => { const r = e.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                width: r.width, height: r.height}; };
    return {
        viewport: window.innerWidth,
        content: box(c),
        children: [...c.children].map(e => ({tag: e.tagName, cls: e.className, box: box(e)})),
        gap: getComputedStyle(c).columnGap,
        rowGap: getComputedStyle(c).rowGap,
    };
}"""


def _measure_content(page) -> dict:
    m = page.evaluate(MEASURE_CONTENT)
    assert "error" not in m, m
    kids = m["children"]
    assert [(k["tag"], k["cls"]) for k in kids] == [("DIV", ""), ("DIV", "badge")], kids
    return m


# --- 1, 2: the seed page's two-column layout --------------------------------------------------

def test_aws_wide_text_and_badge_side_by_side(page):
    m = _measure_content(open_page(page, "/aws/"))
    assert m["viewport"] == WIDE["width"]
    content, (text, badge) = m["content"], [k["box"] for k in m["children"]]

    # same row: text on the left, badge on its right, 15 px apart
    assert abs(text["left"] - content["left"]) <= PX, (text, content)
    assert badge["left"] >= text["right"], (text, badge)
    assert badge["left"] - text["right"] == pytest.approx(15, abs=PX), (text, badge)
    assert m["gap"] == "15px"
    assert badge["top"] < text["bottom"] and text["top"] < badge["bottom"], (text, badge)
    assert abs(badge["right"] - content["right"]) <= PX, (badge, content)

    # the badge is at least 20% of .content's width
    assert badge["width"] >= 0.2 * content["width"] - PX, (badge["width"], content["width"])

    # vertically centred with the text
    text_middle = (text["top"] + text["bottom"]) / 2
    badge_middle = (badge["top"] + badge["bottom"]) / 2
    assert abs(text_middle - badge_middle) <= 2, (text, badge)


def test_aws_narrow_badge_stacks_below_at_80_percent_centred(narrow_page):
    m = _measure_content(open_page(narrow_page, "/aws/"))
    assert m["viewport"] == NARROW["width"]
    content, (text, badge) = m["content"], [k["box"] for k in m["children"]]

    # stacked: the badge below the text, 15 px apart
    assert badge["top"] >= text["bottom"], (text, badge)
    assert badge["top"] - text["bottom"] == pytest.approx(15, abs=PX), (text, badge)
    assert m["rowGap"] == "15px"

    # about 80% of .content's width (min-width: 80%), horizontally centred in .content
    assert badge["width"] == pytest.approx(0.8 * content["width"], abs=2), (badge, content)
    content_centre = (content["left"] + content["right"]) / 2
    badge_centre = (badge["left"] + badge["right"]) / 2
    assert abs(badge_centre - content_centre) <= PX, (badge, content)
    assert badge["left"] - content["left"] == pytest.approx(content["right"] - badge["right"],
                                                            abs=PX)


# --- 3: computed styles -------------------------------------------------------------------------

def test_aws_computed_styles_match_the_old_site(page):
    styles = open_page(page, "/aws/").evaluate("""() => {
        const pick = (sel, props) => [...document.querySelectorAll(sel)].map(e => {
            const s = getComputedStyle(e);
            return Object.fromEntries(props.map(p => [p, s.getPropertyValue(p)]));
        });
        return {
            h3: pick('.page-body h3', ['font-size', 'font-weight', 'padding-top']),
            p: pick('.page-body p', ['font-size', 'line-height', 'padding-bottom']),
            lg: getComputedStyle(document.documentElement).getPropertyValue('--chakra-fontSizes-lg'),
        };
    }""")
    assert styles["lg"].strip() == "1.125rem", styles["lg"]

    assert len(styles["h3"]) == 2, styles["h3"]          # "SDE 1" and "Internship"
    for h3 in styles["h3"]:
        assert h3 == {"font-size": "18px", "font-weight": "400", "padding-top": "5px"}, h3

    assert len(styles["p"]) >= 5, styles["p"]
    for p in styles["p"]:
        assert p == {"font-size": "16px", "line-height": "24px", "padding-bottom": "15px"}, p


# --- 4: the badge loads; nothing fails, nothing leaves 127.0.0.1, no console errors ------------

def test_aws_badge_loads_and_page_stays_local_and_clean(page):
    open_page(page, "/aws/")
    page.wait_for_load_state("networkidle")
    img = page.locator(".badge img")
    expect(img).to_have_count(1)
    info = img.evaluate("i => ({src: i.currentSrc || i.src, complete: i.complete, "
                        "naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight})")
    assert info["complete"] and info["naturalWidth"] > 0 and info["naturalHeight"] > 0, info

    src = info["src"]
    assert urlsplit(src).hostname == LOOPBACK and urlsplit(src).path == "/images/aws.png", src
    assert page.request.get(src).status == 200, src
    rec = page.recorder
    assert rec.responses.get(src) == 200, (src, rec.responses)

    assert rec.requests, "no request was recorded"
    elsewhere = [u for u in rec.requests
                 if urlsplit(u).scheme != "http" or urlsplit(u).hostname != LOOPBACK]
    assert elsewhere == [], elsewhere
    assert rec.failed == [], rec.failed
    bad_status = {u: s for u, s in rec.responses.items() if s >= 400}
    assert bad_status == {}, bad_status

    # Chromium asks for /favicon.ico by itself (the page names no icon); the site has none, so
    # that 404 shows in the console. It is not a request of the page: left out here.
    errors = [(text, url) for text, url in rec.console_errors
              if urlsplit(url).path != "/favicon.ico"]
    assert errors == [], errors
    assert rec.page_errors == [], rec.page_errors


# --- 5: the header's buttons and the projects listing -----------------------------------------

@pytest.mark.parametrize("entry", ["On-call alerts: checkout", "This website"])
def test_header_projects_button_leads_to_listing_and_entry(page, entry):
    open_page(page, "/aws/")
    header = page.locator("body > header")
    expect(header).to_have_count(1)
    buttons = header.locator(".site-nav").get_by_role("link")   # not the author's links
    assert [t.strip() for t in buttons.all_inner_texts()] == ["Home", "Projects", "Blog"]

    header.get_by_role("link", name="Projects", exact=True).click()
    page.wait_for_url(page.base + "/projects/")
    main = page.locator("main")
    listed = [t.strip() for t in main.locator("li a").all_inner_texts()]
    assert "On-call alerts: checkout" in listed and "This website" in listed, listed

    main.get_by_role("link", name=entry, exact=True).click()
    page.wait_for_url(lambda url: urlsplit(url).path not in ("/projects/", "/aws/"))
    assert urlsplit(page.url).path.startswith("/projects/"), page.url
    expect(page.get_by_role("heading", level=1, name=entry, exact=True)).to_be_visible()
    assert page.recorder.responses.get(page.url) == 200, page.url


# --- 6: no frontmatter on the page; the mojibake kept as in the source ------------------------

def test_aws_shows_no_frontmatter_and_keeps_the_mojibake(page):
    text = open_page(page, "/aws/").evaluate("document.body.innerText")
    for key in ("draft:", "slug:", "created:"):
        assert key not in text, f"{key!r} is visible on the page"

    source = SEED.read_text(encoding="utf-8")
    assert "I will keep you in the loop " + MOJIBAKE in source   # the seed is as described
    assert "I will keep you in the loop " + MOJIBAKE in text, text
    assert "\N{SMILING FACE WITH SUNGLASSES}" not in text        # not silently repaired


# --- 7: the alerts dashboard's chart ------------------------------------------------------------

def test_alerts_dashboard_chart_is_a_loaded_image_file(page):
    open_page(page, "/projects/alerts-dashboard/checkout/")     # a team's, of the family
    images = load_images(page)          # scrolled into view: the chart is a lazy image
    assert len(images) == 1, images
    chart = images[0]
    assert not chart["attr"].startswith("data:"), chart["attr"][:60]
    assert urlsplit(chart["src"]).hostname == LOOPBACK, chart["src"]
    assert urlsplit(chart["src"]).path.startswith("/projects/alerts-dashboard/checkout/"), chart["src"]
    assert chart["complete"] and chart["naturalWidth"] > 0, chart
    assert page.recorder.responses.get(chart["src"]) == 200, page.recorder.responses

    assert "80 of the 240 alerts" in page.evaluate("document.body.innerText")


def test_the_dashboards_listing_shows_each_team_with_its_chart(page):
    open_page(page, "/projects/alerts-dashboard/")
    images = load_images(page)
    assert len(images) == 6 and all(i["complete"] and i["naturalWidth"] > 0 for i in images), images
    rows = page.locator("main table tbody tr").evaluate_all(
        "rs => rs.map(r => [r.cells[0].textContent.trim(), new URL(r.querySelector('a').href).pathname])")
    assert rows[0] == ["checkout", "/projects/alerts-dashboard/checkout/"], rows
    assert len(rows) == 6, rows
    page.locator("main table").get_by_role("link", name="On-call alerts: search").click()
    page.wait_for_url(page.base + "/projects/alerts-dashboard/search/")
    assert page.recorder.responses.get(page.url) == 200


def test_wide_tables_and_outputs_scroll_inside_and_the_page_never_sideways(browser, tmp_path):
    """A wide table in the prose and a long line of output, at 600 px: each scrolls in its
    own box, the document is no wider than the window."""
    from tests.conftest import SiteMaker

    site = SiteMaker(tmp_path / "wide")
    header = "| " + " | ".join(f"column {i}" for i in range(40)) + " |"
    rule = "|" + "---|" * 40
    row = "| " + " | ".join(f"value-{i}" for i in range(40)) + " |"
    raw = "<table class=raw><tr>" + "".join(f"<td>raw-value-{i}</td>" for i in range(40)) + "</tr></table>"
    site.page("wide.md", f'---\ntitle: "Wide"\n---\n\n{header}\n{rule}\n{row}\n\n{raw}\n\n'
                         '```python\nprint("x" * 400)\n```\n')
    assert site.build().ok
    context = browser.new_context(viewport=NARROW)
    try:
        page = context.new_page()
        page.goto((site.root / "output/wide/index.html").as_uri())
        widths = page.evaluate("""() => ({doc: document.documentElement.scrollWidth,
            win: window.innerWidth,
            table: document.querySelector('.page-body table').scrollWidth,
            raw: document.querySelector('.page-body table.raw').scrollWidth,
            output: document.querySelector('.nb-output pre').scrollWidth})""")
    finally:
        context.close()
    assert widths["table"] > widths["win"] and widths["output"] > widths["win"], widths
    assert widths["raw"] > widths["win"], widths        # a table written as HTML scrolls too
    assert widths["doc"] <= widths["win"] + PX, widths
