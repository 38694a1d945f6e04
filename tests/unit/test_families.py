"""sources/families.py: a page with `matrix:` or `matrix_from:` is one page per combination."""
from __future__ import annotations

import textwrap

import pytest

from pipeline.errors import PageError
from pipeline.model import Family, Source
from pipeline.sources.families import is_family, members, shown_family
from pipeline.sources.frontmatter import make_page, parse_frontmatter


def family(tmp_path, front: str, rel: str = "projects/dash"):
    text = "---\n" + textwrap.dedent(front).strip("\n") + "\n---\n```python\nprint(1)\n```\n"
    path = tmp_path / "content" / f"{rel}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    meta, line = parse_frontmatter(text, path)
    return make_page(Source(path, rel, "md"), text, line, meta)


def test_one_member_per_combination_in_the_order_written(tmp_path):
    page = family(tmp_path, """
        title: "Alerts: {team}"
        slug: /alerts/{team}-{window}d
        params: {top_n: 3}
        matrix: {team: [checkout, search], window: [7, 30]}
        """)
    assert is_family(page.meta)
    made = members(page)
    assert [m.slug for m in made] == ["alerts/checkout-7d", "alerts/checkout-30d",
                                      "alerts/search-7d", "alerts/search-30d"]
    assert [m.title for m in made] == ["Alerts: checkout"] * 2 + ["Alerts: search"] * 2
    assert made[1].params == {"top_n": 3, "team": "checkout", "window": 30}
    assert made[1].variant == made[1].source.variant == "team=checkout,window=30"
    assert {m.source.path for m in made} == {page.source.path}
    assert made[3].family == Family("alerts", "Alerts", 3, (("team", "search"), ("window", 30)))
    assert shown_family(made[3]) == ("/alerts/", "Alerts", 3, (("team", "search"), ("window", "30")))
    assert "matrix" not in made[0].meta and made[0].meta["title"] == "Alerts: checkout"


def test_exclude_drops_the_combinations_it_matches(tmp_path):
    page = family(tmp_path, """
        title: "T {team} {window}"
        slug: /t/{team}/{window}
        matrix: {team: [a, b], window: [7, 30]}
        exclude:
          - {team: b, window: 7}
          - {window: 30, team: a}
        """)
    assert [m.slug for m in members(page)] == ["t/a/7", "t/b/30"]


def test_without_templates_members_go_under_the_page_with_their_values(tmp_path):
    page = family(tmp_path, """
        title: Report
        matrix: {region: [EU West, us], year: [2024]}
        """)
    made = members(page)
    assert [m.slug for m in made] == ["projects/dash/eu-west-2024", "projects/dash/us-2024"]
    assert [m.title for m in made] == ["Report: EU West, 2024", "Report: us, 2024"]
    assert (made[0].family.base, made[0].family.title) == ("projects/dash", "Report")


def test_matrix_from_a_csv_file_one_member_per_row_numbers_read_as_numbers(tmp_path):
    (tmp_path / "content" / "projects" / "data").mkdir(parents=True)
    (tmp_path / "content" / "projects" / "data" / "teams.csv").write_text(
        "team,window,ratio\ncheckout,7,0.5\nsearch,30,x\n", encoding="utf-8")
    page = family(tmp_path, """
        title: "{team}"
        slug: /teams/{team}
        matrix_from: data/teams.csv
        matrix: {kind: [page]}
        """)
    made = members(page)
    assert [m.params for m in made] == [{"team": "checkout", "window": 7, "ratio": 0.5, "kind": "page"},
                                        {"team": "search", "window": 30, "ratio": "x", "kind": "page"}]


def test_matrix_from_a_json_list_of_objects(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "teams.json").write_text('[{"team": "a"}, {"team": "b"}]')
    page = family(tmp_path, "title: '{team}'\nslug: /t/{team}\nmatrix_from: teams.json", rel="x")
    assert [m.slug for m in members(page)] == ["t/a", "t/b"]


def test_values_that_leave_the_url_path_are_made_safe(tmp_path):
    page = family(tmp_path, """
        title: "Team {team}"
        slug: /t/{team}
        matrix: {team: ["../../etc", "a/b", "<script>"]}
        """)
    made = members(page)
    assert [m.slug for m in made] == ["t/..-..-etc", "t/a-b", "t/script"]
    assert made[2].title == "Team <script>"       # escaped where it lands, not here
    assert len({m.variant for m in made}) == 3 and all("/" not in m.variant for m in made)


BAD = [
    ("matrix: [1, 2]", 3, "must be a mapping"),
    ("matrix: {team: []}", 3, "must be a list of values"),
    ("matrix: {1team: [a]}", 3, "is not a Python name"),
    ("matrix: {team: [a, a]}", 3, "repeats a value"),
    ("matrix: {team: [{x: 1}]}", 3, "values are text, numbers or true/false"),
    ("matrix_from: nothere.csv", 3, "cannot read"),
    ("matrix: {team: [a, b]}\nslug: /x/{nope}", 4, "names {nope}, which is not a parameter"),
    ("matrix: {team: [a, b], w: [1, 2]}\nslug: /x/{team}", 4, "both get the slug 'x/a'"),
    ("matrix: {team: [a]}\nexclude: [{team: a}]", 4, "drops every member"),
    ("matrix: {team: [a]}\nexclude: [{tam: a}]", 4, "names 'tam', which is not a parameter"),
    ("matrix: {team: [a]}\nexclude: a", 4, "must be a list of mappings"),
    ("matrix: {team: ['A b', 'a-b']}", 3, "both get the slug"),
    ("matrix: {team: [a]}\nslug: '/x/{team!r}'", 4, "only plain names"),
    ("matrix: {team: [a]}\nslug: '/x/{team'", 4, "cannot be read"),
    ("matrix: {team: [a]}\naliases: [/old/]", 4, "cannot have aliases"),
]


@pytest.mark.parametrize("front, line, said", BAD, ids=[b[2] for b in BAD])
def test_a_family_that_cannot_be_made_names_the_file_line_and_fix(tmp_path, front, line, said):
    page = family(tmp_path, "title: Fam\n" + front)
    with pytest.raises(PageError) as caught:
        members(page)
    assert said in caught.value.message and caught.value.line == line
    assert caught.value.path == page.source.path and caught.value.hint


def test_the_fix_for_a_slug_that_leaves_out_a_name_keeps_the_family_s_folder(tmp_path):
    page = family(tmp_path, "title: Fam\nmatrix: {team: [a, b], w: [1, 2]}\nslug: /alerts/{team}")
    with pytest.raises(PageError) as caught:
        members(page)
    assert caught.value.hint.endswith("slug: /alerts/{team}/{w}")


def test_a_value_of_dots_is_a_url_safe_member_not_a_folder_s_parent(tmp_path):
    made = members(family(tmp_path, 'title: "T {team}"\nslug: /x/{team}\nmatrix:\n'
                                    '  team: [a, "..", "v1.2"]'))
    assert [m.slug for m in made] == ["x/a", "x/-", "x/v1.2"]
    assert made[1].title == "T .."
