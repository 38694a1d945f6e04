"""The build service: one object that builds a site again and again, keeping what is costly
to make in memory between builds: the exporter (nbconvert's templates), the kernel fork
server, and the build state (no JSON to read back). `nbpress build` uses one build of it; the
preview server and the scheduler keep one warm.

    with BuildService(config) as service:
        service.build()          # cold
        ...                      # a page is saved
        service.build()          # only that page, in this process, in milliseconds

By default it updates the output folder in place (`BuildOptions.in_place`): a build of one
page writes that page's files, not a copy of the site. Nothing outlives `close()`: the fork server and its kernels stop; the lock is taken for each
build and released after it, so a manual `nbpress build` can run between two.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.build.deps import stamp_of
from pipeline.build.engine import BuildOptions, run_build
from pipeline.build.lock import site_lock
from pipeline.build.warm import Warm
from pipeline.build.state import BuildState
from pipeline.config import SiteConfig, load_config
from pipeline.model import BuildReport


class BuildService:
    def __init__(self, config: SiteConfig, options: BuildOptions = BuildOptions(in_place=True),
                 adjust: Callable[[SiteConfig], SiteConfig] = lambda config: config):
        """`adjust`: what the service changes in the settings, each time they are read (the
        preview's own output folder)."""
        self.config = config
        self._adjust = adjust
        self.options = options
        self._warm = Warm()
        self._state: BuildState | None = None
        self._settings = _stamp(_settings_file(config))

    def build(self, options: BuildOptions | None = None, *, wait: bool = True) -> BuildReport:
        """Build what changed since the last build (of this service or anyone's), with the
        site's settings as they are now (an edited pyproject.toml is read again)."""
        with site_lock(self.config.root, wait=wait):
            self._reload_settings()
            report, self._state = run_build(self.config, options or self.options, self._warm,
                                            self._state)
        return report

    def _reload_settings(self) -> None:
        """A bad edit raises ConfigError, naming the file: the next build tries again."""
        stamp = _stamp(_settings_file(self.config))
        if stamp == self._settings:
            return
        self.config = self._adjust(load_config(self.config.root))
        self._settings = stamp
        self._warm.forget_site()

    @property
    def state(self) -> BuildState | None:
        """What the last build of this service left (None before the first)."""
        return self._state

    def close(self) -> None:
        self._warm.close()
        self._state = None

    def __enter__(self) -> "BuildService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BuildService({self.config.root})"


def _settings_file(config: SiteConfig) -> Path:
    return config.config_file or config.root / "pyproject.toml"    # one may be made later


def _stamp(path: Path) -> list[int] | None:
    try:
        return stamp_of(path.stat())
    except OSError:
        return None
