"""One page of a build, in a worker or the build process: pair it with its notebook, run its
code (or reuse the cached run, or its twin's outputs from Jupyter), export it and write it.
A failure becomes the page's result; it never stops the other pages."""
from __future__ import annotations

import glob
import pickle
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.build.plan import Decision, may_run
from pipeline.build.warm import Warm
from pipeline.build.writer import SiteWriter, page_name
from pipeline.config import SiteConfig
from pipeline.errors import NbpressError
from pipeline.files import scratch_dir, sweep_scratch
from pipeline.execute.base import Executor, InlineExecutor, Job
from pipeline.execute.cache import (ExecutionCache, FrozenResults, bundle_files, data_files,
                                    depends_files, environment_key, execution_key, freeze_key)
from pipeline.model import Outcome, Page, PageResult, Source


@dataclass(slots=True)
class PageContext:
    """What every page of one build shares: settings, the writer, run parameters, the
    exporter, the caches, the executor and the kernels (when a page may run code)."""

    config: SiteConfig
    writer: SiteWriter
    run: Any            # execute.RunContext
    exporter: Any       # export.Exporter
    cache: ExecutionCache
    environment: str
    warm: Warm | None = None    # owned by this build (closed at its end) unless a service's
    executor: Executor = field(default_factory=InlineExecutor)
    scratch: Path | None = None     # this build's passing files (removed at its end)
    kept: Warm | None = None        # the warm in use: this build's or the service's
    isolate: bool = False
    on_note: Any = None
    prerendered: dict = field(default_factory=dict)    # prose bodies by text, pickled (build/ahead)

    @staticmethod
    def create(config: SiteConfig, writer: SiteWriter, todo: list[Decision], isolate: bool,
               warm: Warm | None = None, environment: str = "",
               on_note: Any = None, exporter: Any = None) -> "PageContext":
        """`environment`: the packages' key, when the plan already worked it out; `on_note`
        is told where code runs when it is a cluster (`[tool.nbpress] executor = "dask"`);
        `exporter`: one made already (`build/ahead`)."""
        from pipeline.execute.run import RunContext
        from pipeline.render.export import Exporter

        own = None if warm is not None else Warm()
        warm = warm or own
        warm.settle(config)
        sweep_scratch(config.root)      # what killed builds left (we hold the lock)
        warm.exporter = warm.exporter or exporter or Exporter()
        run = RunContext(build_time=writer.build_time.isoformat(), base_url=config.base_url)
        context = PageContext(config, writer, run, warm.exporter, ExecutionCache(config.root),
                              environment or environment_key(), own, kept=warm,
                              isolate=isolate or config.executor == "dask", on_note=on_note)
        try:                            # (a Dask build runs no kernel here)
            context.ready(todo)
        except BaseException:
            context.__exit__()
            raise
        return context

    def ready(self, todo: list[Decision]) -> None:
        """Make what these pages need before the page workers fork: kernels and a scratch
        folder if one may run code, the Dask cluster if one's code will run, the exporter
        and the templates. Again for the pages a build's second pass adds."""
        if self.run.kernel_manager is None and any(may_run(d.page) for d in todo):
            from pipeline.execute.kernels import manager_class

            self.scratch = scratch_dir(self.config.root)
            server = None if self.isolate else self.kept.fork_server()
            self.run = replace(self.run, kernel_manager=manager_class(server, self.scratch),
                               scratch=str(self.scratch), fork_server=server)
        if todo:
            self.exporter.warm(full=self.run.kernel_manager is not None)
            self.writer.warm()
        if self.run.kernel_manager is not None and self.config.executor == "dask" and \
                isinstance(self.executor, InlineExecutor) and any(
                    _sends_job(d.page, self) for d in todo if may_run(d.page)):
            self.executor = self.kept.dask(self.config, self.on_note)

    def __enter__(self) -> "PageContext":
        return self

    def __exit__(self, *exc: object) -> None:
        """Also when `create` failed half-way: each part is undone if it was made."""
        if self.run.fork_server is not None:        # a family's template lives one build
            self.run.fork_server.forget_templates()
        if self.warm is not None:
            self.warm.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _sends_job(page: Page, context: "PageContext") -> bool:
    """Will this page's code be run (not its twin's outputs, the cache's or _freeze/'s)?
    Asked before a Dask build connects, or starts a LocalCluster: not for nothing."""
    from pipeline.notebook.convert import default_kernelspec, to_notebook

    try:
        nb = to_notebook(page, context.config)
    except Exception:           # the page fails in its build, with the error
        return False
    if not needs_execution(page, nb):
        return False
    nb.metadata.setdefault("kernelspec", default_kernelspec(context.config))
    return twin_with_outputs(page, nb, context.config) is None and (
        page.execute == "always" or _reused(nb, page, context.config, context)[0] is None)


def build_one(decision: Decision, context: PageContext) -> tuple[PageResult, Any]:
    """Build one page; in the build process or a worker. (result, what was written)."""
    started = time.perf_counter()
    result, written = _built_or_failed(decision, context)
    return replace(result, seconds=time.perf_counter() - started), written


def _built_or_failed(decision: Decision, context: PageContext) -> tuple[PageResult, Any]:
    page = decision.page
    try:
        return build_page(page, context.config, context, context.writer, decision.reason)
    except NbpressError as error:
        return PageResult(page.source, Outcome.FAILED, error=_of_member(page, error)), None
    except Exception as exc:   # a bug or a library failure must not stop the other pages
        return PageResult(page.source, Outcome.FAILED,
                          error=_of_member(page, unexpected(exc, page.source))), None


def _of_member(page: Page, error: NbpressError) -> NbpressError:
    """A family member's error says which member it is (they share the file)."""
    if page.family:
        values = ", ".join(f"{name}={value!r}" for name, value in page.family.values)
        error.message = f"the member {values} of this family: {error.message}"
    return error


def build_page(page: Page, config: SiteConfig, context: PageContext, writer: SiteWriter,
               reason: str = ""):
    from pipeline.notebook.convert import is_prose, prose_body

    if is_prose(page):                  # no notebook made: its body is all there is
        text = prose_body(page)
        run = _Run()
        ahead = context.prerendered.get(text)
        exported = pickle.loads(ahead) if ahead else context.exporter.export_prose(text)
    else:
        run, nb = _notebook(page, config, context)
        exported = context.exporter.export(nb)
    rows = page.family.rows if page.family else None     # a new row: a new member
    written = writer.add_page(page, exported, run.used + ([rows] if rows else []), run.watch,
                              run.bundle)
    warnings = (run.warnings + list(written.warnings) + _unsupported(page, exported)
                + [f"{page.source.path}: {w}" for w in exported.warnings])
    return PageResult(page.source, Outcome.BUILT, executed=run.ran, cached=run.cached,
                      twin=run.twin, reason=reason, warnings=tuple(warnings),
                      notes=tuple(run.notes), peak_memory=run.peak), written


@dataclass(slots=True)
class _Run:
    """What making a page's notebook did: its code run (`ran`), its outputs from the cache
    or from its twin; the files it used and the places watched for its twin; its folder."""

    ran: bool = False
    cached: bool = False
    twin: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    used: list[Path] = field(default_factory=list)
    watch: tuple[tuple[Path, str], ...] = ()
    bundle: Path | None = None
    peak: int = 0                   # bytes: the kernel's peak memory, when it is known


def _notebook(page: Page, config: SiteConfig, context: PageContext):
    """(_Run, the page's notebook with its outputs): run, reused, or its twin's."""
    from pipeline.notebook.convert import default_kernelspec, to_notebook
    from pipeline.notebook.outputs import with_outputs_of

    nb, run = to_notebook(page, config), _Run()
    if not needs_execution(page, nb):
        return run, nb
    nb.metadata.setdefault("kernelspec", default_kernelspec(config))
    data = tuple(sorted(set(depends_files(page)) | set(bundle_files(page))))
    twins = twin_places(page, config)       # a run in Jupyter, or a new twin, rebuilds it
    run.watch = tuple((p.parent, glob.escape(p.name)) for p in twins)
    run.bundle = page.source.path.parent     # a file added beside it runs its code again
    run.used = list(data) + [p for p in twins if p.is_file()]
    stored = twin_with_outputs(page, nb, config)
    if stored is not None:            # the author ran this code in Jupyter: publish that run
        run.twin = True
        return run, with_outputs_of(nb, stored[1])
    nb, run.ran, run.warnings, run.notes, run.peak = _run_or_reuse(nb, page, config, context,
                                                                   data)
    run.cached = not run.ran
    return run, nb


def _unsupported(page: Page, exported) -> list[str]:
    """A warning for each directive shown as a plain block, at the line that opens it, and
    for each formula shown as TeX, at its line: they come in page order, so each is looked
    for after the one before (a formula found nowhere after it, in a footnote say, from the
    top). A notebook has no page text: the warning names the file and the formula."""
    from pipeline.render.markdown import MATH_NAMES
    from pipeline.sources.dialects import substitution_line

    warnings, lines, cursor = [], page.text.split("\n"), (0, 0)
    for name, opening in exported.unsupported:
        formula = name in MATH_NAMES
        at = _find(lines, opening, cursor, whole_line=not formula)
        if formula and at is None:
            at = _find(lines, opening, (0, 0), whole_line=False)
        where = str(page.source.path) if at is None else f"{page.source.path}:{at[0] + 1}"
        if at is not None:
            cursor = (at[0], at[1] + len(opening)) if formula else (at[0] + 1, 0)
        warnings.append(f"{where}: " + (_formula_warning(name, opening) if formula else
                                        f"the directive {{{name}}} is not supported: it is "
                                        "shown as a plain block (admonitions are: note, tip, "
                                        "warning, ...)"))
    myst = page.meta.get("myst")
    at = substitution_line(lines, page.body_line - 1) \
        if isinstance(myst, dict) and myst.get("substitutions") else None
    if at is not None:                  # Jupyter Book's `myst: substitutions:`
        warnings.append(f"{page.source.path}:{at + 1}: MyST substitutions ({{{{ key }}}}) are "
                        "not supported: they are shown as written")
    return warnings


def _find(lines: list[str], text: str, start: tuple[int, int], whole_line: bool):
    """(line index, column) of `text` at or after `start` (a line and column), or None;
    `whole_line`: a line that is `text` once stripped, after the start's line if it began
    within it."""
    if whole_line:
        first = start[0] + (start[1] > 0)
        return next(((i, 0) for i in range(first, len(lines))
                     if lines[i].strip() == text.strip()), None)
    for i in range(start[0], len(lines)):
        column = lines[i].find(text, start[1] if i == start[0] else 0)
        if column >= 0:
            return i, column
    return None


def _formula_warning(name: str, opening: str) -> str:
    shown = opening if len(opening) <= 60 else opening[:57] + "..."
    kind, shown = (("display formula", f"$${shown}$$") if name == "$$"
                   else ("formula", f"{shown}$"))
    return (f"the {kind} {shown} could not be converted to MathML: it is shown as TeX (fix its "
            "TeX: close every brace, give \\frac, ^ and _ their arguments, and use only commands "
            "latex2mathml knows)")


def twin_with_outputs(page: Page, nb, config: SiteConfig):
    """(path, notebook) of the page's notebook twin when it carries outputs of exactly the
    page's code, and the page has no params or depends: data its author's run could not have
    seen, and does not ask to run on every build; else None."""
    if page.source.kind != "md" or page.execute != "auto" or page.params or page.depends:
        return None     # params or data the author's run did not see: the build runs the code
    path = twin_of(page, config)
    if path is None or not path.is_file():
        return None
    from pipeline.notebook.convert import read_ipynb

    try:
        stored = read_ipynb(path.read_text(encoding="utf-8"))
    except Exception:          # an unreadable twin is sync's business; run the code instead
        return None

    def code(notebook) -> list[str]:
        return [c.source for c in notebook.cells if c.cell_type == "code"
                and "injected-parameters" not in c.metadata.get("tags", [])]
    if not any(c.get("outputs") for c in stored.cells if c.cell_type == "code"):
        return None
    if code(stored) == code(nb):
        return path, stored
    from pipeline.notebook.convert import md_to_notebook, notebook_to_md

    inputs = md_to_notebook(notebook_to_md(stored), config)  # Jupyter opens ```bash as %%bash
    return (path, stored) if code(inputs) == code(nb) else None


def twin_places(page: Page, config: SiteConfig) -> list:
    """Where the notebook twin of a Markdown page may be: beside it (jupytext's same-folder
    pairing, `content/x.ipynb`) or in notebooks/; none for a notebook."""
    if page.source.kind != "md":
        return []
    return [page.source.path.with_suffix(".ipynb"), config.notebooks / f"{page.source.rel}.ipynb"]


def twin_of(page: Page, config: SiteConfig):
    """The notebook twin of a Markdown page that is there (beside it first), or None."""
    return next((p for p in twin_places(page, config) if p.is_file()), None)


def _run_or_reuse(nb, page: Page, config: SiteConfig, context: PageContext,
                  data: tuple = ()):
    """(notebook with outputs, whether its code ran, warnings, notes): the cached outputs when
    the execution key hits, else a run whose outputs are stored. `data`: the files its code
    may read (for an executor that runs it elsewhere to ship)."""
    from pipeline.notebook.outputs import with_outputs_of

    files = data_files(page)                  # hashed once: the keys and _freeze/ share them
    key = execution_key(nb, page, config.base_url, context.environment, config.root, files)
    notes = []
    frozen = FrozenResults(config.root) if config.freeze else None
    if page.execute != "always":
        stored, notes = _reused(nb, page, config, context, key, files)
        if stored is not None:         # the cache's, or what the author ran, in _freeze/
            return with_outputs_of(nb, stored), False, [], notes, _peak(stored)
    last = context.writer.previous.get(page_name(config, page))
    ran = context.executor.submit(Job(nb, page, config, context.run, files=data,
                                      memory=last.peak_memory if last else 0)).result()
    executed, warnings = ran.nb, list(ran.warnings)
    context.cache.put(key, executed)
    if frozen is not None:
        frozen.put(page, freeze_key(nb, page, config.base_url, config.root), files,
                   executed)
    return executed, True, warnings, notes, _peak(executed)


def _reused(nb, page: Page, config: SiteConfig, context: PageContext, key: str = "",
            files: Any = None) -> tuple[Any, list[str]]:
    """(the stored run of this code, from the cache or _freeze/, or None; notes)."""
    files = data_files(page) if files is None else files
    key = key or execution_key(nb, page, config.base_url, context.environment, config.root,
                               files)
    cached, note = context.cache.get(key)
    if cached is not None:
        return cached, []
    notes = [f"{page.source.path}: {note}"] if note else []
    if not config.freeze:
        return None, notes
    return FrozenResults(config.root).get(
        page, freeze_key(nb, page, config.base_url, config.root), files), notes


def _peak(nb) -> int:
    """The peak memory of the run that made these outputs (0: not known)."""
    return int(nb.metadata.get("nbpress", {}).get("peak_memory") or 0)


def needs_execution(page: Page, nb) -> bool:
    """Pages with code run, unless they say `execute: never`; a notebook that already carries
    outputs is published as saved unless it says `execute: always`, or is a family's member
    (the outputs saved are of one run, with the defaults)."""
    from pipeline.notebook.convert import has_code, has_outputs

    if page.execute == "never" or not has_code(nb):
        return False
    return page.execute == "always" or bool(page.family) or not (
        page.source.kind == "ipynb" and has_outputs(nb))


def unexpected(exc: Exception, source: Source) -> NbpressError:
    return NbpressError(f"could not be built ({type(exc).__name__}: {exc})", source.path,
                        hint="this looks like a bug in nbpress; please report it with the "
                             "page attached")
