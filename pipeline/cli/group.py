"""The `nbpress` command group: Ctrl-C ends any command with status 130 (as a shell reports
a command ended by SIGINT) and a line saying so, instead of click's "Aborted!" and status 1."""
from __future__ import annotations

import click

INTERRUPTED = 130       # 128 + SIGINT


class Nbpress(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nnbpress: interrupted (Ctrl-C); no page was left half-written",
                       err=True)
            ctx.exit(INTERRUPTED)
