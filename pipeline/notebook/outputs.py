"""Outputs of a notebook carried onto another: the author's run in Jupyter onto the notebook
the build made from the page, a cached run onto a page whose prose changed, a notebook's
outputs onto the inputs its Markdown twin now has."""
from __future__ import annotations

from pipeline.notebook.convert import META_KEY


def with_outputs_of(new, old):
    """`new` (inputs from the Markdown) with the outputs of `old` for exactly the code cells
    whose source is unchanged (matched in order); an edited cell loses its stale outputs.
    Notebook metadata Jupyter keeps (kernelspec, language_info, widgets) is carried over.

    Not jupytext's combine_inputs_with_outputs: it falls back to matching cells by position,
    so an edited cell would keep the outputs of the code it replaced."""
    done = [c for c in old.cells if c.cell_type == "code"]
    start = 0
    for cell in new.cells:
        if cell.cell_type != "code":
            continue
        match = next((k for k in range(start, len(done)) if done[k].source == cell.source), None)
        if match is not None:
            cell.outputs = done[match].get("outputs", [])
            cell.execution_count = done[match].get("execution_count")
            cell.metadata = {**done[match].get("metadata", {}), **cell.metadata}
            if "id" in done[match]:
                cell.id = done[match].id
            start = match + 1
    for key, value in old.metadata.items():
        if key not in ("jupytext", META_KEY):
            new.metadata.setdefault(key, value)
    return new
