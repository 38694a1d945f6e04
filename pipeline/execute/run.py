"""Stage 3: run a page's code with papermill. The only papermill importer.

Pages without code never reach this module, so they never start a kernel.
"""
from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.config import SiteConfig
from pipeline.errors import ExecutionError
from pipeline.model import Page
from pipeline.notebook.convert import cell_line, default_kernelspec, kernel_language

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ASSIGNED = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=", re.MULTILINE)
TRACEBACK_LINES = 12
STARTUP_DEATH = "Kernel died before replying to kernel_info"    # nbclient's words


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the site passes to every page it runs."""

    build_time: str         # ISO 8601, the same for every page of a build
    base_url: str
    kernel_manager: Any = None      # a jupyter_client manager class (forked kernels), or None
    scratch: str | None = None      # the build's folder for passing files (files.scratch_dir)
    fork_server: Any = None         # kernels.ForkServer: kernels metered, families' templates
    templates: bool = True          # a family's shared cells in a template (not on a cluster)

    def parameters(self) -> dict[str, Any]:
        return {"nbpress_build_time": self.build_time, "nbpress_base_url": self.base_url}


def execute(nb, page: Page, config: SiteConfig, context: RunContext,
            cwd: Path | None = None) -> tuple[Any, list[str]]:
    """Run `nb` in the page's folder (or `cwd`: a step runs in the site's); return the
    executed notebook and warnings for the page.

    A cell tagged `raises-exception` may raise (nbclient runs on; papermill would still fail
    the notebook, so its saved copy is checked for errors anywhere else)."""
    import papermill

    logging.getLogger("papermill").setLevel(logging.CRITICAL)   # we report errors ourselves
    nb.metadata.setdefault("kernelspec", default_kernelspec(config))
    kernel = nb.metadata["kernelspec"].get("name") or config.kernel
    shared, warnings = _shared(nb, page, config, context, kernel)
    nb, context = (shared.nb, shared.context) if shared is not None else (nb, context)
    context, meter = _metered(context, shared.template if shared is not None else None)
    started: list[str] = []
    with tempfile.TemporaryDirectory(prefix="run-", dir=context.scratch) as folder:
        saved = Path(folder) / "executed.ipynb"

        def run():
            return papermill.execute_notebook(
                nb, str(saved),
                parameters={**context.parameters(), **page.params},
                kernel_name=kernel,
                cwd=str(cwd or page.source.path.parent),
                progress_bar=False,
                request_save_on_cell_execute=False,     # one write, at the end
                execution_timeout=config.timeout,
                on_cell_start=lambda cell, cell_index: started.append(cell.source),
                extra_arguments=["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"],
                shutdown_kernel="immediate",        # the kernel is thrown away: no need to wait
                **({"kernel_manager_class": context.kernel_manager} if context.kernel_manager else {}),
            )
        try:
            try:
                executed = run()
            except RuntimeError as exc:
                if STARTUP_DEATH not in str(exc) or started:
                    raise
                executed = run()        # a kernel that died as it started (a port another
                                        # process took between jupyter_client's pick and its
                                        # bind, jupyter_client#487): once more, then as it is
        except Exception as exc:   # papermill, nbclient and jupyter_client raise many kinds
            executed = _allowed_errors_only(exc, saved)
            if executed is None:
                raise _execution_error(_first_unexpected(exc, saved), nb, page, config,
                                       started[-1] if started else None) from None
    # papermill records the input notebook object itself as `input_path`: keep the path only.
    executed.metadata.papermill["input_path"] = nb.metadata["nbpress"]["source"]
    if meter is not None:               # kept with the run (in the cache): `memory: auto`
        executed.metadata["nbpress"]["peak_memory"] = meter.stop()
    if shared is not None:
        executed = shared.finish(executed)
    return executed, warnings + _unknown_params(nb, page, config)


def _metered(context: RunContext, template=None):
    """(the context whose kernels are watched for their peak memory, the meter), when they
    are forked (from the fork server, or from a family's `template`)."""
    server = template or context.fork_server
    if server is None:
        return context, None
    from pipeline.execute.kernels import PeakMeter, manager_class

    meter = PeakMeter(server)
    scratch = Path(context.scratch) if context.scratch else None
    return replace(context, kernel_manager=manager_class(meter, scratch)), meter


def _shared(nb, page: Page, config: SiteConfig, context: RunContext, kernel: str):
    """A family member's run from its family's template (`execute/shared.py`)."""
    if context.fork_server is None or not context.templates or not page.family:
        return None, []
    from pipeline.execute.kernels import forkable, manager_class
    from pipeline.execute.shared import prepare, shared_cells

    if not shared_cells(nb) or not forkable(kernel):
        return None, []

    scratch = Path(context.scratch) if context.scratch else None
    return prepare(nb, page, context, lambda template: manager_class(template, scratch),
                   config.timeout)


def run_notebook(path: Path, executed: Path, parameters: dict[str, Any], cwd: Path,
                 kernel: str) -> None:
    """Run a notebook file as it is (the build report), its executed copy written to
    `executed`; papermill's exception when a cell fails."""
    import papermill

    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    papermill.execute_notebook(str(path), str(executed), parameters=parameters, cwd=str(cwd),
                               kernel_name=kernel, progress_bar=False, execution_timeout=None,
                               extra_arguments=["--IPKernelApp.log_level=ERROR"])


def _error_cells(saved: Path):
    import nbformat

    try:
        nb = nbformat.read(saved, as_version=4)
    except (OSError, ValueError):
        return None, []
    nb.cells = [c for c in nb.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    return nb, [c for c in nb.cells if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
                and "raises-exception" not in c.metadata.get("tags", [])]


def _allowed_errors_only(exc: Exception, saved: Path):
    """The executed notebook, when every error in it is in a cell tagged raises-exception."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(exc, PapermillExecutionError):
        return None
    nb, unexpected = _error_cells(saved)
    return nb if nb is not None and not unexpected else None


def _first_unexpected(exc: Exception, saved: Path) -> Exception:
    """papermill reports the first error cell, even an allowed one: report the first other."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(exc, PapermillExecutionError):
        return exc
    _, unexpected = _error_cells(saved)
    if not unexpected:
        return exc
    cell = unexpected[0]
    error = next(o for o in cell.outputs if o.get("output_type") == "error")
    return PapermillExecutionError(0, cell.execution_count, cell.source, error.get("ename", ""),
                                   error.get("evalue", ""), error.get("traceback", []))


def _execution_error(exc: Exception, nb, page: Page, config: SiteConfig,
                     running: str | None) -> ExecutionError:
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    source = getattr(exc, "source", None) or running
    where = _locate(nb, page, source)
    path = page.source.path
    line = cell_line(page, nb, where[0]) if where else None
    cell = f"code cell {where[1]}" if where else "a code cell"
    if isinstance(exc, PapermillExecutionError):
        tb = "\n".join(_ANSI.sub("", t) for t in exc.traceback).strip().splitlines()
        return ExecutionError(f"{cell} raised {exc.ename}: {exc.evalue}", path, line=line,
                              detail="\n".join(tb[-TRACEBACK_LINES:]),
                              hint="fix the code of that cell and run the page in Jupyter to "
                                   "check it; the other pages were built")
    if isinstance(exc, CellTimeoutError):
        return ExecutionError(f"{cell} ran longer than the {config.timeout} s timeout", path,
                              line=line, hint="make the cell faster, or raise `timeout` in "
                                              "[tool.nbpress] of pyproject.toml")
    if isinstance(exc, DeadKernelError):
        return ExecutionError(f"the kernel died while running {cell}", path, line=line,
                              hint="the code crashed the Python process or ran out of "
                                   "memory; run the page in Jupyter to see where")
    if isinstance(exc, NoSuchKernel):
        return ExecutionError(f"no kernel named {exc.name!r} is installed", path,
                              hint="install it (python -m ipykernel install --sys-prefix) "
                                   "or set kernelspec.name in the page's jupyter: header")
    return ExecutionError(f"the page could not be run ({type(exc).__name__}: {exc})", path, line=line,
                          hint="run the page in Jupyter to see the problem")


def _locate(nb, page: Page, source: str | None) -> tuple[int, int] | None:
    """(index in nb, 1-based number among the page's code cells) of the cell with `source`."""
    if source is None:
        return None
    number = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        number += 1
        if cell.source == source:
            return index, number
    return None


def _unknown_params(nb, page: Page, config: SiteConfig) -> list[str]:
    """Warn about page params that the `parameters` cell does not define (likely a typo)."""
    if not page.params or kernel_language(nb, config) != "python":
        return []
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return [f"{page.source.path}: has params but no cell tagged 'parameters'; "
                "the values were injected at the top of the notebook"]
    defined = set(_ASSIGNED.findall(cell.source))
    return [f"{page.source.path}: param {name!r} is not set in the 'parameters' cell "
            "(a typo?)" for name in page.params if name not in defined]
