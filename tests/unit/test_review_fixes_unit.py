"""Review fixes, the pure parts: open HTML containers counted with a stack (bug 5), mojibake
in code never repaired (bug 11)."""
from __future__ import annotations

import pytest

from pipeline.author.check import mojibake
from pipeline.notebook.blocks import open_containers


@pytest.mark.parametrize("text, depth", [
    ("</div>\n<style>\n.one {}", 1),                 # the end tag closes a cell before's div
    ("</div>\n</section>\n<pre>\nline", 1),
    ("<div>\n</div>\n</div>\n<script>\nvar a;", 1),
    ("</ul>\n<div><div>", 2),
])
def test_an_end_tag_with_nothing_open_does_not_cancel_a_later_opening(text, depth):
    assert open_containers(text) == depth


def test_code_that_markdown_shows_as_code_opens_nothing_and_lookalikes_still_do():
    assert open_containers("Text.\n\n    <div class='example'>\n") == 0    # indented code
    assert open_containers("```html\n<div>\n```\n\n    <div>\n") == 0       # after a fence
    assert open_containers(r"Write \<div> to open one.") == 0                # escaped
    assert open_containers("A span ``over `<div>`\nlines``.") == 0
    assert open_containers("- item\n\n    <div class='in-the-item'>\n") == 1   # list text
    assert open_containers("<div>\n    <div>\n") == 2                    # in an HTML block
    assert open_containers("<div>\n  <script>\n    a();\n\n    b();\n  </script>\n") == 1
    assert open_containers(r"\\<div>") == 1                             # an escaped backslash


def _page(tmp_path, text: str):
    path = tmp_path / "moji.md"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_mojibake_in_code_is_a_note_and_is_never_repaired(tmp_path):
    text = ("---\ntitle: M\n---\n\nThe inline `cafÃ©` example.\n\n"
            "```text\nâ€œquotesâ€\n```\n")
    path = _page(tmp_path, text)

    found = mojibake(path, fix=True)

    assert path.read_bytes() == text.encode("utf-8")
    assert [(f.line, f.repaired, f.note) for f in found] == [(5, None, True), (8, None, True)]
    assert "left as written" in found[0].message


def test_a_line_of_prose_and_code_has_its_prose_repaired_and_its_code_kept(tmp_path):
    path = _page(tmp_path, "Prose cafÃ© and code `cafÃ©`.\r\nnext\n")

    (finding,) = mojibake(path, fix=True)

    assert finding.repaired == "Prose café and code `cafÃ©`." and not finding.note
    assert path.read_bytes() == "Prose café and code `cafÃ©`.\r\nnext\n".encode("utf-8")


def test_a_partial_repair_is_not_offered_and_not_made(tmp_path):
    text = "Lost a byte: â€œquotesâ€\n"
    path = _page(tmp_path, text)

    (finding,) = mojibake(path, fix=True)

    assert finding.repaired is None and not finding.note
    assert "cannot be repaired whole" in finding.message
    assert path.read_bytes() == text.encode("utf-8")
