"""Real sites written by others (../shared/corpora), copied to a temporary folder and built."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pipeline.pages import parse_frontmatter
from tests.conftest import CORPORA

LUMEN = CORPORA / "gatsby-starter-lumen"


@pytest.fixture(scope="module")
def lumen(tmp_path_factory) -> Path:
    if not LUMEN.is_dir():
        pytest.fail(f"the corpus is missing: {LUMEN}")
    root = tmp_path_factory.mktemp("lumen") / "site"
    shutil.copytree(LUMEN, root)
    for path in root.rglob("*"):        # the shared copy is read-only
        path.chmod(0o755 if path.is_dir() else 0o644)
    from pipeline.build import build_site
    from pipeline.config import load_config

    report = build_site(load_config(root))
    assert report.ok, [str(r.error) for r in report.failed]
    return root


def test_every_non_draft_post_is_written(lumen: Path):
    posts = sorted((lumen / "content/posts").glob("*.md"))
    assert len(posts) == 5
    for post in posts:
        meta, _ = parse_frontmatter(post.read_text(encoding="utf-8"), post)
        target = lumen / "output" / meta["slug"] / "index.html"
        assert target.is_file() != bool(meta.get("draft")), post.name
        html = target.read_text(encoding="utf-8")
        assert f"<h1 class=\"page-title\">{meta['title']}</h1>" in html.replace("&#39;", "'")


def test_every_image_and_link_resolves(lumen: Path):
    output = lumen / "output"
    checked = 0
    for page in output.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith("#") or page.name == "404.html":
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if ref.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(output)} -> {ref}"
            assert output.resolve() in target.parents
            checked += 1
    assert checked > 50


def test_tab_indented_raw_figures_survive(lumen: Path):
    html = (lumen / "output/the-birth-of-movable-type/index.html").read_text(encoding="utf-8")
    assert '<figure class="float-right" style="width: 240px">' in html
    assert re.search(r'<img src="\.\./media/gutenberg\.jpg"', html)
    assert "<figcaption>" in html


def test_site_absolute_images_are_copied(lumen: Path):
    media = {p.name for p in (lumen / "output/media").iterdir()}
    assert {"gutenberg.jpg", "movable-type.jpg", "cpu.svg"} <= media
    assert "image-1.jpg" not in media           # not referenced by any page
