"""Bugs the review of the prose fast path (helper-26) reproduced, each with the build or the
process that showed it."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from pipeline.build.audit import Audit, Hidden, _leak
from pipeline.build.output import Staging


@pytest.mark.parametrize("text", [
    "<p>Write <code>content='href='</code> like <a href=\"/blog/draft/\">the plan</a></p>",
    '<a data-content="href=" href="/blog/draft/">x</a>',
    '<p data-content="src=" src="/blog/draft/">x</p>',
    '<loc>href="</loc> <a href="/blog/draft/">',
    '<p>"title":"</p>{"title":"Secret Plan"}',
])
def test_a_value_holding_another_attributes_word_never_hides_a_leak(text):
    audit = Audit([Hidden(Path("/s/content/blog/draft.md"), "/blog/draft/", "Secret Plan")],
                  "https://h.example/", set(), set())
    assert _leak("blog/tips/index.html", text, audit) is not None


@pytest.mark.parametrize("body", [
    "In a meta tag write `content='href='` and see <a href=\"/blog/draft/\">the plan</a>.\n",
    # the audit reads a page with every pattern it has: its own JSON-LD naming a draft shows it
    '<script type="application/ld+json">{"url":"/blog/draft/"}</script>\n\nTips.\n',
], ids=["code-shows-an-attribute-word", "json-ld-url"])
def test_a_page_showing_a_draft_url_fails(site, body):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("blog/draft.md", "---\ntitle: Secret Plan\ndraft: true\n---\n\nx\n")
    site.page("blog/tips.md", "---\ntitle: Tips\n---\n\n" + body)
    (failed,) = site.build().failed
    assert "draft.md" in failed.error.message and failed.source.rel == "blog/tips"
    assert not (site.root / "output" / "blog" / "tips").exists()


def _write_after(staging: Staging, carried: multiprocessing.Event, done: multiprocessing.Event):
    carried.wait(10)
    staging.write("old-a/index.html", "Page B two")
    done.set()


def test_a_worker_never_writes_through_a_file_the_build_process_carried_after_it_forked(tmp_path):
    """A failed page's last good version is carried (hard linked) by the build process after
    the workers fork; a worker writing that path must not change the live file."""
    output = tmp_path / "output"
    (output / "old-a").mkdir(parents=True)
    (output / "old-a" / "index.html").write_text("Page A", encoding="utf-8")
    (output / ".nbpress.json").write_text("{}", encoding="utf-8")
    staging = Staging(output)
    fork = multiprocessing.get_context("fork")
    carried, done = fork.Event(), fork.Event()
    worker = fork.Process(target=_write_after, args=(staging, carried, done))
    worker.start()
    assert staging.carry(["old-a/index.html"])           # after the worker forked
    carried.set()
    worker.join(10)
    assert done.is_set()
    assert (output / "old-a" / "index.html").read_text(encoding="utf-8") == "Page A"
    staging.abort()
