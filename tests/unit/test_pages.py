"""Reading a page: decoding, frontmatter, validated fields, and errors with file and line."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from pipeline.errors import PageError
from pipeline.model import Source
from pipeline.sources.frontmatter import read_source
from tests.conftest import SEED


def source(site, rel: str) -> Source:
    return Source(site.root / "content" / rel, rel.rsplit(".", 1)[0], "md")


def read(site, rel: str, text: str):
    site.page(rel, text)
    return read_source(source(site, rel))


def read_bytes(site, rel: str, data: bytes):
    site.file(f"content/{rel}", data)
    return read_source(source(site, rel))


def page_error(site, text: str, rel: str = "page.md") -> PageError:
    site.page(rel, text)
    with pytest.raises(PageError) as info:
        read_source(source(site, rel))
    assert info.value.path == site.root / "content" / rel
    assert info.value.hint
    return info.value


# --- the seed page -------------------------------------------------------------------------

@pytest.fixture
def seed(site):
    target = site.root / "content" / "experiences" / "aws.md"
    target.parent.mkdir(parents=True)
    shutil.copyfile(SEED, target)
    return read_source(source(site, "experiences/aws.md"))


def test_seed_page_reads_its_title_slug_and_draft(seed):
    assert seed.title == "Amazon Web Services"
    assert seed.slug == "aws"
    assert seed.url == "/aws/"
    assert seed.draft is False


def test_seed_page_quoted_dates_become_dates(seed):
    assert seed.created == dt.date(2024, 2, 24)
    assert seed.edited == dt.date(2024, 8, 18)
    assert seed.sort_date == dt.date(2024, 2, 24)


def test_seed_page_meta_is_kept_exactly_as_written(seed):
    assert seed.meta == {"created": "2024-02-24", "edited": "2024-08-18",
                         "title": "Amazon Web Services", "slug": "/aws", "draft": False}
    assert seed.meta["slug"] == "/aws"
    assert seed.section == "experiences"


def test_seed_page_text_is_the_whole_file(seed):
    assert seed.text == SEED.read_text(encoding="utf-8")


# --- dates ---------------------------------------------------------------------------------

def test_unquoted_yaml_dates_are_accepted(site):
    page = read(site, "p.md", """
        ---
        title: T
        created: 2024-02-24
        date: 2024-06-20 09:30:00
        ---
    """)

    assert page.created == dt.date(2024, 2, 24)
    assert page.date == dt.datetime(2024, 6, 20, 9, 30)


def test_a_quoted_date_with_a_time_is_a_datetime(site):
    page = read(site, "p.md", '---\ntitle: T\nedited: "2024-02-24T09:30:00"\n---\n')

    assert page.edited == dt.datetime(2024, 2, 24, 9, 30)


def test_a_date_that_is_not_a_date_is_an_error_at_its_line(site):
    error = page_error(site, '---\ntitle: T\nabstract: A\ndate: "not a date"\n---\n')

    assert error.line == 4
    assert "'date'" in error.message
    assert "2024-02-24" in error.hint


def test_a_number_is_not_a_date(site):
    error = page_error(site, "---\ntitle: T\ncreated: 2024\n---\n")

    assert error.line == 3


def test_an_impossible_unquoted_date_is_a_page_error(site):
    error = page_error(site, "---\ntitle: T\ncreated: 2024-13-01\n---\n")

    assert error.line == 3


# --- YAML and encoding ---------------------------------------------------------------------

BAD_YAML = """\
---
title: T
draft: false
abstract: a: b
---

Body.
"""


def test_invalid_yaml_is_a_page_error_naming_the_file(site):
    error = page_error(site, BAD_YAML)

    assert "invalid YAML" in error.message
    assert error.line is not None


@pytest.mark.parametrize("text, bad_line", [
    (BAD_YAML, 4),                                            # abstract: a: b
    ("---\ntitle: T\n  draft: false\n---\n", 3),              # indented key
    ("---\ntitle: T\ndraft: false\ntags: [a, b}\n---\n", 4),  # bad flow sequence
    ("---\ntitle: T\ntags: [a, b\ndraft: false\n---\n", 3),  # unclosed [
    ('---\ntitle: "T\ndraft: false\n---\n', 2),             # unclosed quote
])
def test_invalid_yaml_names_the_line_of_the_bad_line_in_the_file(site, text, bad_line):
    assert page_error(site, text).line == bad_line


def test_a_frontmatter_that_is_not_a_mapping_is_an_error(site):
    error = page_error(site, "---\n- title\n- draft\n---\n\nBody.\n")

    assert error.line == 2


def test_a_non_utf8_file_names_the_line_of_the_bad_byte(site):
    site.file("content/latin.md", b"---\ntitle: T\n---\ncaf\xe9\n")

    with pytest.raises(PageError) as info:
        read_source(source(site, "latin.md"))

    assert info.value.path == site.root / "content" / "latin.md"
    assert info.value.line == 4
    assert "UTF-8" in info.value.hint


def test_a_utf8_bom_is_accepted_and_dropped(site):
    page = read_bytes(site, "bom.md", "\ufeff---\ntitle: Café\n---\n\nBody.\n".encode("utf-8"))

    assert page.title == "Café"
    assert not page.text.startswith("\ufeff")


# --- ill-typed and misspelt fields ---------------------------------------------------------

def test_a_quoted_draft_is_an_error_at_the_draft_line(site):
    error = page_error(site, '---\ntitle: T\nslug: /t\ndraft: "yes"\n---\n')

    assert error.line == 4
    assert "'draft'" in error.message
    assert "true" in error.hint and "false" in error.hint


def test_yaml_boolean_words_are_booleans(site):
    assert read(site, "p.md", "---\ntitle: T\ndraft: yes\n---\n").draft is True


def test_a_title_that_is_a_list_is_an_error(site):
    error = page_error(site, "---\ndraft: false\ntitle: [a, b]\n---\n")

    assert error.line == 3
    assert "'title'" in error.message


def test_a_numeric_title_is_text(site):
    assert read(site, "p.md", "---\ntitle: 2024\n---\n").title == "2024"


@pytest.mark.parametrize("key, right", [("darft", "draft"), ("tittle", "title"),
                                         ("featuredimage", "featuredImage"), ("slugs", "slug")])
def test_a_near_miss_key_is_an_error_that_suggests_the_right_one(site, key, right):
    error = page_error(site, f"---\ntitle: T\n{key}: x\n---\n")

    assert error.line == 3
    assert f"did you mean {right!r}" in error.message
    assert right in error.hint


@pytest.mark.parametrize("key, value, expected", [
    ("tags", "[aws, career]", ["aws", "career"]),
    ("category", "work", "work"),
    ("socialImage", "../images/card.png", "../images/card.png"),
    ("jupyter", "{kernelspec: {name: python3}}", {"kernelspec": {"name": "python3"}}),
])
def test_an_unrelated_custom_key_is_kept_untouched(site, key, value, expected):
    page = read(site, "p.md", f"---\ntitle: T\n{key}: {value}\n---\n")

    assert page.meta[key] == expected


def test_meta_keeps_unquoted_dates_as_yaml_gave_them(site):
    page = read(site, "p.md", "---\ntitle: T\ncreated: 2024-02-24\nupdated: 2024-03-01\n---\n")

    assert page.meta["created"] == dt.date(2024, 2, 24)
    assert page.meta["updated"] == dt.date(2024, 3, 1)


# --- slugs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["../../etc", "a/../../b", "./x", "..", "a\\..\\b"])
def test_a_slug_that_would_leave_the_output_folder_is_rejected(site, slug):
    error = page_error(site, f'---\ntitle: T\nslug: "{slug}"\n---\n'.replace("\\", "\\\\"))

    assert error.line == 3
    assert "would leave the output folder" in error.message


@pytest.mark.parametrize("slug, expected", [("/aws", "aws"), ("/projects/x/", "projects/x"),
                                            ("/", ""), ("blog//post", "blog/post")])
def test_a_slug_is_a_clean_path_without_outer_slashes(site, slug, expected):
    assert read(site, "p.md", f"---\ntitle: T\nslug: {slug}\n---\n").slug == expected


def test_a_slug_that_is_not_text_is_an_error(site):
    error = page_error(site, "---\ntitle: T\nslug: [a]\n---\n")

    assert error.line == 3


@pytest.mark.parametrize("rel, expected", [
    ("blog/My Post.md", "blog/my-post"),
    ("blog/index.md", "blog"),
    ("index.md", ""),
    ("projects/README.md", "projects"),
    ("About.md", "about"),
])
def test_without_a_slug_the_slug_comes_from_the_path(site, rel, expected):
    assert read(site, rel, "---\ntitle: T\n---\n").slug == expected


# --- params --------------------------------------------------------------------------------

def test_params_are_kept_with_dates_as_iso_strings(site):
    page = read(site, "p.md", """
        ---
        title: T
        params:
          top_n: 4
          since: 2024-01-02
          at: 2024-01-02 10:30:00
          days: [2024-01-03]
          nested: {when: 2024-01-04}
        ---
    """)

    assert page.params == {"top_n": 4, "since": "2024-01-02", "at": "2024-01-02T10:30:00",
                           "days": ["2024-01-03"], "nested": {"when": "2024-01-04"}}


@pytest.mark.parametrize("params", ["[1, 2]", "5", "text"])
def test_params_must_be_a_mapping(site, params):
    error = page_error(site, f"---\ntitle: T\nparams: {params}\n---\n")

    assert error.line == 3
    assert "mapping" in error.message


@pytest.mark.parametrize("name", ["top-n", "2nd", "'a b'"])
def test_params_names_must_be_identifiers(site, name):
    error = page_error(site, f"---\ntitle: T\nparams:\n  ok: 1\n  {name}: 2\n---\n")

    assert error.line == 3
    assert "Python names" in error.message


def test_empty_params_are_no_params(site):
    assert read(site, "p.md", "---\ntitle: T\nparams:\n---\n").params == {}


# --- titles and pages without frontmatter --------------------------------------------------

def test_without_a_title_the_first_heading_is_the_title(site):
    page = read(site, "p.md", "---\ndraft: false\n---\n\nIntro.\n\n## Sub\n\n# The Heading\n")

    assert page.title == "The Heading"


def test_without_a_title_or_heading_the_file_name_is_the_title(site):
    page = read(site, "blog/kernel_pools-2024.md", "---\ndraft: false\n---\n\nNo heading.\n")

    assert page.title == "Kernel pools 2024"


def test_a_file_without_frontmatter_is_a_page(site):
    page = read(site, "notes/plain.md", "# Plain notes\n\nJust text.\n")

    assert page.meta == {}
    assert page.title == "Plain notes"
    assert page.slug == "notes/plain"
    assert page.draft is False
    assert page.body_line == 1


def test_the_body_starts_after_the_closing_dashes(site):
    assert read(site, "p.md", "---\ntitle: T\ndraft: false\n---\nBody.\n").body_line == 5
