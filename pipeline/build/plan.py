"""Decide, page by page, what a build must do and why: build it again, or keep its output.

Pure decisions over what was read now and what the last build recorded (`state.py`); no
heavy library is imported here, so a build with nothing to do costs a few stats and hashes.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.config import SiteConfig
from pipeline.model import Page
from pipeline.build.state import BuildState, PageState

PACKAGE = Path(__file__).parents[1]     # pipeline/


class Action(enum.Enum):
    KEEP = "keep"           # the previous output is still right
    BUILD = "build"         # export again (and run its code, if the execution cache misses)


@dataclass(frozen=True, slots=True)
class Decision:
    page: Page
    rel: str                # the source path from the site root
    action: Action
    reason: str
    key: str                # the output key of this build
    sha: str                # of the source bytes

    def __repr__(self) -> str:
        return f"Decision({self.rel!r}, {self.action.value}: {self.reason})"


def site_key(config: SiteConfig, pages: list[Page], drafts: bool) -> str:
    """What every page's output depends on: nbpress's code, templates and libraries, the settings, and the
    header links (which, when the site sets no `nav`, name its sections and top pages)."""
    settings = {name: str(getattr(config, name)) for name in config.__slots__
                if name not in ("root", "config_file")}
    nav = None
    if config.nav is None:
        nav = (sorted({p.section for p in pages if p.section}),
               sorted((p.title, p.url) for p in pages if p.section is None))
    return _hash(__version__, code_hash(), settings, drafts, nav)


def code_hash() -> str:
    """nbpress's own code and templates, and the versions of the libraries that shape a
    page's HTML: an upgrade or a local change rebuilds every page."""
    global _CODE_HASH
    if _CODE_HASH is None:
        digest = hashlib.sha256()
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PACKAGE).as_posix().encode())
                digest.update(path.read_bytes())
        digest.update(json.dumps(library_versions()).encode())
        _CODE_HASH = digest.hexdigest()
    return _CODE_HASH


_CODE_HASH: str | None = None
SHAPING_LIBRARIES = ("nbconvert", "nbformat", "mistune", "markdown-it-py", "mdit-py-plugins",
                     "pygments", "jupytext", "jinja2", "pyyaml", "python-frontmatter")


def library_versions() -> dict[str, str | None]:
    from importlib import metadata

    versions = {}
    for name in SHAPING_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def page_key(site: str, sha: str, listing: str = "") -> str:
    return _hash(site, sha, listing)


def decide(page: Page, rel: str, sha: str, key: str, site: str, state: BuildState,
           config: SiteConfig, slugs: dict[str, str]) -> Decision:
    """Keep the page's previous output only when nothing it depends on has changed.
    `slugs`: the slug of every page published in this build, by source path."""
    old = state.pages.get(rel)
    reason = _why_build(page, sha, key, old, state.site_key != site, config)
    if reason is None and old is not None:
        moved = next((t for t, slug in old.links.items() if slugs.get(t) != slug), None)
        reason = f"the page it links to, {moved}, moved or is gone" if moved else None
    return Decision(page, rel, Action.BUILD if reason else Action.KEEP,
                    reason or "unchanged", key, sha)


def _why_build(page: Page, sha: str, key: str, old: PageState | None, site_changed: bool,
               config: SiteConfig) -> str | None:
    if old is None or not old.files:
        return "new page" if old is None else "not built before"
    if not old.key:
        return "failed last time"
    if old.sha != sha:
        return "source changed"
    if page.execute == "always":
        return "execute: always"
    if old.key != key:
        return ("site settings, templates or page addresses changed" if site_changed
                else "its listing changed")
    changed = changed_ref(config.root, old.refs)
    if changed:
        return f"{changed} changed"
    if not all((config.output / f).is_file() for f in old.files):
        return "its output is missing"
    return None


GLOB = "glob:"


def glob_ref(root: Path, folder: Path, pattern: str) -> tuple[str, list[int]]:
    """A `depends:` pattern as a reference: the files it matches (a new one is a change)."""
    return f"{GLOB}{folder.relative_to(root).as_posix()}::{pattern}", [_matches(folder, pattern), 0]


def _matches(folder: Path, pattern: str) -> int:
    names = sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())
    return int(hashlib.sha256("\n".join(names).encode()).hexdigest()[:12], 16)


def changed_ref(root: Path, refs: dict[str, list[int]]) -> str | None:
    """The first file a page used whose size or modification time differs (or a `depends:`
    pattern that now matches other files), if any."""
    for name, (mtime, size) in refs.items():
        if name.startswith(GLOB):
            folder, _, pattern = name[len(GLOB):].partition("::")
            if _matches(root / folder, pattern) != mtime:
                return f"the files matching {folder}/{pattern}"
            continue
        try:
            st = (root / name).stat()
        except OSError:
            return name
        if st.st_mtime_ns != mtime or st.st_size != size:
            return name
    return None


def stamp(root: Path, path: Path) -> tuple[str, list[int]]:
    st = path.stat()
    return path.relative_to(root).as_posix(), [st.st_mtime_ns, st.st_size]


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
