"""The base of every record stages hand each other, and how a versioned record is stored.

A stage returns a frozen :class:`Record` (a pydantic model: immutable, unknown keys are
errors), the next stage takes it as is, and what is written to disk
(``variant.json``, the assessment cache, ``summary.json``) is that same record dumped
to JSON -- so reading it back gives a value equal to the one computed, validated field
by field. Where each record is defined and which stage produces and consumes it is
tabled in ARCHITECTURE.md ("Records").

Persisted records carry a ``schema_version``. :func:`read_record` refuses another
version with a clear error (or, for a cache, :func:`read_cached` answers ``None`` so
the caller recomputes): a record is never half-understood.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from .errors import SercompressError
from .jsonfile import read_json
from .storage import atomic_write_text
from .tomlconfig import FrozenModel, validation_message

#: Every record: immutable, and a key nobody declared is an error, not silently kept.
Record = FrozenModel

R = TypeVar("R", bound=FrozenModel)

#: Records on disk are small (a summary is a few hundred kB); refuse to parse far larger.
MAX_RECORD_BYTES = 64 * 1024 * 1024


def write_record(path: str | Path, record: FrozenModel) -> Path:
    """Atomic write of ``record`` as JSON (the exact form :func:`read_record` validates)."""
    return atomic_write_text(Path(path), record.model_dump_json(indent=1) + "\n")


def read_record(path: str | Path, model: type[R], *, version: int,
                error: type[SercompressError] = SercompressError, what: str = "record") -> R:
    """Read and validate ``path`` as ``model``; any other ``schema_version`` is ``error``."""
    data = read_json(path, error, MAX_RECORD_BYTES)  # size, syntax, depth: one clear error
    return parse_record(data, model, version=version, path=path, error=error, what=what)


def parse_record(data: object, model: type[R], *, version: int, path: str | Path | None = None,
                 error: type[SercompressError] = SercompressError, what: str = "record",
                 hint: str = "Re-run the stage that wrote it.") -> R:
    """``data`` (parsed JSON) as ``model``; any other ``schema_version`` or an invalid field is ``error``."""
    check_version(data, version, path, error, what, hint)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise error(f"invalid {what}: {msg}", path=path, key=key or None) from None


def read_cached(path: str | Path, model: type[R], *, version: int) -> R | None:
    """A cache entry as ``model``, or ``None`` (missing, damaged, or of another version)."""
    try:
        return read_record(path, model, version=version)
    except SercompressError:
        return None


def check_version(data: object, version: int, path: str | Path | None,
                  error: type[SercompressError] = SercompressError, what: str = "record",
                  hint: str = "Re-run the stage that wrote it.") -> None:
    """Refuse anything but ``version`` before field validation talks about fields."""
    if not isinstance(data, dict):
        raise error(f"{what}: top level must be a JSON object", path=path)
    if "schema_version" not in data:
        raise error(f"no schema_version: not a sercompress {what}", path=path, key="schema_version")
    found = data["schema_version"]
    if found != version or isinstance(found, bool):
        raise error(f"{what} schema version {found!r} is not supported; this sercompress reads "
                    f"version {version}. {hint}", path=path,
                    key="schema_version")
