"""Stage 2: a page as a notebook, through jupytext, in memory. The only jupytext importer.

The author's file is never written here.
"""
from __future__ import annotations

import re
from typing import Any

from .config import SiteConfig
from .model import Page
from .pages import json_safe

MD_FORMAT = {"extension": ".md", "format_name": "markdown"}
META_KEY = "nbpress"           # our metadata key, in the notebook and each cell we touch
FRONTMATTER_TAG = "nbpress-frontmatter"

# Container tags whose opening and closing may be split over two cells by a double blank line.
_CONTAINERS = ("div", "style", "script", "section", "figure", "table", "details", "aside",
               "article", "blockquote", "pre", "ul", "ol", "center", "svg", "header", "footer")
_TAG = re.compile(r"<(/?)(" + "|".join(_CONTAINERS) + r")\b[^>]*?(/?)>", re.IGNORECASE)
_MAGIC = re.compile(r"^%%(\w+)\n?")


def to_notebook(page: Page, config: SiteConfig):
    """The page as a NotebookNode, its frontmatter under `metadata.nbpress`, ready to run."""
    import jupytext

    if page.source.kind == "ipynb":
        nb = jupytext.read(page.source.path)
    else:
        nb = jupytext.reads(page.text, fmt=MD_FORMAT)
    _mark_frontmatter_cell(nb)
    nb.cells = _merge_split_html(nb.cells)
    _kernel_language_only(nb, config)
    nb.metadata[META_KEY] = {
        "source": page.source.path.relative_to(config.root).as_posix(),
        "slug": page.slug,
        "url": page.url,
        "frontmatter": json_safe(dict(page.meta)),
    }
    return nb


def has_code(nb) -> bool:
    return any(c.cell_type == "code" and c.source.strip() for c in nb.cells)


def has_outputs(nb) -> bool:
    return any(c.cell_type == "code" and c.get("outputs") for c in nb.cells)


def kernel_language(nb, config: SiteConfig) -> str:
    spec = nb.metadata.get("kernelspec") or {}
    lang = spec.get("language") or nb.metadata.get("language_info", {}).get("name")
    if lang:
        return str(lang).lower()
    return "python" if config.kernel.startswith("python") else config.kernel


def cell_line(page: Page, nb, index: int) -> int | None:
    """The 1-based line in the Markdown file where cell `index` starts, when it can be found."""
    if not page.text:
        return None
    pos = 0
    for i, cell in enumerate(nb.cells[: index + 1]):
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
        found = page.text.find(first, pos) if first else -1
        if found < 0:
            continue
        pos = found + len(first)
        if i == index:
            return page.text.count("\n", 0, found) + 1
    return None


def _mark_frontmatter_cell(nb) -> None:
    """jupytext keeps the frontmatter as a leading raw cell: mark it so it is never shown."""
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("---"):
        cell = nb.cells[0]
        cell.metadata["raw_mimetype"] = "text/x-yaml"
        cell.metadata.setdefault("tags", [])
        if FRONTMATTER_TAG not in cell.metadata["tags"]:
            cell.metadata["tags"].append(FRONTMATTER_TAG)


def _merge_split_html(cells: list[Any]) -> list[Any]:
    """Join markdown cells that jupytext split inside an open HTML element (two blank lines)."""
    merged: list[Any] = []
    for cell in cells:
        prev = merged[-1] if merged else None
        if (prev is not None and prev.cell_type == "markdown" == cell.cell_type
                and open_containers(prev.source) > 0):
            prev.source = f"{prev.source}\n\n\n{cell.source}"
        else:
            merged.append(cell)
    return merged


def open_containers(html: str) -> int:
    """How many container elements the text opens without closing."""
    depth = 0
    for closing, _name, self_closing in _TAG.findall(html):
        if self_closing:
            continue
        depth += -1 if closing else 1
    return max(depth, 0)


def _kernel_language_only(nb, config: SiteConfig) -> None:
    """Only code in the kernel's language runs; other fences (bash, js, ...) stay shown code."""
    language = kernel_language(nb, config)
    languages = _fence_languages()
    main = nb.metadata.get("jupytext", {}).get("main_language", language)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        magic = _MAGIC.match(cell.source)
        if magic and magic.group(1) in languages and magic.group(1).lower() != language:
            fence_lang, code = magic.group(1), cell.source[magic.end():]
        elif not magic and main != language:
            fence_lang, code = main, cell.source
        else:
            continue
        nb.cells[i] = _markdown_cell(f"```{fence_lang}\n{code}\n```")


def _fence_languages() -> set[str]:
    """The fence languages jupytext turns into code cells (`%%bash` when not the main one)."""
    import jupytext.languages

    return set(getattr(jupytext.languages, "_JUPYTER_LANGUAGES_LOWER_AND_UPPER",
                       {"bash", "sh", "R", "js", "javascript", "html", "sql", "julia"}))


def _markdown_cell(source: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(source)
