"""Site settings: finding [tool.nbpress], defaults, and errors that name every problem."""
from __future__ import annotations

import pytest

from pipeline.config import NavLink, load_config
from pipeline.errors import ConfigError


def settings_error(site, toml: str) -> ConfigError:
    site.settings(toml)
    with pytest.raises(ConfigError) as info:
        site.config()
    return info.value


def test_walking_up_from_a_nested_folder_finds_the_settings(site):
    site.settings('[tool.nbpress]\ntitle = "Mine"\n')
    nested = site.root / "content" / "blog" / "2024"
    nested.mkdir(parents=True)

    config = load_config(nested)

    assert config.root == site.root.resolve()
    assert config.title == "Mine"
    assert config.config_file == site.root.resolve() / "pyproject.toml"


def test_a_pyproject_without_tool_nbpress_is_skipped(site):
    site.settings('[tool.nbpress]\ntitle = "Outer"\n')
    site.file("content/blog/pyproject.toml", '[project]\nname = "x"\n\n[tool.black]\nline-length = 99\n')

    config = load_config(site.root / "content" / "blog")

    assert config.root == site.root.resolve()
    assert config.title == "Outer"


def test_the_nearest_settings_win(site):
    site.settings('[tool.nbpress]\ntitle = "Outer"\n')
    site.file("inner/pyproject.toml", '[tool.nbpress]\ntitle = "Inner"\n')

    config = load_config(site.root / "inner")

    assert config.root == (site.root / "inner").resolve()
    assert config.title == "Inner"


def test_no_settings_at_all_gives_defaults_rooted_at_the_folder_with_content(site):
    nested = site.root / "content" / "blog"
    nested.mkdir(parents=True)

    config = load_config(nested)

    assert config.root == site.root.resolve()
    assert config.config_file is None
    assert (config.title, config.kernel, config.timeout, config.language) == (
        "My site", "python3", 300, "en")
    assert config.nav is None and config.sections is None
    assert config.content == config.root / "content"
    assert config.output == config.root / "output"


def test_accepts_every_documented_key(site):
    site.settings('''
        [tool.nbpress]
        title = "Peter's notebook"
        description = "Notes"
        author = "Peter"
        base_url = "https://peter.example.org/"
        language = "fr"
        sections = ["experiences", "projects", "blog"]
        nav = [{ title = "Home", url = "/" }, { title = "Blog", url = "/blog/" }]
        content_dir = "pages"
        notebooks_dir = "nbs"
        output_dir = "public"
        kernel = "ir"
        timeout = 10
    ''')

    config = site.config()

    assert config.title == "Peter's notebook"
    assert config.sections == ("experiences", "projects", "blog")
    assert config.nav == (NavLink("Home", "/"), NavLink("Blog", "/blog/"))
    assert config.content == config.root / "pages"
    assert config.output == config.root / "public"
    assert (config.kernel, config.timeout, config.language) == ("ir", 10, "fr")


def test_an_unknown_key_is_named_with_the_close_known_one(site):
    error = settings_error(site, '[tool.nbpress]\ntitel = "Mine"\n')

    assert error.path == site.root / "pyproject.toml"
    assert "'titel'" in error.detail
    assert "did you mean 'title'?" in error.detail
    assert error.hint and "title" in error.hint


def test_several_problems_are_all_reported_at_once(site):
    error = settings_error(site, '''
        [tool.nbpress]
        titel = "Mine"
        timeout = "10"
        nav = [{ title = "Home" }]
        sections = "blog"
    ''')

    lines = error.detail.splitlines()
    assert len(lines) == 4
    assert "unknown key 'titel'" in lines[0]
    assert "timeout must be a whole number" in lines[1]
    assert "nav must be a list" in lines[2]
    assert "sections must be a list" in lines[3]
    assert error.path == site.root / "pyproject.toml"
    assert error.hint


@pytest.mark.parametrize("value", ['"10"', "true", "1.5", "[10]"])
def test_an_ill_typed_timeout_is_an_error(site, value):
    error = settings_error(site, f"[tool.nbpress]\ntimeout = {value}\n")

    assert "timeout must be a whole number of seconds" in error.detail
    assert error.path == site.root / "pyproject.toml"
    assert error.hint


@pytest.mark.parametrize("key", ["title", "base_url", "kernel", "output_dir"])
def test_a_string_setting_given_a_number_is_an_error(site, key):
    error = settings_error(site, f"[tool.nbpress]\n{key} = 3\n")

    assert f"{key} must be" in error.detail


@pytest.mark.parametrize("nav", [
    '{ title = "Home", url = "/" }',
    '["Home"]',
    '[{ title = "Home" }]',
    '[{ title = "Home", url = "/", icon = "h" }]',
    '[{ title = "Home", url = 1 }]',
])
def test_nav_must_be_a_list_of_title_url_tables(site, nav):
    error = settings_error(site, f"[tool.nbpress]\nnav = {nav}\n")

    assert "nav must be a list of" in error.detail
    assert error.path == site.root / "pyproject.toml"


@pytest.mark.parametrize("sections", ['"blog"', '["blog", 2]'])
def test_sections_must_be_a_list_of_names(site, sections):
    error = settings_error(site, f"[tool.nbpress]\nsections = {sections}\n")

    assert "sections must be a list of folder names" in error.detail


@pytest.mark.parametrize("output_dir", [".", "", "content", "content/out", "./content",
                                        "notebooks", "..", "../elsewhere", "/tmp/nbpress-out"])
def test_an_output_dir_that_is_not_its_own_folder_in_the_site_is_rejected(site, output_dir):
    error = settings_error(site, f'[tool.nbpress]\noutput_dir = "{output_dir}"\n')

    assert "output_dir" in error.message
    assert error.path == site.root / "pyproject.toml"
    assert error.hint


def test_a_content_dir_holding_the_output_is_rejected(site):
    error = settings_error(site, '[tool.nbpress]\ncontent_dir = "."\n')

    assert "overlaps content_dir" in error.message
    assert error.hint


def test_a_nested_output_dir_inside_the_site_is_accepted(site):
    site.settings('[tool.nbpress]\noutput_dir = "build/site"\n')

    assert site.config().output == site.root.resolve() / "build" / "site"


def test_invalid_toml_names_the_file_and_the_position(site):
    error = settings_error(site, '[tool.nbpress]\ntitle = "Mine\n')

    assert error.path == site.root / "pyproject.toml"
    assert "not valid TOML" in error.message
    assert "line 2" in error.message
    assert error.hint


def test_a_settings_file_that_is_not_utf8_names_the_file(site):
    site.file("pyproject.toml", b'[tool.nbpress]\ntitle = "Caf\xe9"\n')

    with pytest.raises(ConfigError) as info:
        site.config()

    assert info.value.path == site.root / "pyproject.toml"
    assert "UTF-8" in info.value.hint


def test_the_nearest_site_wins_over_an_enclosing_one(tmp_path):
    from pipeline.config import load_config

    outer = tmp_path / "outer"
    (outer / "content").mkdir(parents=True)
    (outer / "pyproject.toml").write_text('[tool.nbpress]\ntitle = "Outer"\n', encoding="utf-8")
    inner = outer / "work" / "inner"
    (inner / "content" / "blog").mkdir(parents=True)
    assert load_config(inner).root == inner
    assert load_config(inner / "content" / "blog").root == inner
    assert load_config(outer / "work").root == outer
