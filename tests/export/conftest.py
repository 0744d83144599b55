"""A tiny untrained Conv/BN/Dense model and a batch, for conversion and runtime tests."""

from __future__ import annotations

import numpy as np
import pytest

SHAPE = (12, 8, 1)


@pytest.fixture(scope="session")
def model():
    from sercompress.tf_env import keras

    k = keras()
    k.utils.set_random_seed(0)
    inp = k.Input(shape=SHAPE, name="features")
    x = k.layers.Conv2D(8, (3, 3), padding="same", name="conv1")(inp)
    x = k.layers.BatchNormalization(name="bn1")(x)
    x = k.layers.ReLU(name="relu1")(x)
    x = k.layers.Conv2D(32, (3, 3), padding="same", use_bias=False, name="conv2")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    out = k.layers.Dense(4, activation="softmax", name="classifier")(x)
    return k.Model(inp, out, name="tiny")


@pytest.fixture(scope="session")
def batch() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(24, *SHAPE)).astype(np.float32)


@pytest.fixture(scope="session")
def float_file(model, tmp_path_factory):
    """The model converted once to a float32 .tflite file."""
    from sercompress.export.tflite import to_tflite
    from sercompress.storage import atomic_write_bytes

    return atomic_write_bytes(tmp_path_factory.mktemp("float") / "m.tflite", to_tflite(model))
