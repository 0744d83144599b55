"""Branch order at export: a smaller real TFLite Micro arena, bit-identical outputs."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.export import oporder
from sercompress.export.runtime import run_tflite
from sercompress.export.tflite import to_tflite
from sercompress.profile.tflite_reader import parse_tflite
from sercompress.profile.tflm import arena_usage
from sercompress.storage import atomic_write_bytes

pytestmark = pytest.mark.slow

SHAPE = (24, 16, 1)
#: branch name -> filters: the converter emits branches by name, so the widest one comes last
BRANCHES = {"a": 4, "b": 8, "c": 32}


def three_branch_model():
    """Light-SERNet's first layer in small: parallel conv -> pool paths of unequal width, concatenated."""
    from sercompress.tf_env import keras

    k = keras()
    k.utils.set_random_seed(0)
    inp = k.Input(shape=SHAPE, name="features")
    paths = []
    for name, filters in BRANCHES.items():
        x = k.layers.Conv2D(filters, (3, 3), padding="same", activation="relu", name=f"{name}_conv")(inp)
        paths.append(k.layers.AveragePooling2D((2, 2), name=f"{name}_pool")(x))
    x = k.layers.Concatenate(name="concat")(paths)
    x = k.layers.Conv2D(8, (3, 3), padding="same", name="next_conv")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    return k.Model(inp, k.layers.Dense(4, activation="softmax", name="classifier")(x))


def test_widest_branch_goes_first_with_a_smaller_arena_and_identical_outputs(tmp_path, monkeypatch):
    model = three_branch_model()
    rng = np.random.default_rng(0)
    rep, x = (rng.normal(size=(8, *SHAPE)).astype(np.float32) for _ in range(2))
    reordered = to_tflite(model, "int8", rep, int8_io=True)
    monkeypatch.setattr(oporder, "smallest_arena_order", lambda data: data)
    converted = to_tflite(model, "int8", rep, int8_io=True)  # the converter's own order

    def first_ops(data: bytes) -> list[str]:
        return [layer.outputs[0].name.split("/")[1][0] for layer in parse_tflite("m.tflite", data).layers[:6]]

    assert first_ops(converted) == ["a", "a", "b", "b", "c", "c"]
    assert first_ops(reordered)[:2] == ["c", "c"]
    paths = {name: atomic_write_bytes(tmp_path / f"{name}.tflite", data)
             for name, data in (("converted", converted), ("reordered", reordered))}
    assert arena_usage(paths["reordered"]).total_bytes < arena_usage(paths["converted"]).total_bytes
    assert np.array_equal(run_tflite(paths["reordered"], x), run_tflite(paths["converted"], x))
    monkeypatch.undo()
    assert oporder.smallest_arena_order(reordered) is reordered  # already the best: left as it is
