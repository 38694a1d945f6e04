"""Jinja2's bytecode cache for the templates that come installed (nbpress's theme, its
nbconvert template and nbconvert's own): compiled once a machine, as Python compiles modules,
not once a build (the theme's take 50-70 ms, nbconvert's 150-250 ms in each page worker). The
cache is Jinja2's own `FileSystemBytecodeCache`, in the user's cache folder
(`$XDG_CACHE_HOME/nbpress/templates`, else `~/.cache/nbpress/templates`); each entry is checked
against its template's source (an edited template is compiled again) and written whole (a
temporary file, then a rename). A site's own templates are compiled each
build: they are the author's, and a cache of every site's would only grow."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def installed_templates_cache(installed: Callable[[Path], bool]):
    """The cache for templates whose file `installed(path)` accepts; None where its folder
    cannot be made (no home folder, or one that cannot be written)."""
    import jinja2
    from jinja2.bccache import Bucket

    class Installed(jinja2.FileSystemBytecodeCache):
        def get_bucket(self, environment, name, filename, source):
            if filename is None or not installed(Path(filename)):
                return Bucket(environment, "", self.get_source_checksum(source))
            try:
                return super().get_bucket(environment, name, filename, source)
            except Exception:               # a damaged entry: compiled, and written again
                return Bucket(environment, self.get_cache_key(name, filename),
                              self.get_source_checksum(source))

        def set_bucket(self, bucket) -> None:
            if bucket.key:                  # "": a site's template, not kept
                try:
                    super().set_bucket(bucket)
                except OSError:             # a full disk: compiled again next time
                    pass

    try:
        folder = cache_folder() / "templates"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return Installed(str(folder))
    except (OSError, RuntimeError):     # RuntimeError: no home folder to be found
        return None


def cache_folder() -> Path:
    """nbpress's folder of the user's caches (the XDG rule: a relative XDG_CACHE_HOME is
    ignored)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "nbpress"
