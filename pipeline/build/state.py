"""What the last build knew, kept in the site's cache folder so the next build can skip work.

`.nbpress-cache/build.json` holds, per source file: the hash of its bytes, its frontmatter as
parsed (so an unchanged page is never parsed again), the output files it made, the files it
referred to, and the key its output was built with. A state that cannot be trusted (corrupt,
from another version of nbpress, or not matching the output folder) is discarded whole, and
the build says so.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.files import cache_dir, write_atomic

FORMAT = 5
STATE_FILE = "build.json"
META_FILE = "pages.json"


@dataclass(slots=True)
class PageState:
    sha: str                                  # of the source bytes
    meta: dict[str, Any] | None               # frontmatter as parsed (dates kept); None: parse
    body_line: int
    key: str = ""                             # the output key it was built with; "" = failed
    files: list[str] = field(default_factory=list)         # output files it owns
    refs: dict[str, list[int]] = field(default_factory=dict)  # file it used -> [mtime_ns, size]
    links: dict[str, str | None] = field(default_factory=dict)  # page it links to -> its slug
    entry: dict[str, Any] = field(default_factory=dict)     # listing entry
    warnings: list[str] = field(default_factory=list)       # said again until fixed
    layout: str = ""                          # the layout key its page was rendered with
    always: bool = False                      # `execute: always`: built on every build


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
    has_meta: bool = True                    # False: an index only (see `load`)
    drafts: bool = False                     # the build published drafts (--drafts)


# What the fast path of a build with nothing to do never needs: kept in META_FILE, read only
# when some page is planned (100,000 pages: the index alone loads in a fraction of a second).
META_FIELDS = ("meta", "body_line", "entry")


def load(root: Path, version: str, output_id: str | None, meta: bool = True) -> BuildState:
    """The last build's state, or an empty one (with a note) when it cannot be trusted.
    `meta=False`: only the index (no frontmatter, no listing entries): `with_meta()` adds it."""
    path = cache_dir(root) / STATE_FILE
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
        pages = {rel: PageState(meta=None, body_line=1, **p) for rel, p in raw["pages"].items()}
        state = BuildState(raw["build_id"], raw["site_key"], pages, dict(raw["site_files"]),
                           dict(raw["site_refs"]), sources=dict(raw["sources"]),
                           left_out=list(raw["left_out"]), drafts=bool(raw["drafts"]),
                           has_meta=False)
    except (KeyError, TypeError) as exc:
        return BuildState(note=f"discarded the build state ({path}): it is damaged ({exc})")
    return with_meta(root, state) if meta else state


def with_meta(root: Path, state: BuildState) -> BuildState:
    """Add the frontmatter and listing entries of the last build to an index-only state; a
    damaged meta file costs a parse of every page (never a wrong page)."""
    if state.has_meta or not state.pages:
        return state
    path = cache_dir(root) / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
        if raw.get("build_id") != state.build_id:
            raise ValueError("it belongs to another build")
        for rel, fields in raw["pages"].items():
            page = state.pages.get(rel)
            if page is not None:
                page.meta, page.body_line, page.entry = (fields["meta"], fields["body_line"],
                                                         fields["entry"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        for page in state.pages.values():
            page.meta, page.entry = None, {}
    state.has_meta = True
    return state


def save(root: Path, version: str, state: BuildState) -> None:
    """Write the state atomically: a build killed while writing leaves the old one or none.
    The meta file goes first: an index always finds the meta of its own build, or none."""
    folder = cache_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    pages = sorted(state.pages.items())
    meta = {"build_id": state.build_id,
            "pages": {rel: {name: getattr(p, name) for name in META_FIELDS} for rel, p in pages}}
    write_atomic(folder / META_FILE, json.dumps(meta, default=_encode, separators=(",", ":")))
    index = {"format": FORMAT, "nbpress": version, "build_id": state.build_id,
             "site_key": state.site_key, "site_files": state.site_files,
             "site_refs": state.site_refs, "sources": state.sources, "left_out": state.left_out,
             "drafts": state.drafts,
             "pages": {rel: {name: getattr(p, name) for name in PageState.__slots__
                             if name not in META_FIELDS} for rel, p in pages}}
    write_atomic(folder / STATE_FILE, json.dumps(index, separators=(",", ":")))


def storable(value: Any) -> bool:
    """Whether frontmatter can be kept in the state exactly (JSON, plus dates)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, dt.date))


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
