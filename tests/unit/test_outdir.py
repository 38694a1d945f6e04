"""The output folder: staged, swapped in whole, never someone else's folder deleted."""
from __future__ import annotations

import json
import os

import pytest

from pipeline.errors import OutputError
from pipeline.build.output import MARKER, Staging, output_id, recover


def tree(folder) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def build(output, files: dict[str, str | bytes], manifest=None) -> None:
    staging = Staging(output)
    for rel, data in files.items():
        staging.write(rel, data)
    staging.commit(manifest if manifest is not None else {"files": sorted(files)})


@pytest.fixture
def output(tmp_path):
    return tmp_path / "site" / "output"


def test_commit_makes_the_output_folder_with_the_marker(output):
    staging = Staging(output)
    staging.write("aws/index.html", "<p>AWS</p>")
    staging.write("images/aws.png", b"\x89PNG")

    assert not output.exists()
    staging.commit({"pages": ["aws"]})

    assert tree(output) == {"aws/index.html", "images/aws.png", MARKER}
    assert (output / "aws" / "index.html").read_text(encoding="utf-8") == "<p>AWS</p>"
    assert (output / "images" / "aws.png").read_bytes() == b"\x89PNG"
    assert json.loads((output / MARKER).read_text(encoding="utf-8")) == {"pages": ["aws"]}


def test_commit_leaves_no_staging_or_old_folder_beside_the_output(output):
    build(output, {"index.html": "1"})
    build(output, {"index.html": "2"})

    assert sorted(os.listdir(output.parent)) == ["output"]


def test_a_second_build_replaces_the_folder_and_stale_files_are_gone(output):
    build(output, {"index.html": "one", "old/index.html": "gone soon"})

    build(output, {"index.html": "two", "new/index.html": "new"})

    assert tree(output) == {"index.html", "new/index.html", MARKER}
    assert (output / "index.html").read_text(encoding="utf-8") == "two"


def test_abort_leaves_the_previous_output_untouched(output):
    build(output, {"index.html": "good"})
    staging = Staging(output)
    staging.write("index.html", "half-built")
    staging.write("extra.html", "x")

    staging.abort()

    assert tree(output) == {"index.html", MARKER}
    assert (output / "index.html").read_text(encoding="utf-8") == "good"
    assert not staging.dir.exists()


def test_files_are_written_in_the_staging_folder_not_the_output(output):
    build(output, {"index.html": "good"})
    staging = Staging(output)

    staging.write("index.html", "next")

    assert (staging.dir / "index.html").read_text(encoding="utf-8") == "next"
    assert (output / "index.html").read_text(encoding="utf-8") == "good"
    staging.abort()


@pytest.mark.parametrize("rel", ["../x", "a/../../x", "/etc/x", "../output/index.html"])
def test_writing_outside_the_staging_folder_is_refused(output, rel):
    staging = Staging(output)

    with pytest.raises(OutputError) as info:
        staging.write(rel, "x")

    assert info.value.path == output
    assert repr(rel) in info.value.message
    assert not (output.parent / "x").exists()
    staging.abort()


def test_a_non_empty_output_folder_without_the_marker_is_refused_and_kept(output):
    output.mkdir(parents=True)
    (output / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(OutputError) as info:
        Staging(output)

    assert info.value.path == output
    assert info.value.hint
    assert tree(output) == {"notes.txt"}
    assert (output / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_empty_output_folder_without_the_marker_is_replaced(output):
    output.mkdir(parents=True)

    build(output, {"index.html": "x"})

    assert tree(output) == {"index.html", MARKER}


def test_an_output_path_that_is_a_file_is_refused(output):
    output.parent.mkdir(parents=True)
    output.write_text("a file", encoding="utf-8")

    with pytest.raises(OutputError) as info:
        Staging(output)

    assert info.value.path == output
    assert info.value.hint
    assert output.read_text(encoding="utf-8") == "a file"


def test_recover_restores_the_old_folder_when_the_output_is_missing(output):
    build(output, {"index.html": "good"})
    old = output.parent / ".output.old"
    os.replace(output, old)            # a build died between the two renames of a commit

    recover(output)

    assert tree(output) == {"index.html", MARKER}
    assert not old.exists()


def test_recover_leaves_an_existing_output_alone(output):
    build(output, {"index.html": "new"})
    old = output.parent / ".output.old"
    old.mkdir()
    (old / "index.html").write_text("old", encoding="utf-8")

    recover(output)

    assert (output / "index.html").read_text(encoding="utf-8") == "new"


def test_a_new_staging_recovers_before_it_builds(output):
    build(output, {"index.html": "good"})
    os.replace(output, output.parent / ".output.old")

    staging = Staging(output)
    staging.abort()

    assert (output / "index.html").read_text(encoding="utf-8") == "good"


def test_carry_copies_named_files_of_the_previous_output(output):
    build(output, {"aws/index.html": "last good", "aws/fig-1-0.png": b"png"})
    staging = Staging(output)

    assert staging.carry(["aws/index.html", "aws/fig-1-0.png"]) is True
    staging.commit({})

    assert (output / "aws" / "index.html").read_text(encoding="utf-8") == "last good"
    assert (output / "aws" / "fig-1-0.png").read_bytes() == b"png"


def test_carry_returns_false_and_copies_nothing_when_one_file_is_missing(output):
    build(output, {"aws/index.html": "last good"})
    staging = Staging(output)

    assert staging.carry(["aws/index.html", "aws/fig-1-0.png"]) is False
    assert tree(staging.dir) == set()
    staging.abort()


def test_carry_of_nothing_is_false(output):
    build(output, {"index.html": "x"})
    staging = Staging(output)

    assert staging.carry([]) is False
    staging.abort()


def test_output_id_returns_the_build_id_commit_wrote(output):
    build(output, {"index.html": "x"}, manifest={"nbpress": "0", "build_id": "abc123"})

    assert output_id(output) == "abc123"


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]", b"\xff\xfe", "{}"])
def test_output_id_is_none_for_missing_or_corrupt(output, content):
    output.mkdir(parents=True)
    if isinstance(content, bytes):
        (output / MARKER).write_bytes(content)
    elif content is not None:
        (output / MARKER).write_text(content, encoding="utf-8")

    assert output_id(output) is None


def test_output_id_of_a_missing_folder_is_none(tmp_path):
    assert output_id(tmp_path / "nowhere") is None


def test_carry_hard_links_and_a_later_write_never_touches_the_live_file(output):
    build(output, {"a/index.html": "old page"})
    staging = Staging(output)
    assert staging.carry(["a/index.html"]) is True
    assert (staging.dir / "a/index.html").stat().st_ino == (output / "a/index.html").stat().st_ino
    staging.write("a/index.html", "new page")
    assert (output / "a/index.html").read_text() == "old page"
    staging.abort()


def test_a_write_that_fails_half_way_leaves_no_half_page(tmp_path, monkeypatch):
    """A full disk mid-write: the page is gone, so its last good version is carried."""
    import pipeline.build.output as output

    staging = Staging(tmp_path / "output")

    def full_disk(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "memoryview", full_disk, raising=False)
    with pytest.raises(OSError):
        staging.write("a/index.html", "<p>half</p>")
    assert not staging.path("a/index.html").exists()
    monkeypatch.undo()
    staging.write("a/index.html", "<p>whole</p>")
    assert staging.path("a/index.html").read_text(encoding="utf-8") == "<p>whole</p>"
    staging.abort()
