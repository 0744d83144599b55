"""A .keras file is validated before Keras sees it: no foreign module, no lambda, no giant layer."""

import json
import subprocess
import sys
import zipfile

import pytest

from sercompress.errors import RunError
from sercompress.kerasfile import check_config, check_keras_file


def _dense(units, fan_in=8):
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": "d", "units": units, "activation": "softmax",
                       "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                              "config": {"seed": None}, "registered_name": None}},
            "build_config": {"input_shape": [None, fan_in]}}


def _model(*layers, **top):
    inp = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
           "config": {"batch_input_shape": [None, 8], "dtype": "float32", "name": "x"}}
    return {"module": "tf_keras.src.engine.functional", "class_name": "Functional",
            "registered_name": "Functional", "config": {"name": "m", "layers": [inp, *layers]}, **top}


def _zip(tmp_path, config, weight_bytes=4096):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"\0" * weight_bytes)
    return path


def test_a_plain_model_passes(tmp_path):
    check_keras_file(_zip(tmp_path, _model(_dense(4))))


@pytest.mark.parametrize("config, match", [
    (_model(_dense(4), module="this"), "module 'this'"),
    (_model({**_dense(4), "module": "os"}), "module 'os'"),
    (_model({**_dense(4), "module": "kerasx.layers"}), "module 'kerasx.layers'"),
    (_model({**_dense(4), "class_name": "Lambda"}), "class 'Lambda'"),
    (_model({**_dense(4), "class_name": "TFOpLambda"}), "class 'TFOpLambda'"),
    (_model({"class_name": "__lambda__", "config": {"value": "x"}}), "class '__lambda__'"),
    (_model({**_dense(4), "config": {"units": 4, "activation": {
        "module": "builtins", "class_name": "function", "config": "eval", "registered_name": None}}}),
     "module 'builtins'"),
    (_model(_dense(2**27)), "units = 134217728"),
    (_model(_dense(2**19, fan_in=2**10)), "at least"),         # within the cap, beyond the weights
    (_model({**_dense(4), "config": {"units": 4, "kernel_size": [0, 3]}}), "kernel_size"),
    ({"class_name": "Dense"}, "top level"),
])
def test_unsafe_or_oversized_config_is_refused(tmp_path, config, match):
    with pytest.raises(RunError, match=match) as e:
        check_keras_file(_zip(tmp_path, config))
    assert "model.keras" in str(e.value)


def test_zip_bomb_and_foreign_members_are_refused_from_the_directory(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(_model(_dense(4))))
        z.writestr("model.weights.h5", b"\0" * (300 * 1024 * 1024))
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(RunError, match="inflates to"):
        check_keras_file(path)
    other = _zip(tmp_path, _model(_dense(4)))
    with zipfile.ZipFile(other, "a") as z:
        z.writestr("payload.py", "print(1)")
    with pytest.raises(RunError, match="unexpected member"):
        check_keras_file(other)


def test_not_a_zip(tmp_path):
    p = tmp_path / "model.keras"
    p.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(RunError, match="not a readable .keras file"):
        check_keras_file(p)


def test_parameter_bound_uses_the_weight_file_size():
    check_config(_model(_dense(100, fan_in=100)), weight_bytes=2 * 100 * 101)
    with pytest.raises(ValueError, match="at least 10,100 parameters"):
        check_config(_model(_dense(100, fan_in=100)), weight_bytes=2 * 100 * 101 - 1)


@pytest.mark.slow
def test_real_models_pass_and_load_reference_never_imports_the_named_module(tmp_path):
    """The shipped architectures' saved configs pass; a 'module': 'this' run dir is refused in
    load_reference before tf_keras imports it (checked in a fresh interpreter)."""
    code = f"""
import json, sys, zipfile
from pathlib import Path
from sercompress.models import build_model, light_sernet
from sercompress.kerasfile import check_keras_file
from sercompress.storage import mark_done
from sercompress.train import load_reference
from sercompress.errors import RunError
out = Path({str(tmp_path)!r})
m = light_sernet(4, duration_s=1.0)
m.save(out / "ls.keras")
check_keras_file(out / "ls.keras")
run = out / "run"; run.mkdir()
src = zipfile.ZipFile(out / "ls.keras")
with zipfile.ZipFile(run / "model.keras", "w") as z:
    for i in src.infolist():
        data = src.read(i.filename)
        if i.filename == "config.json":
            c = json.loads(data); c["module"] = "this"; data = json.dumps(c)
        z.writestr(i.filename, data)
(run / "run.json").write_text(json.dumps({{"schema_version": 1, "kind": "reference", "config_hash": "x",
    "model": "light_sernet", "data": {{}}, "train": {{}}, "classes": ["a", "b", "c", "d"],
    "input_shape": [1, 40, 1], "weights_sha256": "0", "data_fingerprint": "x"}}))
mark_done(run)
try:
    load_reference(run)
except RunError as e:
    print("REFUSED", e)
print("IMPORTED" if "this" in sys.modules else "CLEAN")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED" in out.stdout and "module 'this'" in out.stdout
    assert out.stdout.strip().endswith("CLEAN")
    assert "Beautiful is better than ugly" not in out.stdout
