"""The preview's web server (the standard library's `http.server`, a thread a request): the
files of one folder and never a file outside it, the live script put into each HTML page as
it is served (never into a file), and a stream of server-sent events that tells open pages
to reload after a build and what the last build failed on (shown over the page).

Every path is decoded once, and refused when a segment is `..`, `.` or hidden (`.x`), holds a
backslash or a NUL, or when the file it names resolves (symbolic links followed) outside the
folder: `..`, `%2e%2e`, `%2f`, absolute paths and links out all end in a 404.
"""
from __future__ import annotations

import functools
import json
import mimetypes
import os
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.render.html import script_safe

EVENTS = "__nbpress/events"          # under the site's root, wherever it is served (a proxy)
KEEPALIVE = 15.0                     # seconds between comments on an idle event stream
_LIVE_JS = Path(__file__).with_name("live.js")


class Events:
    """What open pages are told: a count of builds (each one a reload) and the failures of
    the last one. Threads wait on it; `publish` wakes them all."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.builds = 0
        self.failures: list[dict[str, object]] = []
        self.closed = False

    def publish(self, failures: list[dict[str, object]]) -> None:
        with self._changed:
            self.builds += 1
            self.failures = failures
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """The count of builds once it differs from `seen` (or after `timeout`)."""
        with self._changed:
            self._changed.wait_for(lambda: self.builds != seen or self.closed, timeout)
            return self.builds


def resolve(root: Path, url_path: str) -> Path | None:
    """The file under `root` a request path names (a folder's `index.html`), or None."""
    target = _inside(root, url_path)
    if target is not None and os.path.isdir(target):
        target = os.path.join(target, "index.html")
    return Path(target) if target is not None and os.path.isfile(target) else None


def folder_without_slash(root: Path, url_path: str) -> bool:
    """The path names a folder of the site but lacks its last `/` (the relative links of
    its page would break): it is redirected to the path with one."""
    target = _inside(root, url_path)
    return (not urlsplit(url_path).path.endswith("/") and target is not None
            and os.path.isfile(os.path.join(target, "index.html")))


def _inside(root: Path, url_path: str) -> str | None:
    """The real path a request path names, when it is inside `root` (file or folder)."""
    segments = [s for s in unquote(urlsplit(url_path).path).split("/") if s]
    if any(s in (".", "..") or s.startswith(".") or "\\" in s or "\0" in s for s in segments):
        return None
    top = os.path.realpath(root)
    target = os.path.realpath(os.path.join(top, *segments))
    return target if target == top or target.startswith(top + os.sep) else None


def with_live_script(html: bytes, url_path: str) -> bytes:
    """The page with the live script before its `</body>` (or at its end), the events' URL
    relative to the page (the site may be served under a prefix, by a proxy)."""
    depth = len([s for s in urlsplit(url_path).path.split("/")[1:-1] if s])
    events = "../" * depth + EVENTS
    script = (f"<script>window.nbpressEvents={script_safe(json.dumps(events))};"
              f"{_live_js()}</script>").encode("utf-8")
    at = html.lower().rfind(b"</body>")
    return html[:at] + script + html[at:] if at >= 0 else html + script


@functools.lru_cache(maxsize=1)
def _live_js() -> str:
    return _LIVE_JS.read_text(encoding="utf-8")


class PreviewServer(ThreadingHTTPServer):
    """Serves `root`; `events` is what the event stream sends."""

    daemon_threads = True           # a request thread never keeps the preview alive

    def __init__(self, address: tuple[str, int], root: Path, events: Events):
        self.root, self.events = root, events
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        """A browser that went away mid-answer (a reload, a page left) is no error to print."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """As bound (not `localhost`, which may name ::1 first while the server is on IPv4)."""
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:                       # noqa: N802 (http.server's names)
        self._answer(body=True)

    def do_HEAD(self) -> None:                      # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        path = urlsplit(self.path).path
        if path.endswith("/" + EVENTS) or path == "/" + EVENTS:
            return self._events()
        if folder_without_slash(self.server.root, path):
            query = urlsplit(self.path).query
            return self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", body,
                              {"Location": path + "/" + (f"?{query}" if query else "")})
        target = resolve(self.server.root, self.path)
        status = HTTPStatus.OK
        if target is None:
            status, target = HTTPStatus.NOT_FOUND, resolve(self.server.root, "/404.html")
        if target is None:
            return self._send(status, b"Not found\n", "text/plain; charset=utf-8", body)
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            data, kind = with_live_script(data, path), "text/html; charset=utf-8"
        self._send(status, data, kind, body)

    def _send(self, status: HTTPStatus, data: bytes, kind: str, body: bool,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(data)),
                            "Cache-Control": "no-store", **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _events(self) -> None:
        """The stream: the last build's failures at once, then `reload` after each build."""
        events = self.server.events
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = events.builds
        try:
            self._event("failures", events.failures)
            while not events.closed:
                now = events.wait(seen, KEEPALIVE)
                if now != seen:
                    seen = now
                    self._event("reload", {})
                else:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return                                  # the page was closed

    def _event(self, kind: str, data: object) -> None:
        self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode("utf-8"))
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:    # noqa: A002
        return                                      # the terminal shows builds, not requests
