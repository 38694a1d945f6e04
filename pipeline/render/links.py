"""Links and files a page refers to: resolved, checked, and rewritten for the output.

Relative references resolve against the page's own folder; site-absolute ones (`/media/x.jpg`)
against the content folder, then the files of `static/` (published at the output root as they
are: such a reference is left as written), then the site's root folder. A reference must stay
inside the site's source folders. Each place looked at is watched (`Rewritten.watch`).

An `<img>` of a file the site has (or the page's code drew) gains what the author did not
write: its `width` and `height` (read once a build, from the file's header), `loading="lazy"`
and `decoding="async"`; one wider than the content column, a `srcset` of copies resized to it
(`render/images.py`, cached between builds), published beside it.
"""
from __future__ import annotations

import glob
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Collection, Iterable, Mapping
from urllib.parse import quote, unquote, urlsplit

from pipeline.config import SiteConfig
from pipeline.errors import LinkError
from pipeline.files import Existing, cache_dir
from pipeline.model import Page
from pipeline.render import images
from pipeline.render.edits import each_url, edited
from pipeline.render.html import UrlAttr, attribute_value, url_attributes

LINK_ATTRIBUTES = frozenset({"href", "xlink:href"})    # the others show a file: it must exist
PAGE_SUFFIXES = (".md", ".ipynb")


@dataclass(frozen=True, slots=True)
class Asset:
    """A file to copy: `source` on disk to `target`, a posix path inside the output."""

    source: Path
    target: str
    derived: bool = False       # a resized copy of an image (in the cache folder), not a source


@dataclass(frozen=True, slots=True)
class Rewritten:
    html: str
    assets: tuple[Asset, ...]
    warnings: tuple[str, ...]
    pages: tuple[Path, ...] = ()       # sources of the pages it links to
    # watched: each place looked at where a file coming (or going) changes the page (one not
    # there yet, or used before the one found, a static/ one); `watch`: as (folder, glob)
    missing: tuple[Path, ...] = ()
    watch: tuple[tuple[Path, str], ...] = ()
    spelled: tuple[tuple[str, str], ...] = ()   # (a page link with a fragment, as written)

    @property
    def said(self) -> tuple[str, ...]:
        """The warnings as a build says them: each once, with how many times the page gave
        it (`warnings` has one a reference, in page order: `nbpress check` gives their lines)."""
        return tuple(w if n == 1 else f"{w} ({n} times on the page)"
                     for w, n in Counter(self.warnings).items())


def relative_url(target: str, from_slug: str) -> str:
    """A URL for output path `target` ("images/a.png", or a slug with a trailing "/"), from
    the page at `from_slug`. Both are clean output paths (no "." or ".." parts): string work,
    not `posixpath.relpath` (a listing of 100,000 pages asks this 200,000 times)."""
    trailing = "/" if target.endswith("/") or target == "" else ""
    to = [p for p in target.split("/") if p]
    here = [p for p in from_slug.split("/") if p]
    common = 0
    while common < min(len(to), len(here)) and to[common] == here[common]:
        common += 1
    parts = [".."] * (len(here) - common) + to[common:]
    if not parts:
        return "./"
    return quote("/".join(parts)) + trailing


class LinkResolver:
    """Knows the site's pages and source folders; resolves what one page refers to.

    A file the page shows (src: an image, a video) must exist inside the site, or the page
    fails; a link (href) that does not resolve is reported as a warning and left as written."""

    def __init__(self, config: SiteConfig, pages: list[Page], unpublished: set[Path],
                 kept: dict[Path, str] | None = None, resize: bool = True):
        """`kept`: pages that will not build (they could not be read, or failed last time
        unchanged) whose last good version stays published, with its slug: linked to there.
        `resize`: make the resized copies of wide images (not when only checking)."""
        self.roots = (config.content.resolve(), config.notebooks.resolve())
        self.content = self.roots[0]
        self.site = config.root.resolve()       # site-absolute refs may fall back to it
        self.static = config.static.resolve()
        self.private = (config.output.resolve(), (config.root / ".nbpress-cache").resolve(),
                        (config.root / ".git").resolve())
        self._pages, self._unpublished = pages, unpublished
        self._kept = {path.resolve(): slug for path, slug in (kept or {}).items()}
        self._by_path: dict[Path, Page] | None = None
        self._gone: set[Path] | None = None
        self.fs = Existing()        # one build's answers: many pages show the same image
        self._files: dict[tuple, tuple[Asset, tuple[Path, ...]]] = {}   # `_file`'s found
        self.images = images.ImageFiles(cache_dir(self.site) / images.CACHE_FOLDER
                                        if resize else None)

    @property
    def pages(self) -> dict[Path, Page]:
        """The published pages by resolved source path: made when a page first links to one
        (resolving every path costs a system call a page, which most builds never need)."""
        if self._by_path is None:
            self._by_path = {p.source.path.resolve(): p for p in self._pages}
        return self._by_path

    @property
    def unpublished(self) -> set[Path]:
        """Pages not published in this build (drafts, failures), resolved when first asked."""
        if self._gone is None:
            self._gone = {p.resolve() for p in self._unpublished}
        return self._gone

    def rewrite(self, page: Page, html: str,
                local: Collection[str] | Mapping[str, bytes] = frozenset(),
                raw_spans: tuple[tuple[int, int], ...] | None = None) -> Rewritten:
        """Rewrite every src/href/poster/srcset of `html` outside `<pre>` and `<code>`, and
        complete its images' attributes; `local`: files the page made (with their bytes: its
        figures' sizes are read); `raw_spans`: where the author's HTML is (`Exported`)."""
        found = _Found()
        changes = [(attr, self._attribute(page, attr, local, found))
                   for attr in url_attributes(html, raw_spans)]
        if found.problems:
            raise _unresolved(page, found.problems)
        added = [(attr.end, self._img(page, attr, url, shown, local, found))
                 for attr, url, shown in found.images]
        watched = sorted(found.watched)
        return Rewritten(edited(html, changes, added), tuple(found.assets.values()),
                         tuple(found.warnings), tuple(sorted(found.linked)), tuple(watched),
                         tuple((p.parent, _pattern(p.name)) for p in watched),
                         tuple(found.spelled.items()))

    def _attribute(self, page: Page, attr: UrlAttr, local: Collection[str],
                   found: _Found) -> str:
        """The new value of one attribute (unescaped). A link that does not resolve is a
        warning and stays as written; a file shown (src, poster, srcset) must exist."""
        if attr.tag == "img" and attr.name == "src":
            url, shown = self._shown(page, attr.value, local, found, found.problems)
            if shown is not None:
                found.images.append((attr, url, shown))
            return url
        if attr.name == "srcset":
            return each_url(attr.value,
                             lambda url: self._one(page, url, local, found, found.problems))
        if attr.name not in LINK_ATTRIBUTES:
            return self._one(page, attr.value, local, found, found.problems)
        unresolved: list[str] = []
        new = self._one(page, attr.value, local, found, unresolved)
        found.warnings.extend(f"{page.source.path}: {p} (the link is left as written)"
                              for p in unresolved)
        return new

    def slug_of(self, source: Path) -> str | None:
        """The slug of the page at `source`, or None when it is not published."""
        return self._slug_at(source.resolve())

    def _slug_at(self, path: Path) -> str | None:
        if path in self._kept:
            return self._kept[path]
        page = self.pages.get(path)
        return None if page is None else page.family.base if page.family else page.slug

    def asset(self, page: Page, ref: str) -> Asset:
        """One file reference (e.g. featuredImage) as an Asset, or a LinkError."""
        problems: list[str] = []
        found = self._file(page, ref, problems, None)
        if found is None:
            raise LinkError(problems[0], page.source.path, hint="correct the path or add the file")
        return found

    def _one(self, page: Page, url: str, local: Collection[str], found: _Found,
             problems: list[str]) -> str:
        """One URL rewritten for the output; what does not resolve goes to `problems`."""
        return self._shown(page, url, local, found, problems)[0]

    def _shown(self, page: Page, url: str, local: Collection[str], found: _Found,
               problems: list[str]) -> tuple[str, Asset | str | None]:
        """`_one`, and the file the URL shows: an Asset (where it is, where it is published),
        the name of a file the page produced, or None (a page, another site, nothing)."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:       # `http://[::1`: a typo in another site's address
            found.warnings.append(f"{page.source.path}: the link {url!r} is not a URL ({exc}): "
                                  "it is left as written (correct it)")
            return url, None
        if (parts.scheme or parts.netloc or not parts.path or url.startswith("#")
                or parts.path.endswith("/")):     # a URL of the site, not a file
            return url, None
        if parts.path in local:
            return url, parts.path
        suffix = ("?" + parts.query if parts.query else "") + (
            "#" + parts.fragment if parts.fragment else "")
        if parts.path.endswith(PAGE_SUFFIXES):
            target = self._page(page, parts.path, problems, found.warnings, found.linked)
            if target is None:
                return url, None
            shown = relative_url(target, page.slug) + suffix
            if parts.fragment:
                found.spelled.setdefault(shown, url)
            return shown, None
        static = self._static(parts.path)
        if static is not None:          # watched either way: the page is checked again
            found.watched.add(static)   # when the file comes or goes
            if self.fs.is_file(static):
                return url, Asset(static, static.relative_to(self.static).as_posix())
        asset = self._file(page, parts.path, problems, found, (static,) if static else ())
        if asset is None:
            return url, None
        found.assets[asset.target] = asset
        return relative_url(asset.target, page.slug) + suffix, asset

    def _static(self, ref: str) -> Path | None:
        """Where a site-absolute `ref` to no file of the content folder would be in static/
        (published as it is when not hidden, as `site/files.py:static_files` does), or None."""
        path = unquote(ref).lstrip("/")
        if not ref.startswith("/") or ref.endswith(".*") or self.fs.is_file(self.content / path):
            return None
        candidate = (self.static / path).resolve()
        if self.static not in candidate.parents or any(
                part.startswith(".") for part in candidate.relative_to(self.static).parts):
            return None
        return candidate

    # -- images ------------------------------------------------------------------------------

    def _img(self, page: Page, src: UrlAttr, url: str, shown: Asset | str,
             local: Collection[str], found: _Found) -> str:
        """The attributes an `<img>` showing `shown` gains (written, each with a leading space):
        its size unless the author gave a width or a height, a srcset of resized copies when
        it is wider than the column, lazy loading and async decoding unless set."""
        names = src.attributes
        if isinstance(shown, str):
            size = self.images.figure_size(
                shown, local.get(shown) if isinstance(local, Mapping) else None)
        else:
            size = self.images.raster_size(shown.source)
        added: list[tuple[str, str]] = []
        if size is not None and not names & {"width", "height"}:
            added += [("width", str(size[0])), ("height", str(size[1]))]
        if size is not None and size[0] > images.COLUMN and "srcset" not in names \
                and isinstance(shown, Asset):
            srcset = self._srcset(page, url, shown, size[0], found)
            added += [("srcset", srcset)] if srcset else []
            added += [("sizes", images.SIZES)] if srcset and "sizes" not in names else []
        added += [(n, v) for n, v in (("loading", "lazy"), ("decoding", "async"))
                  if n not in names]
        return "".join(f" {name}={attribute_value(value)}" for name, value in added)

    def _srcset(self, page: Page, url: str, image: Asset, width: int, found: _Found) -> str:
        """`image-928-<hash>.jpg 928w, ..., image.jpg <width>w`, the copies published beside
        the image (as assets), named by its content (no author's file has such a name, and
        a changed image gets new names); "" when there are none (the image cannot be
        resized) or the URL cannot stand in a srcset."""
        if any(c in url for c in " \t\n\r\f") or url.endswith(","):
            return ""
        candidates = []
        for copy, copy_width in self.images.copies(image.source, width):
            name = PurePosixPath(image.target)
            key = copy.stem.rsplit("-", 1)[0][:10]
            target = name.with_name(f"{name.stem}-{copy_width}-{key}{name.suffix}").as_posix()
            found.assets[target] = Asset(copy, target, derived=True)
            candidates.append(f"{relative_url(target, page.slug)} {copy_width}w")
        return ", ".join(candidates + [f"{url} {width}w"]) if candidates else ""

    def _locate(self, page: Page, ref: str, problems: list[str],
                tried: list[Path] | None = None) -> Path | None:
        """Where a reference points: relative ones from the page's folder, site-absolute
        ones (`/media/x.jpg`) from the content folder, or else from the site's root folder
        (where Jekyll and Gatsby sites keep `images/`); never outside the site. `tried` gets
        the places looked at before the one found (a file there would be used instead), or
        every place when none has it."""
        path = unquote(ref)
        places = [self.fs.resolve(page.source.path.parent / path)]
        if path.startswith("/"):
            places = [self.fs.resolve(self.content / path.lstrip("/")),
                      *filter(self._in_site, [self.fs.resolve(self.site / path.lstrip("/"))])]
        found = next((p for p in places if _at(p, self.fs)), None)
        candidate = found or places[0]
        if candidate == places[0] and not any(
                candidate == r or r in candidate.parents for r in self.roots):
            problems.append(f"{ref!r} points outside the site's content folder")
            return None
        if tried is not None:
            tried += places[:places.index(found)] if found else places
        return candidate

    def _in_site(self, path: Path) -> bool:
        return self.site in path.parents and not any(
            path == p or p in path.parents for p in self.private)

    def _file(self, page: Page, ref: str, problems: list[str], found: _Found | None,
              static: tuple[Path, ...] = ()) -> Asset | None:
        """The file `ref` shows. Not there: a problem when `found` is None (featuredImage:
        the page cannot be without it), else a warning (shown broken, as Quarto and Jupyter
        Book do) and each place looked at (and `static`, in static/) watched. A file found
        is found again from the same folder (the pages of a section share their images)."""
        key = (page.source.path.parent, ref, static)
        if key in self._files:
            asset, tried = self._files[key]
            if found is not None:
                found.watched.update(tried)
            return asset
        tried: list[Path] = []
        located = self._locate(page, ref, problems, tried)
        if located is None:
            return None
        candidate = located
        if located.name.endswith(".*"):     # Sphinx/MyST: "any format of this image"; a
            candidate = _at(located, self.fs) or located     # better one may come
            tried.append(located)
        if found is not None:
            found.watched.update(tried)
        if not self.fs.is_file(candidate):
            looked = dict.fromkeys([*tried[:1], *static, *tried[1:], located])
            gone = (f"{ref!r} refers to a file that does not exist "
                    f"(not at {self._named(looked)})")
            if found is None:
                problems.append(gone)
            else:
                found.warnings.append(f"{page.source.path}: {gone}: it is left as written (add "
                                      "the file or correct the path; `nbpress build --strict` "
                                      "fails on it)")
            return None
        root = next((r for r in self.roots if r in candidate.parents), self.site)
        target = candidate.relative_to(root).as_posix()
        twin = next((r / target for r in self.roots if r != root and self.fs.is_file(r / target)), None)
        if twin is not None and found is not None and twin.read_bytes() != candidate.read_bytes():
            found.warnings.append(f"{page.source.path}: {ref!r} and {self._named([twin])} both "
                                  f"publish to {target}: only one of them can be there; rename one")
        if twin is None:
            self._files[key] = (Asset(candidate, target), tuple(tried))
        return Asset(candidate, target)

    def _named(self, paths: Iterable[Path]) -> str:
        """Paths as the author sees them, from the site's root folder: "a, b or c"."""
        *rest, last = [p.relative_to(self.site).as_posix() if self.site in p.parents
                       else str(p) for p in paths]
        return f"{', '.join(rest)} or {last}" if rest else last

    def _page(self, page, ref, problems, warnings, linked) -> str | None:
        candidate = self._locate(page, ref, problems)
        if candidate is None:
            return None
        linked.add(candidate)
        slug = self._slug_at(candidate)
        if slug is not None:
            return f"{slug}/" if slug else ""
        if candidate in self.unpublished:
            warnings.append(f"{page.source.path}: links to {ref!r}, a page not published in "
                            "this build (a draft, not yet or no longer published, or it failed)")
            return None
        problems.append(f"{ref!r} links to a page that does not exist")
        return None


@dataclass(slots=True)
class _Found:
    """What rewriting one page has found so far (mutable, private to one rewrite)."""

    assets: dict[str, Asset] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    linked: set[Path] = field(default_factory=set)
    watched: set[Path] = field(default_factory=set)     # `Rewritten.missing`
    images: list[tuple[UrlAttr, str, Asset | str]] = field(default_factory=list)  # <img src>s
    spelled: dict[str, str] = field(default_factory=dict)   # `Rewritten.spelled`


def _unresolved(page: Page, problems: list[str]) -> LinkError:
    """One error for all the files a page shows that cannot be found."""
    many = len(problems) > 1
    return LinkError(f"{len(problems)} references cannot be resolved" if many else problems[0],
                     page.source.path, detail="\n".join(problems) if many else None,
                     hint="correct the path (relative to the page's folder, or "
                          "starting with / for the content folder), or add the file")


IMAGE_PREFERENCE = (".svg", ".png", ".gif", ".webp", ".jpg", ".jpeg")


def _at(place: Path, fs: Existing) -> Path | None:
    """`place` if it exists; for `fun-fish.*`, the existing file of the preferred format, as
    Sphinx's HTML builder."""
    if not place.name.endswith(".*"):
        return place if fs.exists(place) else None
    found = sorted(place.parent.glob(_pattern(place.name)),
                   key=lambda p: (IMAGE_PREFERENCE.index(p.suffix.lower())
                                  if p.suffix.lower() in IMAGE_PREFERENCE else 99, p.name))
    return found[0] if found else None


def _pattern(name: str) -> str:
    """A file name as a glob pattern matching it alone; `a.*` matches every `a.<suffix>`."""
    return glob.escape(name[:-2]) + ".*" if name.endswith(".*") else glob.escape(name)
