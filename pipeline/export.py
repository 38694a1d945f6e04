"""Stage 4: a notebook to article HTML with nbconvert. The only nbconvert/traitlets code.

Building an exporter costs 140-180 ms (template compile), so one Exporter serves a whole build.
"""
from __future__ import annotations

from pathlib import Path

from .model import Exported

TEMPLATES = Path(__file__).parent / "templates"
FIGURE_NAME = "fig-{cell_index}-{index}{extension}"
REMOVE_CELL = {"remove-cell", "remove_cell", "injected-parameters"}
REMOVE_INPUT = {"remove-input", "remove_input"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}


class Exporter:
    """One nbconvert HTMLExporter with our template, built on first use, reused per page."""

    def __init__(self) -> None:
        self._html = None

    def export(self, nb) -> Exported:
        if self._html is None:
            self._html = _make_exporter()
        body, resources = self._html.from_notebook_node(nb, resources={"unique_key": "fig"})
        return Exported(body=body.strip() + "\n", files=dict(resources.get("outputs", {})))


def _make_exporter():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.template_name = "nbpress"
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES / "nbconvert")]
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.raw_mimetypes = ["text/html"]     # the frontmatter cell (text/x-yaml) is dropped
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = REMOVE_CELL
    c.TagRemovePreprocessor.remove_input_tags = REMOVE_INPUT
    c.TagRemovePreprocessor.remove_all_outputs_tags = REMOVE_OUTPUT
    c.ExtractOutputPreprocessor.enabled = True        # figures become files, not base64
    c.ExtractOutputPreprocessor.output_filename_template = FIGURE_NAME
    return HTMLExporter(config=c)


def code_stylesheet(style: str = "default") -> str:
    """The CSS for highlighted code, once for the whole site instead of once a page."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style=style).get_style_defs(".highlight")
