"""Stage 2: a page as a notebook, through jupytext, in memory. The only jupytext importer.

The author's file is never written here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.config import SiteConfig
from pipeline.model import Page
from pipeline.notebook.blocks import merge_split_html
from pipeline.sources.dialects import without_myst_comments
from pipeline.sources.frontmatter import json_safe

MD_FORMAT = {"extension": ".md", "format_name": "markdown"}
META_KEY = "nbpress"           # our metadata key, in the notebook and each cell we touch
FRONTMATTER_TAG = "nbpress-frontmatter"

_MAGIC = re.compile(r"^%%(\w+)\n?")
_CODE_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)
_OPTION = re.compile(r"^:[\w-]+:")            # a MyST directive's option line
_JUPYTEXT_MARKER = re.compile(r"<!--\s*#")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
RUNNABLE_ALIASES = {"python": ("python3",)}


def to_notebook(page: Page, config: SiteConfig):
    """The page as a NotebookNode, its frontmatter under `metadata.nbpress`, ready to run.
    A page of prose only never imports jupytext (0.2-0.8 s)."""
    own_header = _own_header(page)
    if is_prose(page):
        nb = _prose_notebook(page)
    else:
        import jupytext

        if page.source.kind == "ipynb":
            nb = _notebook_page(jupytext.read(page.source.path, as_version=4), page)
        elif own_header:
            nb = jupytext.reads(page.text, fmt=(fmt := text_format(page.text)))   # its header
            if fmt["format_name"] == "myst":
                _myst_comments_dropped(nb)
        else:
            nb = jupytext.reads(_body(page), fmt=MD_FORMAT)
            if "myst" in page.meta:         # MyST's own frontmatter key (Jupyter Book's)
                _myst_comments_dropped(nb)
            nb.cells[0:0] = _frontmatter_cells(page)
    _mark_frontmatter_cell(nb)
    nb.cells = merge_split_html(nb.cells)
    _kernel_language_only(nb, page, config)
    nb.metadata[META_KEY] = {
        "source": page.source.path.relative_to(config.root).as_posix(),
        "slug": page.slug,
        "url": page.url,
        "frontmatter": json_safe(dict(page.meta)),
    }
    return nb


def is_prose(page: Page) -> bool:
    """A Markdown page with no code fence and no jupytext header: its body is all there is to
    render, with no notebook made (`prose_body`)."""
    return page.source.kind == "md" and not _own_header(page) and not may_have_code(page.text)


def prose_body(page: Page) -> str:
    """The Markdown a prose page renders: its body, without the blank lines around it (the one
    Markdown cell of its notebook, `_prose_notebook`); a MyST page's (`myst:` in its
    frontmatter, as Jupyter Book's) without its `% comment` lines."""
    body = _body(page).strip("\r\n")
    return without_myst_comments(body) if "myst" in page.meta and "%" in body else body


def _own_header(page: Page) -> bool:
    return bool("jupyter" in page.meta or "jupytext" in page.meta
                or _JUPYTEXT_MARKER.search(page.text))


_MARKERS = {"hide": "remove-cell", "hide_input": "remove-input", "hide-input": "remove-input",
            "collapse": "hide-input", "collapse-hide": "hide-input", "collapse_hide": "hide-input",
            "hide_output": "remove-output", "hide-output": "remove-output"}
_MARKER = re.compile(r"^#\s?([\w-]+)\s*$")


def _notebook_page(nb, page: Page):
    """A notebook page: its fastpages front matter cell (now the page's header) dropped, and
    fastpages/nbdev comment markers (#hide, #hide_input, #collapse-hide) as cell tags."""
    from pipeline.sources.dialects import fastpages_frontmatter

    if (nb.cells and nb.cells[0].cell_type == "markdown" and "title" in page.meta
            and fastpages_frontmatter(nb.cells[0].source)):
        nb.cells = nb.cells[1:]
    for cell in nb.cells:
        first = cell.source.split("\n", 1)[0] if cell.cell_type == "code" else ""
        marker = _MARKER.match(first)
        if marker and marker.group(1).lower() in _MARKERS:
            tags = cell.metadata.setdefault("tags", [])
            tags.append(_MARKERS[marker.group(1).lower()])
    return nb


def _body(page: Page) -> str:
    lines = page.text.splitlines(keepends=True)
    return "".join(lines[page.body_line - 1:])


def _frontmatter_cells(page: Page) -> list[Any]:
    """The frontmatter as jupytext keeps it: a raw cell, byte for byte, without the newline."""
    if page.body_line <= 1:
        return []
    lines = page.text.splitlines(keepends=True)
    return [_cell("raw", "".join(lines[:page.body_line - 1]).rstrip("\r\n"), 0)]


def _prose_notebook(page: Page):
    """A page with no code: its frontmatter cell and its whole body as one Markdown cell.

    What jupytext would give, except that the body is not split at double blank lines
    (a split can end a list or separate a link from its reference definition)."""
    import nbformat

    cells = _frontmatter_cells(page)
    body = prose_body(page)
    if body.strip():
        cells.append(_cell("markdown", body, len(cells)))
    return nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                               "metadata": {"jupytext": {"text_representation": MD_FORMAT}}})


def _cell(kind: str, source: str, index: int):
    """A cell without nbformat's per-cell validation (0.3 ms each; the exporter validates)."""
    from nbformat import NotebookNode

    return NotebookNode(cell_type=kind, id=f"{kind}-{index}", metadata=NotebookNode(),
                        source=source)


def may_have_code(text: str) -> bool:
    """Cheap, before any parsing: has the Markdown a fenced block? (`in` first: 7x faster)"""
    return ("```" in text or "~~~" in text) and _CODE_FENCE.search(text) is not None


def has_code(nb) -> bool:
    return any(c.cell_type == "code" and c.source.strip() for c in nb.cells)


def has_outputs(nb) -> bool:
    return any(c.cell_type == "code" and c.get("outputs") for c in nb.cells)


def default_kernelspec(config: SiteConfig) -> dict[str, str]:
    """For pages that name no kernel: the site's `kernel` setting."""
    language = "python" if config.kernel.startswith("python") else config.kernel
    return {"name": config.kernel, "language": language, "display_name": config.kernel}


def kernel_language(nb, config: SiteConfig | None = None) -> str:
    """The notebook's language; without `config`, jupytext's main language or python."""
    spec = nb.metadata.get("kernelspec") or {}
    lang = spec.get("language") or nb.metadata.get("language_info", {}).get("name")
    if lang or config is None:
        return str(lang or nb.metadata.get("jupytext", {}).get("main_language", "python")).lower()
    return "python" if config.kernel.startswith("python") else config.kernel


def cell_line(page: Page, nb, index: int) -> int | None:
    """The 1-based line in the Markdown file where code cell `index` starts, if it has one."""
    fence = code_fences(page.text, nb).get(index)
    return fence.line + 1 if fence else None


@dataclass(frozen=True, slots=True)
class Fence:
    line: int           # 1-based line of the opening fence
    language: str       # the first word of its info string ("python", "bash", "")
    end: int = 0        # 1-based line of the closing fence (the last line when unclosed)


def code_fences(text: str, nb) -> dict[int, Fence]:
    """Map each code cell of `nb` (read from Markdown `text`) to the fence it came from.

    Fences are matched in order by content, so the same code in the prose cannot fool it.
    """
    blocks = _fenced_blocks(text) if text else []
    found: dict[int, Fence] = {}
    position = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        code = _MAGIC.sub("", cell.source, count=1).strip("\n")
        for k in range(position, len(blocks)):
            fence, body = blocks[k]
            if _code_of(fence, body) in (code, cell.source.strip("\n")):
                found[index] = fence
                position = k + 1
                break
    return found


def _myst_comments_dropped(nb) -> None:
    for cell in (c for c in nb.cells if c.cell_type == "markdown" and "%" in c.source):
        cell.source = without_myst_comments(cell.source)


def _code_of(fence: Fence, body: str) -> str:
    """A fenced block's code: for a MyST `{code-cell}`, without its options (`:tags: [x]`
    lines, or a `---` block of YAML) and the blank line after them."""
    if not fence.language.startswith("{code-cell}"):
        return body.strip("\n")
    lines = body.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), 0)
        lines = lines[end + 1:]
    while lines and _OPTION.match(lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def _fenced_blocks(text: str) -> list[tuple[Fence, str]]:
    """Every fenced block of `text`: its opening fence and its content."""
    blocks, lines, k = [], text.splitlines(), 0
    while k < len(lines):
        opening = _FENCE.match(lines[k])
        if not opening:
            k += 1
            continue
        marker, info = opening.group(1), opening.group(2).strip()
        end = next((j for j in range(k + 1, len(lines))
                    if lines[j].strip().startswith(marker) and not lines[j].strip(marker[0]).strip()),
                   len(lines))
        language = info.split()[0] if info else ""
        blocks.append((Fence(k + 1, language, min(end + 1, len(lines))),
                       "\n".join(lines[k + 1:end])))
        k = end + 1
    return blocks


def _mark_frontmatter_cell(nb) -> None:
    """jupytext keeps the frontmatter as a leading raw cell: mark it so it is never shown."""
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("---"):
        cell = nb.cells[0]
        cell.metadata["raw_mimetype"] = "text/x-yaml"
        cell.metadata.setdefault("tags", [])
        if FRONTMATTER_TAG not in cell.metadata["tags"]:
            cell.metadata["tags"].append(FRONTMATTER_TAG)


def _kernel_language_only(nb, page: Page, config: SiteConfig) -> None:
    """Only fences in the kernel's language run; others (bash, js, html...) are shown code.

    jupytext makes a code cell of any fence in a language it knows (`%%bash` in a python
    notebook): the fence's own info string in the Markdown says what the author meant.
    """
    if (page.source.kind != "md" or not has_code(nb)
            or text_format(page.text)["format_name"] != "markdown"):
        return          # prose; or MyST: only {code-cell} blocks are code cells, they all run
    shown_fences_as_markdown(nb, page.text, kernel_language(nb, config))


def shown_fences_as_markdown(nb, text: str, language: str) -> None:
    """Code cells jupytext made of fences not in `language` become Markdown cells holding
    the fence's lines as the page has them (its backticks, its info string), so the twin
    Jupyter opens and the notebook the build runs have the same code cells, and the page
    written back from either has those lines byte for byte (`notebook_to_md`)."""
    runnable = {language, *RUNNABLE_ALIASES.get(language, ())}
    lines = text.splitlines()
    for index, fence in code_fences(text, nb).items():
        if fence.language.lower() not in runnable:
            spacing = nb.cells[index].metadata.get("lines_to_next_cell")
            nb.cells[index] = _markdown_cell("\n".join(lines[fence.line - 1:fence.end]))
            if spacing is not None:        # blank lines after the fence, as jupytext read them
                nb.cells[index].metadata["lines_to_next_cell"] = spacing


def _markdown_cell(source: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(source)


def _shown_fence(cell, language: str) -> bool:
    """A Markdown cell that is one fence jupytext reads as code, not in `language`?"""
    import jupytext

    source = cell.source if cell.cell_type == "markdown" else ""
    blocks = _fenced_blocks(source) if source.startswith("```") else []
    if len(blocks) != 1 or blocks[0][0].language.lower() in \
            {language, *RUNNABLE_ALIASES.get(language, ())}:
        return False
    cells = jupytext.reads(source, fmt=MD_FORMAT).cells
    return len(cells) == 1 and cells[0].cell_type == "code"


def _writes_verbatim(nb, fmt: dict[str, str], shown: list[int]) -> tuple[str, list[int]]:
    """(jupytext's text of nb, the `shown` cells with metadata it keeps). jupytext would wrap
    a Markdown cell that reads as code in `<!-- #region -->` markers, and space it as prose:
    a code cell holding a placeholder is written instead, then replaced by the cell's lines."""
    import copy
    import secrets

    import jupytext
    import nbformat

    salt, tokens, written = secrets.token_hex(8), {}, copy.copy(nb)
    written.cells = list(nb.cells)
    for k in shown:
        tokens[k] = f"nbpress-shown-fence-{salt}-{k}"
        written.cells[k] = nbformat.v4.new_code_cell(tokens[k], metadata=nb.cells[k].metadata)
    text, kept = jupytext.writes(written, fmt=fmt), []
    for k, token in tokens.items():
        found = re.search(f"^`{{3,}}(.*)\n{token}\n`{{3,}}$", text, flags=re.MULTILINE)
        if len(found.group(1).split(None, 1)) > 1:
            kept.append(k)          # options on the fence line: its metadata is written
        text = text[:found.start()] + nb.cells[k].source + text[found.end():]
    return text, kept


# -- twins on disk: content/X.md <-> notebooks/X.ipynb (nbpress sync) ------------------------

def text_format(text: str) -> dict[str, str]:
    """The jupytext format of a Markdown page: MyST when its header says so, else Markdown."""
    name = None
    if "jupytext" in text:
        import jupytext.formats

        name = jupytext.formats.read_format_from_metadata(text, ".md")
    return {"extension": ".md", "format_name": name or "markdown"}


def md_to_notebook(text: str, config: SiteConfig):
    """The notebook twin of a Markdown page: its inputs, with a kernel to open it in Jupyter."""
    import jupytext

    nb = jupytext.reads(text, fmt=text_format(text))
    header = [k for k in nb.metadata if k != "jupytext"]
    if header:        # keys of the page's own header (MyST puts title, draft... there) stay
        nb.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = \
            ",".join(header + ["jupytext", "-all"])
    if has_code(nb):
        nb.metadata.setdefault("kernelspec", default_kernelspec(config))
    if text_format(text)["format_name"] == "markdown":
        shown_fences_as_markdown(nb, text, kernel_language(nb, config))
    return nb


def notebook_to_md(nb, fmt: dict[str, str] | None = None) -> str:
    """The Markdown page a notebook stands for: its inputs only (no outputs, counts or widget
    state), in the format the notebook records; frontmatter keys the notebook sets under
    metadata.nbpress.frontmatter are written into the frontmatter block."""
    import jupytext

    fmt = fmt or dict(nb.metadata.get("jupytext", {}).get("text_representation", {})) or MD_FORMAT
    fmt = {"extension": ".md", "format_name": fmt.get("format_name", "markdown")}
    nb = apply_frontmatter_edits(nb)
    if fmt["format_name"] != "markdown":
        return jupytext.writes(nb, fmt=fmt)
    language = kernel_language(nb)
    shown = [k for k, cell in enumerate(nb.cells) if _shown_fence(cell, language)]
    text, kept = _writes_verbatim(nb, fmt, shown)   # cells with metadata: jupytext's regions
    return _writes_verbatim(nb, fmt, [k for k in shown if k not in kept])[0] if kept else text


def read_ipynb(text: str):
    import nbformat

    return nbformat.reads(text, as_version=4)


def write_ipynb(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def apply_frontmatter_edits(nb):
    """Apply metadata.nbpress.frontmatter to the leading raw frontmatter cell, line by line."""
    from pipeline.sources.editing import edit_frontmatter

    import copy

    wanted = nb.metadata.get(META_KEY, {}).get("frontmatter")
    if not wanted:
        return nb
    has_block = bool(nb.cells) and nb.cells[0].cell_type == "raw" and \
        nb.cells[0].source.startswith("---")
    block = nb.cells[0].source if has_block else "---\n---"
    edited = edit_frontmatter(block + "\n", wanted).rstrip("\n")
    if edited == block:
        return nb
    nb = copy.deepcopy(nb)
    if has_block:
        nb.cells[0].source = edited
    else:                               # the page had no frontmatter: the keys make one
        nb.cells.insert(0, _cell("raw", edited, 0))
    return nb
