"""Scheduled publishing: `publish:` keeps a page out of every surface until its time,
`expires:` takes it out at its time, in the site's time zone; `--now` builds as if it were
then; `nbpress status` says what comes next; a build with nothing to do notices the clock."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import ConfigError, PageError
from pipeline.model import Outcome

PARIS = dt.timezone(dt.timedelta(hours=1))          # Europe/Paris in December


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(path: Path) -> list[str]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.hrefs


def searchable(out: Path) -> str:
    """The text of every page the search index holds."""
    return " ".join(gzip.decompress(p.read_bytes()).decode() for p in
                    (out / "pagefind" / "fragment").glob("*.pf_fragment"))


def surfaces(out: Path) -> dict[str, bool]:
    """Where the post scheduled in `blog_site` shows."""
    return {
        "page": (out / "blog" / "future" / "index.html").is_file(),
        "listing": any("future" in h for h in links(out / "blog" / "index.html")),
        "home": any("future" in h for h in links(out / "index.html")),
        "feed": "/blog/future/" in (out / "feed.xml").read_text(),
        "section feed": "/blog/future/" in (out / "blog" / "rss.xml").read_text(),
        "tag": (out / "tags" / "xmas" / "index.html").is_file(),
        "sitemap": "/blog/future/" in (out / "sitemap.xml").read_text(),
        "search": "Future post" in searchable(out),
        "alias": (out / "old-future" / "index.html").is_file(),
    }


@pytest.fixture
def blog_site(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\n'
                  'timezone = "Europe/Paris"\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    site.page("blog/old.md", '---\ntitle: Old post\ndate: "2026-01-01"\n---\n\nOld.\n')
    site.page("blog/future.md", '---\ntitle: Future post\ndate: "2026-12-24"\n'
                                'publish: "2026-12-24T09:00"\ntags: [xmas]\n'
                                'aliases: ["/old-future/"]\n---\n\nMerry.\n')
    return site


def test_a_page_shows_on_every_surface_from_its_publish_time_and_not_before(blog_site):
    out = blog_site.root / "output"
    before = blog_site.build(now=dt.datetime(2026, 12, 24, 8, 59, tzinfo=PARIS))
    assert before.ok and before.skipped_why() == {"scheduled": 1}
    assert not any(surfaces(out).values()), surfaces(out)

    at = blog_site.build(now=dt.datetime(2026, 12, 24, 9, 0, tzinfo=PARIS))
    assert at.ok and at.count(Outcome.SKIPPED) == 0
    assert all(surfaces(out).values()), surfaces(out)

    back = blog_site.build(now=dt.datetime(2026, 12, 24, 7, 59, tzinfo=dt.timezone.utc))
    assert back.ok and not any(surfaces(out).values()), surfaces(out)   # 08:59 in Paris


def test_a_page_leaves_every_surface_at_its_expiry_time(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nbase_url = "https://ex.org/"\nsearch = false\n')
    site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nA.\n')
    site.page("blog/sale.md", '---\ntitle: Sale\ndate: "2026-01-02"\nexpiryDate: 2026-12-10\n'
                              '---\n\nBuy.\n')          # Hugo's name, a date: UTC midnight
    out = site.root / "output"
    assert site.build(now=dt.datetime(2026, 12, 9, 23, 59, tzinfo=dt.timezone.utc)).ok
    assert (out / "blog" / "sale" / "index.html").is_file()
    assert any("sale" in h for h in links(out / "blog" / "index.html"))

    report = site.build(now=dt.datetime(2026, 12, 10, tzinfo=dt.timezone.utc))
    assert report.ok and report.skipped_why() == {"expired": 1}
    assert not (out / "blog" / "sale").exists()
    assert not any("sale" in h for h in links(out / "blog" / "index.html"))
    assert "/blog/sale/" not in (out / "sitemap.xml").read_text()
    assert "/blog/sale/" not in (out / "feed.xml").read_text()


def test_a_build_with_nothing_to_do_sees_the_clock_pass_a_publish_time(blog_site):
    out = blog_site.root / "output"
    early = dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc)
    assert blog_site.build(now=early).ok
    again = blog_site.build(now=early + dt.timedelta(days=1))     # no page comes or goes
    assert again.count(Outcome.BUILT) == 0 and again.count(Outcome.UNCHANGED) == 2
    assert again.skipped_why() == {"scheduled": 1}                 # the fast path says why too
    late = blog_site.build(now=dt.datetime(2026, 12, 25, tzinfo=dt.timezone.utc))
    assert late.count(Outcome.BUILT) >= 1 and (out / "blog" / "future" / "index.html").is_file()


def test_a_time_with_an_offset_is_that_moment_whatever_the_sites_zone(site):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\ntimezone = "Asia/Tokyo"\n')
    site.page("a.md", "---\ntitle: A\npublish: 2026-12-24T09:00:00+00:00\n---\n\nA.\n")
    site.page("b.md", '---\ntitle: B\npublish: "2026-12-24T09:00"\n---\n\nB.\n')   # Tokyo
    report = site.build(now=dt.datetime(2026, 12, 24, 8, 0, tzinfo=dt.timezone.utc))
    shown = {r.source.rel for r in report.results if r.outcome is Outcome.BUILT}
    assert shown == {"b"}                       # 09:00 Tokyo is 00:00 UTC: past; a is not


def test_drafts_publishes_pages_scheduled_for_later_and_expired_ones(blog_site):
    report = blog_site.build(drafts=True, now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert report.ok and report.count(Outcome.SKIPPED) == 0
    assert (blog_site.root / "output" / "blog" / "future" / "index.html").is_file()


def test_status_and_build_with_now_from_the_command_line(blog_site):
    runner = CliRunner()
    status = runner.invoke(main, ["status", "--site", str(blog_site.root), "--now", "2026-12-20"])
    assert status.exit_code == 0, status.output
    assert "scheduled for 2026-12-24 09:00 CET" in status.output
    assert "2026-12-24 09:00 CET  content/blog/future.md publishes" in status.output
    built = runner.invoke(main, ["build", "-q", "--site", str(blog_site.root),
                                 "--now", "2026-12-24T09:00"])
    assert built.exit_code == 0, built.output
    assert "0 skipped" in built.output
    bad = runner.invoke(main, ["build", "--site", str(blog_site.root), "--now", "tomorrow"])
    assert bad.exit_code == 2 and "2026-12-24T09:00+01:00" in bad.output


def test_a_publish_time_that_is_no_date_names_its_line(site):
    site.page("a.md", "---\ntitle: A\n\npublish: next week\n---\n\nA.\n")
    (failed,) = site.build().failed
    assert isinstance(failed.error, PageError) and failed.error.line == 4
    assert "publish" in failed.error.message


def test_a_page_that_expires_before_it_is_published_is_refused(site):
    site.page("a.md", "---\ntitle: A\npublish: 2026-12-24\nexpires: 2026-12-01\n---\n\nA.\n")
    (failed,) = site.build().failed
    assert failed.error.line == 4 and "never show" in failed.error.message


def test_an_unknown_time_zone_is_a_settings_error(site):
    site.settings('[tool.nbpress]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError) as caught:
        site.config()
    assert "Mars/Olympus" in caught.value.detail


def test_a_page_kept_that_shows_an_expired_pages_title_stops_the_build(site):
    """The pages kept when a page goes are read for it, as when drafts are hidden again."""
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\n')
    site.page("blog/a.md", '---\ntitle: A\ndate: "2026-01-01"\n---\n\nA.\n')
    site.page("blog/sale.md", '---\ntitle: "Winter sale"\ndate: "2026-01-02"\n'
                              'expires: 2026-12-10\n---\n\nBuy.\n')
    site.page("info/about.md", "---\ntitle: About\n---\n\n<p>Winter sale</p>\n")
    assert site.build(now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)).ok
    with pytest.raises(Exception) as caught:      # about is kept as it was: not laid out again
        site.build(now=dt.datetime(2026, 12, 11, tzinfo=dt.timezone.utc))
    assert "Winter sale" in str(caught.value) and "about" in str(caught.value)
    assert (site.root / "output" / "blog" / "sale" / "index.html").is_file()   # the last site


def test_the_state_remembers_the_window_in_which_no_page_comes_or_goes(blog_site):
    blog_site.build(now=dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc))
    saved = json.loads((blog_site.root / ".nbpress-cache" / "build.json").read_text())
    start, end = saved["window"]
    assert start is None
    assert end == dt.datetime(2026, 12, 24, 9, 0, tzinfo=PARIS).timestamp()


def _notice(path: Path) -> str | None:
    class Notice(HTMLParser):
        found: str | None = None
        inside = False

        def handle_starttag(self, tag, attrs):
            self.inside = ("class", "page-notice") in attrs

        def handle_data(self, data):
            if self.inside:
                self.found = data

        def handle_endtag(self, tag):
            self.inside = False

    parser = Notice()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.found


def test_drafts_marks_each_unpublished_page_and_the_mark_goes_when_its_time_comes(blog_site):
    blog_site.page("blog/d.md", "---\ntitle: Dee\ndraft: true\n---\n\n<b>Draft</b>.\n")
    out = blog_site.root / "output"
    early = dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc)
    assert blog_site.build(drafts=True, now=early).ok
    assert _notice(out / "blog" / "future" / "index.html") == \
        "Not published: scheduled for 2026-12-24 09:00 CET"
    assert _notice(out / "blog" / "d" / "index.html") == "Not published: draft"
    assert _notice(out / "blog" / "old" / "index.html") is None
    late = blog_site.build(drafts=True, now=dt.datetime(2026, 12, 25, tzinfo=dt.timezone.utc))
    assert late.ok
    assert _notice(out / "blog" / "future" / "index.html") is None    # kept, laid out again
    assert _notice(out / "blog" / "d" / "index.html") == "Not published: draft"


@pytest.mark.parametrize("field", ['publish: "9999-12-31T23:30:00-05:00"',
                                   'expires: "0001-01-01T00:30:00+02:00"'])
def test_a_time_at_the_end_of_the_calendar_is_an_error_naming_its_line(site, field):
    site.settings('[tool.nbpress]\ntitle = "S"\nsearch = false\ntimezone = "Europe/Paris"\n')
    site.page("a.md", f"---\ntitle: A\n{field}\n---\n\nA.\n")
    site.page("b.md", '---\ntitle: B\npublish: "9999-12-31T23:30:00+00:00"\n---\n\nB.\n')
    report = site.build()
    (failed,) = report.failed
    assert failed.source.rel == "a" and failed.error.line == 3
    assert "out of the range" in failed.error.message
