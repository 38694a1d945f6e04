"""A theme reads `x.name` as Jinja2 does (an attribute or dict method first, then a key), by
the quicker way for dicts: the same answer for every kind of value."""
from __future__ import annotations

import jinja2
import pytest

from pipeline.config import load_config
from pipeline.site.layout import Layout


@pytest.fixture
def env(site, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    site.settings('[tool.nbpress]\ntitle = "S"\n')
    return Layout(load_config(site.root)).env


class Keyed(dict):
    title = "an attribute"


class Thing:
    title = "a thing"

    def __getitem__(self, key):
        return f"item {key}"


@pytest.mark.parametrize("source, value, shown", [
    ("{{ x.title }}", {"title": "T <b>"}, "T &lt;b&gt;"),
    ("{{ x['title'] }}", {"title": "T"}, "T"),
    ("{{ x.items()|list|length }}", {"items": 1, "b": 2}, "2"),      # the method, as Jinja2
    ("{{ x.keys is callable }}", {"keys": "k"}, "True"),
    ("{{ x.title }}", Keyed(title="key"), "an attribute"),        # a subclass: as Jinja2
    ("{{ x.title }}", Thing(), "a thing"),
    ("{{ x.other }}", Thing(), "item other"),
    ("{{ x.title is defined }}", {}, "False"),
    ("{{ x.__class__.__name__ }}", {}, "dict"),
])
def test_a_lookup_is_answered_as_jinja2_answers_it(env, source, value, shown):
    assert env.from_string(source).render(x=value) == shown
    assert jinja2.Environment(autoescape=True).from_string(source).render(x=value) == shown


def test_a_missing_key_is_an_error_naming_it(env):
    with pytest.raises(jinja2.UndefinedError, match="has no attribute 'nope'"):
        env.from_string("{{ x.nope }}").render(x={"title": "T"})
