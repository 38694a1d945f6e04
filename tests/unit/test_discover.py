"""Finding the pages: content/**/*.md and *.ipynb, notebooks/ notebooks that are no page's twin,
never a `_` or `.` name."""
from __future__ import annotations

import pytest

from pipeline.sources.discover import discover


def found(site) -> list[tuple[str, str]]:
    return [(s.rel, s.kind) for s in discover(site.config())]


def test_finds_markdown_pages_at_every_depth_sorted(site):
    for rel in ("zeta.md", "about.md", "blog/2024/deep.md", "blog/first.md", "projects/x.md"):
        site.page(rel, "# x\n")

    assert found(site) == [("about", "md"), ("blog/2024/deep", "md"), ("blog/first", "md"),
                           ("projects/x", "md"), ("zeta", "md")]


def test_sources_carry_their_absolute_path(site):
    path = site.page("blog/first.md", "# x\n")

    (source,) = discover(site.config())

    assert source.path.is_absolute()
    assert source.path.resolve() == path.resolve()


def test_other_files_in_content_are_not_pages(site):
    site.page("blog/post.md", "# x\n")
    site.file("content/blog/data.csv", "a,b\n")
    site.file("content/images/a.png", b"png")
    site.file("content/blog/post.ipynb", "{}")
    site.file("content/blog/notes.markdown", "x")

    assert found(site) == [("blog/post", "md")]


def test_skips_checkpoints_and_dot_folders_and_dot_files(site):
    site.page("blog/post.md", "# x\n")
    site.page("blog/.ipynb_checkpoints/post-checkpoint.md", "# x\n")
    site.page(".drafts/secret.md", "# x\n")
    site.page("blog/.hidden/h.md", "# x\n")
    site.page("blog/.swap.md", "# x\n")
    site.page("node_modules/pkg/readme.md", "# x\n")

    assert found(site) == [("blog/post", "md")]


def test_includes_a_notebook_only_when_it_has_no_markdown_twin(site):
    site.page("blog/post.md", "# x\n")
    site.file("notebooks/blog/post.ipynb", "{}")
    site.file("notebooks/analysis.ipynb", "{}")
    site.file("notebooks/blog/extra.ipynb", "{}")

    sources = discover(site.config())

    assert [(s.rel, s.kind) for s in sources] == [
        ("analysis", "ipynb"), ("blog/extra", "ipynb"), ("blog/post", "md")]
    twin = next(s for s in sources if s.rel == "blog/post")
    assert twin.path.parent.name == "blog" and twin.path.parent.parent.name == "content"


def test_skips_notebook_checkpoints(site):
    site.file("notebooks/analysis.ipynb", "{}")
    site.file("notebooks/.ipynb_checkpoints/analysis-checkpoint.ipynb", "{}")

    assert found(site) == [("analysis", "ipynb")]


def test_a_site_without_pages_or_notebooks_folder_finds_nothing(site):
    assert discover(site.config()) == []


def test_configured_folders_are_used(site):
    site.settings('[tool.nbpress]\ncontent_dir = "pages"\nnotebooks_dir = "nbs"\n')
    site.file("pages/a.md", "# a\n")
    site.file("content/ignored.md", "# no\n")
    site.file("nbs/b.ipynb", "{}")
    site.file("notebooks/ignored.ipynb", "{}")

    assert found(site) == [("a", "md"), ("b", "ipynb")]


# -- issue 7: what is a page -------------------------------------------------------------------

def notebook(metadata: dict | None = None, cells: list | None = None) -> str:
    """A notebook as Jupyter writes it (nbformat), with the given notebook metadata."""
    import nbformat

    nb = nbformat.v4.new_notebook(metadata=metadata or {})
    nb.cells = cells if cells is not None else [nbformat.v4.new_markdown_cell("# A notebook")]
    return nbformat.writes(nb)


def test_notebooks_in_content_are_pages_at_every_depth(site):
    site.page("about.md", "# x\n")
    site.file("content/analysis.ipynb", notebook())
    site.file("content/blog/2024/deep.ipynb", notebook())

    sources = discover(site.config())

    assert [(s.rel, s.kind) for s in sources] == [
        ("about", "md"), ("analysis", "ipynb"), ("blog/2024/deep", "ipynb")]
    assert sources[1].path == site.root / "content" / "analysis.ipynb"


def test_a_notebook_beside_its_markdown_page_is_the_page_s_twin_not_a_second_page(site):
    site.page("blog/post.md", "# x\n")
    site.file("content/blog/post.ipynb", notebook())
    site.file("content/blog/other.ipynb", notebook())

    assert found(site) == [("blog/other", "ipynb"), ("blog/post", "md")]


def test_a_content_notebook_comes_before_the_notebooks_one_and_the_other_is_warned(site):
    from pipeline.sources.discover import scan

    site.file("content/blog/nb.ipynb", notebook())
    site.file("notebooks/blog/nb.ipynb", notebook())

    found_ = scan(site.config())

    assert [s.path for s in found_.pages] == [site.root / "content/blog/nb.ipynb"]
    ((path, warning),) = found_.shadowed
    assert path == site.root / "notebooks/blog/nb.ipynb"
    assert str(path) in warning and "content/blog/nb.ipynb" in warning
    assert "Delete or rename" in warning


def test_names_starting_with_underscore_or_dot_are_not_pages_in_either_folder(site):
    site.page("blog/post.md", "# x\n")
    site.page("_drafts/draft.md", "# x\n")
    site.page("blog/_include.md", "# x\n")
    site.page("_data/notes.md", "# x\n")
    site.file("content/_data/table.ipynb", notebook())
    site.file("content/.ipynb_checkpoints/x-checkpoint.ipynb", notebook())
    site.file("content/blog/.swap.ipynb", notebook())
    site.file("notebooks/_scratch/try.ipynb", notebook())
    site.file("notebooks/blog/_private.ipynb", notebook())
    site.file("notebooks/__pycache__/x.ipynb", notebook())
    site.file("notebooks/kept.ipynb", notebook())

    assert found(site) == [("blog/post", "md"), ("kept", "ipynb")]


def test_the_content_and_notebooks_folders_themselves_may_start_with_underscore(site):
    site.settings('[tool.nbpress]\ncontent_dir = "_posts"\nnotebooks_dir = "_notebooks"\n')
    site.file("_posts/a.md", "# a\n")
    site.file("_notebooks/b.ipynb", notebook())

    assert found(site) == [("a", "md"), ("b", "ipynb")]


def test_sync_s_walk_keeps_its_contract_and_still_sees_underscore_folders(site):
    from pipeline.sources.discover import walk

    site.page("_drafts/draft.md", "# x\n")
    site.page(".hidden/h.md", "# x\n")

    assert [rel for _, rel in walk(site.root / "content", ".md")] == ["_drafts/draft"]


@pytest.mark.parametrize("content, notebooks", [("content", "content/nb"), ("src/pages", "src")])
def test_one_folder_inside_the_other_finds_each_notebook_once(site, content, notebooks):
    site.settings(f'[tool.nbpress]\ncontent_dir = "{content}"\nnotebooks_dir = "{notebooks}"\n')
    site.file(f"{content}/a.md", "# a\n")
    site.file(f"{content}/c.ipynb", notebook())
    site.file(f"{notebooks}/a.ipynb", notebook())
    site.file(f"{notebooks}/b.ipynb", notebook())

    assert found(site) == [("a", "md"), ("b", "ipynb"), ("c", "ipynb")]


def test_one_folder_for_pages_and_notebooks_finds_each_file_once(site):
    site.settings('[tool.nbpress]\ncontent_dir = "pages"\nnotebooks_dir = "pages"\n')
    site.file("pages/a.md", "# a\n")
    site.file("pages/a.ipynb", notebook())
    site.file("pages/b.ipynb", notebook())

    assert found(site) == [("a", "md"), ("b", "ipynb")]


# -- issue 7, bug 3: a twin whose page is gone is not a page -----------------------------------

def synced_then_page_deleted(site, rel: str = "blog/post") -> None:
    """content/<rel>.md paired by the real `nbpress sync`, then the page deleted."""
    from pipeline.author.sync import sync_site

    page = site.page(f"{rel}.md", '---\ntitle: "Post"\n---\n\nText.\n\n```python\nx = 1\n```\n')
    sync_site(site.config())
    assert (site.root / "notebooks" / f"{rel}.ipynb").is_file()
    page.unlink()


def test_the_twin_of_a_deleted_page_is_left_out_and_warned_with_both_files_and_the_fixes(site):
    from pipeline.sources.discover import orphaned_twins

    synced_then_page_deleted(site)

    assert found(site) == []
    ((path, warning),) = orphaned_twins(site.config())
    assert path == site.root / "notebooks/blog/post.ipynb"
    assert "content/blog/post.md" in warning and "delete notebooks/blog/post.ipynb" in warning
    assert "nbpress sync --prefer ipynb notebooks/blog/post.ipynb" in warning
    assert "move it to content/blog/post.ipynb" in warning


def test_without_the_sync_record_the_twin_s_own_metadata_says_it_is_a_twin(site):
    from pipeline.sources.discover import orphaned_twins

    synced_then_page_deleted(site)
    (site.root / ".nbpress-cache" / "sync.json").unlink()     # a fresh clone has no record

    assert found(site) == []
    ((_, warning),) = orphaned_twins(site.config())
    assert "`nbpress sync` writes it again from the notebook" in warning


def test_the_author_s_own_notebook_that_sync_paired_is_a_twin_once_paired(site):
    from pipeline.author.sync import Action, sync_site

    site.file("notebooks/mine.ipynb", notebook())
    assert found(site) == [("mine", "ipynb")]
    (outcome,) = sync_site(site.config())
    assert outcome.action is Action.NEW_MD
    (site.root / "content/mine.md").unlink()

    assert found(site) == []


JUPYTERLAB_TWIN = {"jupytext": {"cell_metadata_filter": "tags,-all", "main_language": "python",
                                "notebook_metadata_filter": "-all"}}


def test_twin_metadata_jupytext_writes_marks_a_twin_and_other_metadata_does_not(site):
    site.file("notebooks/lab.ipynb", notebook(JUPYTERLAB_TWIN))          # JupyterLab's pairing
    site.file("notebooks/paired.ipynb", notebook({"jupytext": {"formats": "ipynb,md:myst"}}))
    site.file("notebooks/synced.ipynb", notebook(
        {"jupytext": {"text_representation": {"extension": ".md", "format_name": "markdown"}}}))
    site.file("notebooks/script.ipynb", notebook({"jupytext": {"formats": "ipynb,py:percent"}}))
    site.file("notebooks/own.ipynb", notebook({"kernelspec": {"name": "python3",
                                                            "display_name": "Python 3"}}))
    site.file("notebooks/front.ipynb", notebook({"nbpress": {"frontmatter": {"title": "T"}}}))
    site.file("notebooks/broken.ipynb", '{"metadata": {"jupytext": ')

    assert found(site) == [("broken", "ipynb"), ("front", "ipynb"), ("own", "ipynb"),
                           ("script", "ipynb")]
