"""site/search.py with the real pagefind binary (pagefind[bin]) over a few HTML pages.

The index is read back from pagefind's own files: each `.pf_fragment` (gzip, `pagefind_dcd`
and JSON) is one indexed page with its URL and text. The failure tests stand an executable
script in for pagefind through PAGEFIND_BINARY_PATH, the variable pagefind's own Python API
honours, since the real binary cannot be made to fail or hang on purpose."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import NbpressError
from pipeline.site.search import search_files

PAGE = """<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>
<header><nav><a href="/">Home</a> headerword</nav></header>
<article class="page"{marked}><h1>{title}</h1><p>{text}</p></article>
<footer>footerword</footer></body></html>
"""


def _page(site: Path, rel: str, title: str, text: str, marked: bool = True) -> None:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PAGE.format(title=title, text=text,
                                marked=" data-pagefind-body" if marked else ""), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Two articles, a listing and a 404 (both unmarked), a static HTML file; the draft
    (its word `draftword`) is never written, as a build leaves drafts out."""
    root = tmp_path / "output"
    _page(root, "alpha/index.html", "Alpha", "The zebrafish swims quickly.")
    _page(root, "blog/beta/index.html", "Beta", "Numbats forage at dawn.")
    _page(root, "blog/index.html", "Blog", "Listing quokka Beta numbats", marked=False)
    _page(root, "404.html", "Page not found", "There is no page at this address.", marked=False)
    _page(root, "downloads/old.html", "Old", "A static wombat file.", marked=False)
    (root / "assets").mkdir()
    (root / "assets" / "site.css").write_text("body {}", encoding="utf-8")
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _fragments(files: dict[str, bytes]) -> dict[str, dict]:
    """URL -> the indexed page (pagefind's fragment: url, content, meta)."""
    found = {}
    for path, data in files.items():
        if path.endswith(".pf_fragment"):
            raw = gzip.decompress(data)
            assert raw.startswith(b"pagefind_dcd"), path
            fragment = json.loads(raw[len(b"pagefind_dcd"):])
            found[fragment["url"]] = fragment
    return found


def test_marked_pages_indexed_under_their_urls_and_nothing_else(site, tmp_path):
    before = _tree(site)
    scratch = tmp_path / "scratch"
    files = search_files(site, scratch)

    for name in ("pagefind/pagefind.js", "pagefind/pagefind-ui.js", "pagefind/pagefind-ui.css",
                 "pagefind/pagefind-entry.json"):
        assert files.get(name), name
    assert any(p.startswith("pagefind/index/") and p.endswith(".pf_index") for p in files), files
    assert all(p.startswith("pagefind/") for p in files), sorted(files)
    assert list(files) == sorted(files)

    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert [lang["page_count"] for lang in entry["languages"].values()] == [2], entry

    pages = _fragments(files)
    assert set(pages) == {"/alpha/", "/blog/beta/"}, pages          # index.html taken off
    assert "zebrafish" in pages["/alpha/"]["content"]
    assert pages["/alpha/"]["meta"]["title"] == "Alpha"
    everything = " ".join(p["content"] for p in pages.values())
    for word in ("headerword", "footerword", "quokka", "wombat", "draftword", "address"):
        assert word not in everything, word                          # outside the article
    all_bytes = b"".join(gzip.decompress(d) if d[:2] == b"\x1f\x8b" else d
                         for d in files.values())
    assert b"quokka" not in all_bytes and b"draftword" not in all_bytes

    assert _tree(site) == before                # nothing written into the site
    assert list(scratch.iterdir()) == []        # its temp folder removed


def test_same_pages_give_the_same_bytes_wherever_they_are(site, tmp_path):
    first = search_files(site, tmp_path / "scratch")
    moved = tmp_path / "elsewhere" / "out"
    moved.parent.mkdir()
    site.rename(moved)
    assert search_files(moved, tmp_path / "scratch2") == first
    pages = [p.relative_to(moved).as_posix() for p in moved.rglob("*.html")]
    assert search_files(moved, tmp_path / "scratch3", pages=pages) == first


def test_only_the_pages_named_are_read(site, tmp_path):
    """An in-place build's output still holds a page it is about to remove."""
    _page(site, "gone/index.html", "Gone", "A removed platypus page.")
    everything = _fragments(search_files(site, tmp_path / "s1"))
    assert "/gone/" in everything
    named = ["alpha/index.html", "blog/beta/index.html", "blog/index.html", "assets/site.css",
             "../outside.html", "missing/index.html"]
    pages = _fragments(search_files(site, tmp_path / "s2", pages=named))
    assert set(pages) == {"/alpha/", "/blog/beta/"}, pages


def test_no_marked_page_gives_no_files(site, tmp_path):
    """pagefind alone would index whole pages when none is marked: listings, 404, nav."""
    for rel in ("alpha/index.html", "blog/beta/index.html"):
        (site / rel).unlink()
    assert search_files(site, tmp_path / "scratch") == {}
    assert list((tmp_path / "scratch").iterdir()) == []


def test_empty_site_gives_no_files(tmp_path):
    (tmp_path / "output").mkdir()
    assert search_files(tmp_path / "output", tmp_path / "scratch") == {}


def _stand_in(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-pagefind"
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(0o755)
    return script


def test_missing_binary_names_the_install(site, tmp_path, monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    with pytest.raises(NbpressError) as info:
        search_files(site, tmp_path / "scratch")
    assert "pagefind could not be started" in info.value.message
    assert "pip install 'pagefind[bin]'" in info.value.hint
    assert list((tmp_path / "scratch").iterdir()) == []


def test_failing_binary_shows_the_end_of_its_stderr(site, tmp_path, monkeypatch):
    lines = "".join(f"echo 'line {i}' >&2\n" for i in range(20))
    monkeypatch.setenv("PAGEFIND_BINARY_PATH",
                       str(_stand_in(tmp_path, lines + "echo 'Error: disk on fire' >&2\nexit 3\n")))
    with pytest.raises(NbpressError) as info:
        search_files(site, tmp_path / "scratch")
    err = info.value
    assert "exit status 3" in err.message and err.path == site
    assert err.detail.splitlines()[-1] == "Error: disk on fire"
    assert "line 19" in err.detail and "line 5" not in err.detail     # the last lines only
    assert err.hint


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_timeout_kills_the_binary(site, tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PAGEFIND_BINARY_PATH",
                       str(_stand_in(tmp_path, f"echo $$ > {pid_file}\nexec sleep 60\n")))
    started = time.monotonic()
    with pytest.raises(NbpressError) as info:
        search_files(site, tmp_path / "scratch", timeout=1)
    assert time.monotonic() - started < 10
    assert "did not finish" in info.value.message
    child = int(pid_file.read_text())
    try:
        assert _wait_gone(child)
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
    assert list((tmp_path / "scratch").iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_binary_dies_with_the_build(site, tmp_path):
    """A build killed with SIGKILL (no exception, no cleanup) takes pagefind with it."""
    pid_file = tmp_path / "pid"
    fake = _stand_in(tmp_path, f"echo $$ > {pid_file}\nexec sleep 60\n")
    code = ("import sys; from pathlib import Path; from pipeline.site.search import search_files;"
            "search_files(Path(sys.argv[1]), Path(sys.argv[2]))")
    env = {**os.environ, "PAGEFIND_BINARY_PATH": str(fake)}
    build = subprocess.Popen([sys.executable, "-c", code, str(site), str(tmp_path / "scratch")],
                             env=env)
    child = None
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.is_file() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline and build.poll() is None, "pagefind never ran"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert not _gone(child)
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        assert _wait_gone(child), f"pagefind {child} outlived the build"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)          # the test failed: leave nothing behind
