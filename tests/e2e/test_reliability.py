"""A build killed (SIGKILL) while it writes leaves the published site as it was, byte for
byte, and the next build recovers and publishes every page."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = 400


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def test_a_build_killed_while_it_writes_leaves_the_site_whole_and_the_next_recovers(site):
    site.settings('[tool.nbpress]\ntitle = "K"\nsearch = false\n')
    for i in range(PAGES):
        site.page(f"notes/n{i:03d}.md", f"---\ntitle: Note {i}\n---\n\nVersion one of {i}.\n")
    assert site.build().ok
    output = site.root / "output"
    before = snapshot(output)
    for i in range(PAGES):
        site.page(f"notes/n{i:03d}.md", f"---\ntitle: Note {i}\n---\n\nVersion two of {i}.\n")
    staging = site.root / ".output.staging"
    build = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "-q", "--jobs", "1",
                              "--site", str(site.root)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and build.poll() is None:
        if staging.is_dir() and len(list(staging.rglob("index.html"))) >= 20:
            break                                       # it is writing pages
        time.sleep(0.002)
    assert build.poll() is None, "the build ended before it could be killed mid-write"
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    assert snapshot(output) == before                   # not one byte of the site changed
    report = site.build()
    assert report.ok and not staging.exists()
    pages = sorted(output.glob("notes/n*/index.html"))
    assert len(pages) == PAGES and all("Version two" in p.read_text() for p in pages)
