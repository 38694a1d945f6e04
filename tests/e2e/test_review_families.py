"""Review of page families (sources/families.py) and their shared cells (execute/shared.py):
each test reproduces a problem found by building real sites with real kernels, and fails on
the code as reviewed."""
from __future__ import annotations

import os
import signal
import time

import nbformat

from tests.integration.test_export_fixes import text, tree

FAMILY = """\
    ---
    title: "S {team}"
    slug: /s/{team}
    matrix:
      team: [a, b]
    ---
    ```python tags=["parameters"]
    team = "all"
    ```

    ```python
    print(f"member {team}")
    ```
    """


def html_of(site, url: str) -> str:
    return (site.root / "output" / url.strip("/") / "index.html").read_text(encoding="utf-8")


def printed(site, url: str) -> list[str]:
    """The text of each <pre> of a page's outputs (not its code listings)."""
    page = tree(html_of(site, url))
    return [text(pre).strip() for pre in page.iter("pre")
            if not pre.findall(".//span")]


# -- families ---------------------------------------------------------------------------------

def test_a_new_row_in_a_matrix_from_file_outside_the_pages_folder_is_built(site):
    """A member records its matrix_from file as used (README, architecture.md), so a new row
    is seen by the next build. From the site's data/ folder it is not: the fast path says
    nothing changed and the new member never appears."""
    rows = site.file("data/teams.csv", "team\na\n")
    site.page("dash.md", FAMILY.replace("    matrix:\n      team: [a, b]\n",
                                        "    matrix_from: ../data/teams.csv\n"))
    assert site.build().ok
    rows.write_text("team\na\nb\n", encoding="utf-8")
    report = site.build()
    assert sorted(r.source.variant for r in report.results) == ["team=a", "team=b"]
    assert (site.root / "output" / "s" / "b" / "index.html").is_file()


def test_two_families_with_one_base_url_do_not_mix_their_listings(site):
    """Two families whose slug templates share a folder: one listing, titled after the
    first, with the second's `region` values shown under the first's `team` column, rows
    interleaved, and no word said."""
    site.page("one.md", FAMILY.replace("/s/{team}", "/d/{team}"))
    site.page("two.md", FAMILY.replace("S {team}", "Two {region}").replace(
        "/s/{team}", "/d/r-{region}").replace("team: [a, b]", "region: [eu, us]").replace(
        'team = "all"', 'region = "all"').replace("{team}\")", "{region}\")"))
    report = site.build()
    said = [w for w in report.warnings() if "one.md" in w or "two.md" in w] + [
        str(r.error) for r in report.failed]
    assert any("is also the listing of" in s and "fix:" in s for s in said), said
    assert {r.source.path.name for r in report.failed} == {"one.md", "two.md"}
    assert not (site.root / "output" / "d" / "index.html").exists()     # no mixed listing


def test_a_notebook_family_with_saved_outputs_runs_each_member(site):
    """A family written as a notebook in content/, saved from Jupyter with the outputs of its
    defaults: every member publishes those saved outputs ("hello all"), not its own run."""
    cell = nbformat.v4.new_code_cell('print("hello", team)')
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello all\n")]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell('---\ntitle: "N {team}"\nslug: /n/{team}\n'
                                 'matrix:\n  team: [a, b]\n---'),
        nbformat.v4.new_code_cell('team = "all"', metadata={"tags": ["parameters"]}), cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    site.file("content/fam.ipynb", nbformat.writes(nb))
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert printed(site, "/n/a/") == ["hello a"]
    assert printed(site, "/n/b/") == ["hello b"]


def test_a_row_missing_a_column_is_an_error_of_the_page_not_a_bug(site):
    """A CSV row shorter than its header, or JSON rows with other names: 'could not be built
    (AttributeError/KeyError) ... this looks like a bug in nbpress', with no line."""
    site.file("content/data/short.csv", "team,window\na,7\nb\n")
    site.file("content/data/keys.json", '[{"team": "a"}, {"region": "eu"}]')
    site.page("short.md", FAMILY.replace("    matrix:\n      team: [a, b]\n",
                                         "    matrix_from: data/short.csv\n"))
    site.page("keys.md", FAMILY.replace("/s/{team}", "/k/{team}").replace(
        "    matrix:\n      team: [a, b]\n", "    matrix_from: data/keys.json\n"))
    report = site.build()
    errors = {r.source.path.name: r.error for r in report.failed}
    assert set(errors) == {"short.md", "keys.md"}
    for name, error in errors.items():
        assert "bug in nbpress" not in (error.hint or ""), (name, str(error))
        assert error.line == 4, (name, str(error))          # the matrix_from line


def test_a_family_that_no_longer_reads_keeps_its_members_last_good_versions(site):
    """A page that fails to read keeps its last good version; a family whose frontmatter
    breaks (a YAML slip, its matrix_from file gone) takes every member and its listing off
    the site, and the links to it die."""
    family = site.page("dash.md", FAMILY)
    plain = site.page("plain.md", "---\ntitle: P\n---\nHello.\n")
    site.page("other.md", "---\ntitle: O\n---\n[all](dash.md) and [p](plain.md)\n")
    assert site.build().ok
    family.write_text(family.read_text(encoding="utf-8").replace("team: [a, b]",
                                                                 "team: [a, b"), encoding="utf-8")
    plain.write_text("---\ntitle: [P\n---\nHello.\n", encoding="utf-8")
    report = site.build()
    assert {r.source.path.name for r in report.failed} == {"dash.md", "plain.md"}
    out = site.root / "output"
    assert (out / "plain" / "index.html").is_file()                # a page: kept
    assert (out / "s" / "a" / "index.html").is_file()              # a family: gone
    assert (out / "s" / "index.html").is_file()
    assert not [w for w in report.warnings() if "other.md" in w]


def test_a_member_warning_is_said_once_for_its_family(site):
    """The same warning of the family's text comes once per member (20 members: 20 times)."""
    site.page("dash.md", FAMILY.replace("team: [a, b]", "team: [a, b, c, d]").replace(
        '    ```python tags=["parameters"]\n    team = "all"\n    ```\n', ""))
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    warnings = report.warnings()
    assert warnings and len(warnings) == len(set(warnings)), warnings


# -- shared cells -----------------------------------------------------------------------------

SHARED = FAMILY.replace('    ```python\n    print(f"member {team}")\n    ```\n',
                        '    CELLS\n    ```python\n    print(f"member {team}: {rows}")\n    ```\n')


def shared_family(site, cells: str):
    return site.page("dash.md", SHARED.replace("    CELLS\n", cells))


def test_a_shared_cell_after_a_member_cell_runs_in_its_place(site):
    """A shared cell is run in the template before every other cell: a member cell above it
    that sets the same name then wins, so the page differs from Jupyter's run and from the
    same build with --isolate (rows 20 there, 10 here), silently."""
    shared_family(site, """\
    ```python
    rows = 10
    ```

    ```python tags=["shared"]
    rows = 20
    ```

""")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    said = [w for w in report.warnings() if "shared" in w]
    assert said or "member a: 20" in printed(site, "/s/a/"), printed(site, "/s/a/")


def test_a_shared_cell_that_reads_a_members_value_is_not_run_with_the_default(site):
    """A shared cell that uses `team` runs with the parameters cell's default ("all") for
    every member, silently (with --isolate each member gets its own)."""
    shared_family(site, """\
    ```python tags=["shared"]
    rows = team.upper()
    ```

""")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    said = [w for w in report.warnings() if "team" in w and "shared" in w]
    assert said or "member a: A" in printed(site, "/s/a/"), printed(site, "/s/a/")


def test_a_process_a_shared_cell_starts_does_not_outlive_the_build(site):
    """A process started by a page's code dies with its kernel; started by a shared cell, it
    is left running after the build (the template is killed alone, not its group)."""
    pid_file = site.root / "helper.pid"
    shared_family(site, f"""\
    ```python tags=["shared"]
    import subprocess
    helper = subprocess.Popen(["sleep", "120"])
    open({str(pid_file)!r}, "w").write(str(helper.pid))
    rows = 1
    ```

""")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    pid = int(pid_file.read_text())
    time.sleep(0.5)
    left = _running(pid)
    if left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"sleep {pid} outlived the build"


def test_a_shared_cell_slower_than_a_minute_does_not_fail_its_members(site):
    """The heavy data load shared cells are for: past 60 s every member fails with 'the
    kernel fork server did not start', naming a socket file, not the page (the client's
    connect timeout, kernels.ForkServer._connect). This test takes about a minute."""
    shared_family(site, """\
    ```python tags=["shared"]
    import time
    time.sleep(62)
    rows = 1
    ```

""")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert "member a: 1" in printed(site, "/s/a/")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False

