"""Names that become paths, and output paths checked before any work is done.

A run-config ``name`` becomes ``reports/<name>``; a recipe name becomes a
variant directory. Such names are matched against one safe pattern, so a
config cannot write outside the directory it is meant for
(``"../../escaped_out"``). Output files and directories given on the command
line are checked before computing, so an unusable ``--junit`` or ``--out``
does not throw away minutes of results.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError

#: Letters, digits, ``_ . -``; starts with a letter or digit; no separators, no ``..``.
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


def check_output_file(path: str | Path, key: str) -> Path:
    """``path`` can be created or replaced as a regular file: not a directory, parent usable."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ConfigError("exists and is not a regular file (a directory?); give a file path",
                          path=path, key=key)
    _check_parent(path.parent, key)
    return path


def check_output_dir(path: str | Path, key: str) -> Path:
    """``path`` is a directory or can be created as one."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise ConfigError("exists and is not a directory; give a directory path", path=path, key=key)
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError("directory is not writable", path=path, key=key)
        return path
    _check_parent(path.parent, key)
    return path


def _check_parent(parent: Path, key: str) -> None:
    """The nearest existing ancestor must be a writable directory (mkdir -p creates the rest)."""
    ancestor = parent if str(parent) else Path(".")
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError("a parent of the output path is not a directory", path=ancestor, key=key)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError("cannot create the output here: directory not writable", path=ancestor, key=key)
