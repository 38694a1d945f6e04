"""`nbpress check`: find what a build would reject, warn about or publish wrong, without
building.

It reads every page as a build does (encoding, YAML, fields, slugs: the same errors); renders
each page's Markdown with the build's one engine and resolves its links and images with the
build's resolver (a missing file, a link to no page: errors here), without running any code;
checks what the pages say of each other (`internal.py`: links written as the site's URLs,
fragments against the ids the engine makes, aliases, the toc) and, when asked, links to other
sites (`external.py`); and looks for mojibake: text that was UTF-8, read as Windows-1252 and
saved again (`ðŸ˜Ž` for 😎), a warning (the author's to fix). That is reported with the
repaired text, and repaired only with `--fix`, line by line, every other byte of the file
untouched; a line no repair makes whole is an error. The only ftfy importer.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.author.findings import NOTE, WARNING, Finding, Locator, code_spans, line_of, \
    ordered, outside_fences
from pipeline.config import SiteConfig
from pipeline.sources.discover import discover
from pipeline.errors import LinkError, NbpressError
from pipeline.model import Page, Source
from pipeline.sources.frontmatter import read_source
from pipeline.files import site_rel, write_atomic

if TYPE_CHECKING:
    from pipeline.author.external import External
    from pipeline.author.internal import Link, Rendered
    from pipeline.build.publish import Scanned
    from pipeline.render.links import LinkResolver
    from pipeline.render.markdown import Markdown


def check_site(config: SiteConfig, fix: bool = False,
               external: External | None = None) -> list[Finding]:
    """Every page read as a build reads it (encoding, YAML, fields, slugs), its links and
    images resolved as a build resolves them, its fragments, aliases and the toc checked
    against the site, mojibake, and with `external`, links to other sites: each finding once,
    by file and line."""
    from pipeline.author.internal import page_links
    from pipeline.build.publish import publishable, unique_slugs
    from pipeline.render.markdown import Markdown
    from pipeline.site.files import generated, static_files

    sources = discover(config)
    scanned, failures, findings = _read_all(config, sources)
    ours = generated(config, (s.page for s in scanned))
    for source, error in unique_slugs(scanned, {rel for _, rel in static_files(config)}, ours)[1]:
        findings.append(Finding(source.path, error.line, _with_hint(error)))
    published, drafts, clashes = publishable(config, scanned, drafts=False)
    resolver = _resolver(config, published, drafts, failures + clashes)
    at = {(p.url.strip("/") + "/index.html" if p.url != "/" else "index.html"):
          site_rel(config.root, p.source.path) for p in (s.page for s in published)}
    markdown, rendered, links = Markdown(), [], []
    for page in (s.page for s in scanned if not s.page.family or s.page.family.index == 0):
        found, item = references(page, config, resolver, markdown, at)  # a family's text once
        findings += found
        if item is not None:
            rendered.append(item)
            links += page_links(item, config.base_url)
        if page.source.kind == "md":
            findings += mojibake(page.source.path, fix)
    findings += _site_findings(config, [s.page for s in published], rendered, links, sources)
    if external is not None:
        from pipeline.author.external import external_findings

        findings += external_findings(config, links, external)
    return ordered(findings)


def _read_all(config: SiteConfig, sources: list[Source]
              ) -> tuple[list[Scanned], list[tuple[Source, NbpressError]], list[Finding]]:
    from pipeline.build.publish import Scanned, rel_of
    from pipeline.sources.families import is_family, members

    scanned, failures, findings = [], [], []
    for source in sources:
        try:
            page = read_source(source)
            scanned += [Scanned(p, "", rel_of(config, p.source))
                        for p in (members(page) if is_family(page.meta) else [page])]
        except Exception as exc:
            error = _read_error(exc, source)
            failures.append((source, error))
            findings.append(Finding(source.path, error.line, _with_hint(error)))
    return scanned, failures, findings


def _site_findings(config: SiteConfig, published: list[Page], rendered: list[Rendered],
                   links: list[Link], sources: list[Source]) -> list[Finding]:
    """What the pages say of each other: links to the site's URLs and fragments, aliases,
    the toc."""
    from pipeline.author.internal import alias_findings, link_findings, site_outputs, \
        toc_findings

    outputs = site_outputs(config, published)
    aliases = dict.fromkeys((a for p in published for a in p.aliases), "an alias")
    return (link_findings(links, rendered, published, {**aliases, **outputs})
            + alias_findings(config, published, outputs) + toc_findings(config, sources))


def _read_error(exc: Exception, source: Source) -> NbpressError:
    if isinstance(exc, NbpressError):
        return exc
    return NbpressError(f"cannot be read ({type(exc).__name__}: {exc})", source.path,
                        hint="open it in Jupyter and save it again")   # e.g. JSON not an object


def _with_hint(error: NbpressError, message: str | None = None) -> str:
    return f"{message or error.message} (fix: {error.hint})" if error.hint else \
        message or error.message


def _resolver(config: SiteConfig, published: list[Scanned], drafts: list[Scanned],
              gone: list[tuple[Source, NbpressError]]) -> LinkResolver:
    """The build's resolver, knowing what a build (without --drafts) publishes: the pages that
    read, are no drafts and have a slug of their own (as `plan_site` decides). It makes no
    resized copies of images: nothing is published."""
    from pipeline.render.links import LinkResolver

    unpublished = {s.page.source.path for s in drafts} | {source.path for source, _ in gone}
    return LinkResolver(config, [s.page for s in published], unpublished, resize=False)


# -- links and images ---------------------------------------------------------------------------

def references(page: Page, config: SiteConfig, resolver: LinkResolver, markdown: Markdown,
               at: dict[str, str] | None = None) -> tuple[list[Finding], Rendered | None]:
    """What a build of `page` would say about its links and images (errors here: files it
    shows that are missing, links that do not resolve), and the page as read: its Markdown
    rendered once, without its code cells (nothing runs)."""
    from pipeline.author.internal import Rendered

    try:
        html = article_html(page, config, markdown)
    except Exception as exc:         # the build would fail this page too
        error = exc if isinstance(exc, NbpressError) else NbpressError(
            f"cannot be rendered ({type(exc).__name__}: {exc})", page.source.path)
        return [Finding(page.source.path, error.line, _with_hint(error))], None
    messages, rewritten = _resolve(resolver, page, html, at or {})
    refs = sorted(_urls(html), key=len, reverse=True) if messages else []
    lines = Locator(page.text, page.body_line)
    return ([_finding(page, refs, m, lines) for m in messages] + _featured_image(page, resolver),
            Rendered(page, html, rewritten))


def article_html(page: Page, config: SiteConfig, markdown: Markdown) -> str:
    """The article HTML of the page's Markdown cells, as the build's one engine renders them:
    a page of Markdown only as one text (footnotes and repeated headings' ids meet across
    cells), a page with code cell by cell; hidden cells left out. No kernel, no nbconvert.
    (A cell with attachments is the one the build gives to nbconvert's Markdown instead,
    whose heading ids are spelled otherwise: it is read with ours here.)"""
    from pipeline.notebook.convert import to_notebook
    from pipeline.render.export import REMOVE_CELL, _markdown_only

    nb = to_notebook(page, config)
    shown = [c for c in nb.cells if not REMOVE_CELL & set(c.metadata.get("tags", ()))]
    markdown.unsupported.clear()
    if _markdown_only(nb):
        return markdown.render("\n\n\n".join(c.source for c in shown if c.cell_type == "markdown"))
    return "\n".join(markdown.render(c.source) if c.cell_type == "markdown" else
                     _stored_outputs(c, markdown) for c in shown if c.cell_type != "raw")


def _stored_outputs(cell, markdown: Markdown) -> str:
    """The HTML of a code cell's stored outputs that are HTML or Markdown (their ids and
    links are the published page's too); none when its outputs are removed."""
    from pipeline.render.export import REMOVE_OUTPUT

    if REMOVE_OUTPUT & set(cell.metadata.get("tags", ())):
        return ""
    parts = []
    for output in cell.get("outputs", ()):
        data = output.get("data", {})
        html, text = data.get("text/html"), data.get("text/markdown")
        if html is not None:
            parts.append("".join(html) if isinstance(html, list) else str(html))
        elif text is not None:
            parts.append(markdown.render("".join(text) if isinstance(text, list) else str(text)))
    return "\n".join(parts)


def _resolve(resolver: LinkResolver, page: Page, html: str, at: dict[str, str]
             ) -> tuple[list[str], str | None]:
    """The build's messages for `html` (each file it cannot show, with the fix, then each
    warning; a file it would copy over a page: `at`, page file -> source), and the HTML as the
    build rewrites it (None when it cannot). The build stops at a missing file; here the
    links are resolved past it."""
    from pipeline.build.publish import over_a_page

    try:
        rewritten = resolver.rewrite(page, html)
        for asset in rewritten.assets:
            over_a_page(page, site_rel(resolver.site, asset.source), asset.target, at)
        return list(rewritten.warnings), rewritten.html
    except LinkError as error:
        problems = error.detail.splitlines() if error.detail else [error.message]
        errors = [_with_hint(error, p) for p in problems]
    missing = {ref for ref in _urls(html) if any(p.startswith(repr(ref)) for p in problems)}
    try:
        rewritten = resolver.rewrite(page, html, missing)
        return errors + list(rewritten.warnings), rewritten.html
    except LinkError:
        return errors, None


def _urls(html: str) -> set[str]:
    """The path of every URL in the HTML's attributes, as the resolver names them."""
    from pipeline.render.html import srcset_urls, url_attributes

    urls = set()
    for attr in url_attributes(html):
        values = ([attr.value[s:e] for s, e in srcset_urls(attr.value)]
                  if attr.name == "srcset" else [attr.value])
        for value in values:
            try:
                urls.add(urlsplit(value).path)
            except ValueError:          # not a URL (`http://[::1`): found by its text
                urls.add(value)
    return urls - {""}


def _finding(page: Page, refs: list[str], message: str, lines: Locator) -> Finding:
    """A finding for one of the build's messages, at the line of the reference it names (the
    messages come in page order: a reference named twice is found twice)."""
    ref = next((r for r in refs if repr(r) in message), None)
    line = lines.find(ref, path=True) if ref else None
    return Finding(page.source.path, line, message.removeprefix(f"{page.source.path}: "))


def _featured_image(page: Page, resolver: LinkResolver) -> list[Finding]:
    """The frontmatter's featuredImage, which the build fails without (unless it is a URL)."""
    image = page.featured_image
    if not image or urlsplit(image).scheme or urlsplit(image).netloc:
        return []
    try:
        resolver.asset(page, image)
    except LinkError as error:
        line = line_of("".join(page.text.splitlines(keepends=True)[:page.body_line - 1]), image)
        return [Finding(page.source.path, line, _with_hint(error))]
    return []


# -- mojibake -----------------------------------------------------------------------------------

def mojibake(path: Path, fix: bool = False) -> list[Finding]:
    """Lines of `path` that read as mojibake; with `fix`, the file with them repaired. Code
    (fenced blocks, inline spans) is the author's verbatim text, an example of mojibake
    perhaps: it is noted, never changed. A line that cannot be repaired whole is reported
    without a repair and left as it is."""
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    prose = {number for number, _ in outside_fences(lines)}
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
    """One line's finding: its prose repaired (its code kept: a warning, `--fix` repairs
    it), its prose that no repair makes whole (an error: only the author can retype it), or
    mojibake in its code alone (a note)."""
    import ftfy
    from ftfy.badness import is_bad

    text = line.rstrip("\r\n")
    pieces = [(text, True)] if in_fence else code_spans(text)
    if not any(is_bad(t) for t, code in pieces if not code):
        return None if not any(is_bad(t) for t, _ in pieces) else Finding(
            path, number, "mojibake in code, left as written (code is shown as the author "
            "wrote it: retype it if it is not meant as an example)", level=NOTE)
    fixed = [(t if code else ftfy.fix_encoding(t), code) for t, code in pieces]
    if fixed == pieces:                     # nothing ftfy knows how to repair
        return None
    if any(is_bad(t) or "\ufffd" in t for t, code in fixed if not code):
        return Finding(path, number, "mojibake: text decoded with the wrong encoding, that "
                       "cannot be repaired whole (fix: retype the characters shown wrong)")
    return Finding(path, number, "mojibake: text decoded with the wrong encoding",
                   "".join(t for t, _ in fixed), level=WARNING)


def _line_end(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]
