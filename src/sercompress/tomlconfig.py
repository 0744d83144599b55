"""One loader for every declarative file: recipes, profiles, baselines, configs.

Files users hand us are parsed (never executed) and validated into frozen
pydantic models. Any problem becomes a :class:`ConfigError` (or the subclass
the caller asks for) naming the file, the offending key and, where pydantic
knows them, the valid choices.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError
from .jsonfile import check_structure, value_message

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

M = TypeVar("M", bound=BaseModel)

#: Declarative files are small; refuse anything that could make us allocate a lot.
MAX_TOML_BYTES = 256 * 1024


class FrozenModel(BaseModel):
    """Base for file-backed configs: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def read_toml(path: str | Path, error: type[ConfigError] = ConfigError) -> dict:
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a TOML file" if path.is_dir() else \
            "is not a regular file" if path.exists() else "file not found"
        raise error(what, path=path)
    size = path.stat().st_size
    if size > MAX_TOML_BYTES:
        raise error(f"file is {size} bytes, more than the {MAX_TOML_BYTES} allowed", path=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise error(f"not UTF-8 text ({e.reason})", path=path) from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"not valid TOML: {e}", path=path) from None
    except ValueError as e:  # an integer of more than 4,300 digits (Python's int-string limit)
        raise error(value_message(e), path=path) from None
    except RecursionError:  # arrays nested thousands deep
        raise error("arrays/tables nested too deep", path=path) from None
    check_structure(data, path, error)
    return data


def validation_message(exc: ValidationError) -> tuple[str, str]:
    """First pydantic error as (dotted key, readable message)."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = err.get("msg", "invalid value")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        msg += f" (valid choices: {ctx['expected']})"
    if len(exc.errors()) > 1:
        msg += f" (and {len(exc.errors()) - 1} more problem(s))"
    return key, msg


def parse_model(model: type[M], data: dict, path: str | Path, error: type[ConfigError] = ConfigError) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise error(msg, path=path, key=key or None) from None


def load_toml_model(path: str | Path, model: type[M], error: type[ConfigError] = ConfigError) -> M:
    return parse_model(model, read_toml(path, error), path, error)
