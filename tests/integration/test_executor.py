"""The executor interface (execute/base.py): a job carries what a run needs, the files its
code may read among them (what an executor on another machine must ship)."""
from __future__ import annotations

from pipeline.build.engine import plan_site
from pipeline.build.pages import PageContext, build_one
from pipeline.execute.base import InlineExecutor
from pipeline.model import Outcome


class Recording(InlineExecutor):
    """The real inline executor, keeping the jobs it was given."""

    def __init__(self):
        self.jobs = []

    def submit(self, job):
        self.jobs.append(job)
        return super().submit(job)


def test_a_job_carries_the_page_folder_and_the_data_its_code_may_read(site):
    data = site.file("content/report/sales.csv", "region,total\nnorth,3\n")
    site.file("content/report/extra/notes.txt", "kept\n")
    page = site.page("report/index.md", '---\ntitle: "Report"\ndepends: ["inputs/*.txt"]\n---\n\n'
                                        '```python\nprint(open("sales.csv").read())\n```\n')
    declared = site.file("content/report/inputs/a.txt", "a\n")
    plan = plan_site(site.config())
    assert not plan.failures, plan.failures
    recording = Recording()
    try:
        with PageContext.create(site.config(), plan.writer, plan.decisions, isolate=True) as context:
            context.executor = recording
            result, _ = build_one(plan.decisions[0], context)
    finally:
        plan.writer.abort()
    assert result.outcome is Outcome.BUILT and result.executed, result.error
    [job] = recording.jobs
    assert job.cwd == page.parent and job.page.source.path == page
    assert set(job.files) == {data, site.root / "content/report/extra/notes.txt", declared}
