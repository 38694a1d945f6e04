"""The bytecode cache of the templates that come installed: nbpress's theme is compiled once a
machine (in the user's cache folder), a site's own templates never go there, and an edited
template is compiled again."""
from __future__ import annotations

import os

import jinja2
import pytest

from pipeline.config import load_config
from pipeline.render.templates import installed_templates_cache
from pipeline.site.layout import THEME, Layout


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "nbpress" / "templates"


def layout_of(site):
    site.settings('[tool.nbpress]\ntitle = "S"\n')
    return Layout(load_config(site.root))


def test_the_theme_is_compiled_once_and_read_back(site, cache_home):
    layout_of(site).warm()
    kept = sorted(p.name for p in cache_home.iterdir())
    assert len(kept) >= 9                           # every template of ours, and its parts
    fresh = installed_templates_cache(lambda p: p.parent == THEME)
    env = jinja2.Environment()
    source = (THEME / "page.html.j2").read_text(encoding="utf-8")
    bucket = fresh.get_bucket(env, "page.html.j2", str(THEME / "page.html.j2"), source)
    assert bucket.code is not None                  # read back: not compiled again
    edited = fresh.get_bucket(env, "page.html.j2", str(THEME / "page.html.j2"), source + " ")
    assert edited.code is None                      # its source changed: compiled again


def test_a_sites_own_template_never_goes_to_the_cache(site, cache_home):
    layout = layout_of(site)
    (site.root / "theme").mkdir()
    base = (THEME / "base.html.j2").read_text(encoding="utf-8")
    (site.root / "theme" / "base.html.j2").write_text(base.replace("<body>", "<body>MINE"))
    layout.warm()
    before = set(cache_home.iterdir())
    layout_of(site).warm()
    assert set(cache_home.iterdir()) == before
    names = {layout.env.bytecode_cache.get_cache_key("base.html.j2", str(site.root / "theme"
                                                                            / "base.html.j2"))}
    assert not {p.name.removesuffix(".cache").removeprefix("__jinja2_") for p in before} & names


def test_no_cache_folder_to_be_made_is_no_cache_and_the_build_goes_on(site, tmp_path,
                                                                     monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert installed_templates_cache(lambda p: True) is None
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
    assert (site.root / "output" / "a" / "index.html").is_file()


def test_a_relative_cache_home_is_ignored(monkeypatch, tmp_path):
    from pipeline.render.templates import cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_folder() == tmp_path / ".cache" / "nbpress"
    assert os.path.isabs(cache_folder())


def test_a_damaged_entry_is_compiled_again(site, cache_home):
    layout_of(site).warm()
    from jinja2.bccache import bc_magic

    for entry in cache_home.iterdir():          # the header kept, what follows cut off
        entry.write_bytes(entry.read_bytes()[:len(bc_magic) + 1])
    layout_of(site).warm()                      # read as missing, compiled again
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    assert site.build().ok
