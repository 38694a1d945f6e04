"""What the page tests share: Debian's Chromium driven by playwright, a quiet HTTP server on
127.0.0.1 (random port), pages that record what they did, and the repo's example site built
once per module.

One browser per module; every test gets a fresh context and page. Without /usr/bin/chromium (or
playwright) the tests skip, except when the environment variable CI is set: then they fail, so
a CI run never passes silently without them.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import copy_example_site

try:
    from playwright.sync_api import sync_playwright
except ImportError as exc:  # pragma: no cover - depends on the environment
    _PLAYWRIGHT_MISSING: str | None = f"playwright is not importable ({exc})"
else:
    _PLAYWRIGHT_MISSING = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LOOPBACK = "127.0.0.1"

WIDE = {"width": 1200, "height": 900}
NARROW = {"width": 600, "height": 900}

# Lines said at the end of the run (where the screenshots are): a test appends to
# config.stash.setdefault(SUMMARY_LINES, []), pytest_terminal_summary prints them.
SUMMARY_LINES = pytest.StashKey[list]()


def require_browser() -> None:
    """Skip (or, with CI set, fail) when the page tests cannot run here."""
    reason = _PLAYWRIGHT_MISSING
    if reason is None and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)"
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"page tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"page tests need a browser: {reason}")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """A browser that leaves a page drops the connections it no longer needs: not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder: Path, name: str = "page-tests-http"):
    """Serve `folder` over HTTP on 127.0.0.1; yields the base URL (no trailing slash)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = QuietServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Recorder:
    """What a page did on the network and in its console."""

    def __init__(self):
        self.requests: list[str] = []
        self.failed: list[tuple[str, str | None]] = []
        self.responses: dict[str, int] = {}
        self.console_errors: list[tuple[str, str]] = []
        self.page_errors: list[str] = []


def _guard(route):
    """Nothing may leave the machine: a request to any other host is aborted (and still
    recorded by the page's "request" event, so a test that checks hosts sees it)."""
    if urlsplit(route.request.url).hostname == LOOPBACK:
        route.continue_()
    else:
        route.abort()


def record(page) -> Recorder:
    """Record what `page` does from now on in page.recorder (a fresh Recorder; assign another
    to start again)."""
    page.recorder = Recorder()
    page.on("request", lambda r: page.recorder.requests.append(r.url))
    page.on("requestfailed", lambda r: page.recorder.failed.append((r.url, r.failure)))
    page.on("response", lambda r: page.recorder.responses.__setitem__(r.url, r.status))
    page.on("console", lambda m: m.type == "error" and page.recorder.console_errors.append(
        (m.text, (m.location or {}).get("url", ""))))
    page.on("pageerror", lambda e: page.recorder.page_errors.append(str(e)))
    return page.recorder


def new_page(browser, viewport, **context_options):
    """(context, page): a new context whose requests stay on 127.0.0.1, and its recorded page."""
    context = browser.new_context(viewport=viewport, **context_options)
    context.route("**/*", _guard)
    page = context.new_page()
    record(page)
    return context, page


def open_page(page, path: str):
    """Go to `path` under page.base; it must answer 200."""
    response = page.goto(page.base + path, wait_until="load")
    assert response is not None and response.status == 200, (path, response and response.status)
    return page


# Every <img> of the page scrolled into view (lazy images load only near the viewport), then
# waited for (load or error, at most 10 s each); what each one is now.
LOAD_IMAGES = """async () => {
    const settle = img => img.complete ? null : new Promise(done => {
        img.addEventListener('load', done, {once: true});
        img.addEventListener('error', done, {once: true});
        setTimeout(done, 10000);
    });
    for (const img of document.images) {
        img.scrollIntoView({block: 'center'});
        await settle(img);
    }
    window.scrollTo(0, 0);
    return [...document.images].map(i => ({src: i.currentSrc || i.src, attr: i.getAttribute('src'),
        complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight}));
}"""


def load_images(page) -> list[dict]:
    """Each <img> of the page once the browser has loaded it as a reader scrolling would:
    {src (the one it chose), attr (as written), complete, naturalWidth, naturalHeight}."""
    return page.evaluate(LOAD_IMAGES)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    require_browser()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def output_dir(browser, tmp_path_factory) -> Path:
    """The example site, built once for the module (after the browser check: no build to skip)."""
    from pipeline.build.engine import build_site
    from pipeline.config import load_config

    site_root = copy_example_site(tmp_path_factory.mktemp("browser") / "site")
    report = build_site(load_config(site_root))
    assert report.ok, report
    out = site_root / "output"
    assert (out / "aws" / "index.html").is_file()
    return out


@pytest.fixture(scope="module")
def base_url(output_dir: Path):
    with serve(output_dir) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    context, page = new_page(browser, WIDE)
    page.base = base_url
    yield page
    context.close()


@pytest.fixture
def narrow_page(browser, base_url):
    context, page = new_page(browser, NARROW)
    page.base = base_url
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in config.stash.get(SUMMARY_LINES, []):
        terminalreporter.write_line(line)
