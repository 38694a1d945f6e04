"""Stage 4: Plotly figures saved in a notebook (`application/vnd.plotly.v1+json`, what plotly's
notebook renderers write) drawn in the page by plotly.js, offline. The only plotly user.

plotly.js is not fetched from a CDN: the site serves one copy, `assets/plotly.min.js`, taken
from the `plotly` package installed where nbpress runs (`plotly_script`). A page that has a
figure says so with `Exported.scripts` (`SCRIPT`); each figure is a `<div>`, its JSON in a
`<script type="application/json">` and a fixed inline script that draws it. Without plotly in
the build environment a figure shows its static image or HTML, if the notebook saved one.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

MIMETYPE = "application/vnd.plotly.v1+json"
SCRIPT = "plotly.min.js"                     # served by the site as assets/plotly.min.js
PACKAGE = "plotly"
STATIC = ("image/png", "image/svg+xml", "image/jpeg", "text/html")   # fallbacks, best first
# Draws the figure of the <div class="nb-plotly"> it sits in; holds no value of the page.
# plotly.js may load after it (a deferred <script src>): then it draws at DOMContentLoaded.
_DRAW = ("(function (s) {\n"
         "  function draw() {\n"
         "    if (!window.Plotly) return;\n"
         "    var box = s.parentNode;\n"
         "    var json = box.querySelector('script[type=\"application/json\"]');\n"
         "    var fig = JSON.parse(json.textContent);\n"
         "    Plotly.newPlot(box.querySelector('.nb-plotly-figure'), fig.data || [],\n"
         "                   fig.layout || {}, Object.assign({responsive: true}, fig.config || {}));\n"
         "  }\n"
         "  if (window.Plotly) draw(); else document.addEventListener('DOMContentLoaded', draw);\n"
         "})(document.currentScript);")


def script_path(package: str = PACKAGE) -> Path | None:
    """plotly.js as the installed `package` ships it (`plotly/package_data/plotly.min.js`), or
    None when the build environment has no such package. Found without importing plotly."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "package_data" / SCRIPT
        if path.is_file():
            return path
    return None


def plotly_script(package: str = PACKAGE) -> bytes | None:
    """The bytes of plotly.min.js for the site's `assets/plotly.min.js`, or None without plotly."""
    path = script_path(package)
    return path.read_bytes() if path is not None else None


def figure_html(figure) -> str:
    """One figure: a `<div>` plotly.js draws into, its JSON (escaped for a <script>) and the
    inline script that draws it. `figure` is the output's {"data", "layout", "config"}."""
    return ('<div class="nb-plotly">\n<div class="nb-plotly-figure"></div>\n'
            f'<script type="application/json">{script_json(figure)}</script>\n'
            f"<script>\n{_DRAW}\n</script>\n</div>")


def static_data(data) -> dict:
    """What an output shows instead of its figure when the build has no plotly.js: its static
    image, else its HTML, else a short note (never an empty box; a <div>, not a <p> a page's
    excerpt could be taken from)."""
    for mimetype in STATIC:
        if mimetype in data:
            return {mimetype: data[mimetype]}
    return {"text/html": '<div class="nb-plotly-missing">A Plotly figure: this site was built '
                         "without plotly, and the notebook saved no image of it.</div>"}


def missing_warning() -> str:
    return ("a Plotly figure is shown as its static image or HTML (or a note, when the notebook "
            "saved none): plotly is not installed where nbpress runs; fix: `pip install plotly` "
            "in the environment that runs nbpress")


def script_json(value) -> str:
    """JSON safe inside <script>: `<`, `>`, `&` and the line separators as \\u escapes, as
    the layout writes its own (`render/html.script_safe`); NaN and infinities, which
    `JSON.parse` refuses (nbformat reads them), become null."""
    from pipeline.render.html import script_safe

    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)
    return script_safe(text)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
