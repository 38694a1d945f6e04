"""Final review of issue 10 (page families, the Dask executor): each test reproduces a bug
found by building small sites as a new user would, through whole builds with real kernels
(and nbpress's own LocalCluster for the Dask one). Each one fails on the code reviewed."""
from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest

from pipeline.build.engine import BuildOptions, build_site

distributed = pytest.importorskip("distributed") if not os.environ.get("CI") else \
    __import__("distributed")


def said(report) -> list[str]:
    """Every failure and warning of a build."""
    return [str(r.error) for r in report.failed] + list(report.warnings())


def params_of(site, url: str) -> dict:
    """The params a member was built with, as its page's JSON carries them."""
    html = (site.root / "output" / url.strip("/") / "index.html").read_text(encoding="utf-8")
    start = html.index('"params": ') + len('"params": ')
    return json.JSONDecoder().raw_decode(html[start:])[0]


CODE_FAMILY = """\
    ---
    title: "Board: {team}"
    slug: /board/{team}
    matrix_from: data/teams.csv
    ---

    ```python tags=["parameters"]
    team = "all"
    code = 0
    ```

    ```python
    print(f"team={team!r} code={code!r}")
    ```
    """


# -- 1. a family whose listing is its own folder's section listing ------------------------

def test_a_family_listing_on_a_section_s_url_is_not_lost_in_silence(site):
    """The natural layout: the family's page in its own folder, content/alerts/dash.md, with
    slug: /alerts/{team}. Its listing (/alerts/) is also the `alerts` section's listing, and
    site/files.py skips the family's (`if url not in sections`): /alerts/ is a plain section
    list, with no table of parameters and no figures, and the build says nothing. (As with
    the clashes fixed in ac1e67c: it must be shown, or the build must fail naming it.)"""
    site.page("alerts/dash.md", """\
        ---
        title: "Alerts: {team}"
        slug: /alerts/{team}
        matrix:
          team: [checkout, search]
        ---

        The alerts of {team}.
        """)
    report = site.build()
    listing = (site.root / "output" / "alerts" / "index.html").read_text(encoding="utf-8")
    shown = 'class="family-table"' in listing
    told = [m for m in said(report) if "/alerts/" in m and "dash.md" in m]
    assert shown or told, ("the family's listing at /alerts/ was replaced by the section's, "
                           f"in silence:\n{listing[listing.find('<main'):][:600]}")


# -- 2. memory: auto on nbpress's own LocalCluster -----------------------------------------

def test_memory_auto_on_the_trial_local_cluster_keeps_working_after_the_first_run(site):
    """`nbpress build --executor dask` starts a LocalCluster whose workers offer no MEMORY
    resource. A page with `resources: {memory: auto}` builds once (no run recorded, nothing
    asked), then, once its code changes, asks MEMORY=1.5 x its peak and fails at once: 'no
    Dask worker offers the resources it asks for (MEMORY=...)', with a fix ('start workers
    with --resources') the user cannot apply to nbpress's own cluster."""
    site.page("m.md", "---\ntitle: M\nresources: {memory: auto}\n---\n\n"
                      "```python\nx = bytearray(30_000_000)\nprint('v1')\n```\n")
    config = replace(site.config(), executor="dask", scheduler="")
    first = build_site(config, BuildOptions())
    assert first.ok, said(first)
    site.page("m.md", (site.root / "content" / "m.md").read_text(encoding="utf-8")
              .replace("v1", "v2"))
    second = build_site(config, BuildOptions())
    assert second.ok, said(second)
    assert "v2" in (site.root / "output" / "m" / "index.html").read_text(encoding="utf-8")


# -- 3. matrix_from: values and columns taken wrong, in silence ----------------------------

def test_a_long_integer_in_a_matrix_from_csv_is_kept_exactly(site):
    """families._number reads an integer through float: int(float("12345678901234567890"))
    is 12345678901234567168, so the member runs (and shows) another id than its row's."""
    site.file("content/dash/data/teams.csv", "team,code\ncheckout,12345678901234567890\n")
    site.page("dash/board.md", CODE_FAMILY)
    report = site.build()
    assert report.ok, said(report)
    assert params_of(site, "/board/checkout/")["code"] == 12345678901234567890
    html = (site.root / "output/board/checkout/index.html").read_text(encoding="utf-8")
    assert "code=12345678901234567890" in html


def test_a_csv_header_naming_a_column_twice_is_an_error_at_its_line(site):
    """`team,team`: csv.DictReader keeps the last column's value, so the members are named
    by the second column (/board/1/, /board/2/) and the first is dropped, in silence."""
    site.file("content/dash/data/teams.csv", "team,team\ncheckout,1\nsearch,2\n")
    site.page("dash/board.md", CODE_FAMILY)
    report = site.build()
    assert not (site.root / "output" / "board" / "1").exists()
    (failed,) = report.failed
    assert "team" in str(failed.error) and "teams.csv" in str(failed.error), str(failed.error)
    assert failed.error.line == 4, str(failed.error)              # the matrix_from line


def test_an_empty_cell_in_a_matrix_from_csv_is_a_missing_value(site):
    """A row `search,` (its code cell left empty) gives the member code = '' (text, in a
    numbers column), while a row `search` (the cell missing) is an error at its line: an
    empty cell is a value the author forgot as much as a missing one."""
    site.file("content/dash/data/teams.csv", "team,code\ncheckout,1\nsearch,\n")
    site.page("dash/board.md", CODE_FAMILY)
    report = site.build()
    failed = [r for r in report.failed]
    assert failed, ("the member search was built with code=" +
                    repr(params_of(site, "/board/search/").get("code")))
    assert "line 3" in str(failed[0].error) and "code" in str(failed[0].error), \
        str(failed[0].error)


def test_a_matrix_from_file_not_in_utf8_says_so_in_its_fix(site):
    """A CSV saved as Latin-1 (Excel's default in many places): the error is 'cannot read
    ... (UnicodeDecodeError ...)' with the fix 'create the file ..., or correct the path',
    which is not the fix: the file is there, in another encoding."""
    site.file("content/dash/data/teams.csv", "team,code\nz\u00fcrich,1\n".encode("latin-1"))
    site.page("dash/board.md", CODE_FAMILY)
    report = site.build()
    (failed,) = report.failed
    hint = (failed.error.hint or "").lower()
    assert "utf-8" in hint or "encoding" in hint, str(failed.error)
    assert "create the file" not in hint, str(failed.error)


def test_exclude_false_drops_a_matrix_from_row_whose_value_is_false(site):
    """A CSV's `false` is the text 'false'; exclude: {live: false} is YAML's False, and
    families._excluded compares str(value): 'False' != 'false', so the row is kept, in
    silence (a member the author excluded is published). Values are shown as true/false
    everywhere else (`_plain`)."""
    site.file("content/data/t.csv", "team,live\na,true\nb,false\n")
    site.page("t.md", """\
        ---
        title: "T {team}"
        slug: /t/{team}
        matrix_from: data/t.csv
        exclude:
          - {live: false}
        ---
        Hello {team}.
        """)
    report = site.build()
    assert report.ok, said(report)
    assert (site.root / "output" / "t" / "a" / "index.html").is_file()
    assert not (site.root / "output" / "t" / "b").exists(), "the excluded row was published"
