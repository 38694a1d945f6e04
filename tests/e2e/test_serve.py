"""`nbpress serve`: the preview builds into its own folder (drafts shown, `output/` never
touched), serves it without ever serving a file outside it, puts the live script into served
pages only, rebuilds on save and tells open pages to reload, and shows a build's failures."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.live.preview import PREVIEW_DIR, Preview
from pipeline.live.server import EVENTS

REPO = Path(__file__).resolve().parents[2]


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "script"

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def live_scripts(html: str) -> list[str]:
    parser = _Scripts()
    parser.feed(html)
    return [s for s in parser.inline if "nbpressEvents" in s]


def get(preview: Preview, path: str) -> tuple[int, str, dict[str, str]]:
    host, port = preview.server.server_address[:2]
    with closing(http.client.HTTPConnection(host, port, timeout=10)) as connection:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), dict(response.getheaders())


def raw_get(preview: Preview, path: str) -> int:
    """A request line sent as written (no client normalises `..` away)."""
    host, port = preview.server.server_address[:2]
    with closing(socket.create_connection((host, port), timeout=10)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64).decode("latin-1")
    return int(head.split()[1])


def wait_for(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


@pytest.fixture
def preview_site(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nFirst text.\n')
    site.page("blog/d.md", '---\ntitle: Dee\ndraft: true\n---\n\nDraft text.\n')
    site.page("blog/later.md", '---\ntitle: Later\npublish: "2999-01-01"\n---\n\nSoon.\n')
    return site


@pytest.fixture
def preview(preview_site):
    with Preview(preview_site.config(), port=0) as running:
        assert running.watch()              # as `nbpress serve`: watched, then built
        built = running.build()
        assert built.report is not None and built.report.ok
        running.start()
        yield running


def test_the_preview_shows_drafts_and_scheduled_pages_and_never_writes_output(preview, preview_site):
    assert get(preview, "/blog/d/")[0] == 200 and "Draft text" in get(preview, "/blog/d/")[1]
    assert get(preview, "/blog/later/")[0] == 200
    assert not (preview_site.root / "output").exists()
    assert (preview_site.root / PREVIEW_DIR / "blog" / "d" / "index.html").is_file()


def test_the_live_script_is_in_served_pages_only(preview, preview_site):
    status, html, headers = get(preview, "/blog/a/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    (script,) = live_scripts(html)
    assert json.dumps("../../" + EVENTS) in script          # relative: a proxy's prefix works
    on_disk = (preview_site.root / PREVIEW_DIR / "blog" / "a" / "index.html").read_text()
    assert live_scripts(on_disk) == []
    preview_site.build()                                    # a plain build, beside the preview
    assert live_scripts((preview_site.root / "output" / "blog" / "a" / "index.html").read_text()) == []


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/blog/..%2f..%2fsecret.txt", "/%2E%2E%2Fsecret.txt",
    "/blog/../../secret.txt", "/./../secret.txt", "/blog/%5c..%5c..%5csecret.txt",
    "/..%5csecret.txt", "/.hidden", "/%2ehidden", "/.nbpress.json",
    "/../../../../../../../../../..{secret}", "/%2F..{secret}",
])
def test_no_request_reaches_a_file_outside_the_preview_folder(preview, preview_site, path):
    served = preview_site.root / PREVIEW_DIR
    secret = served.parent / "secret.txt"               # just outside the served folder
    secret.write_text("SECRET", encoding="utf-8")
    (served / ".hidden").write_text("HIDDEN", encoding="utf-8")
    assert raw_get(preview, path.format(secret=secret)) == 404
    assert raw_get(preview, "/index.html") == 200


def test_a_link_in_the_folder_to_a_file_outside_is_not_followed(preview, preview_site, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    served = preview_site.root / PREVIEW_DIR
    os.symlink(secret, served / "leak.txt")
    os.symlink(tmp_path, served / "outside")
    os.symlink(served / "index.html", served / "home-link.html")      # inside: fine
    assert raw_get(preview, "/leak.txt") == 404
    assert raw_get(preview, "/outside/secret.txt") == 404
    assert get(preview, "/home-link.html")[0] == 200


def test_a_folder_without_its_slash_is_redirected_and_a_missing_page_is_the_404(preview):
    status, _, headers = get(preview, "/blog?x=1")
    assert status == 301 and headers["Location"] == "/blog/?x=1"
    status, html, _ = get(preview, "/no/such/page/")
    assert status == 404 and live_scripts(html)


def _events(preview: Preview):
    host, port = preview.server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/" + EVENTS)
    return connection, connection.getresponse()


def _next_event(response) -> tuple[str, object]:
    kind = data = None
    while True:
        line = response.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and kind:
            return kind, data


def test_a_save_is_rebuilt_served_and_announced(preview, preview_site):
    connection, response = _events(preview)
    assert _next_event(response) == ("failures", [])
    page = preview_site.root / "content" / "blog" / "a.md"
    page.write_text(page.read_text().replace("First text.", "Second text."))
    assert _next_event(response) == ("reload", {})
    assert "Second text." in get(preview, "/blog/a/")[1]
    connection.close()


def test_a_failed_build_shows_its_file_line_and_fix_and_the_last_good_page_stays(preview, preview_site):
    page = preview_site.root / "content" / "blog" / "a.md"
    page.write_text('---\ntitle: "A\ndate: "2026-01-01"\n---\n\nBroken.\n')
    wait_for(lambda: preview.events.failures)
    (failure,) = preview.events.failures
    assert failure["where"].endswith("blog/a.md:2") or failure["where"].endswith("blog/a.md:3")
    assert failure["hint"] and "YAML" in failure["message"]
    connection, response = _events(preview)                  # a page opened now sees it too
    kind, data = _next_event(response)
    assert kind == "failures" and data == preview.events.failures
    connection.close()
    assert "First text." in get(preview, "/blog/a/")[1]     # the last good version


def test_an_edit_of_the_settings_keeps_the_preview_in_its_own_folder(preview, preview_site):
    builds = preview.events.builds
    preview_site.settings('[tool.nbpress]\ntitle = "Renamed"\nsearch = false\n')
    wait_for(lambda: preview.events.builds > builds and "Renamed" in get(preview, "/")[1])
    assert not (preview_site.root / "output").exists()


def test_an_edit_made_the_moment_the_preview_has_started_is_built(preview, preview_site):
    """start() returns once the watch has begun: the edit a script makes on "serving" counts."""
    assert preview.watching.is_set()
    builds = preview.events.builds
    preview_site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nAt once.\n')
    wait_for(lambda: preview.events.builds > builds and "At once." in get(preview, "/blog/a/")[1])


def test_the_command_serves_until_sigterm_and_leaves_no_process(preview_site):
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0",
                                "--site", str(preview_site.root)], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = wait_for(lambda: next((l for l in iter(process.stdout.readline, "")
                                      if "serving http" in l), None), 60)
        url = line.split()[1]
        host, port = url.split("//")[1].rstrip("/").split(":")
        with closing(http.client.HTTPConnection(host, int(port), timeout=10)) as connection:
            connection.request("GET", "/blog/a/")
            assert connection.getresponse().status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    leftover = subprocess.run(["pgrep", "-f", str(preview_site.root)], capture_output=True,
                              text=True).stdout.split()
    assert leftover == []


def test_a_port_in_use_is_an_error_that_names_it_and_the_fix(preview_site):
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "pipeline", "serve", "--port", str(port),
                               "--site", str(preview_site.root)], cwd=REPO, text=True,
                              capture_output=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_a_plain_build_beside_the_preview_is_not_watched(preview_site):
    from pipeline.live.watch import ignored

    config = preview_site.config()
    root = config.root
    for path in ("output/index.html", ".output.staging/blog/a/index.html", ".output.old/x",
                 ".nbpress-cache/preview/site/index.html", "_freeze/content/a.ipynb"):
        assert ignored(config, str(root / path)), path
    for path in ("content/blog/a.md", "static/x.css", "pyproject.toml", "theme/page.html.j2"):
        assert not ignored(config, str(root / path)), path


def test_a_preview_stopped_before_it_serves_stops_at_once(preview_site):
    import threading

    preview = Preview(preview_site.config(), port=0)       # Ctrl-C during the first build
    closed = threading.Thread(target=preview.close)
    closed.start()
    closed.join(10)
    assert not closed.is_alive()


def test_serving_to_other_machines_says_that_drafts_show(preview_site):
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0",
                                "--host", "0.0.0.0", "--site", str(preview_site.root)],
                               cwd=REPO, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        said = wait_for(lambda: next((l for l in iter(process.stdout.readline, "")
                                      if "other machines" in l), None), 60)
        assert "drafts" in said
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_preview_started_with_sigchld_ignored_leaves_no_fd_behind_its_rebuilds(preview_site):
    """An ignored SIGCHLD survives exec (a supervisor's, a Python program's subprocess). With it
    the system reaps the page workers before their pool can, and the pool then keeps its pipes:
    4 fds a rebuild, until the preview runs out of them. The program sets SIGCHLD back."""
    for i in range(6):                      # enough pages for a pool of page workers
        preview_site.page(f"blog/p{i}.md", f"---\ntitle: P{i}\n---\n\nText {i}.\n")
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0",
                                "--site", str(preview_site.root)], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": str(REPO)},
                               preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    try:
        line = wait_for(lambda: next((l for l in iter(process.stdout.readline, "")
                                      if "serving http" in l), None), 60)
        host, port = line.split()[1].split("//")[1].rstrip("/").split(":")

        def home() -> str:
            with closing(http.client.HTTPConnection(host, int(port), timeout=10)) as connection:
                connection.request("GET", "/")
                return connection.getresponse().read().decode()

        counts = []
        for n in range(4):                  # a settings edit rebuilds every page
            preview_site.settings(f'[tool.nbpress]\ntitle = "Renamed{n}"\nsearch = false\n')
            wait_for(lambda: f"Renamed{n}" in home(), 60)
            time.sleep(0.5)
            counts.append(_fds(process.pid))
        assert counts[-1] <= counts[0], counts
        ignored = int(Path(f"/proc/{process.pid}/status").read_text()
                      .split("SigIgn:")[1].split()[0], 16)
        assert not ignored & (1 << (signal.SIGCHLD - 1))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


LIBRARY_BUILDS = """
import os, signal, sys
from pathlib import Path
signal.signal(signal.SIGCHLD, signal.SIG_IGN)      # a program's own setting
from pipeline import build_site, load_config
site = Path(sys.argv[1])
counts = []
for n in range(4):
    (site / "pyproject.toml").write_text(f'[tool.nbpress]\\ntitle = "T{n}"\\nsearch = false\\n')
    assert build_site(load_config(site)).ok
    counts.append(len(os.listdir("/proc/self/fd")))
print(counts, signal.getsignal(signal.SIGCHLD) is signal.SIG_IGN)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no pool of page workers")
def test_a_program_that_ignores_sigchld_can_call_build_site_again_and_again(preview_site):
    """`build_site` from a program that ignores SIGCHLD: its builds keep no fd (the pool's
    pipes), and the program's setting is as it was after each."""
    for i in range(6):                      # enough pages for a pool of page workers
        preview_site.page(f"blog/p{i}.md", f"---\ntitle: P{i}\n---\n\nText {i}.\n")
    done = subprocess.run([sys.executable, "-c", LIBRARY_BUILDS, str(preview_site.root)],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    counts, still_ignored = done.stdout.rsplit("]", 1)
    counts = [int(c) for c in counts.strip("[ ").split(",")]
    assert counts[-1] <= counts[0], counts
    assert still_ignored.strip() == "True"


def test_a_browser_that_goes_away_mid_answer_prints_no_traceback(preview, capfd):
    """A reload or a page left while a file is being sent resets the connection: nothing to
    say in the terminal (socketserver prints a traceback for it)."""
    import struct

    (preview.config.output / "big.bin").write_bytes(b"x" * 20_000_000)
    host, port = preview.server.server_address[:2]
    for _ in range(3):
        with closing(socket.create_connection((host, port), timeout=10)) as sock:
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


THREAD_BUILDS_AND_A_CHILD = """
import os, signal, subprocess, sys, threading, time
from pathlib import Path
signal.signal(signal.SIGCHLD, signal.SIG_IGN)      # a program's own setting
from pipeline import build_site, load_config
site = Path(sys.argv[1])

def zombies():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(pid)
    return found

counts = []
for n in range(3):                                  # from a thread: the main one cannot be
    (site / "pyproject.toml").write_text(f'[tool.nbpress]\\ntitle = "T{n}"\\nsearch = false\\n')
    thread = threading.Thread(target=lambda: build_site(load_config(site)))
    thread.start(); thread.join()
    counts.append(len(os.listdir("/proc/self/fd")))
(site / "content" / "slow.md").write_text(         # its code runs again: the pool outlives
    "---\\ntitle: Slow\\n---\\n\\n```python\\nimport time\\ntime.sleep(2)\\n```\\n")  # the child
(site / "pyproject.toml").write_text('[tool.nbpress]\\ntitle = "Last"\\nsearch = false\\n')
child = subprocess.Popen(["sleep", "1"])            # its child, never waited for
assert build_site(load_config(site)).ok             # the pool's time: SIGCHLD at its default
time.sleep(0.5)
print(counts, zombies())
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no pool of page workers")
def test_a_program_that_ignores_sigchld_keeps_no_fd_and_no_zombie(preview_site):
    """Built from a thread (the preview's way), pages are built one by one in the process:
    only the main thread can set SIGCHLD back for a pool's time. A child of the program's
    that ended in that time is reaped after it, as the system would have."""
    for i in range(6):
        preview_site.page(f"blog/p{i}.md", f"---\ntitle: P{i}\n---\n\nText {i}.\n")
    preview_site.page("slow.md", "---\ntitle: Slow\n---\n\n```python\nimport time\n"
                      "time.sleep(0)\n```\n")
    done = subprocess.run([sys.executable, "-c", THREAD_BUILDS_AND_A_CHILD,
                           str(preview_site.root)], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    counts, zombies = done.stdout.strip().split("] [")
    counts = [int(c) for c in counts.strip("[").split(",")]
    assert counts[-1] <= counts[0], counts
    assert zombies.strip("]") == "", zombies
