"""The `nbpress` command: a thin layer over the library. Heavy imports happen inside commands."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nbpress")
def main() -> None:
    """Publish a website written in Markdown pages and Jupyter notebooks."""


@main.command()
@click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="The site folder, or any folder inside it (default: here).")
@click.option("--drafts", is_flag=True, help="Publish pages marked draft: true as well.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and the summary.")
def build(site: Path, drafts: bool, quiet: bool) -> None:
    """Build the site into its output folder."""
    from .build import BuildOptions, build_site
    from .config import load_config
    from .errors import NbpressError
    from .report import Reporter

    reporter = Reporter(quiet=quiet)
    try:
        config = load_config(site)
        with reporter.progress() as on_page:
            report = build_site(config, BuildOptions(drafts=drafts, on_page=on_page))
    except NbpressError as error:
        reporter.fatal(error)
        sys.exit(2)
    reporter.summary(report, config.root)
    sys.exit(0 if report.ok else 1)
