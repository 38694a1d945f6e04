"""The error family. Every error names the file it is about, and says what to do."""
from __future__ import annotations

from pathlib import Path


class NbpressError(Exception):
    """An error about one file: where it is, what is wrong, and how to fix it."""

    def __init__(self, message: str, path: Path | str | None = None, *,
                 line: int | None = None, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        self.detail = detail

    def __reduce__(self):
        """Keep path, line, hint and detail when an error crosses a process boundary."""
        return (_rebuild, (type(self), self.message, self.path, self.line, self.hint,
                           self.detail))

    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        head = f"{self.where()}: {self.message}" if self.path else self.message
        parts = [head]
        if self.detail:
            parts.append(self.detail)
        if self.hint:
            parts.append(f"fix: {self.hint}")
        return "\n".join(parts)


def _rebuild(cls, message, path, line, hint, detail):
    return cls(message, path, line=line, hint=hint, detail=detail)


class ConfigError(NbpressError):
    """The site settings in [tool.nbpress] are wrong."""


class PageError(NbpressError):
    """A page cannot be read: bad YAML, bad encoding, a bad field."""


class LinkError(NbpressError):
    """A page refers to a file that is missing or outside the site."""


class ExecutionError(NbpressError):
    """A page's code failed: a cell raised, timed out, or the kernel died."""


class OutputError(NbpressError):
    """The output folder cannot be written safely."""
