"""Shared fixtures. Read-only inputs (the repo's example site, ../shared/corpora) are always
copied to a temporary folder before a build: tests never write into the repository.

A bare clone must pass on its own: ../shared (the team's folder beside the clone) is optional.
The tests of real sites by others (../shared/corpora) carry `needs_corpora` and skip, saying
why, without it; the seed page is the repo's own copy, held to its SHA-256."""
from __future__ import annotations

import os
import shutil
import signal
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore new examples on a developer's machine (a failure found is kept in
# .hypothesis/ and tried first next time); CI runs the same examples every time, so a red CI
# is the change's, never the draw's (Hypothesis's advice). A case either finds is then kept
# as an explicit example beside its test.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
# The project's first page, which must stay byte for byte as the author wrote it (mojibake,
# <style>, quoted dates): test_example_site checks it against this hash.
SEED = REPO / "content" / "experiences" / "aws.md"
SEED_SHA256 = "3df7fc53c11dab0e312be2b34970686a877a9dbc44af70070ec50f5b428f33d6"

needs_corpora = pytest.mark.skipif(
    not CORPORA.is_dir(),
    reason=f"needs the real sites of ../shared/corpora, which are not in the repository and not "
           f"beside this clone ({CORPORA}); put that folder there to run these tests")


def copy_example_site(dest: Path) -> Path:
    """The repo's example site (content/, its build notebooks in notebooks/_data/, settings)
    in a writable folder (twins a local `make lab` made are left behind)."""
    shutil.copytree(REPO / "content", dest / "content")
    shutil.copytree(REPO / "notebooks" / "_data", dest / "notebooks" / "_data")
    settings = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    dest.joinpath("pyproject.toml").write_text(
        settings[settings.index("[tool.nbpress]"):], encoding="utf-8")
    return dest


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    return copy_example_site(tmp_path / "site")


class SiteMaker:
    """Writes a small site under a temporary folder: pages given as text."""

    def __init__(self, root: Path):
        self.root = root
        (root / "content").mkdir(parents=True, exist_ok=True)

    def page(self, rel: str, text: str) -> Path:
        path = self.root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def file(self, rel: str, data: bytes | str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def settings(self, toml: str) -> None:
        (self.root / "pyproject.toml").write_text(textwrap.dedent(toml), encoding="utf-8")

    def config(self):
        from pipeline.config import load_config

        return load_config(self.root)

    def build(self, **options):
        from pipeline.build.engine import BuildOptions, build_site

        return build_site(self.config(), BuildOptions(**options))


@pytest.fixture
def site(tmp_path: Path) -> SiteMaker:
    return SiteMaker(tmp_path / "site")


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101001a9b8c2b0000000049454e44ae426082")


def default_sigint() -> None:
    """`preexec_fn` of a child a test sends Ctrl-C: SIGINT handled as in a terminal, also when
    the test run itself was started in the background (a shell makes it ignore SIGINT, and
    a Python started so never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
