"""Real sites written by others (../shared/corpora), copied to a temporary folder and built."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pipeline.sources.frontmatter import parse_frontmatter
from tests.conftest import CORPORA, needs_corpora

pytestmark = needs_corpora

LUMEN = CORPORA / "gatsby-starter-lumen"


@pytest.fixture(scope="module")
def lumen(tmp_path_factory) -> Path:
    if not LUMEN.is_dir():
        pytest.fail(f"the corpus is missing: {LUMEN}")
    root = tmp_path_factory.mktemp("lumen") / "site"
    shutil.copytree(LUMEN, root)
    for path in root.rglob("*"):        # the shared copy is read-only
        path.chmod(0o755 if path.is_dir() else 0o644)
    from pipeline.build.engine import build_site
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


def copied(tmp_path_factory, name: str, settings: str = "") -> Path:
    root = tmp_path_factory.mktemp(name) / "site"
    shutil.copytree(CORPORA / name, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    if settings:
        (root / "pyproject.toml").write_text(settings, encoding="utf-8")
    return root


def test_jupyter_book_docs_myst_pages_run_and_a_missing_package_fails_only_its_page(tmp_path_factory):
    from pipeline.build.engine import build_site
    from pipeline.config import load_config

    root = copied(tmp_path_factory, "jupyter-book-docs", '[tool.nbpress]\ncontent_dir = "docs"\n')
    report = build_site(load_config(root))
    by = {r.source.rel: r for r in report.results}
    for rel in ("content/code-outputs", "content/executable/output-insert"):   # pandas, myst_nb
        assert by[rel].outcome.value == "failed", rel
        assert "No module named" in by[rel].error.message and by[rel].error.hint
    ran = [rel for rel, r in by.items() if r.executed]
    assert "content/execute" in ran             # its raises-exception cell is allowed
    html = (root / "output/content/execute/index.html").read_text(encoding="utf-8")
    assert "thisvariabledoesntexist" in html and "NameError" in html
    figures = (root / "output/content/figures/index.html").read_text(encoding="utf-8")
    assert 'src="../../images/fun-fish.png"' in figures        # the Sphinx-style 'fun-fish.*'
    assert sum(r.outcome.value == "built" for r in report.results) >= 6


def test_fastpages_notebooks_front_matter_and_markers(tmp_path_factory):
    from pipeline.build.engine import build_site
    from pipeline.config import load_config

    root = copied(tmp_path_factory, "fastpages",
                  '[tool.nbpress]\ncontent_dir = "_posts"\nnotebooks_dir = "_notebooks"\n')
    report = build_site(load_config(root))
    assert report.ok, [str(r.error) for r in report.failed]
    assert not any(r.executed for r in report.results if r.source.kind == "ipynb")   # outputs
    html = (root / "output/fastcore/index.html").read_text(encoding="utf-8")   # permalink
    assert '<h1 class="page-title">fastcore: An Underrated Python Library</h1>' in html
    assert 'datetime="2020-09-01"' in html                      # the date in the file name
    assert "pip install -U git+git" not in html                  # a #hide cell
    assert "- toc: false" not in html and "&gt; A unique python library" not in html
    listing = (root / "output/index.html").read_text(encoding="utf-8")
    assert "A unique python library" in listing                 # the summary line
    actions = (root / "output/2020-03-06-fastpages-actions/index.html").read_text(encoding="utf-8")
    assert 'src="../images/fastpages_posts/actions/pr_1.png"' in actions
    assert (root / "output/images/fastpages_posts/actions/pr_1.png").is_file()
