"""The one reader of JSON files a user can hand us: summaries, run records, variant records.

``json.loads`` on untrusted text has three failure modes besides bad syntax
that surface as tracebacks: an integer of more than 4,300 digits (Python's
int-string limit, ``ValueError``), arrays or objects nested thousands deep
(``RecursionError``) and a file too large to hold in memory. Each becomes one
:class:`SercompressError` (the caller's subclass) naming the file; the size is
checked from ``stat`` before a byte is read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError, SercompressError

#: Default bound for records we write ourselves (run.json, variant.json, run-config.json).
MAX_RECORD_BYTES = 4 * 1024 * 1024
#: Deeper than any file this package writes (summaries nest 6 levels) and far below the recursion limit.
MAX_DEPTH = 64
MAX_INT = 2**63 - 1


def read_json(path: str | Path, error: type[SercompressError] = ConfigError,
              max_bytes: int = MAX_RECORD_BYTES) -> Any:
    """Parse ``path`` as JSON, or raise ``error`` naming the file; never a traceback."""
    path = Path(path)
    if not path.is_file():
        raise error("file not found (or not a regular file)", path=path)
    size = path.stat().st_size
    if size > max_bytes:
        raise error(f"file is {size} bytes, more than the {max_bytes} allowed", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"not UTF-8 text ({e.reason})", path=path) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror or e}", path=path) from None
    return parse_json(text, path, error)


def parse_json(text: str, path: str | Path | None, error: type[SercompressError] = ConfigError) -> Any:
    """``json.loads`` with the int-digit, nesting and syntax failures turned into ``error``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"not valid JSON: {e}", path=path) from None
    except ValueError as e:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise error(value_message(e), path=path) from None
    except RecursionError:
        raise error("arrays/objects nested too deep", path=path) from None
    check_structure(data, path, error)
    return data


def value_message(exc: ValueError) -> str:
    """A parser's ValueError in the user's terms (Python's own advice to raise the limit is not theirs)."""
    if "integer string conversion" in str(exc):
        return f"an integer has more than {sys.get_int_max_str_digits()} digits"
    return f"unreadable value: {exc}"


def check_structure(data: Any, path: str | Path | None, error: type[SercompressError] = ConfigError,
                    limit: int = MAX_DEPTH) -> None:
    """Refuse containers nested deeper than ``limit`` and integers outside int64, without recursion.

    The parser stops at Python's recursion limit (~1000); code that walks the
    result recursively (pydantic, dict flatteners) could still hit it at a few
    hundred, so the bound is far below both. No figure we read is outside
    int64; a larger one would reach ``float()`` or NumPy as ``OverflowError``.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise error(f"arrays/objects nested more than {limit} deep", path=path)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for c in children:
            if isinstance(c, (dict, list)):
                stack.append((c, depth + 1))
            elif isinstance(c, int) and not isinstance(c, bool) and not -MAX_INT <= c <= MAX_INT:
                raise error(f"integer {str(c)[:12]}... ({len(str(abs(c)))} digits) is out of range "
                            f"(|n| <= 2**63 - 1)", path=path)
