"""A file that a page's code writes during the build is found by the pages built after it:
the build's memory of the file system (`files.Existing`) keeps only what exists."""
from tests.conftest import PNG_1PX


def test_an_image_a_page_code_writes_is_found_by_a_page_built_later(site):
    site.page("a.md", "---\ntitle: A\n---\n![early](shared/late.png)\n")
    site.page("b.md", f"""\
        ---
        title: B
        ---
        ```python
        import pathlib
        pathlib.Path("shared").mkdir(exist_ok=True)
        pathlib.Path("shared/late.png").write_bytes(bytes.fromhex("{PNG_1PX.hex()}"))
        ```
        """)
    site.page("c.md", "---\ntitle: C\n---\n![late](shared/late.png)\n")
    report = site.build(jobs=1)          # one process: a, then b, then c
    assert report.ok, [r.error for r in report.failed]
    missing = [w for w in report.warnings() if "late.png" in w]
    assert len(missing) == 1 and "a.md" in missing[0], missing
    assert (site.root / "output" / "shared" / "late.png").read_bytes() == PNG_1PX
    assert 'width="1"' in (site.root / "output" / "c" / "index.html").read_text(encoding="utf-8")
