"""Stage 3 with real kernels: parameters, working folder, isolation, metadata, no kernel for prose."""
from __future__ import annotations

import json
import subprocess
import sys

from pipeline.execute.run import RunContext, execute
from pipeline.sources.frontmatter import read_source
from pipeline.notebook.convert import to_notebook
from pipeline.model import Source
from tests.conftest import REPO

CONTEXT = RunContext(build_time="2026-01-02T03:04:05+00:00", base_url="https://x.example/")


def run_page(site, rel, text):
    path = site.page(rel, text)
    page = read_source(Source(path, rel.removesuffix(".md"), "md"))
    nb = to_notebook(page, site.config())
    return execute(nb, page, site.config(), CONTEXT)


def outputs(nb) -> str:
    return "".join(o.get("text", "") + json.dumps(o.get("data", {}))
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_page_params_and_site_params_are_injected_after_the_parameters_cell(site):
    nb, warnings = run_page(site, "p.md", """\
        ---
        title: "P"
        date: 2024-05-01
        params:
          n: 7
          when: 2024-05-01
        ---

        ```python tags=["parameters"]
        n = 1
        when = None
        ```

        ```python
        print(n * 6, when, nbpress_build_time, nbpress_base_url)
        ```
        """)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags.index(["parameters"]) + 1 == tags.index(["injected-parameters"])
    assert "42 2024-05-01 2026-01-02T03:04:05+00:00 https://x.example/" in outputs(nb)
    assert warnings == []


def test_executed_notebook_keeps_frontmatter_under_our_key(site):
    nb, _ = run_page(site, "blog/p.md", '---\ntitle: "P"\nedited: 2024-02-03\ncustom: [1, 2]\n---\n\n```python\n1 + 1\n```\n')
    assert nb.metadata["nbpress"]["frontmatter"] == {"title": "P", "edited": "2024-02-03",
                                                    "custom": [1, 2]}
    assert nb.metadata["nbpress"]["source"] == "content/blog/p.md"
    assert nb.metadata["papermill"]["input_path"] == "content/blog/p.md"   # not the notebook
    json.dumps(nb)   # the whole notebook is plain JSON


def test_code_runs_in_the_page_folder(site):
    site.file("content/reports/data/numbers.csv", "a\n1\n2\n3\n")
    nb, _ = run_page(site, "reports/sum.md", '---\ntitle: "S"\n---\n\n```python\nprint(sum(int(x) for x in open("data/numbers.csv").read().split()[1:]))\n```\n')
    assert "6\n" in outputs(nb)


def test_a_param_the_parameters_cell_does_not_define_is_warned(site):
    _, warnings = run_page(site, "w.md", '---\ntitle: "W"\nparams:\n  topn: 3\n---\n\n```python tags=["parameters"]\ntop_n = 1\n```\n')
    assert len(warnings) == 1 and "'topn'" in warnings[0] and "w.md" in warnings[0]


def test_pages_do_not_see_each_others_variables(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\n```python\nSHARED = "leak"\nimport json\n```\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\n```python\nprint("SHARED" in globals(), "json" in dir())\n```\n')
    report = site.build()
    assert report.ok
    html = (site.root / "output/b/index.html").read_text(encoding="utf-8")
    assert "False False" in html


def test_bash_fences_are_shown_not_run(site):
    site.page("sh.md", '---\ntitle: "Sh"\n---\n\n```bash\ntouch ran-by-bash\n```\n\n```python\nprint("py ran")\n```\n')
    report = site.build()
    assert report.ok
    html = (site.root / "output/sh/index.html").read_text(encoding="utf-8")
    assert "ran-by-bash" in html and "py ran" in html
    assert not list(site.root.rglob("ran-by-bash"))


def test_a_prose_site_never_starts_a_kernel_nor_imports_papermill(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nJust prose, and a snippet:\n\n```bash\nls\n```\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nMore prose.\n')
    probe = ("import sys; from pipeline import build_site, load_config; "
             f"r = build_site(load_config({str(site.root)!r})); "
             "print(r.ok, sorted(m for m in ('papermill',) "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip() == "True []"


def test_importing_pipeline_does_no_work():
    probe = ("import sys; import pipeline, pipeline.cli; "
             "print(sorted(m for m in ('nbconvert', 'papermill', 'jupytext', 'nbformat', "
             "'frontmatter', 'yaml', 'jinja2', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip() == "[]"
