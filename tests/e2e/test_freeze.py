"""`freeze = true`: executed results kept in `_freeze/` (committed with the site, as Quarto's),
so a machine without the data or the packages, such as CI, publishes what the author ran;
a change of the code or of data the machine has runs the page again."""
from __future__ import annotations

import shutil

import pytest

from pipeline.model import Outcome

PAGE = ("---\ntitle: Data\n---\n\n```python\nimport pathlib\n"
        "print('rows:', len(pathlib.Path('data.csv').read_text().split()))\n```\n")


@pytest.fixture
def frozen_site(site):
    site.settings('[tool.nbpress]\ntitle = "F"\nsearch = false\nfreeze = true\n')
    site.page("p/index.md", PAGE)
    site.file("content/p/data.csv", "a\nb\nc\n")
    return site


def ran(report) -> int:
    return sum(r.executed for r in report.results)


def shown(site) -> str:
    return (site.root / "output" / "p" / "index.html").read_text()


def test_a_machine_without_the_data_or_the_cache_publishes_what_the_author_ran(frozen_site):
    first = frozen_site.build()
    assert first.ok and ran(first) == 1 and "rows: 3" in shown(frozen_site)
    assert (frozen_site.root / "_freeze" / "content" / "p" / "index.ipynb").is_file()
    shutil.rmtree(frozen_site.root / ".nbpress-cache")         # a fresh clone in CI:
    shutil.rmtree(frozen_site.root / "output")                  # no cache, no output,
    (frozen_site.root / "content" / "p" / "data.csv").unlink()  # no data
    ci = frozen_site.build()
    assert ci.ok and ran(ci) == 0, [str(r.error) for r in ci.failed]
    assert "rows: 3" in shown(frozen_site)


def test_a_change_of_the_code_or_of_data_here_runs_the_page_again(frozen_site):
    assert frozen_site.build().ok
    shutil.rmtree(frozen_site.root / ".nbpress-cache")
    frozen_site.file("content/p/data.csv", "a\nb\nc\nd\n")       # the data changed here
    again = frozen_site.build()
    assert ran(again) == 1 and "rows: 4" in shown(frozen_site)
    shutil.rmtree(frozen_site.root / ".nbpress-cache")
    frozen_site.page("p/index.md", PAGE.replace("'rows:'", "'lines:'"))
    edited = frozen_site.build()
    assert ran(edited) == 1 and "lines: 4" in shown(frozen_site)


def test_without_freeze_nothing_is_kept_in_the_site(site):
    site.settings('[tool.nbpress]\ntitle = "F"\nsearch = false\n')
    site.page("p/index.md", PAGE)
    site.file("content/p/data.csv", "a\n")
    report = site.build()
    assert report.ok and report.count(Outcome.BUILT) == 1
    assert not (site.root / "_freeze").exists()
