"""Incremental builds and the execution cache: what must be redone is redone, nothing else,
and a cache that cannot be trusted is discarded, never used."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.model import Outcome
from tests.conftest import REPO, PNG_1PX

CODE = """\
---
title: "Code"
params:
  n: 3
depends: [data/*.csv]
---

Prose {version}.

```python tags=["parameters"]
n = 1
```

```python
import os
rows = open("data/values.csv").read().split()
print("sum", n * sum(int(r) for r in rows), "pid", os.getpid())
```
"""


def prose(title: str, body: str = "Text.") -> str:
    return f'---\ntitle: "{title}"\n---\n\n{body}\n'


@pytest.fixture
def blog(site):
    site.file("content/notes/data/values.csv", "1\n2\n3\n")
    site.page("notes/code.md", CODE.format(version=1))
    site.page("notes/a.md", prose("A", "Links to [b](b.md)."))
    site.page("notes/b.md", prose("B"))
    site.page("about.md", prose("About"))
    assert site.build().ok
    return site


def outcomes(report) -> dict[str, tuple]:
    return {r.source.rel: (r.outcome.value, r.executed, r.cached) for r in report.results}


def html(site, rel: str) -> str:
    return (site.root / "output" / rel / "index.html").read_text(encoding="utf-8")


def inode(site, rel: str) -> int:
    return (site.root / "output" / rel / "index.html").stat().st_ino


def test_nothing_changed_does_nothing(blog):
    before = {p: p.stat().st_ino for p in (blog.root / "output").rglob("*")}
    report = blog.build()
    assert {o for o, _, _ in outcomes(report).values()} == {"unchanged"}
    assert {p: p.stat().st_ino for p in (blog.root / "output").rglob("*")} == before


def test_nothing_changed_imports_no_heavy_library(blog):
    probe = ("import sys; from pipeline import build_site, load_config; "
             f"r = build_site(load_config({str(blog.root)!r})); "
             "print(repr(r), sorted(m for m in ('nbconvert', 'jupytext', 'papermill', 'nbformat',"
             " 'jinja2', 'frontmatter') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout.strip()
    assert out == "BuildReport(built=0, unchanged=4, skipped=0, failed=0) []"


def test_prose_edit_of_a_code_page_reuses_its_outputs(blog):
    pid = html(blog, "notes/code").split("pid ")[1].split("<")[0].split()[0]
    blog.page("notes/code.md", CODE.format(version=2))
    report = blog.build()
    assert outcomes(report)["notes/code"] == ("built", False, True)
    page = html(blog, "notes/code")
    assert "Prose 2." in page and "sum 18" in page and f"pid {pid}" in page


def test_one_edit_rebuilds_that_page_and_its_listings_only(blog):
    kept = {rel: inode(blog, rel) for rel in ("notes/code", "notes/a", "about")}
    blog.page("notes/b.md", prose("B", "New text."))
    report = blog.build()
    assert outcomes(report)["notes/b"][0] == "built"
    assert {rel for rel, (o, _, _) in outcomes(report).items() if o == "built"} == {"notes/b"}
    assert {rel: inode(blog, rel) for rel in kept} == kept
    assert "New text." in html(blog, "notes/b")


def test_a_title_change_reaches_the_listings(blog):
    blog.page("notes/b.md", prose("B renamed"))
    blog.build()
    assert "B renamed" in (blog.root / "output/index.html").read_text(encoding="utf-8")
    assert "B renamed" in html(blog, "notes")


@pytest.mark.parametrize("change, reason", [
    (lambda s: s.page("notes/code.md", CODE.format(version=1).replace("n * sum", "n * 2 * sum")),
     "source changed"),
    (lambda s: s.page("notes/code.md", CODE.format(version=1).replace("n: 3", "n: 4")),
     "source changed"),
    (lambda s: s.file("content/notes/data/values.csv", "1\n2\n3\n4\n"),
     "content/notes/data/values.csv changed"),
])
def test_code_runs_again_when_what_it_reads_changes(blog, change, reason):
    time.sleep(0.01)
    change(blog)
    report = blog.build()
    result = next(r for r in report.results if r.source.rel == "notes/code")
    assert (result.outcome, result.executed, result.reason) == (Outcome.BUILT, True, reason)


def test_base_url_change_reruns_code_title_change_does_not(blog):
    blog.settings('[tool.nbpress]\ntitle = "New title"\n')
    first = outcomes(blog.build())
    assert first["notes/code"] == ("built", False, True)            # every page re-rendered
    assert {o for o, _, _ in first.values()} == {"built"}
    blog.settings('[tool.nbpress]\ntitle = "New title"\nbase_url = "https://x.example/"\n')
    assert outcomes(blog.build())["notes/code"] == ("built", True, False)


def test_execute_always_and_never(blog):
    blog.page("notes/code.md", CODE.format(version=1).replace("depends:", "execute: always\ndepends:"))
    assert outcomes(blog.build())["notes/code"] == ("built", True, False)
    assert outcomes(blog.build())["notes/code"] == ("built", True, False)
    blog.page("notes/code.md", CODE.format(version=1).replace("depends:", "execute: never\ndepends:"))
    assert outcomes(blog.build())["notes/code"] == ("built", False, False)
    assert "sum 18" not in html(blog, "notes/code") and "values.csv" in html(blog, "notes/code")


def test_moving_a_linked_page_rebuilds_the_page_that_links_to_it(blog):
    blog.page("notes/b.md", '---\ntitle: "B"\nslug: /bee\n---\n\nText.\n')
    report = blog.build()
    assert outcomes(report)["notes/a"][0] == "built"
    assert 'href="../../bee/"' in html(blog, "notes/a")
    assert outcomes(report)["about"][0] == "unchanged"


def test_adding_a_page_does_not_rebuild_the_others(blog):
    blog.page("notes/c.md", prose("C"))
    built = {rel for rel, (o, _, _) in outcomes(blog.build()).items() if o == "built"}
    assert built == {"notes/c"}


def test_deleted_page_leaves_no_files(blog):
    (blog.root / "content/notes/b.md").unlink()
    report = blog.build()
    assert not (blog.root / "output/notes/b").exists()
    linking = next(r for r in report.results if r.source.rel == "notes/a")
    assert linking.outcome is Outcome.BUILT and "moved or is gone" in linking.reason
    assert any("'b.md'" in w and "does not exist" in w for w in linking.warnings)


def test_a_changed_image_is_copied_again(site):
    image = site.file("content/img.png", PNG_1PX)
    site.page("p.md", prose("P", "![x](img.png)"))
    assert site.build().ok
    time.sleep(0.01)
    image.write_bytes(PNG_1PX + b"changed")
    report = site.build()
    assert report.results[0].reason == "content/img.png changed"
    assert (site.root / "output/img.png").read_bytes().endswith(b"changed")


def test_output_folder_removed_by_hand_rebuilds_everything(blog):
    import shutil

    shutil.rmtree(blog.root / "output")
    report = blog.build()
    assert {o for o, _, _ in outcomes(report).values()} == {"built"}
    assert outcomes(report)["notes/code"] == ("built", False, True)


def test_a_damaged_execution_cache_entry_is_discarded_and_the_code_runs(blog):
    (entry,) = (blog.root / ".nbpress-cache/exec").glob("*.ipynb")
    entry.write_text('{"cells": [', encoding="utf-8")          # a build killed mid-write
    blog.settings('[tool.nbpress]\ntitle = "force a re-render"\n')
    report = blog.build()
    assert outcomes(report)["notes/code"] == ("built", True, False)
    assert any("damaged execution cache entry" in n for n in report.notes)
    assert "sum 18" in html(blog, "notes/code")
    json.loads(next((blog.root / ".nbpress-cache/exec").glob("*.ipynb")).read_text())


@pytest.mark.parametrize("damage, note", [
    (lambda p: p.write_text("{ not json", encoding="utf-8"), "unreadable"),
    (lambda p: p.write_text(p.read_text().replace('"nbpress":"0.1.0"', '"nbpress":"0.0.1"'),
                            encoding="utf-8"), "another version"),
    (lambda p: p.write_text(p.read_text().replace('"pages":{', '"pagez":{'), encoding="utf-8"),
     "damaged"),
])
def test_a_build_state_that_cannot_be_trusted_is_discarded(blog, damage, note):
    damage(blog.root / ".nbpress-cache/build.json")
    report = blog.build()
    assert report.ok and any(note in n for n in report.notes)
    assert {o for o, _, _ in outcomes(report).values()} == {"built"}
    assert "sum 18" in html(blog, "notes/code")
    assert {o for o, _, _ in outcomes(blog.build()).values()} == {"unchanged"}


def test_environment_key_follows_installed_packages(tmp_path, monkeypatch):
    from pipeline.execute.cache import environment_key

    packages = tmp_path / "site-packages"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))
    before = environment_key()
    (packages / "newpkg-1.0.dist-info").mkdir()
    assert environment_key() != before


def test_status_says_what_a_build_would_do(blog):
    from pipeline.build.status import site_status

    blog.page("notes/code.md", CODE.format(version=2))
    blog.page("notes/b.md", prose("B", "changed"))
    lines = {line.source: line for line in site_status(blog.config())}
    assert (lines["content/notes/code.md"].action, lines["content/notes/code.md"].code) == ("build", "cached")
    assert lines["content/notes/b.md"].reason == "source changed"
    assert lines["content/about.md"].action == "keep"
    assert not (blog.root / "output/notes/b/index.html").read_text().count("changed")


def test_cli_status_why_and_clean(blog):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "pipeline", *args, "--site", str(blog.root)],
                              capture_output=True, text=True, cwd=REPO)

    blog.page("notes/b.md", prose("B", "changed"))
    status = run("status")
    assert status.returncode == 0 and "build  content/notes/b.md  source changed" in status.stderr
    why = run("build", "--why")
    assert "built  content/notes/b.md  source changed" in why.stderr
    assert "unchanged  content/about.md" in why.stderr
    clean = run("clean", "--cache")
    assert clean.returncode == 0 and "removed output/" in clean.stderr
    cache = blog.root / ".nbpress-cache"
    assert not (blog.root / "output").exists()
    assert not (cache / "build.json").exists() and not (cache / "exec").exists()
