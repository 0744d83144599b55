"""Artifacts the profiler tests read, built once per session in a temporary directory.

* ``light_sernet``: Light-SERNet, 4 classes, 3 s MFCC input, as full-integer int8 .tflite
  with int8 input/output (``light_sernet_int8``: the file Vela and TFLite Micro figures are
  quoted for) and as float .onnx, with every weight (biases, batch-norm statistics) random
  so no converter can drop one;
* ``small_model``: a hand-built net with depthwise conv, 1x1 conv, add, concat, reshape,
  dense and softmax whose MACs are computed by hand in the tests, exported as float, int8,
  dynamic-range and float16 .tflite and as .onnx;
* ``unknown_op_tflite``: a dense layer followed by ``cumsum``, an op the profiler has no cost for.

Conversion goes through ``sercompress.export`` (the same code the pipeline uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: Hand-computed figures of ``small_model`` (input 8 x 6 x 3).
SMALL_INPUT = (8, 6, 3)
SMALL_MACS = {
    "DepthwiseConv2D": 8 * 6 * 6 * 3 * 3,   # out elements (mult. 2 -> 6 ch) x 3x3 window
    "Conv2D": 8 * 6 * 6 * 3,                # out elements x 1x1 x 3 input channels
    "FullyConnected": 8 * 6 * 12 * 5,       # 576 inputs x 5 units
    "Softmax": 2 * 5,                       # Vela: a max pass and a sum pass
}
SMALL_PARAMS = (3 * 3 * 3 * 2 + 6) + (3 * 6 + 6) + (576 * 5 + 5)
SMALL_ZEROED_KERNEL_ROWS = 288              # dense kernel rows set to exactly zero


#: Fixtures that convert Keras models (seconds each): tests using them are marked slow.
CONVERTING_FIXTURES = frozenset({"light_sernet", "light_sernet_int8", "small_model",
                                 "unknown_op_tflite"})


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here not in Path(item.fspath).parents:
            continue  # the hook sees the whole session; mark only this directory's tests
        if CONVERTING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class Artifacts:
    tflite: Path | None = None
    onnx: Path | None = None
    int8: Path | None = None
    dynamic: Path | None = None
    float16: Path | None = None


def _randomize(model, seed: int) -> None:
    """Random biases and batch-norm statistics, so folding is exercised and nothing is zero."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 1.5, var.shape)])
        else:
            layer.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype(w.dtype)
                               for w in weights])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("profile_artifacts")


@pytest.fixture(scope="session")
def light_sernet(artifact_dir) -> Artifacts:
    """One randomized Light-SERNet (3 s) as int8 .tflite (int8 io) and float .onnx."""
    from sercompress.export.onnx import to_onnx
    from sercompress.export.tflite import to_tflite
    from sercompress.models import light_sernet as build

    model = build(4, duration_s=3.0)
    _randomize(model, 0)
    rep = np.random.default_rng(0).standard_normal((8, *model.input_shape[1:])).astype(np.float32)
    return Artifacts(
        int8=_write(artifact_dir / "light_sernet_3s_int8.tflite",
                    to_tflite(model, "int8", representative=rep, int8_io=True)),
        onnx=_write(artifact_dir / "light_sernet_3s.onnx", to_onnx(model)),
    )


@pytest.fixture(scope="session")
def light_sernet_int8(light_sernet) -> Path:
    return light_sernet.int8


def _small_keras_model():
    from sercompress.tf_env import keras

    k = keras()
    L = k.layers
    x = k.Input(shape=SMALL_INPUT, name="x")
    a = L.DepthwiseConv2D((3, 3), padding="same", depth_multiplier=2, name="dw")(x)
    b = L.Conv2D(6, (1, 1), name="pw")(x)
    s = L.Add(name="add")([a, b])
    c = L.Concatenate(name="concat")([a, s])
    r = L.Reshape((8 * 6 * 12,), name="flat")(c)
    y = L.Dense(5, activation="softmax", name="dense")(r)
    model = k.Model(x, y)
    _randomize(model, 2)
    dense = model.get_layer("dense")
    kernel, bias = dense.get_weights()
    kernel[:SMALL_ZEROED_KERNEL_ROWS] = 0.0
    dense.set_weights([kernel, bias])
    return model


@pytest.fixture(scope="session")
def small_model(artifact_dir) -> Artifacts:
    from sercompress.export.onnx import to_onnx
    from sercompress.export.tflite import to_tflite

    model = _small_keras_model()
    rep = np.random.default_rng(3).standard_normal((8, *SMALL_INPUT)).astype(np.float32)
    d = artifact_dir
    return Artifacts(
        tflite=_write(d / "small.tflite", to_tflite(model)),
        onnx=_write(d / "small.onnx", to_onnx(model)),
        int8=_write(d / "small_int8.tflite", to_tflite(model, "int8", representative=rep,
                                                        int8_io=True)),
        dynamic=_write(d / "small_dynamic.tflite", to_tflite(model, "dynamic")),
        float16=_write(d / "small_float16.tflite", to_tflite(model, "float16")),
    )


@pytest.fixture(scope="session")
def unknown_op_tflite(artifact_dir) -> Path:
    from sercompress.export.tflite import to_tflite
    from sercompress.tf_env import keras, tf

    k = keras()
    x = k.Input(shape=(8,))
    y = k.layers.Lambda(lambda t: tf().math.cumsum(t, axis=-1), name="cumsum")(k.layers.Dense(4)(x))
    return _write(artifact_dir / "unknown_op.tflite", to_tflite(k.Model(x, y)))


@pytest.fixture(scope="session")
def small_expected() -> dict:
    """The hand-computed figures of ``small_model`` (tests cannot import conftest)."""
    return {"macs": SMALL_MACS, "params": SMALL_PARAMS, "zeroed_rows": SMALL_ZEROED_KERNEL_ROWS}
