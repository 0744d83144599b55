"""Typed errors that carry the file and key a user has to fix.

The CLI turns any :class:`SercompressError` into one clear line on stderr and
exit code 2, never a traceback. Raise these for bad *input*; programming errors
stay ordinary exceptions.
"""

from __future__ import annotations

from pathlib import Path


class SercompressError(Exception):
    """Base class: a problem with something the user gave us."""

    def __init__(self, message: str, *, path: str | Path | None = None, key: str | None = None):
        self.path = Path(path) if path is not None else None
        self.key = key
        self.message = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.key:
                where += f": key '{self.key}'"
            where += ": "
        elif self.key:
            where = f"key '{self.key}': "
        return f"{where}{self.message}"


class ConfigError(SercompressError):
    """A TOML file (run config, baseline, tolerance) is malformed or invalid."""


class RecipeError(ConfigError):
    """A compression recipe is invalid or asks for something tfmot cannot do."""


class ProfileError(SercompressError):
    """A hardware profile is invalid, unknown, or an artifact cannot be profiled."""


class ArtifactError(SercompressError):
    """An exported model file is missing, corrupt, or does not show its claim."""


class DataError(SercompressError):
    """A corpus directory, audio file or label is unusable."""


class RunError(SercompressError):
    """A run directory is locked, incomplete, or inconsistent."""
