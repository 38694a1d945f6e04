"""`nbpress sync`: keep every content/X.md and notebooks/X.ipynb in step, losing no edit.

It remembers what each pair looked like after the last sync (`.nbpress-cache/sync.json`:
size, mtime and hash of both files), so it knows which side changed:
- only the Markdown: the notebook's inputs follow, its outputs kept where the code is the same;
- only the notebook: the Markdown follows (inputs only; the frontmatter as the notebook has
  it, which is the author's block byte for byte unless a key was changed in the notebook);
- both, to different contents: nothing is written; the pair is reported with a diff, and
  `--prefer md|ipynb` settles it;
- a page or notebook alone gets its twin.
A notebook is compared by the page it implies, as jupytext spells it (three-backtick fences,
a final newline): a re-run is no change, and a written page keeps the author's other lines.
An unchanged pair costs two stats. Every write is atomic and re-checks, just before it
replaces a file, that nobody changed that file since it was read.
"""
from __future__ import annotations

import difflib
import enum
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from pipeline.config import SiteConfig
from pipeline.sources.discover import walk
from pipeline.errors import NbpressError
from pipeline.files import SYNC_FORMAT, SYNC_RECORD, cache_dir, write_atomic

STATE_FILE = SYNC_RECORD
FORMAT = SYNC_FORMAT


class Action(enum.Enum):
    UNCHANGED = "unchanged"
    IN_STEP = "in step"              # both sides already agree (e.g. saved by Jupyter)
    TO_IPYNB = "notebook updated"
    TO_MD = "page updated"
    NEW_IPYNB = "notebook created"
    NEW_MD = "page created"
    CONFLICT = "conflict"
    TWIN_GONE = "twin deleted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Pair:
    rel: str            # path without suffix, from content/ and notebooks/
    md: Path
    ipynb: Path

    def __repr__(self) -> str:
        return f"Pair({self.rel!r})"


@dataclass(frozen=True, slots=True)
class Outcome:
    pair: Pair
    action: Action
    detail: str = ""    # the diff of a conflict, or what to do

    @property
    def ok(self) -> bool:
        return self.action not in (Action.CONFLICT, Action.TWIN_GONE, Action.ERROR)


class SyncConflict(NbpressError):
    """Both twins changed, or one was changed while nbpress was writing the other."""


def sync_site(config: SiteConfig, paths: Iterable[str] = (), prefer: str | None = None) -> list[Outcome]:
    """Bring the pairs under `paths` (all when empty) in step; what happened to each."""
    from pipeline.build.lock import site_lock

    with site_lock(config.root):
        return _sync(config, paths, prefer)


def _sync(config: SiteConfig, paths: Iterable[str], prefer: str | None) -> list[Outcome]:
    state = _load(config)
    outcomes = []
    for pair in find_pairs(config, paths):
        try:
            outcome, stamps = sync_pair(pair, state.get(pair.rel), prefer, config)
        except NbpressError as error:      # this pair is reported; the others go on
            outcome, stamps = Outcome(pair, Action.ERROR, str(error)), None
        if stamps is not None:
            state[pair.rel] = stamps
        outcomes.append(outcome)
    gone = [rel for rel in state if not (config.content / f"{rel}.md").exists()
            and not (config.notebooks / f"{rel}.ipynb").exists()]
    for rel in gone:                    # both twins deleted: forget the pair
        del state[rel]
    if gone or any(o.action is not Action.UNCHANGED for o in outcomes):
        _save(config, state)
    return outcomes


def find_pairs(config: SiteConfig, paths: Iterable[str] = ()) -> list[Pair]:
    """Every page or notebook, as a pair (one side may not exist yet)."""
    rels = _rels(config.content, ".md") | _rels(config.notebooks, ".ipynb")
    wanted = [_rel_of(config, Path(p)) for p in paths]
    if wanted:
        rels = {r for r in rels if any(r == w or r.startswith(w + "/") or not w for w in wanted)}
    return [Pair(r, config.content / f"{r}.md", config.notebooks / f"{r}.ipynb")
            for r in sorted(rels)]


# -- one pair ---------------------------------------------------------------------------------

def sync_pair(pair: Pair, record: dict | None, prefer: str | None,
              config: SiteConfig) -> tuple[Outcome, dict | None]:
    """(what happened, the stamps to remember: None to keep the old record)."""
    md_stat, nb_stat = _stat(pair.md), _stat(pair.ipynb)
    if record and md_stat and nb_stat and md_stat == record["md"][:2] and nb_stat == record["ipynb"][:2]:
        return Outcome(pair, Action.UNCHANGED), None
    if md_stat is None or nb_stat is None:
        return _one_side(pair, record, prefer, config)
    md_bytes, nb_bytes = pair.md.read_bytes(), pair.ipynb.read_bytes()
    from pipeline.sources.frontmatter import decode

    md_text = decode(md_bytes, pair.md)
    try:
        nb = _read_nb(pair, nb_bytes)
    except NbpressError:
        if prefer != "md":
            raise
        _backup(config, pair.ipynb, nb_bytes)          # a broken notebook, replaced on request
        pair.ipynb.unlink()
        return _one_side(pair, None, prefer, config)
    implied = _implied_md(nb, md_text)
    own = implied if implied == md_text else _own_implied(md_text, config)
    if implied == own:      # the notebook stands for the page (run or not): nothing to write
        _consume_frontmatter_edits(pair, nb, nb_bytes)
        return Outcome(pair, Action.IN_STEP), _stamps(pair, own)
    # What changed since the last sync: the page's bytes, and the page the notebook implies
    # (its inputs: a re-run is no change), against what both said then.
    md_changed = record is None or _sha(md_bytes) != record["md"][2]
    nb_changed = record is None or _sha(implied.encode("utf-8")) not in \
        (record["md"][2], record.get("implied"))
    side = ("md" if md_changed and not nb_changed else
            "ipynb" if nb_changed and not md_changed else None)
    if side is None and prefer:               # a conflict the author settles: keep the loser
        side = prefer
        _backup(config, pair.ipynb if prefer == "md" else pair.md,
                nb_bytes if prefer == "md" else md_bytes)
    if side == "md":
        return _md_to_ipynb(pair, md_text, nb, (md_bytes, nb_bytes), config)
    if side == "ipynb":
        _replace(pair.md, _authors_bytes(md_text, own, implied, config), md_bytes)
        _consume_frontmatter_edits(pair, nb, nb_bytes)
        return Outcome(pair, Action.TO_MD), _stamps(pair, implied)
    theirs = _authors_bytes(md_text, own, implied, config)     # the diff without respelling
    return Outcome(pair, Action.CONFLICT, conflict_detail(pair, md_text, theirs)), None


def _implied_md(nb, md_text: str) -> str:
    """The page the notebook stands for, in the page's own format and line endings."""
    from pipeline.notebook.convert import notebook_to_md, text_format

    implied = notebook_to_md(nb, text_format(md_text) if _has_header(md_text) else None)
    implied = _keep_header(md_text.replace("\r\n", "\n"), implied)
    return implied.replace("\n", "\r\n") if "\r\n" in md_text else implied


def _own_implied(md_text: str, config: SiteConfig) -> str:
    """The page a twin made from this page implies: jupytext's spelling of the page (its
    fences three backticks long, a final newline), what a re-run notebook still implies."""
    from pipeline.notebook.convert import md_to_notebook

    return _implied_md(md_to_notebook(md_text, config), md_text)


def _authors_bytes(page: str, own: str, implied: str, config: SiteConfig) -> str:
    """The page to write for the notebook's edit `own` -> `implied` (`own`: this page as
    jupytext spells it). Lines the edit leaves alone keep the author's bytes (fence lengths,
    no final newline) when the page and its spelling match line for line and the result
    reads back as exactly the notebook's inputs; else jupytext's page is written."""
    import difflib

    end = own[len(own.rstrip("\r\n")):] if not page.endswith("\n") else ""
    mine, base, edited = (t.splitlines(keepends=True) for t in (page + end, own, implied))
    if len(mine) != len(base):
        return implied
    ops = difflib.SequenceMatcher(None, base, edited, autojunk=False).get_opcodes()
    merged = "".join("".join(mine[i1:i2] if tag == "equal" else edited[j1:j2])
                     for tag, i1, i2, j1, j2 in ops)
    merged = merged[:-len(end)] if end and merged.endswith(end) else merged
    return merged if _own_implied(merged, config) == implied else implied


def _keep_header(page: str, implied: str) -> str:
    """jupytext writes a header (MyST, `jupyter:`) from metadata, in its own layout: when it
    says what the page's header says, keep the page's header, byte for byte."""
    from pipeline.sources.frontmatter import parse_frontmatter

    page_head, implied_head = _header(page), _header(implied)
    if not page_head or not implied_head or page_head == implied_head:
        return implied
    try:
        mine = parse_frontmatter(page_head, Path("page"))[0]
        theirs = parse_frontmatter(implied_head, Path("notebook"))[0]
    except NbpressError:
        return implied
    from pipeline.sources.editing import edit_frontmatter, json_safe

    mine, theirs = _without_versions(mine), _without_versions(theirs)
    changed = {k: json_safe(v) for k, v in theirs.items() if mine.get(k) != v}
    head = edit_frontmatter(page_head, changed) if changed else page_head
    return head + implied[len(implied_head):]


def _header(text: str) -> str:
    if not text.startswith("---\n"):
        return ""
    end = text.find("\n---\n", 3)
    return text[:end + 5] if end >= 0 else ""


def _without_versions(meta: dict) -> dict:
    """Header metadata without what jupytext adds or updates itself (its version lines)."""
    meta = {k: v for k, v in meta.items() if k != "jupytext"}
    if isinstance(meta.get("jupyter"), dict):
        meta["jupyter"] = {k: v for k, v in meta["jupyter"].items() if k != "jupytext"}
    return meta


def _one_side(pair: Pair, record: dict | None, prefer: str | None,
              config: SiteConfig) -> tuple[Outcome, dict | None]:
    from pipeline.notebook.convert import md_to_notebook, notebook_to_md, write_ipynb

    if pair.md.exists():
        if record and prefer != "md":
            return Outcome(pair, Action.TWIN_GONE, f"{_short(pair.ipynb, config)} was deleted: "
                           f"delete {_short(pair.md, config)} too, or run `nbpress sync "
                           f"--prefer md {_short(pair.md, config)}` to create the notebook "
                           f"again"), None
        from pipeline.sources.frontmatter import decode

        text = decode(pair.md.read_bytes(), pair.md)
        nb = md_to_notebook(text, config)
        _create(pair.ipynb, write_ipynb(nb))
        return Outcome(pair, Action.NEW_IPYNB), _stamps(pair, _implied_md(nb, text))
    if record and prefer != "ipynb":
        return Outcome(pair, Action.TWIN_GONE, f"{_short(pair.md, config)} was deleted: "
                       f"delete {_short(pair.ipynb, config)} too, or run `nbpress sync "
                       f"--prefer ipynb {_short(pair.ipynb, config)}` to create the page "
                       f"again"), None
    nb = _read_nb(pair, pair.ipynb.read_bytes())
    if _front_matter_cell(nb):
        return Outcome(pair, Action.UNCHANGED, "a notebook page with fastpages front matter: "
                       "kept as a notebook"), None
    _create(pair.md, notebook_to_md(nb))
    return Outcome(pair, Action.NEW_MD), _stamps(pair)


def _front_matter_cell(nb) -> bool:
    """A fastpages/nbdev notebook (front matter in its first Markdown cell): a page of its own
    that a Markdown twin could not describe (its #hide markers, its dated file name)."""
    from pipeline.sources.dialects import fastpages_frontmatter

    return bool(nb.cells) and nb.cells[0].cell_type == "markdown" and \
        fastpages_frontmatter(nb.cells[0].source) is not None


def _md_to_ipynb(pair: Pair, md_text: str, old_nb, read: tuple[bytes, bytes],
                 config: SiteConfig) -> tuple[Outcome, dict]:
    from pipeline.notebook.convert import md_to_notebook, write_ipynb
    from pipeline.notebook.outputs import with_outputs_of

    new = with_outputs_of(md_to_notebook(md_text, config), old_nb)
    new.metadata.get("nbpress", {}).pop("frontmatter", None)   # the page is the truth now
    _replace(pair.ipynb, write_ipynb(new), read[1])
    return Outcome(pair, Action.TO_IPYNB), _stamps(pair, _implied_md(new, md_text))


def _consume_frontmatter_edits(pair: Pair, nb, nb_bytes: bytes) -> None:
    """Keys set under metadata.nbpress.frontmatter are now in the page: move them into the
    notebook's frontmatter cell and drop the metadata, so they cannot override later edits."""
    from pipeline.notebook.convert import META_KEY, apply_frontmatter_edits, write_ipynb

    if not nb.metadata.get(META_KEY, {}).get("frontmatter"):
        return
    nb = apply_frontmatter_edits(nb)
    del nb.metadata[META_KEY]["frontmatter"]
    if not nb.metadata[META_KEY]:
        del nb.metadata[META_KEY]
    _replace(pair.ipynb, write_ipynb(nb), nb_bytes)


def conflict_detail(pair: Pair, md_text: str, implied: str, lines: int = 24) -> str:
    diff = list(difflib.unified_diff(md_text.splitlines(), implied.splitlines(),
                                     f"{pair.md} (the page)", f"{pair.ipynb} (the notebook)",
                                     lineterm="", n=1))
    more = f"\n... ({len(diff) - lines} more lines)" if len(diff) > lines else ""
    return "\n".join(diff[:lines]) + more


# -- files --------------------------------------------------------------------------------------

def _replace(path: Path, text: str, expected: bytes) -> None:
    """Write `text` over `path` only if it still holds `expected` (nobody saved meanwhile)."""
    if path.read_bytes() != expected:
        raise SyncConflict("changed while nbpress was syncing it; nothing was written",
                           path, hint="run nbpress sync again")
    write_atomic(path, text)


def _backup(config: SiteConfig, path: Path, data: bytes) -> Path:
    """Keep the side `--prefer` overwrites, under .nbpress-cache/sync-backup/."""
    import time

    folder = (cache_dir(config.root) / "sync-backup" / path.relative_to(config.root)).parent
    folder.mkdir(parents=True, exist_ok=True)
    stamp, n = time.strftime("%Y%m%d-%H%M%S"), 0
    while (target := folder / f"{path.stem}.{stamp}{f'-{n}' if n else ''}{path.suffix}").exists():
        n += 1
    target.write_bytes(data)
    return target


def _create(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise SyncConflict("appeared while nbpress was creating it; nothing was written", path,
                           hint="run nbpress sync again")
    write_atomic(path, text)


def _read_nb(pair: Pair, data: bytes):
    from pipeline.notebook.convert import read_ipynb

    try:
        return read_ipynb(data.decode("utf-8"))
    except Exception as exc:
        raise NbpressError(f"is not a readable notebook ({type(exc).__name__}: {exc})",
                           pair.ipynb, hint="open it in Jupyter and save it again, or recreate it "
                           f"from its page with `nbpress sync --prefer md {pair.md}` (the "
                           "broken file is kept under .nbpress-cache/sync-backup/)") from None


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _stamps(pair: Pair, implied: str | None = None) -> dict:
    """Size, mtime and hash of both files, and the hash of the page the notebook implies
    (a twin's page is spelled by jupytext: it need not be the page's own bytes)."""
    stamps = {side: _stat(path) + [_sha(path.read_bytes())]
              for side, path in (("md", pair.md), ("ipynb", pair.ipynb))}
    return {**stamps, "implied": _sha(implied.encode("utf-8"))} if implied else stamps


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _has_header(text: str) -> bool:
    return text.startswith("---") and "jupytext" in text.split("\n---", 1)[0]


def _rels(top: Path, suffix: str) -> set[str]:
    return {rel for _, rel in walk(top, suffix)}


def _rel_of(config: SiteConfig, path: Path) -> str:
    """A PATHS argument (a page, a notebook, a folder under either) as a pair path."""
    path = path.resolve() if path.exists() else (Path.cwd() / path).resolve()
    for top in (config.content.resolve(), config.notebooks.resolve()):
        if path == top:
            return ""
        if top in path.parents:
            rel = path.relative_to(top)
            return (rel.with_suffix("") if rel.suffix in (".md", ".ipynb") else rel).as_posix()
    raise NbpressError("is not inside the site's content or notebooks folder", path,
                       hint="name pages as content/... or notebooks/... paths")


def _short(path: Path, config: SiteConfig) -> str:
    return path.relative_to(config.root).as_posix()


def _load(config: SiteConfig) -> dict:
    try:
        data = json.loads((cache_dir(config.root) / STATE_FILE).read_text(encoding="utf-8"))
        return data["pairs"] if data.get("format") == FORMAT else {}
    except (OSError, ValueError, KeyError, AttributeError):
        return {}          # no record: pairs that differ are reported, never overwritten


def _save(config: SiteConfig, state: dict) -> None:
    folder = cache_dir(config.root)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / STATE_FILE, json.dumps({"format": FORMAT, "pairs": state},
                                                 separators=(",", ":")))
