"""Regressions found by review: each test is a scenario that once published a wrong page,
lost an author's work, or failed where it should not."""
from __future__ import annotations

import os
import stat
import time

import nbformat

from pipeline.model import Outcome
from pipeline.author.sync import Action, sync_site
from tests.conftest import PNG_1PX


def result(report, rel):
    return next(r for r in report.results if r.source.rel == rel)


def test_twin_outputs_are_not_published_when_the_page_has_params(site):
    site.page("p.md", '---\ntitle: "P"\nparams:\n  n: 7\n---\n\n```python tags=["parameters"]\nn = 1\n```\n\n```python\nprint("N IS", n)\n```\n')
    sync_site(site.config())
    path = site.root / "notebooks/p.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="N IS 1\n")]
    nbformat.write(nb, path)
    r = result(site.build(), "p")
    assert r.executed and not r.twin
    assert "N IS 7" in (site.root / "output/p/index.html").read_text()


def test_myst_code_cells_without_options_run(site):
    site.page("m.md", "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n# M\n\n```{code-cell} python\nprint(6 * 7)\n```\n")
    r = result(site.build(), "m")
    assert r.executed
    html = (site.root / "output/m/index.html").read_text()
    assert ">42" in html and "{code-cell}" not in html


def test_a_new_asset_version_replaces_the_one_a_failed_page_carried(site):
    pic = site.file("content/img.png", PNG_1PX)
    site.page("a.md", '---\ntitle: "A"\n---\n\n![a](img.png)\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\n![b](img.png)\n')
    assert site.build().ok
    site.page("a.md", '---\ntitle: "A\n---\n\nbroken yaml\n')
    time.sleep(0.01)
    pic.write_bytes(PNG_1PX + b"new version")
    report = site.build()
    assert result(report, "a").outcome is Outcome.FAILED and result(report, "a").kept_previous
    assert (site.root / "output/img.png").read_bytes().endswith(b"new version")


def test_a_remote_featured_image_is_used_as_it_is(site):
    site.settings('[tool.nbpress]\nbase_url = "https://x.example/"\n')
    site.page("p.md", '---\ntitle: "P"\nfeaturedImage: "https://cdn.example.org/card.png"\n---\n\nx\n')
    assert site.build().ok
    html = (site.root / "output/p/index.html").read_text()
    assert '<meta property="og:image" content="https://cdn.example.org/card.png">' in html


def test_sync_keeps_a_fastpages_notebook_as_a_notebook_page(site):
    (site.root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A post\n> Summary.\n\n- toc: true"),
        nbformat.v4.new_code_cell("#hide\nsecret = 1")])
    nbformat.write(nb, site.root / "notebooks/2020-02-20-post.ipynb")
    (outcome,) = sync_site(site.config())
    assert outcome.action is Action.UNCHANGED and "fastpages" in outcome.detail
    assert not (site.root / "content/2020-02-20-post.md").exists()


def test_sync_keeps_a_page_s_permissions_and_writes_through_a_symlink(site):
    real = site.page("real.md", '---\ntitle: "R"\n---\n\nText.\n')
    os.chmod(real, 0o644)
    link = site.root / "content/linked.md"
    other = site.file("elsewhere/linked.md", '---\ntitle: "L"\n---\n\nText.\n')
    link.symlink_to(other)
    sync_site(site.config())
    for name in ("real", "linked"):
        path = site.root / f"notebooks/{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells[-1].source = "Edited in Jupyter."
        nbformat.write(nb, path)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    outcomes = {o.pair.rel: o.action for o in sync_site(site.config())}
    assert outcomes == {"real": Action.TO_MD, "linked": Action.TO_MD}
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    assert link.is_symlink() and "Edited in Jupyter." in other.read_text()


def test_sync_names_a_page_that_is_not_utf8_and_goes_on(site):
    site.page("ok.md", '---\ntitle: "OK"\n---\n\nText.\n')
    bad = site.root / "content/bad.md"
    bad.write_bytes(b'---\ntitle: "B"\n---\n\ncaf\xe9\n')
    outcomes = {o.pair.rel: o for o in sync_site(site.config())}
    assert outcomes["bad"].action is Action.ERROR and "bad.md:5" in outcomes["bad"].detail
    assert outcomes["ok"].action is Action.NEW_IPYNB


def test_clean_cache_keeps_sync_s_record_and_backups(site):
    import subprocess
    import sys

    from tests.conftest import REPO

    site.page("a.md", '---\ntitle: "A"\n---\n\nx\n')
    sync_site(site.config())
    site.build()
    backups = site.root / ".nbpress-cache/sync-backup"
    backups.mkdir()
    (backups / "keep.md").write_text("an edit someone chose against")
    subprocess.run([sys.executable, "-m", "pipeline", "clean", "--cache", "--site", str(site.root)],
                   check=True, capture_output=True, cwd=REPO)
    assert (backups / "keep.md").exists() and (site.root / ".nbpress-cache/sync.json").exists()
    assert not (site.root / ".nbpress-cache/build.json").exists()


def test_a_new_file_matching_depends_rebuilds_the_page(site):
    site.file("content/data/one.csv", "1\n")
    site.page("d.md", '---\ntitle: "D"\ndepends: [data/*.csv]\n---\n\n```python\nimport glob\nprint(sorted(glob.glob("data/*.csv")))\n```\n')
    assert site.build().ok
    site.file("content/data/two.csv", "2\n")
    r = result(site.build(), "d")
    assert r.outcome is Outcome.BUILT and r.executed and "data/*.csv" in r.reason
    assert "two.csv" in (site.root / "output/d/index.html").read_text()


def test_two_builds_at_once_both_publish_every_page(site):
    import subprocess
    import sys

    from tests.conftest import REPO

    for i in range(60):
        site.page(f"p{i}.md", f'---\ntitle: "P{i}"\n---\n\nText {i}.\n')
    cmd = [sys.executable, "-m", "pipeline", "build", "-q", "--site", str(site.root)]
    runs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    assert all((site.root / f"output/p{i}/index.html").is_file() for i in range(60))
    assert not list(site.root.glob(".output.*"))


def test_status_knows_when_outputs_come_from_the_notebook(site):
    from pipeline.build.status import site_status

    site.page("n.md", '---\ntitle: "N"\n---\n\n```python\nprint(1)\n```\n')
    sync_site(site.config())
    path = site.root / "notebooks/n.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(nb, path)
    (line,) = site_status(site.config())
    assert line.code == "outputs from its notebook"


def test_a_worker_that_dies_fails_its_pages_and_the_build_finishes(site, monkeypatch):
    import pipeline.build.pages

    for i in range(6):
        site.page(f"p{i}.md", f'---\ntitle: "P{i}"\n---\n\nText {i}.\n')
    real = pipeline.build.pages.build_one

    def dies_on_p3(decision, context):       # a crash or the OOM killer, in a worker
        if decision.page.source.rel == "p3" and os.getpid() != parent:
            os._exit(9)
        return real(decision, context)
    parent = os.getpid()
    monkeypatch.setattr(pipeline.build.pages, "build_one", dies_on_p3)
    report = site.build(jobs=2)
    failed = [r for r in report.results if r.outcome is Outcome.FAILED]
    assert "p3" in {r.source.rel for r in failed}
    assert all("worker process" in r.error.message and "--jobs 1" in r.error.hint for r in failed)
    assert (site.root / "output/index.html").is_file()


def test_same_named_images_from_content_and_notebooks_are_warned_about(site):
    site.file("content/images/chart.png", PNG_1PX)
    site.file("notebooks/images/chart.png", PNG_1PX + b"other")
    site.page("a.md", '---\ntitle: "A"\n---\n\n![a](images/chart.png)\n')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# B\n\n![b](images/chart.png)")])
    nbformat.write(nb, site.root / "notebooks/b.ipynb")
    report = site.build()
    warnings = [w for r in report.results for w in r.warnings]
    assert any("both publish to images/chart.png" in w for w in warnings)


def test_check_finds_duplicate_slugs(site):
    from pipeline.author.check import check_site

    a = site.page("a.md", '---\ntitle: "A"\nslug: /same\n---\n\nx\n')
    site.page("b.md", '---\ntitle: "B"\nslug: same\n---\n\ny\n')
    findings = check_site(site.config())
    assert {f.path for f in findings} == {a, site.root / "content/b.md"}
    assert all("also the slug of" in f.message for f in findings)
