"""The folder a site's pages come from, checked by the commands that read pages: a missing
one is an error (building would publish an empty site with exit 0), an empty one a warning;
both say where the pages seem to be and how to name that folder."""
from __future__ import annotations

import os
from pathlib import Path

from rich.markup import escape

from pipeline.config import SiteConfig
from pipeline.errors import ConfigError
from pipeline.sources.discover import SKIP_DIRS

PAGE_SUFFIXES = (".md", ".ipynb")
_DEPTH = 3          # folders looked into below a candidate folder, for a page file


def missing_content(config: SiteConfig) -> ConfigError | None:
    """An error when neither the content folder nor the notebooks folder exists: no page
    can come from anywhere."""
    if config.content.is_dir() or config.notebooks.is_dir():
        return None
    return ConfigError("does not exist: it is the content folder, where pages are read from, "
                       "so there are no pages to build", config.content, hint=_hint(config))


def warn_no_pages(console, config: SiteConfig) -> None:
    """Said after a command found no page at all: where it looked, and what to do."""
    folders = f"{config.content}" + (f" and {config.notebooks}" if config.notebooks.is_dir()
                                     and config.notebooks != config.content else "")
    console.print(f"[yellow]warning[/] no pages (.md or .ipynb files) in {escape(folders)}")
    console.print(f"  [cyan]fix:[/] {escape(_hint(config))}")


def _hint(config: SiteConfig) -> str:
    settings = config.config_file or config.root / "pyproject.toml"
    found = _page_folder(config)
    where = (f"the pages seem to be in {found}/: " if found
             else "if the pages are in another folder, ")
    return (f"{where}set content_dir = \"{found or 'docs'}\" under [tool.nbpress] in "
            f"{settings}; or, to start a site, run `nbpress new \"My first page\"` "
            f"(it writes {config.content_dir}/)")


def _page_folder(config: SiteConfig) -> str | None:
    """A folder of the site's root that holds Markdown or notebook files (a Jupyter Book's
    docs/), the first by name; None when there is none."""
    mine = {config.content.resolve(), config.notebooks.resolve(), config.output.resolve()}
    try:
        entries = sorted(os.scandir(config.root), key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        if (entry.is_dir() and not entry.name.startswith(".") and entry.name not in SKIP_DIRS
                and entry.name != "static" and Path(entry.path).resolve() not in mine
                and _holds_pages(Path(entry.path))):
            return entry.name
    return None


def _holds_pages(top: Path) -> bool:
    for folder, dirs, files in os.walk(top):
        depth = len(Path(folder).relative_to(top).parts)
        dirs[:] = [] if depth >= _DEPTH else [
            d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        if any(name.endswith(PAGE_SUFFIXES) for name in files):
            return True
    return False
