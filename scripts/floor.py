"""The floor for prose pages: the same pages read, rendered straight with markdown-it-py and
written, with nothing else. `make bench` times it as a whole process beside nbpress.

    floor.py SITE     renders SITE/content/**/*.md into SITE/floor-output/<path>/index.html
"""
import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt

FRONTMATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def main() -> None:
    site = Path(sys.argv[1])
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    out = site / "floor-output"
    for path in sorted((site / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = FRONTMATTER.sub("", text, count=1)
        target = out / path.relative_to(site / "content").with_suffix("") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"<!DOCTYPE html>\n<title>{path.stem}</title>\n{md.render(body)}",
                          encoding="utf-8")


if __name__ == "__main__":
    main()
