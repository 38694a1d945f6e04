"""`nbpress check`: find what a build would reject or publish wrong, without building.

It reads every page as a build does (encoding, YAML, fields: the same errors) and looks for
mojibake: text that was UTF-8, read as Windows-1252 and saved again (`ðŸ˜Ž` for 😎). That is
reported with the repaired text, and repaired only with `--fix`, line by line, every other
byte of the file untouched. The only ftfy importer.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.sources.discover import discover
from pipeline.errors import NbpressError
from pipeline.sources.frontmatter import read_source
from pipeline.build.state import write_atomic


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    line: int | None
    message: str
    repaired: str | None = None     # the line as it would be repaired (mojibake only)


def check_site(config: SiteConfig, fix: bool = False) -> list[Finding]:
    """Every page read as a build reads it (encoding, YAML, fields, slugs), and mojibake."""
    from pipeline.build.engine import read_pages, unique_slugs
    from pipeline.build.state import BuildState

    findings: list[Finding] = []
    scanned, _ = read_pages(config, discover(config), BuildState())
    for source, error in unique_slugs(scanned)[1]:
        findings.append(Finding(source.path, error.line, f"{error.message} (fix: {error.hint})"))
    for source in discover(config):
        try:
            read_source(source)
        except NbpressError as error:
            findings.append(Finding(source.path, error.line, f"{error.message} (fix: {error.hint})"))
            continue
        except Exception as exc:           # e.g. a notebook whose JSON is not an object
            error = NbpressError(f"cannot be read ({type(exc).__name__}: {exc})", source.path,
                                 hint="open it in Jupyter and save it again")
            findings.append(Finding(source.path, error.line, f"{error.message} (fix: {error.hint})"))
            continue
        if source.kind == "md":
            findings += mojibake(source.path, fix)
    return findings


def mojibake(path: Path, fix: bool = False) -> list[Finding]:
    """Lines of `path` that read as mojibake; with `fix`, the file with them repaired."""
    import ftfy
    import ftfy.badness

    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    found = []
    for number, line in enumerate(lines, start=1):
        if ftfy.badness.is_bad(line):
            repaired = ftfy.fix_encoding(line)
            if repaired != line:
                found.append(Finding(path, number, "mojibake: text decoded with the wrong "
                                     "encoding", repaired.rstrip("\r\n")))
                lines[number - 1] = repaired
    if fix and found:
        text = "".join(lines)
        if path.read_bytes() != data:
            raise NbpressError("changed while nbpress was repairing it; nothing was written",
                               path, hint="run nbpress check --fix again")
        write_atomic(path, text)
    return found
