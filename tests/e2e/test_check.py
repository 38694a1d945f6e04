"""nbpress check: the seed page's broken emoji is reported, and repaired only on request."""
from __future__ import annotations

import shutil
import subprocess
import sys

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
