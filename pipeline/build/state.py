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
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 3
STATE_FILE = "build.json"


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


@dataclass(slots=True)
class BuildState:
    build_id: str = ""
    site_key: str = ""
    pages: dict[str, PageState] = field(default_factory=dict)   # by source path from site root
    site_files: dict[str, str] = field(default_factory=dict)  # site-wide outputs -> key
    site_refs: dict[str, list[int]] = field(default_factory=dict)  # site-wide inputs (static/)
    note: str | None = None                  # why an earlier state was discarded


def cache_dir(root: Path) -> Path:
    return root / ".nbpress-cache"


def site_lock(root: Path):
    """Kept for callers not yet moved: the lock lives in `build/lock.py`."""
    from pipeline.build.lock import site_lock as lock

    return lock(root)


def load(root: Path, version: str, output_id: str | None) -> BuildState:
    """The last build's state, or an empty one (with a note) when it cannot be trusted."""
    path = cache_dir(root) / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
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
        pages = {rel: PageState(**p) for rel, p in raw["pages"].items()}
        return BuildState(raw["build_id"], raw["site_key"], pages,
                          dict(raw["site_files"]), dict(raw["site_refs"]))
    except (KeyError, TypeError) as exc:
        return BuildState(note=f"discarded the build state ({path}): it is damaged ({exc})")


def save(root: Path, version: str, state: BuildState) -> None:
    """Write the state atomically: a build killed while writing leaves the old one or none."""
    folder = cache_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "nbpress": version, "build_id": state.build_id,
            "site_key": state.site_key, "site_files": state.site_files,
            "site_refs": state.site_refs,
            "pages": {rel: {name: getattr(p, name) for name in PageState.__slots__}
                      for rel, p in sorted(state.pages.items())}}
    write_atomic(folder / STATE_FILE, json.dumps(data, default=_encode, separators=(",", ":")))


def storable(value: Any) -> bool:
    """Whether frontmatter can be kept in the state exactly (JSON, plus dates)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, dt.date))


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a temp file beside it, then a rename), keeping
    the file's permissions and writing through a symlink to the file it points to."""
    path = path.resolve() if path.is_symlink() else path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
