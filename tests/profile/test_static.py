"""Per-layer figures and totals: hand-computed MACs, TFLite == ONNX, onnx-tool, speed."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from sercompress.profile import profile_artifact, read_graph

SMALL_SHAPE = (1, 8, 6, 3)


def _by_op(profile) -> dict[str, int]:
    macs: dict[str, int] = {}
    for layer in profile.layers:
        macs[layer.op] = macs.get(layer.op, 0) + layer.macs
    return macs


@pytest.mark.parametrize("kind", ["tflite", "onnx", "int8"])
def test_small_model_macs_and_params_match_hand_computation(small_model, small_expected, kind):
    SMALL_MACS, SMALL_PARAMS = small_expected["macs"], small_expected["params"]
    p = profile_artifact(getattr(small_model, kind), input_shape=SMALL_SHAPE)
    by_op = _by_op(p)
    for op, expected in SMALL_MACS.items():
        assert by_op[op] == expected, (op, by_op)
    assert p.macs == sum(SMALL_MACS.values())
    assert all(by_op.get(op, 0) == 0 for op in ("Add", "Concatenation", "Reshape"))
    assert p.params == SMALL_PARAMS


@pytest.mark.parametrize("kind", ["tflite", "onnx"])
def test_zero_weights_give_nonzero_params_and_effective_macs(small_model, small_expected, kind):
    p = profile_artifact(getattr(small_model, kind), input_shape=SMALL_SHAPE)
    (fc,) = [layer for layer in p.layers if layer.op == "FullyConnected"]
    kernel_size = 576 * 5
    zeros = small_expected["zeroed_rows"] * 5
    # ONNX keeps the dense bias in a separate Add; TFLite inside the FullyConnected
    assert fc.nonzero_params == fc.params - zeros
    assert fc.effective_macs == fc.macs * (kernel_size - zeros) // kernel_size == 1440
    assert p.nonzero_params == p.params - zeros
    assert p.effective_macs == p.macs - zeros


def test_layer_shapes_dtypes_and_activation_bytes(small_model):
    p = profile_artifact(small_model.int8)
    (dw,) = [layer for layer in p.layers if layer.op == "DepthwiseConv2D"]
    assert dw.input_shapes == (SMALL_SHAPE,) and dw.output_shapes == ((1, 8, 6, 6),)
    assert dw.dtype == "int8" and dw.activation_dtype == "int8"
    assert dw.activation_bytes == dw.output_elements == 8 * 6 * 6
    f32 = profile_artifact(small_model.tflite)
    (dw32,) = [layer for layer in f32.layers if layer.op == "DepthwiseConv2D"]
    assert dw32.activation_bytes == 4 * dw32.output_elements


def test_totals_bytes(small_model, small_expected):
    p = profile_artifact(small_model.int8)
    data = small_model.int8.read_bytes()
    assert p.file_bytes == len(data)
    assert p.gzip_bytes == len(gzip.compress(data, compresslevel=9, mtime=0))
    assert p.weight_bytes_by_dtype["int8"] == 54 + 18 + 2880  # kernels
    assert p.weight_bytes_by_dtype["int32"] == 4 * (6 + 6 + 5)  # biases
    # constants = weights + per-channel scale (4 B) and zero point (8 B) as stored
    assert sum(p.weight_bytes_by_dtype.values()) < p.constant_bytes < p.file_bytes
    f16 = profile_artifact(small_model.float16)
    assert f16.weight_bytes_by_dtype == {"float16": 2 * small_expected["params"]}


def test_light_sernet_tflite_and_onnx_give_the_same_totals(light_sernet):
    from sercompress.models import count_macs, light_sernet as build

    t = profile_artifact(light_sernet.int8)
    o = profile_artifact(light_sernet.onnx, input_shape=(1, 184, 40, 1))
    assert (t.params, t.macs) == (o.params, o.macs)
    # Keras' 462,468 minus batch-norm statistics folded into the convolutions' biases
    assert t.params == 462_468 - 4 * 864 + 768
    # Keras' counter misses only Vela's two softmax passes over the 4 logits
    assert t.macs == count_macs(build(4, duration_s=3.0)) + 2 * 4


def test_light_sernet_macs_within_2_percent_of_onnx_tool(light_sernet):
    import onnx_tool

    shape = (1, 184, 40, 1)
    ours = profile_artifact(light_sernet.onnx, input_shape=shape).macs
    m = onnx_tool.Model(str(light_sernet.onnx))
    m.graph.shape_infer({"features": np.zeros(shape, np.float32)})
    m.graph.profile()
    theirs = float(m.graph.macs[0])
    assert abs(ours - theirs) / theirs < 0.02, (ours, theirs)


def test_profile_of_light_sernet_is_fast(light_sernet_int8):
    profile_artifact(light_sernet_int8)  # warm the lazy imports
    start = time.perf_counter()
    p = profile_artifact(light_sernet_int8)
    assert time.perf_counter() - start < 1.0
    assert len(p.layers) == 19


def test_to_dict_is_json_ready(small_model, small_expected):
    import json

    d = profile_artifact(small_model.int8).to_dict()
    back = json.loads(json.dumps(d))
    assert back["macs"] == sum(small_expected["macs"].values())
    assert len(back["layers"]) == len(d["layers"]) and back["layers"][0]["op"]
