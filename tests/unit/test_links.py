"""References in a page: resolved against the page or content/, checked, and rewritten."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import LinkError
from pipeline.render.links import LinkResolver, relative_url
from pipeline.model import Source
from pipeline.sources.frontmatter import read_source
from tests.conftest import PNG_1PX, SEED


def read(config, rel: str):
    return read_source(Source(config.content / rel, rel.rsplit(".", 1)[0], "md"))


@pytest.fixture
def world(site):
    """The seed page in experiences/, its image, a media file, a blog post and a draft."""
    seed = site.root / "content" / "experiences" / "aws.md"
    seed.parent.mkdir(parents=True)
    shutil.copyfile(SEED, seed)
    site.file("content/images/aws.png", PNG_1PX)
    site.file("content/media/x.jpg", b"jpg")
    site.page("blog/post.md", "---\ntitle: Post\n---\n")
    site.page("blog/draft.md", "---\ntitle: Draft\ndraft: true\n---\n")
    site.page("index.md", "---\ntitle: Home\n---\n")
    config = site.config()
    pages = {rel: read(config, f"{rel}.md")
             for rel in ("experiences/aws", "blog/post", "blog/draft", "index")}
    published = [p for p in pages.values() if not p.draft]
    resolver = LinkResolver(config, published, {pages["blog/draft"].source.path})
    return resolver, pages, config


def rewrite(world, html: str, page: str = "experiences/aws", local=frozenset()):
    resolver, pages, _ = world
    return resolver.rewrite(pages[page], html, local)


def link_error(world, html: str, page: str = "experiences/aws") -> LinkError:
    resolver, pages, _ = world
    with pytest.raises(LinkError) as info:
        resolver.rewrite(pages[page], html)
    assert info.value.path == pages[page].source.path
    assert info.value.hint
    return info.value


# --- files ---------------------------------------------------------------------------------

def test_a_relative_image_rewrites_to_a_url_relative_to_the_page_slug(world):
    out = rewrite(world, '<img alt="badge" src="../images/aws.png">')

    assert out.html == '<img alt="badge" src="../images/aws.png" width="1" height="1" loading="lazy" decoding="async">'
    assert [a.target for a in out.assets] == ["images/aws.png"]
    assert out.assets[0].source == world[2].content.resolve() / "images" / "aws.png"
    assert out.warnings == ()


def test_the_same_image_from_a_deeper_slug_gets_a_longer_url(world):
    out = rewrite(world, '<img src="../images/aws.png">', page="blog/post")

    assert out.html == '<img src="../../images/aws.png" width="1" height="1" loading="lazy" decoding="async">'


def test_a_site_absolute_reference_resolves_against_content(world):
    out = rewrite(world, '<img src="/media/x.jpg">', page="blog/post")

    assert out.html == '<img src="../../media/x.jpg" loading="lazy" decoding="async">'      # not an image: no size
    assert [a.target for a in out.assets] == ["media/x.jpg"]


def test_single_quoted_and_poster_and_href_attributes_are_rewritten(world):
    out = rewrite(world, "<video poster='/media/x.jpg'></video><a href=\"../images/aws.png\">i</a>")

    assert out.html == "<video poster='../media/x.jpg'></video><a href=\"../images/aws.png\">i</a>"
    assert sorted(a.target for a in out.assets) == ["images/aws.png", "media/x.jpg"]


def test_a_file_referenced_twice_is_one_asset(world):
    out = rewrite(world, '<img src="../images/aws.png"><img src="/images/aws.png">')

    assert len(out.assets) == 1


def test_query_and_fragment_are_preserved(world):
    out = rewrite(world, '<img src="../images/aws.png?v=2#top">')

    assert out.html == '<img src="../images/aws.png?v=2#top" width="1" height="1" loading="lazy" decoding="async">'
    assert [a.target for a in out.assets] == ["images/aws.png"]


def test_a_percent_encoded_reference_finds_the_file(world, site):
    site.file("content/media/my image.png", PNG_1PX)

    out = rewrite(world, '<img src="/media/my%20image.png">')

    assert [a.target for a in out.assets] == ["media/my image.png"]


def test_a_rewritten_url_keeps_its_percent_encoding(world, site):
    site.file("content/media/a#1.png", PNG_1PX)

    out = rewrite(world, '<img src="/media/a%231.png">')

    assert out.html == '<img src="../media/a%231.png" width="1" height="1" loading="lazy" decoding="async">'


@pytest.mark.parametrize("ref", ["../../../etc/passwd", "/../x.png", "../../pyproject.toml",
                                 "/../../outside.png"])
def test_a_reference_outside_content_is_an_error_naming_the_page(world, ref):
    error = link_error(world, f'<img src="{ref}">')

    assert repr(ref) in error.message
    assert "outside" in error.message


def test_a_missing_file_is_a_warning_naming_the_reference_and_left_as_written(world):
    out = rewrite(world, '<img src="../images/missing.png">')

    [warning] = out.warnings
    assert "'../images/missing.png'" in warning and "does not exist" in warning
    assert "content/images/missing.png" in warning and "--strict" in warning
    assert out.html == '<img src="../images/missing.png">'
    assert any(p.name == "missing.png" for p in out.missing)     # watched: built when it comes


def test_several_problems_are_all_listed(world):
    error = link_error(world, '<img src="/../x.png"><img src="/../../y.png">'
                              '<video src="../media/nope.mp4"></video><img src="../images/aws.png">')

    assert error.message.startswith("2 references")
    lines = error.detail.splitlines()
    assert len(lines) == 2
    assert "'/../x.png'" in lines[0] and "'/../../y.png'" in lines[1]


def test_links_that_do_not_resolve_are_warnings_and_left_as_written(world):
    html = '<a href="/../x.png">x</a><a href="../blog/nope.md">n</a><a href="label">l</a>'
    result = rewrite(world, html)

    assert result.html == html
    assert len(result.warnings) == 3
    assert all("aws.md" in w and "left as written" in w for w in result.warnings)


@pytest.mark.parametrize("url", [
    "https://example.org/a.png", "http://example.org/", "//cdn.example.org/x.js",
    "mailto:peter@example.org", "tel:+441234", "#section", "data:image/png;base64,iVBORw0KGgo=",
    "?page=2",
])
def test_external_urls_anchors_and_data_uris_are_untouched(world, url):
    html = f'<a href="{url}">x</a>'

    out = rewrite(world, html)

    assert out.html == html
    assert out.assets == ()


def test_files_the_page_produced_itself_are_untouched(world):
    html = '<img src="output_3_1.png"><img src="fig.svg">'

    out = rewrite(world, html, local={"output_3_1.png", "fig.svg"})

    assert out.html == '<img src="output_3_1.png" loading="lazy" decoding="async"><img src="fig.svg" loading="lazy" decoding="async">'
    assert out.assets == ()


def test_asset_resolves_one_reference(world):
    resolver, pages, config = world

    asset = resolver.asset(pages["experiences/aws"], "../images/aws.png")

    assert asset.target == "images/aws.png"
    assert asset.source == config.content.resolve() / "images" / "aws.png"


def test_asset_of_a_missing_file_is_an_error(world):
    resolver, pages, _ = world

    with pytest.raises(LinkError) as info:
        resolver.asset(pages["blog/post"], "card.png")

    assert info.value.path == pages["blog/post"].source.path
    assert "'card.png'" in info.value.message
    assert info.value.hint


# --- pages ---------------------------------------------------------------------------------

def test_a_link_to_another_pages_markdown_becomes_its_url(world):
    out = rewrite(world, '<a href="../blog/post.md">post</a>')

    assert out.html == '<a href="../blog/post/">post</a>'
    assert out.assets == ()


def test_a_page_link_keeps_its_fragment(world):
    out = rewrite(world, '<a href="/blog/post.md#part-2">post</a>')

    assert out.html == '<a href="../blog/post/#part-2">post</a>'


def test_a_link_to_the_home_page_and_to_itself(world):
    out = rewrite(world, '<a href="../index.md">home</a><a href="aws.md">me</a>')

    assert out.html == '<a href="../">home</a><a href="./">me</a>'


def test_a_link_to_an_unpublished_page_is_a_warning_not_an_error(world):
    out = rewrite(world, '<a href="../blog/draft.md">draft</a>')

    assert out.html == '<a href="../blog/draft.md">draft</a>'
    assert len(out.warnings) == 1
    assert "'../blog/draft.md'" in out.warnings[0]
    assert "not published" in out.warnings[0]


def test_a_link_to_a_missing_page_is_a_warning(world):
    result = rewrite(world, '<a href="../blog/gone.md">gone</a>')

    assert "'../blog/gone.md'" in result.warnings[0]
    assert "does not exist" in result.warnings[0]


# --- code listings are never read as links (issue 7, bug 7) ----------------------------------

HIGHLIGHTED = ('<div class="highlight"><pre><span></span><span class="n">tag</span> '
               '<span class="o">=</span> <span class="s1">\'<img src="{ref}">\'</span>\n</pre></div>')


def test_a_missing_image_shown_in_a_highlighted_listing_is_not_an_error(world):
    html = HIGHLIGHTED.format(ref="missing.png")

    out = rewrite(world, html)

    assert out.html == html
    assert out.assets == ()


def test_an_existing_image_shown_in_a_listing_is_not_rewritten_or_copied(world):
    html = HIGHLIGHTED.format(ref="/media/x.jpg")

    out = rewrite(world, html)

    assert out.html == html
    assert out.assets == ()


@pytest.mark.parametrize("html", [
    '<pre><img src="missing.png"></pre>',                                   # an HTML output
    '<div class="output_html"><div><pre><video poster="nope.jpg"></video></pre></div></div>',
    '<p>Write <code><img src="missing.png"></code> for it.</p>',            # raw inline code
    '<pre><code class="language-html"><a href="../blog/gone.md">x</a></code></pre>',
    '<!-- <img src="missing.png"> -->',
    '<script>document.write(\'<img src="missing.png">\')</script>',
])
def test_references_inside_pre_code_comments_and_scripts_are_left_alone(world, html):
    out = rewrite(world, html)

    assert out.html == html
    assert out.assets == () and out.warnings == ()


def test_references_after_a_listing_are_still_rewritten(world):
    html = '<pre><img src="missing.png"></pre><img src="/media/x.jpg">'

    out = rewrite(world, html)

    assert out.html == '<pre><img src="missing.png"></pre><img src="../media/x.jpg" loading="lazy" decoding="async">'
    assert [a.target for a in out.assets] == ["media/x.jpg"]


# --- attribute values are HTML: unescaped to resolve, escaped to write (issue 7, bug 8) --------

@pytest.mark.parametrize("written", ["R&amp;D.png", "R&#38;D.png", "R&#x26;D.png"])
def test_an_ampersand_in_a_file_name_finds_the_file(world, site, written):
    site.file("content/media/R&D.png", PNG_1PX)

    out = rewrite(world, f'<p><img src="/media/{written}" alt="c" /></p>')

    assert out.html == '<p><img src="../media/R%26D.png" width="1" height="1" loading="lazy" decoding="async" alt="c" /></p>'
    assert [a.target for a in out.assets] == ["media/R&D.png"]


def test_a_missing_file_is_named_as_the_author_wrote_it_not_escaped(world):
    [warning] = rewrite(world, '<img src="../images/R&amp;D.png">').warnings

    assert "'../images/R&D.png'" in warning
    assert "&amp;" not in warning


def test_a_rewritten_query_is_written_back_escaped(world):
    out = rewrite(world, '<img src="../images/aws.png?a=1&amp;b=2">', page="blog/post")

    assert out.html == '<img src="../../images/aws.png?a=1&amp;b=2" width="1" height="1" loading="lazy" decoding="async">'


def test_a_value_that_is_not_rewritten_keeps_its_bytes(world):
    html = ('<a href="https://example.org/?a=1&#38;b=2">x</a>'
            '<img src="../images/aws.png?x&#x26;y" width="1" height="1" loading="lazy" '
            'decoding="async">')

    assert rewrite(world, html).html == html


def test_uppercase_and_unquoted_attributes_are_rewritten(world):
    out = rewrite(world, '<IMG SRC=../images/aws.png><A HREF = "../index.md">h</A>',
                  page="blog/post")

    assert out.html == ('<IMG SRC=../../images/aws.png width="1" height="1" loading="lazy" decoding="async">'
                        '<A HREF = "../../">h</A>')


def test_srcset_urls_are_rewritten_and_must_exist(world):
    out = rewrite(world, '<img srcset="../images/aws.png 1x, /media/x.jpg 2x">', page="blog/post")

    assert out.html == '<img srcset="../../images/aws.png 1x, ../../media/x.jpg 2x">'
    assert sorted(a.target for a in out.assets) == ["images/aws.png", "media/x.jpg"]
    assert any("'gone.png'" in w for w in rewrite(world, '<img srcset="gone.png 2x">').warnings)


# --- relative_url --------------------------------------------------------------------------

@pytest.mark.parametrize("target, from_slug, expected", [
    ("", "aws", "../"),
    ("", "", "./"),
    ("images/a.png", "", "images/a.png"),
    ("images/a.png", "aws", "../images/a.png"),
    ("projects/x/", "blog/y", "../../projects/x/"),
    ("aws/", "aws", "./"),
    ("blog/", "", "blog/"),
    ("blog/post/", "blog", "post/"),
    ("aws/fig.png", "aws", "fig.png"),
])
def test_relative_url(target, from_slug, expected):
    assert relative_url(target, from_slug) == expected


_SEGMENT = st.sampled_from(["a", "b", "blog", "café", "x y", "fig.png", "index.html"])


@given(target=st.lists(_SEGMENT, max_size=4), slash=st.booleans(),
       here=st.lists(_SEGMENT, max_size=4))
def test_relative_url_is_posix_relpath_quoted(target, slash, here):
    """String work gives what posixpath.relpath gives, for every clean pair of paths."""
    import posixpath
    from urllib.parse import quote

    to, from_slug = "/".join(target) + ("/" if slash and target else ""), "/".join(here)
    rel = posixpath.relpath(to.rstrip("/") or ".", from_slug or ".")
    trailing = "/" if to.endswith("/") or to == "" else ""
    assert relative_url(to, from_slug) == ("./" if rel == "." else quote(rel) + trailing)


# --- every place looked at is watched (review 8, bug 1) --------------------------------------

def watched_by_a_build(config, out):
    """The page's watch patterns recorded as the writer records them (`deps.glob`)."""
    from pipeline.build.deps import Recorder

    deps = Recorder(config.root)
    for folder, pattern in out.watch:
        deps.glob(folder, pattern)
    return deps.refs


def test_a_missing_site_absolute_image_names_and_watches_every_place_looked_at(world):
    from pipeline.build.deps import changed_ref

    _, _, config = world
    out = rewrite(world, '<img src="/images/pic.png">')

    [warning] = out.warnings
    assert "not at content/images/pic.png, static/images/pic.png or images/pic.png" in warning
    root = config.root.resolve()
    assert set(out.watch) == {(root / "content/images", "pic.png"),
                              (root / "static/images", "pic.png"), (root / "images", "pic.png")}
    refs = watched_by_a_build(config, out)
    for place in ("content/images/pic.png", "static/images/pic.png", "images/pic.png"):
        (config.root / place).parent.mkdir(parents=True, exist_ok=True)
        (config.root / place).write_bytes(PNG_1PX)        # any of them coming is a change
        assert changed_ref(config.root, refs), place
        (config.root / place).unlink()
        assert changed_ref(config.root, refs) is None


def test_a_missing_image_of_any_format_is_watched_as_a_pattern(world):
    from pipeline.build.deps import changed_ref

    _, _, config = world
    out = rewrite(world, '<img src="fig[1].*">')

    assert "(not at content/experiences/fig[1].*)" in out.warnings[0]
    assert out.watch == ((config.content.resolve() / "experiences", "fig[[]1].*"),)
    refs = watched_by_a_build(config, out)
    (config.content / "experiences" / "fig[1].webp").write_bytes(b"webp")
    assert changed_ref(config.root, refs)


def test_the_places_before_the_file_found_and_better_formats_are_watched(world, site):
    _, _, config = world
    site.file("images/root.png", PNG_1PX)                # Jekyll's images/, at the site root
    site.file("content/experiences/fig.jpg", b"jpg")
    root = config.root.resolve()

    out = rewrite(world, '<img src="/images/root.png"><img src="fig.*">')

    assert [a.target for a in out.assets] == ["images/root.png", "experiences/fig.jpg"]
    assert set(out.watch) == {(root / "content/images", "root.png"),    # it would win
                              (root / "static/images", "root.png"),
                              (root / "content/experiences", "fig.*")}  # a .svg would win
    assert not out.warnings


def test_a_missing_image_shown_four_times_is_said_once(world):
    out = rewrite(world, '<img src="gone.png">' * 4 + '<a href="nope.md">x</a>')

    assert len(out.warnings) == 5       # one a reference: `nbpress check` gives each its line
    [image, link] = out.said
    assert "'gone.png'" in image and "(4 times on the page)" in image
    assert "'nope.md'" in link and "times" not in link


def test_a_file_found_again_from_the_same_folder_is_watched_and_published_for_each_page(world):
    """The resolver remembers a file found from a folder: a second page there still gets the
    asset and watches every place looked at before it (a better file coming rebuilds both)."""
    resolver, pages, config = world
    config.root.joinpath("images").mkdir()
    config.root.joinpath("images/pic.png").write_bytes(PNG_1PX)
    (config.content / "experiences/gcp.md").write_text("---\ntitle: GCP\n---\n", encoding="utf-8")
    sibling = read(config, "experiences/gcp.md")
    first = rewrite(world, '<img src="/images/pic.png">')
    again = resolver.rewrite(sibling, '<img src="/images/pic.png">')
    other = rewrite(world, '<img src="/images/pic.png">', page="blog/post")

    for out in (first, again, other):
        assert [a.target for a in out.assets] == ["images/pic.png"]
        assert not out.warnings
        assert set(out.watch) == {(config.root.resolve() / "content/images", "pic.png"),
                                  (config.root.resolve() / "static/images", "pic.png")}
        assert 'images/pic.png" width="1" height="1"' in out.html
