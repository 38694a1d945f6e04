"""nbpress: publish a website written in Markdown and Jupyter notebooks.

Importing this package does no work: the stages and their libraries load when a build runs.

    from pipeline import build_site, load_config
    report = build_site(load_config("path/to/site"))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["build_site", "load_config", "BuildOptions", "BuildReport", "NbpressError"]

if TYPE_CHECKING:
    from pipeline.build.engine import BuildOptions, build_site
    from pipeline.config import load_config
    from pipeline.errors import NbpressError
    from pipeline.model import BuildReport

_LAZY = {"build_site": "build.engine", "BuildOptions": "build.engine", "load_config": "config",
         "BuildReport": "model", "NbpressError": "errors"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
