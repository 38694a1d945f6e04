"""What the last build knew, kept in the site's cache folder so the next build can skip work.

`.nbpress-cache/pages.json` holds, per source file: the hash of its bytes, its frontmatter as
parsed (so an unchanged page is never parsed again), the output files it made, the files it
referred to, and the key its output was built with. `build.json` holds what the whole site
was built from, and the little a build with nothing to do needs (`FastIndex`). A state that
cannot be trusted (corrupt, from another version of nbpress, or not matching the output
folder) is discarded whole, and the build says so.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pipeline.files import write_atomic

FORMAT = 9          # 9: pages keep their #fragment links; frontmatter read with unique keys
STATE_FILE = "build.json"
PAGES_FILE = "pages.json"


@dataclass(slots=True)
class PageState:
    sha: str                                  # of the source bytes
    meta: dict[str, Any] | None               # frontmatter as parsed (dates kept); None: parse
    body_line: int
    key: str = ""                             # the output key it was built with; "" = failed
    files: list[str] = field(default_factory=list)         # output files it owns
    refs: dict[str, list[int]] = field(default_factory=dict)  # file it used -> deps.stamp_of
    links: dict[str, str | None] = field(default_factory=dict)  # page it links to -> its slug
    entry: dict[str, Any] = field(default_factory=dict)     # listing entry
    warnings: list[str] = field(default_factory=list)       # said again until fixed
    layout: str = ""                          # the layout key its page was rendered with
    always: bool = False                      # `execute: always`: built on every build
    peak_memory: int = 0                      # bytes its kernel reached when its code ran
    fragments: list = field(default_factory=list)     # its #fragment links: [href, as written]


@dataclass(frozen=True, slots=True)
class FastIndex:
    """What a build with nothing to do needs to know of the pages, and no more: kept in
    STATE_FILE, the pages themselves in PAGES_FILE (100,000 pages: read in a tenth of a
    second instead of a second). Made only when every page could be kept as it is."""

    pages: dict[str, str]                   # published page -> the first output file it owns
    files: list[str]                        # every other output file of a page, once
    drafts: list[str]                       # pages left out as drafts
    refs: dict[str, list[int]]              # every file a page used, once, with its stamp
    warnings: dict[str, list[str]]          # pages with warnings -> their warnings

    @staticmethod
    def of(pages: dict[str, PageState]) -> "FastIndex | None":
        """None when some page would be built again whatever changed (it failed, it runs
        on every build), or when two pages saw one file differently (one is out of date)."""
        published, files, drafts, refs, warnings = {}, set(), [], {}, {}
        for rel, page in pages.items():
            if page.key == "draft":
                drafts.append(rel)
                continue
            if not page.key or not page.files or page.always or not page.layout:
                return None
            published[rel] = page.files[0]
            files.update(page.files[1:])
            for name, seen in page.refs.items():
                if refs.setdefault(name, seen) != seen:
                    return None
            if page.warnings:
                warnings[rel] = list(page.warnings)
        return FastIndex(published, sorted(files - set(published.values())), drafts, refs,
                         warnings)


@dataclass(slots=True)
class BuildState:
    build_id: str = ""
    site_key: str = ""
    pages: dict[str, PageState] = field(default_factory=dict)   # by source path from site root
    site_files: dict[str, str] = field(default_factory=dict)  # site-wide outputs -> key
    site_refs: dict[str, list[int]] = field(default_factory=dict)  # site-wide inputs (static/)
    sources: dict[str, list[int]] = field(default_factory=dict)  # every candidate file: stamp
    left_out: list[str] = field(default_factory=list)   # warnings about files not published
    note: str | None = None                  # why an earlier state was discarded
    has_pages: bool = True                   # False: `pages` not read yet (see `load`)
    drafts: bool = False                     # the build published drafts (--drafts)
    fast: FastIndex | None = None            # as saved (None: the fast path cannot be taken)
    environment: str = ""                    # the installed packages, when a page has code
    pages_stamp: list[int] = field(default_factory=list)   # of PAGES_FILE as written with it
    git_stamp: str = ""                      # the commit HEAD was at (pages' dates from git)
    layout_sigs: dict[str, str] = field(default_factory=dict)  # what pages showed, by section
    hidden: dict[str, str] = field(default_factory=dict)   # pages left out for their publish
                                             # or expiry time -> why ("scheduled for ...")
    window: list = field(default_factory=lambda: [None, None])  # [start, end) POSIX seconds in
                                             # which no page comes or goes (publish, expires)
    # Each page as last saved, by the PageState saved: a service's next save encodes only
    # the pages that changed (`save`); None for a single build (no copy kept). Not saved.
    encoded: dict[str, tuple[PageState, str]] | None = field(default=None, repr=False)


def load(folder: Path, version: str, output_id: str | None, pages: bool = True) -> BuildState:
    """The last build's state, or an empty one (with a note) when it cannot be trusted.
    `pages=False`: the index of the whole site alone, with its `fast` part: `with_pages()`
    adds the pages."""
    path = folder / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BuildState()
    except (OSError, ValueError) as exc:
        return BuildState(note=f"discarded the build state ({path}): it is unreadable ({exc})")
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("nbpress") != version:
        return BuildState(note=f"discarded the build state: it was written by another version "
                               f"of nbpress ({raw.get('nbpress') if isinstance(raw, dict) else '?'})")
    if raw.get("build_id") != output_id:
        if output_id is None:           # no output yet, or removed with `nbpress clean`
            return BuildState()
        return BuildState(note="the output folder does not match the build state (changed "
                               "by hand or by another tool): every page is built again")
    try:
        fast = raw["fast"] and FastIndex(
            dict(raw["fast"]["pages"]), list(raw["fast"]["files"]), list(raw["fast"]["drafts"]),
            dict(raw["fast"]["refs"]), dict(raw["fast"]["warnings"]))
        state = BuildState(raw["build_id"], raw["site_key"], {}, dict(raw["site_files"]),
                           dict(raw["site_refs"]), sources=dict(raw["sources"]),
                           left_out=list(raw["left_out"]), drafts=bool(raw["drafts"]),
                           has_pages=False, fast=fast or None,
                           environment=str(raw["environment"]),
                           pages_stamp=list(raw["pages_stamp"]),
                           git_stamp=str(raw.get("git_stamp", "")),
                           layout_sigs=dict(raw.get("layout_sigs", {})),
                           window=_window(raw.get("window")),
                           hidden=dict(raw.get("hidden", {})))
    except (KeyError, TypeError) as exc:
        return BuildState(note=f"discarded the build state ({path}): it is damaged ({exc})")
    return with_pages(folder, state) if pages else state


def with_pages(folder: Path, state: BuildState) -> BuildState:
    """Add the pages of the last build to a state loaded without them. A damaged pages file
    costs a build of every page (never a wrong page), and says so."""
    if state.has_pages:
        return state
    path = folder / PAGES_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
        if raw.get("build_id") != state.build_id:
            raise ValueError("it belongs to another build")
        state.pages = {rel: PageState(**fields) for rel, fields in raw["pages"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        state.pages, state.fast = {}, None
        state.note = f"discarded the pages of the build state ({path}): {exc}"
    state.has_pages = True
    return state


def save(folder: Path, version: str, state: BuildState) -> None:
    """Write the state atomically: a build killed while writing leaves the old one or none.
    The pages go first: an index always finds the pages of its own build, or none."""
    if not state.has_pages:
        raise ValueError("a state loaded without its pages cannot be saved")
    folder.mkdir(parents=True, exist_ok=True)
    pages = dict(sorted(state.pages.items()))
    write_atomic(folder / PAGES_FILE, _pages_json(state.build_id, pages, state.encoded))
    state.pages_stamp = pages_stamp(folder)
    fast = FastIndex.of(pages)
    index = {"format": FORMAT, "nbpress": version, "build_id": state.build_id,
             "site_key": state.site_key, "site_files": state.site_files,
             "site_refs": state.site_refs, "sources": state.sources, "left_out": state.left_out,
             "drafts": state.drafts, "environment": state.environment,
             "pages_stamp": state.pages_stamp, "git_stamp": state.git_stamp,
             "layout_sigs": state.layout_sigs, "window": state.window,
             "hidden": state.hidden,
             "fast": fast and {"pages": fast.pages, "files": fast.files, "drafts": fast.drafts,
                               "refs": fast.refs, "warnings": fast.warnings}}
    write_atomic(folder / STATE_FILE, json.dumps(index, separators=(",", ":")))
    state.fast = fast


def _window(raw: object) -> list:
    """A saved window, or one that the clock is never in (a state of an older build)."""
    if (isinstance(raw, list) and len(raw) == 2
            and all(v is None or isinstance(v, (int, float)) for v in raw)):
        return list(raw)
    return [0.0, 0.0]


def pages_stamp(folder: Path) -> list[int]:
    """The stamp of PAGES_FILE: a build with nothing to do never reads it, but sees it is
    the file its index was saved with (not lost, damaged, or from another build)."""
    try:
        st = os.stat(folder / PAGES_FILE)
    except OSError:
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino]


def _pages_json(build_id: str, pages: dict[str, PageState],
                memo: dict[str, tuple[PageState, str]] | None) -> Iterator[str]:
    """PAGES_FILE in pieces, a page at a time (100,000 pages: never the whole text at once)."""
    yield '{"build_id":%s,"pages":{' % json.dumps(build_id)
    for i, (rel, page) in enumerate(pages.items()):
        yield f'{"," if i else ""}{json.dumps(rel)}:{_encoded(memo, rel, page)}'
    yield "}}"


def _encoded(memo: dict[str, tuple[PageState, str]] | None, rel: str, page: PageState) -> str:
    known = memo.get(rel) if memo is not None else None
    if known is None or known[0] is not page:
        known = (page, json.dumps({name: getattr(page, name) for name in PageState.__slots__},
                                  default=_encode, separators=(",", ":")))
        if memo is not None:
            memo[rel] = known
    return known[1]


def storable(value: Any) -> bool:
    """Whether frontmatter can be kept in the state exactly (JSON, plus dates)."""
    if isinstance(value, dict):     # one that reads as our date tag is not stored: parsed again
        return (not (len(value) == 1 and next(iter(value)) in _TAGS)
                and all(isinstance(k, str) and storable(v) for k, v in value.items()))
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, dt.date))


_TAGS = ("$date", "$datetime")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in the build state")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
    return obj
