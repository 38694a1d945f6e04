"""Notebooks with no Markdown twin read as pages: their JSON checked for a notebook's shape
(an older nbformat upgraded, as Jupyter opens it), their frontmatter from metadata.nbpress, a
leading raw cell or fastpages' first Markdown cell."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.errors import PageError
from pipeline.model import Page, Source
from pipeline.sources.frontmatter import (decode, make_page, parse_frontmatter, read_bytes,
                                          title_from_body)


def read_notebook(source: Source) -> Page:
    """A notebook with no Markdown twin: frontmatter from metadata.nbpress or a leading raw cell."""
    try:
        nb = json.loads(decode(read_bytes(source.path), source.path))
    except json.JSONDecodeError as exc:
        raise PageError(f"is not a valid notebook (JSON error: {exc.msg})", source.path,
                        line=exc.lineno, hint="open and save it again in Jupyter") from None
    nb = notebook_shape(nb, source.path)
    meta = dict(nb.get("metadata", {}).get("nbpress", {}).get("frontmatter", {}))
    cells = nb.get("cells", [])
    first = "".join(cells[0].get("source", "")) if cells else ""
    if cells and cells[0].get("cell_type") == "raw" and first.startswith("---"):
        meta = {**parse_frontmatter(first, source.path)[0], **meta}
    elif not meta and cells and cells[0].get("cell_type") == "markdown":
        from pipeline.sources.dialects import fastpages_frontmatter

        meta = fastpages_frontmatter(first, source.path) or {}
    heading_text = "\n".join("".join(c.get("source", "")) for c in cells
                             if c.get("cell_type") == "markdown")
    page = make_page(source, "", 1, meta)
    return page if "title" in meta else replace(page, title=title_from_body(heading_text, source))


def notebook_shape(nb: Any, path: Path) -> dict[str, Any]:
    """A notebook's JSON as nbformat 4 (an older notebook upgraded, as Jupyter opens it), or
    an error saying what in it is not a notebook's."""
    def wrong(what: str) -> PageError:
        return PageError(f"is not a Jupyter notebook: {what}", path,
                         hint="open it in Jupyter and save it again, or move it out of the "
                              "site if it is another kind of JSON file")

    if not isinstance(nb, dict) or not isinstance(nb.get("metadata"), dict):
        raise wrong("its JSON is not an object with `cells` and `metadata`")
    if not isinstance(nb.get("nbformat"), int) or not 1 <= nb["nbformat"] <= 4:
        raise wrong(f"its nbformat is {nb.get('nbformat')!r}, not a version Jupyter writes (4)")
    if nb["nbformat"] < 4:
        import nbformat

        try:
            nb = nbformat.convert(nbformat.from_dict(nb), 4)
        except Exception as exc:        # a notebook of nbformat 3 or older, broken
            raise wrong(f"nbformat {nb['nbformat']} that cannot be upgraded ({exc})") from None
    cells = nb.get("cells", [])
    if not isinstance(cells, list):
        raise wrong("its `cells` is not a list")
    for number, cell in enumerate(cells, 1):
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("markdown", "code", "raw"):
            raise wrong(f"cell {number} has no cell_type of markdown, code or raw")
        if not isinstance(source, str) and not (
                isinstance(source, list) and all(isinstance(line, str) for line in source)):
            raise wrong(f"the source of cell {number} is not text")
    return nb
