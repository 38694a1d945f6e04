"""The YAML of a page's frontmatter: read by python-frontmatter's loader (libyaml's when
there) with each key once per mapping, and its errors told at their line of the file."""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from pipeline.errors import PageError

_DATE_VALUE = re.compile(r":\s*(\d{4}-\d\d?-\d\d?(?:[T ][\d:.]+)?)\s*(?:#.*)?$")


def load_yaml(block: str, path: Path) -> Any:
    """The value of the frontmatter's YAML (`block`, from its opening '---' line on)."""
    import yaml

    try:
        return yaml.load(block, Loader=_unique_keys())
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from None
    except ValueError as exc:       # an impossible date such as 2024-13-01
        raise PageError(f"invalid date in the frontmatter: {exc}", path,
                        line=_impossible_date_line(block),
                        hint="check the dates: they must exist, written as \"2024-02-24\""
                        ) from None


@functools.cache
def _unique_keys() -> type:
    """python-frontmatter's YAML loader (libyaml's when there), refusing a key given twice in
    one mapping with two values (YAML says keys are unique, and which one was meant is not
    known; PyYAML keeps the last silently). Twice with one value (`hide: false`) is harmless."""
    import yaml
    from frontmatter.default_handlers import SafeLoader

    class UniqueKeys(SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: dict[Any, Any] = {}
            for key, value in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    continue
                try:        # as constructed: `1` and '1' are two keys, False and false one value
                    name = self.construct_object(key, deep=True)
                    first = seen.setdefault(name, (key, value))
                except TypeError:       # a key that is a list or a mapping: YAML's own check
                    continue
                if first[0] is not key and self.construct_object(first[1], deep=True) != \
                        self.construct_object(value, deep=True):
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key.value!r} is given twice, with two values "
                        f"(first on line {first[0].start_mark.line + 1}): keep one", key.start_mark)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeys


def _impossible_date_line(block: str) -> int | None:
    """The file line of the first unquoted YYYY-MM-DD value that is not a real date."""
    from pipeline.sources.frontmatter import parse_date

    for number, line in enumerate(block.splitlines()):
        match = _DATE_VALUE.search(line)
        if match and parse_date(match.group(1)) is None:
            return number + 1        # the block starts after the first '---' line
    return None


def _yaml_error(exc, path: Path) -> PageError:
    """The YAML error at its line in the file (the YAML text starts on the '---' line)."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if context and start is not None:    # an unclosed [ or " : point at where it opened
        problem = f"{problem} ({context} that starts on line {start.line + 1})"
        line = start.line + 1
    return PageError(f"invalid YAML in the frontmatter: {problem}", path, line=line,
                     hint="correct the YAML between the two '---' lines; quote values that "
                          "contain ': ' or start with a special character")


