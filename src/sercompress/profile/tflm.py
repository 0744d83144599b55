"""TFLite Micro ground truth: the real tensor-arena size of an int8 .tflite.

The Python ``tflite_micro`` runtime allocates the model with TFLM's own
allocator and planner; ``print_allocations()`` prints the arena use (total,
head = the planned activations, tail = persistent data) from C++, which Python
cannot capture with ``sys.stdout``. So the interpreter runs in a child Python
process whose output is parsed: this also keeps a crash in the C++ runtime
(an unsupported op aborts) from taking the caller down.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ..errors import ProfileError
from .types import TflmArena

#: Arena handed to the interpreter: generous, so the measured use is never capped by it.
ARENA_LIMIT_BYTES = 256 * 1024 * 1024
TIMEOUT_S = 300

_CHILD = """
import sys
from tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]))
it.print_allocations()
"""
_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def arena_bytes(path: str | Path) -> int:
    """Total tensor-arena bytes TFLite Micro allocates for ``path``."""
    return arena_usage(path).total_bytes


def arena_usage(path: str | Path) -> TflmArena:
    path = Path(path)
    if not path.is_file():
        raise ProfileError("no such file", path=path)
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(ARENA_LIMIT_BYTES)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ProfileError(f"TFLite Micro did not finish within {TIMEOUT_S} s", path=path) from None
    return parse_allocations(proc.stdout + "\n" + proc.stderr, proc.returncode, path)


def parse_allocations(log: str, returncode: int, path: str | Path) -> TflmArena:
    found = {m.group(1): int(m.group(2)) for m in _LINE.finditer(log)}
    if returncode != 0 or "total" not in found:
        lines = [ln for ln in log.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit code {returncode}"
        raise ProfileError(f"TFLite Micro could not allocate the model: {reason}", path=path)
    return TflmArena(total_bytes=found["total"], head_bytes=found.get("head", 0),
                     tail_bytes=found.get("tail", 0))
