"""Fixtures for the compression tests: a tiny Conv/BN/Dense model on separable random data.

The fake reference has the surface of ``train.TrainedReference`` the runner
uses (``fresh_model``, ``data``, ``weights_sha256``, ``record``, ``run_dir``,
``metrics``), so the runner is exercised without training Light-SERNet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

CLASSES = ("angry", "happy", "neutral", "sad")
SHAPE = (16, 8, 1)


def tiny_model(seed: int = 0):
    """Conv(bias)+BN, Conv(no bias, 16 input channels)+BN, GAP, Dense: every layer kind Light-SERNet has."""
    from sercompress.tf_env import keras

    k = keras()
    k.utils.set_random_seed(seed)
    inp = k.Input(shape=SHAPE, name="features")
    x = k.layers.Conv2D(16, (5, 3), padding="same", name="conv1")(inp)
    x = k.layers.BatchNormalization(name="bn1")(x)
    x = k.layers.ReLU(name="relu1")(x)
    x = k.layers.AveragePooling2D((2, 2), padding="same", name="pool1")(x)
    x = k.layers.Conv2D(32, (3, 3), padding="same", use_bias=False, name="conv2")(x)
    x = k.layers.BatchNormalization(name="bn2")(x)
    x = k.layers.ReLU(name="relu2")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    out = k.layers.Dense(len(CLASSES), activation="softmax", name="classifier")(x)
    return k.Model(inp, out, name="tiny")


def split(n: int, seed: int) -> SimpleNamespace:
    """Random features with a class-dependent offset pattern: learnable in one epoch."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % len(CLASSES)
    pattern = np.random.default_rng(99).normal(size=(len(CLASSES), *SHAPE)).astype(np.float32)
    x = rng.normal(size=(n, *SHAPE)).astype(np.float32) + 3.0 * pattern[y]
    return SimpleNamespace(x=x, y=y, speakers=("s",) * n, paths=("p",) * n)


def tiny_data() -> SimpleNamespace:
    return SimpleNamespace(classes=CLASSES, train=split(96, 1), val=split(16, 2), test=split(48, 3),
                           fingerprint="tiny-data-v1")


@dataclass(frozen=True)
class FakeReference:
    run_dir: Path
    weights: list[np.ndarray]
    weights_sha256: str
    prepared: Any

    @property
    def record(self) -> dict:
        return {"data_fingerprint": self.prepared.fingerprint}

    @property
    def metrics(self) -> Any:
        return SimpleNamespace(ua=0.0)

    def fresh_model(self):
        model = tiny_model()
        model.set_weights(self.weights)
        return model

    def data(self):
        return self.prepared


@pytest.fixture(scope="session")
def data() -> SimpleNamespace:
    return tiny_data()


@pytest.fixture(scope="session")
def reference(tmp_path_factory, data) -> FakeReference:
    """A tiny model trained for a few epochs: a stand-in for a reference run directory."""
    from sercompress.tf_env import keras
    from sercompress.train import weights_sha256

    model = tiny_model()
    model.compile(optimizer=keras().optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(data.train.x, data.train.y, batch_size=16, epochs=8, verbose=0)
    return FakeReference(tmp_path_factory.mktemp("ref"), model.get_weights(), weights_sha256(model), data)
