"""Images: sizes read from headers, resized copies made once and kept in the cache folder
(render/images.py), and the attributes an `<img>` gains when its page is rewritten
(render/links.py), checked with an HTML parser."""
from __future__ import annotations

import io
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from pipeline.model import Source
from pipeline.render import images
from pipeline.render.images import COLUMN, ImageFiles, size_of, size_of_data, svg_size, variants
from pipeline.render.links import LinkResolver
from pipeline.sources.frontmatter import read_source


def picture(path: Path, size: tuple[int, int], fmt: str = "JPEG", orientation: int = 1,
            **options) -> Path:
    """A real image file made with Pillow (a gradient, so it is not all one colour)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB" if fmt == "JPEG" else "RGBA")
    if orientation != 1:
        exif = Image.Exif()
        exif[images.ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt, **options)
    return path


def pixels(path: Path) -> tuple[str, tuple[int, int]]:
    with Image.open(path) as image:
        return image.format, image.size


# --- sizes ----------------------------------------------------------------------------------

def test_sizes_of_png_and_jpeg(tmp_path):
    assert size_of(picture(tmp_path / "a.png", (300, 200), "PNG")) == (300, 200)
    assert size_of(picture(tmp_path / "b.jpg", (2400, 1600))) == (2400, 1600)


def test_a_jpeg_turned_by_its_exif_orientation_has_its_sides_swapped(tmp_path):
    assert size_of(picture(tmp_path / "turned.jpg", (2400, 1600), orientation=6)) == (1600, 2400)
    assert size_of(picture(tmp_path / "upside.jpg", (2400, 1600), orientation=3)) == (2400, 1600)


def test_the_size_comes_from_the_header_alone(tmp_path):
    whole = picture(tmp_path / "whole.jpg", (2400, 1600)).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[:len(whole) // 4])        # pixels missing: decoding would fail

    assert size_of(cut) == (2400, 1600)


@pytest.mark.parametrize("content", [b"", b"jpg", b"\x89PNG\r\n\x1a\n broken", b"%PDF-1.4"])
def test_broken_and_unknown_files_have_no_size(tmp_path, content):
    path = tmp_path / "x.jpg"
    path.write_bytes(content)

    assert size_of(path) is None
    assert size_of_data(content) is None


def test_a_missing_file_has_no_size(tmp_path):
    assert size_of(tmp_path / "nope.png") is None


@pytest.mark.parametrize("root, size", [
    ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">', (120, 80)),
    ("<svg width='120px' height='80.4px' xmlns='http://www.w3.org/2000/svg'>", (120, 80)),
    ('<svg viewBox="0 0 300 150">', (300, 150)),
    ('<svg viewBox="0,0,300,150" width="600">', (600, 300)),
    ('<svg height="50" viewBox="0 0 300 150">', (100, 50)),
    ('<svg width="100%" height="10em">', None),
    ('<svg width="100%" viewBox="0 0 0 0">', None),
    ("<svg>", None),
])
def test_svg_sizes_from_width_height_and_viewbox(tmp_path, root, size):
    path = tmp_path / "a.svg"
    path.write_text(f'<?xml version="1.0"?>\n<!-- <svg width="1" height="1"> -->\n{root}</svg>')

    assert svg_size(root.encode() + b"</svg>") == size
    assert size_of(path) == size                    # the root, not a tag in a comment


def test_an_svg_file_and_svg_bytes(tmp_path):
    path = tmp_path / "a.svg"
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                    'width="64" height="32"><rect width="64" height="32"/></svg>')

    assert size_of(path) == (64, 32)
    assert size_of_data(path.read_bytes()) == (64, 32)


def test_sizes_of_bytes_in_memory(tmp_path):
    data = picture(tmp_path / "fig.png", (640, 480), "PNG").read_bytes()

    assert size_of_data(data) == (640, 480)


# --- resized copies -------------------------------------------------------------------------

def test_copies_are_made_at_each_width_smaller_than_the_image(tmp_path):
    source = picture(tmp_path / "big.jpg", (2400, 1600))

    made = variants(source, (928, 1856, 2400, 4000), tmp_path / "cache")

    assert [w for _, w in made] == [928, 1856]                  # never larger than the image
    assert [pixels(p) for p, _ in made] == [("JPEG", (928, 619)), ("JPEG", (1856, 1237))]
    assert all(p.parent == tmp_path / "cache" for p, _ in made)
    assert all(p.name.endswith(f"-{w}.jpg") for p, w in made)


def test_a_png_stays_a_png_with_its_transparency(tmp_path):
    source = picture(tmp_path / "wide.png", (2000, 400), "PNG")

    [(copy, width)] = variants(source, (928,), tmp_path / "cache")

    with Image.open(copy) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (928, 186), "RGBA")


def test_a_copy_is_turned_as_its_exif_orientation_says(tmp_path):
    source = picture(tmp_path / "turned.jpg", (2400, 1600), orientation=6)

    [(copy, width)] = variants(source, images.variant_widths(size_of(source)[0]),
                               tmp_path / "cache")

    assert (width, pixels(copy)) == (928, ("JPEG", (928, 1392)))     # portrait, as shown


def test_copies_are_reused_not_made_again(tmp_path):
    source = picture(tmp_path / "big.jpg", (2400, 1600))
    cache = tmp_path / "cache"
    first = variants(source, (928, 1856), cache)
    stamps = {p: p.stat().st_mtime_ns for p, _ in first}

    again = variants(source, (928, 1856), cache)

    assert again == first
    assert {p: p.stat().st_mtime_ns for p, _ in again} == stamps
    assert sorted(os.listdir(cache)) == sorted(p.name for p in stamps)   # no temporary files


def test_copies_are_named_by_content_so_a_changed_image_gets_new_ones(tmp_path):
    source = picture(tmp_path / "big.jpg", (2400, 1600))
    [(first, _)] = variants(source, (928,), tmp_path / "cache")
    picture(source, (2000, 1000))

    [(second, _)] = variants(source, (928,), tmp_path / "cache")

    assert second != first and pixels(second) == ("JPEG", (928, 464))


def test_a_copy_missing_from_the_cache_is_made_again(tmp_path):
    source = picture(tmp_path / "big.jpg", (2400, 1600))
    [(copy, _)] = variants(source, (928,), tmp_path / "cache")
    copy.unlink()

    assert variants(source, (928,), tmp_path / "cache") == [(copy, 928)] and copy.is_file()


def test_no_copies_of_svg_animated_gif_or_broken_files(tmp_path):
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="1000"/>')
    frames = [Image.new("P", (2000, 1000), i) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")

    for name in ("a.svg", "anim.gif", "broken.jpg", "missing.png"):
        assert variants(tmp_path / name, (928,), tmp_path / "cache") == []
    assert not any((tmp_path / "cache").glob("*"))


def test_a_still_gif_is_resized_as_a_gif(tmp_path):
    Image.new("P", (2000, 1000), 3).save(tmp_path / "still.gif")

    [(copy, _)] = variants(tmp_path / "still.gif", (928,), tmp_path / "cache")

    assert pixels(copy) == ("GIF", (928, 464))


def test_widths_worth_making(tmp_path):
    assert images.variant_widths(COLUMN) == ()
    assert images.variant_widths(COLUMN + 1) == (COLUMN,)
    assert images.variant_widths(2400) == (COLUMN, 2 * COLUMN)


# --- the attributes of <img> ------------------------------------------------------------------

class Imgs(HTMLParser):
    """The attributes of every <img>, as a browser reads them."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[dict[str, str | None]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.found.append(dict(attrs))


@pytest.fixture
def photos(site):
    """A page beside a big JPEG and a small PNG, and the resolver of its site."""
    picture(site.root / "content/blog/big.jpg", (2400, 1600))
    picture(site.root / "content/blog/small.png", (300, 200), "PNG")
    site.page("blog/post.md", "---\ntitle: Post\n---\n")
    config = site.config()
    page = read_source(Source(config.content / "blog/post.md", "blog/post", "md"))
    return LinkResolver(config, [page], set()), page, site


def test_an_image_gains_its_size_lazy_loading_and_async_decoding(photos):
    resolver, page, _ = photos

    out = resolver.rewrite(page, '<p><img src="small.png" alt="s"></p>')

    [img] = Imgs(out.html).found
    assert img == {"src": "../small.png", "alt": "s", "width": "300", "height": "200",
                   "loading": "lazy", "decoding": "async"}
    assert "srcset" not in img                                  # no wider than the column


def test_a_wide_image_gets_a_srcset_of_copies_published_beside_it(photos):
    resolver, page, site = photos

    out = resolver.rewrite(page, '<img src="big.jpg" alt="b">')

    [img] = Imgs(out.html).found
    assert (img["width"], img["height"]) == ("2400", "1600")
    copies = {a.target: a for a in out.assets if a.derived}
    key = next(iter(copies.values())).source.stem.rsplit("-", 1)[0][:10]   # by its content
    assert img["srcset"] == (f"../big-928-{key}.jpg 928w, ../big-1856-{key}.jpg 1856w, "
                             "../big.jpg 2400w")
    assert img["sizes"] == images.SIZES
    assert sorted(copies) == [f"blog/big-1856-{key}.jpg", f"blog/big-928-{key}.jpg"]
    cache = site.root / ".nbpress-cache" / "images"
    assert all(a.source.parent == cache for a in copies.values())
    assert pixels(copies[f"blog/big-928-{key}.jpg"].source) == ("JPEG", (928, 619))
    assert [a.target for a in out.assets if not a.derived] == ["blog/big.jpg"]


def test_what_the_author_set_is_kept(photos):
    resolver, page, _ = photos
    html = ('<img width="100" src="big.jpg"><img src="small.png" HEIGHT=20 loading="eager">'
            '<img src="big.jpg" srcset="small.png 2x" decoding="sync">')

    first, second, third = Imgs(resolver.rewrite(page, html).html).found

    assert first["width"] == "100" and "height" not in first      # one set: both as written
    assert first["loading"] == "lazy" and "srcset" in first
    assert second == {"src": "../small.png", "height": "20", "loading": "eager",
                      "decoding": "async"}
    assert third["srcset"] == "../small.png 2x" and "sizes" not in third
    assert third["decoding"] == "sync" and third["width"] == "2400"


def test_images_in_code_are_never_touched(photos):
    resolver, page, _ = photos
    html = '<pre><img src="big.jpg"></pre><code><img src="small.png"></code>'

    assert resolver.rewrite(page, html).html == html


def test_the_rest_of_the_html_keeps_its_bytes(photos):
    resolver, page, _ = photos
    html = "<IMG SRC=small.png ALT='it&#39;s'/>\n<a href=big.jpg>b</a>"

    out = resolver.rewrite(page, html)

    assert out.html == ("<IMG SRC=../small.png width=\"300\" height=\"200\" loading=\"lazy\" "
                        "decoding=\"async\" ALT='it&#39;s'/>\n<a href=../big.jpg>b</a>")


def test_a_srcset_is_escaped_in_its_attribute(photos):
    resolver, page, site = photos
    picture(site.root / "content/blog/R&D \"1\".jpg", (1000, 500))

    out = resolver.rewrite(page, '<img src="R&amp;D%20%221%22.jpg?v=1&amp;w=2">')

    [img] = Imgs(out.html).found
    (copy,) = [a for a in out.assets if a.derived]
    key = copy.source.stem.rsplit("-", 1)[0][:10]
    assert img["srcset"] == (f"../R%26D%20%221%22-928-{key}.jpg 928w, "
                             "../R%26D%20%221%22.jpg?v=1&w=2 1000w")
    assert (f'srcset="../R%26D%20%221%22-928-{key}.jpg 928w, ../R%26D%20%221%22.jpg?v=1&amp;w=2 '
            '1000w"') in out.html


def test_figures_the_page_drew_get_their_size_from_their_bytes(photos, tmp_path):
    resolver, page, _ = photos
    figure = picture(tmp_path / "f.png", (640, 480), "PNG").read_bytes()
    html = '<img src="output_1_0.png"><img src="output_2_0.svg">'

    png, svg = Imgs(resolver.rewrite(page, html, {"output_1_0.png": figure,
                                                  "output_2_0.svg": b"<svg/>"}).html).found

    assert (png["width"], png["height"], png["loading"]) == ("640", "480", "lazy")
    assert "width" not in svg and svg["loading"] == "lazy"
    [named_only] = Imgs(resolver.rewrite(page, '<img src="output_1_0.png">',
                                         {"output_1_0.png"}).html).found
    assert named_only == {"src": "output_1_0.png", "loading": "lazy", "decoding": "async"}


def test_an_svg_or_broken_image_gets_lazy_loading_only(photos):
    resolver, page, site = photos
    site.file("content/blog/logo.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="9" '
                                       'height="9"/>')
    site.file("content/blog/broken.png", b"not a png")

    found = Imgs(resolver.rewrite(page, '<img src="logo.svg"><img src="broken.png">').html).found

    assert [sorted(img) for img in found] == [["decoding", "loading", "src"]] * 2


def test_an_image_shared_by_a_hundred_pages_is_opened_once(site, monkeypatch):
    picture(site.root / "content/images/shared.jpg", (2400, 1600))
    for n in range(100):
        site.page(f"p{n}.md", f"---\ntitle: P{n}\n---\n")
    config = site.config()
    pages = [read_source(Source(config.content / f"p{n}.md", f"p{n}", "md")) for n in range(100)]
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda fp, *a, **k: opened.append(fp) or real_open(fp, *a, **k))

    resolver = LinkResolver(config, pages, set())
    for page in pages:
        resolver.rewrite(page, '<img src="/images/shared.jpg">')
    first = len(opened)
    next_build = LinkResolver(config, pages, set())
    for page in pages:
        next_build.rewrite(page, '<img src="/images/shared.jpg">')

    assert first == 2                   # its size, then the pixels for its copies
    assert len(opened) - first == 1     # the next build: its size; the copies are there


def test_a_resolver_that_only_checks_makes_no_copies(photos):
    _, page, site = photos
    checker = LinkResolver(site.config(), [page], set(), resize=False)

    [img] = Imgs(checker.rewrite(page, '<img src="big.jpg">').html).found

    assert img["width"] == "2400" and "srcset" not in img
    assert not (site.root / ".nbpress-cache" / "images").exists()


def test_image_files_read_a_size_once_until_the_file_changes(tmp_path):
    path = picture(tmp_path / "a.png", (10, 10), "PNG")
    files = ImageFiles(None)
    assert files.raster_size(path) == (10, 10)
    picture(path, (20, 10), "PNG")

    assert files.raster_size(path) == (20, 10)
    assert files.copies(path, 2000) == []           # no cache folder: no copies


def test_bytes_of_a_file_are_read_from_memory_too(tmp_path):
    data = io.BytesIO()
    Image.new("RGB", (33, 44)).save(data, "WEBP")

    assert size_of_data(data.getvalue()) == (33, 44)
