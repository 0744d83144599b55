"""A generated zoo of small models for checking the profiler against ground truth.

``build_tflite_zoo(directory)`` builds int8 .tflite files with tf_keras and the TFLite
converter; ``build_onnx_zoo(directory)`` builds .onnx files with ``onnx.helper``. Both
return ``[(name, path), ...]`` and reuse files already in ``directory`` (names are
deterministic), so a test and ``bench/profiler.py`` can share one build. ``limit``
takes an evenly spread sample (the fast tests use 8 of each).

The models vary op mix, channel counts (1 to 48), depth (1 to 4 blocks) and, for
TFLite, per-channel vs per-tensor weight quantization, and cover the MCU operators
of issue 10: convolutions (1-D, 2-D, depthwise, transpose), dense, pooling,
LSTM / RNN, LeakyReLU, PReLU, hard-swish, div, maximum / minimum, resize, pad,
concat, split, slice; ONNX adds 3-D conv and pooling, Gemm with transA / activation
B, GRU, Clip, batch norm.

Used by ``tests/profile/test_ops_zoo.py`` (MACs vs Vela / onnx-tool), by the RAM
checks (static plan vs the real TFLite Micro arena) and by ``bench/profiler.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Zoo = list[tuple[str, Path]]


def _sample(items: list, limit: int | None) -> list:
    if limit is None or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# --------------------------------------------------------------------------- TFLite

def _tflite_specs() -> list[tuple[str, tuple[int, ...], Callable[[Any, Any], Any]]]:
    """(name, input shape, build(keras, x) -> output) of every TFLite zoo model."""
    specs: list = []

    def conv_stack(width, depth, kernel, stride, pool, act="relu"):
        def build(k, x):
            for i in range(depth):
                x = k.layers.Conv2D(width * (i + 1), kernel, strides=stride, padding="same",
                                    activation=act)(x)
                if pool == "max":
                    x = k.layers.MaxPooling2D(2, padding="same")(x)
                elif pool == "avg":
                    x = k.layers.AveragePooling2D(2, padding="same")(x)
            x = k.layers.GlobalAveragePooling2D()(x)
            return k.layers.Dense(4, activation="softmax")(x)
        return build

    for i, (w, d, ks, s, pool, c) in enumerate([
            (1, 1, 3, 1, "max", 1), (2, 2, 3, 1, "avg", 1), (4, 3, 3, 1, "max", 3),
            (8, 2, 5, 1, "none", 3), (8, 4, 3, 1, "max", 1), (16, 2, 1, 1, "avg", 8),
            (16, 3, 3, 2, "none", 4), (24, 2, 3, 1, "max", 2), (32, 1, 3, 1, "avg", 16),
            (48, 2, 3, 2, "max", 3), (3, 2, 5, 2, "avg", 1), (12, 3, 3, 1, "none", 6)]):
        specs.append((f"conv_w{w}_d{d}_k{ks}_s{s}_{pool}_c{c}", (16, 16, c),
                      conv_stack(w, d, ks, s, pool)))

    def separable(width, depth, mult):
        def build(k, x):
            x = k.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
            for _ in range(depth):
                x = k.layers.DepthwiseConv2D(3, depth_multiplier=mult, padding="same",
                                             activation="relu6")(x)
                x = k.layers.Conv2D(width, 1, activation="relu")(x)
            x = k.layers.GlobalAveragePooling2D()(x)
            return k.layers.Dense(3)(x)
        return build

    for w, d, m in [(4, 1, 1), (8, 2, 1), (8, 1, 2), (16, 3, 1), (32, 2, 1), (6, 2, 3)]:
        specs.append((f"separable_w{w}_d{d}_m{m}", (16, 16, 2), separable(w, d, m)))

    def transpose(width, kernel, stride):
        def build(k, x):
            x = k.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)
            x = k.layers.Conv2DTranspose(width // 2 or 1, kernel, strides=stride, padding="same",
                                         activation="relu")(x)
            return k.layers.Conv2D(1, 1)(x)
        return build

    for w, ks, s in [(4, 3, 2), (8, 2, 2), (16, 3, 1), (12, 4, 2)]:
        specs.append((f"transpose_w{w}_k{ks}_s{s}", (16, 16, 1), transpose(w, ks, s)))

    def activation(kind, width):
        def build(k, x):
            x = k.layers.Conv2D(width, 3, padding="same")(x)
            if kind == "leaky_relu":
                x = k.layers.LeakyReLU(0.1)(x)
            elif kind == "prelu":
                x = k.layers.PReLU(shared_axes=[1, 2])(x)
            elif kind == "hard_swish":
                x = k.layers.Multiply()([x, k.layers.ReLU(6.0)(x + 3.0) / 6.0])
            else:
                x = k.layers.Activation(kind)(x)
            x = k.layers.Conv2D(width, 3, padding="same")(x)
            return k.layers.Flatten()(k.layers.MaxPooling2D(4)(x))
        return build

    for kind, w in [("leaky_relu", 4), ("leaky_relu", 16), ("prelu", 8), ("hard_swish", 8),
                    ("elu", 6), ("tanh", 4), ("sigmoid", 8), ("relu6", 16)]:
        specs.append((f"act_{kind}_w{w}", (12, 12, 2), activation(kind, w)))

    def elementwise(kind, width):
        def build(k, x):
            a = k.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
            b = k.layers.Conv2D(width, 1, padding="same", activation="sigmoid")(x)
            if kind == "max":
                y = k.layers.Maximum()([a, b])
            elif kind == "min":
                y = k.layers.Minimum()([a, b])
            elif kind == "div":
                y = a / (b + 1.0)
            elif kind == "concat":
                y = k.layers.Concatenate()([a, b])
            elif kind == "sub":
                y = k.layers.Subtract()([a, b])
            else:
                y = k.layers.Multiply()([a, b])
            return k.layers.Conv2D(2, 1)(y)
        return build

    for kind, w in [("max", 4), ("min", 8), ("div", 4), ("concat", 6), ("sub", 8), ("mul", 12)]:
        specs.append((f"elementwise_{kind}_w{w}", (10, 10, 3), elementwise(kind, w)))

    def mlp(widths):
        def build(k, x):
            for w in widths:
                x = k.layers.Dense(w, activation="relu")(x)
            return k.layers.Dense(5, activation="softmax")(x)
        return build

    for widths in [(8,), (32, 16), (64, 64, 32), (100, 10)]:
        specs.append((f"mlp_{'_'.join(map(str, widths))}", (20,), mlp(widths)))

    def recurrent(kind, units, dense):
        def build(k, x):
            if kind == "lstm":  # one UNIDIRECTIONAL_SEQUENCE_LSTM op
                x = k.layers.LSTM(units)(x)
            else:  # unrolled into FULLY_CONNECTED / ADD / TANH steps (no int8 sequence kernel)
                x = (k.layers.GRU if kind == "gru" else k.layers.SimpleRNN)(units, unroll=True)(x)
            return k.layers.Dense(dense)(x)
        return build

    for kind, t, f, u in [("lstm", 8, 4, 8), ("lstm", 12, 10, 16), ("lstm", 5, 3, 4),
                          ("rnn", 8, 4, 8), ("gru", 6, 12, 16)]:
        specs.append((f"{kind}_t{t}_f{f}_u{u}", (t, f), recurrent(kind, u, 3)))

    def movement(kind, width):
        def build(k, x):
            x = k.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
            if kind == "upsample_nearest":
                x = k.layers.UpSampling2D(2)(x)
            elif kind == "upsample_bilinear":
                x = k.layers.UpSampling2D(2, interpolation="bilinear")(x)
            elif kind == "pad":
                x = k.layers.ZeroPadding2D(2)(x)
            elif kind == "split":
                a, b = k.layers.Lambda(lambda t: (t[..., :width // 2], t[..., width // 2:]))(x)
                x = k.layers.Add()([a, b])
            elif kind == "crop":
                x = k.layers.Cropping2D(1)(x)
            return k.layers.Conv2D(2, 3, padding="same")(x)
        return build

    for kind, w in [("upsample_nearest", 4), ("upsample_bilinear", 4), ("pad", 8), ("split", 8),
                    ("crop", 6)]:
        specs.append((f"movement_{kind}_w{w}", (8, 8, 2), movement(kind, w)))

    def conv1d(width, depth):
        def build(k, x):
            for i in range(depth):
                x = k.layers.Conv1D(width, 3, padding="same", activation="relu")(x)
                x = k.layers.MaxPooling1D(2)(x)
            return k.layers.Dense(4)(k.layers.Flatten()(x))
        return build

    for w, d in [(4, 1), (8, 2), (16, 3)]:
        specs.append((f"conv1d_w{w}_d{d}", (32, 3), conv1d(w, d)))
    return specs


def tflite_zoo_names() -> list[str]:
    return [name for name, _, _ in _tflite_specs()]


def build_tflite_zoo(directory: str | Path, limit: int | None = None) -> Zoo:
    """Build (or reuse) the int8 TFLite zoo in ``directory``; every second model per-tensor."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: Zoo = []
    for i, (name, shape, build) in _sample(list(enumerate(_tflite_specs())), limit):
        per_channel = i % 2 == 0 or name.startswith(("lstm", "rnn", "gru"))
        name = f"{name}_{'pc' if per_channel else 'pt'}"
        path = directory / f"{name}.tflite"
        if not path.is_file():
            path.write_bytes(_convert(shape, build, per_channel, seed=i))
        out.append((name, path))
    return out


def _convert(shape: tuple[int, ...], build: Callable, per_channel: bool, seed: int) -> bytes:
    from sercompress.tf_env import keras, tf

    k, t = keras(), tf()
    t.random.set_seed(seed)
    x = k.Input(shape, batch_size=1)  # static shapes: recurrent layers convert to one op
    model = k.Model(x, build(k, x))
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((16, *shape)).astype(np.float32)
    converter = t.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [t.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([data[j:j + 1]] for j in range(len(data)))
    converter.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = t.int8
    converter.inference_output_type = t.int8
    converter._experimental_disable_per_channel = not per_channel
    return bytes(converter.convert())


# --------------------------------------------------------------------------- ground truth

#: Vela's lowered ops that are per-element passes (copies, LUT / clamp activations, rescales)
#: although Vela runs them on its pooling engine and counts one "MAC" per element; the
#: profiler counts those as element-wise work (0 MACs).
VELA_ELEMENT_PASSES = frozenset({"MemoryCopy", "Clamp", "LUT", "Relu", "Relu6", "ReluN1To1",
                                 "Relu0To1", "Tanh", "Sigmoid", "Quantize"})
#: Vela's names of the original ops that carry MACs in the profiler's table.
VELA_MAC_OPS = frozenset({"Conv2D", "Conv2DBias", "DepthwiseConv2D", "DepthwiseConv2DBias",
                          "Conv2DBackpropInput", "TransposeConv2D", "FullyConnected", "MaxPool", "AvgPool", "Mean",
                          "Softmax", "UnidirectionalSequenceLstm", "BatchMatMul", "ReduceSum"})


def vela_layer_rows(path: Path, accelerator: str = "ethos-u55-128") -> list[dict[str, str]]:
    """Vela's ``--verbose-performance`` per-layer table: original op, lowered op, MACs, name."""
    import csv
    import subprocess
    import sys
    import tempfile

    from sercompress.profile.vela import (
        DEFAULT_CONFIG,
        DEFAULT_MEMORY_MODE,
        DEFAULT_SYSTEM_CONFIG,
    )

    vela = Path(sys.executable).with_name("vela")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(vela), str(path), "--accelerator-config", accelerator, "--config",
                        DEFAULT_CONFIG, "--system-config", DEFAULT_SYSTEM_CONFIG, "--memory-mode",
                        DEFAULT_MEMORY_MODE, "--output-dir", tmp, "--verbose-performance"],
                       check=True, capture_output=True, cwd=tmp)
        (table,) = Path(tmp).glob("*_per-layer.csv")
        with open(table, newline="") as f:
            return list(csv.DictReader(f))


def compare_with_vela(path: Path) -> tuple[int, int, int]:
    """(our MACs over the ops Vela runs, Vela's MACs of those ops, Vela's total MACs).

    Vela's count of an op is the MACs of its lowered MAC passes; the per-element passes
    it adds (:data:`VELA_ELEMENT_PASSES`) and the copies it runs for data-movement ops are
    the difference between the last two figures.
    """
    from sercompress.profile import profile_artifact

    rows = vela_layer_rows(path)
    vela_total = sum(int(float(r["MAC Count"])) for r in rows)
    vela_macs = sum(int(float(r["MAC Count"])) for r in rows
                    if r["Original Operator"] in VELA_MAC_OPS
                    and r["NNG Operator"] not in VELA_ELEMENT_PASSES)
    profile = profile_artifact(path)
    cpu = {r["Name"] for r in rows if r["Target"] != "NPU"}
    ours = sum(layer.macs for layer in profile.layers if layer.name not in cpu)
    return ours, vela_macs, vela_total


def build_onnx_zoo(directory: str | Path, limit: int | None = None) -> Zoo:
    """The ONNX zoo (built with ``onnx.helper``; see :mod:`tests.profile.zoo_onnx`)."""
    from .zoo_onnx import build_onnx_zoo as build

    return build(directory, limit)
