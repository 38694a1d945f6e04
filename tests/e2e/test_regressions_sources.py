"""Issue 7: what is a page, whole builds. Notebooks in content/ are pages; `_` and `.` names
are not; a notebook twin whose Markdown page was deleted or renamed is not published.

Twins are made by the real `nbpress sync` (`sync_site`), notebooks by nbformat as Jupyter
writes them; the orphan warnings are read from `pipeline.sources.discover` (imported in the
tests, so that each test fails on its own account on code without them)."""
from __future__ import annotations

import nbformat

from pipeline.author.sync import Action, sync_site
from pipeline.model import Outcome

PAGE = ('---\ntitle: "Paired"\nslug: /s\n---\n\nThe page text.\n\n'
        '```python\nprint("from the page")\n```\n')


def notebook_page(title: str, slug: str, printed: str) -> str:
    """A notebook page as Jupyter saves it: frontmatter in a raw cell, a run code cell."""
    code = nbformat.v4.new_code_cell(f"print({printed!r})", execution_count=1, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"{printed}\n")])
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell(f'---\ntitle: "{title}"\nslug: {slug}\n---'),
        nbformat.v4.new_markdown_cell("Some prose."), code],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    return nbformat.writes(nb)


def html(site, slug: str) -> str:
    return (site.root / "output" / slug / "index.html").read_text(encoding="utf-8")


def synced_site(site):
    """content/x.md with slug /s, paired by `nbpress sync` and built once."""
    site.page("x.md", PAGE)
    (outcome,) = sync_site(site.config())
    assert outcome.action is Action.NEW_IPYNB
    report = site.build()
    assert report.ok and "The page text." in html(site, "s")
    return site


# -- what is a page ----------------------------------------------------------------------------

def test_a_notebook_in_content_is_published_and_its_twin_beside_a_page_is_not(site):
    site.file("content/blog/analysis.ipynb", notebook_page("Analysis", "/blog/analysis", "RAN"))
    site.page("blog/post.md", '---\ntitle: "Post"\n---\n\nPost text.\n')
    site.file("content/blog/post.ipynb", notebook_page("Twin", "/blog/twin", "TWIN"))

    report = site.build()

    assert report.ok
    assert sorted((r.source.rel, r.source.kind) for r in report.results) == [
        ("blog/analysis", "ipynb"), ("blog/post", "md")]
    page = html(site, "blog/analysis")
    assert "Analysis" in page and "RAN" in page and "Some prose." in page
    assert not (site.root / "output/blog/twin").exists()


def test_a_content_notebook_wins_over_a_notebooks_one_at_the_same_path(site):
    from pipeline.sources.discover import scan

    site.file("content/nb.ipynb", notebook_page("In content", "/nb", "CONTENT"))
    site.file("notebooks/nb.ipynb", notebook_page("In notebooks", "/nb", "NOTEBOOKS"))

    report = site.build()

    assert report.ok and [r.source.path for r in report.results] == [site.root / "content/nb.ipynb"]
    assert "CONTENT" in html(site, "nb") and "NOTEBOOKS" not in html(site, "nb")
    ((path, warning),) = scan(site.config()).shadowed
    assert path == site.root / "notebooks/nb.ipynb" and "content/nb.ipynb" in warning


def test_underscore_and_dot_names_are_not_published(site):
    site.page("about.md", '---\ntitle: "About"\n---\n\nHi.\n')
    site.page("_drafts/idea.md", '---\ntitle: "Idea"\nslug: /idea\n---\n\nNot yet.\n')
    site.page("_data/notes.md", '---\ntitle: "Notes"\nslug: /notes\n---\n\nData notes.\n')
    site.page("blog/_include.md", '---\ntitle: "Include"\nslug: /include\n---\n\nA snippet.\n')
    site.file("content/.ipynb_checkpoints/about-checkpoint.ipynb",
              notebook_page("Checkpoint", "/checkpoint", "CHECKPOINT"))
    site.file("notebooks/_scratch/try.ipynb", notebook_page("Scratch", "/try", "SCRATCH"))

    report = site.build()

    assert report.ok and [r.source.rel for r in report.results] == ["about"]
    for slug in ("idea", "notes", "include", "checkpoint", "try"):
        assert not (site.root / "output" / slug).exists(), slug


# -- bug 3: deleting or renaming a paired page unpublishes it ----------------------------------

def test_deleting_a_paired_page_unpublishes_it_and_its_notebook_is_warned(site):
    from pipeline.sources.discover import orphaned_twins

    synced_site(site)
    (site.root / "content/x.md").unlink()

    report = site.build()

    assert report.ok and report.results == ()
    assert not (site.root / "output/s").exists()
    ((path, warning),) = orphaned_twins(site.config())
    assert path == site.root / "notebooks/x.ipynb"
    assert "content/x.md" in warning and "delete notebooks/x.ipynb" in warning


def test_renaming_a_paired_page_with_a_slug_publishes_the_new_file_only(site):
    synced_site(site)
    (site.root / "content/x.md").rename(site.root / "content/y.md")

    report = site.build()

    assert report.ok, [str(r.error) for r in report.failed]
    assert [(r.source.rel, r.source.kind) for r in report.results] == [("y", "md")]
    assert "The page text." in html(site, "s")


def test_a_deleted_page_s_twin_stays_unpublished_without_the_sync_record(site):
    """A fresh clone has no .nbpress-cache: the twin's own jupytext metadata says it."""
    synced_site(site)
    (site.root / "content/x.md").unlink()
    (site.root / ".nbpress-cache/sync.json").unlink()

    report = site.build()

    assert report.ok and report.results == ()
    assert not (site.root / "output/s").exists()


def test_after_the_page_is_gone_sync_reports_it_and_the_build_leaves_the_notebook_out(site):
    """What the warning says of `nbpress sync` is what it does: it reports, writes nothing."""
    synced_site(site)
    (site.root / "content/x.md").unlink()

    (outcome,) = sync_site(site.config())

    assert outcome.action is Action.TWIN_GONE and not (site.root / "content/x.md").exists()
    assert site.build().results == ()


def test_a_notebook_the_author_made_stays_a_page(site):
    site.file("notebooks/mine.ipynb", notebook_page("Mine", "/mine", "MINE"))

    report = site.build()

    assert report.ok
    assert [(r.source.rel, r.source.kind) for r in report.results] == [("mine", "ipynb")]
    assert "MINE" in html(site, "mine")


def test_moving_an_orphaned_twin_into_content_publishes_it(site):
    """The warning's third fix: the notebook as a page of its own."""
    synced_site(site)
    (site.root / "content/x.md").unlink()
    (site.root / "notebooks/x.ipynb").rename(site.root / "content/x.ipynb")

    report = site.build()

    assert report.ok and [(r.source.rel, r.source.kind) for r in report.results] == [("x", "ipynb")]
    assert "The page text." in html(site, "s")
