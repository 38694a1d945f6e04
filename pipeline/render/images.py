"""Image files a page shows: their size, read from the header, and copies resized to the width
of the content column, for `srcset` (the only Pillow user: PIL is imported inside the
functions that use it).

A size is what a browser shows: a JPEG whose EXIF orientation turns it a quarter has its width
and height swapped. A copy keeps its image's format (a PNG stays a PNG, a JPEG is saved at
quality 85), is turned as its orientation says, is never larger than its image, and lives in
the cache folder, named by its image's content, `<hash>-<width>.<ext>`: made once, by the
first build that needs it, and found there by every later one. Nothing here raises for a file
that is broken or of a kind it does not know: there is no size, or no copy.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import secrets
from pathlib import Path
from typing import Iterable

# The content column in CSS px: site.css `.site-main` is `max-width: 60rem` with a 1rem
# padding a side, and every box is `border-box`: 58rem, at 16 px a rem.
COLUMN = 928
SIZES = f"(max-width: 960px) calc(100vw - 2rem), {COLUMN}px"    # `sizes` of a resized image
WIDTHS = (COLUMN, 2 * COLUMN)       # the copies made of an image wider than the column
QUALITY = 85
RECIPE = b"nbpress-images-1"        # how copies are made: in their names, change it to remake
CACHE_FOLDER = "images"             # in the site's cache folder
RESIZED = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF"})     # formats copies are made of
# What `<img>` shows in browsers: only these are tried (Pillow's other forty plugins cost
# 50 ms to load, for a file that is none of them).
SHOWN = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP", "ICO")
PLUGINS = ("JpegImagePlugin", "PngImagePlugin", "GifImagePlugin", "WebPImagePlugin",
           "AvifImagePlugin", "BmpImagePlugin", "IcoImagePlugin")
ORIENTATION = 0x0112                # the EXIF tag
TURNED = frozenset({5, 6, 7, 8})    # orientations that swap width and height
SVG_HEAD = 256 * 1024               # an SVG's root tag is looked for in its first bytes
_SVG_ROOT = re.compile(rb"<svg\b([^>]*)>", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)
_XML_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LENGTH = re.compile(rb"\s*([0-9]*\.?[0-9]+)\s*(?:px)?\s*")


class ImageFiles:
    """What one build knows of the image files its pages show: each one's size read once,
    its copies found or made once (in each worker process: its pages share them). A file
    that changes meanwhile is read again. `cache`: where copies go; None: none are made."""

    def __init__(self, cache: Path | None):
        self.cache = cache
        self._sizes: dict[tuple, tuple[int, int] | None] = {}
        self._copies: dict[tuple, list[tuple[Path, int]]] = {}

    def raster_size(self, path: Path) -> tuple[int, int] | None:
        """`size_of` a file of pixels. None for an SVG: one that gives no size of its own
        fills the width it has, which a size read from its viewBox would change."""
        if _is_svg(path.name):
            return None
        key = _stamp(path)
        if key not in self._sizes:
            self._sizes[key] = size_of(path)
        return self._sizes[key]

    @staticmethod
    def figure_size(name: str, data: bytes | None) -> tuple[int, int] | None:
        """`raster_size` of a figure the page's code drew, held in memory as `data`."""
        return None if data is None or _is_svg(name) else size_of_data(data)

    def copies(self, path: Path, width: int) -> list[tuple[Path, int]]:
        """The `variants` worth having of an image `width` px wide."""
        if self.cache is None:
            return []
        key = _stamp(path)
        if key not in self._copies:
            self._copies[key] = variants(path, variant_widths(width), self.cache)
        return self._copies[key]


def size_of(path: Path) -> tuple[int, int] | None:
    """(width, height) of the image at `path` as a browser shows it, from its header (the
    pixels are not decoded); an SVG's from its root's `width`/`height`/`viewBox`. None for a
    file that is broken, missing or not an image, or an SVG without a size in pixels."""
    if path.suffix.lower() == ".svg":
        try:
            with open(path, "rb") as f:
                return svg_size(f.read(SVG_HEAD))
        except OSError:
            return None
    return _raster_size(path)


def size_of_data(data: bytes) -> tuple[int, int] | None:
    """`size_of` for an image held in memory (a figure a notebook's code drew)."""
    if data[:512].lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg\n", b"<svg\t", b"<svg>"):
        return svg_size(data[:SVG_HEAD])
    return _raster_size(io.BytesIO(data))


def svg_size(head: bytes) -> tuple[int, int] | None:
    """An SVG's size from its root tag: `width` and `height` when both are numbers (or px),
    the one missing from the `viewBox`'s proportions, both from the `viewBox` without them."""
    root = _SVG_ROOT.search(_COMMENT.sub(b"", head))
    if root is None:
        return None
    attributes = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _XML_ATTRIBUTE.finditer(root.group(1))}
    width, height = _length(attributes.get(b"width")), _length(attributes.get(b"height"))
    box = _view_box(attributes.get(b"viewbox"))
    if width is None and height is None and box is not None:
        width, height = box
    elif box is not None and width is None:
        width = height * box[0] / box[1]
    elif box is not None and height is None:
        height = width * box[1] / box[0]
    if width is None or height is None or round(width) < 1 or round(height) < 1:
        return None
    return round(width), round(height)


def variant_widths(width: int) -> tuple[int, ...]:
    """The widths of the copies worth making of an image `width` px wide: the column's and
    twice it, those smaller than the image."""
    return tuple(w for w in WIDTHS if w < width)


def variants(path: Path, widths: Iterable[int], cache: Path) -> list[tuple[Path, int]]:
    """Copies of the image at `path` at each of `widths` smaller than the image, as
    (file in the `cache` folder, width), made when missing (each written in one step, so two
    workers making one never leave half of it). None of an SVG, an animated image, a format
    browsers do not share, or a file that cannot be read: []."""
    if path.suffix.lower() == ".svg":
        return []
    try:
        data = path.read_bytes()
    except OSError:
        return []
    key = hashlib.sha256(RECIPE + data).hexdigest()[:20]
    named = {w: cache / f"{key}-{w}{path.suffix.lower()}" for w in sorted(set(widths))}
    missing = {w: target for w, target in named.items() if not target.is_file()}
    made = _make(data, missing, cache) if missing else {}
    return [(target, w) for w, target in named.items() if w not in missing or w in made]


def _raster_size(source) -> tuple[int, int] | None:
    try:
        with _open(source) as image:
            return _shown_size(image)
    except Exception:       # Pillow raises many kinds for a file it cannot read: no size
        return None


def _open(source):
    """The image's header read (`Image.open` decodes nothing until asked) by the plugins of
    the formats browsers show."""
    from PIL import Image

    return Image.open(source, formats=_shown_formats())


@functools.cache
def _shown_formats() -> tuple[str, ...]:
    """The formats of SHOWN this Pillow reads, their plugins imported (once a process)."""
    import importlib

    from PIL import Image

    for name in PLUGINS:
        try:
            importlib.import_module(f"PIL.{name}")
        except ImportError:         # a Pillow without it (AVIF before 11.3)
            pass
    return tuple(f for f in SHOWN if f in Image.OPEN)


def _shown_size(image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if _orientation(image) in TURNED else (width, height)


def _orientation(image) -> int:
    """The EXIF orientation, from the header. A PNG's `getexif` decodes the whole image to
    look for an eXIf chunk after the pixels: only one before them counts here."""
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        return int(image.getexif().get(ORIENTATION, 1))
    except Exception:       # a damaged EXIF block: shown as stored
        return 1


def _make(data: bytes, targets: dict[int, Path], cache: Path) -> dict[int, Path]:
    """Decode the image once and write a copy at each width of `targets` smaller than it."""
    try:
        from PIL import Image, ImageOps

        image = _open(io.BytesIO(data))
        fmt = image.format
        if fmt not in RESIZED or (fmt != "MPO" and getattr(image, "is_animated", False)):
            return {}
        width, height = _shown_size(image)
        widths = [w for w in targets if 0 < w < width]
        if not widths:
            return {}
        if fmt in ("JPEG", "MPO"):      # decode at a fraction of the size, when it is enough
            turned = _orientation(image) in TURNED
            big = (max(widths), round(height * max(widths) / width))
            image.draft(image.mode, big[::-1] if turned else big)
        image = _resizable(ImageOps.exif_transpose(image))
        cache.mkdir(parents=True, exist_ok=True)
        made = {}
        for w in widths:
            copy = image.resize((w, max(1, round(height * w / width))), Image.Resampling.LANCZOS)
            made[w] = _save(copy, fmt, targets[w], image.info)
        return made
    except Exception:       # a file Pillow cannot decode, a full disk: no copies, no srcset
        return {}


def _resizable(image):
    """Palette and bilevel images are resized in full colour (Pillow resizes a palette image
    by its nearest pixel)."""
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def _save(image, fmt: str, target: Path, info: dict) -> Path:
    """Write `image` at `target` in one step: a temporary file beside it, then a rename."""
    options: dict = {"icc_profile": info["icc_profile"]} if info.get("icc_profile") else {}
    if fmt in ("JPEG", "MPO"):
        fmt, options = "JPEG", {**options, "quality": QUALITY, "progressive": True,
                                "optimize": True}
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
    elif fmt == "WEBP":
        options["quality"] = QUALITY
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:      # the umask's permissions, as any file the site copies
            image.save(f, format=fmt, **options)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _is_svg(name: str) -> bool:
    return name.lower().endswith((".svg", ".svgz"))


def _stamp(path: Path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return (str(path),)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def _length(value: bytes | None) -> float | None:
    match = _LENGTH.fullmatch(value) if value is not None else None
    return float(match.group(1)) if match else None


def _view_box(value: bytes | None) -> tuple[float, float] | None:
    parts = value.replace(b",", b" ").split() if value else []
    try:
        width, height = float(parts[2]), float(parts[3])
    except (IndexError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None
