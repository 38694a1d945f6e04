"""Notebook outputs the site cannot run, through a whole build and in a real browser: widget
metadata that used to fail the page, and a Plotly figure drawn offline by the site's copy of
plotly.js (the page template's <script src> is the site's job: here a host page stands in)."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output, new_raw_cell

from pipeline.render.export import Exporter
from tests.integration.test_export_fixes import tree

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
FIGURE = {"data": [{"type": "bar", "x": [1, 2], "y": [3, 4]}], "layout": {}}


def saved_notebook(path, widgets, outputs):
    nb = new_notebook(metadata={"language_info": {"name": "python"}, "widgets": widgets}, cells=[
        new_raw_cell("---\ntitle: Saved\n---", metadata={"raw_mimetype": "text/x-yaml"}),
        new_code_cell("show()", execution_count=1, outputs=outputs)])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def test_a_colab_notebook_with_widgets_builds_with_a_warning_naming_it(site):
    """Colab saves the widget models straight under the mimetype, without "state"
    (nbconvert#1731): the page failed with KeyError: 'state'."""
    page = site.root / "content" / "colab.ipynb"
    saved_notebook(page, {STATE: {"abc": {"model_name": "IntSliderModel"}}}, [new_output(
        "display_data", {VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                         "text/plain": "IntSlider(value=3)"})])
    report = site.build()
    assert report.ok, [r.error for r in report.failed]
    (warning,) = [w for w in report.warnings() if "metadata.widgets" in w]
    assert str(page) in warning and "remove metadata.widgets" in warning
    html = tree((site.root / "output" / "colab" / "index.html").read_text(encoding="utf-8"))
    (box,) = html.findall(".//div[@class='nb-widget']")
    assert box.findtext(".//pre") == "IntSlider(value=3)"
    assert "open the notebook in Jupyter" in box.findtext('.//div[@class="nb-widget-note"]')


HOSTS = {   # where a site may put its <script src>: each must draw the figures
    "deferred in the head": '<head><script src="plotly.min.js" defer></script></head><body>{}</body>',
    "in the head": '<head><script src="plotly.min.js"></script></head><body>{}</body>',
    "at the end of the body": '<body>{}<script src="plotly.min.js"></script></body>',
}


def chromium():
    """Debian's Chromium through playwright, or a skip saying what is missing (a failure in
    CI, where the page tests must run)."""
    import os

    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        reason, sync_playwright = f"playwright is not importable ({exc})", None
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser test cannot run in CI: {reason}", pytrace=False)
    if reason:
        pytest.skip(f"needs a browser: {reason}")
    return sync_playwright


def draw_in_chromium(folder, expected: int):
    """Open folder/index.html from a local HTTP server, every other host refused; wait for
    `expected` drawn figures. (bars per figure, title of the second, window.hit, requests,
    errors)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base, requests, errors = f"http://127.0.0.1:{server.server_address[1]}", [], []
    try:
        with chromium()() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-first-run"])
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                    base) else route.abort())
                page.on("request", lambda r: requests.append(r.url))
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))
                page.goto(base + "/index.html", wait_until="load")
                page.wait_for_function("document.querySelectorAll('.nb-plotly .js-plotly-plot')"
                                       f".length == {expected}", timeout=20000)
                found = page.evaluate("""() => {
                    const figures = [...document.querySelectorAll('.nb-plotly-figure')];
                    return [figures.map(f => f.querySelectorAll('.bars .point').length),
                            figures[1].querySelector('.gtitle').textContent, window.hit];
                }""")
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return (*found, [r[len(base):] if r.startswith(base) else r for r in requests], errors)


CHROMIUM = "/usr/bin/chromium"
HOSTS = {   # where a site may put its <script src>: each must draw the figures
    "deferred in the head": '<head><script src="plotly.min.js" defer></script></head><body>{}</body>',
    "in the head": '<head><script src="plotly.min.js"></script></head><body>{}</body>',
    "at the end of the body": '<body>{}<script src="plotly.min.js"></script></body>',
}


@pytest.mark.parametrize("host", HOSTS.values(), ids=HOSTS.keys())
def test_plotly_figures_are_drawn_offline_in_chromium(tmp_path, host):
    from pipeline.render.plotly import plotly_script

    script = plotly_script()
    if script is None:
        pytest.skip("plotly is not installed in this environment (pip install plotly): the "
                    "figure needs its plotly.min.js")
    titled = {**FIGURE, "layout": {"title": {"text": "</script> & x"}}}
    injected = {**FIGURE, "layout": {"title": {"text": "</script><script>window.hit=1</script>"}}}
    exported = Exporter().export(new_notebook(cells=[new_code_cell("fig", outputs=[
        new_output("display_data", {PLOTLY: data}) for data in (FIGURE, titled, injected)])]))
    assert exported.scripts == ("plotly.min.js",)
    (tmp_path / "plotly.min.js").write_bytes(script)
    (tmp_path / "index.html").write_text("<!doctype html><html>" + host.format(exported.body)
                                         + "</html>", encoding="utf-8")
    bars, title, hit, requests, errors = draw_in_chromium(tmp_path, 3)
    assert bars == [2, 2, 2] and title == "</script> & x" and hit is None
    assert errors == [] and sorted(requests) == ["/index.html", "/plotly.min.js"]


def test_a_plotly_page_builds_and_says_it_needs_plotly_js(site):
    """Through a whole build: the page is published with its figure's JSON (the site's
    copy of plotly.min.js and its <script src> are wired by the site phase)."""
    from pipeline.render.plotly import plotly_script

    if plotly_script() is None:
        pytest.skip("plotly is not installed in this environment (pip install plotly)")
    saved_notebook(site.root / "content" / "fig.ipynb", {STATE: {"state": {}}},
                   [new_output("display_data", {PLOTLY: FIGURE})])
    report = site.build()
    assert report.ok and not report.warnings()
    html = tree((site.root / "output" / "fig" / "index.html").read_text(encoding="utf-8"))
    (data,) = html.findall(".//div[@class='nb-plotly']/script[@type='application/json']")
    assert json.loads(data.text) == FIGURE


def test_a_plotly_page_loads_the_sites_one_copy_of_plotly_js(site):
    """Two pages with a figure: one assets/plotly.min.js for the site, a <script src> to it
    in their heads (relative), none in a page without a figure; a re-layout keeps it."""
    from pipeline.render.plotly import plotly_script

    if plotly_script() is None:
        pytest.skip("plotly is not installed in the build environment (pip install plotly)")
    for name in ("one", "two"):
        saved_notebook(site.root / "content" / "figs" / f"{name}.ipynb", {}, [new_output(
            "display_data", {PLOTLY: FIGURE, "text/plain": "Figure()"})])
    site.page("plain.md", "---\ntitle: Plain\n---\n\nText.\n")
    assert site.build().ok
    out = site.root / "output"
    assert (out / "assets" / "plotly.min.js").read_bytes() == plotly_script()
    for name in ("one", "two"):
        html = tree((out / "figs" / name / "index.html").read_text(encoding="utf-8"))
        srcs = [s.get("src") for s in html.iter("script") if s.get("src")]
        assert srcs == ["../../assets/plotly.min.js"], srcs
    plain = tree((out / "plain" / "index.html").read_text(encoding="utf-8"))
    assert not [s for s in plain.iter("script") if s.get("src")]
    site.page("figs/three.md", "---\ntitle: Three\n---\n\nA new page in the section.\n")
    assert site.build().ok                          # the others laid out again: kept
    html = tree((out / "figs" / "one" / "index.html").read_text(encoding="utf-8"))
    assert [s.get("src") for s in html.iter("script") if s.get("src")] == ["../../assets/plotly.min.js"]
