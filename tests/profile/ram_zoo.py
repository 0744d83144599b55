"""A generated zoo of TFLite models for checking the static RAM estimate against TFLite Micro.

Each :class:`ZooSpec` names one small Keras network (a family, channel counts, depth,
an op mix) and a conversion (``int8`` with per-channel or per-tensor weight scales, or
``float32``); :func:`build` converts it with the TFLite converter. The families cover
what changes TFLite Micro's arena: plain and strided convolutions, depthwise-separable
blocks, residual adds, concatenated branches, MLPs, transpose convolutions (scratch
buffers), LSTMs (variable state tensors) and element-wise op mixes.

:func:`zoo_specs` is the whole zoo (>= 50 models, used by ``bench/profiler.py``);
:func:`fast_specs` a handful for the test suite. Shared by tests and the benchmark;
needs TensorFlow, so nothing under ``src/`` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

Conversion = Literal["int8", "int8_per_tensor", "float32"]


@dataclass(frozen=True)
class ZooSpec:
    family: str
    conversion: Conversion
    channels: tuple[int, ...]
    size: int = 16            # input height = width (or sequence length)
    depth: int = 2
    variant: int = 0          # family-specific switch (kernel size, pooling kind, ...)

    @property
    def name(self) -> str:
        ch = "-".join(map(str, self.channels))
        return f"{self.family}_c{ch}_s{self.size}_d{self.depth}_v{self.variant}_{self.conversion}"


def _conv_stack(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.size, 1 + s.variant % 3))
    for i in range(s.depth):
        c = s.channels[i % len(s.channels)]
        x = k.layers.Conv2D(c, 3 if s.variant % 2 == 0 else 5, strides=1 + (i % 2),
                            padding="same", activation="relu")(x)
        if s.variant % 4 == 1 and i % 2 == 0:
            x = k.layers.MaxPooling2D(2, padding="same")(x)
        if s.variant % 4 == 3 and i % 2 == 1:
            x = k.layers.AveragePooling2D(2, padding="same")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    return k.Model(inputs, k.layers.Dense(4, activation="softmax")(x))


def _dw_separable(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.size, 3))
    x = k.layers.Conv2D(s.channels[0], 3, strides=2, padding="same", activation="relu")(x)
    for i in range(s.depth):
        x = k.layers.DepthwiseConv2D(3, strides=1 + (i % 2 if s.variant else 0), padding="same",
                                     depth_multiplier=1 + (s.variant == 2 and i == 0))(x)
        x = k.layers.ReLU(6.0)(x)
        x = k.layers.Conv2D(s.channels[(i + 1) % len(s.channels)], 1, activation="relu")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    return k.Model(inputs, k.layers.Dense(3)(x))


def _residual(k: Any, s: ZooSpec) -> Any:
    c = s.channels[0]
    x = inputs = k.Input((s.size, s.size, 2))
    x = k.layers.Conv2D(c, 3, padding="same", activation="relu")(x)
    for _ in range(s.depth):
        y = k.layers.Conv2D(c, 3, padding="same", activation="relu")(x)
        y = k.layers.Conv2D(c, 3, padding="same")(y)
        x = k.layers.ReLU()(k.layers.Add()([x, y]))
        if s.variant:
            x = k.layers.Multiply()([x, x])
    x = k.layers.Flatten()(k.layers.MaxPooling2D(4)(x))
    return k.Model(inputs, k.layers.Dense(5, activation="softmax")(x))


def _branches(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.size, 3))
    for i in range(s.depth):
        parts = [k.layers.Conv2D(c, 1 + 2 * (j % 2), padding="same", activation="relu")(x)
                 for j, c in enumerate(s.channels)]
        x = k.layers.Concatenate()(parts)
        if i % 2 == 1 or s.variant:
            x = k.layers.MaxPooling2D(2)(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    return k.Model(inputs, k.layers.Dense(4, activation="softmax")(x))


def _mlp(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size * 4,))
    for i in range(s.depth):
        x = k.layers.Dense(s.channels[i % len(s.channels)],
                           activation="tanh" if s.variant and i % 2 else "relu")(x)
    return k.Model(inputs, k.layers.Dense(3, activation="sigmoid" if s.variant else "softmax")(x))


def _transpose_conv(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.size, 2))
    for i in range(s.depth):
        x = k.layers.Conv2D(s.channels[0], 3, strides=2, padding="same", activation="relu")(x)
    for i in range(s.depth):
        c = s.channels[(i + 1) % len(s.channels)]
        x = k.layers.Conv2DTranspose(c, 3 if s.variant == 0 else 2, strides=2, padding="same",
                                     activation="relu")(x)
    return k.Model(inputs, k.layers.Conv2D(1, 1)(x))


def _lstm(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.channels[-1]), batch_size=1)  # static shapes for the fused op
    for i in range(s.depth):
        x = k.layers.LSTM(s.channels[i % len(s.channels)], return_sequences=i < s.depth - 1,
                          unroll=False)(x)
    return k.Model(inputs, k.layers.Dense(4)(x))


def _elementwise(k: Any, s: ZooSpec) -> Any:
    x = inputs = k.Input((s.size, s.size, s.channels[0]))
    for i in range(s.depth):
        y = k.layers.Conv2D(s.channels[i % len(s.channels)], 3, padding="same")(x)
        y = k.layers.LeakyReLU(0.1)(y) if s.variant % 2 else k.layers.Activation("sigmoid")(y)
        x = k.layers.ZeroPadding2D(1)(y) if i % 2 else y
    x = k.layers.Reshape((-1, x.shape[-1]))(x)
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model(inputs, k.layers.Dense(2)(x))


BUILDERS = {"conv": _conv_stack, "dwsep": _dw_separable, "residual": _residual,
            "branches": _branches, "mlp": _mlp, "tconv": _transpose_conv, "lstm": _lstm,
            "eltwise": _elementwise}


def zoo_specs() -> list[ZooSpec]:
    """The whole zoo: every family over channel counts, depths and the three conversions."""
    base = [
        ZooSpec("conv", "int8", (4, 8), 16, 2, 0), ZooSpec("conv", "int8", (16, 32), 24, 4, 1),
        ZooSpec("conv", "int8", (1, 2), 12, 3, 2), ZooSpec("conv", "int8", (32, 64), 32, 5, 3),
        ZooSpec("conv", "int8", (8, 8, 16), 40, 6, 1),
        ZooSpec("dwsep", "int8", (8, 16), 32, 3, 0), ZooSpec("dwsep", "int8", (16, 32, 64), 48, 6, 1),
        ZooSpec("dwsep", "int8", (4, 8), 24, 2, 2), ZooSpec("dwsep", "int8", (32, 32), 40, 8, 1),
        ZooSpec("residual", "int8", (8,), 16, 2, 0), ZooSpec("residual", "int8", (16,), 20, 3, 1),
        ZooSpec("residual", "int8", (32,), 24, 1, 0),
        ZooSpec("branches", "int8", (4, 8), 16, 2, 0), ZooSpec("branches", "int8", (8, 16, 8), 24, 3, 1),
        ZooSpec("mlp", "int8", (32, 16), 8, 2, 0), ZooSpec("mlp", "int8", (128, 64, 32), 32, 4, 1),
        ZooSpec("mlp", "int8", (8,), 4, 1, 0),
        ZooSpec("tconv", "int8", (8, 4), 16, 1, 0), ZooSpec("tconv", "int8", (16, 8), 24, 2, 1),
        ZooSpec("lstm", "float32", (8,), 10, 1, 0), ZooSpec("lstm", "float32", (16, 8), 12, 2, 0),
        ZooSpec("eltwise", "int8", (4, 8), 16, 2, 0), ZooSpec("eltwise", "int8", (8, 16), 20, 4, 1),
    ]
    out = list(base)
    for s in base:  # the same networks with per-tensor weight scales and as float32
        if s.conversion != "int8":
            continue
        if s.family in ("conv", "dwsep", "residual", "mlp", "tconv"):
            out.append(ZooSpec(s.family, "int8_per_tensor", s.channels, s.size, s.depth, s.variant))
        out.append(ZooSpec(s.family, "float32", s.channels, s.size, s.depth, s.variant))
    out += [ZooSpec("lstm", "int8", (8,), 10, 1, 0), ZooSpec("lstm", "int8", (12,), 8, 1, 0)]
    return out


def fast_specs() -> list[ZooSpec]:
    """A handful that covers per-channel and per-tensor int8, float, scratch and state."""
    return [ZooSpec("conv", "int8", (4, 8), 16, 2, 0), ZooSpec("dwsep", "int8_per_tensor", (8, 16), 32, 3, 0),
            ZooSpec("residual", "float32", (8,), 16, 2, 0), ZooSpec("tconv", "int8", (8, 4), 16, 1, 0),
            ZooSpec("lstm", "float32", (8,), 10, 1, 0), ZooSpec("mlp", "int8", (32, 16), 8, 2, 0)]


def build(spec: ZooSpec, directory: Path, seed: int = 0) -> Path:
    """Convert ``spec`` to ``directory/<name>.tflite`` (random weights, calibrated on noise)."""
    from sercompress.tf_env import keras, tf

    k, t = keras(), tf()
    t.random.set_seed(seed)
    model = BUILDERS[spec.family](k, spec)
    converter = t.lite.TFLiteConverter.from_keras_model(model)
    if spec.conversion != "float32":
        rng = np.random.default_rng(seed)
        shape = tuple(model.input_shape[1:])

        def representative():
            for _ in range(8):
                yield [rng.standard_normal((1, *shape)).astype(np.float32)]

        converter.optimizations = [t.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = t.int8
        converter.inference_output_type = t.int8
        if spec.conversion == "int8_per_tensor":
            converter._experimental_disable_per_channel = True
    path = directory / f"{spec.name}.tflite"
    path.write_bytes(bytes(converter.convert()))
    return path
