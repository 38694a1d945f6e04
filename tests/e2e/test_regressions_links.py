"""Regressions of link rewriting (issue 7, bugs 7 and 8), each a whole build: HTML read with a
regular expression rewrote code listings and could not find a file named with `&`."""
from __future__ import annotations

from tests.conftest import PNG_1PX

LISTINGS = '''
    ---
    title: "Listings"
    ---

    Inline code: `<img src="{ref}">`.

    ```html
    <img src="{ref}">
    ```

    ```python
    from IPython.display import HTML, display

    tag = '<img src="{ref}">'
    print(tag)
    display(HTML('<pre><img src="{ref}"></pre>'))
    tag
    ```
    '''


def test_code_listings_and_outputs_holding_a_missing_image_do_not_fail_the_page(site):
    site.page("listing.md", LISTINGS.format(ref="missing.png"))

    report = site.build()

    (result,) = report.results
    assert report.ok, result.error
    assert result.executed
    html = (site.root / "output/listing/index.html").read_text(encoding="utf-8")
    assert html.count("missing.png") >= 5       # inline code, fence, cell source, print, display
    assert '<pre><img src="missing.png"></pre>' in html     # the HTML output, as it was shown


def test_code_listings_of_an_existing_image_are_shown_as_written(site):
    site.file("content/shown.png", PNG_1PX)
    site.page("listing.md", LISTINGS.format(ref="shown.png") + "\n    ![real](shown.png)\n")

    report = site.build()

    assert report.ok, report.results[0].error
    html = (site.root / "output/listing/index.html").read_text(encoding="utf-8")
    assert "../shown.png" in html                           # the real image is rewritten...
    assert html.count("../shown.png") == 1                  # ...and nothing the code shows
    assert '<span class="s1">\'&lt;img src="shown.png"&gt;\'</span>' in html   # the cell
    assert (site.root / "output/shown.png").read_bytes() == PNG_1PX


def test_an_ampersand_in_a_file_name_publishes_the_file(site):
    site.file("content/R&D.png", PNG_1PX)
    site.file("content/data.csv", "a,b\n1,2\n")
    site.page("rd.md", '''
        ---
        title: "R&D"
        ---

        ![chart](R&D.png)

        [the data](data.csv?rows=1&cols=2)
        ''')

    report = site.build()

    assert report.ok, report.results[0].error
    html = (site.root / "output/rd/index.html").read_text(encoding="utf-8")
    assert 'src="../R%26D.png"' in html
    assert 'href="../data.csv?rows=1&amp;cols=2"' in html   # written back escaped
    assert (site.root / "output/R&D.png").read_bytes() == PNG_1PX
    assert (site.root / "output/data.csv").is_file()
