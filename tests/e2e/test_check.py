"""nbpress check: the seed page's broken emoji is reported, and repaired only on request."""
from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat

from pipeline.author.check import check_site
from tests.conftest import PNG_1PX, REPO, SEED


def seeded(site):
    target = site.root / "content/experiences/aws.md"
    target.parent.mkdir(parents=True)
    shutil.copyfile(SEED, target)
    site.file("content/images/aws.png", PNG_1PX)
    site.page("ok.md", '---\ntitle: "Fine"\n---\n\nCafé – “quotes” 😎 naïve.\n')
    return target


def test_the_seed_page_s_mojibake_is_reported_with_its_line_and_repair(site):
    target = seeded(site)
    (finding,) = check_site(site.config())
    line = SEED.read_text(encoding="utf-8").splitlines().index(
        "I just started this role, I will keep you in the loop ðŸ˜Ž") + 1
    assert (finding.path, finding.line) == (target, line)
    assert finding.repaired == "I just started this role, I will keep you in the loop 😎"
    assert target.read_bytes() == SEED.read_bytes()           # reported, not repaired


def test_fix_repairs_that_line_and_not_one_other_byte(site):
    target = seeded(site)
    ok = (site.root / "content/ok.md").read_bytes()
    check_site(site.config(), fix=True)
    before, after = SEED.read_bytes().split(b"\n"), target.read_bytes().split(b"\n")
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]].endswith("loop 😎".encode("utf-8"))
    assert (site.root / "content/ok.md").read_bytes() == ok     # curly quotes left alone
    assert check_site(site.config()) == []


def test_check_reports_page_errors_too_and_the_cli_exit_code(site):
    seeded(site)
    site.page("bad.md", '---\ntitle: "x\n---\n\nbody\n')
    run = subprocess.run([sys.executable, "-m", "pipeline", "check", "--site", str(site.root)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    assert "content/bad.md:2" in run.stderr and "invalid YAML" in run.stderr
    assert "mojibake" in run.stderr and "nbpress check --fix" in run.stderr


def test_a_build_never_repairs_an_author_s_file(site):
    target = seeded(site)
    assert site.build().ok
    assert target.read_bytes() == SEED.read_bytes()


# -- links and images: what a build warns about or fails on, found without building ----------

def by_message(findings, text):
    (finding,) = [f for f in findings if text in f.message]
    return finding


def build_warnings(site):
    """The warnings a real build gives, without the leading 'path: ' check's output prints."""
    report = site.build()
    return {(r.source.path, w.removeprefix(f"{r.source.path}: "))
            for r in report.results for w in r.warnings}


def test_a_broken_page_link_and_a_link_to_a_draft_are_found_with_their_lines(site):
    site.page("draft.md", '---\ntitle: "Soon"\ndraft: true\n---\n\nnot yet\n')
    a = site.page("a.md", '---\ntitle: "A"\n---\n\nIntro.\n\nSee [x](missing.md).\n\n'
                          'And [the next one](draft.md#part).\n')
    findings = check_site(site.config())
    missing = by_message(findings, "'missing.md' links to a page that does not exist")
    draft = by_message(findings, "links to 'draft.md', a page not published in this build")
    assert (missing.path, missing.line) == (a, 7) and (draft.path, draft.line) == (a, 9)
    assert {(f.path, f.message) for f in findings} == build_warnings(site)   # the same words


def test_a_missing_image_is_reported_and_the_page_s_links_are_still_checked(site):
    a = site.page("a.md", '---\ntitle: "A"\nfeaturedImage: images/card.png\n---\n\n'
                          '![chart](images/nope.png)\n\n[x](gone.md)\n')
    findings = check_site(site.config())
    image = by_message(findings, "'images/nope.png' refers to a file that does not exist")
    card = by_message(findings, "'images/card.png' refers to a file that does not exist")
    link = by_message(findings, "'gone.md' links to a page that does not exist")
    assert [(f.path, f.line) for f in (image, card, link)] == [(a, 6), (a, 3), (a, 8)]
    assert "--strict" in image.message and "(fix: correct the path" in card.message
    report = site.build()       # the featured image is needed: the page fails on it alone
    assert [r.error.message for r in report.failed] == [card.message.split(" (fix:")[0]]


def test_links_in_code_are_not_reported_and_do_not_move_the_line(site):
    a = site.page("a.md", '---\ntitle: "A"\n---\n\n```text\n[example](missing.md)\n'
                          '![example](nope.png)\n```\n\nInline: `[y](nowhere.md)`.\n\n'
                          'A real one: [x](missing.md)\n')
    findings = check_site(site.config())
    assert [(f.path, f.line, f.message) for f in findings] == [
        (a, 12, "'missing.md' links to a page that does not exist (the link is left as written)")]


def test_check_never_runs_a_page_s_code_but_checks_its_markdown_cells(site, tmp_path):
    ran = tmp_path / "ran.txt"
    code = f'```python\nopen({str(ran)!r}, "w").write("ran")\n```\n'
    a = site.page("a.md", f'---\ntitle: "A"\n---\n\nFirst.\n\n{code}\nThen [x](missing.md).\n')
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# B\n\n![b](images/nope.png)"),
        nbformat.v4.new_code_cell(f'open({str(ran)!r}, "w").write("ran")')])
    site.file("notebooks/b.ipynb", nbformat.writes(nb))
    findings = check_site(site.config())
    assert (by_message(findings, "'missing.md' links").path,
            by_message(findings, "'missing.md' links").line) == (a, 11)
    image = by_message(findings, "'images/nope.png' refers to a file that does not exist")
    assert (image.path, image.line) == (site.root / "notebooks/b.ipynb", None)
    assert not ran.exists()                     # no kernel: the code did not run
    site.build()
    assert ran.read_text() == "ran"             # as a build would have run it


def test_link_warnings_alone_make_check_exit_1_and_are_printed_with_their_line(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\n[x](missing.md)\n')
    run = subprocess.run([sys.executable, "-m", "pipeline", "check", "--site", str(site.root)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    assert "content/a.md:5: 'missing.md' links to a page that does not exist" in \
        " ".join(run.stderr.split())
