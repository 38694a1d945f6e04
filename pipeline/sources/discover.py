"""Stage 1: find the files that become pages.

What is a page: the rules Quarto and Jupyter Book users already know (the site folder holds the
pages, notebooks included; `_` and `.` names are not pages), plus the notebook twins that
`nbpress sync`, or JupyterLab with the site's jupytext.toml, keeps in notebooks/:
- every content/**/*.md;
- every content/**/*.ipynb, except one beside a .md of the same name: content/x.ipynb next to
  content/x.md is that page's twin (jupytext's same-folder "ipynb,md" pairing), not a second
  page at the same address;
- every notebooks/**/*.ipynb that is no page's twin, that is: not the twin of content/x.md;
  not behind a content/x.ipynb (content/ is the site, as the project folder is for Quarto and
  Jupyter Book, so the file there is the page; the other is left out with a warning rather than
  failing both); and not an orphaned twin, the twin of a page since deleted or renamed
  (`orphaned_twins`), which would otherwise go on being published under the page's slug;
- never a file or folder whose name starts with "_" or "." (_data/, _drafts/, _include.md,
  .ipynb_checkpoints/), as in Quarto and Jupyter Book. The content and notebooks folders
  themselves may be named so (fastpages' _posts/ and _notebooks/).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import SiteConfig
from pipeline.model import Source

SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules", ".git"}
PRIVATE = ("_", ".")        # names that are never pages (Quarto, Jupyter Book)


@dataclass(frozen=True, slots=True)
class Discovery:
    """The pages, and each notebook of notebooks/ left out, with the warning that says why."""

    pages: tuple[Source, ...]
    orphans: tuple[tuple[Path, str], ...] = ()      # twins of a page that is gone
    shadowed: tuple[tuple[Path, str], ...] = ()     # behind content/X.ipynb

    @property
    def warnings(self) -> tuple[tuple[Path, str], ...]:
        return self.orphans + self.shadowed

    def __repr__(self) -> str:
        return (f"Discovery(pages={len(self.pages)}, orphans={len(self.orphans)}, "
                f"shadowed={len(self.shadowed)})")


def discover(config: SiteConfig) -> list[Source]:
    """Every page of the site (the rules above), sorted by path."""
    return list(scan(config).pages)


def orphaned_twins(config: SiteConfig) -> list[tuple[Path, str]]:
    """Each notebook left out because its Markdown page is gone, with a warning naming both
    files and the fixes. A build should say it: the author deleted a page and may expect its
    notebook to go too, or renamed it and forgot the notebook."""
    return list(scan(config).orphans)


def scan(config: SiteConfig) -> Discovery:
    """The pages and the notebooks left out, in one walk of each folder."""
    md, own = _content(config)
    md_rels, in_content = {rel for _, rel in md}, {rel: path for path, rel in own}
    pages = [Source(p, r, "md") for p, r in md] + [Source(p, r, "ipynb") for p, r in own]
    orphans, shadowed = [], []
    synced = _synced_rels(config)
    for path, rel in _notebooks(config):
        if rel in md_rels:
            continue                    # the page's twin: the page is what is published
        if rel in in_content:
            shadowed.append((path, _shadowed_warning(config, path, in_content[rel])))
        elif rel in synced or pairs_with_markdown(path):
            orphans.append((path, _orphan_warning(config, path, rel, rel in synced)))
        else:
            pages.append(Source(path, rel, "ipynb"))
    pages.sort(key=lambda s: (s.rel, s.kind))
    return Discovery(tuple(pages), tuple(orphans), tuple(shadowed))


def _content(config: SiteConfig) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(Markdown pages, notebook pages) of the content folder: a notebook beside a .md of its
    name is that page's twin, not a page."""
    found = walk(config.content, (".md", ".ipynb"), PRIVATE)
    md = [(p, r) for p, r in found if p.suffix == ".md"]
    rels = {rel for _, rel in md}
    own = [(p, r) for p, r in found if p.suffix == ".ipynb" and r not in rels
           and not _nested(p, config.notebooks, config.content)]
    return md, own


def _notebooks(config: SiteConfig) -> list[tuple[Path, str]]:
    """notebooks/**/*.ipynb; none when it is the content folder (the content rules apply)."""
    if config.notebooks == config.content:
        return []
    return [(p, r) for p, r in walk(config.notebooks, ".ipynb", PRIVATE)
            if not _nested(p, config.content, config.notebooks)]


def walk(top: Path, suffix: str | tuple[str, ...],
         hidden: tuple[str, ...] = (".",)) -> list[tuple[Path, str]]:
    """(path, path from `top` without its suffix) of every file under `top` ending in
    `suffix`. Names starting with one of `hidden` (and SKIP_DIRS) are neither entered nor
    listed: discover hides `_` names too; `nbpress sync` keeps the default and pairs
    content/_drafts/ as well, since a draft may be written in Jupyter."""
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(hidden))
        for name in files:
            if name.endswith(suffix) and not name.startswith(hidden):
                path = Path(folder, name)
                rel = path.relative_to(top).with_suffix("").as_posix()
                found.append((path, rel))
    return found


def pairs_with_markdown(path: Path) -> bool:
    """Whether jupytext wrote this notebook from a Markdown page, or pairs it with one: the
    twins `nbpress sync` writes record `metadata.jupytext.text_representation` (.md), the ones
    JupyterLab writes through the site's jupytext.toml carry jupytext's filters, and a notebook
    paired by hand names its formats. A notebook made in Jupyter has no `jupytext` key;
    `metadata.nbpress` is no sign (a notebook page of its own may keep its frontmatter there)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if b'"jupytext"' not in data:       # the common case, without parsing the JSON
        return False
    try:
        meta = json.loads(data).get("metadata", {}).get("jupytext")
    except (ValueError, AttributeError):
        return False    # unreadable: a page, whose build then names the problem
    return isinstance(meta, dict) and _markdown_format(meta)


def _markdown_format(meta: dict) -> bool:
    """jupytext metadata that names a Markdown side, or names none: under notebooks/, a
    notebook jupytext wrote without saying its text side was paired by the site's jupytext.toml,
    whose text side is content/X.md. A .py or .R pairing is another tool's twin: a page."""
    formats = meta.get("formats")
    if isinstance(formats, str) and formats:        # "ipynb,md", "notebooks///ipynb,content///md"
        return any(f.rsplit("/", 1)[-1].split(":")[0].lstrip(".") in ("md", "myst")
                   for f in formats.split(","))
    text = meta.get("text_representation")
    return not isinstance(text, dict) or text.get("extension", ".md") == ".md"


def _synced_rels(config: SiteConfig) -> set[str]:
    """The pairs `nbpress sync` recorded (.nbpress-cache/sync.json), read as sync reads it:
    a pair stays recorded while either twin exists, so a notebook whose page was deleted after
    a sync is known for a twin."""
    from pipeline.files import SYNC_FORMAT, SYNC_RECORD, cache_dir

    try:
        data = json.loads((cache_dir(config.root) / SYNC_RECORD).read_text(encoding="utf-8"))
        pairs = data["pairs"] if data.get("format") == SYNC_FORMAT else {}
        return {rel for rel in pairs if isinstance(rel, str)}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return set()        # no record: the notebook's metadata alone decides


def _orphan_warning(config: SiteConfig, path: Path, rel: str, recorded: bool) -> str:
    notebook, page = _short(config, path), _short(config, config.content / f"{rel}.md")
    again = (f"`nbpress sync --prefer ipynb {notebook}` writes it again from the notebook; "
             "plain `nbpress sync` only reports it deleted") if recorded else \
        "`nbpress sync` writes it again from the notebook"
    return (f"{path}: not published: it is the notebook twin of {page}, which is gone. If the "
            f"page was deleted, delete {notebook} too; if it was renamed, rename the notebook "
            f"to match (or delete it: `nbpress sync` makes the new page's twin); to keep the "
            f"page, restore {page} ({again}); to publish the notebook as a page of its own, "
            f"move it to {_short(config, config.content / f'{rel}.ipynb')}")


def _shadowed_warning(config: SiteConfig, path: Path, page: Path) -> str:
    return (f"{path}: not published: {_short(config, page)} is the page at this path (a "
            f"notebook in the content folder comes first). Delete or rename one of the two")


def _nested(path: Path, folder: Path, other: Path) -> bool:
    """`path` lies in `folder`, a folder inside `other` (notebooks_dir inside content_dir, or
    the reverse): `other`'s walk finds it, but it belongs to `folder`'s, so it is skipped."""
    return other in folder.parents and folder in path.parents


def _short(config: SiteConfig, path: Path) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return str(path)


def stamps(config: SiteConfig) -> dict[str, list[int]]:
    """[mtime_ns, size, ctime_ns] of every file discovery looks at (each .md and .ipynb under the
    content and notebooks folders, and sync's record), by path from the site root: when these
    are as the last build saw them, discovery would find what it found then. One `scandir`
    walk, no Path objects: the fast path of a build with nothing to do on 100,000 pages."""
    root = str(config.root)
    found: dict[str, list[int]] = {}
    for top in {str(config.content), str(config.notebooks)}:
        _stamp_tree(top, root, found)
    record = os.path.join(root, ".nbpress-cache", "sync.json")
    try:
        st = os.stat(record)
        found[".nbpress-cache/sync.json"] = [st.st_mtime_ns, st.st_size, st.st_ctime_ns]
    except OSError:
        pass
    return found


def _stamp_tree(folder: str, root: str, found: dict[str, list[int]]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in SKIP_DIRS:
                _stamp_tree(entry.path, root, found)
        elif entry.name.endswith((".md", ".ipynb")):
            try:
                st = entry.stat()
                stamp = [st.st_mtime_ns, st.st_size, st.st_ctime_ns]
            except OSError:             # a link to nothing: its page fails, saying so
                stamp = [0, -1, 0]
            found[entry.path[len(root) + 1:].replace(os.sep, "/")] = stamp
