"""The fast path of a build with nothing to do: every page's result read from the state's
index (no frontmatter, no page read), after one `scandir` walk of the source folders. It
must say exactly what a full plan would; anything it cannot vouch for sends the build down
the full path (tests/e2e/test_nothing_changed.py)."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.build.deps import changed_ref, stamp
from pipeline.build.state import BuildState
from pipeline.config import SiteConfig
from pipeline.model import Outcome, PageResult, Source
from pipeline.site.files import static_files


def unchanged_site(config: SiteConfig, state: BuildState, seen: dict[str, list[int]],
                   drafts: bool, key: str) -> list[PageResult] | None:
    """Every page's result when nothing any page depends on changed since the last build
    (the files discovery looks at, nbpress and the settings, each page's files and outputs,
    the site-wide files), read from the state's index alone; None when something did."""
    if state.note or not state.pages or state.sources != seen or not site_current(config, state):
        return None
    if state.site_key != key or state.drafts != drafts:
        return None
    output, results, tops = str(config.output), [], _tops(config)
    for rel, page in state.pages.items():
        source = source_at(config, rel, tops)
        if page.key == "draft":
            results.append(PageResult(source, Outcome.SKIPPED))
            continue
        if (not page.key or not page.files or page.always or not page.layout
                or changed_ref(config.root, page.refs)
                or not os.path.isfile(f"{output}/{page.files[0]}")):
            return None     # (the page itself is looked for; a full plan looks for every file)
        results.append(PageResult(source, Outcome.UNCHANGED, reason="unchanged",
                                  warnings=tuple(page.warnings)))
    return results


def site_current(config: SiteConfig, state: BuildState) -> bool:
    output = config.output
    return (bool(state.site_files) and all((output / f).is_file() for f in state.site_files)
            and state.site_refs == site_refs(config))


def source_at(config: SiteConfig, rel: str, tops: list[str] | None = None) -> Source:
    """The Source discovery made of the file at `rel` (from the site root). String work only:
    the fast path asks this for every page."""
    path = os.path.join(str(config.root), rel)
    stem, dot, kind = path.rpartition(".")
    for top in tops or _tops(config):   # the deeper folder first, when one holds the other
        if path.startswith(top):
            return Source(Path(path), stem[len(top):].replace(os.sep, "/"), kind)
    return Source(Path(path), os.path.basename(stem), kind)


def _tops(config: SiteConfig) -> list[str]:
    tops = {str(config.content) + os.sep, str(config.notebooks) + os.sep}
    return sorted(tops, key=len, reverse=True)


def site_refs(config: SiteConfig) -> dict[str, list[int]]:
    """What the site-wide files are made from, besides the pages: the files of static/."""
    return dict(stamp(config.root, path) for path, _ in static_files(config))
