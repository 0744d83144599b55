"""to_tflite modes and to_onnx: the files load, run, and store the dtypes each mode promises."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.errors import ArtifactError
from sercompress.export.onnx import to_onnx
from sercompress.export.runtime import predict_keras, run_artifact
from sercompress.export.tflite import to_tflite
from sercompress.export.verify import Claim, verify_tflite
from sercompress.storage import atomic_write_bytes

pytestmark = pytest.mark.slow

#: mode -> kernel dtypes the file must hold (conv1 has 72 weights: dynamic keeps it float)
EXPECTED = {None: {"float32"}, "dynamic": {"float32", "int8"}, "float16": {"float16"},
            "int8": {"int8"}, "int16x8": {"int8"}}


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_each_mode_converts_runs_and_stores_its_dtypes(model, batch, tmp_path, mode):
    from ai_edge_litert.interpreter import Interpreter

    int8_io = mode == "int8"
    path = atomic_write_bytes(tmp_path / "m.tflite", to_tflite(model, mode, batch, int8_io=int8_io))
    probs = run_artifact(path, batch)  # quantises int8 input / dequantises int8 output itself
    assert probs.shape == (len(batch), 4) and np.allclose(probs.sum(-1), 1, atol=0.05)
    assert set(verify_tflite(path, [Claim()]).weight_dtypes) == EXPECTED[mode]
    error = np.abs(probs - predict_keras(model, batch)).max()
    assert error < (1e-2 if mode in (None, "float16") else 0.1)
    io_dtype = Interpreter(model_path=str(path)).get_input_details()[0]["dtype"]
    assert io_dtype == (np.int8 if int8_io else np.float32)


def test_bad_arguments_are_refused(model, batch):
    with pytest.raises(ValueError, match="unknown PTQ mode"):
        to_tflite(model, "int4", batch)
    with pytest.raises(ValueError, match="needs representative"):
        to_tflite(model, "int8")
    with pytest.raises(ValueError, match="int8_io needs"):
        to_tflite(model, "dynamic", batch, int8_io=True)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(model, opset=13)


def test_onnx_export_matches_keras(model, batch, tmp_path):
    import onnx

    data = to_onnx(model)
    assert onnx.load_from_string(data).opset_import[0].version >= 17
    path = atomic_write_bytes(tmp_path / "m.onnx", data)
    assert np.abs(run_artifact(path, batch) - predict_keras(model, batch)).max() < 1e-4


def test_onnx_bytes_do_not_depend_on_what_the_process_converted_before(model):
    """tf2onnx numbers inserted nodes from a process-wide counter: reset per file, a unit gives the
    same file whichever worker (and after whichever other units) converts it."""
    assert len({to_onnx(model) for _ in range(3)}) == 1


def test_runtime_rejects_missing_and_corrupt_files(tmp_path, batch):
    with pytest.raises(ArtifactError, match="not found"):
        run_artifact(tmp_path / "none.tflite", batch)
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(ArtifactError):
        run_artifact(bad, batch)
    with pytest.raises(ArtifactError, match="unknown artifact type"):
        run_artifact(tmp_path / "m.pt", batch)
