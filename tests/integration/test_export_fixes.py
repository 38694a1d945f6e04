"""Stage 4 with the real nbconvert: notebook outputs the site cannot run (widgets without a
widget manager, Plotly figures drawn offline by the site's plotly.js, or their static
fallback), widget metadata in the shapes real tools save, and Markdown-only notebooks
rendered cell by cell."""
from __future__ import annotations

import base64
import json
import warnings

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.model import Source
from pipeline.notebook.convert import to_notebook
from pipeline.render.export import Exporter
from pipeline.render.html import first_paragraph_text
from pipeline.sources.frontmatter import read_source
from tests.conftest import PNG_1PX

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
NOTE = "Interactive widget: open the notebook in Jupyter to use it."
FIGURE = {"data": [{"type": "bar", "x": [1, 2], "y": [3, 4]}], "layout": {}}
EXPORTER = Exporter()
PNG = base64.b64encode(PNG_1PX).decode()


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Tree(HTMLParser):
    """HTML read by the standard library's parser into an ElementTree (its find paths)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("root")
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = ET.SubElement(self.open[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        ET.SubElement(self.open[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag):
        for k in range(len(self.open) - 1, 0, -1):
            if self.open[k].tag == tag:
                del self.open[k:]
                break

    def handle_data(self, data):
        parent = self.open[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def tree(html: str) -> ET.Element:
    reader = _Tree()
    reader.feed(html)
    reader.close()
    return reader.root


def text(element) -> str:
    return "".join(element.itertext())


def widget_output(data=None, view=None):
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0} if view is None else view
    return new_output("display_data", {VIEW: view, **({"text/plain": "IntSlider(value=0)"}
                                                      if data is None else data)})


def notebook(outputs, widgets=...):
    metadata = {"language_info": {"name": "python"}}
    if widgets is not ...:
        metadata["widgets"] = widgets
    return new_notebook(metadata=metadata, cells=[
        new_code_cell("show()", execution_count=1, outputs=outputs)])


def widget_boxes(body: str):
    return tree(body).findall(".//div[@class='nb-widget']")


# -- widget metadata of real shapes -------------------------------------------------------------

SAVED_BY_JUPYTER = {STATE: {"version_major": 2, "version_minor": 0, "state": {
    "abc": {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0", "state": {}}}}}
BROKEN_SHAPES = {
    "colab: models straight under the mimetype (nbconvert#1731)": {STATE: {"abc": {"model_name": "X"}}},
    "no state key": {STATE: {"version_major": 2, "version_minor": 0}},
    "state is null": {STATE: {"state": None}},
    "state is a list": {STATE: {"state": []}},
    "mimetype value is a list": {STATE: []},
    "no widget-state mimetype": {"something": 1},
    "widgets is a list": [],
    "widgets is a string": "x",
    "widgets is null": None,
}


@pytest.mark.parametrize("widgets", BROKEN_SHAPES.values(), ids=BROKEN_SHAPES.keys())
def test_broken_widget_metadata_is_left_out_with_one_warning(widgets):
    for outputs in ([new_output("execute_result", {"text/plain": "3"}, execution_count=1)],
                    [widget_output(), widget_output()]):
        exported = EXPORTER.export(notebook(outputs, widgets))
        (warning,) = exported.warnings
        assert "metadata.widgets" in warning
        assert "re-save the notebook in Jupyter with widget state" in warning
        assert "or remove metadata.widgets" in warning


def test_a_widget_shows_its_static_fallback_and_a_note_not_an_empty_box():
    """What nbconvert wrote before: an empty <div> with a `$('#uuid')` script (no jQuery on
    the site: a ReferenceError) and the widget's JSON; the text it saved was not shown."""
    exported = EXPORTER.export(notebook([widget_output()], SAVED_BY_JUPYTER))
    assert exported.warnings == ()
    (box,) = widget_boxes(exported.body)
    assert [text(p) for p in box.iter("pre")] == ["IntSlider(value=0)"]
    assert [text(p) for p in box.findall(".//div[@class='nb-widget-note']")] == [NOTE]
    page = tree(exported.body)
    assert list(page.iter("script")) == []        # no view script, no widget state script
    assert [e for e in page.iter() if "output_widget_view" in e.get("class", "")] == []
    assert EXPORTER.export(notebook([widget_output()], SAVED_BY_JUPYTER)).body == exported.body
    assert first_paragraph_text(exported.body) == ""   # the note is no page's excerpt


def test_a_widget_view_without_model_id_is_shown_as_its_fallback():
    view = {"version_major": 2, "version_minor": 0}
    for widgets in ({STATE: {"state": {}}}, SAVED_BY_JUPYTER):
        exported = EXPORTER.export(notebook([widget_output(view=view)], widgets))
        (box,) = widget_boxes(exported.body)
        assert box.findtext(".//pre") == "IntSlider(value=0)"


def test_a_widget_with_an_image_fallback_shows_the_image():
    exported = EXPORTER.export(notebook([widget_output({"image/png": PNG, "text/plain": "Canvas"})],
                                        SAVED_BY_JUPYTER))
    (name,) = exported.files
    (box,) = widget_boxes(exported.body)
    assert [img.get("src") for img in box.iter("img")] == [name]
    assert box.findall(".//div[@class='nb-widget-note']")


def test_a_widget_with_nothing_else_saved_shows_the_note():
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # nbconvert's "not able to be represented"
        exported = EXPORTER.export(notebook([widget_output({})], SAVED_BY_JUPYTER))
    (box,) = widget_boxes(exported.body)
    assert text(box).strip() == NOTE


def test_widget_outputs_are_changed_in_a_copy():
    nb = notebook([widget_output()], SAVED_BY_JUPYTER)
    before = nbformat.writes(nb)
    EXPORTER.export(nb)
    assert nbformat.writes(nb) == before


# -- Markdown-only notebooks ------------------------------------------------------------------

def notebook_page(site, cells):
    path = site.root / "content" / "j.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"title": "J"}), str(path))
    return to_notebook(read_source(Source(path, "j", "ipynb")), site.config())


def test_a_markdown_only_notebook_renders_each_cell_alone(site):
    nb = notebook_page(site, [new_markdown_cell("# Joined\n\nIntro."),
                              new_markdown_cell("```python\nx = 1"),
                              new_markdown_cell("## Next section\n\nThis cell is prose.")])
    page = tree(EXPORTER.export(nb).body)
    assert [text(h) for h in page.iter("h2")] == ["Next section"]
    assert [text(p) for p in page.iter("p")] == ["Intro.", "This cell is prose."]
    assert "Next section" not in "".join(text(pre) for pre in page.iter("pre"))


def test_a_markdown_only_notebook_renders_as_the_full_template_does(site):
    import re

    nb = notebook_page(site, [new_markdown_cell("# A\n\nText."),
                              new_markdown_cell("<b>bold</b>\n\n~~~\nopen fence"),
                              new_markdown_cell("## B\n\n- item")])
    shortcut = EXPORTER.export(nb).body
    EXPORTER.warm()
    EXPORTER._markdown.unsupported.clear()           # a new page for the Markdown engine
    body, _ = EXPORTER._html.from_notebook_node(nb, resources={"unique_key": "fig"})
    assert re.sub(r">\s+<", "><", shortcut.strip()) == re.sub(r">\s+<", "><", body.strip())


def test_a_markdown_page_is_still_one_text_across_jupytext_cells(site):
    """(A fence makes it a jupytext page, which splits the text at two blank lines.)"""
    path = site.page("x.md", "---\ntitle: X\n---\n\nText[^1].\n\n```text\nshown\n```\n\n\n"
                             "## Notes\n\n[^1]: The note.\n")
    nb = to_notebook(read_source(Source(path, "x", "md")), site.config())
    assert len([c for c in nb.cells if c.cell_type == "markdown"]) >= 2
    page = tree(EXPORTER.export(nb).body)
    (ref,) = page.findall(".//sup//a[@href]")
    (note,) = page.findall(f".//*[@id='{ref.get('href')[1:]}']")
    assert "The note." in text(note)


# -- Plotly -----------------------------------------------------------------------------------

def plotly_installed():
    from pipeline.render.plotly import plotly_script

    if plotly_script() is None:
        pytest.skip("plotly is not installed in this environment (pip install plotly): the "
                    "interactive figure needs its plotly.min.js")


def figures(body: str):
    return tree(body).findall(".//div[@class='nb-plotly']")


def figure_json(figure) -> str:
    (data,) = figure.findall("script[@type='application/json']")
    return data.text


def test_a_plotly_figure_is_drawn_by_the_sites_plotly_js():
    plotly_installed()
    html = "<script src='https://cdn.plot.ly/plotly-2.35.2.min.js'></script><div>old</div>"
    exported = Exporter().export(notebook([
        new_output("display_data", {PLOTLY: FIGURE, "text/html": html}),
        new_output("display_data", {PLOTLY: FIGURE, "image/png": PNG})]))
    assert exported.scripts == ("plotly.min.js",) and exported.files == {} and not exported.warnings
    shown = figures(exported.body)
    assert len(shown) == 2
    for figure in shown:
        assert len(figure.findall("div[@class='nb-plotly-figure']")) == 1
        assert json.loads(figure_json(figure)) == FIGURE
        (draw,) = [s for s in figure.findall("script") if "type" not in s.attrib]
        assert "Plotly.newPlot(" in draw.text and draw.get("src") is None
    assert "cdn.plot.ly" not in exported.body and not list(tree(exported.body).iter("img"))


def test_plotly_script_is_the_installed_packages_bundle():
    plotly_installed()
    import importlib.util
    from pathlib import Path

    from pipeline.render.plotly import plotly_script

    package = Path(importlib.util.find_spec("plotly").origin).parent
    assert plotly_script() == (package / "package_data" / "plotly.min.js").read_bytes()


def test_plotly_script_is_none_without_the_package():
    from pipeline.render.plotly import plotly_script, script_path

    assert plotly_script("nbpress_no_such_plotly") is None
    assert script_path("json") is None               # a package without plotly.js


def test_figure_json_is_escaped_for_its_script_element():
    """Values of the figure cannot close the <script>, open a comment or break the JSON."""
    title = "</script><script>alert(1)</script> <!-- & \u2028\u2029 \x85"
    figure = {"data": [{"type": "bar", "x": [1, 2], "y": [3, float("nan")]}],
              "layout": {"title": {"text": title}}}
    exported = Exporter(plotly=True).export(notebook([new_output("display_data", {PLOTLY: figure})]))
    (shown,) = figures(exported.body)
    text = figure_json(shown)
    assert not set(text) & set("<>&\u2028\u2029\x85")
    assert json.loads(text) == {"data": [{"type": "bar", "x": [1, 2], "y": [3, None]}],
                                "layout": {"title": {"text": title}}}
    assert len(list(tree(exported.body).iter("script"))) == 2


def test_without_plotly_a_figure_shows_its_static_fallback_with_one_warning():
    """Runs with or without plotly installed: the exporter is told there is none."""
    exported = Exporter(plotly=False).export(notebook([
        new_output("display_data", {PLOTLY: FIGURE, "image/png": PNG, "text/html": "<b>h</b>"}),
        new_output("display_data", {PLOTLY: FIGURE, "text/html": "<b>saved html</b>"}),
        new_output("display_data", {PLOTLY: FIGURE})]))
    page = tree(exported.body)
    (name,) = exported.files
    assert [img.get("src") for img in page.iter("img")] == [name]
    assert [b.text for b in page.iter("b")] == ["saved html"]
    assert [text(p) for p in page.findall(".//div[@class='nb-plotly-missing']")] == [
        "A Plotly figure: this site was built without plotly, and the notebook saved no image of it."]
    assert figures(exported.body) == [] and exported.scripts == ()
    (warning,) = exported.warnings
    assert "pip install plotly" in warning and "the environment that runs nbpress" in warning
