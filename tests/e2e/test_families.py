"""Page families through whole builds: one page per combination, run by papermill with its
values, cached and kept on its own, and a listing at the family's base URL."""
from __future__ import annotations

import json

from pipeline.model import Outcome
from tests.integration.test_export_fixes import text, tree

FAMILY = """\
    ---
    title: "Alerts: {team}"
    slug: /alerts/{team}-{window}d
    abstract: One team's alerts.
    tags: [ops]
    matrix:
      team: [checkout, search]
      window: [7, 30]
    exclude:
      - {team: search, window: 7}
    ---

    Intro.

    ```python tags=["parameters"]
    team = "all"
    window = 14
    ```

    ```python
    print(f"team {team} over {window} days")
    ```

    ```python
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar([1, 2], [window, 3])
    plt.show()
    ```
    """


def members(report):
    return sorted(r.source.variant for r in report.results if r.source.variant)


def test_a_family_writes_one_page_per_combination_and_its_listing(site):
    site.page("projects/dash.md", FAMILY)
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    assert members(report) == ["team=checkout,window=30", "team=checkout,window=7",
                               "team=search,window=30"]
    out = site.root / "output"
    for slug, shown in [("checkout-7d", "team checkout over 7 days"),
                        ("checkout-30d", "team checkout over 30 days"),
                        ("search-30d", "team search over 30 days")]:
        html = (out / "alerts" / slug / "index.html").read_text(encoding="utf-8")
        assert shown in html
    assert not (out / "alerts" / "search-7d").exists()          # excluded
    page = tree((out / "alerts" / "checkout-7d" / "index.html").read_text(encoding="utf-8"))
    assert text(page.find(".//title")) == "Alerts: checkout | My site"
    listing = tree((out / "alerts" / "index.html").read_text(encoding="utf-8"))
    assert text(listing.find(".//h1")) == "Alerts"
    assert [text(th) for th in listing.iter("th")] == ["team", "window", "Page", "Figure"]
    rows = [[text(td).strip() for td in tr.findall("td")] for tr in listing.iter("tr")][1:]
    assert rows == [["checkout", "7", "Alerts: checkout", ""],
                    ["checkout", "30", "Alerts: checkout", ""], ["search", "30", "Alerts: search", ""]]
    thumbs = [img.get("src") for img in listing.iter("img")]
    assert thumbs and all((out / "alerts" / src).is_file() for src in thumbs)   # first figures
    links = [a.get("href") for a in listing.iter("a") if a.get("href", "").endswith("d/")]
    assert "checkout-7d/" in links and "search-30d/" in links


def test_members_are_pages_of_the_site_listings_tags_sitemap(site):
    site.settings('[tool.nbpress]\nbase_url = "https://example.org/"\n')
    site.page("projects/dash.md", FAMILY)
    site.page("about.md", "---\ntitle: About\n---\nSee [the alerts](projects/dash.md).\n")
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    out = site.root / "output"
    section = (out / "projects" / "index.html").read_text(encoding="utf-8")
    assert section.count("Alerts: checkout") == 2 and "Alerts: search" in section
    assert "Alerts: search" in (out / "tags" / "ops" / "index.html").read_text(encoding="utf-8")
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "https://example.org/alerts/" in sitemap and "alerts/search-30d/" in sitemap
    about = tree((out / "about" / "index.html").read_text(encoding="utf-8"))
    assert [a.get("href") for a in about.iter("a") if text(a) == "the alerts"] == ["../alerts/"]
    assert not [w for w in report.warnings() if "about.md" in w]
    again = site.build()
    assert again.count(Outcome.BUILT) == 0 and again.count(Outcome.UNCHANGED) == 4


def test_a_member_that_fails_fails_alone_and_keeps_its_last_good_version(site):
    path = site.page("projects/dash.md", FAMILY)
    assert site.build().ok
    path.write_text(path.read_text(encoding="utf-8").replace(
        'print(f"team', 'assert team != "search", "no data"\nprint(f"team'), encoding="utf-8")
    report = site.build()
    (failed,) = report.failed
    assert failed.source.variant == "team=search,window=30" and failed.kept_previous
    assert "team='search', window=30" in failed.error.message and "no data" in failed.error.detail
    assert failed.error.path == path
    out = site.root / "output"
    assert "team search over 30 days" in (out / "alerts/search-30d/index.html").read_text(encoding="utf-8")
    assert report.count(Outcome.BUILT) == 2


def test_a_new_value_builds_its_member_alone_and_a_dropped_one_goes(site):
    path = site.page("projects/dash.md", FAMILY)
    assert site.build().ok
    path.write_text(path.read_text(encoding="utf-8").replace("[checkout, search]",
                                                             "[checkout, search, auth]"),
                    encoding="utf-8")
    report = site.build()
    assert report.ok
    ran = sorted(r.source.variant for r in report.results if r.executed)
    assert ran == ["team=auth,window=30", "team=auth,window=7"]
    out = site.root / "output"
    assert (out / "alerts" / "auth-7d" / "index.html").is_file()
    assert "auth" in (out / "alerts" / "index.html").read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace("[checkout, search, auth]",
                                                             "[checkout, auth]"), encoding="utf-8")
    report = site.build()
    assert report.ok and not [r for r in report.results if r.executed]
    assert not (out / "alerts" / "search-30d").exists()
    assert "Alerts: search" not in (out / "alerts" / "index.html").read_text(encoding="utf-8")


def test_matrix_from_a_file_a_new_row_is_a_new_page_on_the_next_build(site):
    rows = site.file("content/data/teams.csv", "team,window\ncheckout,7\n")
    site.page("dash.md", FAMILY.replace("""    matrix:
      team: [checkout, search]
      window: [7, 30]
    exclude:
      - {team: search, window: 7}
""", "    matrix_from: data/teams.csv\n"))
    assert members(site.build()) == ["team=checkout,window=7"]
    assert site.build().count(Outcome.BUILT) == 0               # nothing changed: fast
    rows.write_text("team,window\ncheckout,7\nsearch,30\n", encoding="utf-8")
    report = site.build()
    assert members(report) == ["team=checkout,window=7", "team=search,window=30"]
    assert "team search over 30 days" in (
        site.root / "output/alerts/search-30d/index.html").read_text(encoding="utf-8")


def test_hostile_values_are_escaped_where_they_land(site):
    evil = '<img src=x onerror=alert(1)> "q" & </script>'
    site.page("dash.md", f"""\
        ---
        title: "T {{team}}"
        slug: /t/{{team}}
        matrix:
          team: [{json.dumps(evil)}, plain]
        ---
        ```python tags=["parameters"]
        team = ""
        ```

        ```python
        print(len(team))
        ```
        """)
    report = site.build()
    assert report.ok, [str(r.error) for r in report.failed]
    out = site.root / "output"
    listing = tree((out / "t" / "index.html").read_text(encoding="utf-8"))
    cells = [text(td).strip() for td in listing.iter("td")]
    assert evil in cells and f"T {evil}" in cells
    assert not [i for i in listing.iter("img") if i.get("onerror")]
    (slug,) = [p.parent.name for p in (out / "t").glob("*/index.html") if p.parent.name != "plain"]
    page = tree((out / "t" / slug / "index.html").read_text(encoding="utf-8"))
    assert text(page.find(".//title")).startswith(f"T {evil}")
    data = json.loads(text(page.find(".//script[@id='nbpress-page']")))
    assert data["frontmatter"]["params"]["team"] == evil


def test_a_family_that_cannot_be_made_fails_with_its_line_and_the_rest_builds(site):
    site.page("dash.md", "---\ntitle: T\nmatrix: {team: []}\n---\n```python\nprint(1)\n```\n")
    site.page("ok.md", "---\ntitle: OK\n---\nFine.\n")
    report = site.build()
    (failed,) = report.failed
    assert failed.error.line == 3 and "must be a list of values" in failed.error.message
    assert (site.root / "output" / "ok" / "index.html").is_file()


def test_a_draft_family_publishes_no_member_and_no_listing(site):
    site.page("dash.md", FAMILY.replace("tags: [ops]", "tags: [ops]\n    draft: true"))
    site.page("ok.md", "---\ntitle: OK\n---\nFine.\n")
    report = site.build()
    assert report.ok and report.count(Outcome.SKIPPED) == 3
    assert not (site.root / "output" / "alerts").exists()


def test_in_jupyter_a_family_is_one_notebook_that_runs_its_defaults(site, tmp_path):
    """nbpress sync pairs the family's page with one notebook; run as it is (as Jupyter
    would), its parameters cell's defaults hold; the build still makes every member."""
    import papermill

    from pipeline.author.sync import sync_site

    page = site.page("dash.md", FAMILY)
    outcomes = sync_site(site.config())
    assert [o.ok for o in outcomes] == [True]
    (notebook,) = (site.root / "notebooks").glob("*.ipynb")
    ran = papermill.execute_notebook(str(notebook), str(tmp_path / "ran.ipynb"),
                                     kernel_name="python3", progress_bar=False)
    shown = "".join(o.get("text", "") for c in ran.cells for o in c.get("outputs", []))
    assert "team all over 14 days" in shown
    assert "window: [7, 30]" in notebook.read_text(encoding="utf-8")     # the family kept
    report = site.build()
    assert report.ok and len(members(report)) == 3
    assert page.read_text(encoding="utf-8") == __import__("textwrap").dedent(FAMILY)
