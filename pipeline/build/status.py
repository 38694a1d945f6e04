"""`nbpress status`: what the next build would do for each page, and why, without building."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.build.engine import BuildOptions, plan_site
from pipeline.build.pages import needs_execution, twin_with_outputs
from pipeline.execute.cache import ExecutionCache, environment_key, execution_key
from pipeline.config import SiteConfig
from pipeline.build.plan import Action
from pipeline.build.steps import steps_due
from pipeline.sources.schedule import changes, hidden_reason, shown


@dataclass(frozen=True, slots=True)
class StatusLine:
    source: str             # path from the site root
    action: str             # "keep", "build", "skip", "fail"
    reason: str
    code: str = ""          # for pages built again that have code: "runs" or "cached"


@dataclass(frozen=True, slots=True)
class Coming:
    """A page that comes (publish) or goes (expires) after the moment of the status."""

    when: str               # in the site's time zone
    what: str               # "publish" or "expires"
    source: str


def site_status(config: SiteConfig, options: BuildOptions = BuildOptions()) -> list[StatusLine]:
    """What the next build would do for each page."""
    return status_and_coming(config, options)[0]


def status_and_coming(config: SiteConfig, options: BuildOptions = BuildOptions()
                      ) -> tuple[list[StatusLine], list[Coming]]:
    """`site_status`, and the publish and expiry times still to come, in time order."""
    plan = plan_site(config, options)
    pages = [d.page for d in plan.decisions] + [s.page for s in plan.skipped]
    coming = [Coming(shown(c.at, config.zone), c.what, c.page.source.path.relative_to(
        config.root).as_posix()) for c in changes(pages, config.zone) if c.at > plan.now]
    coming += [Coming(shown(when, config.zone), "step", name) for when, name in steps_due(config)]
    return _lines(config, plan), coming


def _lines(config: SiteConfig, plan) -> list[StatusLine]:
    lines = [StatusLine(s.rel, "skip", hidden_reason(s.page, plan.now, config.zone) or "draft")
             for s in plan.skipped]
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
