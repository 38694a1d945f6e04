"""A page as a notebook (jupytext, for real): frontmatter cell, HTML kept whole, code fences."""
from __future__ import annotations

import shutil

import pytest

from pipeline.model import Source
from pipeline.sources.frontmatter import read_source
from pipeline.notebook.blocks import open_containers
from pipeline.notebook.convert import (FRONTMATTER_TAG, cell_line, has_code,
                              to_notebook)
from tests.conftest import SEED, needs_corpora


def notebook(site, rel: str, text: str | None = None):
    """(page, notebook) for content/`rel`, written from `text` unless it exists."""
    if text is not None:
        site.page(rel, text)
    config = site.config()
    page = read_source(Source(config.content / rel, rel.rsplit(".", 1)[0], "md"))
    return page, to_notebook(page, config)


def kinds(nb) -> list[str]:
    return [cell.cell_type for cell in nb.cells]


@pytest.fixture
def seed(site):
    target = site.root / "content" / "experiences" / "aws.md"
    target.parent.mkdir(parents=True)
    shutil.copyfile(SEED, target)
    return notebook(site, "experiences/aws.md")


# --- frontmatter ---------------------------------------------------------------------------

def test_seed_frontmatter_is_a_raw_cell_marked_yaml(seed):
    page, nb = seed
    first = nb.cells[0]

    assert first.cell_type == "raw"
    assert first.metadata["raw_mimetype"] == "text/x-yaml"
    assert FRONTMATTER_TAG in first.metadata["tags"]
    assert first.source == page.text[: page.text.index("---", 3) + 3]


def test_seed_frontmatter_travels_in_notebook_metadata_with_dates_as_strings(seed):
    _, nb = seed

    assert nb.metadata["nbpress"] == {
        "source": "content/experiences/aws.md",
        "slug": "aws",
        "url": "/aws/",
        "frontmatter": {"created": "2024-02-24", "edited": "2024-08-18",
                        "title": "Amazon Web Services", "slug": "/aws", "draft": False},
    }


def test_unquoted_dates_reach_the_notebook_as_iso_strings(site):
    _, nb = notebook(site, "p.md", "---\ntitle: T\ncreated: 2024-02-24\nparams:\n  at: 2024-01-02\n---\n")

    front = nb.metadata["nbpress"]["frontmatter"]
    assert front["created"] == "2024-02-24"
    assert front["params"] == {"at": "2024-01-02"}


def test_seed_body_is_one_markdown_cell_and_no_code(seed):
    _, nb = seed

    assert kinds(nb) == ["raw", "markdown"]
    assert nb.cells[1].source.startswith("<style>")
    assert nb.cells[1].source.rstrip().endswith("</div>")
    assert has_code(nb) is False


def test_a_page_without_frontmatter_has_no_raw_cell(site):
    _, nb = notebook(site, "plain.md", "# Plain\n\nText.\n")

    assert kinds(nb) == ["markdown"]
    assert nb.metadata["nbpress"]["frontmatter"] == {}


# --- HTML split by double blank lines ------------------------------------------------------

def test_a_style_block_with_two_blank_lines_stays_one_cell(site):
    _, nb = notebook(site, "s.md", """
        ---
        title: S
        ---

        <style>
        p { color: red; }


        h1 { color: blue; }
        </style>
    """)

    assert kinds(nb) == ["raw", "markdown"]
    assert nb.cells[1].source == "<style>\np { color: red; }\n\n\nh1 { color: blue; }\n</style>"


def test_a_div_with_two_blank_lines_stays_one_cell_and_what_follows_is_apart(site):
    _, nb = notebook(site, "d.md", """
        ---
        title: D
        ---

        <div class="content">

        First.


        Second.

        </div>


        After the div.

        ```python
        x = 1
        ```
    """)

    assert kinds(nb) == ["raw", "markdown", "markdown", "code"]
    assert nb.cells[1].source == '<div class="content">\n\nFirst.\n\n\nSecond.\n\n</div>'
    assert nb.cells[2].source == "After the div."


def test_prose_split_by_two_blank_lines_outside_html_stays_split_on_a_code_page(site):
    _, nb = notebook(site, "p.md", "---\ntitle: P\n---\n\nOne.\n\n\nTwo.\n\n```python\n1\n```\n")

    assert [c.source for c in nb.cells[1:3]] == ["One.", "Two."]


def test_a_page_without_code_is_one_markdown_cell_whatever_its_blank_lines(site):
    text = "---\ntitle: P\n---\n\n- one\n\n\n- two\n\n[a link][ref]\n\n\n[ref]: https://example.org/\n"
    _, nb = notebook(site, "p.md", text)

    assert kinds(nb) == ["raw", "markdown"]
    assert nb.cells[0].source == "---\ntitle: P\n---"
    assert nb.cells[1].source == text.split("---\n", 2)[2].strip("\n")


@needs_corpora
def test_without_code_the_rendered_page_is_what_jupytext_cells_give(site):
    """The fast path for prose pages renders as the full jupytext path does, on real pages."""
    import jupytext

    from pipeline.render.export import Exporter
    from pipeline.notebook.blocks import merge_split_html as _merge_split_html
    from pipeline.notebook.convert import MD_FORMAT, _mark_frontmatter_cell
    from tests.conftest import CORPORA, REPO

    exporter = Exporter()
    pages = sorted((REPO / "content").rglob("*.md")) + sorted((CORPORA / "jupyter-book-docs").rglob("*.md"))
    checked = 0
    for path in pages:
        text = path.read_text(encoding="utf-8")
        if "```" in text or "~~~" in text or "<!-- #" in text or "\njupyter:" in text:
            continue
        page, fast = notebook(site, "x.md", text)
        full = jupytext.reads(text, fmt=MD_FORMAT)
        _mark_frontmatter_cell(full)
        full.cells = _merge_split_html(full.cells)
        full.metadata["nbpress"] = fast.metadata["nbpress"]
        squash = lambda html: " ".join(html.split())   # noqa: E731
        assert squash(exporter.export(fast).body) == squash(exporter.export(full).body), path
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("html, depth", [
    ("<div>", 1),
    ("<div><div class='x'>", 2),
    ("<div></div>", 0),
    ("<style>p {}", 1),
    ("<DIV id=a>", 1),
    ("<div><br/><img src='a.png'/><div/>", 1),   # self-closing tags are ignored
    ("</div>", 0),
    ("<divider><stylesheet>", 0),                 # not container tags
    ("<details><summary>s</summary><table>", 2),
    ("Write `<div>` to open one.", 0),            # code is not HTML (issue 7: a parser)
    ("```html\n<div class='demo'>\n```\n", 0),
    ("<script>var s = '<div>';</script>", 0),
    ("<div>\n<pre><div></pre>", 1),
])
def test_open_containers_counts_unclosed_container_elements(html, depth):
    assert open_containers(html) == depth


# --- code fences ---------------------------------------------------------------------------

def test_a_bash_fence_in_a_python_page_is_not_code(site):
    _, nb = notebook(site, "b.md", "---\ntitle: B\n---\n\n```bash\nls -la\n```\n")

    assert has_code(nb) is False
    assert kinds(nb) == ["raw", "markdown"]
    assert nb.cells[1].source == "```bash\nls -la\n```"


def test_a_python_fence_is_code(site):
    _, nb = notebook(site, "p.md", "---\ntitle: P\n---\n\n```python\nx = 1\n```\n")

    assert has_code(nb) is True
    assert kinds(nb) == ["raw", "code"]
    assert nb.cells[1].source == "x = 1"


def test_python_and_bash_fences_keep_python_code_and_show_bash(site):
    _, nb = notebook(site, "pb.md", """
        ---
        title: PB
        ---

        ```python
        x = 1
        ```

        ```bash
        echo hi
        ```

        ```js
        console.log(1)
        ```
    """)

    assert kinds(nb) == ["raw", "code", "markdown", "markdown"]
    assert nb.cells[1].source == "x = 1"
    assert nb.cells[2].source == "```bash\necho hi\n```"
    assert nb.cells[3].source == "```js\nconsole.log(1)\n```"


@pytest.mark.parametrize("code", ["%%time\ny = 1 + 1", "%%writefile out.txt\nhello",
                                  "%%capture\nprint(1)", "%matplotlib inline\nprint(1)"])
def test_ipython_magics_in_a_python_fence_stay_code(site, code):
    _, nb = notebook(site, "m.md", f"---\ntitle: M\n---\n\n```python\n{code}\n```\n")

    assert kinds(nb) == ["raw", "code"]
    assert nb.cells[1].source == code


@pytest.mark.parametrize("code", ["%%bash\nls", "%%html\n<b>x</b>"])
def test_language_cell_magics_in_a_python_fence_stay_code(site, code):
    _, nb = notebook(site, "m.md", f"---\ntitle: M\n---\n\n```python\n{code}\n```\n")

    assert kinds(nb) == ["raw", "code"]


def test_a_page_in_another_kernel_language_runs_that_language_only(site):
    _, nb = notebook(site, "r.md", """
        ---
        title: R
        jupyter:
          kernelspec:
            name: ir
            language: R
            display_name: R
        ---

        ```R
        x <- 1
        ```

        ```python
        y = 2
        ```
    """)

    assert kinds(nb) == ["raw", "code", "markdown"]
    assert nb.cells[1].source == "x <- 1"
    assert nb.cells[2].source == "```python\ny = 2\n```"


def test_a_shown_fence_keeps_the_pages_own_lines(site):
    _, nb = notebook(site, "s.md", '---\ntitle: S\n---\n\n````bash\nls\n````\n\n'
                                   '```js title="demo.js"\nconsole.log(1)\n```\n')

    assert kinds(nb) == ["raw", "markdown", "markdown"]
    assert nb.cells[1].source == "````bash\nls\n````"
    assert nb.cells[2].source == '```js title="demo.js"\nconsole.log(1)\n```'


# --- the twin notebook: md -> ipynb -> md ---------------------------------------------------

@pytest.mark.parametrize("body", [
    "A\n\n```bash\nls\n```\nB\n",                              # no blank line after
    "A\n```bash\nls\n```\n\n\nB\n",                            # none before, two after
    "A\n\n\n```bash\nls\n```\n\n```python\nx = 1\n```\nB\n",     # beside runnable code
    "````bash\nls\n````\n\n~~~bash\nx\n~~~\n",                    # four backticks, tildes
    '```js title="demo.js"\nconsole.log(1)\n```\n```html\n<b>x</b>\n```\n',
    "x\n\n```sh\nls\n\n\n\necho\n```\n",                       # blank lines inside
    "x\n\n```bash\nls\n",                                        # never closed
])
def test_the_twin_shows_other_languages_and_gives_the_page_back_byte_for_byte(site, body):
    from pipeline.notebook.convert import md_to_notebook, notebook_to_md, read_ipynb, write_ipynb

    page = f"---\ntitle: T\n---\n\n{body}"
    twin = read_ipynb(write_ipynb(md_to_notebook(page, site.config())))

    assert [c.source for c in twin.cells if c.cell_type == "code"] == \
        (["x = 1"] if "```python" in body else [])
    assert notebook_to_md(twin) == page


def test_a_python_fence_in_a_markdown_cell_is_written_as_shown_text_not_code(site):
    import nbformat

    from pipeline.notebook.convert import md_to_notebook, notebook_to_md

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```python\nx = 1\n```")],
                                  metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    page = notebook_to_md(nb)

    assert "<!-- #region -->" in page      # jupytext's way to keep it a Markdown cell
    assert [c.cell_type for c in md_to_notebook(page, site.config()).cells] == ["markdown"]


# --- cell_line -----------------------------------------------------------------------------

CODE_PAGE = """\
---
title: C
---

Intro.

```python
x = 1
```

Between.

```python
%%time
y = x + 1
```
"""


def test_cell_line_maps_code_cells_to_their_lines_in_the_markdown(site):
    page, nb = notebook(site, "c.md", CODE_PAGE)

    assert kinds(nb) == ["raw", "markdown", "code", "markdown", "code"]
    assert cell_line(page, nb, 0) is None  # only code cells are located
    assert cell_line(page, nb, 1) is None
    assert cell_line(page, nb, 2) == 8     # x = 1
    assert cell_line(page, nb, 4) == 14    # %%time


def test_cell_line_skips_papermill_injected_cells(site):
    import nbformat

    page, nb = notebook(site, "c.md", CODE_PAGE)
    injected = nbformat.v4.new_code_cell("y = x + 1", metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(2, injected)

    assert cell_line(page, nb, 3) == 8


def test_cell_line_is_not_fooled_by_the_same_text_in_earlier_prose(site):
    page, nb = notebook(site, "c.md", """
        ---
        title: C
        ---

        Intro.
        We will write x = 1 below.

        ```python
        x = 1
        ```
    """)

    assert cell_line(page, nb, 2) == 9
