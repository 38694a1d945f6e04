"""The fast path of a build with nothing to do: decided from the state's index and one walk
of the source folders, it must say exactly what a full plan would say."""
from __future__ import annotations

from pipeline.build.engine import BuildOptions, plan_site
from pipeline.model import Outcome
from pipeline.author.sync import sync_site


def outcomes(report):
    return sorted((r.source.path, r.source.rel, r.source.kind, r.outcome) for r in report.results)


def test_the_fast_path_gives_the_results_a_full_plan_gives(example_site, site):
    assert site.root == example_site
    assert site.build().ok
    fast = site.build()
    assert all(r.outcome in (Outcome.UNCHANGED, Outcome.SKIPPED) for r in fast.results)
    plan = plan_site(site.config())
    full = sorted((d.page.source.path, d.page.source.rel, d.page.source.kind, Outcome.UNCHANGED)
                  for d in plan.decisions)
    full += [(s.page.source.path, s.page.source.rel, s.page.source.kind, Outcome.SKIPPED)
             for s in plan.skipped]
    assert outcomes(fast) == sorted(full)


def test_an_execute_always_page_runs_on_every_build(site):
    site.page("a.md", '---\ntitle: "A"\nexecute: always\n---\n\n```python\nprint(1)\n```\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nB.\n')
    assert site.build().ok
    report = site.build()
    a = next(r for r in report.results if r.source.rel == "a")
    assert a.outcome is Outcome.BUILT and a.executed


def test_a_page_that_failed_is_tried_again(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\n```python\nimport nbpress_no_such_module\n```\n')
    assert not site.build().ok
    assert not site.build().ok          # tried again, not taken for "nothing changed"


def test_a_notebook_of_notebooks_and_a_sync_record_change_are_seen(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    sync_site(site.config())            # writes notebooks/a.ipynb and the sync record
    report = site.build()
    assert {r.source.rel for r in report.results} == {"a"}
    (site.root / "content/a.md").unlink()
    report = site.build()               # the twin is an orphan now: not a page, and said so
    assert [r for r in report.results if r.outcome is not Outcome.SKIPPED] == []
    assert any("notebooks/a.ipynb" in n for n in report.notes)
    again = site.build()
    assert any("notebooks/a.ipynb" in n for n in again.notes)


def test_a_lost_meta_file_costs_a_parse_not_a_wrong_page(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nB.\n')
    assert site.build().ok
    (site.root / ".nbpress-cache/pages.json").write_text("{not json")
    site.page("b.md", '---\ntitle: "B2"\n---\n\nB.\n')
    report = site.build()
    assert report.ok
    assert "B2" in (site.root / "output/b/index.html").read_text()
    assert "B2" in (site.root / "output/a/index.html").read_text()      # the nav shows it
