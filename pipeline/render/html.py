"""The one place that reads HTML: URL attributes found by a parser, rewritten by their span.

A page's body is the author's HTML and nbconvert's, and it must come out as written except for
the attribute values we rewrite. So the text is never re-serialized: the standard library's
`html.parser` tokenizes it (comments, `<script>`/`<style>` text, quoted `>` in attributes are
its job, done as browsers do), each start tag it reports is located in the text, and the value
of each URL attribute is replaced in place. What is inside `<pre>` and `<code>` is code being
shown (highlighted listings, plain-text outputs, inline code) and is never read as links.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from html import unescape
from typing import Iterable, Iterator

from pipeline.markup import HtmlReader

URL_ATTRIBUTES = frozenset({"src", "href", "poster", "srcset", "xlink:href"})
LITERAL_ELEMENTS = frozenset({"pre", "code"})      # contents shown as written, never links
_MAYBE_URL = re.compile(r"(?:src(?:set)?|href|poster)\s*=", re.IGNORECASE)
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*")
_ATTRIBUTE = re.compile(r"""[\s/]*
    (?P<name>[^\s/>][^\s/=>]*)
    (?:\s*=+\s*(?P<value>'[^']*'|"[^"]*"|(?!['"])[^>\s]*))?""", re.VERBOSE)
# Tags as plainly written, which no HTML parser reads two ways: a name, attributes each a name
# and, after `=`, a value quoted (no `<` in it) or plain (`<div class="x" hidden id=y>`).
_NAME = r"[a-zA-Z][-a-zA-Z0-9]*+"
_WS = r"[ \t\n\r\f]"     # HTML's whitespace: no \xa0, \x0b or \x1c, which str's `\s` takes
_ATTRS = rf"""(?:{_WS}++[a-zA-Z_:][-\w:.]*+(?:{_WS}*+={_WS}*+(?:"[^"<]*+"|'[^'<]*+'|[^\s"'=<>`]++))?+)*+{_WS}*+"""
_STYLE = rf"<style{_ATTRS}>(?:[^<]++|<(?!/|!--))*+</style{_WS}*+>"
_CODE = r"(?:pre|code|script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b"
# A piece of the author's HTML that the parser could leave in no other state than it found:
# text without `<` or `&`, whole style elements, plain tags of no element whose content is
# code or raw text; no comment, declaration or entity.
_PLAIN_PIECE = re.compile(rf"(?:[^<&]++|{_STYLE}|<(?!{_CODE}){_NAME}{_ATTRS}/?>"
                          rf"|</(?!{_CODE}){_NAME}{_WS}*+>)*+", re.IGNORECASE)
_UNQUOTED_SAFE = re.compile(r"[^\s\"'=<>`&]+")
_SPACE = " \t\n\r\f"                               # whitespace, as HTML counts it
_HTML_SPACE = re.compile(f"[{_SPACE}]+")
# Start tags that end an open <p> (the HTML parsing rules), for the first paragraph's text.
_ENDS_PARAGRAPH = frozenset(
    "address article aside blockquote details dialog div dl fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section table ul".split())


@dataclass(frozen=True, slots=True)
class UrlAttr:
    """One URL attribute of a start tag. `value` is unescaped (`R&amp;D.png` -> `R&D.png`);
    `start:end` is the value as written in the text, with its quotes (`quote` is `"`, `'` or
    empty for an unquoted value); `attributes`, the names of all its tag's attributes."""

    tag: str                # lowercase, as are attribute names
    name: str
    value: str
    start: int
    end: int
    quote: str
    attributes: frozenset[str] = field(default=frozenset(), compare=False)

    def __repr__(self) -> str:
        return f"UrlAttr(<{self.tag} {self.name}={self.value!r}> at {self.start}:{self.end})"


def url_attributes(html: str, raw_spans: tuple[tuple[int, int], ...] | None = None
                   ) -> Iterator[UrlAttr]:
    """Each src/href/poster/srcset/xlink:href attribute with a value, in text order, outside
    `<pre>`, `<code>`, `<script>`, `<style>` and comments. Text with no `src=`-like substring
    (a page without links or images) is not parsed at all.

    `raw_spans`: the Markdown engine wrote `html` but for these spans, the author's HTML
    (`Markdown.render_marked`). In the engine's part every `<` opens a tag and there is no
    comment, script or style, so its tags are found by position, ten times faster than by
    the parser; each span of the author's is parsed alone. When one of them does not end
    as it began (an element of code, a comment or a tag left open), the whole text is parsed
    (tests/unit/test_engine_urls.py compares the two ways)."""
    if raw_spans is not None:
        found = _marked_urls(html, raw_spans)
        if found is not None:
            return iter(found)
    if not _MAYBE_URL.search(html):
        return iter(())
    finder = _UrlFinder(html)
    finder.feed(html)
    finder.close()
    return iter(finder.found)


def _marked_urls(html: str, spans: tuple[tuple[int, int], ...]) -> list[UrlAttr] | None:
    if not spans:
        return _engine_urls(html)
    parts, pos, found = [], 0, []
    for start, end in spans:
        parts += [html[pos:start], " " * (end - start)]      # the engine's, to read apart
        pos = end
        raw = html[start:end]
        if "<" not in raw or (_PLAIN_PIECE.fullmatch(raw) and not _MAYBE_URL.search(raw)):
            continue                    # nothing to find, and nothing left open
        finder = _UrlFinder(raw)
        try:
            finder.feed(raw)
        except Exception:               # the parser's own failure (`<![x]>`): as the whole
            return None                 # text is read (not at all without a URL in it)
        if finder.rawdata or finder.cdata_elem or finder.literal_depth:
            return None                 # it leaves something open: read as one text
        found += [replace(a, start=a.start + start, end=a.end + start) for a in finder.found]
    found += _engine_urls("".join(parts) + html[pos:])
    return sorted(found, key=lambda a: a.start)


def replace_values(html: str, changes: Iterable[tuple[UrlAttr, str]]) -> str:
    """`html` with each attribute's value replaced (unescaped text in, escaped text written).
    A value that did not change keeps its bytes; the author's quote style is kept."""
    parts: list[str] = []
    pos = 0
    for attr, value in sorted(changes, key=lambda change: change[0].start):
        if value == attr.value or attr.start < pos:
            continue
        parts += [html[pos:attr.start], attribute_value(value, attr.quote)]
        pos = attr.end
    return "".join(parts) + html[pos:] if parts else html


def attribute_value(value: str, quote: str = '"') -> str:
    """`value` written as an attribute value: `&` and the quote escaped; an unquoted value
    gains double quotes unless it is safe as it is."""
    if not quote:
        if _UNQUOTED_SAFE.fullmatch(value):
            return value
        quote = '"'
    escaped = value.replace("&", "&amp;").replace(quote, "&quot;" if quote == '"' else "&#39;")
    return f"{quote}{escaped}{quote}"


def srcset_urls(value: str) -> tuple[tuple[int, int], ...]:
    """The spans of the URLs in an (unescaped) srcset value: `a.png 1x, b.png 2x`. A URL is a
    run of non-space characters; trailing commas end its candidate (the HTML rules)."""
    spans: list[tuple[int, int]] = []
    pos, size = 0, len(value)
    while pos < size:
        while pos < size and (value[pos] in _SPACE or value[pos] == ","):
            pos += 1
        start = pos
        while pos < size and value[pos] not in _SPACE:
            pos += 1
        end = pos
        while end > start and value[end - 1] == ",":
            end -= 1
        if end > start:
            spans.append((start, end))
        if end == pos:                      # descriptors follow, up to the next comma
            pos = _descriptors_end(value, pos)
    return tuple(spans)


# What comes before an article's first paragraph or heading, read without the parser when
# it is only whole pieces no parser reads two ways: text, comments with no `--` inside,
# whole style and script elements, plain tags (above). Elements that some Python versions
# read as raw text (textarea, title, ...) stop it.
_WHOLE = "|".join([r"<!--(?:[^-]|-(?!-))*+-->", _STYLE,
                   rf"<script{_ATTRS}>(?:[^<]++|<(?!/|!--))*+</script{_WS}*+>"])
_UNSURE = r"(?:style|script|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b"
_BEFORE_P = re.compile(rf"(?:[^<]++|{_WHOLE}|<(?!p\b|{_UNSURE}){_NAME}{_ATTRS}/?>"
                       rf"|</(?!p\b|{_UNSURE}){_NAME}{_WS}*+>)*+(?=<p[ \t\n\r\f/>])", re.IGNORECASE)
_PLAIN_P = re.compile(rf"<p{_ATTRS}>([^<&]*+)</p{_WS}*+>", re.IGNORECASE)
_BEFORE_H1 = re.compile(rf"(?:\s++|{_WHOLE}|</{_NAME}{_WS}*+>"
                        rf"|<(?:div|section|article|header|main){_ATTRS}/?>)*+", re.IGNORECASE)
_NOT_AROUND_H1 = frozenset({"div", "section", "article", "header", "main", "h1", "style", "script"})


def first_paragraph_text(html: str) -> str:
    """The text of the first `<p>` (entities unescaped, HTML whitespace collapsed), or "".
    Parsing stops at its end; a `<p>` in a comment, script or style does not count."""
    before = _BEFORE_P.match(html)      # the parser starts at the paragraph, when it can
    plain = before and _PLAIN_P.match(html, before.end())
    if plain:                           # text alone, no entity: what the parser would give
        return _HTML_SPACE.sub(" ", plain.group(1)).strip(" ")
    reader = _FirstParagraph()
    try:
        reader.feed(html[before.end():] if before else html)
        reader.close()
    except _Done:
        pass
    return _HTML_SPACE.sub(" ", "".join(reader.text)).strip(" ")


_HEADING = re.compile(r'<h([23])\b[^>]*?\sid="([^"<>]+)"[^>]*>(.*?)</h\1>', re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def headings(html: str) -> list[tuple[int, str, str]]:
    """(level, id, text) of the article's h2 and h3 headings that have an id: the engine's
    own output (code shows as `&lt;h2`), read with a pattern, not a parser, for speed; an
    anchor link's mark is left out."""
    found = []
    for match in _HEADING.finditer(html):
        inner = re.sub(r'<a class="anchor-link".*?</a>', "", match.group(3), flags=re.S)
        text = _HTML_SPACE.sub(" ", unescape(_TAG.sub("", inner))).strip(" ")
        if text:
            found.append((int(match.group(1)), unescape(match.group(2)), text))
    return found


def leading_heading(html: str) -> str | None:
    """The text of the `<h1>` an article opens with (nothing a reader sees before it: only
    whitespace, comments, `<style>` and `<script>`), or None."""
    pos = _BEFORE_H1.match(html).end()
    name = _TAG_NAME.match(html, pos)
    if pos == len(html) or (html[pos] not in "<&" and not html[pos].isspace()) or (
            name and name.group()[1:].lower() not in _NOT_AROUND_H1):
        return None                     # text, or another element, comes first
    reader = _LeadingHeading()
    try:
        reader.feed(html[pos:] if name else html)
        reader.close()
    except _Done:
        pass
    return _HTML_SPACE.sub(" ", "".join(reader.text)).strip(" ") if reader.found else None


class _LeadingHeading(HtmlReader):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.inside = self.found = self.raw_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h1" and not self.inside:
            self.inside = self.found = True
        elif tag in self.CDATA_CONTENT_ELEMENTS:
            self.raw_text = True
        elif not self.inside and tag not in ("div", "section", "article", "header", "main"):
            raise _Done                     # something else comes first (an image, a list)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self.inside:
            raise _Done
        self.raw_text = False

    def handle_data(self, data: str) -> None:
        if self.raw_text:
            return
        if self.inside:
            self.text.append(data)
        elif data.strip():
            raise _Done                     # text before any heading


class _UrlFinder(HtmlReader):
    """Collects the URL attributes of the start tags outside literal elements."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)     # text is not read: left undecoded
        self.lines = [0] + [m.end() for m in re.finditer("\n", html)]
        self.open_literals = dict.fromkeys(LITERAL_ELEMENTS, 0)
        self.literal_depth = 0
        self.found: list[UrlAttr] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LITERAL_ELEMENTS:
            self.open_literals[tag] += 1
            self.literal_depth += 1
        elif not self.literal_depth and _has_url(attrs):
            line, column = self.getpos()
            self.found += _tag_urls(self.get_starttag_text(), self.lines[line - 1] + column,
                                    frozenset(name for name, _ in attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)        # `<code/>` opens a code element, as in browsers

    def close(self) -> None:
        if self.rawdata.startswith("<!--"):     # never closed: a comment to the end, as
            self.rawdata = ""                   # browsers read it (not text, then tags)
        super().close()

    def handle_endtag(self, tag: str) -> None:
        if self.open_literals.get(tag):
            self.open_literals[tag] -= 1
            self.literal_depth -= 1


def _engine_urls(html: str) -> list[UrlAttr]:
    """`url_attributes` of the Markdown engine's HTML. Its URL attributes are `href` and
    `src`, written ` href="...`; `<` and `>` only begin and end tags (the engine escapes them
    in text, code and attribute values, and `"` in text), so the tag around each is its
    nearest `<` before it; an element around it is open where more of its start tags than end
    tags come before (counted as the text is walked, once)."""
    found, done, counted = [], -1, 0
    open_ = dict.fromkeys(LITERAL_ELEMENTS, 0)
    for spot in sorted(_finds(html, ' href="') + _finds(html, ' src="')):
        start = html.rfind("<", 0, spot)
        if start <= done:
            continue                        # its tag's, done
        for name in LITERAL_ELEMENTS:
            open_[name] += html.count(f"<{name}", counted, start) - html.count(
                f"</{name}>", counted, start)
        counted = done = start
        if html[start + 1] != "/" and all(n <= 0 for n in open_.values()):     # not in code
            found += _tag_urls(html[start:html.find(">", start) + 1], start)
    return found


def _finds(text: str, needle: str) -> list[int]:
    spots, at = [], text.find(needle)
    while at >= 0:
        spots.append(at)
        at = text.find(needle, at + 1)
    return spots


def _has_url(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name in URL_ATTRIBUTES and value is not None:
            return True
    return False


def _tag_urls(raw: str, base: int, names: frozenset[str] | None = None) -> list[UrlAttr]:
    """The URL attributes of one start tag written as `raw` at offset `base` of the text;
    `names`, those of all its attributes (None: read from `raw`)."""
    tag_name = _TAG_NAME.match(raw)
    tag, pos = tag_name.group()[1:].lower(), tag_name.end()
    found, seen = [], []
    while (match := _ATTRIBUTE.match(raw, pos)) and match.end() > pos:
        pos = match.end()
        name, written = match.group("name").lower(), match.group("value")
        seen.append(name)
        if name in URL_ATTRIBUTES and written is not None:
            quote = written[0] if written[:1] in ("'", '"') else ""
            value = written[1:-1] if quote else written
            found.append((name, unescape(value), base + match.start("value"),
                          base + match.end("value"), quote))
    names = frozenset(seen) if names is None else names
    return [UrlAttr(tag, *attr, names) for attr in found]


def _descriptors_end(value: str, pos: int) -> int:
    """Past the descriptors of a srcset candidate: the next comma outside parentheses."""
    depth = 0
    for index in range(pos, len(value)):
        char = value[index]
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char == "," and not depth:
            return index + 1
    return len(value)


class _Done(Exception):
    """The first paragraph has ended: stop parsing."""


class _FirstParagraph(HtmlReader):
    """Keeps the text of the first paragraph."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.inside = False
        self.raw_text = False               # inside <script>/<style>: not text a reader sees

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_startendtag(tag, attrs)
        self.inside = self.inside or tag == "p"
        self.raw_text = tag in self.CDATA_CONTENT_ELEMENTS or tag == "annotation"   # TeX

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.inside and tag in _ENDS_PARAGRAPH:
            raise _Done
        if self.inside and tag == "br":
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.inside and (tag == "p" or tag in _ENDS_PARAGRAPH):
            raise _Done
        self.raw_text = False

    def handle_data(self, data: str) -> None:
        if self.inside and not self.raw_text:
            self.text.append(data)


_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029]")   # JSON keeps them; HTML counts DEL and
                                                        # C1 controls as errors, old JS U+2028/9 as line ends


def script_safe(text: str) -> str:
    """JSON text made safe inside <script>: `<`, `>` and `&` as \\u escapes, so no text of a
    page can close the element or open a comment; and the characters above."""
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
