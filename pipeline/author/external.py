"""`nbpress check --external`: links to other sites, each URL asked once.

A URL is asked with HEAD (and GET when the server refuses HEAD: 403, 405, 501), redirects
followed, in parallel (a few threads), each within `timeout` seconds in all: a host whose name
does not resolve, that does not answer, or that answers too slowly is reported as unreachable,
never waited for past its time. What servers answered is kept for a day in
`.nbpress-cache/external.json` (a run with `cache=False` asks again, and keeps what it heard);
a URL that got no answer is asked again on the next run. Only the standard library's urllib:
no new dependency.
"""
from __future__ import annotations

import http.client
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable
from urllib.parse import quote, urlsplit, urlunsplit

from pipeline.author.findings import NOTE, WARNING, Finding
from pipeline.config import SiteConfig
from pipeline.files import cache_dir, write_atomic

if TYPE_CHECKING:
    from pipeline.author.internal import Link

CACHE_FILE = "external.json"
CACHE_FORMAT = 1
FRESH = 24 * 3600           # seconds an answer is trusted
RETRY_WITH_GET = (403, 405, 501)
PERMANENT = (301, 308)
GRACE = 0.5                 # seconds past its time before a URL's thread is given up on
_SAFE = "/:?&=+;,@!$'()*~%[]#"


@dataclass(frozen=True, slots=True)
class External:
    """How external links are checked: seconds each URL may take, and whether the answers of
    the last day are trusted."""

    timeout: float = 10.0
    cache: bool = True
    workers: int = 8


@dataclass(frozen=True, slots=True)
class Answer:
    """What a URL answered. `ok`: True (2xx after redirects), False (4xx, 5xx, unreachable),
    None (it asked to be left alone: 429); `moved`: where a permanent redirect sent it."""

    url: str
    ok: bool | None
    status: int | None
    detail: str                 # "404 Not Found", "unreachable (...)", "no answer within 10 s"
    checked: float              # time.time() it was asked
    moved: str | None = None


def check_urls(urls: Iterable[str], options: External, root: Path,
               now: float | None = None) -> dict[str, Answer]:
    """The answer for each URL (without its fragment): from the cache when it is less than a
    day old (and `options.cache`), else asked now. What a server answered is kept; a URL that
    got no answer (no such host, a timeout: maybe this machine's network) or was asked to
    wait (429) is asked again next time."""
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    now = time.time() if now is None else now
    file = cache_dir(root) / CACHE_FILE
    cached = _read_cache(file) if options.cache else {}
    answers = {u: cached[u] for u in wanted if u in cached and now - cached[u].checked < FRESH}
    todo = [u for u in wanted if u not in answers]
    if todo:
        answers.update(ask_all(todo, options))
        heard = {u: a for u in todo if (a := answers[u]).status is not None and a.ok is not None}
        _write_cache(file, {**_read_cache(file), **heard}, now)
    return answers


def ask_all(urls: list[str], options: External) -> dict[str, Answer]:
    """Each URL asked in one of `options.workers` threads. A thread stuck past its URL's
    time (a name lookup has no timeout of its own) is left behind, daemonic, and another
    takes its place: the check never waits for it, nor does the interpreter at exit."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for url in urls:
        todo.put(url)
    done: queue.SimpleQueue[Answer] = queue.SimpleQueue()
    deadlines: dict[str, float] = {}

    def work() -> None:
        while True:
            try:
                url = todo.get_nowait()
            except queue.Empty:
                return
            deadlines[url] = time.monotonic() + options.timeout
            done.put(ask(url, options.timeout))

    def start() -> None:
        threading.Thread(target=work, name="nbpress-external", daemon=True).start()

    for _ in range(min(options.workers, len(urls))):
        start()
    answers: dict[str, Answer] = {}
    while len(answers) < len(urls):
        try:
            answer = done.get(timeout=0.1)
            answers.setdefault(answer.url, answer)
        except queue.Empty:
            pass
        for url, deadline in list(deadlines.items()):
            if url not in answers and time.monotonic() > deadline + GRACE:
                answers[url] = _no_answer(url, options.timeout)
                start()
    return answers


def ask(url: str, timeout: float) -> Answer:
    """One URL: HEAD, then GET if the server will not answer HEAD; never raises."""
    deadline = time.monotonic() + timeout
    try:
        status, reason, moved = _request(url, "HEAD", deadline)
        if status in RETRY_WITH_GET:
            status, reason, moved = _request(url, "GET", deadline)
    except (TimeoutError, _OutOfTime):
        return _no_answer(url, timeout)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return _no_answer(url, timeout)
        return Answer(url, False, None, f"unreachable ({_reason(exc.reason)})", time.time())
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
        return Answer(url, False, None, f"unreachable ({_reason(exc)})", time.time())
    except Exception as exc:        # a thread must answer for its URL, whatever happened
        return Answer(url, False, None, f"could not be checked ({type(exc).__name__}: {exc})",
                      time.time())
    detail = f"{status} {reason}".strip()
    ok = None if status == 429 else 200 <= status < 300
    return Answer(url, ok, status, detail, time.time(), moved)


def _request(url: str, method: str, deadline: float) -> tuple[int, str, str | None]:
    """(status, reason, where a permanent redirect first sent it) of one request."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _OutOfTime
    redirects = _Redirects()
    opener = urllib.request.build_opener(redirects)
    request = urllib.request.Request(_ascii(url), method=method, headers=_headers())
    try:
        with opener.open(request, timeout=left) as response:
            return response.status, response.reason or "", redirects.moved
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, str(exc.reason or ""), redirects.moved


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects with the method asked (urllib turns a redirected HEAD into a GET),
    and notes where a permanent redirect (301, 308) first sent it."""

    def __init__(self) -> None:
        self.moved: str | None = None

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.method = req.get_method()
            if code in PERMANENT and self.moved is None:
                self.moved = newurl
        return new


def _headers() -> dict[str, str]:
    from pipeline import __version__

    return {"User-Agent": f"Mozilla/5.0 (compatible; nbpress/{__version__} link check)",
            "Accept": "*/*"}


class _OutOfTime(Exception):
    """The URL's time was spent before its next request."""


def _no_answer(url: str, timeout: float) -> Answer:
    return Answer(url, False, None, f"no answer within {timeout:g} s", time.time())


def _reason(reason: object) -> str:
    return str(getattr(reason, "strerror", None) or reason) or type(reason).__name__


def _ascii(url: str) -> str:
    """The URL as urllib sends it: the host in IDNA, the rest percent-encoded where it is not
    ASCII (an author writes `https://de.wikipedia.org/wiki/Köln`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and not host.isascii():
        netloc = parts.netloc.replace(host, host.encode("idna").decode("ascii"))
    else:
        netloc = parts.netloc
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_SAFE),
                       quote(parts.query, safe=_SAFE), ""))


def _read_cache(file: Path) -> dict[str, Answer]:
    """The answers kept, or none when the file is missing or damaged (it is only a cache)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT:
            return {}
        return {url: Answer(**{**kept, "url": url}) for url, kept in data["answers"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _write_cache(file: Path, answers: dict[str, Answer], now: float) -> None:
    """The answers of the last day (older ones dropped), in one step."""
    kept = {url: {k: v for k, v in asdict(a).items() if k != "url"}
            for url, a in sorted(answers.items()) if now - a.checked < FRESH}
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps({"format": CACHE_FORMAT, "answers": kept}, indent=1) + "\n")
    except OSError:
        pass                    # a cache that cannot be written costs a slower next check


def external_findings(config: SiteConfig, links: Iterable[Link], options: External
                      ) -> list[Finding]:
    """A warning for each link to another site that is broken or unreachable, a note for one
    that moved for good (link to where it went) or that would not say (429)."""
    wanted = [link for link in links if link.external]
    answers = check_urls((link.target for link in wanted), options, config.root)
    findings = []
    for link in wanted:
        answer = answers[link.target]
        where = (link.page.source.path, link.line)
        if answer.ok is False:
            findings.append(Finding(*where, f"link to {link.written}: {answer.detail} (fix: "
                                    "correct or remove the link, or link to an archived copy)",
                                    level=WARNING))
        elif answer.ok is None:
            findings.append(Finding(*where, f"link to {link.written}: {answer.detail}: the "
                                    "server asks to be asked later; not checked", level=NOTE))
        elif answer.moved:
            findings.append(Finding(*where, f"link to {link.written}: moved for good to "
                                    f"{answer.moved} (link there)", level=NOTE))
    return findings
