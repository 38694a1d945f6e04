"""Every HTML reader of ours reads any text without raising, as a browser does: `<![` is a
comment to the next `>` (Python 3.11's parser raised on `<![i](i.png)`, failing the page:
found by CI in tests/unit/test_engine_urls.py)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from pipeline.markup import HtmlReader
from pipeline.notebook.blocks import open_containers
from pipeline.render.html import first_paragraph_text, headings, leading_heading, url_attributes
from pipeline.render.style import scope_styles
from pipeline.site.anchors import element_ids

READERS = [lambda t: list(url_attributes(t)), first_paragraph_text, headings, leading_heading,
           lambda t: scope_styles(t, "#a"), element_ids, open_containers]
TEXT = st.lists(st.sampled_from([
    "<", ">", "!", "[", "]", "-", "/", "?", "'", '"', "=", " ", "\n", "a", "if", "CDATA",
    "<![", "<!", "<!--", "-->", "]]>", "<p>", "<h1>", "</h1>", "<style>", "</style>", "<pre>",
    '<a href="x.md">', '<img src="i.png">', "&", "&#", "doctype", "<?", "x="]), max_size=20
).map("".join)


def comments(text: str) -> list[str]:
    class Comments(HtmlReader):
        found: list[str] = []

        def handle_comment(self, data: str) -> None:
            self.found.append(data)

    reader = Comments()
    reader.found = []
    reader.feed(text)
    reader.close()
    return reader.found


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_no_reader_raises_on_any_text(text):
    for read in READERS:
        read(text)


def test_a_marked_section_is_a_comment_to_the_next_gt_as_in_a_browser():
    assert comments("a <![i](i.png) b> c <![CDATA[x]]> <![if x]>") == \
        ["[i](i.png) b", "[CDATA[x]]", "[if x]"]


def test_a_link_after_a_marked_section_is_found_and_one_inside_it_is_not():
    html = '<p><![x <a href="in.md"> y]> <a href="out.md">o</a></p>'
    assert [a.value for a in url_attributes(html)] == ["out.md"]
    assert first_paragraph_text(html) == "y]> o"     # the comment ended at the first '>'
