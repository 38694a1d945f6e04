"""Stage 4: a notebook to article HTML with nbconvert. The only nbconvert/traitlets code.

Building an exporter costs 140-180 ms (template compile), so one Exporter serves a whole build.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pipeline.model import Exported
from pipeline.render.templates import installed_templates_cache

TEMPLATES = Path(__file__).parent / "nbconvert-templates"
FIGURE_NAME = "fig-{cell_index}-{index}{extension}"
_FIGURE_WITHOUT_ALT = re.compile(r'(<img src="fig-[^"]*")(?![^>]*\balt=)')
REMOVE_CELL = {"remove-cell", "remove_cell", "injected-parameters"}
REMOVE_INPUT = {"remove-input", "remove_input"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}
# Quarto's cell options (`#| echo: false` at the top of a code cell) as the tags Jupyter Book
# writes: the options are read here and their lines are not shown.
_OPTION_LINE = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
_OPTION_TAGS = {("echo", "false"): "remove-input", ("output", "false"): "remove-output",
                ("include", "false"): "remove-cell", ("code-fold", "true"): "hide-input"}


class Exporter:
    """One nbconvert HTMLExporter with our template, built on first use and reused for every
    page; pages of Markdown only need just its Markdown renderer, which is cheap to build.
    `plotly`: whether Plotly figures are drawn by the site's plotly.js (None: when the build
    environment has the plotly package; False: never, each shows its static fallback)."""

    def __init__(self, plotly: bool | None = None) -> None:
        self._html = None
        self._markdown = None
        self._plotly = plotly

    def warm(self, full: bool = True) -> None:
        """Build now (before worker processes fork): the renderer, and the exporter if `full`."""
        if self._markdown is None:
            self._markdown = _markdown_renderer()
        if full and self._html is None:
            self._html = _make_exporter(self._markdown)
            _ = self._html.template         # compiled (or read from the cache) before a fork

    def export_prose(self, text: str) -> Exported:
        """A prose page's body (`notebook/convert.prose_body`), as `export` gives its notebook
        (one Markdown cell, or none when blank), with no notebook made."""
        self.warm(full=False)
        body, spans = self._markdown.render_marked(text if text.strip() else "")
        exported = self._exported(body, {}, [], ())
        if spans is None:
            return exported
        cut = len(body) - len(body.lstrip())            # `_exported` strips the body
        size = len(exported.body)
        return replace(exported, raw_spans=tuple((max(a - cut, 0), min(b - cut, size))
                                                 for a, b in spans))

    def export(self, nb) -> Exported:
        scripts = ()
        if _markdown_only(nb):
            self.warm(full=False)
            self._markdown.unsupported.clear()
            body, files, warnings = _render_markdown(self._markdown, nb), {}, []
        else:
            self.warm()
            self._markdown.unsupported.clear()
            nb, warnings = _without_broken_widget_state(with_cell_options(nb))
            nb, more, scripts = _outputs_for_the_site(nb, self._has_plotly)
            body, resources = self._html.from_notebook_node(nb, resources={"unique_key": "fig"})
            files, warnings = dict(resources.get("outputs", {})), warnings + more
        return self._exported(body, files, warnings, scripts)

    def _exported(self, body: str, files: dict, warnings: list, scripts) -> Exported:
        return Exported(body=body.strip() + "\n", files=files, unsupported=tuple(
            (u.name, u.opening) for u in self._markdown.unsupported),
            warnings=tuple(warnings) + tuple(self._markdown.warnings),
            scripts=scripts)

    def _has_plotly(self) -> bool:
        """Asked only when a page has a figure; the answer kept for the build."""
        if self._plotly is None:
            from pipeline.render.plotly import script_path

            self._plotly = script_path() is not None
        return self._plotly


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_MARK = "nbpress_widget"      # in an output's metadata: the template adds the widget note


def _without_broken_widget_state(nb):
    """(nb, warnings): `metadata.widgets` is kept only in the shape Jupyter saves, a dict
    whose widget-state value is a dict with a dict `state`; nbconvert raises on any other
    (Colab's models straight under the mimetype, nbconvert#1731; a list; null). Otherwise
    the key is left out of the export, with one warning."""
    if "widgets" not in nb.metadata or _widget_state_ok(nb.metadata["widgets"]):
        return nb, []
    import copy

    from nbformat import NotebookNode

    nb = copy.copy(nb)
    nb.metadata = NotebookNode({k: v for k, v in nb.metadata.items() if k != "widgets"})
    return nb, ["its metadata.widgets is not the widget state Jupyter saves (Colab and other "
                "tools write other shapes), so it is left out: widgets show their static "
                "output; fix: re-save the notebook in Jupyter with widget state (Settings > "
                "Save Widget State Automatically), or remove metadata.widgets"]


def _widget_state_ok(widgets) -> bool:
    state = widgets.get(WIDGET_STATE) if isinstance(widgets, dict) else None
    return isinstance(state, dict) and isinstance(state.get("state"), dict)


def _outputs_for_the_site(nb, has_plotly):
    """(nb, warnings, scripts): outputs the site cannot run made static. The site ships no
    widget manager: a widget view shows its static fallback (text or image) and the template
    adds a note. A Plotly figure becomes the site's own figure HTML (`scripts` then names
    plotly.js), or without plotly its static fallback, with one warning. A copy when any
    output changes, else `nb` itself."""
    import copy

    from pipeline.render import plotly

    if not any(_changed_output(o) for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", [])):
        return nb, [], ()
    nb, warnings, scripts = copy.deepcopy(nb), [], ()
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if plotly.MIMETYPE in output.get("data", {}):
                if has_plotly():
                    output.data, scripts = {"text/html": plotly.figure_html(
                        output.data[plotly.MIMETYPE])}, (plotly.SCRIPT,)
                    continue
                output.data = plotly.static_data(output.data)
                warnings = [plotly.missing_warning()]
            if WIDGET_VIEW in output.get("data", {}):
                del output.data[WIDGET_VIEW]
                output.setdefault("metadata", {})[WIDGET_MARK] = True
    return nb, warnings, scripts


def _changed_output(output) -> bool:
    from pipeline.render.plotly import MIMETYPE

    data = output.get("data", {})
    return WIDGET_VIEW in data or MIMETYPE in data


def with_cell_options(nb):
    """`nb` with each code cell's Quarto options (`#| echo: false`, `#| output: false`,
    `#| include: false`, `#| code-fold: true`) turned into tags and their lines taken out of
    the source shown; a copy when any cell has options, else `nb` itself."""
    import copy

    if not any(c.cell_type == "code" and c.source.startswith("#|") for c in nb.cells):
        return nb
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.startswith("#|"):
            continue
        lines = cell.source.split("\n")
        tags = list(cell.metadata.get("tags", []))
        while lines and _OPTION_LINE.match(lines[0]):
            key, value = _OPTION_LINE.match(lines.pop(0)).groups()
            tag = _OPTION_TAGS.get((key, value.lower()))
            if tag and tag not in tags:
                tags.append(tag)
        cell.source = "\n".join(lines)
        cell.metadata["tags"] = tags
    return nb


def report_html(path: Path) -> str:
    """nbconvert's own HTML of an executed notebook, inputs hidden (the build report)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    return exporter.from_notebook_node(nbformat.read(path, as_version=4))[0]


def _markdown_renderer():
    """The site's one Markdown engine (`render/markdown.py`), built once a build."""
    from pipeline.render.markdown import Markdown

    return Markdown()


def _render_markdown(markdown, nb) -> str:
    """A page of Markdown cells only. From a Markdown page, rendered as one text: the cells
    are where jupytext split it, at two blank lines, so a footnote and its definition, or two
    headings of one text, meet across cells. From a notebook, each cell alone, as the
    template renders it: an unclosed fence in one cell does not swallow the next cells.
    Links stay as written: nbconvert's `strip_files_prefix` (for the Jupyter server's old
    `files/` URLs) is not used, `files/` is a folder of the site."""
    cells = [c.source for c in nb.cells if c.cell_type == "markdown"]
    if _from_markdown_page(nb):
        return markdown.render("\n\n\n".join(cells))
    return "\n".join(markdown.render(source) for source in cells)


def _from_markdown_page(nb) -> bool:
    """Made from a .md page by `notebook/convert.py` (which records the source's path); a
    notebook page, or a notebook of unknown origin, has cells of its own."""
    source = nb.metadata.get("nbpress", {}).get("source", "")
    return isinstance(source, str) and source.endswith(".md")


def _markdown_only(nb) -> bool:
    """Only Markdown cells (and the hidden frontmatter cell): what the template would render
    is each cell's Markdown, so the template chain can be skipped (tested to be identical)."""
    return all(c.cell_type == "markdown" and not c.get("attachments")
               or c.cell_type == "raw" and c.metadata.get("raw_mimetype") == "text/x-yaml"
               for c in nb.cells)


def _make_exporter(markdown):
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.template_name = "nbpress"
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.raw_mimetypes = ["text/html"]     # the frontmatter cell (text/x-yaml) is dropped
    c.HTMLExporter.optimistic_validation = True      # validate once, not after each preprocessor
    c.HTMLExporter.default_preprocessors = [        # only the transforms a page needs
        "nbconvert.preprocessors.TagRemovePreprocessor",
        "nbconvert.preprocessors.HighlightMagicsPreprocessor",
        "nbconvert.preprocessors.ExtractOutputPreprocessor",
    ]
    c.CSSHTMLHeaderPreprocessor.enabled = False      # the site stylesheet has the code CSS
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = REMOVE_CELL
    c.TagRemovePreprocessor.remove_input_tags = REMOVE_INPUT
    c.TagRemovePreprocessor.remove_all_outputs_tags = REMOVE_OUTPUT
    c.ExtractOutputPreprocessor.enabled = True        # figures become files, not base64
    c.ExtractOutputPreprocessor.output_filename_template = FIGURE_NAME
    return _exporter_class(markdown)(config=c)


def _exporter_class(markdown):
    """HTMLExporter without its final BeautifulSoup pass, which re-serializes the whole page:
    it reorders the attributes of the author's raw HTML, drops its indentation, and costs
    1-4 ms a page. Everything else is nbconvert's own `from_notebook_node`."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from jinja2 import pass_context

    class PageExporter(HTMLExporter):
        _highlighters: dict = {}

        @pass_context
        def markdown2html(self, context, source):
            """The site's Markdown engine for every Markdown cell, as for prose pages; a cell
            with attachments (images pasted in Jupyter) keeps nbconvert's, which embeds them."""
            if context.get("cell", {}).get("attachments"):
                return super().markdown2html(context, source)
            return markdown.render(source)

        def _create_environment(self):
            environment = super()._create_environment()
            environment.bytecode_cache = installed_templates_cache(_installed)
            return environment

        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            if lexer not in self._highlighters:        # building one costs 0.4 ms: once
                self._highlighters[lexer] = Highlight2HTML(pygments_lexer=lexer, parent=self)
            self.register_filter("highlight_code", self._highlighters[lexer])
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _FIGURE_WITHOUT_ALT.sub(r'\1 alt="Figure"', html), resources

    return PageExporter


def _installed(path: Path) -> bool:
    """A template of ours or of nbconvert's (not one of a site's)."""
    return TEMPLATES in path.parents or ("nbconvert" in path.parts and "templates" in path.parts)


DARK = ':root[data-theme="dark"]'
DARK_BY_SYSTEM = ':root:not([data-theme="light"])'


def code_stylesheet(light: str = "default", dark: str = "github-dark") -> str:
    """The CSS for highlighted code, once for the whole site instead of once a page: the
    light style, and the dark one under the dark theme (chosen, or the system's)."""
    from pygments.formatters import HtmlFormatter

    def rules(style: str, scope: str) -> str:
        css = HtmlFormatter(style=style).get_style_defs(f"{scope} .highlight".strip())
        return re.sub(r" ?/\*.*?\*/", "", css)       # Pygments names each token: 30% of it

    dark_rules = rules(dark, DARK)
    by_system = rules(dark, DARK_BY_SYSTEM)
    return (rules(light, "") + "\n" + dark_rules
            + "\n@media (prefers-color-scheme: dark) {\n" + by_system + "\n}\n")
