"""`nbpress serve` inside JupyterLab, through jupyter-server-proxy (an entry point of the lab
environment, `jupyter_serverproxy_servers`): on a JupyterHub, where a user cannot reach a
port of the machine, the preview opens in a JupyterLab tab at `<server>/nbpress/`. The site
is the folder JupyterLab was started in (or $NBPRESS_SITE). The proxy takes its own prefix
off (`absolute_url: False`): the preview's links and its event stream are relative, so the
pages work under it."""
from __future__ import annotations

import os
import sys


def setup() -> dict:
    site = os.environ.get("NBPRESS_SITE") or os.getcwd()
    return {
        "command": [sys.executable, "-m", "pipeline", "serve", "--port", "{port}", "--site", site],
        "timeout": 120,                 # the first build of a big site
        "absolute_url": False,
        "new_browser_tab": False,
        "launcher_entry": {"enabled": True, "title": "nbpress preview"},
    }
