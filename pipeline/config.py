"""Site settings: `[tool.nbpress]` in the site's pyproject.toml, validated all at once."""
from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

CONFIG_FILE = "pyproject.toml"


@dataclass(frozen=True, slots=True)
class NavLink:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Step:
    """A build notebook (`[[tool.nbpress.steps]]`): run by papermill before the pages, in the
    site's folder, when its code, parameters or inputs changed, when its files are missing,
    when it is due (`refresh`, on scheduled runs) or with `--refresh`."""

    notebook: str                            # from the site's folder: notebooks/_data/x.ipynb
    parameters: tuple[tuple[str, Any], ...] = ()
    writes: tuple[str, ...] = ()             # files it makes, from the site's folder
    reads: tuple[str, ...] = ()              # patterns of files it reads (a change runs it)
    refresh: int | None = None               # seconds: run again on a scheduled run after
    keep: int = 5                            # executed copies kept, the newest

    @property
    def name(self) -> str:
        return self.notebook


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything a build needs to know about the site. Paths are absolute."""

    root: Path
    title: str = "My site"
    description: str = ""
    author: str = ""
    base_url: str = ""              # "https://example.org/" ; "" builds a site of relative links
    language: str = "en"
    nav: tuple[NavLink, ...] | None = None   # None: Home, one link a section, top-level pages
    links: tuple[NavLink, ...] = ()          # the author's links (GitHub, Mastodon): header and footer
    toc: tuple[str, ...] | None = None       # page order: content paths ("intro.md"); None: by name
    extra_css: tuple[str, ...] = ()          # stylesheets of the site's, after the theme's
    paginate: int = 20                       # entries a listing page shows before a next page
    home_latest: int = 5                     # entries of each section the home page shows
    feed_content: str = "full"               # "full" or "abstract": what a feed entry carries
    feed_items: int = 20                     # entries in a feed
    search: bool | None = None               # a pagefind index and a search box; None: up to
                                             # SEARCH_AUTO pages (pagefind's memory grows with them)
    theme_dir: str = "theme"                 # templates and static files that override ours
    sections: tuple[str, ...] | None = None  # order of sections on the home page; None: by name
    content_dir: str = "content"
    notebooks_dir: str = "notebooks"
    output_dir: str = "output"
    kernel: str = "python3"         # for pages that name no kernel
    timeout: int = 300              # seconds a cell may run
    timezone: str = "UTC"           # of `publish:`/`expires:` times written with no offset
    steps: tuple[Step, ...] = ()     # build notebooks, run before the pages
    freeze: bool = False            # executed results kept in _freeze/, to be committed
    executor: str = "local"         # where pages' code runs: "local" (forked kernels), "dask"
    scheduler: str = ""             # the Dask scheduler's address; "": a LocalCluster
    config_file: Path | None = None  # the pyproject.toml the settings came from

    @property
    def content(self) -> Path:
        return self.root / self.content_dir

    @property
    def notebooks(self) -> Path:
        return self.root / self.notebooks_dir

    @property
    def output(self) -> Path:
        return self.root / self.output_dir

    @property
    def theme(self) -> Path:
        """The site's own templates and theme files, each replacing nbpress's file of its name."""
        return self.root / self.theme_dir

    @property
    def static(self) -> Path:
        """Files published at the output root as they are (CNAME, robots.txt, downloads)."""
        return self.root / "static"

    @property
    def zone(self) -> dt.tzinfo:
        """The site's time zone (checked when the settings are read)."""
        return _zone(self.timezone)

    def __repr__(self) -> str:
        return f"SiteConfig({self.root}, title={self.title!r})"


# key -> (python type(s), description for errors)
_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "title": (str, "a string"),
    "description": (str, "a string"),
    "author": (str, "a string"),
    "base_url": (str, "a URL string"),
    "language": (str, "a language code such as \"en\""),
    "content_dir": (str, "a folder name"),
    "notebooks_dir": (str, "a folder name"),
    "output_dir": (str, "a folder name"),
    "kernel": (str, "a kernel name such as \"python3\""),
    "timeout": (int, "a whole number of seconds"),
    "paginate": (int, "a whole number of entries per listing page"),
    "home_latest": (int, "a whole number of entries per section"),
    "feed_items": (int, "a whole number of entries"),
    "search": (bool, "true or false (leave it out: on up to 20,000 pages)"),
    "theme_dir": (str, "a folder name"),
    "timezone": (str, "a time zone name such as \"Europe/Paris\" or \"UTC\""),
    "freeze": (bool, "true or false"),
    "scheduler": (str, "a Dask scheduler's address such as \"tcp://10.0.0.5:8786\""),
}
_CHOICES = {"feed_content": ("full", "abstract"), "executor": ("local", "dask")}
_LISTS = {"toc": "content paths such as \"intro.md\"", "extra_css": "stylesheet paths such as \"style.css\"",
          "sections": "folder names"}
KNOWN_KEYS = (*_SCALARS, *_CHOICES, *_LISTS, "nav", "links", "steps")
STEP_KEYS = ("notebook", "parameters", "writes", "reads", "refresh", "keep")
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")   # HTML cannot hold them


_BASE_URL = re.compile(r"https?://[^/\s?#]+(/\S*)?")
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?[^\s/:]+:\d{1,5}/?")


def scheduler_problem(address: str) -> str | None:
    """What is wrong with a Dask scheduler's address, if anything (`tcp://host:8786`)."""
    if _SCHEDULER.fullmatch(address.strip()):
        return None
    return (f"scheduler must be a Dask scheduler's address such as tcp://10.0.0.5:8786, "
            f"not {address!r}")


def find_site_root(start: Path) -> tuple[Path, Path | None]:
    """Walk up from `start` to the nearest site: a folder whose pyproject.toml has
    [tool.nbpress], or that holds a `content/` folder. None found: `start` itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        file = folder / CONFIG_FILE
        if file.is_file() and "nbpress" in _read_toml(file).get("tool", {}):
            return folder, file
        if (folder / "content").is_dir():
            return folder, None
    return start, None


def load_config(start: Path | str = ".") -> SiteConfig:
    """Find the site from `start` and read its settings; raise ConfigError naming every problem."""
    root, file = find_site_root(Path(start))
    table = _read_toml(file).get("tool", {}).get("nbpress", {}) if file else {}
    return config_from_table(root, table, file)


def config_from_table(root: Path, table: dict[str, Any], file: Path | None = None) -> SiteConfig:
    where = file or root / CONFIG_FILE
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("nav", "links"):
            nav = _nav(key, value, problems)
            if nav is not None:
                values[key] = nav
        elif key == "steps":
            values[key] = _steps(value, problems)
        elif key in _LISTS:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[key] = tuple(value)
            else:
                problems.append(f"[tool.nbpress] {key} must be a list of {_LISTS[key]}")
        elif key in _CHOICES:
            if value in _CHOICES[key]:
                values[key] = value
            else:
                problems.append(f"[tool.nbpress] {key} must be one of "
                                f"{', '.join(map(repr, _CHOICES[key]))}, not {value!r}")
        elif key in _SCALARS:
            kind, what = _SCALARS[key]
            if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
                values[key] = value
                _no_control(key, value, problems)
            else:
                problems.append(f"[tool.nbpress] {key} must be {what}, not {value!r}")
        else:
            problems.append(f"[tool.nbpress] has an unknown key {key!r}{_did_you_mean(key, KNOWN_KEYS)}")
    if values.get("timeout", 1) <= 0:
        problems.append(f"[tool.nbpress] timeout must be a positive number of seconds, "
                        f"not {values.pop('timeout')}")
    for key in ("paginate", "home_latest", "feed_items"):
        if values.get(key, 1) <= 0:
            problems.append(f"[tool.nbpress] {key} must be a positive number, not {values.pop(key)}")
    if "timezone" in values:
        _zone_problem(values["timezone"], problems)
    if values.get("base_url") and not _BASE_URL.fullmatch(values["base_url"]):
        problems.append(f"[tool.nbpress] base_url must be the site's address from http:// or "
                        f"https:// on, such as \"https://example.org/\", not {values.pop('base_url')!r}")
    if values.get("scheduler") and scheduler_problem(values["scheduler"]):
        problems.append(f"[tool.nbpress] {scheduler_problem(values.pop('scheduler'))}")
    if problems:
        unknown = any("unknown key" in p for p in problems)
        raise ConfigError("the site settings are not valid", where, detail="\n".join(problems),
                          hint=f"known keys: {', '.join(KNOWN_KEYS)}" if unknown
                          else "correct the values named above (README: Writing a site)")
    config = SiteConfig(root=root.resolve(), config_file=file, **values)
    _check_folders(config, where)
    _check_stylesheets(config, where)
    return config


def _steps(value: Any, problems: list[str]) -> tuple[Step, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append("[tool.nbpress] steps must be a list of [[tool.nbpress.steps]] tables")
        return ()
    steps = []
    for number, table in enumerate(value, 1):
        where = f"[[tool.nbpress.steps]] number {number}"
        for key in table:
            if key not in STEP_KEYS:
                problems.append(f"{where} has an unknown key {key!r}{_did_you_mean(key, STEP_KEYS)}"
                                f" (known: {', '.join(STEP_KEYS)})")
        notebook, writes = table.get("notebook"), table.get("writes", [])
        reads, parameters = table.get("reads", []), table.get("parameters", {})
        paths = [notebook] + (writes if isinstance(writes, list) else []) \
            + (reads if isinstance(reads, list) else [])
        if not isinstance(notebook, str) or not notebook.endswith((".ipynb", ".md")):
            problems.append(f"{where} needs notebook = \"notebooks/_data/x.ipynb\" (a path "
                            "from the site's folder)")
        elif not all(isinstance(p, str) for p in paths):
            problems.append(f"{where}: writes and reads must be lists of paths")
        elif any(p.startswith("/") or ".." in p.split("/") or not p for p in paths):
            problems.append(f"{where}: {notebook}, its writes and reads must be paths inside "
                            "the site's folder (no /, no ..)")
        if not isinstance(parameters, dict):
            problems.append(f"{where}: parameters must be a table, e.g. parameters = {{ days = 30 }}")
        refresh = _duration(table.get("refresh"), where, problems)
        keep = table.get("keep", 5)
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            problems.append(f"{where}: keep must be a whole number of runs kept, at least 1")
            keep = 5
        if isinstance(notebook, str) and isinstance(parameters, dict):
            steps.append(Step(notebook, tuple(parameters.items()),
                              tuple(writes) if isinstance(writes, list) else (),
                              tuple(reads) if isinstance(reads, list) else (), refresh, keep))
    return tuple(steps)


def _duration(value: Any, where: str, problems: list[str]) -> int | None:
    """"6h", "30m", "1d12h", "90s" as seconds; None when not given."""
    if value is None:
        return None
    text = value.replace(" ", "") if isinstance(value, str) else ""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        problems.append(f"{where}: refresh must be a duration such as \"6h\", \"30m\" or "
                        f"\"1d\", not {value!r}")
        return None
    return sum(int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in parts)


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return dt.timezone.utc if name == "UTC" else ZoneInfo(name)


def _zone_problem(name: str, problems: list[str]) -> None:
    """A problem when `name` is no time zone this machine knows."""
    from zoneinfo import ZoneInfoNotFoundError

    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"[tool.nbpress] timezone {name!r} is not a time zone name this machine "
                        "knows: use one such as \"Europe/Paris\", \"America/New_York\" or "
                        "\"UTC\" (without the system's zone data, pip install tzdata)")


def _check_stylesheets(config: SiteConfig, where: Path) -> None:
    for css in config.extra_css:
        path = (config.root / css).resolve()
        if config.root not in path.parents or not path.is_file():
            raise ConfigError(f"extra_css names {css!r}, which is not a file inside the site",
                              where, hint="give the path of a stylesheet from the site's "
                                          "folder, e.g. extra_css = [\"style/site.css\"]")


def _nav(key: str, value: Any, problems: list[str]) -> tuple[NavLink, ...] | None:
    ok = isinstance(value, list) and all(
        isinstance(item, dict) and set(item) == {"title", "url"}
        and all(isinstance(v, str) for v in item.values()) for item in value)
    if not ok:
        problems.append(f'[tool.nbpress] {key} must be a list of {{title = "...", url = "..."}} tables')
        return None
    for item in value:
        _no_control(key, item["title"] + item["url"], problems)
        scheme = item["url"].partition(":")[0].lower() if ":" in item["url"].split("/")[0] else ""
        if scheme not in ("", "http", "https", "mailto"):
            problems.append(f"[tool.nbpress] {key}: {item['url']!r} is not a web address "
                            "(http, https, mailto, or a path of the site)")
    return tuple(NavLink(item["title"], item["url"]) for item in value)


def _no_control(key: str, value: Any, problems: list[str]) -> None:
    bad = _CONTROL.search(value) if isinstance(value, str) else None
    if bad:
        problems.append(f"[tool.nbpress] {key} holds the control character "
                        f"U+{ord(bad.group()):04X}, which a web page cannot show: remove it")


def _check_folders(config: SiteConfig, where: Path) -> None:
    out = config.output.resolve()
    for name, folder in (("content_dir", config.content), ("notebooks_dir", config.notebooks)):
        folder = folder.resolve()
        if out == folder or out in folder.parents or folder in out.parents:
            raise ConfigError(f"output_dir {config.output_dir!r} overlaps {name} "
                              f"{getattr(config, name)!r}", where,
                              hint="give the output its own folder, e.g. output_dir = \"output\"")
    if out == config.root or config.root not in out.parents:
        raise ConfigError(f"output_dir {config.output_dir!r} must be a folder inside the site", where,
                          hint="use a folder name such as \"output\"")


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(file: Path | None) -> dict[str, Any]:
    if file is None:
        return {}
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", file,
                          hint="correct the TOML syntax at the position named") from None
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", file, hint="save the file as UTF-8") from None

