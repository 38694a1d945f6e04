"""The preview in JupyterLab: a real Jupyter server with jupyter-server-proxy starts `nbpress
serve` through nbpress's entry point and serves the site at <server>/nbpress/, its links and
event stream relative to that prefix; stopping the server stops the preview."""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import closing

import jupyter_server_proxy  # noqa: F401  (tests/lab runs in .lab/venv, see the Makefile)

TOKEN = "nbpress-test-token"


def get(port: int, path: str) -> tuple[int, str]:
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=120)) as connection:
        connection.request("GET", path, headers={"Authorization": f"token {TOKEN}"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")


def test_the_preview_opens_through_the_jupyter_server(site):
    site.settings('[tool.nbpress]\ntitle = "Proxied"\nsearch = false\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello from the preview.\n")
    site.page("notes/a.md", "---\ntitle: A\n---\n\nA note.\n")
    log = site.root.parent / "jupyter-server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--port=0",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={site.root}",
         "--allow-root"],                           # CI's containers run as root
        cwd=site.root, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        env={**os.environ, "NBPRESS_SITE": str(site.root)})
    try:
        port = None                                 # the one the server bound, from its log
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            assert server.poll() is None, f"the Jupyter server stopped: {log.read_text()}"
            found = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)/", log.read_text())
            port = int(found.group(1)) if found else time.sleep(0.2)
        assert port is not None, log.read_text()
        assert get(port, "/api/status")[0] == 200
        status, home = get(port, "/nbpress/")
        assert status == 200 and "Hello from the preview." in home
        assert 'window.nbpressEvents="__nbpress/events"' in home     # relative: under /nbpress/
        status, note = get(port, "/nbpress/notes/a/")
        assert status == 200 and "A note." in note
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _previews(site.root):
        time.sleep(0.2)
    assert _previews(site.root) == []


def _previews(root) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"pipeline serve.*{root}"], capture_output=True,
                           text=True).stdout.split()
    return found
