"""Math made at build time (render/math.py): `$...$` and `$$...$$` as MathML with the TeX as
its annotation, in prose pages and notebook cells alike, no script; a formula latex2mathml
cannot convert is shown as TeX and reported at its line. Output read with an HTML parser."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.build.pages import _unsupported
from pipeline.model import Source
from pipeline.notebook.convert import to_notebook
from pipeline.render.export import Exporter
from pipeline.render.markdown import Markdown
from pipeline.render.math import to_mathml
from pipeline.sources.frontmatter import read_source
from tests.conftest import REPO

MATH_TOKENS = {"mi", "mn", "mo"}
VOID = {"input", "img", "br", "hr", "meta", "link"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list["Node"] = field(default_factory=list)
    text: list[str] = field(default_factory=list)      # all the text inside, in order

    def all(self, tag: str) -> list["Node"]:
        found = [self] if self.tag == tag else []
        for child in self.children:
            found += child.all(tag)
        return found

    def content(self) -> str:
        return "".join(self.text)


class Tree(HTMLParser):
    """The element tree of an HTML fragment, as the standard library's parser reads it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self._open = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self._open[-1].children.append(node)
        if tag not in VOID:
            self._open.append(node)

    def handle_startendtag(self, tag, attrs):
        self._open[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        names = [n.tag for n in self._open]
        if tag in names[1:]:
            del self._open[len(names) - names[::-1].index(tag) - 1:]

    def handle_data(self, data):
        for node in self._open:
            node.text.append(data)

    def all(self, tag: str) -> list[Node]:
        return self.root.all(tag)


def descendants(node: Node) -> set[str]:
    return {n.tag for child in node.children for n in [child] + _below(child)}


def _below(node: Node) -> list[Node]:
    return [d for child in node.children for d in [child] + _below(child)]


@pytest.fixture
def md() -> Markdown:
    return Markdown()


def test_inline_math_is_a_math_element_of_tokens_with_its_tex_annotated(md):
    page = Tree(md.render("Pythagoras: $x^2 + y^2 = 25$ holds.\n"))
    [span] = [s for s in page.all("span") if s.attrs.get("class") == "math inline"]
    [math] = span.all("math")
    assert math.attrs["display"] == "inline"
    assert math.attrs["xmlns"] == "http://www.w3.org/1998/Math/MathML"
    [semantics] = math.children
    assert semantics.tag == "semantics"
    assert MATH_TOKENS <= descendants(semantics.children[0])      # mi, mn and mo
    [annotation] = semantics.all("annotation")
    assert annotation.attrs["encoding"] == "application/x-tex"
    assert annotation.content() == "x^2 + y^2 = 25"
    assert md.unsupported == []


def test_display_math_is_a_block_math_element_in_the_theme_div(md):
    page = Tree(md.render("Text.\n\n$$\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n$$\n"))
    [div] = [d for d in page.all("div") if d.attrs.get("class") == "math block"]
    [math] = div.all("math")
    assert math.attrs["display"] == "block"
    assert {"mfrac", "mi", "mn", "mo"} <= descendants(math)
    assert {"munderover", "msubsup"} & descendants(math)          # the sum's limits
    assert math.all("annotation")[0].content() == "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}"


def test_double_dollars_in_a_paragraph_are_display_math_in_a_span_and_labels_stay(md):
    html = md.render("So $$a+b$$ in text.\n\n$$c = 1$$ (eq1)\n")
    page = Tree(html)
    [p] = page.all("p")
    [math] = p.all("math")
    assert math.attrs["display"] == "block" and p.all("div") == []
    [labelled] = [d for d in page.all("div") if d.attrs.get("id") == "eq1"]
    assert [a.attrs["href"] for a in labelled.all("a")] == ["#eq1"]
    assert labelled.all("math")[0].all("annotation")[0].content() == "c = 1"


@pytest.mark.parametrize("tex, shown", [
    ("a<b", {"mi", "mo"}),
    ("\\text{<script>alert(1)</script>}", {"mtext"}),
    ("\\text{a & b} > c", {"mtext", "mo", "mi"}),
])
def test_the_tex_and_the_text_of_a_formula_are_escaped(md, tex, shown):
    html = md.render(f"Math: ${tex}$.\n")
    page = Tree(html)
    assert page.all("script") == [] and page.all("b") == []
    [math] = page.all("math")
    assert shown <= descendants(math)
    assert math.all("annotation")[0].content() == tex
    texts = [n.content() for n in math.all("mtext")]
    if "<script>" in tex:
        assert texts == ["<script>alert(1)</script>"]


def test_attributes_made_from_tex_are_escaped_and_no_script_url_is_kept():
    page = Tree(to_mathml('\\color{red" onclick="x}{a} \\href{javascript:alert(1)}{b} '
                          "\\href{https://example.org/}{c}", display=False))
    [style] = page.all("mstyle")
    assert set(style.attrs) == {"mathcolor"} and style.attrs["mathcolor"] == 'red" onclick="x'
    hrefs = [n.attrs["href"] for n in page.all("mrow") if "href" in n.attrs]
    assert hrefs == ["https://example.org/"]


def test_dollar_amounts_stay_text(md):
    page = Tree(md.render("It costs $5 and $6, or $3.50.\n"))
    assert page.all("math") == [] and page.all("code") == []
    assert page.all("p")[0].content() == "It costs $5 and $6, or $3.50."


@pytest.mark.parametrize("tex", ["\\frac{1", "x^", "\\frac{1}", "\\notacommand x",
                                 "\\left( x"])
def test_what_latex2mathml_cannot_convert_is_none(tex):
    assert to_mathml(tex, display=False) is None and to_mathml(tex, display=True) is None


def test_environments_and_labels_inside_formulas_convert():
    page = Tree(to_mathml("\\begin{align} a &= b \\label{first} \\\\ c &= d \\end{align}", True))
    assert len(page.all("mtr")) == 2
    assert "label" not in "".join(n.content() for n in page.all("mi"))


def test_a_formula_that_cannot_be_converted_is_shown_as_tex_and_reported(md):
    html = md.render("Good $x$, bad $\\frac{1$ and <b>$\\frac{<i>$</b>.\n\n$$\n\\frac{\n$$\n")
    page = Tree(html)
    codes = [c for c in page.all("code") if c.attrs.get("class") == "math-tex"]
    assert [c.content() for c in codes] == ["$\\frac{1$", "$\\frac{<i>$", "$$\\frac{$$"]
    assert len(page.all("math")) == 1 and page.all("i") == []          # <i> is text
    assert [b.content() for b in page.all("b")] == ["$\\frac{<i>$"]
    assert [(u.name, u.opening) for u in md.unsupported] == [
        ("$", "$\\frac{1"), ("$", "$\\frac{<i>"), ("$$", "\\frac{")]


def test_a_formula_that_cannot_be_converted_is_warned_at_its_line(site):
    """The warnings a build reports for the page (build/pages.py), in page order with the
    directives shown plain: a line each, the same formula twice on a line found twice."""
    path = site.page("m.md", '---\ntitle: "M"\n---\n\nFine $x$.\n\nBad $\\frac{1$ here,\n'
                             "and $x^$ twice: $x^$.\n\n```{mermaid}\na\n```\n\n$$\n\\frac{\n$$\n")
    page = read_source(Source(path, "m", "md"))
    exported = Exporter().export(to_notebook(page, site.config()))
    warnings = _unsupported(page, exported)
    assert [w.split(":")[1] for w in warnings] == ["7", "8", "8", "10", "15"], warnings
    assert warnings[0].startswith(f"{path}:7: the formula $\\frac{{1$ could not be converted")
    assert "shown as TeX" in warnings[0] and "fix its TeX" in warnings[0]
    assert warnings[4].startswith(f"{path}:15: the display formula $$\\frac{{$$ could not")
    assert "{mermaid}" in warnings[3]
    body = Tree(exported.body)
    assert len([c for c in body.all("code") if c.attrs.get("class") == "math-tex"]) == 4


def test_notebook_markdown_cells_and_latex_outputs_are_mathml_with_no_script():
    nb = new_notebook(cells=[
        new_markdown_cell("Euler: $e^{i\\pi} + 1 = 0$.\n\n$$\n\\int_0^1 x\\,dx\n$$"),
        new_code_cell("sympy.sqrt(x)", outputs=[new_output(
            "execute_result", execution_count=1,
            data={"text/latex": "$\\displaystyle \\sqrt{x}$", "text/plain": "sqrt(x)"})]),
        new_code_cell("table", outputs=[new_output(
            "display_data", data={"text/latex": "\\begin{tabular}{l}<b>\\end{tabular}",
                                  "text/plain": "t"})]),
    ], metadata={"language_info": {"name": "python"}})
    exported = Exporter().export(nb)
    page = Tree(exported.body)
    maths = page.all("math")
    assert [m.attrs["display"] for m in maths] == ["inline", "block", "inline"]
    assert [m.all("annotation")[0].content() for m in maths] == [
        "e^{i\\pi} + 1 = 0", "\\int_0^1 x\\,dx", "\\displaystyle \\sqrt{x}"]
    assert "mroot" in descendants(maths[2]) or "msqrt" in descendants(maths[2])
    latex = [d for d in page.all("div") if "output_latex" in d.attrs.get("class", "")]
    assert latex[1].all("b") == [] and "<b>" in latex[1].content()    # shown as written
    assert [s.attrs for s in page.all("script") if "src" in s.attrs] == []
    assert "mathjax" not in exported.body.lower() and exported.unsupported == ()


def test_the_nbconvert_template_loads_no_script():
    template = (REPO / "pipeline/render/nbconvert-templates/nbpress/index.html.j2").read_text()
    assert "extends 'classic/base.html.j2'" in template       # not index.html.j2: no <head>
    assert "<script" not in template.lower() and "mathjax(" not in template.lower()
    assert "http" not in template                              # no URL to load anything from


def test_a_page_without_math_does_not_import_latex2mathml():
    code = ("import sys\nfrom pipeline.render.markdown import Markdown\n"
            "html = Markdown().render('# Prose\\n\\nIt costs $5 and $6, see [a](b.md).\\n')\n"
            "assert 'latex2mathml' not in sys.modules, 'imported'\n"
            "Markdown().render('$x$')\n"
            "assert 'latex2mathml' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_conversions_are_cached():
    first = to_mathml("\\alpha_{cached} + 1", display=False)
    assert first is not None and to_mathml("\\alpha_{cached} + 1", display=False) is first
