"""Run an exported artifact on a batch: LiteRT for .tflite, ONNX Runtime for .onnx.

Both return float32 class probabilities ``[N, classes]`` for a float32 feature
batch ``[N, T, F, 1]``, so parity and accuracy code never has to care about the
format. Integer input/output tensors (``int8_io`` files, int16x8) are quantised
and dequantised here with the scale and zero point stored in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ArtifactError

#: Batch size the interpreters are resized to; bounds memory on a 24 GiB, 2-core box.
CHUNK = 64


def run_tflite(path: str | Path, x: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """Class probabilities of a .tflite file on ``x`` (LiteRT interpreter, 2 threads)."""
    from ai_edge_litert.interpreter import Interpreter

    from ..tf_env import native_output_silenced

    path = _existing(path)
    try:
        interp = Interpreter(model_path=str(path), num_threads=2)
    except (ValueError, RuntimeError) as e:
        raise ArtifactError(f"LiteRT cannot load the file: {e}", path=path) from None
    inp = interp.get_input_details()[0]
    out_index = interp.get_output_details()[0]["index"]
    fixed = int(inp["shape_signature"][0]) if len(inp["shape_signature"]) else -1
    if fixed > 0:  # exported at a fixed batch (a fused recurrent op): run it at that batch
        chunk = fixed
    outputs, allocated = [], None
    for start in range(0, len(x), chunk):
        batch = np.asarray(x[start:start + chunk], dtype=np.float32)
        n = len(batch)
        if fixed > 0 and n < fixed:  # the last, partial chunk of a fixed-batch file: pad it
            batch = np.concatenate([batch, np.zeros((fixed - n, *batch.shape[1:]), np.float32)])
        if batch.shape != allocated:
            interp.resize_tensor_input(inp["index"], list(batch.shape), strict=False)
            with native_output_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
                interp.allocate_tensors()
            allocated = batch.shape
        interp.set_tensor(inp["index"], _quantize(batch, interp.get_input_details()[0]))
        # Each clip starts from a zero state: a fused LSTM keeps its state in variable tensors
        # that LiteRT carries from one invoke to the next (measured: 2e-3 drift by the 2nd clip).
        interp.reset_all_variables()
        interp.invoke()
        out = interp.get_output_details()[0]
        outputs.append(_dequantize(interp.get_tensor(out_index), out)[:n])
    return _stack(outputs, path)


def run_onnx(path: str | Path, x: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """Class probabilities of a .onnx file on ``x`` (ONNX Runtime, CPU)."""
    import onnxruntime as ort

    path = _existing(path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own exception zoo)
        raise ArtifactError(f"ONNX Runtime cannot load the file: {e}", path=path) from None
    name = sess.get_inputs()[0].name
    outputs = [sess.run(None, {name: np.asarray(x[s:s + chunk], dtype=np.float32)})[0]
               for s in range(0, len(x), chunk)]
    return _stack(outputs, path)


def run_artifact(path: str | Path, x: np.ndarray) -> np.ndarray:
    """Dispatch on the file suffix (.tflite / .onnx)."""
    runners = {".tflite": run_tflite, ".onnx": run_onnx}
    suffix = Path(path).suffix
    if suffix not in runners:
        raise ArtifactError(f"unknown artifact type {suffix!r}; expected {sorted(runners)}", path=path)
    return runners[suffix](path, x)


def predict_keras(model, x: np.ndarray, batch_size: int = CHUNK) -> np.ndarray:
    return np.asarray(model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0),
                      dtype=np.float32)


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zero = detail["quantization"]
    if not scale:
        raise ArtifactError(f"integer input tensor {detail['name']!r} has no quantisation scale")
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    if np.dtype(detail["dtype"]).kind == "f":
        return y.astype(np.float32)
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("artifact file not found", path=path)
    return path


def _stack(outputs: list[np.ndarray], path: Path) -> np.ndarray:
    y = np.concatenate(outputs, axis=0).astype(np.float32)
    if not np.all(np.isfinite(y)):
        raise ArtifactError("artifact produced non-finite outputs", path=path)
    return y
