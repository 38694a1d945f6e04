"""Stage 4: a notebook to article HTML with nbconvert. The only nbconvert/traitlets code.

Building an exporter costs 140-180 ms (template compile), so one Exporter serves a whole build.
"""
from __future__ import annotations

import re
from pathlib import Path

from .model import Exported

TEMPLATES = Path(__file__).parent / "templates"
FIGURE_NAME = "fig-{cell_index}-{index}{extension}"
_FIGURE_WITHOUT_ALT = re.compile(r'(<img src="fig-[^"]*")(?![^>]*\balt=)')
REMOVE_CELL = {"remove-cell", "remove_cell", "injected-parameters"}
REMOVE_INPUT = {"remove-input", "remove_input"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}


class Exporter:
    """One nbconvert HTMLExporter with our template, built on first use, reused per page."""

    def __init__(self) -> None:
        self._html = None

    def warm(self) -> None:
        """Build the nbconvert exporter now (before worker processes fork)."""
        if self._html is None:
            self._html = _make_exporter()

    def export(self, nb) -> Exported:
        self.warm()
        body, resources = self._html.from_notebook_node(nb, resources={"unique_key": "fig"})
        return Exported(body=body.strip() + "\n", files=dict(resources.get("outputs", {})))


def _make_exporter():
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
    return _exporter_class()(config=c)


def _exporter_class():
    """HTMLExporter without its final BeautifulSoup pass, which re-serializes the whole page:
    it reorders the attributes of the author's raw HTML, drops its indentation, and costs
    1-4 ms a page. Everything else is nbconvert's own `from_notebook_node`."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _FIGURE_WITHOUT_ALT.sub(r'\1 alt="Figure"', html), resources

    return PageExporter


def code_stylesheet(style: str = "default") -> str:
    """The CSS for highlighted code, once for the whole site instead of once a page."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style=style).get_style_defs(".highlight")
