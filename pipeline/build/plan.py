"""Decide, page by page, what a build must do and why: build it again, or keep its output.

Pure decisions over what was read now and what the last build recorded (`state.py`); no
heavy library is imported here, so a build with nothing to do costs a few stats and hashes.
"""
from __future__ import annotations

import enum
import hashlib
import json
import os
from dataclasses import dataclass

from pipeline import __version__
from pipeline.config import SiteConfig
from pipeline.model import Page
from pipeline.build.deps import changed_ref, code_hash
from pipeline.build.state import BuildState, PageState


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


def site_key(config: SiteConfig) -> str:
    """What every page's output depends on: nbpress's code, templates and libraries, and the
    settings. (What a page shows of other pages is its layout key: `site/model.py`.)"""
    settings = {name: str(getattr(config, name)) for name in config.__slots__
                if name not in ("root", "config_file", "steps",     # steps: through their files
                                "executor", "scheduler")}     # where code runs: not what shows
    return _hash(__version__, code_hash(), settings, theme_stamps(config))


def theme_stamps(config: SiteConfig) -> list[tuple[str, list[int]]]:
    """The site's theme folder and extra stylesheets, by stamp: an edit of one lays out every
    page again (a few files: one walk)."""
    found = []
    paths = [config.root / css for css in config.extra_css]
    if config.theme.is_dir():
        paths += sorted(p for p in config.theme.rglob("*") if p.is_file())
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            found.append((str(path), []))
            continue
        found.append((str(path), [st.st_mtime_ns, st.st_size, st.st_ctime_ns]))
    return found


def page_key(site: str, sha: str) -> str:
    return hashlib.sha256(f"{site}:{sha}".encode()).hexdigest()     # once a page: no JSON


@dataclass(frozen=True, slots=True)
class Planner:
    """What every decision of one build compares against: the site key, the last build's
    state, and the slug of every page published in this build, by source path."""

    config: SiteConfig
    state: BuildState
    site: str                       # site_key()
    slugs: dict[str, str]
    environment: str                # execute.cache.environment_key(), or "" with no code
    output: str                     # str(config.output), made once

    @staticmethod
    def of(config: SiteConfig, state: BuildState, site: str, slugs: dict[str, str],
           code: bool) -> "Planner":
        """`code`: some page may have code to run (then the packages are looked at)."""
        from pipeline.execute.cache import environment_key

        return Planner(config, state, site, slugs, environment_key() if code else "",
                       str(config.output))

    def decide(self, page: Page, rel: str, sha: str, code: bool) -> Decision:
        """Keep the page's previous output only when nothing it depends on has changed.
        `code`: the page may have code to run (`may_run`); it is then built again when the
        installed packages change."""
        old = self.state.pages.get(rel)
        key = page_key(self.site + self.environment if code else self.site, sha)
        reason = self._why_build(page, sha, key, old, code)
        if reason is None and old is not None:
            moved = next((t for t, slug in old.links.items() if self.slugs.get(t) != slug), None)
            reason = None if moved is None else (
                f"the page it links to, {moved}, is published now" if old.links[moved] is None
                else f"the page it links to, {moved}, moved or is gone")
        return Decision(page, rel, Action.BUILD if reason else Action.KEEP,
                        reason or "unchanged", key, sha)

    def _why_build(self, page: Page, sha: str, key: str, old: PageState | None,
                   code: bool) -> str | None:
        if old is None or not old.files:
            return "new page" if old is None else "not built before"
        if not old.key:
            return "failed last time"
        if old.sha != sha:
            return "source changed"
        if page.execute == "always":
            return "execute: always"
        if old.key != key:
            if code and self.environment != self.state.environment:
                return "the installed packages changed (it has code)"
            return "site settings, nbpress or its libraries changed"
        if not old.layout:
            return "its nav or listing changed and its article was not stored"
        changed = changed_ref(self.config.root, old.refs)
        if changed:
            return changed
        if not all(os.path.isfile(f"{self.output}/{f}") for f in old.files):
            return "its output is missing"
        return None


def may_run(page: Page) -> bool:
    """Cheap: could this page have code to run? (a fence in its text, or a notebook)"""
    from pipeline.notebook.convert import may_have_code

    return page.execute != "never" and (page.source.kind == "ipynb" or may_have_code(page.text))


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
