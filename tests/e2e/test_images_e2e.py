"""Images in a real build: `<img>`s gain their size, lazy loading and, when wider than the
content column, a srcset of resized copies published beside them and kept in the cache
folder, where the next build finds them."""
from __future__ import annotations

import re

from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from pipeline.model import Outcome
from pipeline.render.images import SIZES

PHOTOS = """\
---
title: "Photos"
---

A big one:

![A big photo](images/big.jpg)

and a small one: ![small](images/small.png)

<img src="images/big.jpg" width="100" alt="thumb">

```html
<img src="images/big.jpg">
```
"""

FIGURE = """\
---
title: "Figure"
---

```python
from IPython.display import Image
Image(filename="chart.png")
```
"""


class Imgs(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.found.append(dict(attrs))


def picture(path: Path, size: tuple[int, int], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.linear_gradient("L").resize(size).convert("RGB").save(path, format=fmt)


def imgs(site, slug: str) -> list[dict[str, str | None]]:
    html = (site.root / "output" / slug / "index.html").read_text(encoding="utf-8")
    return Imgs(html).found


def cache_listing(site) -> dict[str, int]:
    folder = site.root / ".nbpress-cache" / "images"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.fixture
def photos(site):
    picture(site.root / "content/images/big.jpg", (2400, 1600), "JPEG")
    picture(site.root / "content/images/small.png", (300, 200), "PNG")
    site.page("photos.md", PHOTOS)
    report = site.build()
    assert report.ok, [r.error for r in report.results]
    return site


def test_images_get_their_size_lazy_loading_and_a_srcset_when_wide(photos):
    big, small, thumb = imgs(photos, "photos")

    assert (big["width"], big["height"], big["loading"], big["decoding"]) == (
        "2400", "1600", "lazy", "async")
    assert big["sizes"] == SIZES
    candidates = [c.split() for c in big["srcset"].split(", ")]
    assert [w for _, w in candidates] == ["928w", "1856w", "2400w"]
    assert re.fullmatch(r"\.\./images/big-928-[0-9a-f]{10}\.jpg", candidates[0][0]), candidates
    assert re.fullmatch(r"\.\./images/big-1856-[0-9a-f]{10}\.jpg", candidates[1][0]), candidates
    assert candidates[2][0] == "../images/big.jpg"
    for url, width in candidates:
        with Image.open(photos.root / "output/photos" / url) as copy:
            assert copy.width == int(width[:-1])
    assert (small["width"], small["height"], small["loading"]) == ("300", "200", "lazy")
    assert "srcset" not in small
    assert thumb["width"] == "100" and "height" not in thumb       # the author's, as written
    assert thumb["alt"] == "thumb"


def test_an_image_shown_in_code_is_shown_as_written(photos):
    html = (photos.root / "output/photos/index.html").read_text(encoding="utf-8")

    assert html.count("loading=") == 3                              # the three real images
    assert '<span class="nt">img</span> <span class="na">src</span><span class="o">=</span>' \
           '<span class="s">"images/big.jpg"</span><span class="p">&gt;</span>' in html


def test_a_rebuild_reuses_the_resized_copies(photos):
    before = cache_listing(photos)
    assert sorted(before) == sorted(n for n in before if n.endswith(("-928.jpg", "-1856.jpg")))
    assert len(before) == 2
    page = photos.root / "content/photos.md"
    page.write_text(PHOTOS + "\nOne more line.\n", encoding="utf-8")

    report = photos.build()

    assert [r.outcome for r in report.results] == [Outcome.BUILT]
    assert cache_listing(photos) == before                          # found, not made again
    big = imgs(photos, "photos")[0]
    assert all((photos.root / "output/photos" / c.split()[0]).is_file()
               for c in big["srcset"].split(", "))


def test_the_copies_are_not_what_the_page_depends_on(photos):
    for copy in (photos.root / ".nbpress-cache" / "images").iterdir():
        copy.unlink()                   # a cleaned cache: the published copies are still good

    report = photos.build()

    assert [r.outcome for r in report.results] == [Outcome.UNCHANGED]
    assert list((photos.root / "output/images").glob("big-928-*.jpg"))


def test_a_changed_image_gets_new_copies(photos):
    picture(photos.root / "content/images/big.jpg", (2000, 1000), "JPEG")

    report = photos.build()

    assert [r.outcome for r in report.results] == [Outcome.BUILT]
    big = imgs(photos, "photos")[0]
    assert (big["width"], big["height"]) == ("2000", "1000")
    (copy_path,) = (photos.root / "output/images").glob("big-928-*.jpg")   # the old one gone
    with Image.open(copy_path) as copy:
        assert copy.size == (928, 464)


def test_a_figure_drawn_by_code_gets_its_size_and_lazy_loading(site):
    picture(site.root / "content/chart.png", (640, 480), "PNG")
    site.page("figure.md", FIGURE)

    report = site.build()

    assert report.ok, report.results[0].error
    [figure] = imgs(site, "figure")
    assert figure["src"].endswith(".png") and not figure["src"].startswith("data:")
    assert (figure["width"], figure["height"]) == ("640", "480")
    assert figure["loading"] == "lazy"
