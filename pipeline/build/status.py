"""`nbpress status`: what the next build would do for each page, and why, without building."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.build.engine import BuildOptions, plan_site
from pipeline.build.pages import needs_execution, twin_with_outputs
from pipeline.execute.cache import ExecutionCache, environment_key, execution_key
from pipeline.config import SiteConfig
from pipeline.build.plan import Action


@dataclass(frozen=True, slots=True)
class StatusLine:
    source: str             # path from the site root
    action: str             # "keep", "build", "skip", "fail"
    reason: str
    code: str = ""          # for pages built again that have code: "runs" or "cached"


def site_status(config: SiteConfig, options: BuildOptions = BuildOptions()) -> list[StatusLine]:
    plan = plan_site(config, options)
    lines = [StatusLine(s.rel, "skip", "draft") for s in plan.skipped]
    lines += [StatusLine(src.path.relative_to(config.root).as_posix(), "fail", err.message)
              for src, err in plan.failures]
    environment, cache = None, ExecutionCache(config.root)
    for d in plan.decisions:
        code = ""
        if d.action is Action.BUILD:
            environment = environment or environment_key()
            code = _code_status(d.page, config, cache, environment)
        lines.append(StatusLine(d.rel, d.action.value, d.reason, code))
    return sorted(lines, key=lambda line: line.source)


def _code_status(page, config: SiteConfig, cache: ExecutionCache, environment: str) -> str:
    from pipeline.notebook.convert import default_kernelspec, to_notebook

    nb = to_notebook(page, config)
    if not needs_execution(page, nb):
        return ""
    if page.execute == "always":
        return "runs (execute: always)"
    if twin_with_outputs(page, nb, config) is not None:
        return "outputs from its notebook"
    nb.metadata.setdefault("kernelspec", default_kernelspec(config))
    key = execution_key(nb, page, config.base_url, environment, config.root)
    return "cached" if (cache.folder / f"{key}.ipynb").is_file() else "runs"
