"""files.Existing: one build's answers of the file system, what exists alone remembered."""
import os

from pipeline.files import Existing


def test_a_file_made_after_it_was_missing_is_found(tmp_path):
    fs, path = Existing(), tmp_path / "fig.png"
    assert fs.resolve(path) == path.resolve() and not fs.exists(path) and not fs.is_file(path)
    path.write_bytes(b"x")          # a page's code writes it later in the build
    assert fs.exists(path) and fs.is_file(path)


def test_what_exists_is_asked_of_the_file_system_once(tmp_path):
    fs, path = Existing(), tmp_path / "logo.png"
    path.write_bytes(b"x")
    assert fs.is_file(path)
    path.unlink()                   # the answer stands for the build
    assert fs.is_file(path)


def test_a_folder_exists_but_is_no_file(tmp_path):
    fs = Existing()
    assert fs.exists(tmp_path) and not fs.is_file(tmp_path)


def test_a_link_is_resolved_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.png").write_bytes(b"x")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    fs = Existing()
    assert fs.resolve(tmp_path / "alias" / "a.png") == (tmp_path / "real" / "a.png").resolve()
