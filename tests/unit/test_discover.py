"""Finding the pages: content/**/*.md, and notebooks without a Markdown twin."""
from __future__ import annotations

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
