"""Stage 1: page families. A page whose frontmatter has `matrix:` (a mapping of parameter
names to lists of values) or `matrix_from:` (a CSV or JSON file, one member per row), or
both (each row with each combination), is one page per combination: its `slug` and `title`
are templates (`slug: /alerts/{team}-{window}d`, `title: "Alerts: {team}"`), its values are
the member's parameters (papermill injects them over `params`), and `exclude:` drops the
combinations that match one of its entries. The family's listing is at its base URL: the
slug template up to its first placeholder. A member is the family's source with a variant
(`team=checkout,window=7`), so it is built, cached and kept on its own."""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import string
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from pipeline.errors import PageError
from pipeline.model import Family, Page, url_of

KEYS = ("matrix", "matrix_from", "exclude")
MAX_MEMBERS = 10_000
_SCALAR = (str, int, float, bool)
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?")
_SLUG_UNSAFE = re.compile(r"[^\w.-]+")
_TITLE_END = " \t:;,.-|\u2013\u2014("


def is_family(meta: Mapping[str, Any]) -> bool:
    return "matrix" in meta or "matrix_from" in meta


def matrix_file(page: Page) -> Path | None:
    """The file `matrix_from` names, from the page's folder (None when it names none)."""
    value = page.meta.get("matrix_from")
    return page.source.path.parent / value if isinstance(value, str) and value else None


def members(page: Page) -> list[Page]:
    """The pages of a family, in order (rows, then the matrix's values as written); a
    PageError naming the file, the line and the fix for a family that cannot be made."""
    from pipeline.sources.frontmatter import make_page

    if page.aliases:
        raise _fail(page, "aliases", "a page family cannot have aliases: every member would "
                    "claim each old URL", "remove aliases:, or keep the old URL as a page of its "
                    "own that links to the family")
    combos = _excluded(page, _combinations(page))
    names = list(combos[0]) if combos else []
    slug_t, title_t = _templates(page, names)
    base = _base(page, slug_t)
    listing = _listing_title(page, title_t)
    made, by_slug = [], {}
    for index, combo in enumerate(combos):
        meta = {k: v for k, v in page.meta.items() if k not in KEYS}
        meta.update(title=_fill(title_t, combo, _plain), slug="/" + _fill(slug_t, combo, _slugged),
                    params={**page.params, **combo})
        variant = _variant(combo)
        member = make_page(replace(page.source, variant=variant), page.text, page.body_line, meta)
        other = by_slug.setdefault(member.slug, combo)
        if other is not combo:
            every = set(_fields(page, "slug", slug_t)) >= set(names)
            raise _fail(page, "slug", f"the members {_shown(other)} and {_shown(combo)} both get "
                        f"the slug {member.slug!r}", "change one of the values: in a URL they "
                        "are the same (lower case, '-' for spaces and signs)" if every else
                        "put every name of the matrix in the slug template, e.g. slug: /"
                        + "/".join([base] * bool(base) + [f"{{{n}}}" for n in names]))
        made.append(replace(member, variant=variant, family=Family(
            base, listing, index, tuple((n, combo[n]) for n in names), matrix_file(page))))
    return made


def _combinations(page: Page) -> list[dict[str, Any]]:
    rows = _rows(page) if "matrix_from" in page.meta else [{}]
    matrix = _matrix(page)
    names = list(matrix)
    combos = [{**row, **dict(zip(names, values))}
              for row in rows for values in itertools.product(*matrix.values())]
    if len(combos) > MAX_MEMBERS:
        raise _fail(page, "matrix", f"the family has {len(combos)} members, more than "
                    f"{MAX_MEMBERS}", "use fewer values, or drop combinations with exclude:")
    if not combos or not combos[0]:
        raise _fail(page, "matrix", "the family has no members", "give matrix: a name with "
                    "values (matrix:\n  team: [checkout, search]), or rows in matrix_from")
    return combos


def _matrix(page: Page) -> dict[str, list[Any]]:
    value = page.meta.get("matrix", {})
    hint = "write matrix: as names with lists of values, e.g.\nmatrix:\n  team: [checkout, search]"
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise _fail(page, "matrix", "field 'matrix' must be a mapping of names to lists", hint)
    for name, values in value.items():
        _name(page, "matrix", name)
        if not isinstance(values, list) or not values:
            raise _fail(page, "matrix", f"matrix {name!r} must be a list of values, not "
                        f"{values!r}", hint)
        bad = [v for v in values if not isinstance(v, _SCALAR)]
        if bad:
            raise _fail(page, "matrix", f"matrix {name!r} holds {bad[0]!r}: values are text, "
                        "numbers or true/false", hint)
        if len(set(map(repr, values))) < len(values):
            raise _fail(page, "matrix", f"matrix {name!r} repeats a value", "list each value once")
    return value


def _rows(page: Page) -> list[dict[str, Any]]:
    """The members `matrix_from` lists: a CSV file's rows (its header names them; numbers
    read as numbers), or a JSON list of objects."""
    path = matrix_file(page)
    if path is None:
        raise _fail(page, "matrix_from", "field 'matrix_from' must name a file",
                    "write matrix_from: data/teams.csv (from the page's folder)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise _fail(page, "matrix_from", f"{path}, line {line}, is not UTF-8 text ({exc})",
                    "save the file as UTF-8 (most editors and spreadsheets offer it when "
                    "saving as CSV)") from None
    except OSError as exc:
        raise _fail(page, "matrix_from", f"cannot read {path} for matrix_from "
                    f"({type(exc).__name__}: {exc})", "create the file (a build notebook "
                    "may write it: [[tool.nbpress.steps]]), or correct the path") from None
    if path.suffix.lower() == ".json":
        rows = [(f"member {n} of the list", row) for n, row in
                enumerate(_json_rows(page, path, text), 1)]
    else:
        rows = _csv_rows(page, path, text)
    for _, row in rows[:1]:
        for name in row:
            _name(page, "matrix_from", name, path)
    for where, row in rows:
        missing = [n for n in rows[0][1] if row.get(n) is None]
        other = [n for n in row if n not in rows[0][1]]
        if missing or other:
            said = f"has no value for {missing[0]!r}" if missing else f"names {other[0]!r}"
            raise _fail(page, "matrix_from", f"{path}, {where}, {said}, unlike the first",
                        f"give every member a value of each of {', '.join(rows[0][1])}, "
                        "and no other")
    return [row for _, row in rows]


def _csv_rows(page: Page, path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) of each row with a value (blank lines and rows of empty cells left
    out); a short row's missing cells are None. A row longer than the header is an error."""
    rows = []
    reader = csv.DictReader(io.StringIO(text))
    names = [n for n in reader.fieldnames or [] if n]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise _fail(page, "matrix_from", f"{path}, line 1, names the column {twice!r} twice",
                    "give each column of the header a name of its own")
    for row in reader:
        if row.pop(None, None):
            raise _fail(page, "matrix_from", f"{path}, line {reader.line_num}, has more values "
                        "than its header names", "give the header a name for each column")
        if any(row.values()):
            rows.append((f"line {reader.line_num}",
                         {k: None if v is None or not v.strip() else _number(v)
                          for k, v in row.items()}))     # an empty cell: no value
    return rows


def _json_rows(page: Page, path: Path, text: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(text)
    except ValueError as exc:
        raise _fail(page, "matrix_from", f"{path} is not JSON ({exc})",
                    "write a list of objects: [{\"team\": \"checkout\"}, ...]") from None
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and all(isinstance(v, _SCALAR) for v in r.values()) for r in rows):
        raise _fail(page, "matrix_from", f"{path} must hold a list of objects of text, numbers "
                    "or true/false", "write [{\"team\": \"checkout\", \"window\": 7}, ...]")
    return rows


def _number(text: str) -> Any:
    if _NUMBER.fullmatch(text.strip()):         # an integer exactly, however long
        return int(text) if re.fullmatch(r"-?\d+", text.strip()) else float(text)
    return text


def _name(page: Page, key: str, name: Any, path: Path | None = None) -> None:
    if not (isinstance(name, str) and name.isidentifier()):
        where = f" in {path}" if path else ""
        raise _fail(page, key, f"the parameter name {name!r}{where} is not a Python name",
                    "use letters, digits and _ (not first a digit): papermill sets it as a variable")


def _excluded(page: Page, combos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules = page.meta.get("exclude") or []
    hint = "write exclude: as a list of mappings, e.g.\nexclude:\n  - {team: auth, window: 7}"
    if not isinstance(rules, list) or not all(isinstance(r, dict) and r for r in rules):
        raise _fail(page, "exclude", "field 'exclude' must be a list of mappings", hint)
    names = set(combos[0])
    for rule in rules:
        unknown = [k for k in rule if k not in names]
        if unknown:
            raise _fail(page, "exclude", f"exclude names {unknown[0]!r}, which is not a "
                        f"parameter of the family ({', '.join(sorted(names))})", hint)
    kept = [c for c in combos
            if not any(all(_plain(c[k]) == _plain(v) for k, v in r.items()) for r in rules)]
    if not kept:
        raise _fail(page, "exclude", "exclude drops every member of the family",
                    "remove an entry of exclude:, or give matrix: more values")
    return kept


def _templates(page: Page, names: list[str]) -> tuple[str, str]:
    """The slug and title templates: as written, or the page's own with the values added."""
    slug_t = page.slug if "slug" in page.meta else None
    title_t = page.meta.get("title") if isinstance(page.meta.get("title"), str) else None
    for key, template in (("slug", slug_t), ("title", title_t)):
        for field in _fields(page, key, template or ""):
            if field not in names:
                raise _fail(page, key, f"the {key} template names {{{field}}}, which is not a "
                            f"parameter of the family ({', '.join(names)})",
                            "use the names of matrix: (or of matrix_from's columns)")
    if not slug_t or not _fields(page, "slug", slug_t):
        slug_t = "/".join(p for p in (page.slug, "-".join(f"{{{n}}}" for n in names)) if p)
    if not title_t or not _fields(page, "title", title_t):
        title_t = (title_t or page.title).replace("{", "{{").replace("}", "}}") + ": " + \
            ", ".join(f"{{{n}}}" for n in names)
    return slug_t, title_t


def _fields(page: Page, key: str, template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _fail(page, key, f"the {key} template {template!r} cannot be read ({exc})",
                    "write each name in braces, {team}; a brace itself as {{ or }}") from None
    fields = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise _fail(page, key, f"the {key} template holds {{{field}{'!' + conversion if conversion else ''}"
                        f"{':' + spec if spec else ''}}}: only plain names are filled in",
                        "write each name in braces alone, {team}")
        fields.append(field)
    return fields


def _fill(template: str, combo: dict[str, Any], shown) -> str:
    return template.format_map({k: shown(v) for k, v in combo.items()})


def _slugged(value: Any) -> str:
    """A value as part of a URL: lower case, each run of other characters than letters,
    digits, '.', '_' and '-' made one '-'; '-' for one that would be empty, '.' or '..'
    (a folder's own name, or its parent's: never a page's)."""
    text = "true" if value is True else "false" if value is False else str(value)
    slug = _SLUG_UNSAFE.sub("-", text.strip()).strip("-").lower()
    return "-" if slug in ("", ".", "..") else slug


def _base(page: Page, slug_t: str) -> str:
    """The listing's slug: the template's folders before the first placeholder, or the slug
    of the page's file when the first folder already has one."""
    parts = slug_t.split("/")
    head = list(itertools.takewhile(lambda p: "{" not in p.replace("{{", ""), parts))
    if len(head) == len(parts):
        return slug_t
    return "/".join(head) if head else _file_slug(page)


def _file_slug(page: Page) -> str:
    from pipeline.sources.frontmatter import slug_from_path

    return slug_from_path(page.source.rel)


def _listing_title(page: Page, title_t: str) -> str:
    """The title before its first placeholder ("Alerts: {team}" lists as "Alerts"), or the
    page's title from its file's name."""
    head = title_t.split("{", 1)[0] if "{" in title_t.replace("{{", "") else title_t
    head = head.replace("{{", "{").rstrip(_TITLE_END)
    return head or page.source.rel.rsplit("/", 1)[-1].replace("-", " ").capitalize()


def _variant(combo: dict[str, Any]) -> str:
    """The member's name in the build's records: `team=checkout,window=7` (each value quoted
    as in a URL), made short with a hash when long."""
    text = ",".join(f"{k}={quote(_plain(v), safe='')}" for k, v in combo.items())
    if len(text) <= 120:
        return text
    return text[:80] + "~" + hashlib.sha256(text.encode()).hexdigest()[:16]


def shown_family(page: Page) -> tuple:
    """A member's family as the site shows it: (listing URL, title, place, ((name, value as
    text), ...)); () for a page of its own."""
    if not page.family:
        return ()
    family = page.family
    return (url_of(family.base), family.title, family.index,
            tuple((name, _plain(v)) for name, v in family.values))


def _plain(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _shown(combo: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in combo.items()) + "}"


def _fail(page: Page, key: str, message: str, hint: str) -> PageError:
    """An error at the line of `key` in the frontmatter, else of the family's matrix."""
    for name in (key, "matrix", "matrix_from"):
        match = re.search(rf"^{re.escape(name)}\s*:", page.text, re.MULTILINE)
        if match:
            line = page.text.count("\n", 0, match.start()) + 1
            return PageError(message, page.source.path, line=line, hint=hint)
    return PageError(message, page.source.path, hint=hint)
