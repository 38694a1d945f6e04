"""The site's search index, made by pagefind (the only pagefind user): the built pages are
indexed and pagefind's bundle (its UI, the wasm search and the index) is returned as files
of the site under `pagefind/`. Writes nothing into the site.

Only elements marked `data-pagefind-body` are indexed (`--root-selector`): pagefind alone
indexes every whole page of a site where no page is marked, listings and 404 included.
Each page is indexed under the URL of its file with `index.html` taken off (`x/index.html`
is `/x/`); the search page sets the UI's `baseUrl` to the site's root as seen from the page,
so results link right at the domain root, under a path, or wherever the folder is served.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from pipeline.errors import NbpressError
from pipeline.files import parent_death

BUNDLE = "pagefind"                  # the bundle's folder in the site
TIMEOUT = 300.0                      # seconds; 1000 pages take about a second
ROOT = "[data-pagefind-body]"
NOTHING_INDEXED = "not able to build an index"      # pagefind 1.x, when no page qualifies
INSTALL = "pip install 'pagefind[bin]' (or set search = false in [tool.nbpress])"


def search_files(site_dir: Path, scratch: Path, *, pages: Iterable[str] | None = None,
                 timeout: float = TIMEOUT) -> dict[str, bytes]:
    """Index the built pages under site_dir (HTML files; only elements marked
    data-pagefind-body are indexed, so listings/tag pages/404 are not) and return pagefind's
    output files as {output path under the site ('pagefind/...'): bytes}, sorted by path.
    Writes nothing into site_dir; runs the binary with its output in a temp folder under
    `scratch`, removed after. A site with no marked page gives {}: nothing to search (the
    search page says so).

    `pages`: only these HTML files (paths under site_dir) are read, the others of the folder
    not (an in-place build's output still holds the pages it is about to remove)."""
    with _workspace(site_dir, scratch) as work:
        out = work / BUNDLE
        site = site_dir.resolve() if pages is None else _link_tree(site_dir, pages, work / "site")
        done = _run(_command(site, out), work, timeout, site_dir)
        return _read(out) if done else {}


def index_into(site_dir: Path, scratch: Path, *, pages: Iterable[str],
               timeout: float = TIMEOUT) -> list[str]:
    """`search_files` for a folder that is not yet the site (a staging folder): pagefind
    reads `pages` and writes into `scratch`, and its folder is then moved in as
    `site_dir/pagefind` (one rename, not a thousand writes). Returns the output paths of its
    files; [] when no page is marked (nothing is moved in)."""
    with _workspace(site_dir, scratch) as work:
        out = work / BUNDLE
        site = _link_tree(site_dir, pages, work / "site")     # the pages alone, as a preview
        if not _run(_command(site, out), work, timeout, site_dir):
            return []
        target = site_dir / BUNDLE
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(out), str(target))          # a rename on one file system
        return sorted(p.relative_to(site_dir).as_posix() for p in target.rglob("*")
                      if p.is_file())


@contextlib.contextmanager
def _workspace(site_dir: Path, scratch: Path):
    """A temp folder under `scratch` for one pagefind run, removed after, whatever happens."""
    if not site_dir.is_dir():
        raise NbpressError("the site folder to index for search is missing", site_dir,
                           hint="this is a bug in nbpress: please report it")
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pagefind-", dir=scratch))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def binary() -> Path:
    """pagefind's executable, found as pagefind's Python API finds it (PAGEFIND_BINARY_PATH,
    the pagefind_bin_extended or pagefind_bin package, PATH), without importing that API
    (asyncio: 45 ms)."""
    if os.environ.get("PAGEFIND_BINARY_PATH"):
        return Path(os.environ["PAGEFIND_BINARY_PATH"])
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            module = __import__(package)
            return Path(module.get_executable())
        except (ImportError, FileNotFoundError):
            continue
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found is None:
        raise NbpressError("the search index needs pagefind, which is not installed",
                           hint=INSTALL)
    return Path(found)


def _command(site: Path, out: Path) -> list[str]:
    """Quiet, and independent of where the build runs: pagefind's settings all given here
    (its config file and PAGEFIND_* variables are kept away by `_run`)."""
    return [str(binary()), "--site", str(site), "--output-path", str(out),
            "--root-selector", ROOT, "--quiet"]


def _run(command: list[str], cwd: Path, timeout: float, site_dir: Path) -> bool:
    """Run pagefind; False when it found no page to index. The child gets SIGKILL if this
    process dies, and is killed (by subprocess.run) on a timeout or any exception."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    try:
        done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, preexec_fn=parent_death(os.getpid()))
    except subprocess.TimeoutExpired:
        raise NbpressError(f"pagefind did not finish indexing the site in {timeout:g} s",
                           site_dir, hint="look for a huge HTML file in the output folder, "
                           "or set search = false in [tool.nbpress]") from None
    except OSError as exc:
        raise NbpressError(f"pagefind could not be started ({exc.strerror or exc})",
                           command[0], hint=INSTALL) from None
    if done.returncode == 0:
        return True
    text = (done.stderr + done.stdout).decode("utf-8", "replace")
    if NOTHING_INDEXED in text:
        return False
    raise NbpressError(f"pagefind failed to index the site (exit status {done.returncode})",
                       site_dir, detail=_last_lines(text),
                       hint="see pagefind's message above; a broken install is mended by "
                            + INSTALL)


def _link_tree(site_dir: Path, pages: Iterable[str], tree: Path) -> Path:
    """A folder of symbolic links to `pages` at their paths (pagefind follows them, and
    indexes a page under the link's path, and the index is the same bytes): 1000 pages in
    0.1-0.3 s."""
    top = site_dir.resolve()
    tree.mkdir()
    for rel in pages:
        inside = not rel.startswith("/") and ".." not in rel.split("/")
        if inside and rel.endswith(".html") and (top / rel).is_file():
            link = tree / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(top / rel)
    return tree


def _read(out: Path) -> dict[str, bytes]:
    files = {}
    for folder, _, names in os.walk(out):
        for name in names:
            path = Path(folder, name)
            files[f"{BUNDLE}/{path.relative_to(out).as_posix()}"] = path.read_bytes()
    return dict(sorted(files.items()))


def _last_lines(text: str, count: int = 8) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-count:])
