"""`nbpress new "Title"`: a page with the frontmatter its section expects, ready to write.

What a section expects is read from the section's own pages (the keys of its newest page),
so a new blog post looks like the other posts; a section with no pages gets title, slug,
date, abstract and draft. The page starts as a draft, dated today. With a notebook, the page
gets a `parameters` cell and its paired notebook, ready to open in Jupyter.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.errors import NbpressError
from pipeline.sources.frontmatter import DATE_FIELDS, parse_frontmatter

DEFAULT_KEYS = ("title", "slug", "date", "abstract", "draft")
PARAMETERS_CELL = ('```python tags=["parameters"]\n'
                   "# Defaults for running in Jupyter; nbpress injects the page's `params:` "
                   "here when it builds the page.\n```\n")


def new_page(config: SiteConfig, title: str, section: str | None = None,
             notebook: bool = False, today: dt.date | None = None) -> list[Path]:
    """Create the page (and with `notebook`, its twin); the files created."""
    slug = slugify(title)
    if not slug:
        raise NbpressError(f"the title {title!r} gives an empty file name", config.content,
                           hint="use a title with letters or digits")
    folder = _section_folder(config, section) if section else config.content
    path = folder / f"{slug}.md"
    if path.exists():
        raise NbpressError("already exists", path, hint="choose another title, or edit it")
    keys = section_keys(folder)
    where = folder.relative_to(config.content).as_posix()
    text = frontmatter_text(keys, title, f"/{where}/{slug}" if section else f"/{slug}",
                            today or dt.date.today())
    body = "\nWrite here.\n" + (f"\n{PARAMETERS_CELL}" if notebook else "")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text + body, encoding="utf-8")
    created = [path]
    if notebook:
        from pipeline.author.sync import sync_site

        sync_site(config, [str(path)])
        created.append(config.notebooks / path.relative_to(config.content).with_suffix(".ipynb"))
    return created


def section_keys(folder: Path) -> tuple[str, ...]:
    """The frontmatter keys of the section's newest page, or the default keys."""
    pages = sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True)
    for page in pages:
        try:
            meta, _ = parse_frontmatter(page.read_text(encoding="utf-8"), page)
        except (NbpressError, UnicodeDecodeError):
            continue
        if meta:
            keys = [k for k in meta if k not in ("params", "jupyter", "depends", "execute")]
            return tuple(keys) + tuple(k for k in ("title", "slug", "draft") if k not in keys)
    return DEFAULT_KEYS


def frontmatter_text(keys: tuple[str, ...], title: str, slug: str, day: dt.date) -> str:
    values = {"title": _quote(title), "slug": slug, "draft": "true"}
    lines = ["---"]
    for key in keys:
        if key in values:
            lines.append(f"{key}: {values[key]}")
        elif key in DATE_FIELDS:
            lines.append(f'{key}: "{day.isoformat()}"')
        else:
            lines.append(f'{key}: ""')
    return "\n".join(lines + ["---", ""])


def slugify(title: str, most: int = 80) -> str:
    """The file name a title gives: ASCII letters and digits, hyphens between, cut at a word
    within `most` characters (file systems take 255 bytes)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > most:
        slug = slug[:most + 1].rsplit("-", 1)[0] if "-" in slug[:most + 1] else slug[:most]
    return slug.strip("-")


def _section_folder(config: SiteConfig, section: str) -> Path:
    """The folder of a section named as a path under the content folder (`blog`, `docs/api`)."""
    parts = [p for p in section.replace("\\", "/").strip("/").split("/") if p != "."]
    if parts[:1] == [config.content.name] and not (config.content / parts[0]).is_dir():
        parts = parts[1:]           # `content/blog`, named from the site's folder
    if Path(section).is_absolute() or not parts or any(p in ("", "..") for p in parts):
        raise NbpressError(f"the section {section!r} is not a folder of the content folder",
                           config.content, hint="name the section as a path under the content "
                                                "folder, such as blog or docs/api")
    return config.content.joinpath(*parts)


def _quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
