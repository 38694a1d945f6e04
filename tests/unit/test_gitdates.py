"""Last-commit dates of pages and the HEAD stamp, against real git repositories made here."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.sources.gitdates import LogReader, head_stamp, last_commits

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIRST = "2024-01-02T03:04:05+02:00"
SECOND = "2024-03-04T10:00:00+05:30"
THIRD = "2024-05-06T07:08:09+00:00"


@pytest.fixture(autouse=True)
def _plain_git(monkeypatch):
    """No global or system git settings (signing, hooks paths, default branch) of the machine."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str, when: str | None = None) -> str:
    env = dict(os.environ)
    if when is not None:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Author")
    git(path, "config", "user.email", "test@example.org")
    return path


def commit(repo: Path, when: str, files: dict[str, str | None], message: str = "edit") -> str:
    """Write (or, for None, delete) `files`, commit them all at `when`; the commit id."""
    for rel, text in files.items():
        target = repo / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_each_file_gets_the_date_of_the_last_commit_that_touched_it(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/a.md": "a\n", "content/b.md": "b\n",
                         "notebooks/a.ipynb": "{}\n"})
    commit(repo, SECOND, {"content/b.md": "b2\n"})
    commit(repo, THIRD, {"README.md": "not a page\n"})
    paths = [repo / "content/a.md", repo / "content/b.md", repo / "notebooks/a.ipynb"]
    dates = last_commits(repo, paths)
    assert dates == {paths[0]: at(FIRST), paths[1]: at(SECOND), paths[2]: at(FIRST)}
    assert dates[paths[1]].utcoffset() == dt.timedelta(hours=5, minutes=30)  # the commit's own


def test_paths_from_the_root_are_answered_as_given(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/a.md": "a\n"})
    assert last_commits(repo, [Path("content/a.md")]) == {Path("content/a.md"): at(FIRST)}


def test_a_renamed_file_is_dated_by_the_rename_and_its_old_name_by_nothing(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/old.md": "same text\n" * 20})
    git(repo, "mv", "content/old.md", "content/new.md")
    git(repo, "commit", "-q", "-m", "rename", when=SECOND)
    new, old = repo / "content/new.md", repo / "content/old.md"
    assert last_commits(repo, [new, old]) == {new: at(SECOND)}


def test_names_with_spaces_accents_and_glob_characters(tmp_path):
    repo = make_repo(tmp_path / "site")
    names = ["content/notes d'été/page é 1.md", "content/[draft] *star?.md",
             "content/tab\there.md", "content/\"quoted\".md"]
    commit(repo, FIRST, {name: "x\n" for name in names})
    commit(repo, SECOND, {"content/[draft] *star?.md": "y\n"})
    paths = [repo / name for name in names]
    assert last_commits(repo, paths) == {paths[0]: at(FIRST), paths[1]: at(SECOND),
                                         paths[2]: at(FIRST), paths[3]: at(FIRST)}


def test_a_site_in_a_subfolder_of_the_repository(tmp_path):
    repo = make_repo(tmp_path / "repo")
    commit(repo, FIRST, {"docs/site/content/a.md": "a\n", "content/a.md": "another site\n"})
    commit(repo, SECOND, {"content/a.md": "another site, edited\n"})
    site = repo / "docs" / "site"
    page = site / "content/a.md"
    assert last_commits(site, [page]) == {page: at(FIRST)}
    assert last_commits(site, [repo / "content/a.md"]) == {}        # outside the site


def test_uncommitted_files_have_no_date_and_dirty_ones_keep_their_commit(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/a.md": "a\n"})
    (repo / "content/a.md").write_text("edited, not committed\n", encoding="utf-8")
    (repo / "content/new.md").write_text("new\n", encoding="utf-8")
    (repo / "content/staged.md").write_text("staged\n", encoding="utf-8")
    git(repo, "add", "content/staged.md")
    paths = [repo / "content/a.md", repo / "content/new.md", repo / "content/staged.md"]
    assert last_commits(repo, paths) == {paths[0]: at(FIRST)}


def test_no_commit_yet_no_repository_and_nothing_asked(tmp_path):
    repo = make_repo(tmp_path / "unborn")
    (repo / "content").mkdir()
    (repo / "content/a.md").write_text("a\n", encoding="utf-8")
    assert last_commits(repo, [repo / "content/a.md"]) == {}
    plain = tmp_path / "plain"
    (plain / "content").mkdir(parents=True)
    (plain / "content/a.md").write_text("a\n", encoding="utf-8")
    assert last_commits(plain, [plain / "content/a.md"]) == {}
    assert last_commits(tmp_path / "missing", [tmp_path / "missing/content/a.md"]) == {}
    assert last_commits(repo, []) == {}


def test_git_missing_from_path_gives_no_dates(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/a.md": "a\n"})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert last_commits(repo, [repo / "content/a.md"]) == {}


def test_a_shallow_clone_dates_by_the_commits_it_has(tmp_path):
    repo = make_repo(tmp_path / "origin")
    commit(repo, FIRST, {"content/a.md": "a\n", "content/b.md": "b\n"})
    commit(repo, SECOND, {"content/b.md": "b2\n"})
    commit(repo, THIRD, {"content/c.md": "c\n"})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    paths = [clone / "content/a.md", clone / "content/b.md", clone / "content/c.md"]
    assert last_commits(clone, paths) == {paths[0]: at(SECOND), paths[1]: at(SECOND),
                                          paths[2]: at(THIRD)}
    shallow = head_stamp(clone)
    assert shallow is not None and shallow.startswith(git(clone, "rev-parse", "HEAD"))
    git(clone, "fetch", "-q", "--deepen", "1")      # same HEAD, deeper history: other dates
    assert head_stamp(clone) != shallow
    assert last_commits(clone, paths)[paths[0]] == at(FIRST)


def test_the_log_is_read_in_chunks_of_any_size(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/é a.md": "a\n", "content/b.md": "b\n"})
    git(repo, "commit", "-q", "--allow-empty", "-m", "no files", when=SECOND)
    commit(repo, THIRD, {"content/b.md": "b2\n"})
    out = subprocess.run(["git", "-C", str(repo), "log", "--format=%x00%cI", "--name-only",
                          "-z", "--", "content"], check=True, capture_output=True).stdout
    whole = LogReader({"content/é a.md", "content/b.md"})
    whole.feed(out)
    by_byte = LogReader({"content/é a.md", "content/b.md"})
    for i in range(len(out)):
        by_byte.feed(out[i:i + 1])
    assert whole.found == by_byte.found == {"content/é a.md": at(FIRST),
                                            "content/b.md": at(THIRD)}
    assert not whole.left


def test_head_stamp_follows_commits_branches_and_detached_heads(tmp_path):
    repo = make_repo(tmp_path / "site")
    assert head_stamp(repo) == "unborn refs/heads/main"
    first = commit(repo, FIRST, {"content/a.md": "a\n"})
    assert head_stamp(repo) == first
    assert head_stamp(repo / "content") == first            # from a folder inside
    second = commit(repo, SECOND, {"content/a.md": "a2\n"})
    assert head_stamp(repo) == second
    git(repo, "checkout", "-q", "-b", "other", first)
    assert head_stamp(repo) == first
    third = commit(repo, THIRD, {"content/b.md": "b\n"})
    assert head_stamp(repo) == third
    git(repo, "checkout", "-q", "main")
    assert head_stamp(repo) == second
    git(repo, "checkout", "-q", "--detach", first)
    assert head_stamp(repo) == first


def test_head_stamp_reads_packed_refs(tmp_path):
    repo = make_repo(tmp_path / "site")
    commit(repo, FIRST, {"content/a.md": "a\n"})
    head = commit(repo, SECOND, {"content/a.md": "a2\n"})
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git/refs/heads/main").exists()
    assert head_stamp(repo) == head
    newer = commit(repo, THIRD, {"content/a.md": "a3\n"})     # a loose ref again, over the packed
    assert head_stamp(repo) == newer


def test_head_stamp_outside_a_repository(tmp_path):
    assert head_stamp(tmp_path / "plain") is None
    (tmp_path / "plain" / ".git").mkdir(parents=True)   # an empty .git folder is no repository
    assert head_stamp(tmp_path / "plain") is None
    repo = make_repo(tmp_path / "repo")
    head = commit(repo, FIRST, {"site/content/a.md": "a\n"})
    (repo / "site" / ".git").mkdir()    # ... and git looks further up, as head_stamp does
    assert head_stamp(repo / "site") == head == git(repo / "site", "rev-parse", "HEAD")


def test_a_worktree(tmp_path):
    repo = make_repo(tmp_path / "main")
    first = commit(repo, FIRST, {"content/a.md": "a\n"})
    main_head = commit(repo, SECOND, {"content/a.md": "a2\n"})
    tree = tmp_path / "tree"
    git(repo, "worktree", "add", "-q", "-b", "draft", str(tree), first)
    assert (tree / ".git").is_file()
    assert head_stamp(tree) == first and head_stamp(repo) == main_head
    draft = commit(tree, THIRD, {"content/b.md": "b\n"})
    assert head_stamp(tree) == draft and head_stamp(repo) == main_head
    paths = [tree / "content/a.md", tree / "content/b.md"]
    assert last_commits(tree, paths) == {paths[0]: at(FIRST), paths[1]: at(THIRD)}


def test_relative_git_variables_of_a_hook_are_honoured(tmp_path, monkeypatch):
    """A git hook exports GIT_DIR/GIT_INDEX_FILE relative to the repository's top: they
    still name it when git runs in the site's folder."""
    repo = make_repo(tmp_path / "repo")
    head = commit(repo, FIRST, {"site/content/a.md": "a\n"})
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GIT_DIR", ".git")
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index")
    page = repo / "site/content/a.md"
    assert last_commits(repo / "site", [page]) == {page: at(FIRST)}
    assert head_stamp(repo / "site") == head
