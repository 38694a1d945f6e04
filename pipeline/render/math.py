"""Stage 4: TeX to MathML at build time, with latex2mathml (the only latex2mathml user).

Pages need no script to show math, and feeds carry it. Each formula becomes
`<math display="inline|block"><semantics>...<annotation encoding="application/x-tex">` with the
TeX as written in the annotation (copy and paste, screen readers), as MathJax and KaTeX write
it. The MathML is written from latex2mathml's element tree by us: its own `convert` un-escapes
the whole serialised tree, so `\\text{<b>}` would come out as a `<b>` element.

A formula latex2mathml raises on, leaves a command of as text (`<mi>\\foo</mi>`), or makes a
fraction or script of with a part missing, is not converted: None, and the caller shows its
TeX. The same TeX recurs across pages (and a build's workers fork from a warm process):
conversions are cached.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape

TEX_ENCODING = "application/x-tex"
_CHAR_REF = re.compile(r"&#x([0-9A-Fa-f]{1,6});")       # latex2mathml writes symbols so
_COMMAND = re.compile(r"\\[A-Za-z]")                      # a command it did not know
_LABEL = re.compile(r"\\label\{[^{}]*\}")                 # an anchor, not something shown
_NAME = re.compile(r"[a-z][a-z:-]*\Z")
_SCHEME = re.compile(r"[\x00-\x20]*([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})   # for `\href{...}`
LITERAL = frozenset({"mtext", "annotation"})            # text as written, never commands
ARITY = {"mfrac": 2, "mroot": 2, "msub": 2, "msup": 2, "msubsup": 3, "mover": 2, "munder": 2,
         "munderover": 3}                               # `\\frac{1}` makes an mfrac of one


def to_mathml(tex: str, display: bool) -> str | None:
    """`tex` (without its `$` delimiters) as a `<math>` element, or None when latex2mathml
    cannot convert it."""
    return _converted(tex, bool(display))


@lru_cache(maxsize=8192)
def _converted(tex: str, display: bool) -> str | None:
    try:
        from latex2mathml.converter import convert_to_element

        math = convert_to_element(_LABEL.sub("", tex), display="block" if display else "inline")
        if not _well_formed(math):
            return None
        return _with_annotation(math, tex)
    except Exception:       # its errors (unbalanced braces, missing arguments) and any other
        return None


def _well_formed(math) -> bool:
    """No command left as text (`<mi>\\foo</mi>`: latex2mathml does not know it), and each
    script, fraction and root with its parts (`\\frac{1}`, `\\limits` alone)."""
    for el in math.iter():
        if el.tag not in LITERAL and el.text and _COMMAND.search(el.text):
            return False
        if el.tag in ARITY and len(el) != ARITY[el.tag]:
            return False
    return True


def _with_annotation(math, tex: str) -> str | None:
    """`<math ...><semantics>(the presentation)<annotation>tex</annotation></semantics></math>`."""
    out: list[str] = []
    children = list(math)
    if len(children) != 1:               # semantics holds one presentation element
        out.append("<mrow>")
    for child in children:
        if not _write(child, out):
            return None
    if len(children) != 1:
        out.append("</mrow>")
    return (f"<math{_attributes(math)}><semantics>{''.join(out)}"
            f'<annotation encoding="{TEX_ENCODING}">{escape(tex, quote=False)}</annotation>'
            "</semantics></math>")


def _write(el, out: list[str]) -> bool:
    """`el` written as HTML into `out`, every text and attribute value escaped; an element
    is never written self-closed (an HTML reader would wait for its end tag). False for a
    tag name that is not MathML-like (latex2mathml makes none)."""
    if not isinstance(el.tag, str) or not _NAME.match(el.tag):
        return False
    out.append(f"<{el.tag}{_attributes(el)}>{_text(el.text)}")
    for child in el:
        if not _write(child, out):
            return False
    out.append(f"</{el.tag}>{_text(el.tail)}")
    return True


def _attributes(el) -> str:
    return "".join(f' {name}="{escape(_decoded(value))}"' for name, value in el.attrib.items()
                   if _NAME.match(name) and (name != "href" or _safe_href(value)))


def _safe_href(value: str) -> bool:
    scheme = _SCHEME.match(value)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def _text(text: str | None) -> str:
    return escape(_decoded(text), quote=False) if text else ""


def _decoded(text: str) -> str:
    """latex2mathml's `&#x2211;` written into text as characters (then escaped as text)."""
    return _CHAR_REF.sub(_char, text) if "&#x" in text else text


def _char(match: re.Match) -> str:
    code = int(match.group(1), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group()
    return chr(code)
