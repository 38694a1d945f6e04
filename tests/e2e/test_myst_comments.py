"""MyST's `% comment` lines are the author's notes, never published: in a page MyST wrote
(a jupytext MyST header, or `myst:` in its frontmatter, as Jupyter Book's pages have), prose
or with code; a plain Markdown page's line that starts with `%` is text; the notebook twin
keeps every comment (it is the author's page)."""
from __future__ import annotations

import json

from tests.e2e.test_review_inputs_15 import page_at

MYST_FRONT = '---\ntitle: Guide\nmyst:\n  substitutions:\n    key: "value"\n---\n\n'


def test_a_prose_page_with_myst_frontmatter_publishes_no_comment(site):
    site.page("guide.md", MYST_FRONT + "Before.\n\n% REMOVE when version is >= 0.15\n"
              "  % indented, still one\n\nAfter.\n\n```text\n% kept: in code\n```\n")
    assert site.build().ok
    text = page_at(site.root, "guide/index.html").text
    assert "Before." in text and "After." in text and "% kept: in code" in text
    assert "REMOVE" not in text and "indented" not in text


def test_a_page_with_code_and_myst_frontmatter_publishes_no_comment(site):
    site.page("run.md", MYST_FRONT + "% a private note\n\nText.\n\n```python\nprint(6 * 7)\n```\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    text = page_at(site.root, "run/index.html").text
    assert "private note" not in text and "42" in text and "Text." in text


def test_a_plain_markdown_page_keeps_a_line_that_starts_with_a_percent_sign(site):
    site.page("budget.md", "---\ntitle: Budget\n---\n\n% of the budget spent: 40\n")
    assert site.build().ok
    assert "% of the budget spent: 40" in page_at(site.root, "budget/index.html").text


def test_the_notebook_twin_keeps_the_comments(site):
    from click.testing import CliRunner

    from pipeline.cli import main

    site.page("guide.md", MYST_FRONT + "% a private note\n\nText.\n")
    done = CliRunner().invoke(main, ["sync", "--site", str(site.root)])
    assert done.exit_code == 0, done.output
    twin = json.loads((site.root / "notebooks" / "guide.ipynb").read_text(encoding="utf-8"))
    assert "% a private note" in "".join("".join(c["source"]) for c in twin["cells"])
    assert "% a private note" in (site.root / "content" / "guide.md").read_text(encoding="utf-8")


def test_myst_substitutions_are_shown_as_written_and_said(site):
    site.page("guide.md", MYST_FRONT + "Text.\n\nInline: {{ key }}\n")
    report = site.build()
    assert report.ok
    (warning,) = [w for r in report.results for w in r.warnings]
    assert "guide.md:10:" in warning and "substitutions" in warning
    assert "Inline: {{ key }}" in page_at(site.root, "guide/index.html").text
    site.page("plain.md", "---\ntitle: Plain\n---\n\nA {{ template }} of another tool.\n")
    assert not [w for r in site.build().results if r.source.rel == "plain" for w in r.warnings]


def test_a_comment_ends_its_paragraph_and_a_nested_code_example_keeps_its_own(site):
    """As MyST reads them: `% note` between two lines makes two paragraphs; a ````` ````md `````
    example holding a ```` ```{note} ```` block with a `%` line is code, whole."""
    site.page("guide.md", MYST_FRONT + "Para one\n% a note\nPara two\n\n````md\n```{note}\n"
              "% shown in the example\nText\n```\n````\n")
    assert site.build().ok
    page = page_at(site.root, "guide/index.html")
    assert "a note" not in page.text and "% shown in the example" in page.text
    html = (site.root / "output" / "guide" / "index.html").read_text(encoding="utf-8")
    assert "<p>Para one</p>" in html and "<p>Para two</p>" in html


def test_braces_in_code_are_no_substitution(site):
    site.page("tpl.md", MYST_FRONT + "Text.\n\n```jinja\n{{ page.title }}\n```\n")
    report = site.build()
    assert report.ok and not [w for r in report.results for w in r.warnings]


def test_a_comment_in_a_list_item_leaves_the_list_tight(site):
    site.page("steps.md", MYST_FRONT + "Steps:\n\n1. one\n   % a note\n2. two\n")
    assert site.build().ok
    html = (site.root / "output" / "steps" / "index.html").read_text(encoding="utf-8")
    assert "<li>one</li>" in html and "a note" not in html


def test_inline_code_in_triple_backticks_opens_no_fence(site):
    """```pip install``` on a line is inline code (a fence's info string has no backtick):
    the comments after it are still the author's."""
    site.page("cmd.md", MYST_FRONT + "```pip install``` is the command.\n\n% private: remove\n\nText.\n")
    assert site.build().ok
    assert "private" not in page_at(site.root, "cmd/index.html").text
