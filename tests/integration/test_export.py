"""Stage 4 with the real nbconvert: our template, tags, figures, raw HTML kept whole."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from pipeline.render.export import Exporter
from pipeline.model import Source
from pipeline.sources.frontmatter import read_source
from pipeline.notebook.convert import to_notebook
from tests.conftest import PNG_1PX, needs_corpora
import base64

EXPORTER = Exporter()


def export_md(site, text):
    path = site.page("x.md", text)
    page = read_source(Source(path, "x", "md"))
    return EXPORTER.export(to_notebook(page, site.config()))


def test_frontmatter_cell_is_never_visible(site):
    body = export_md(site, '---\ntitle: "T"\nsecret_key: visible?\n---\n\nHello.\n').body
    assert "secret_key" not in body and "---" not in body and "<p>Hello.</p>" in body


def test_style_with_two_blank_lines_stays_one_element(site):
    body = export_md(site, "---\ntitle: t\n---\n\n<style>\n  p { color: red; }\n\n\n  h3 { color: blue; }\n</style>\n\n"
                           "<div class=\"box\">\n\nfirst\n\n\nsecond\n\n</div>\n").body
    assert body.count("<style>") == 1 and "h3 { color: blue; }\n</style>" in body
    assert "<p>h3" not in body                     # the second half is not a paragraph
    inner = body[body.index('<div class="box">'):]
    assert inner.index("<p>first</p>") < inner.index("<p>second</p>") < inner.index("</div>")


def test_tags_remove_and_hide(site):
    nb = new_notebook(cells=[
        new_code_cell("gone = 1", metadata={"tags": ["remove-cell"]}),
        new_code_cell("shown_output()", metadata={"tags": ["remove-input"]},
                      outputs=[new_output("stream", name="stdout", text="OUTPUT-ONLY\n")]),
        new_code_cell("folded()", metadata={"tags": ["hide-input"]}),
        new_code_cell("no_output()", metadata={"tags": ["remove-output"]},
                      outputs=[new_output("stream", name="stdout", text="HIDDEN\n")]),
    ])
    body = EXPORTER.export(nb).body
    assert "gone" not in body
    assert "OUTPUT-ONLY" in body and "shown_output" not in body
    assert "<details" in body and "folded" in body
    assert "no_output" in body and "HIDDEN" not in body


def test_figures_become_files(site):
    png = base64.b64encode(PNG_1PX).decode()
    nb = new_notebook(cells=[new_markdown_cell("# Plot"), new_code_cell(
        "plot()", outputs=[new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})])])
    exported = EXPORTER.export(nb)
    (name, data), = exported.files.items()
    assert data == PNG_1PX and f'src="{name}"' in exported.body and "base64" not in exported.body


def test_raw_html_cell_is_kept_and_other_raw_cells_dropped():
    nb = new_notebook(cells=[new_raw_cell("<b>raw html</b>", metadata={"raw_mimetype": "text/html"}),
                             new_raw_cell("plain raw text")])
    body = EXPORTER.export(nb).body
    assert "<b>raw html</b>" in body and "plain raw text" not in body


def test_no_prompts_and_no_inline_css():
    nb = new_notebook(cells=[new_code_cell("1 + 1", execution_count=1, outputs=[
        new_output("execute_result", data={"text/plain": "2"}, execution_count=1)])])
    body = EXPORTER.export(nb).body
    assert "In&nbsp;[" not in body and "Out[" not in body and "<style" not in body
    assert ">2<" in body or ">2\n" in body


def test_notebook_without_twin_is_published_with_its_outputs(site):
    nb = new_notebook(cells=[
        new_raw_cell("---\ntitle: From a notebook\ndate: 2024-03-01\n---"),
        new_markdown_cell("Intro text."),
        new_code_cell("print('stored')", outputs=[new_output("stream", name="stdout", text="STORED OUTPUT\n")]),
    ], metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "P"}})
    (site.root / "notebooks").mkdir()
    nbformat.write(nb, site.root / "notebooks" / "nb.ipynb")
    report = site.build()
    assert report.ok and not report.results[0].executed
    html = (site.root / "output/nb/index.html").read_text(encoding="utf-8")
    assert "<title>From a notebook" in html and "STORED OUTPUT" in html
    assert 'datetime="2024-03-01"' in html and "title: From" not in html


def test_author_div_around_a_code_cell_still_encloses_it(site):
    site.page("w.md", '---\ntitle: "W"\n---\n\n<div class="wrap">\n\nIntro.\n\n```python\nprint("in the box")\n```\n\nAfter.\n\n</div>\n\nOutside.\n')
    assert site.build().ok
    html = (site.root / "output/w/index.html").read_text(encoding="utf-8")
    body = html[html.index('<div class="wrap">'):]
    depth, closed_at = 0, None
    for match in __import__("re").finditer(r"<(/?)div\b", body):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            closed_at = match.start()
            break
    wrap = body[:closed_at]
    assert "in the box" in wrap and "<p>After.</p>" in wrap and "Outside." not in wrap


@needs_corpora
def test_markdown_only_pages_render_exactly_as_the_full_nbconvert_export(site):
    """The shortcut for pages without code gives the template's output (the whitespace
    between elements aside: it renders the page as one text, the template cell by cell), on
    pages where no footnote or repeated heading spans two cells (where the shortcut is right
    and the template cannot be)."""
    import re

    from pipeline.render.export import _markdown_only
    from tests.conftest import CORPORA, REPO

    pages = [p for root in (REPO / "content", CORPORA / "gatsby-starter-lumen" / "content",
                            CORPORA / "jupyter-book-docs")
             for p in sorted(root.rglob("*.md"))]
    checked = 0
    for path in pages:
        page = read_source(Source(site.page("x.md", path.read_text(encoding="utf-8")), "x", "md"))
        nb = to_notebook(page, site.config())
        if not _markdown_only(nb):
            continue
        if "[^" in page.text or len(nb.cells) < 2:
            continue
        shortcut = EXPORTER.export(nb).body
        EXPORTER.warm()
        EXPORTER._markdown.begin_page()
        body, _ = EXPORTER._html.from_notebook_node(nb, resources={"unique_key": "fig"})
        if len(set(re.findall(r'<h\d id="([^"]+)"', body))) < len(re.findall(r"<h\d id=", body)):
            continue
        assert re.sub(r">\s+<", "><", shortcut.strip()) == re.sub(r">\s+<", "><", body.strip()), path
        checked += 1
    assert checked >= 10
