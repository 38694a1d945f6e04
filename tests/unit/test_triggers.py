"""A text is rendered by a parser without the rules it cannot set off (render/triggers.py):
the HTML must be what the parser with every rule makes, for any text, and for the texts of a
page rendered one after the other (a notebook's cells share heading ids and footnotes)."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pipeline.render.autolinks import linkable
from pipeline.render.markdown import Markdown
from pipeline.render.triggers import idle_rules

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "corpora"

# What Markdown's rules are made of, at line starts and inside lines.
PIECES = ["\n", "\n\n", "\r", "\r\n", " ", "  ", "    ", "\t", "a", "word", "1", "1.", "1)",
          "- ", "* ", "+ ", "> ", "# ", "## ", "#", "=", "===", "---", "***", "___", "|",
          "| a | b |\n|---|---|\n| 1 | 2 |", "$", "$$", "$x$", "$$\nx^2\n$$", "\\$", "`", "```",
          "```python\nx = 1\n```", "~~~", "~", "~~", "~~gone~~", ":", ": ", "Term\n: definition",
          "~ def", ":::", ":::{note}\nbody\n:::", "::: {.callout-tip}\ntip\n:::",
          "```{warning}\nbe careful\n```", "~~~{tip}\ntilde box\n~~~", "```{unknown}\nx\n```",
          "{", "}", "(label)=",
          ")=", "[", "]", "[a]", "[a]: /url", "]:", "[a](b)", "![i](p.png)", "!", "^", "[^1]",
          "[^1]: a note", "^[inline note]", "[^x]", "[ ] ", "[x] ", "- [ ] todo", "- [X] done",
          "<", ">", "<b>", "</b>", "<div>\n\n*x*\n\n</div>", "<https://a.org>", "&amp;",
          "&", "&#35;", "*", "_", "**b**", "_i_", "https://example.org", "www.example.com",
          "a@b.org", "\\", "\\*", "%", "% comment", "+++"]


class _Every(Markdown):
    """A renderer whose parsers keep every rule for every text."""

    def _parser_for(self, text: str):
        return self._full(linkable(text))


def _full(monkeypatch) -> Markdown:
    return _Every()


def _pruned() -> Markdown:
    return Markdown()


def test_random_texts_render_as_with_every_rule(monkeypatch):
    rng = random.Random(11)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 18))) for _ in range(3000)]
    pruned = _pruned()
    expected = _full(monkeypatch)
    idled = 0
    for text in texts:
        pruned.begin_page(), expected.begin_page()
        assert pruned.render_marked(text) == expected.render_marked(text), repr(text)
        assert pruned.warnings == expected.warnings, repr(text)
        assert pruned.unsupported == expected.unsupported, repr(text)
        idled += bool(idle_rules(text))
    assert idled > 2500                     # the texts did leave rules out


def test_the_texts_of_a_page_render_as_with_every_rule(monkeypatch):
    """A notebook page's cells, one by one: a footnote defined in one cell and referred to in a
    later one, a heading repeated in two cells."""
    rng = random.Random(5)
    pruned = _pruned()
    expected = _full(monkeypatch)
    for _ in range(400):
        cells = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
                 for _ in range(rng.randint(2, 5))]
        pruned.begin_page(), expected.begin_page()
        for cell in cells:
            assert pruned.render(cell) == expected.render(cell), repr(cells)
        assert pruned.warnings == expected.warnings, repr(cells)


def test_cells_sharing_a_footnote_and_a_heading(monkeypatch):
    cells = ["# Intro\n\nSee the note.[^n]", "plain text, no markers", "[^n]: The note.",
             "# Intro", "Again[^n] and ^[inline]"]
    pruned = _pruned()
    expected = _full(monkeypatch)
    got = [pruned.render(c) for c in cells]
    assert got == [expected.render(c) for c in cells]
    assert 'id="intro-1"' in got[3]


def _pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.md") if p.is_file())


def test_the_example_site_and_the_test_pages_render_as_with_every_rule(monkeypatch):
    pages = _pages(REPO / "content") + _pages(REPO / "tests")
    assert len(pages) > 5
    pruned = _pruned()
    expected = _full(monkeypatch)
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        assert pruned.render_marked(text) == expected.render_marked(text), page


def _markdown_cells(folder: Path) -> list[tuple[Path, str]]:
    cells = []
    for path in sorted(folder.rglob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        cells += [(path, "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                  for c in nb.get("cells", ()) if c.get("cell_type") == "markdown"]
    return cells


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora (real sites) is not here")
def test_real_sites_render_as_with_every_rule(monkeypatch):
    texts = [(p, p.read_text(encoding="utf-8", errors="replace")) for p in _pages(SHARED)]
    texts += _markdown_cells(SHARED)
    assert len(texts) > 100
    pruned = _pruned()
    expected = _full(monkeypatch)
    for page, text in texts:
        assert pruned.render_marked(text) == expected.render_marked(text), page


def test_a_rule_is_left_out_only_when_its_marker_is_missing():
    assert "table" in idle_rules("no pipes here") and "table" not in idle_rules("a | b")
    assert "deflist" not in idle_rules("Term\n: definition")
    assert "deflist" not in idle_rules("Term\r: definition")       # \r ends a line too
    assert "deflist" not in idle_rules("> Term\n> : definition")
    assert "deflist" in idle_rules("time: 12:30 inside a line")
    assert "footnote_ref" in idle_rules("[a](b)") and "footnote_ref" not in idle_rules("[^a]")
    assert "strikethrough" in idle_rules("one ~ tilde") and "fence" not in idle_rules("~~~")
