"""The fast path of a build with nothing to do: every page's result read from the state's
index (no frontmatter, no page read), after one `scandir` walk of the source folders. It
must say exactly what a full plan would; anything it cannot vouch for sends the build down
the full path (tests/e2e/test_nothing_changed.py)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pipeline.build.deps import changed_ref, stamp
from pipeline.build.state import BuildState, pages_stamp
from pipeline.execute.cache import environment_key
from pipeline.config import SiteConfig
from pipeline.model import KeptResults, Outcome, PageResult, Source
from pipeline.files import state_dir
from pipeline.site.files import static_files
from pipeline.sources.schedule import within


def git_stamp(config: SiteConfig) -> str:
    """HEAD's commit, read from `.git` (a few small files, no git process): "" outside git."""
    from pipeline.sources.gitdates import head_stamp

    return head_stamp(config.root) or ""


def unchanged_site(config: SiteConfig, state: BuildState, seen: dict[str, list[int]],
                   drafts: bool, key: str, now: dt.datetime) -> KeptResults | None:
    """Every page's result when nothing any page depends on changed since the last build
    (the files discovery looks at, nbpress and the settings, each page's files and outputs,
    the site-wide files, the pages that `now` publishes), from the state's fast index
    alone; None when something did."""
    fast = state.fast
    if (state.note or fast is None or not fast.pages or state.sources != seen
            or state.site_key != key or state.drafts != drafts
            or not within(state.window, now)     # a page comes or goes, or its notice (--drafts)
            or not site_current(config, state) or changed_ref(config.root, fast.refs)
            or state.environment and state.environment != environment_key()
            or state.pages_stamp != pages_stamp(state_dir(config.root, config.output))
            or state.git_stamp != git_stamp(config)):       # a commit may date a page
        return None
    output = str(config.output)
    isfile = os.path.isfile
    for files in (fast.pages.values(), fast.files):     # every file a full plan looks for
        for rel in files:
            if not isfile(f"{output}/{rel}"):
                return None
    tops = _tops(config)
    warned = sorted((source_at(config, rel, tops).rel, w) for rel, w in fast.warnings.items())

    def results() -> list[PageResult]:
        return ([PageResult(source_at(config, rel, tops), Outcome.UNCHANGED, reason="unchanged",
                            warnings=tuple(fast.warnings.get(rel, ()))) for rel in fast.pages]
                + [PageResult(source_at(config, rel, tops), Outcome.SKIPPED,
                              reason=state.hidden.get(rel, "draft")) for rel in fast.drafts])

    return KeptResults(results, {Outcome.UNCHANGED: len(fast.pages), Outcome.SKIPPED: len(fast.drafts)},
                       tuple(w for _, ws in warned for w in ws), state.hidden)


def site_current(config: SiteConfig, state: BuildState) -> bool:
    """The site-wide files the last build wrote are there (each of the search index's: a
    site past 20,000 pages has none by default), and static/ is unchanged."""
    output = str(config.output) + os.sep
    isfile = os.path.isfile
    return (bool(state.site_files) and all(isfile(output + f) for f in state.site_files)
            and state.site_refs == site_refs(config))


def source_at(config: SiteConfig, rel: str, tops: list[str] | None = None) -> Source:
    """The Source discovery made of the file at `rel` (from the site root). String work only:
    the fast path asks this for every page. A family's member is named `<file>#<variant>`."""
    file, mark, variant = rel.rpartition("#")
    if not (mark and "=" in variant and file.endswith((".md", ".ipynb"))):
        file, variant = rel, ""
    path = os.path.join(str(config.root), file)
    stem, dot, kind = path.rpartition(".")
    for top in tops or _tops(config):   # the deeper folder first, when one holds the other
        if path.startswith(top):
            return Source(Path(path), stem[len(top):].replace(os.sep, "/"), kind, variant)
    return Source(Path(path), os.path.basename(stem), kind, variant)


def _tops(config: SiteConfig) -> list[str]:
    tops = {str(config.content) + os.sep, str(config.notebooks) + os.sep}
    return sorted(tops, key=len, reverse=True)


def site_refs(config: SiteConfig) -> dict[str, list[int]]:
    """What the site-wide files are made from, besides the pages: the files of static/."""
    return dict(stamp(config.root, path) for path, _ in static_files(config))
