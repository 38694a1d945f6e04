"""What flows between the stages: small frozen values, no I/O."""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pipeline.errors import NbpressError

DateLike = dt.date | dt.datetime


def url_of(slug: str) -> str:
    """A slug's site-absolute URL path, with a trailing slash: "aws" -> "/aws/", "" -> "/"."""
    return f"/{slug}/" if slug else "/"


@dataclass(frozen=True, slots=True)
class Source:
    """A file that may become a page: `content/X.md`, or `notebooks/X.ipynb` with no twin."""

    path: Path          # absolute
    rel: str            # relative to its own folder (content/ or notebooks/), posix, no suffix
    kind: str           # "md" or "ipynb"
    variant: str = ""   # one member of a page family (`sources/families.py`), "" for a page

    def __repr__(self) -> str:
        return f"Source({self.rel}.{self.kind}{'#' + self.variant if self.variant else ''})"

    @property
    def shown(self) -> str:
        """The file's path, and for a family's member its values: what a report names."""
        return f"{self.path} [{self.values}]" if self.variant else str(self.path)

    @property
    def values(self) -> str:
        """A member's values as written (`team=a b,window=7`); "" for a page."""
        from urllib.parse import unquote

        return ",".join(unquote(part) for part in self.variant.split(","))


@dataclass(frozen=True, slots=True)
class Family:
    """What a page family's member knows of its family (`sources/families.py`)."""

    base: str                               # the slug of the family's listing
    title: str                              # the listing's title
    index: int                              # the member's place in the family
    values: tuple[tuple[str, Any], ...]     # the member's (name, value) pairs, in order
    rows: Path | None = None                # the `matrix_from` file its members come from

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.values)


@dataclass(frozen=True, slots=True)
class Page:
    """A page with its frontmatter read and validated. `meta` is the frontmatter as written."""

    source: Source
    text: str                       # the file as read (md), or "" for a notebook
    body_line: int                  # 1-based line where the body starts in the file
    meta: Mapping[str, Any]         # every key, untouched
    title: str
    slug: str                       # "aws", "projects/x", "" for the home page
    draft: bool = False
    created: DateLike | None = None
    edited: DateLike | None = None
    date: DateLike | None = None
    abstract: str | None = None
    featured_image: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    execute: str = "auto"           # "auto" (when its code or inputs changed), "always", "never"
    depends: tuple[str, ...] = ()   # globs, relative to the page's folder, its code reads
    variant: str = ""               # one member of a page family (one source, many pages)
    tags: tuple[str, ...] = ()      # tags, categories and category, in order, each once
    aliases: tuple[str, ...] = ()   # old URLs as slugs: each gets a page that redirects here
    publish: DateLike | None = None  # not shown before (`sources/schedule.py`)
    expires: DateLike | None = None  # not shown from then on
    family: Family | None = None    # a family's member: its family; None for a page

    @property
    def id(self) -> tuple[Path, str]:
        """A page is its source and its variant: one notebook may make many pages."""
        return self.source.path, self.variant

    @property
    def url(self) -> str:
        """Site-absolute URL path with a trailing slash: "/aws/"."""
        return url_of(self.slug)

    @property
    def section(self) -> str | None:
        """The first folder of the source path: "experiences", "projects", "blog"; None at the top."""
        head, sep, _ = self.source.rel.partition("/")
        return head if sep else None

    @property
    def sort_date(self) -> DateLike | None:
        return self.date or self.created or self.edited

    def __repr__(self) -> str:
        return f"Page({self.source.rel!r}, slug={self.slug!r})"


@dataclass(frozen=True, slots=True)
class Exported:
    """A page's article HTML (cells only) and the files its outputs produced."""

    body: str
    files: Mapping[str, bytes]      # figure file name -> bytes, written beside index.html
    unsupported: tuple[tuple[str, str], ...] = ()   # directives shown plain: (name, opening)
    warnings: tuple[str, ...] = ()                  # what the export left out, and why
    scripts: tuple[str, ...] = ()                   # site scripts it needs, as assets/<name>
    # Where the author's own HTML is in `body` when the Markdown engine wrote the rest (a
    # prose page); None: not known (a notebook's cells and outputs).
    raw_spans: tuple[tuple[int, int], ...] | None = None

    def __repr__(self) -> str:
        return f"Exported({len(self.body)} chars, files={len(self.files)})"


class Outcome(enum.Enum):
    BUILT = "built"
    UNCHANGED = "unchanged"  # nothing it depends on changed: the previous output is kept
    SKIPPED = "skipped"     # a draft, left out
    FAILED = "failed"       # not published; an older good version may have been kept


@dataclass(frozen=True, slots=True)
class PageResult:
    source: Source
    outcome: Outcome
    executed: bool = False          # its code ran in a kernel in this build
    cached: bool = False            # its code's outputs came from the execution cache
    twin: bool = False              # ... or from its notebook twin, as the author ran it
    reason: str = ""                # why it was built again, or kept
    error: NbpressError | None = None
    kept_previous: bool = False
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()     # things the build repaired on its own (a damaged cache)
    seconds: float = 0.0            # how long building it took (0: it was not built)
    peak_memory: int = 0            # bytes its kernel reached when its code last ran (0: unknown)

    def __repr__(self) -> str:
        return f"PageResult({self.source.rel!r}, {self.outcome.value})"


class KeptResults(Sequence[PageResult]):
    """The results of a build that kept every page as it was, made only when first asked for
    (`--why`, the API): the summary needs counts and warnings alone, and a build with nothing
    to do on 100,000 pages should not make 100,000 objects to print one line."""

    __slots__ = ("_make", "_items", "counts", "warnings", "hidden")

    def __init__(self, make: Callable[[], Iterable[PageResult]], counts: Mapping[Outcome, int],
                 warnings: tuple[str, ...], hidden: Mapping[str, str] = {}):
        self._make, self._items = make, None
        self.counts, self.warnings = dict(counts), warnings
        self.hidden = hidden        # pages left out for their publish or expiry time: why

    def _all(self) -> tuple[PageResult, ...]:
        if self._items is None:
            self._items = tuple(sorted(self._make(), key=lambda r: r.source.rel))
        return self._items

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return sum(self.counts.values())

    def __iter__(self) -> Iterator[PageResult]:
        return iter(self._all())


@dataclass(frozen=True, slots=True)
class BuildReport:
    output: Path
    results: Sequence[PageResult]   # in source order (a tuple, or KeptResults)
    notes: tuple[str, ...] = ()     # e.g. a cache that could not be trusted and was discarded
    seconds: float = 0.0
    steps: tuple[Any, ...] = ()     # what each build notebook did (`build/steps.StepResult`)

    def count(self, outcome: Outcome) -> int:
        if isinstance(self.results, KeptResults):
            return self.results.counts.get(outcome, 0)
        return sum(1 for r in self.results if r.outcome is outcome)

    def skipped_why(self) -> dict[str, int]:
        """The pages left out, by why: {"draft": 3, "scheduled": 1, "expired": 1}."""
        if isinstance(self.results, KeptResults):
            hidden = [reason.split()[0] for reason in self.results.hidden.values()]
            drafts = self.results.counts.get(Outcome.SKIPPED, 0) - len(hidden)
            whys = ["draft"] * drafts + hidden
        else:
            whys = [(r.reason or "draft").split()[0] for r in self.results
                    if r.outcome is Outcome.SKIPPED]
        return {why: whys.count(why) for why in sorted(set(whys))}

    def count_code(self) -> tuple[int, int, int]:
        """Pages whose code ran, came from the cache, came from the twin."""
        if isinstance(self.results, KeptResults):
            return 0, 0, 0          # a kept page ran nothing
        return (sum(1 for r in self.results if r.executed), sum(1 for r in self.results if r.cached),
                sum(1 for r in self.results if r.twin))

    def warnings(self) -> tuple[str, ...]:
        """Each warning once (a family's members share their text, and its warnings)."""
        if isinstance(self.results, KeptResults):
            return tuple(dict.fromkeys(self.results.warnings))
        return tuple(dict.fromkeys(w for r in self.results for w in r.warnings))

    @property
    def failed(self) -> tuple[PageResult, ...]:
        if isinstance(self.results, KeptResults):
            return ()
        return tuple(r for r in self.results if r.outcome is Outcome.FAILED)

    @property
    def steps_ok(self) -> bool:
        return all(step.error is None for step in self.steps)

    @property
    def ok(self) -> bool:
        return not self.failed and self.steps_ok

    def __repr__(self) -> str:
        unchanged = self.count(Outcome.UNCHANGED)
        return (f"BuildReport(built={self.count(Outcome.BUILT)}, "
                + (f"unchanged={unchanged}, " if unchanged else "")
                + f"skipped={self.count(Outcome.SKIPPED)}, failed={self.count(Outcome.FAILED)})")
