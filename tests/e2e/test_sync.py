"""`nbpress sync`: content/X.md and notebooks/X.ipynb kept in step, losing no edit.

The author's edits are simulated as the tools would make them: a Markdown edit rewrites the
.md text; a Jupyter save reads the .ipynb with nbformat, changes cells and metadata (outputs,
execution counts, widget state, kernelspec, language_info) and writes it with nbformat.write.
No mocks: the real jupytext and nbformat do the conversions.

mtime resolution: sync first compares size+mtime with what it recorded, and only then a hash.
The kernel stamps files with a coarse clock, so an edit made right after a sync can get the
very mtime the sync recorded; if the edit also keeps the size, sync would rightly call the
pair unchanged. Every simulated edit therefore goes through `edited()`, which gives the file
an mtime no earlier write has had (see `bump_mtime`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.errors import NbpressError
from pipeline.author.new import new_page
from pipeline.notebook.convert import notebook_to_md, read_ipynb
from pipeline.author.sync import Action, sync_site
from tests.conftest import REPO, SEED, SiteMaker

FRONT = """\
---
created: "2024-02-24"
edited: "2024-08-18"
title:   "Post"   # the author's spacing and comment
slug: /blog/post
draft: false
---
"""

POST = FRONT + """
Hello prose.

```python
x = 1
print(x)
```

Middle prose.

```python
y = 2
y
```

More prose.
"""


def prose(title: str, body: str = "Some text.") -> str:
    return f'---\ntitle: "{title}"\n---\n\n{body}\n'


# -- helpers --------------------------------------------------------------------------------

_last_mtime = [0]


def bump_mtime(path: Path) -> None:
    """Give `path` an mtime later than its own and than any this module gave before, so an
    edit is never mistaken for the state sync recorded (same size + same coarse mtime)."""
    t = max(path.stat().st_mtime_ns, _last_mtime[0]) + 1_000_000
    _last_mtime[0] = t
    os.utime(path, ns=(t, t))


def edited(path: Path) -> Path:
    bump_mtime(path)
    return path


def write_md(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    edited(path)


def jupyter_save(path: Path, edit=None, *, run: bool = False) -> None:
    """Open the notebook "in Jupyter", apply `edit(nb)`, save it as Jupyter would: with a
    kernelspec, language_info and widget state, and with `run`, outputs and execution counts."""
    nb = nbformat.read(path, as_version=4)
    if edit:
        edit(nb)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {
        "name": "python", "version": "3.12.4", "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
        "nbconvert_exporter": "python", "pygments_lexer": "ipython3"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"4f1c0d": {"model_name": "LayoutModel", "model_module": "@jupyter-widgets/base",
                             "model_module_version": "2.0.0", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    if run:
        for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
            run_cell(cell, count)
    nbformat.write(nb, path)
    edited(path)


def run_cell(cell, count: int, marker: str = "OUTPUT-MARKER") -> None:
    cell.execution_count = count
    cell.metadata["execution"] = {"iopub.execute_input": "2024-09-01T10:00:00.000Z",
                                  "shell.execute_reply": "2024-09-01T10:00:00.100Z"}
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{marker} {count}\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"{marker}-{count}"},
                               execution_count=count),
    ]


def read_nb(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def markdown_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "markdown"]


def sync(site: SiteMaker, *paths, prefer: str | None = None) -> dict:
    return {o.pair.rel: o for o in sync_site(site.config(), [str(p) for p in paths], prefer)}


def actions(outcomes: dict) -> dict:
    return {rel: o.action for rel, o in outcomes.items()}


def md_of(site: SiteMaker, rel: str) -> Path:
    return site.root / "content" / f"{rel}.md"


def nb_of(site: SiteMaker, rel: str) -> Path:
    return site.root / "notebooks" / f"{rel}.ipynb"


def in_step(site: SiteMaker, rel: str) -> bool:
    return notebook_to_md(read_ipynb(nb_of(site, rel).read_text("utf-8"))) == \
        md_of(site, rel).read_text("utf-8")


def front_block(text: str) -> str:
    return text[:text.index("\n---\n", 3) + 5]


def snapshot(site: SiteMaker) -> dict:
    """Bytes and mtime of every file of the site (sync's own cache included; not the lock,
    whose note names the process that holds it)."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(site.root.rglob("*")) if p.is_file() and p.name != "lock"}


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`nbpress ARGS`; its report (which goes to stderr) and errors are in `.stdout`."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"})


def no_jupyter_state(md: str) -> None:
    for word in ("outputs", "execution_count", "OUTPUT-MARKER", "widget", "language_info",
                 "iopub"):
        assert word not in md, word


@pytest.fixture
def post(site):
    """A page with two code cells, synced once."""
    site.page("blog/post.md", POST)
    assert actions(sync(site)) == {"blog/post": Action.NEW_IPYNB}
    return site


# -- 1. first sync, round trip, nothing to do ----------------------------------------------

def test_first_sync_creates_every_notebook_and_then_does_nothing(site):
    seed = site.file("content/experiences/aws.md", SEED.read_bytes())
    site.page("blog/post.md", POST)
    site.page("about.md", prose("About"))
    site.page("notes/deep/note.md", prose("Note", "A *note* with [a link](../../about.md)."))

    outcomes = sync(site)
    assert actions(outcomes) == {rel: Action.NEW_IPYNB for rel in
                                 ("about", "blog/post", "experiences/aws", "notes/deep/note")}
    assert all(o.ok for o in outcomes.values())
    for rel in outcomes:
        assert nb_of(site, rel).is_file()
        nbformat.validate(read_nb(nb_of(site, rel)))
    # The seed page comes back from its notebook byte for byte.
    nb = read_ipynb(nb_of(site, "experiences/aws").read_text("utf-8"))
    assert notebook_to_md(nb).encode("utf-8") == seed.read_bytes() == SEED.read_bytes()
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("---\ncreated:")
    assert all(in_step(site, rel) for rel in outcomes)

    before = snapshot(site)
    again = sync(site)
    assert set(actions(again).values()) == {Action.UNCHANGED}
    assert snapshot(site) == before            # not a byte, not an mtime, not sync.json


# -- 2. only the Markdown changed ---------------------------------------------------------

def test_md_edit_moves_inputs_and_keeps_outputs_of_unchanged_code(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")
    jupyter_save(ipynb, run=True)               # the author runs the notebook in Jupyter
    assert actions(sync(post)) == {"blog/post": Action.IN_STEP}   # inputs unchanged
    assert [len(c.outputs) for c in code_cells(read_nb(ipynb))] == [2, 2]

    write_md(md, md.read_text().replace("Hello prose.", "Hello prose, edited in the page."))
    assert actions(sync(post)) == {"blog/post": Action.TO_IPYNB}
    nb = read_nb(ipynb)
    assert "Hello prose, edited in the page." in markdown_cells(nb)[0].source
    first, second = code_cells(nb)
    assert [o.get("text") for o in first.outputs][0] == "OUTPUT-MARKER 1\n"
    assert first.execution_count == 1 and second.execution_count == 2
    assert len(second.outputs) == 2
    assert in_step(post, "blog/post")

    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}


def run_then_edit_code(site: SiteMaker):
    """Run the notebook in Jupyter, sync, then change the first code cell in the page."""
    md, ipynb = md_of(site, "blog/post"), nb_of(site, "blog/post")
    jupyter_save(ipynb, run=True)
    assert actions(sync(site)) == {"blog/post": Action.IN_STEP}
    write_md(md, md.read_text().replace("x = 1\n", "x = 41\n"))
    assert actions(sync(site)) == {"blog/post": Action.TO_IPYNB}
    return md, ipynb


def test_md_code_edit_drops_that_cells_outputs_only(post):
    md, ipynb = run_then_edit_code(post)
    first, second = code_cells(read_nb(ipynb))
    assert first.source == "x = 41\nprint(x)"
    assert first.outputs == [] and first.execution_count is None     # stale outputs dropped
    assert len(second.outputs) == 2 and second.execution_count == 2  # the other cell kept
    assert "widgets" in read_nb(ipynb).metadata                      # Jupyter's state kept
    assert in_step(post, "blog/post")
    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}


def test_build_after_md_code_edit_does_not_publish_stale_outputs(site):
    """The build publishes a twin's outputs when its code is the page's: after an md
    code edit and a sync, they must not be the old code's outputs."""
    md = site.page("calc.md", '---\ntitle: "Calc"\n---\n\nProse.\n\n'
                   '```python\nx = 1\nprint(x * 1000 + 7)\n```\n')
    sync(site)

    def run(nb):
        cell = code_cells(nb)[0]
        cell.execution_count = 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1007\n")]
    jupyter_save(nb_of(site, "calc"), run)       # the output x = 1 really gives
    assert sync(site)["calc"].action is Action.IN_STEP
    write_md(md, md.read_text().replace("x = 1\n", "x = 2\n"))
    assert sync(site)["calc"].action is Action.TO_IPYNB
    assert site.build().ok
    html = (site.root / "output/calc/index.html").read_text("utf-8")
    assert "1007" not in html and "2007" in html  # the new code ran


# -- 3. only the notebook changed ---------------------------------------------------------

def test_jupyter_save_moves_inputs_to_md_without_jupyter_state(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")

    def edit(nb):
        markdown_cells(nb)[1].source = "Middle prose, edited in Jupyter."
        code_cells(nb)[1].source = "y = 3\ny * 2"
        nb.cells.append(nbformat.v4.new_markdown_cell("A paragraph added in Jupyter."))
        for cell in nb.cells:
            cell.metadata["tags"] = []                      # JupyterLab adds these
        code_cells(nb)[0].metadata["scrolled"] = True

    jupyter_save(ipynb, edit, run=True)
    assert actions(sync(post)) == {"blog/post": Action.TO_MD}
    text = md.read_text("utf-8")
    assert front_block(text) == FRONT                       # byte for byte, comment and all
    assert "Middle prose, edited in Jupyter." in text and "Middle prose.\n" not in text
    assert "```python\ny = 3\ny * 2\n```" in text
    assert text.endswith("More prose.\n\n\nA paragraph added in Jupyter.\n")  # jupytext: a new cell
    assert "Hello prose.\n\n```python\nx = 1\nprint(x)\n```" in text   # untouched parts stay
    no_jupyter_state(text)
    assert "jupyter:" not in text and "kernelspec" not in text and "ipykernel" not in text
    assert "tags" not in text
    # The notebook keeps what Jupyter saved.
    nb = read_nb(ipynb)
    assert [c.execution_count for c in code_cells(nb)] == [1, 2]
    assert "widgets" in nb.metadata and nb.metadata.language_info.version == "3.12.4"
    assert in_step(post, "blog/post")
    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}


# -- 4. frontmatter edited in the notebook ------------------------------------------------

def test_frontmatter_edits_in_the_notebook_reach_the_md(site):
    seed = site.file("content/experiences/aws.md", SEED.read_bytes())
    sync(site)
    ipynb = nb_of(site, "experiences/aws")
    seed_lines = SEED.read_text("utf-8").splitlines(keepends=True)

    # A key changed in the raw first cell.
    jupyter_save(ipynb, lambda nb: setattr(nb.cells[0], "source",
                                           nb.cells[0].source.replace("draft: false", "draft: true")))
    assert actions(sync(site)) == {"experiences/aws": Action.TO_MD}
    text = seed.read_text("utf-8")
    assert text == SEED.read_text("utf-8").replace("draft: false", "draft: true")

    # Keys set under metadata.nbpress.frontmatter: only their lines change, dates keep quotes.
    def set_meta(nb):
        nb.metadata.setdefault("nbpress", {})["frontmatter"] = {"title": "New",
                                                                "edited": "2024-09-01"}
    jupyter_save(ipynb, set_meta)
    assert actions(sync(site)) == {"experiences/aws": Action.TO_MD}
    lines = seed.read_text("utf-8").splitlines(keepends=True)
    expected = list(seed_lines)
    expected[2] = 'edited: "2024-09-01"\n'
    expected[3] = 'title: "New"\n'
    expected[5] = "draft: true\n"
    assert lines == expected
    nb = read_nb(ipynb)
    assert "frontmatter" not in nb.metadata.get("nbpress", {})      # consumed
    assert 'title: "New"\n' in nb.cells[0].source and 'edited: "2024-09-01"' in nb.cells[0].source
    assert in_step(site, "experiences/aws")

    # A later title edit in the page is not undone by a later notebook edit.
    write_md(seed, seed.read_text("utf-8").replace('title: "New"', 'title: "Newer"'))
    assert actions(sync(site)) == {"experiences/aws": Action.TO_IPYNB}
    assert 'title: "Newer"' in read_nb(ipynb).cells[0].source

    def prose_edit(nb):
        nb.cells[-1].source += "\n\nWritten in Jupyter."
    jupyter_save(ipynb, prose_edit)
    assert actions(sync(site)) == {"experiences/aws": Action.TO_MD}
    text = seed.read_text("utf-8")
    assert 'title: "Newer"\n' in text and 'title: "New"\n' not in text
    assert text.endswith("Written in Jupyter.\n")
    assert 'edited: "2024-09-01"\n' in text
    assert in_step(site, "experiences/aws")


# -- 5. both changed: a conflict, settled by --prefer -------------------------------------

def make_conflict(site: SiteMaker, rel: str, md_words: str, nb_words: str) -> tuple[bytes, bytes]:
    md, ipynb = md_of(site, rel), nb_of(site, rel)
    write_md(md, md.read_text("utf-8").replace("Hello prose.", f"Hello prose. {md_words}"))

    def edit(nb):
        markdown_cells(nb)[-1].source += f"\n\n{nb_words}"
    jupyter_save(ipynb, edit)
    return md.read_bytes(), ipynb.read_bytes()


def test_both_changed_is_a_conflict_that_writes_nothing(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")
    before = make_conflict(post, "blog/post", "Page words.", "Notebook words.")
    outcome = sync(post)["blog/post"]
    assert outcome.action is Action.CONFLICT and not outcome.ok
    assert (md.read_bytes(), ipynb.read_bytes()) == before
    detail = outcome.detail
    assert detail.startswith(f"--- {md}") and f"+++ {ipynb}" in detail and "@@" in detail
    assert "-Hello prose. Page words." in detail and "+Notebook words." in detail
    # Still a conflict next time: the old record is kept.
    assert sync(post)["blog/post"].action is Action.CONFLICT

    run = cli("sync", "--site", str(post.root))
    assert run.returncode == 1, run.stdout
    assert "conflict" in run.stdout and "blog/post" in run.stdout
    assert (md.read_bytes(), ipynb.read_bytes()) == before

    run = cli("sync", "--site", str(post.root), "--prefer", "md")
    assert run.returncode == 0, run.stdout
    assert md.read_bytes() == before[0]                           # the page kept
    assert in_step(post, "blog/post")                             # the notebook follows
    assert "Notebook words." not in ipynb.read_text("utf-8")
    backups = list((post.root / ".nbpress-cache/sync-backup/notebooks/blog").glob("post.*.ipynb"))
    assert [b.read_bytes() for b in backups] == [before[1]]       # the loser, kept

    before = make_conflict(post, "blog/post", "More page words.", "More notebook words.")
    assert sync(post)["blog/post"].action is Action.CONFLICT
    run = cli("sync", "--site", str(post.root), "--prefer", "ipynb")
    assert run.returncode == 0, run.stdout
    assert ipynb.read_bytes() == before[1]                        # the notebook kept
    text = md.read_text("utf-8")
    assert "More notebook words." in text and "More page words." not in text
    assert front_block(text) == FRONT and in_step(post, "blog/post")
    backups = list((post.root / ".nbpress-cache/sync-backup/content/blog").glob("post.*.md"))
    assert [b.read_bytes() for b in backups] == [before[0]]
    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}
    assert cli("sync", "--site", str(post.root)).returncode == 0


# -- 6. both saved to the same content ----------------------------------------------------

def test_both_saved_alike_is_in_step_and_rewrites_nothing(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")

    def edit(nb):
        markdown_cells(nb)[0].source = "Hello prose, saved by JupyterLab."
    jupyter_save(ipynb, edit, run=True)
    # jupytext in JupyterLab writes the paired .md from the same notebook
    write_md(md, notebook_to_md(read_nb(ipynb)))
    before = snapshot(post)
    assert actions(sync(post)) == {"blog/post": Action.IN_STEP}
    after = snapshot(post)
    sync_json = post.root / ".nbpress-cache/sync.json"
    assert {p: v for p, v in after.items() if p != sync_json} == \
        {p: v for p, v in before.items() if p != sync_json}       # only the record moved
    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}


# -- 7. a notebook alone, a twin deleted --------------------------------------------------

def jupyter_notebook() -> nbformat.NotebookNode:
    """A notebook made in Jupyter: no jupytext metadata, outputs, counts, widget state."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_raw_cell('---\ntitle: "Made in Jupyter"\ndate: 2024-05-01\n---'),
                nbformat.v4.new_markdown_cell("# Analysis\n\nSome prose about it."),
                nbformat.v4.new_code_cell("import math\nmath.pi")]
    run_cell(nb.cells[2], 7)
    nb.cells[2].outputs.append(nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.12.4"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"abc": {"model_name": "FloatSliderModel"}}, "version_major": 2,
        "version_minor": 0}}
    return nb


def test_notebook_alone_gets_its_page_and_deleted_twins_are_not_recreated(site):
    site.page("about.md", prose("About"))
    ipynb = site.file("notebooks/lab/analysis.ipynb", nbformat.writes(jupyter_notebook()))
    md = md_of(site, "lab/analysis")

    assert actions(sync(site)) == {"about": Action.NEW_IPYNB, "lab/analysis": Action.NEW_MD}
    text = md.read_text("utf-8")
    assert text.startswith('---\ntitle: "Made in Jupyter"\ndate: 2024-05-01\n')
    assert "# Analysis\n\nSome prose about it." in text and "```python\nimport math\nmath.pi\n```" in text
    no_jupyter_state(text)
    assert "image/png" not in text and "iVBOR" not in text and "<Figure>" not in text
    assert in_step(site, "lab/analysis")
    assert read_nb(ipynb).cells[2].execution_count == 7       # the notebook untouched
    assert set(actions(sync(site)).values()) == {Action.UNCHANGED}

    # The page deleted: sync says so and recreates nothing until asked.
    md.unlink()
    for _ in range(2):
        outcome = sync(site)["lab/analysis"]
        assert outcome.action is Action.TWIN_GONE and not outcome.ok
        assert not md.exists()
        assert "content/lab/analysis.md was deleted" in outcome.detail
        assert "delete notebooks/lab/analysis.ipynb" in outcome.detail
        assert "--prefer ipynb" in outcome.detail
    assert cli("sync", "--site", str(site.root)).returncode == 1
    assert not md.exists()
    assert sync(site, prefer="ipynb")["lab/analysis"].action is Action.NEW_MD
    assert md.read_text("utf-8") == text

    # The notebook deleted: likewise, the other way.
    about_nb = nb_of(site, "about")
    about_nb.unlink()
    outcome = sync(site)["about"]
    assert outcome.action is Action.TWIN_GONE and not about_nb.exists()
    assert "notebooks/about.ipynb was deleted" in outcome.detail and "--prefer md" in outcome.detail
    assert sync(site, prefer="ipynb")["about"].action is Action.TWIN_GONE  # the wrong side
    assert sync(site, prefer="md")["about"].action is Action.NEW_IPYNB
    assert in_step(site, "about")
    assert set(actions(sync(site)).values()) == {Action.UNCHANGED}


# -- 8. no record ---------------------------------------------------------------------------

@pytest.mark.parametrize("record", ["deleted", "cache deleted", "garbage", "other format"])
def test_without_a_record_twins_that_differ_are_a_conflict(post, record):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")
    jupyter_save(ipynb, lambda nb: setattr(markdown_cells(nb)[0], "source", "Changed in Jupyter."))
    state = post.root / ".nbpress-cache/sync.json"
    if record == "deleted":
        state.unlink()
    elif record == "cache deleted":
        shutil.rmtree(state.parent)
    elif record == "garbage":
        state.write_text("{not json")
    else:
        state.write_text(json.dumps({"format": 999, "pairs": json.loads(state.read_text())["pairs"]}))
    before = (md.read_bytes(), ipynb.read_bytes())
    outcome = sync(post)["blog/post"]
    assert outcome.action is Action.CONFLICT
    assert (md.read_bytes(), ipynb.read_bytes()) == before
    assert "Changed in Jupyter." in outcome.detail


def test_without_a_record_twins_that_agree_are_in_step(post):
    (post.root / ".nbpress-cache/sync.json").unlink()
    before = snapshot(post)
    assert actions(sync(post)) == {"blog/post": Action.IN_STEP}
    assert {p: v for p, v in snapshot(post).items() if p.suffix != ".json"} == before
    assert actions(sync(post)) == {"blog/post": Action.UNCHANGED}


# -- 9. PATHS ---------------------------------------------------------------------------------

def test_paths_limit_sync_to_the_pairs_under_them(site):
    for rel in ("blog/a", "blog/b", "blog/2024/c", "blogroll/d", "about"):
        site.page(f"{rel}.md", prose(rel))
    assert set(sync(site, site.root / "content/blog")) == {"blog/a", "blog/b", "blog/2024/c"}
    assert not nb_of(site, "blogroll/d").exists() and not nb_of(site, "about").exists()
    assert set(actions(sync(site)).values()) == {Action.NEW_IPYNB, Action.UNCHANGED}

    for rel in ("blog/a", "blog/2024/c", "blogroll/d", "about"):
        write_md(md_of(site, rel), prose(rel, "Edited."))
    others = {rel: nb_of(site, rel).read_bytes() for rel in ("blogroll/d", "about")}
    run = cli("sync", "content/blog", cwd=site.root)             # relative to the site
    assert run.returncode == 0, run.stdout
    assert {rel: nb_of(site, rel).read_bytes() for rel in others} == others
    assert all(in_step(site, rel) for rel in ("blog/a", "blog/b", "blog/2024/c"))
    assert "Edited." in nb_of(site, "blog/a").read_text("utf-8")

    # A notebook path or a single page names just that pair.
    assert actions(sync(site, site.root / "notebooks/blogroll/d.ipynb")) == \
        {"blogroll/d": Action.TO_IPYNB}
    assert actions(sync(site, site.root / "content/about.md")) == {"about": Action.TO_IPYNB}
    with pytest.raises(NbpressError, match="not inside"):
        sync(site, site.root)


# -- more: errors, Jupyter's own files ---------------------------------------------------

def test_an_unreadable_notebook_is_reported_and_the_others_sync(site):
    md_a = site.page("a.md", prose("A"))
    site.page("b.md", prose("B"))
    sync(site)
    nb_of(site, "a").write_text('{"cells": [')            # a half-written save
    write_md(md_a, prose("A", "Edited A."))
    write_md(md_of(site, "b"), prose("B", "Edited B."))
    outcomes = sync(site)
    assert outcomes["a"].action is Action.ERROR and not outcomes["a"].ok
    assert str(nb_of(site, "a")) in outcomes["a"].detail and "not a readable notebook" in outcomes["a"].detail
    assert nb_of(site, "a").read_text() == '{"cells": [' and md_a.read_text() == prose("A", "Edited A.")
    assert outcomes["b"].action is Action.TO_IPYNB and in_step(site, "b")
    run = cli("sync", "--site", str(site.root))
    assert run.returncode == 1 and "error" in run.stdout


def test_jupyter_checkpoints_and_hidden_files_are_not_pages(site):
    site.page("blog/post.md", POST)
    sync(site)
    copy = nb_of(site, "blog/post").read_bytes()
    site.file("notebooks/blog/.ipynb_checkpoints/post-checkpoint.ipynb", copy)
    site.file("notebooks/.hidden.ipynb", copy)
    site.file("content/.~post.md", POST)
    assert actions(sync(site)) == {"blog/post": Action.UNCHANGED}
    assert sorted(p.relative_to(site.root).as_posix() for p in (site.root / "content").rglob("*")
                  if p.is_file()) == ["content/.~post.md", "content/blog/post.md"]


# -- 10. property: any sequence of edits and syncs loses nothing --------------------------

PROPERTY_PAGE = """\
---
created: "2024-02-24"
edited: "2024-08-18"
title: "Property"
slug: /blog/property
draft: false
---

Opening prose.

```python
x = 1
print(x)
```

Closing prose.
"""

# Any printable text: letters of every script, punctuation, symbols, odd spaces.
word = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
               min_size=1, max_size=8)
sentence = st.lists(word, min_size=1, max_size=5).map(" ".join)
steps = st.lists(st.one_of(
    st.tuples(st.just("md"), sentence),
    st.tuples(st.just("nb"), sentence),
    st.tuples(st.just("both"), sentence, sentence),
    st.tuples(st.just("front"), st.sampled_from(["title", "edited", "draft"]),
              st.integers(0, 10_000)),
    st.tuples(st.just("outputs"), st.integers(1, 99)),
    st.tuples(st.just("sync")),
), min_size=1, max_size=6)


def front_line(key: str, n: int) -> str:
    if key == "title":
        return f"title: {json.dumps(f'Title {n}')}\n"
    if key == "edited":
        return f'edited: "{dt.date(2020, 1, 1) + dt.timedelta(days=n)}"\n'
    return f"draft: {'true' if n % 2 else 'false'}\n"


def expected_action(md_bytes: bytes, nb_bytes: bytes, settled: tuple[bytes, bytes],
                    touched: bool) -> Action:
    """What sync should do, from the contents alone (a model of its docstring)."""
    if not touched and settled == (md_bytes, nb_bytes):
        return Action.UNCHANGED
    implied = notebook_to_md(read_ipynb(nb_bytes.decode("utf-8"))).encode("utf-8")
    if implied == md_bytes:
        return Action.IN_STEP
    # the notebook side changed when its inputs (the page it implies) changed: a re-run
    # that only adds outputs is no change to reconcile
    md_changed, nb_changed = md_bytes != settled[0], implied != settled[0]
    if md_changed and nb_changed:
        return Action.CONFLICT
    return Action.TO_IPYNB if md_changed else Action.TO_MD


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_property_no_edit_is_ever_lost(steps):
    with tempfile.TemporaryDirectory() as tmp:
        site = SiteMaker(Path(tmp) / "site")
        md = site.page("blog/property.md", PROPERTY_PAGE)
        ipynb = nb_of(site, "blog/property")
        assert actions(sync(site)) == {"blog/property": Action.NEW_IPYNB}
        front = dict(zip(("created", "edited", "title", "slug", "draft"),
                         PROPERTY_PAGE.splitlines(keepends=True)[1:6]))
        written: list[str] = []                         # every sentence the author wrote
        settled = (md.read_bytes(), ipynb.read_bytes())  # the pair after the last good sync
        touched = False                                 # a file written since the last sync
        ran = False                                     # the notebook was given outputs

        def say(text: str) -> str:
            text = f"S{len(written)}: {text}."           # unique, so presence means something
            written.append(text)
            return text

        def md_append(text: str) -> None:
            write_md(md, md.read_text("utf-8") + f"\n{say(text)}\n")

        def nb_append(text: str) -> None:
            line = say(text)

            def edit(nb):
                markdown_cells(nb)[-1].source += f"\n\n{line}"
            jupyter_save(ipynb, edit)

        for step in [*steps, ("sync",)]:           # always end on a sync: it is what we check
            kind = step[0]
            if kind == "md":
                md_append(step[1])
            elif kind == "nb":
                nb_append(step[1])
            elif kind == "both":
                md_append(step[1])
                nb_append(step[2])
            elif kind == "front":
                key, n = step[1], step[2]
                text = md.read_text("utf-8")
                head = front_block(text)
                write_md(md, head.replace(front[key], front_line(key, n), 1) + text[len(head):])
                front[key] = front_line(key, n)
            elif kind == "outputs":
                def execute(nb, n=step[1]):
                    run_cell(code_cells(nb)[0], n)
                jupyter_save(ipynb, execute)
                ran = True
            touched = touched or kind != "sync"
            if kind != "sync":
                continue

            before = (md.read_bytes(), ipynb.read_bytes())
            expected = expected_action(*before, settled, touched)
            outcome = sync(site)["blog/property"]
            assert outcome.action is expected, outcome
            if outcome.action is Action.CONFLICT:
                assert (md.read_bytes(), ipynb.read_bytes()) == before      # nothing written
            else:
                assert outcome.ok, outcome
                assert in_step(site, "blog/property")
                settled = (md.read_bytes(), ipynb.read_bytes())
            touched = False
            md_text, nb_text = md.read_text("utf-8"), ipynb.read_text("utf-8")
            inputs = "\n".join(c.source for c in read_nb(ipynb).cells)
            for line in written:
                assert line in md_text or line in inputs, line
            authored = md_text
            for line in written:                        # (a sentence may say "outputs")
                authored = authored.replace(line, "")
            no_jupyter_state(authored)
            # The md's frontmatter is the author's lines: those no step changed, byte for byte.
            assert front_block(md_text) == "---\n" + "".join(front.values()) + "---\n"
            # The code never changes here, so its outputs are never dropped.
            assert ("OUTPUT-MARKER" in nb_text) == ran


# -- 11. performance sanity --------------------------------------------------------------

def test_two_hundred_unchanged_pairs_sync_in_under_a_second(site):
    for k in range(200):
        site.page(f"s{k % 5}/page-{k}.md", prose(f"Page {k}", f"Body {k}.\n\n```python\nx = {k}\n```"))
    assert set(actions(sync(site)).values()) == {Action.NEW_IPYNB}
    config = site.config()
    start = time.perf_counter()
    outcomes = sync_site(config)
    elapsed = time.perf_counter() - start
    assert len(outcomes) == 200 and {o.action for o in outcomes} == {Action.UNCHANGED}
    assert elapsed < 1.0, f"{elapsed:.3f}s"


# -- 12. nbpress new --notebook -----------------------------------------------------------

def test_new_page_with_notebook(site):
    site.page("blog/older.md", '---\ndate: 2023-01-01\ntitle: "Older"\n---\n\nOld.\n')
    newest = site.page("blog/newest.md", '---\ndate: 2024-03-01\ntitle: "Newest"\nslug: /blog/newest\n'
                       'abstract: "About it."\ndraft: false\n---\n\nNew.\n')
    t = newest.stat().st_mtime_ns + 10**9
    os.utime(newest, ns=(t, t))                      # unambiguously the newest
    config = site.config()

    created = new_page(config, "My Title", section="blog", notebook=True)
    md, ipynb = md_of(site, "blog/my-title"), nb_of(site, "blog/my-title")
    assert created == [md, ipynb] and md.is_file() and ipynb.is_file()
    text = md.read_text("utf-8")
    head = front_block(text)
    assert [line.split(":")[0] for line in head.splitlines()[1:-1]] == \
        ["date", "title", "slug", "abstract", "draft"]
    assert f'date: "{dt.date.today().isoformat()}"\n' in head
    assert 'title: "My Title"\n' in head and "slug: /blog/my-title\n" in head
    assert "draft: true\n" in head
    assert '```python tags=["parameters"]\n' in text

    nb = read_nb(ipynb)
    params = [c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and nb.metadata.kernelspec.language == "python"
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source + "\n" == head
    assert in_step(site, "blog/my-title")
    outcomes = sync(site)
    assert outcomes["blog/my-title"].action is Action.UNCHANGED

    with pytest.raises(NbpressError, match="already exists") as error:
        new_page(config, "My Title", section="blog", notebook=True)
    assert error.value.path == md and str(md) in str(error.value)
    assert md.read_text("utf-8") == text

    run = cli("new", "Second Post", "--section", "blog", "--notebook", cwd=site.root)
    assert run.returncode == 0, run.stdout
    assert "created content/blog/second-post.md" in run.stdout
    assert in_step(site, "blog/second-post")
    run = cli("new", "Second Post", "--section", "blog", cwd=site.root)
    assert run.returncode == 2 and "second-post.md" in run.stdout


# -- bugs: each test states what should happen; it fails today --------------------------

def test_twin_gone_suggests_a_command_that_works(site):
    site.page("about.md", prose("About"))
    sync(site)
    nb_of(site, "about").unlink()
    detail = sync(site)["about"].detail
    command = shlex.split(re.search(r"`(nbpress sync [^`]*)`", detail).group(1))
    run = cli(*command[1:], cwd=site.root)
    assert run.returncode == 0, run.stdout
    assert nb_of(site, "about").is_file()


def test_twin_gone_cli_hint_is_about_the_deleted_twin(site):
    site.page("about.md", prose("About"))
    sync(site)
    nb_of(site, "about").unlink()
    run = cli("sync", "--site", str(site.root))
    assert run.returncode == 1 and "twin deleted" in run.stdout
    assert "both twins of a page changed" not in run.stdout


def test_new_page_reusing_a_deleted_pairs_name_gets_a_notebook(site):
    md = site.page("x.md", prose("X"))
    sync(site)
    nb_of(site, "x").unlink()
    assert sync(site)["x"].action is Action.TWIN_GONE
    md.unlink()                                   # what the message advises
    assert sync(site) == {}
    site.page("x.md", prose("A new X", "Another page altogether."))
    assert sync(site)["x"].action is Action.NEW_IPYNB


def test_two_prefer_resolutions_in_one_second_keep_both_backups(site):
    for attempt in range(5):
        root = site.root / f"try{attempt}"
        trial = SiteMaker(root)
        trial.page("blog/post.md", POST)
        sync(trial)
        first = make_conflict(trial, "blog/post", "Page one.", "Notebook one.")[1]
        stamp = time.strftime("%Y%m%d-%H%M%S")
        sync(trial, prefer="md")
        second = make_conflict(trial, "blog/post", "Page two.", "Notebook two.")[1]
        sync(trial, prefer="md")
        if time.strftime("%Y%m%d-%H%M%S") == stamp:
            break
    else:
        pytest.skip("could not make two resolutions within one second")
    kept = sorted(b.read_bytes() for b in
                  (root / ".nbpress-cache/sync-backup").rglob("post.*.ipynb"))
    assert kept == sorted([first, second])


def test_frontmatter_metadata_without_a_block_is_not_lost(site):
    md = site.page("plain.md", "Just prose.\n\n```python\nx = 1\n```\n")
    sync(site)

    def edit(nb):
        nb.metadata["nbpress"] = {"frontmatter": {"title": "Given in Jupyter"}}
        nb.cells[0].source += " Edited in Jupyter."
    jupyter_save(nb_of(site, "plain"), edit)
    assert sync(site)["plain"].ok
    text = md.read_text("utf-8")
    assert "Edited in Jupyter." in text
    kept = read_nb(nb_of(site, "plain")).metadata.get("nbpress", {}).get("frontmatter", {})
    assert "Given in Jupyter" in text or kept == {"title": "Given in Jupyter"}


def test_crlf_page_keeps_its_frontmatter_bytes(site):
    md = site.file("content/crlf.md", b'---\r\ntitle: "CRLF"\r\ndraft: false\r\n---\r\n\r\n'
                   b"Prose.\r\n\r\n```python\r\nx = 1\r\n```\r\n")
    sync(site)
    jupyter_save(nb_of(site, "crlf"),
                 lambda nb: setattr(markdown_cells(nb)[0], "source", "Prose from Jupyter."))
    assert sync(site)["crlf"].action is Action.TO_MD
    data = md.read_bytes()
    assert b"Prose from Jupyter." in data
    assert data.startswith(b'---\r\ntitle: "CRLF"\r\ndraft: false\r\n---\r\n')


def test_rerun_notebook_and_edited_page_is_not_a_conflict(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")
    jupyter_save(ipynb, run=True)                 # the author re-runs the notebook...
    write_md(md, md.read_text("utf-8").replace("More prose.", "More prose, from the page."))
    outcome = sync(post)["blog/post"]             # ...and edited the page meanwhile
    assert outcome.action is Action.TO_IPYNB, outcome
    nb = read_nb(ipynb)
    assert "More prose, from the page." in markdown_cells(nb)[-1].source
    assert [c.execution_count for c in code_cells(nb)] == [1, 2]


def test_an_unreadable_notebook_is_reported_and_prefer_md_recreates_it(site):
    site.page("a.md", prose("A"))
    sync(site)
    nb_of(site, "a").write_text('{"cells": [')
    outcome = sync(site)["a"]
    assert outcome.action is Action.ERROR and "--prefer md" in outcome.detail
    assert actions(sync(site, prefer="md")) == {"a": Action.NEW_IPYNB}     # as the hint says
    backups = list((site.root / ".nbpress-cache/sync-backup").rglob("a.*.ipynb"))
    assert [b.read_text() for b in backups] == ['{"cells": [']
    assert in_step(site, "a")


def test_leftover_frontmatter_metadata_does_not_override_raw_cell_edits(site):
    md = site.page("p.md", '---\ntitle: "P"\ndraft: false\n---\n\nProse.\n')
    sync(site)
    ipynb = nb_of(site, "p")

    def set_meta(nb):                             # a key set to the value it already has
        nb.metadata["nbpress"] = {"frontmatter": {"draft": False}}
    jupyter_save(ipynb, set_meta)
    assert sync(site)["p"].action is Action.IN_STEP

    def publish(nb):                              # later: the author edits the raw cell
        nb.cells[0].source = nb.cells[0].source.replace("draft: false", "draft: true")
    jupyter_save(ipynb, publish)
    outcome = sync(site)["p"]
    assert outcome.action is Action.TO_MD, outcome
    assert "draft: true\n" in md.read_text("utf-8")


def test_myst_page_keeps_its_frontmatter_keys(site):
    md = site.page("m.md", """\
        ---
        title: "MyST page"
        draft: false
        jupytext:
          text_representation:
            extension: .md
            format_name: myst
        kernelspec:
          display_name: Python 3
          language: python
          name: python3
        ---

        Prose.

        ```{code-cell} python
        x = 1
        ```
        """)
    assert sync(site)["m"].action is Action.NEW_IPYNB
    jupyter_save(nb_of(site, "m"),
                 lambda nb: setattr(markdown_cells(nb)[0], "source", "Prose from Jupyter."))
    assert sync(site)["m"].action is Action.TO_MD
    text = md.read_text("utf-8")
    assert "Prose from Jupyter." in text and "x = 1\n```" in text
    assert 'title: "MyST page"' in text and "draft: false" in text


def test_md_edit_keeps_cell_metadata_set_in_jupyter(post):
    md, ipynb = md_of(post, "blog/post"), nb_of(post, "blog/post")

    def collapse(nb):
        code_cells(nb)[0].metadata["tags"] = ["remove-input"]
        code_cells(nb)[0].metadata["jupyter"] = {"source_hidden": True}
    jupyter_save(ipynb, collapse)
    assert sync(post)["blog/post"].action is Action.IN_STEP     # the page cannot say it
    write_md(md, md.read_text("utf-8").replace("Hello prose.", "Hello prose, edited."))
    assert sync(post)["blog/post"].action is Action.TO_IPYNB
    first = code_cells(read_nb(ipynb))[0]
    assert first.metadata.get("tags") == ["remove-input"]
    assert first.metadata.get("jupyter") == {"source_hidden": True}
