"""From saving a prose page to the new page being served by `nbpress serve` (a process of its
own: its watcher, its warm build service, its web server), timed from this process as a
browser sees it: the page's file is written, the event stream says `reload`, the page is
fetched and holds the new text. Prints one JSON line: {"saves": [seconds, ...]}. Used by
scripts/bench.py."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fetch(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode("utf-8", "replace")
    finally:
        connection.close()


def events(port: int):
    """The preview's event stream, open (as an open page keeps it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/__nbpress/events")
    return connection, connection.getresponse()


def next_event(response) -> str:
    kind = ""
    while True:
        line = response.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line == "" and kind:
            return kind


def served(port: int, stream, path: str, text: str, started: float) -> float:
    """Seconds from `started` until a `reload` is announced and the page it fetches holds
    `text`."""
    while True:
        if next_event(stream) == "reload" and text in fetch(port, path):
            return time.perf_counter() - started


def main(site: Path, page: Path, url: str, runs: int) -> None:
    original = page.read_text(encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0",
                                "--site", str(site)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = next(l for l in iter(process.stdout.readline, "") if "serving http" in l)
        port = int(line.split()[1].rstrip("/").rsplit(":", 1)[1])
        connection, stream = events(port)
        next_event(stream)              # the last build's failures, sent on connecting
        saves = []
        for i in range(runs + 1):       # the first save imports what a rebuild needs: not timed
            time.sleep(0.3)             # apart, as an author's saves are
            mark = f"Saved in the preview, run {i}, {time.time()}."
            started = time.perf_counter()
            page.write_text(original + f"\n{mark}\n", encoding="utf-8")
            seconds = served(port, stream, url, mark, started)
            if i:
                saves.append(seconds)
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        page.write_text(original, encoding="utf-8")
    print(json.dumps({"saves": saves}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
