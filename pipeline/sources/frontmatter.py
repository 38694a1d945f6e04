"""Stage 1b: read a page's frontmatter and body, validate the fields nbpress uses. The only
module that imports python-frontmatter. Every other key is kept as written."""
from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

from pipeline.errors import PageError
from pipeline.model import Page, Source
from pipeline.sources.schedule import UTC, instant

KNOWN_FIELDS = ("title", "slug", "draft", "created", "edited", "date", "abstract", "featuredImage",
                "image", "socialImage", "params", "execute", "depends", "tags", "categories",
                "category", "aliases", "toc", "publish", "expires", "publishDate", "expiryDate",
                "matrix", "matrix_from", "exclude", "resources")
EXECUTE_POLICIES = ("auto", "always", "never")
DATE_FIELDS = ("created", "edited", "date")
_SLUG_PART = re.compile(r"^[^\x00-\x1f\x7f-\x9f/\\?#%<>\"|*:]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # not tab, newline, form feed, CR
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_END = re.compile(r"^(---|\.\.\.)\s*$", re.MULTILINE)       # the frontmatter's closing line


def read_source(source: Source) -> Page:
    """Read a Markdown page or a notebook without a Markdown twin into a validated Page."""
    if source.kind == "ipynb":
        from pipeline.sources.notebooks import read_notebook

        return read_notebook(source)
    text = decode(read_bytes(source.path), source.path)
    meta, body_line = parse_frontmatter(text, source.path)
    return make_page(source, text, body_line, meta)


def read_bytes(path: Path) -> bytes:
    """A page's bytes, or an error saying why they cannot be read (a link to a moved file)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        gone = path.is_symlink() and not path.exists()
        raise PageError(f"cannot be read: {exc.strerror or exc}" + (
            f" (it is a link to {os.readlink(path)}, which is not there)" if gone else ""),
            path, hint="point the link at the page's file, or remove it" if gone else
            "check the file's permissions, or move it out of the site") from None


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text (a BOM is dropped), or an error naming the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PageError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                        path, line=line,
                        hint="save the file with UTF-8 encoding (in most editors: "
                             "'Save with encoding' > UTF-8)") from None
    return text.removeprefix("\ufeff")


def parse_frontmatter(text: str, path: Path) -> tuple[dict[str, Any], int]:
    """The frontmatter mapping and the 1-based line where the body starts."""
    import frontmatter

    from pipeline.sources.yamlfront import load_yaml

    if not text.startswith("---"):
        return {}, 1
    handler = frontmatter.YAMLHandler()
    try:
        block, _ = handler.split(text)
    except ValueError:
        raise PageError("the frontmatter has no closing '---' line", path, line=1,
                        hint="end the frontmatter with a line of three dashes: ---") from None
    meta = load_yaml(block, path)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PageError("the frontmatter is not a mapping of keys to values", path, line=2,
                        hint="write the frontmatter as 'key: value' lines")
    return meta, split_header(text)[1]


def split_header(text: str) -> tuple[str, int]:
    """(the frontmatter's text, from its opening '---' to its closing line; the 1-based line
    where the body starts): ("", 1) when the page has none."""
    end = _END.search(text[3:]) if text.startswith("---") else None
    return (text[:3 + end.end()], text.count("\n", 0, 3 + end.end()) + 2) if end else ("", 1)


def preload() -> None:
    """Import the YAML reader now: before a fork, so that the children share it."""
    import frontmatter  # noqa: F401

    import pipeline.sources.yamlfront  # noqa: F401


def make_page(source: Source, text: str, body_line: int, meta: Mapping[str, Any]) -> Page:
    """Validate the fields nbpress uses; keep `meta` whole."""
    check = _Checker(source.path, text)
    for key in meta:
        check.unknown(key)
        check.carried(key, meta[key])
    if isinstance(meta.get("description"), str):
        check.shown(meta, "description")
    fields: dict[str, Any] = {
        "title": check.shown(meta, "title") or title_from_body(text, source),
        "slug": check.slug(meta.get("slug"), source),
        "draft": check.boolean(meta, "draft"),
        "abstract": check.shown(meta, "abstract"),
        "featured_image": (check.string(meta, "featuredImage") or check.string(meta, "image")
                           or check.string(meta, "socialImage")),       # Quarto, Gatsby
        "tags": check.tags(meta),
        "aliases": check.aliases(meta),
        "params": check.params(meta),
        "execute": check.choice(meta, "execute", EXECUTE_POLICIES),
        "depends": check.globs(meta, "depends"),
    }
    for key in DATE_FIELDS:
        fields[key] = check.date(meta, key)
    fields["publish"], fields["expires"] = check.schedule(meta)
    return Page(source=source, text=text, body_line=body_line, meta=meta, **fields)


class _Checker:
    """Field checks that raise a PageError naming the file and the line of the key."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text

    def line_of(self, key: str) -> int | None:
        match = re.search(rf"^{re.escape(key)}\s*:", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def fail(self, key: str, message: str, hint: str) -> PageError:
        return PageError(message, self.path, line=self.line_of(key), hint=hint)

    def unknown(self, key: Any) -> None:
        if not isinstance(key, str) or key in KNOWN_FIELDS:
            return
        close = difflib.get_close_matches(key, KNOWN_FIELDS, n=1, cutoff=0.8)
        if close and close[0] != key and abs(len(close[0]) - len(key)) <= 2:  # created_at is fine
            raise self.fail(key, f"unknown field {key!r}: did you mean {close[0]!r}?",
                            f"rename it to {close[0]!r}, or give your own key a name "
                            f"further from nbpress's fields ({', '.join(KNOWN_FIELDS)})")

    def string(self, meta: Mapping[str, Any], key: str) -> str | None:
        value = meta.get(key)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise self.fail(key, f"field {key!r} must be text, not {type(value).__name__}",
                            f"write {key}: \"...\" as one quoted string")
        return value

    def shown(self, meta: Mapping[str, Any], key: str) -> str | None:
        """Text the page shows: no control characters, which HTML cannot hold."""
        value = self.string(meta, key)
        bad = _CONTROL.search(value or "")
        if bad:
            raise self.fail(key, f"field {key!r} holds the control character "
                            f"U+{ord(bad.group()):04X}, which a web page cannot show",
                            f"remove it from {key} (it is invisible: it may have been pasted in)")
        return value

    def carried(self, key: Any, value: Any) -> None:
        """Every value reaches the page's JSON: no NaN, infinity, bytes or broken text."""
        problem = _not_json(value)
        if problem:
            raise self.fail(str(key), f"field {key!r} holds {problem}, which the page's JSON "
                            "cannot carry", f"quote the value to keep it as text: {key}: \"...\"")

    def boolean(self, meta: Mapping[str, Any], key: str) -> bool:
        value = meta.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, f"field {key!r} must be true or false, not {value!r}",
                            f"write {key}: true or {key}: false")
        return value

    def choice(self, meta: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
        value = meta.get(key, allowed[0])
        if value not in allowed:
            raise self.fail(key, f"field {key!r} must be one of {', '.join(allowed)}, not "
                            f"{value!r}", f"write {key}: {allowed[0]}")
        return value

    def globs(self, meta: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = meta.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"field {key!r} must be a list of file patterns",
                            f"write {key}: [data/*.csv] (paths relative to the page's folder)")
        if any(v.startswith("/") or ".." in Path(v).parts for v in value):
            raise self.fail(key, f"field {key!r} must name files inside the page's folder",
                            "use a relative pattern such as data/*.csv")
        return tuple(value)

    def date(self, meta: Mapping[str, Any], key: str) -> dt.date | dt.datetime | None:
        value = meta.get(key)
        if value is None or isinstance(value, (dt.date, dt.datetime)):
            return value
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is not None:
                return parsed
        raise self.fail(key, f"field {key!r} is not a date: {value!r}",
                        f"write {key}: \"2024-02-24\" (or with a time: \"2024-02-24T09:30:00\")")

    def schedule(self, meta: Mapping[str, Any]) -> tuple[Any, Any]:
        """(publish, expires): `publish`/`expires`, or Hugo's `publishDate`/`expiryDate`;
        a page that would expire before it is published is refused (it would never show)."""
        publish = self.date(meta, "publish" if "publish" in meta else "publishDate")
        expires = self.date(meta, "expires" if "expires" in meta else "expiryDate")
        for key, value in (("publish", publish), ("expires", expires)):
            try:
                if value is not None:
                    instant(value, UTC).astimezone(UTC)     # past year 9999 or before 1?
            except (OverflowError, ValueError):
                raise self.fail(key, f"field {key!r} is out of the range of times: {value}",
                                f"write {key}: \"2024-02-24T09:00\" (a year from 1 to 9998)") from None
        if publish is not None and expires is not None and instant(expires, UTC) <= instant(publish, UTC):
            key = "expires" if "expires" in meta else "expiryDate"
            raise self.fail(key, f"the page expires ({expires}) before it is published "
                            f"({publish}), so it would never show",
                            f"give {key} a later time than the publish time, or remove it")
        return publish, expires

    def tags(self, meta: Mapping[str, Any]) -> tuple[str, ...]:
        """`tags`, `categories` (Quarto, Jekyll) and `category` (Gatsby): one list, in the
        order written, each once."""
        found: list[str] = []
        for key in ("tags", "categories", "category"):
            value = meta.get(key)
            value = [] if value is None else [value] if isinstance(value, (str, int, float)) \
                and not isinstance(value, bool) else value
            if not isinstance(value, list) or not all(
                    isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
                raise self.fail(key, f"field {key!r} must be a list of words",
                                f"write {key}: [python, notes]")
            for tag in (str(v).strip() for v in value):
                if _CONTROL.search(tag):
                    raise self.fail(key, f"tag {tag!r} holds a control character",
                                    f"remove it from {key}")
                if tag and tag not in found:
                    found.append(tag)
        return tuple(found)

    def aliases(self, meta: Mapping[str, Any]) -> tuple[str, ...]:
        """Old URLs of the page as output paths: "/old/path/" -> "old/path/index.html",
        "/2019/post.html" -> "2019/post.html" (Jekyll's and Hugo's old addresses)."""
        value = meta.get("aliases", [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("aliases", "field 'aliases' must be a list of old URLs",
                            "write aliases: [/old/url/]")
        paths = []
        for alias in value:
            parts = [p for p in alias.strip().split("#")[0].split("?")[0].split("/") if p]
            if any(p in (".", "..") or not _SLUG_PART.match(p) for p in parts) or not parts \
                    or parts == ["index.html"] or alias.strip().startswith("//"):
                raise self.fail("aliases", f"alias {alias!r} is not a URL path inside the site",
                                "write an old address of the page, e.g. aliases: [/2019/old-post/]")
            paths.append("/".join(parts) if parts[-1].endswith((".html", ".htm"))
                         else "/".join(parts) + "/index.html")
        return tuple(dict.fromkeys(paths))

    def slug(self, value: Any, source: Source) -> str:
        if value is None:
            derived = slug_from_path(source.rel)
            if _CONTROL.search(derived):          # whitespace is "-" already
                raise PageError(f"the file's name gives the slug {derived!r}, which holds a "
                                "control character", source.path,
                                hint="rename the file, or give the page a slug: field")
            return derived
        if not isinstance(value, str):
            raise self.fail("slug", f"field 'slug' must be text, not {value!r}",
                            "write slug: /my-page")
        parts = [p for p in value.strip().strip("/").split("/") if p]
        if any(p in (".", "..") or not _SLUG_PART.match(p) for p in parts):
            raise self.fail("slug", f"slug {value!r} would leave the output folder or is not a "
                            "valid URL path", "use letters, digits and '-' between '/', "
                            "e.g. slug: /projects/my-page")
        return "/".join(parts)

    def params(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        value = meta.get("params", {})
        hint = "write params: as a mapping of names to values, e.g.\nparams:\n  top_n: 5"
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail("params", "field 'params' must be a mapping", hint)
        bad = [k for k in value if not (isinstance(k, str) and k.isidentifier())]
        if bad:
            raise self.fail("params", f"params names must be Python names, not {bad[0]!r}", hint)
        return {k: json_safe(v) for k, v in value.items()}


def _not_json(value: Any) -> str | None:
    """What in a frontmatter value JSON cannot hold, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"the number {value!r}"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    if isinstance(value, str):
        return "a broken character (a lone surrogate)" if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((p for p in map(_not_json, value) if p), None)
    return None


def parse_date(value: str) -> dt.date | dt.datetime | None:
    text = value.strip()
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def json_safe(value: Any) -> Any:
    """Frontmatter values as JSON values: dates become ISO strings."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    return value


def slug_from_path(rel: str) -> str:
    parts = rel.split("/")
    if parts[-1] in ("index", "README"):
        parts = parts[:-1]
    return "/".join(re.sub(r"\s+", "-", p.strip()).lower() for p in parts)


def title_from_body(text: str, source: Source) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    if match:
        return plain_text(match.group(1).strip().strip('"')) or match.group(1).strip()
    return source.path.stem.replace("-", " ").replace("_", " ").strip().capitalize()


_INLINE_MARKS = [
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),             # links and images: their text
    (re.compile(r"<[^>]+>"), ""),                                 # inline HTML tags
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),      # strong, strikethrough
    (re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])"), r"\2"),   # emphasis
    (re.compile(r"`+([^`]*)`+"), r"\1"),                           # code
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),                    # backslash escapes
]


def plain_text(markdown: str) -> str:
    """A heading's Markdown as the text a reader sees ("Hello *world*" -> "Hello world"):
    the page title taken from the first heading is plain text (the <title>, listings and
    feeds show it as text)."""
    from html import unescape

    text = markdown
    for pattern, replacement in _INLINE_MARKS:
        text = pattern.sub(replacement, text)
    return " ".join(unescape(text).split())
