"""The example site, built whole, compared with its golden output; the first page in detail."""
from __future__ import annotations

import difflib
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED, SEED_SHA256, copy_example_site
from tests.golden import COMPARED, GOLDEN, LISTING, output_files


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from pipeline.build.engine import build_site
    from pipeline.config import load_config

    root = copy_example_site(tmp_path_factory.mktemp("example") / "site")
    report = build_site(load_config(root))
    assert report.ok, [str(r.error) for r in report.failed]
    assert repr(report) == "BuildReport(built=11, skipped=1, failed=0)"   # 6 teams' dashboards
    return root / "output"


def test_the_seed_page_is_in_the_repo_byte_for_byte():
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == SEED_SHA256


def test_output_files_match_golden(built: Path):
    expected = (GOLDEN / LISTING).read_text(encoding="utf-8").split()
    assert output_files(built) == expected


@pytest.mark.parametrize("rel", [r for r in (GOLDEN / LISTING).read_text().split()
                                 if r.endswith(COMPARED)])
def test_page_matches_golden(built: Path, rel: str):
    got = (built / rel).read_text(encoding="utf-8")
    want = (GOLDEN / rel).read_text(encoding="utf-8")
    if got != want:
        diff = "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(),
                                              "golden/" + rel, "built/" + rel, lineterm=""))
        pytest.fail(f"{rel} differs from its golden file (run `make golden` if intended):\n"
                    f"{diff[:4000]}")


# -- the first page, in detail --------------------------------------------------------------

class _Text(HTMLParser):
    """Visible text of a page: no <style>, <script> or <head>."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script", "head")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script", "head")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


@pytest.fixture(scope="module")
def aws(built: Path) -> str:
    return (built / "aws/index.html").read_text(encoding="utf-8")


def test_aws_title_and_meta(aws: str):
    assert "<title>Amazon Web Services | Peter&#39;s notebook</title>" in aws
    assert '<h1 class="page-title">Amazon Web Services</h1>' in aws
    assert '<meta property="og:title" content="Amazon Web Services">' in aws
    assert '<meta property="og:type" content="article">' in aws
    assert '<link rel="canonical" href="https://peter.example.org/aws/">' in aws
    assert '<meta property="article:published_time" content="2024-02-24">' in aws
    assert '<meta property="article:modified_time" content="2024-08-18">' in aws


def test_aws_dates_are_time_elements(aws: str):
    assert 'Created <time datetime="2024-02-24">24 February 2024</time>' in aws
    assert 'Edited <time datetime="2024-08-18">18 August 2024</time>' in aws


def test_aws_headings_inside_the_divs_are_rendered(aws: str):
    body = aws[aws.index('<div class="content">'):]
    assert re.search(r'<h3 id="sde-1">SDE 1', body)
    assert re.search(r'<h3 id="internship">Internship', body)
    assert "### " not in visible_text(aws)


def test_aws_style_block_is_kept_as_written_but_scoped_to_its_article(aws: str):
    """The page's own <style> applies to its article only: each top-level selector gains
    `.page-body `, and every other byte is the author's (the nested @media, the `};`)."""
    source = SEED.read_text(encoding="utf-8")
    style = source[source.index("<style>"):source.index("</style>") + len("</style>")]
    scoped = style
    for selector in ("p {", "h3 {", ".content {", ".badge {"):
        scoped = scoped.replace(f"\n    {selector}", f"\n    .page-body {selector}", 1)
    assert scoped != style and scoped in aws
    assert aws.count("<style>") == 1


def test_aws_broken_emoji_is_kept_byte_for_byte(built: Path):
    mojibake = "ðŸ˜Ž".encode("utf-8")
    assert mojibake in SEED.read_bytes()
    assert mojibake in (built / "aws/index.html").read_bytes()
    assert "😎".encode("utf-8") not in (built / "aws/index.html").read_bytes()


def test_aws_image_resolves(built: Path, aws: str):
    src = re.search(r'<img src="([^"]+)"[^>]* alt="Peter\'s AWS badge"', aws).group(1)
    assert src == "../images/aws.png"
    target = (built / "aws" / src).resolve()
    assert target.read_bytes() == (REPO / "content/images/aws.png").read_bytes()


def test_aws_frontmatter_is_not_visible_but_is_in_the_json(aws: str):
    text = visible_text(aws)
    for leak in ("draft:", "slug:", "created:", "edited:", "---"):
        assert leak not in text
    data = json.loads(re.search(r'<script type="application/json" id="nbpress-page">(.*?)</script>',
                                aws, re.S).group(1))
    assert data["frontmatter"] == {"created": "2024-02-24", "edited": "2024-08-18",
                                   "title": "Amazon Web Services", "slug": "/aws", "draft": False}
    assert data["source"] == "content/experiences/aws.md"


def test_no_page_loads_anything_from_another_host(built: Path):
    for page in built.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        loads = re.findall(r'<script[^>]+src="[^"]*"|<link rel="stylesheet"[^>]+>|<img[^>]+>', html)
        if 'http-equiv="refresh"' in html:      # an alias's redirect: it loads nothing
            assert not loads, page
            continue
        assert loads and not [x for x in loads if re.search(r'(src|href)="(https?:)?//', x)], page
        assert len(html) < 40_000, f"{page} carries too much inline weight"


def test_figures_are_files_not_base64(built: Path):
    html = (built / "projects/alerts-dashboard/checkout/index.html").read_text(encoding="utf-8")
    assert "data:image" not in html
    figures = re.findall(r'<img[^>]+src="(fig-[^"]+\.png)"', html)
    here = built / "projects/alerts-dashboard/checkout"
    assert figures and all((here / f).is_file() for f in figures)
    assert (here / figures[0]).read_bytes()[:4] == b"\x89PNG"


def test_code_page_used_its_params_and_data(built: Path):
    html = (built / "projects/alerts-dashboard/checkout/index.html").read_text(encoding="utf-8")
    assert "checkout: 80 of the 240 alerts, 27 of them paged someone" in html
    listed = re.findall(r"^(?:<pre>)?(\d\d):00\s+\d+ alerts$", html, re.M)
    assert listed == ["23", "21", "10", "04"]                      # params: top_n: 4


def test_the_dashboard_is_a_family_one_page_per_team_of_its_log(built: Path):
    teams = ["checkout", "search", "auth", "payments", "email", "inventory"]  # the step's file
    for team in teams:
        html = (built / f"projects/alerts-dashboard/{team}/index.html").read_text(encoding="utf-8")
        assert f"<pre>{team}: " in html and f"<title>On-call alerts: {team} |" in html
    listing = (built / "projects/alerts-dashboard/index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="(\w+)/">On-call alerts: \1</a>', listing) == teams
    assert len(re.findall(r'<img src="\w+/fig-[^"]+\.png"', listing)) == len(teams)
    # the injected cell (build time, base URL) is machinery: removed; the parameters cell stays
    assert "nbpress_base_url" not in html and "nbpress_build_time" in html


def test_home_lists_sections_with_dates_and_abstracts(built: Path):
    home = (built / "index.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section class="listing" id="section-(\w+)">', home)
    assert sections == ["experiences", "projects", "blog"]
    assert "Notebooks as web pages" in home and "Warm kernels" not in home   # a draft
    assert '<time class="entry-date" datetime="2024-06-20">20 June 2024</time>' in home
    assert "What a month of on-call alerts says about a team" in home
    projects = home[home.index('id="section-projects"'):home.index('id="section-blog"')]
    assert projects.index("This website") < projects.index("On-call alerts: checkout")


def test_drafts_are_nowhere(built: Path):
    for page in built.rglob("*"):
        if page.is_file() and page.suffix in (".html", ".xml", ".json"):
            assert "kernel-pools" not in page.read_text(encoding="utf-8"), page


def test_a_build_writes_only_its_output_and_cache_folders(tmp_path: Path):
    from pipeline.build.engine import build_site
    from pipeline.config import load_config

    root = copy_example_site(tmp_path / "site")

    def snapshot():
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*") if p.is_file()
                and not {"output", ".nbpress-cache"} & set(p.relative_to(root).parts)}

    before = snapshot()
    assert build_site(load_config(root)).ok
    assert snapshot() == before


def test_every_page_with_the_shared_css_stays_under_60_kb(built: Path):
    """No CDN and no webfont: a page and the one stylesheet are what a reader downloads
    (images aside), and they stay small."""
    css = (built / "assets/site.css").stat().st_size
    for page in built.rglob("*.html"):
        if "pagefind" not in page.parts:
            assert page.stat().st_size + css < 60_000, page
