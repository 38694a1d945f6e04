"""Pairing regressions of issue 7, against the real jupytext, nbformat and papermill.

Bug 12: a page spelled otherwise than jupytext would write it (four-backtick fences, no final
newline) was rewritten by `nbpress sync` after a plain re-run of its twin in Jupyter.
Bug 13: ```bash and ```js fences became runnable %%bash/%%js cells in the twin notebook, so
Run All ran code the page only shows, and the build never used the author's outputs.

The twin is run for real (papermill, a real kernel), as Run All in Jupyter would, and saved
over itself; an edit in Jupyter is simulated by changing the cell source with nbformat.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from pipeline.author.sync import Action, sync_site
from pipeline.notebook.convert import notebook_to_md, read_ipynb

# Four-backtick fences and no final newline: valid Markdown jupytext would spell otherwise.
FENCED = """\
---
title: "Fenced"
---

Intro.

````python
x = 6 * 7
print(x)
````

Middle.

````python
y = x + 1
y
````

The end, without a final newline."""

SHOWN = """\
---
title: "Shown"
---

Python runs:

```python
import uuid
print("run", uuid.uuid4().hex)
```

Shell is only shown:

```bash
touch bash-ran.txt
echo "from bash"
```

````js title="demo.js"
console.log("from js")
````

```sh
touch sh-ran.txt
```
"""

_clock = [0]


def later(path: Path) -> None:
    """An mtime no earlier write had: sync compares size and mtime first."""
    stamp = max(path.stat().st_mtime_ns, _clock[0]) + 1_000_000
    _clock[0] = stamp
    os.utime(path, ns=(stamp, stamp))


def sync(site) -> dict:
    return {o.pair.rel: o for o in sync_site(site.config())}


def twin(site, rel: str) -> Path:
    return site.root / "notebooks" / f"{rel}.ipynb"


def run_in_jupyter(path: Path, cwd: Path) -> None:
    """Run All, for real, and save: outputs and execution counts change, sources do not."""
    import papermill

    papermill.execute_notebook(str(path), str(path), kernel_name="python3", cwd=str(cwd),
                               progress_bar=False, log_output=False)
    later(path)


def edit_in_jupyter(path: Path, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if old in c.source)
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)
    later(path)


@pytest.fixture
def fenced(site):
    md = site.page("blog/fenced.md", FENCED)
    assert sync(site)["blog/fenced"].action is Action.NEW_IPYNB
    return site, md


# -- bug 12 ------------------------------------------------------------------------------------

def test_a_rerun_of_the_twin_does_not_write_the_page(fenced, tmp_path):
    site, md = fenced
    before = (md.read_bytes(), md.stat().st_mtime_ns)
    run_in_jupyter(twin(site, "blog/fenced"), tmp_path)
    nb = nbformat.read(twin(site, "blog/fenced"), as_version=4)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]

    outcome = sync(site)["blog/fenced"]
    assert outcome.action is Action.IN_STEP, outcome
    assert (md.read_bytes(), md.stat().st_mtime_ns) == before      # not written at all
    assert sync(site)["blog/fenced"].action is Action.UNCHANGED


def test_an_edit_in_the_twin_keeps_the_authors_fences_and_final_line(fenced, tmp_path):
    site, md = fenced
    run_in_jupyter(twin(site, "blog/fenced"), tmp_path)
    edit_in_jupyter(twin(site, "blog/fenced"), "y = x + 1", "y = x + 2")

    assert sync(site)["blog/fenced"].action is Action.TO_MD
    assert md.read_text(encoding="utf-8") == FENCED.replace("y = x + 1", "y = x + 2")
    assert sync(site)["blog/fenced"].action is Action.UNCHANGED


def test_a_cell_added_in_the_twin_keeps_the_other_fences(fenced):
    from pipeline.notebook.convert import md_to_notebook

    site, md = fenced
    path = twin(site, "blog/fenced")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("z = 0"))
    nbformat.write(nb, path)
    later(path)

    assert sync(site)["blog/fenced"].action is Action.TO_MD
    page = md.read_text(encoding="utf-8")
    assert page == FENCED.replace("Intro.\n", "Intro.\n\n```python\nz = 0\n```\n")
    again = md_to_notebook(page, site.config())
    assert [c.source for c in again.cells if c.cell_type == "code"] == \
        ["z = 0", "x = 6 * 7\nprint(x)", "y = x + 1\ny"]


def test_a_rerun_twin_and_an_edited_page_are_no_conflict(fenced, tmp_path):
    site, md = fenced
    run_in_jupyter(twin(site, "blog/fenced"), tmp_path)
    md.write_text(FENCED.replace("Middle.", "Middle, edited in an editor."), encoding="utf-8")
    later(md)

    outcome = sync(site)["blog/fenced"]
    assert outcome.action is Action.TO_IPYNB, outcome
    nb = nbformat.read(twin(site, "blog/fenced"), as_version=4)
    assert any("edited in an editor" in c.source for c in nb.cells)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    assert md.read_text(encoding="utf-8").endswith("without a final newline.")


# -- bug 13 ------------------------------------------------------------------------------------

@pytest.fixture
def shown(site):
    md = site.page("blog/shown.md", SHOWN)
    assert sync(site)["blog/shown"].action is Action.NEW_IPYNB
    return site, md


def test_run_all_in_the_twin_runs_only_the_kernels_language(shown, tmp_path):
    site, _ = shown
    run_in_jupyter(twin(site, "blog/shown"), tmp_path)

    assert not (tmp_path / "bash-ran.txt").exists() and not (tmp_path / "sh-ran.txt").exists()
    nb = nbformat.read(twin(site, "blog/shown"), as_version=4)
    assert [c.source for c in nb.cells if c.cell_type == "code"] == \
        ['import uuid\nprint("run", uuid.uuid4().hex)']
    sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert '```bash\ntouch bash-ran.txt\necho "from bash"\n```' in sources
    assert '````js title="demo.js"\nconsole.log("from js")\n````' in sources   # the page's lines
    assert sync(site)["blog/shown"].action is Action.IN_STEP


def test_a_page_with_shown_fences_round_trips_byte_for_byte(shown):
    site, md = shown
    stored = read_ipynb(twin(site, "blog/shown").read_text(encoding="utf-8"))
    assert notebook_to_md(stored).encode("utf-8") == md.read_bytes()


def test_an_edit_of_a_shown_fence_in_the_twin_reaches_the_page(shown):
    site, md = shown
    edit_in_jupyter(twin(site, "blog/shown"), 'echo "from bash"', 'echo "edited"')

    assert sync(site)["blog/shown"].action is Action.TO_MD
    assert md.read_text(encoding="utf-8") == SHOWN.replace('echo "from bash"', 'echo "edited"')


def test_the_build_publishes_the_outputs_of_the_run_twin(shown, tmp_path):
    site, _ = shown
    run_in_jupyter(twin(site, "blog/shown"), tmp_path)
    nb = nbformat.read(twin(site, "blog/shown"), as_version=4)
    printed = next(c for c in nb.cells if c.cell_type == "code").outputs[0]["text"]

    report = site.build()
    result = next(r for r in report.results if r.source.rel == "blog/shown")
    assert result.twin and not result.executed, result
    html = (site.root / "output/blog/shown/index.html").read_text(encoding="utf-8")
    assert printed.strip() in html and "bash-ran.txt" in html     # shown, not run
