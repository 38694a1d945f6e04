"""HTML edited where the link resolver changes it: attribute values replaced and attributes
inserted at their offsets, the rest of the author's text kept byte for byte."""
from __future__ import annotations

from typing import Callable

from pipeline.render.html import UrlAttr, attribute_value, srcset_urls


def edited(html: str, changes: list[tuple[UrlAttr, str]], added: list[tuple[int, str]]) -> str:
    """`html` with each attribute's value replaced (unescaped in, escaped as written; a value
    that did not change keeps its bytes, the author's quotes are kept) and the written
    attributes of `added` inserted at their offsets (the end of an `<img>`'s src)."""
    edits = [(a.start, a.end, attribute_value(v, a.quote)) for a, v in changes if v != a.value]
    edits += [(at, at, text) for at, text in added if text]
    parts, pos = [], 0
    for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        if start < pos:
            continue
        parts += [html[pos:start], text]
        pos = end
    return "".join(parts) + html[pos:] if parts else html


def each_url(srcset: str, rewrite: Callable[[str], str]) -> str:
    """A srcset value with each candidate's URL rewritten, the descriptors kept."""
    parts, pos = [], 0
    for start, end in srcset_urls(srcset):
        parts += [srcset[pos:start], rewrite(srcset[start:end])]
        pos = end
    return "".join(parts) + srcset[pos:]
