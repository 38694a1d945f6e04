"""`nbpress check`: find what a build would reject, warn about or publish wrong, without
building.

It reads every page as a build does (encoding, YAML, fields, slugs: the same errors); renders
each page's Markdown with the build's renderer and resolves its links and images with the
build's resolver (a missing image is an error, a broken link a warning: the build's messages),
without running any code; and looks for mojibake: text that was UTF-8, read as Windows-1252
and saved again (`ðŸ˜Ž` for 😎). That is reported with the repaired text, and repaired only
with `--fix`, line by line, every other byte of the file untouched. The only ftfy importer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import unquote, urlsplit

from pipeline.config import SiteConfig
from pipeline.sources.discover import discover
from pipeline.errors import LinkError, NbpressError
from pipeline.model import Page, Source
from pipeline.sources.frontmatter import read_source
from pipeline.files import write_atomic

if TYPE_CHECKING:
    from pipeline.build.publish import Scanned
    from pipeline.render.export import Exporter
    from pipeline.render.links import LinkResolver

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    line: int | None
    message: str
    repaired: str | None = None     # the line as it would be repaired (mojibake only)
    note: bool = False              # said, but no problem: the exit status ignores it


def check_site(config: SiteConfig, fix: bool = False) -> list[Finding]:
    """Every page read as a build reads it (encoding, YAML, fields, slugs), its links and
    images resolved as a build resolves them, and mojibake."""
    from pipeline.build.publish import Scanned, rel_of, unique_slugs
    from pipeline.render.export import Exporter

    findings: list[Finding] = []
    scanned: list[Scanned] = []
    failures: list[tuple[Source, NbpressError]] = []
    for source in discover(config):
        try:
            scanned.append(Scanned(read_source(source), "", rel_of(config, source)))
        except Exception as exc:
            error = _read_error(exc, source)
            failures.append((source, error))
            findings.append(Finding(source.path, error.line, _with_hint(error)))
    from pipeline.site.files import static_files

    for source, error in unique_slugs(scanned, {rel for _, rel in static_files(config)})[1]:
        findings.append(Finding(source.path, error.line, _with_hint(error)))
    resolver, exporter = _resolver(config, scanned, failures), Exporter()
    for page in (s.page for s in scanned):
        findings += references(page, config, resolver, exporter)
        if page.source.kind == "md":
            findings += mojibake(page.source.path, fix)
    return findings


def _read_error(exc: Exception, source: Source) -> NbpressError:
    if isinstance(exc, NbpressError):
        return exc
    return NbpressError(f"cannot be read ({type(exc).__name__}: {exc})", source.path,
                        hint="open it in Jupyter and save it again")   # e.g. JSON not an object


def _with_hint(error: NbpressError, message: str | None = None) -> str:
    return f"{message or error.message} (fix: {error.hint})" if error.hint else \
        message or error.message


def _resolver(config: SiteConfig, scanned: list[Scanned],
              failures: list[tuple[Source, NbpressError]]) -> LinkResolver:
    """The build's resolver, knowing what a build (without --drafts) publishes: the pages that
    read, are no drafts and have a slug of their own (as `plan_site` decides)."""
    from pipeline.build.publish import publishable
    from pipeline.render.links import LinkResolver

    published, drafts, clashes = publishable(config, scanned, drafts=False)
    unpublished = ({s.page.source.path for s in drafts}
                   | {source.path for source, _ in failures + clashes})
    return LinkResolver(config, [s.page for s in published], unpublished)


# -- links and images ---------------------------------------------------------------------------

def references(page: Page, config: SiteConfig, resolver: LinkResolver,
               exporter: Exporter) -> list[Finding]:
    """What a build of `page` would say about its links and images: errors for files it
    shows that are missing, warnings for links that do not resolve. Its Markdown is rendered
    once, without its code cells: nothing runs."""
    try:
        html = exporter.export(markdown_cells(page, config)).body
    except Exception as exc:         # the build would fail this page too
        error = exc if isinstance(exc, NbpressError) else NbpressError(
            f"cannot be rendered ({type(exc).__name__}: {exc})", page.source.path)
        return [Finding(page.source.path, error.line, _with_hint(error))]
    messages = _resolve(resolver, page, html)
    refs = sorted(_urls(html), key=len, reverse=True) if messages else []
    return [_finding(page, refs, m) for m in messages] + _featured_image(page, resolver)


def markdown_cells(page: Page, config: SiteConfig):
    """The page's notebook as the build makes it, with only the Markdown cells it shows."""
    from pipeline.notebook.convert import to_notebook
    from pipeline.render.export import REMOVE_CELL

    nb = to_notebook(page, config)
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"
                and not REMOVE_CELL & set(c.metadata.get("tags", ()))]
    return nb


def _resolve(resolver: LinkResolver, page: Page, html: str) -> list[str]:
    """The build's messages for `html`: each file it cannot show (with the fix), then each
    warning. The build stops at a missing file; here the links are resolved past it."""
    try:
        return list(resolver.rewrite(page, html).warnings)
    except LinkError as error:
        problems = error.detail.splitlines() if error.detail else [error.message]
        errors = [_with_hint(error, p) for p in problems]
    missing = {ref for ref in _urls(html) if any(p.startswith(repr(ref)) for p in problems)}
    try:
        return errors + list(resolver.rewrite(page, html, missing).warnings)
    except LinkError:
        return errors


def _urls(html: str) -> set[str]:
    """The path of every URL in the HTML's attributes, as the resolver names them."""
    from pipeline.render.html import srcset_urls, url_attributes

    urls = set()
    for attr in url_attributes(html):
        values = ([attr.value[s:e] for s, e in srcset_urls(attr.value)]
                  if attr.name == "srcset" else [attr.value])
        urls.update(urlsplit(v).path for v in values)
    return urls - {""}


def _finding(page: Page, refs: list[str], message: str) -> Finding:
    """A finding for one of the build's messages, at the line of the reference it names."""
    ref = next((r for r in refs if repr(r) in message), None)
    line = _line_of(page.text, ref, page.body_line) if ref else None
    return Finding(page.source.path, line, message.removeprefix(f"{page.source.path}: "))


def _featured_image(page: Page, resolver: LinkResolver) -> list[Finding]:
    """The frontmatter's featuredImage, which the build fails without (unless it is a URL)."""
    image = page.featured_image
    if not image or urlsplit(image).scheme or urlsplit(image).netloc:
        return []
    try:
        resolver.asset(page, image)
    except LinkError as error:
        line = _line_of("".join(page.text.splitlines(keepends=True)[:page.body_line - 1]), image)
        return [Finding(page.source.path, line, _with_hint(error))]
    return []


def _line_of(text: str, ref: str, start: int = 1) -> int | None:
    """The first line from `start` where `ref` is written (as it is, or percent-decoded),
    preferring lines outside fenced code; None when the text does not have it."""
    lines = text.splitlines()
    outside = [n for n, _ in _outside_fences(lines)]
    for numbers in (outside, range(1, len(lines) + 1)):
        for written in dict.fromkeys((ref, unquote(ref))):
            found = next((n for n in numbers if n >= start and written in lines[n - 1]), None)
            if found is not None:
                return found
    return None


def _outside_fences(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(1-based number, line) of each line outside fenced code blocks and their fences."""
    fence = ""
    for number, line in enumerate(lines, start=1):
        found = _FENCE.match(line)
        if not fence:
            if found:
                fence = found.group(1)
            else:
                yield number, line
        elif found and found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence) \
                and not found.group(2).strip():
            fence = ""


# -- mojibake -----------------------------------------------------------------------------------

def mojibake(path: Path, fix: bool = False) -> list[Finding]:
    """Lines of `path` that read as mojibake; with `fix`, the file with them repaired. Code
    (fenced blocks, inline spans) is the author's verbatim text, an example of mojibake
    perhaps: it is noted, never changed. A line that cannot be repaired whole is reported
    without a repair and left as it is."""
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    prose = {number for number, _ in _outside_fences(lines)}
    found = [f for number, line in enumerate(lines, start=1)
             if (f := _line_mojibake(path, number, line, number not in prose)) is not None]
    for finding in found:
        if finding.repaired is not None:
            lines[finding.line - 1] = finding.repaired + _line_end(lines[finding.line - 1])
    if fix and any(f.repaired is not None for f in found):
        if path.read_bytes() != data:
            raise NbpressError("changed while nbpress was repairing it; nothing was written",
                               path, hint="run nbpress check --fix again")
        write_atomic(path, "".join(lines))
    return found


def _line_mojibake(path: Path, number: int, line: str, in_fence: bool) -> Finding | None:
    """One line's finding: its prose repaired (its code kept), its prose that no repair
    makes whole, or mojibake in its code alone (a note)."""
    import ftfy
    from ftfy.badness import is_bad

    text = line.rstrip("\r\n")
    pieces = [(text, True)] if in_fence else _code_spans(text)
    if not any(is_bad(t) for t, code in pieces if not code):
        return None if not any(is_bad(t) for t, _ in pieces) else Finding(
            path, number, "mojibake in code, left as written (code is shown as the author "
            "wrote it: retype it if it is not meant as an example)", note=True)
    fixed = [(t if code else ftfy.fix_encoding(t), code) for t, code in pieces]
    if fixed == pieces:                     # nothing ftfy knows how to repair
        return None
    if any(is_bad(t) or "\ufffd" in t for t, code in fixed if not code):
        return Finding(path, number, "mojibake: text decoded with the wrong encoding, that "
                       "cannot be repaired whole (fix: retype the characters shown wrong)")
    return Finding(path, number, "mojibake: text decoded with the wrong encoding",
                   "".join(t for t, _ in fixed))


def _code_spans(line: str) -> list[tuple[str, bool]]:
    """The line in pieces, each with whether it is an inline code span: a run of backticks
    up to the next run of the same length."""
    pieces, pos, search = [], 0, 0
    while (opening := _BACKTICKS.search(line, search)) is not None:
        closing = next((m for m in _BACKTICKS.finditer(line, opening.end())
                        if len(m.group()) == len(opening.group())), None)
        if closing is None:
            search = opening.end()
            continue
        pieces += [(line[pos:opening.start()], False), (line[opening.start():closing.end()], True)]
        pos = search = closing.end()
    return [p for p in pieces + [(line[pos:], False)] if p[0]]


def _line_end(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]
