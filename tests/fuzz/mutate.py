"""Mutations of real files: what a hostile or broken copy of a file can look like.

Every mutation is a pure function of the seed bytes and a ``random.Random``, so a case is
reproduced from its (kind, seed) alone: Hypothesis draws those, ``bench/hostile.py`` draws
them from a fixed-seed generator.

* binary (TFLite, ONNX, WAV, .keras): bit flips, truncation, 32-bit words overwritten with
  hostile sizes (2**31 - 1, 2**32 - 1, 2**31, 0, -1), a chunk zeroed or duplicated;
* JSON: a random leaf of the parsed tree replaced (huge and negative integers, NaN, inf,
  1e308, deep nesting, a ragged or huge list, a path-traversal string), or the text
  truncated / nested thousands deep / given a 5,000-digit integer;
* TOML: the value of a random ``key = value`` line replaced the same way.
"""

from __future__ import annotations

import json
import random
import re
import struct
from collections.abc import Callable

HOSTILE_WORDS = (0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0, 0x00FFFFFF, 0x7FFF, 1 << 20)
HOSTILE_VALUES: tuple[object, ...] = (
    "9" * 5000, "9" * 30, 2**63, -(2**63) - 1, -1, 0, 2**31 - 1, 10**12, "nan", "inf", "-inf",
    "1e308", "-1e308", "1e-320", '"../../escaped_out"', '""', '"' + "x" * 5000 + '"', "true",
    "[]", "{}", "[" * 25_000 + "1" + "]" * 25_000, "[" * 70 + "1" + "]" * 70,
)


# -- binary -------------------------------------------------------------------------

def flip_bits(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 2, 8, 64))):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.choice((0, 1, 7, 8, 16, 44, rng.randrange(len(data))))]


def hostile_word(data: bytes, rng: random.Random) -> bytes:
    """A 32-bit little-endian word (a size, offset, count or rate) set to a hostile value."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 4, 16))):
        i = rng.randrange(0, max(len(buf) - 4, 1)) & ~3
        struct.pack_into("<I", buf, i, rng.choice(HOSTILE_WORDS))
    return bytes(buf)


def zero_or_duplicate(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    n = rng.randrange(1, min(4096, len(data) - i) + 1)
    if rng.random() < 0.5:
        return data[:i] + bytes(n) + data[i + n:]
    return data[:i + n] + data[i:i + n] + data[i + n:]


BINARY: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip_bits": flip_bits, "truncate": truncate, "hostile_word": hostile_word,
    "zero_or_duplicate": zero_or_duplicate,
}


# -- text ---------------------------------------------------------------------------

def _value(rng: random.Random) -> str:
    v = rng.choice(HOSTILE_VALUES)
    return v if isinstance(v, str) else str(v)


def json_leaf(text: str, rng: random.Random) -> str:
    """Replace one random leaf (or list) of the parsed tree with a hostile value."""
    tree = json.loads(text)
    slots: list[tuple[object, object]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            slots.append((node, k))
            stack.append(v)
    marker = "\u0000HOSTILE\u0000"
    container, key = rng.choice(slots)
    container[key] = marker  # type: ignore[index]
    choice = rng.random()
    if choice < 0.15:  # a ragged or over-long list where a list is
        value = json.dumps([[1, 2, 3], [4]] if rng.random() < 0.5 else [[1] * 300] * 300)
    else:
        value = _value(rng)
        value = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity", "true": "true"}.get(value, value)
    return json.dumps(tree).replace(json.dumps(marker), value, 1)


_TOML_LINE = re.compile(r"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(.+)$", re.M)


def toml_value(text: str, rng: random.Random) -> str:
    """Replace the value of one random ``key = value`` line."""
    lines = list(_TOML_LINE.finditer(text))
    if not lines:
        return text + "\nx = " + _value(rng) + "\n"
    m = rng.choice(lines)
    return text[: m.start(2)] + _value(rng) + text[m.end(2):]


def text_truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def text_nest(text: str, rng: random.Random) -> str:
    """Append or insert arrays nested tens of thousands deep."""
    depth = rng.choice((100, 5_000, 30_000))
    return text.replace("=", "= " + "[" * depth + "1" + "]" * depth + " #", 1) if "=" in text \
        else "[" * depth + text + "]" * depth


TEXT: dict[str, Callable[[str, random.Random], str]] = {
    "json_leaf": json_leaf, "toml_value": toml_value, "truncate": text_truncate, "nest": text_nest,
}


def mutate(kind: str, data: bytes, mutation: str, seed: int) -> bytes:
    """Apply ``mutation`` (a key of BINARY or TEXT) to the seed ``data`` of ``kind``."""
    rng = random.Random(seed)
    if mutation in BINARY:
        return BINARY[mutation](data, rng)
    text = data.decode("utf-8")
    if mutation == "json_leaf" and kind != "json":
        mutation = "toml_value"
    if mutation == "toml_value" and kind == "json":
        mutation = "json_leaf"
    return TEXT[mutation](text, rng).encode("utf-8")


def mutations_for(kind: str) -> tuple[str, ...]:
    if kind in ("json", "toml"):
        return ("json_leaf" if kind == "json" else "toml_value", "truncate", "nest", "flip_bits")
    return tuple(BINARY)
