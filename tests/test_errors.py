"""Errors: one module defines them all; a damaged file is the user's problem, a bug is ours."""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import pytest

from sercompress import errors
from sercompress.errors import (
    ConfigError,
    ProfileError,
    SercompressError,
    is_damaged_input,
    reading,
)
from sercompress.profile import onnx_reader, tflite_reader

SRC = Path(__file__).resolve().parents[1] / "src" / "sercompress"


def test_every_exception_class_is_defined_in_errors_py():
    """``errors.py`` is the one place a reader looks for what can go wrong."""
    elsewhere = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    (b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")).endswith(("Error", "Exception"))
                    for b in node.bases):
                elsewhere.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert elsewhere == []


def test_every_error_is_a_sercompress_error():
    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)
               and v.__module__ == errors.__name__]
    assert len(classes) >= 8 and all(issubclass(c, SercompressError) for c in classes)


def _raise(exc: BaseException):
    raise exc


@pytest.mark.parametrize("exc", [struct.error("unpack_from requires a buffer"), IndexError("list index"),
                                 ValueError("cannot reshape"), OverflowError("too big")])
def test_decode_errors_become_one_error_naming_the_file(exc):
    with pytest.raises(ProfileError) as info, reading("m.tflite", "corrupt file", ProfileError):
        _raise(exc)
    assert str(info.value).startswith(f"m.tflite: corrupt file ({type(exc).__name__}: ")
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("exc", [TypeError("unsupported operand"), AttributeError("no attribute 'x'"),
                                 KeyError("k"), NameError("n"), ZeroDivisionError("z")])
def test_a_bug_in_our_code_is_not_reported_as_a_corrupt_file(exc):
    with pytest.raises(type(exc)), reading("m.tflite", "corrupt file", ProfileError, decoders=("flatbuffers",)):
        _raise(exc)


def test_anything_a_decoder_raises_is_the_files_fault():
    """flatbuffers raises TypeError for a negative offset read from damaged bytes."""
    from flatbuffers import number_types

    with pytest.raises(TypeError) as info:
        number_types.enforce_number(-5, number_types.Uint32Flags)
    assert is_damaged_input(info.value, ("flatbuffers",))
    assert not is_damaged_input(info.value, ("onnx",))
    assert not is_damaged_input(TypeError("ours"), ("flatbuffers",))


def test_an_error_without_a_file_gets_the_file_and_keeps_its_type():
    with pytest.raises(ConfigError) as info, reading("r.toml", "bad", ProfileError):
        raise ConfigError("must be positive", key="epochs")
    assert type(info.value) is ConfigError and str(info.value) == "r.toml: key 'epochs': must be positive"


def test_tflite_reader_reports_damage_but_not_bugs(monkeypatch):
    head = b"\x1c\x00\x00\x00TFL3"
    with pytest.raises(ProfileError, match="x.tflite: corrupt or truncated TFLite file"):
        tflite_reader.parse_tflite("x.tflite", head + b"\x00" * 8)     # offsets past the end

    def bug(*_):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(tflite_reader, "_parse", bug)
    with pytest.raises(TypeError, match="unsupported operand"):
        tflite_reader.parse_tflite("x.tflite", head + b"\x00" * 64)


def test_onnx_reader_reports_a_bug_in_the_builder_as_a_bug(monkeypatch):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]))
    data = model.SerializeToString()
    assert onnx_reader.parse_onnx("m.onnx", data).layers          # the real file reads

    def bug(self, file_bytes):
        return self.not_an_attribute

    monkeypatch.setattr(onnx_reader._Builder, "build", bug)
    with pytest.raises(AttributeError):
        onnx_reader.parse_onnx("m.onnx", data)
    assert onnx.__name__ == "onnx"
