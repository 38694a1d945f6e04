"""A build through the report notebook (`report.ipynb`, shipped with nbpress; a site's own
`notebooks/_report.ipynb` is used instead when it has one): papermill runs it, it builds the
site through the Python API and shows the build as tables, and the executed notebook and its
HTML are kept in `.nbpress-cache/reports/` (the newest KEEP). What `nbpress build --report`
and `nbpress schedule --report` run."""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.errors import ExecutionError
from pipeline.files import cache_dir, scratch_dir

NOTEBOOK = Path(__file__).with_name("report.ipynb")
SITE_NOTEBOOK = "notebooks/_report.ipynb"
FOLDER = "reports"
KEEP = 20


@dataclass(frozen=True, slots=True)
class Reported:
    notebook: Path              # the executed report
    html: Path
    outcome: dict               # what the build it ran did (ok, built, kept, failed, ...)

    @property
    def ok(self) -> bool:
        return bool(self.outcome.get("ok"))


def report_notebook(config: SiteConfig) -> Path:
    own = config.root / SITE_NOTEBOOK
    return own if own.is_file() else NOTEBOOK


def run_report(config: SiteConfig, *, drafts: bool = False, refresh: bool = False,
               scheduled: bool = False) -> Reported:
    """Build the site through the report notebook; its executed copy and HTML kept."""
    from pipeline.execute.run import run_notebook
    from pipeline.render.export import report_html

    folder = cache_dir(config.root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + f"-{time.time_ns() % 1000:03d}"
    executed, html = folder / f"{stamp}.ipynb", folder / f"{stamp}.html"
    scratch = scratch_dir(config.root)
    outcome = scratch / "report-result.json"
    try:
        run_notebook(report_notebook(config), executed, {
            "site": str(config.root), "drafts": drafts, "force": refresh,
            "scheduled": scheduled, "result": str(outcome)}, config.root, config.kernel)
        result = json.loads(outcome.read_text(encoding="utf-8"))
    except Exception as exc:    # papermill and nbclient raise many kinds
        raise ExecutionError(f"the report notebook failed: {type(exc).__name__}: {exc}",
                             report_notebook(config), hint="open it in Jupyter and run it with "
                             f"site = {str(config.root)!r} to see where") from None
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    html.write_text(report_html(executed), encoding="utf-8")
    for old in sorted(folder.glob("*.ipynb"))[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_suffix(".html").unlink(missing_ok=True)
    return Reported(executed, html, result)
