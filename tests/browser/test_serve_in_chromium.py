"""`nbpress serve` in Chromium: a saved page reloads by itself with its new text; a build
that fails shows its file and fix over the page, which keeps its last good version; the
overlay goes once the page is fixed. No console errors, no request off the machine."""
from __future__ import annotations

import pytest

from pipeline.live.preview import Preview
from tests.browser.conftest import WIDE, new_page


@pytest.fixture
def served(browser, site):
    site.settings('[tool.nbpress]\ntitle = "Live"\nsearch = false\n')
    site.page("index.md", "---\ntitle: Home\n---\n\nHello.\n")
    page_file = site.page("notes/a.md", '---\ntitle: A note\ndate: "2026-01-01"\n---\n\nFirst text.\n')
    with Preview(site.config(), port=0) as preview:
        assert preview.build().report.ok
        preview.start()
        context, page = new_page(browser, WIDE)
        try:
            yield preview, page, page_file
        finally:
            context.close()


def test_a_saved_page_reloads_with_its_new_text(served):
    preview, page, page_file = served
    page.goto(preview.url + "notes/a/", wait_until="load")
    page.wait_for_function("() => window.nbpressEvents !== undefined")
    page.wait_for_timeout(300)                          # the event stream is open
    page_file.write_text(page_file.read_text().replace("First text.", "Second text."))
    page.wait_for_function("() => document.body.innerText.includes('Second text.')",
                           timeout=15000)
    assert page.recorder.console_errors == [] and page.recorder.page_errors == []
    assert all(url.startswith(preview.url) for url in page.recorder.requests)


def test_a_failed_build_shows_over_the_page_and_goes_once_it_is_fixed(served):
    preview, page, page_file = served
    page.goto(preview.url + "notes/a/", wait_until="load")
    page.wait_for_timeout(300)
    good = page_file.read_text()
    page_file.write_text(good.replace('title: A note', 'title: "A note'))    # broken YAML
    overlay = page.locator("#nbpress-overlay")
    overlay.wait_for(state="visible", timeout=15000)
    text = overlay.inner_text()
    assert "notes/a.md" in text and "fix:" in text and "YAML" in text
    assert "First text." in page.locator("main").inner_text()       # the last good version
    page_file.write_text(good.replace("First text.", "Fixed text."))
    page.wait_for_function("() => document.body.innerText.includes('Fixed text.')",
                           timeout=15000)
    assert page.locator("#nbpress-overlay").count() == 0
    assert page.recorder.page_errors == []
