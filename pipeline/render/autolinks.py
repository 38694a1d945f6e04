"""Stage 4: the links the Markdown engine makes of bare text, as GitHub makes them:
`http://`, `https://`, `www.` and e-mail addresses, never a bare domain (`setup.py`);
linkify-it configured so (`render/markdown.py`), and the test that tells a text in which it
can find none, which is rendered without it.
"""
from __future__ import annotations

import re

# Every link linkify-it can make, as configured by `github_links`, has one of these in the
# text: `http(s)://` (the inline rule needs `://` too), `www.`, and `@` (e-mail, `mailto:`).
# A text without any is rendered without linkify, which doubles the cost of a page, and
# comes out the same (tests/unit/test_markdown_review.py).
_LINKABLE = re.compile(r"://|www\.|@", re.IGNORECASE)


def github_links(linkify) -> None:
    """linkify-it links what GitHub links in text: `http://`, `https://`, `mailto:`, `www.`
    and e-mail addresses; not a bare domain (`example.com`, a file named `setup.py`), `ftp://`
    or `//host`."""
    linkify.set({"fuzzy_link": False, "fuzzy_email": True, "fuzzy_ip": False})
    linkify.add("ftp:", None).add("//", None)
    www = _Www(linkify)
    linkify.add("www.", {"validate": www.validate, "normalize": www.normalize})
    linkify.pretest = linkable      # its own, 20x slower, asks the same of each text: a
                                    # superset (as above) is right


def linkable(text: str) -> bool:
    """Whether a text may hold a link linkify-it finds (`_LINKABLE`, with `in` first: six times
    faster than the pattern, which tries every character)."""
    return ("://" in text or "@" in text or "WWW." in text.upper()) \
        and _LINKABLE.search(text) is not None


class _Www:
    """linkify-it's `www.` schema: the host and path that linkify-it's own fuzzy links (off)
    would have found there, after what one may follow (not `.:/\\-_@`), as `http://`."""

    def __init__(self, linkify) -> None:
        self._linkify, self._tail = linkify, None

    def validate(self, text: str, pos: int) -> int:     # pos: just after `www.`
        if pos > 4 and text[pos - 5] in ".:/\\-_@":
            return 0
        if self._tail is None:
            r = self._linkify.re        # the host of `www.` + this ends in a known TLD
            self._tail = re.compile(f"(?:(?:{r['src_domain']})\\.)*(?:{r['src_tlds']})"
                                    f"{r['src_port']}{r['src_host_terminator']}{r['src_path']}",
                                    re.IGNORECASE)
        found = self._tail.match(text, pos)
        return len(found.group()) if found else 0

    def normalize(self, match) -> None:
        match.url = "http://" + match.url
