"""The safe JSON and TOML loaders: hostile numbers and nesting are one clear error naming the file."""

import pytest

from sercompress.errors import ConfigError, RunError
from sercompress.jsonfile import MAX_DEPTH, read_json
from sercompress.tomlconfig import read_toml

HUGE = "9" * 5000           # past Python's 4,300-digit int-string limit
BIG = "9" * 30              # parses, but outside int64
DEEP = 30_000               # past the recursion limit


@pytest.mark.parametrize("text, match", [
    ('{"a": ' + HUGE + "}", "more than 4300 digits"),
    ('{"a": ' + BIG + "}", "out of range"),
    ("[" * DEEP + "]" * DEEP, "nested too deep"),
    ('{"a":' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}", f"more than {MAX_DEPTH} deep"),
    ("{not json", "not valid JSON"),
])
def test_hostile_json_is_one_error_naming_the_file(tmp_path, text, match):
    p = tmp_path / "x.json"
    p.write_text(text)
    with pytest.raises(RunError, match=match) as e:
        read_json(p, RunError)
    assert str(p) in str(e.value)


def test_json_size_is_checked_before_reading(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("[" + "1," * 1000 + "1]")
    with pytest.raises(ConfigError, match="more than the 100 allowed"):
        read_json(p, max_bytes=100)


def test_json_directory_is_not_a_file(tmp_path):
    with pytest.raises(ConfigError, match="not a regular file"):
        read_json(tmp_path)


@pytest.mark.parametrize("text, match", [
    (f"clock_hz = {HUGE}\n", "more than 4300 digits"),
    (f"clock_hz = {BIG}\n", "out of range"),
    ("a = " + "[" * DEEP + "]" * DEEP + "\n", "nested too deep"),
])
def test_hostile_toml_is_one_error_naming_the_file(tmp_path, text, match):
    p = tmp_path / "x.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match) as e:
        read_toml(p)
    assert str(p) in str(e.value)


def test_toml_directory_and_fifo_are_named(tmp_path):
    import os

    with pytest.raises(ConfigError, match="is a directory"):
        read_toml(tmp_path)
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_toml(fifo)
