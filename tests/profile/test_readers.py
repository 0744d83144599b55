"""TFLite and ONNX readers: the neutral graph, weights as arrays, bad files rejected."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sercompress.errors import ProfileError
from sercompress.profile import MAX_ARTIFACT_BYTES, profile_artifact, read_graph

SMALL_SHAPE = (1, 8, 6, 3)


def _ops(graph) -> list[str]:
    return [layer.op for layer in graph.layers]


def _weighted(graph, op: str):
    return [layer for layer in graph.layers if layer.op == op]


def test_tflite_float_graph_has_the_layers_and_weights(small_model):
    g = read_graph(small_model.tflite)
    assert g.format == "tflite"
    for op in ("DepthwiseConv2D", "Conv2D", "Add", "Concatenation", "Reshape", "FullyConnected",
               "Softmax"):
        assert op in _ops(g), _ops(g)
    (dw,) = _weighted(g, "DepthwiseConv2D")
    assert dw.weights[0].shape == (1, 3, 3, 6) and dw.weights[0].dtype == "float32"
    assert isinstance(dw.weights[0].data, np.ndarray)
    assert dw.attrs["kernel"] == (3, 3) and dw.attrs["depth_multiplier"] == 2
    assert [t.shape for t in g.inputs] == [SMALL_SHAPE]
    assert g.file_bytes == small_model.tflite.stat().st_size


def test_int8_weights_stay_int8_with_scale_and_zero_point(small_model):
    g = read_graph(small_model.int8)
    (conv,) = _weighted(g, "Conv2D")
    kernel, bias = conv.weights
    assert kernel.data.dtype == np.int8 and kernel.dtype == "int8"
    assert bias.dtype == "int32"
    assert len(kernel.scale) == kernel.shape[0] == 6  # per output channel
    assert kernel.zero_point == (0,) * 6
    assert all(t.dtype == "int8" for layer in g.layers for t in layer.outputs
               if layer.op not in ("Shape", "StridedSlice", "Pack"))  # int32 shape arithmetic
    assert "Unknown" not in _ops(g)


def test_float16_weights_behind_dequantize_are_folded(small_model):
    g16, g32 = read_graph(small_model.float16), read_graph(small_model.tflite)
    assert "Dequantize" not in _ops(g16)
    (conv,) = _weighted(g16, "Conv2D")
    assert conv.weights[0].dtype == "float16" and conv.attrs["dequantized_weights"]
    assert _ops(g16) == _ops(g32)
    assert profile_artifact(small_model.float16).params == profile_artifact(small_model.tflite).params


def test_dynamic_range_file_has_int8_weights_and_float_activations(small_model):
    p = profile_artifact(small_model.dynamic)
    (fc,) = [layer for layer in p.layers if layer.op == "FullyConnected"]
    assert fc.dtype == "int8" and fc.activation_dtype == "float32"
    assert "int8" in p.weight_dtypes and p.activation_dtypes == ("float32",)


def test_onnx_graph_needs_input_shape_for_dynamic_batch(small_model):
    with pytest.raises(ProfileError, match="--input-shape") as err:
        read_graph(small_model.onnx)
    assert str(small_model.onnx) in str(err.value)
    g = read_graph(small_model.onnx, input_shape=SMALL_SHAPE)
    assert g.format == "onnx"
    (dw,) = _weighted(g, "DepthwiseConv2D")  # Conv with group == input channels
    assert dw.raw_op == "Conv" and dw.weights[0].shape == (6, 1, 3, 3)
    for op in ("Conv2D", "Add", "Concatenation", "Reshape", "FullyConnected", "Softmax"):
        assert op in _ops(g), _ops(g)


def test_onnx_input_shape_of_wrong_rank_is_rejected(small_model):
    with pytest.raises(ProfileError, match="rank"):
        read_graph(small_model.onnx, input_shape=(1, 8, 6))


def test_tflite_input_shape_must_match_the_file(small_model):
    assert read_graph(small_model.tflite, input_shape=SMALL_SHAPE).inputs[0].shape == SMALL_SHAPE
    with pytest.raises(ProfileError, match="differs"):
        read_graph(small_model.tflite, input_shape=(1, 16, 6, 3))


def test_unknown_tflite_op_is_reported_not_zeroed(unknown_op_tflite):
    p = profile_artifact(unknown_op_tflite)
    unknown = [layer for layer in p.layers if not layer.known]
    assert [(u.op, u.raw_op) for u in unknown] == [("Unknown", "CUMSUM")]
    assert p.unknown_ops == ("CUMSUM",)
    assert unknown[0].output_elements == 4  # shapes still read


def _onnx_model(nodes, inputs, outputs, initializers=()):
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_unknown_onnx_op_is_reported(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    m = _onnx_model([helper.make_node("Einsum", ["x"], ["y"], equation="ij->ji")],
                    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 1])])
    onnx.save(m, tmp_path / "einsum.onnx")
    p = profile_artifact(tmp_path / "einsum.onnx")
    assert p.unknown_ops == ("Einsum",) and not p.layers[0].known


def test_onnx_qdq_int8_weights_are_folded_into_the_conv(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.arange(-36, 36, dtype=np.int8).reshape(8, 1, 3, 3)
    w[0] = 0
    inits = [numpy_helper.from_array(w, "w_q"),
             numpy_helper.from_array(np.full(8, 0.05, np.float32), "w_scale"),
             numpy_helper.from_array(np.zeros(8, np.int8), "w_zp")]
    nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], axis=0),
             helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])]
    m = _onnx_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 4])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 5, 4])], inits)
    onnx.save(m, tmp_path / "qdq.onnx")
    p = profile_artifact(tmp_path / "qdq.onnx")
    (conv,) = p.layers
    assert conv.op == "Conv2D" and conv.dtype == "int8"
    assert conv.params == 72 and conv.nonzero_params == 72 - 9 - 1  # channel 0 and the 0 of arange
    assert conv.macs == 8 * 5 * 4 * 9
    assert p.weight_bytes_by_dtype == {"int8": 72}


# --------------------------------------------------------------------------- bad input

def test_text_file_is_rejected(tmp_path):
    f = tmp_path / "notes.tflite"
    f.write_text("this is not a model at all, just some text\n" * 3)
    with pytest.raises(ProfileError, match="neither a TFLite") as err:
        read_graph(f)
    assert str(f) in str(err.value)


def test_tiny_and_missing_files_are_rejected(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ProfileError, match="only 0 bytes"):
        read_graph(tmp_path / "empty.onnx")
    with pytest.raises(ProfileError, match="no such file"):
        read_graph(tmp_path / "missing.tflite")


def test_truncated_tflite_is_rejected(small_model, tmp_path):
    data = small_model.tflite.read_bytes()
    f = tmp_path / "truncated.tflite"
    f.write_bytes(data[: len(data) // 3])
    with pytest.raises(ProfileError, match="corrupt or truncated|past the end") as err:
        read_graph(f)
    assert "truncated.tflite" in str(err.value)


def test_corrupted_tflite_root_is_rejected(small_model, tmp_path):
    data = bytearray(small_model.tflite.read_bytes())
    data[0:4] = b"\xff\xff\xff\x7f"  # root table offset far past the end
    f = tmp_path / "corrupt.tflite"
    f.write_bytes(bytes(data))
    with pytest.raises(ProfileError, match="corrupt"):
        read_graph(f)


def test_truncated_onnx_is_rejected(small_model, tmp_path):
    data = small_model.onnx.read_bytes()
    f = tmp_path / "truncated.onnx"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfileError):
        read_graph(f, input_shape=SMALL_SHAPE)


def test_onnx_op_without_inferable_shape_is_rejected(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    m = _onnx_model([helper.make_node("Mystery", ["x"], ["y"], domain="acme")],
                    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m.opset_import.append(onnx.helper.make_opsetid("acme", 1))
    onnx.save(m, tmp_path / "custom.onnx")
    with pytest.raises(ProfileError, match="shape"):
        profile_artifact(tmp_path / "custom.onnx")


def test_file_over_the_size_bound_is_rejected(small_model, monkeypatch):
    import sercompress.profile as profile

    assert MAX_ARTIFACT_BYTES == 512 * 1024 * 1024
    monkeypatch.setattr(profile, "MAX_ARTIFACT_BYTES", 1000)
    with pytest.raises(ProfileError, match="larger than"):
        profile.read_graph(small_model.tflite)


# --------------------------------------------------------------------------- no TensorFlow

_NO_TF = """
import json, sys, time
from sercompress.profile import profile_artifact
t = time.perf_counter()
p = profile_artifact(sys.argv[1], input_shape=json.loads(sys.argv[2]))
print(json.dumps({"tf": "tensorflow" in sys.modules, "keras": "tf_keras" in sys.modules,
                  "s": time.perf_counter() - t, "macs": p.macs}))
"""


@pytest.mark.parametrize("kind", ["int8", "onnx"])
def test_profiling_never_imports_tensorflow(light_sernet, kind):
    path = getattr(light_sernet, kind)
    shape = list(read_graph(light_sernet.int8).inputs[0].shape) if kind == "onnx" else None
    out = subprocess.run([sys.executable, "-c", _NO_TF, str(path), json.dumps(shape)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tf"] is False and result["keras"] is False
    assert result["macs"] == 160_228_488


def test_profile_cli_never_imports_tensorflow(light_sernet_int8):
    code = ("import sys; from sercompress.cli import main; "
            "rc = main(['profile', sys.argv[1], '--json']); "
            "print('TF' if 'tensorflow' in sys.modules else 'NO_TF', rc)")
    out = subprocess.run([sys.executable, "-c", code, str(light_sernet_int8)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "NO_TF 0"


def test_onnx_op_mapping_and_macs_on_a_hand_built_graph(tmp_path):
    """Depthwise (grouped) conv, batch norm, pools, Gemm(transB), Clip(0,6), Softmax by hand."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    f32 = np.float32
    inits = [
        numpy_helper.from_array(rng.normal(size=(4, 1, 3, 3)).astype(f32), "dw_w"),
        numpy_helper.from_array(rng.uniform(1, 2, 4).astype(f32), "bn_s"),
        numpy_helper.from_array(rng.normal(size=4).astype(f32), "bn_b"),
        numpy_helper.from_array(rng.normal(size=4).astype(f32), "bn_m"),
        numpy_helper.from_array(rng.uniform(1, 2, 4).astype(f32), "bn_v"),
        numpy_helper.from_array(np.array(0.0, f32), "lo"),
        numpy_helper.from_array(np.array(6.0, f32), "hi"),
        numpy_helper.from_array(rng.normal(size=(3, 8)).astype(f32), "fc_w"),  # (N, K), transB
        numpy_helper.from_array(rng.normal(size=3).astype(f32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "dw_w"], ["c"], group=4, pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn_s", "bn_b", "bn_m", "bn_v"], ["n"]),
        helper.make_node("Clip", ["n", "lo", "hi"], ["r"]),
        helper.make_node("AveragePool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("MaxPool", ["r"], ["q"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Concat", ["p", "q"], ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y0"], transB=1),
        helper.make_node("Softmax", ["y0"], ["y"]),
    ]
    m = _onnx_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    onnx.save(m, tmp_path / "ops.onnx")
    p = profile_artifact(tmp_path / "ops.onnx")
    ops = [(layer.op, layer.macs) for layer in p.layers]
    assert ops == [
        ("DepthwiseConv2D", 4 * 6 * 6 * 9), ("BatchNorm", 0), ("Relu6", 0),
        ("AveragePool2D", 4 * 3 * 3 * 4), ("MaxPool2D", 4 * 3 * 3 * 4), ("Concatenation", 0),
        ("Mean", 8 * 3 * 3), ("Reshape", 0), ("FullyConnected", 8 * 3), ("Softmax", 2 * 3),
    ]
    assert p.params == 36 + 4 * 4 + 24 + 3  # Clip bounds are attributes, not parameters
    assert p.unknown_ops == ()
    assert p.peak_ram_bytes > 0 and p.peak_ram_bytes % 16 == 0


@pytest.mark.parametrize("kind", ["int8", "onnx"])
def test_randomly_corrupted_files_profile_or_raise_profile_error(small_model, tmp_path, kind):
    """Flipped bytes and cut-off tails never escape as anything but ProfileError."""
    import random

    data = getattr(small_model, kind).read_bytes()
    rng = random.Random(0)
    outcomes = {"ok": 0, "rejected": 0}
    for i in range(40):
        corrupt = bytearray(data)
        for _ in range(rng.choice([1, 4, 16])):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        if i % 3 == 0:
            corrupt = corrupt[: rng.randrange(8, len(corrupt))]
        f = tmp_path / f"fuzz_{i}.{'onnx' if kind == 'onnx' else 'tflite'}"
        f.write_bytes(bytes(corrupt))
        try:
            profile_artifact(f, input_shape=SMALL_SHAPE)
            outcomes["ok"] += 1
        except ProfileError as e:
            assert f.name in str(e)
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 0


def test_onnx_qat_style_quantize_dequantize_of_float_weights_is_folded(tmp_path):
    """tf2onnx writes QAT weights as float -> QuantizeLinear -> DequantizeLinear -> Conv."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.linspace(-1, 1, 8 * 2 * 3 * 3, dtype=np.float32).reshape(8, 2, 3, 3)
    w[1] = 0.0
    scale = np.full(8, 1 / 127, np.float32)
    inits = [numpy_helper.from_array(w, "w_f"), numpy_helper.from_array(scale, "w_s"),
             numpy_helper.from_array(np.zeros(8, np.int8), "w_zp")]
    nodes = [helper.make_node("QuantizeLinear", ["w_f", "w_s", "w_zp"], ["w_q"], axis=0),
             helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_zp"], ["w"], axis=0),
             helper.make_node("Conv", ["x", "w"], ["y"])]
    m = _onnx_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 3, 3])], inits)
    onnx.save(m, tmp_path / "qat.onnx")
    p = profile_artifact(tmp_path / "qat.onnx")
    (conv,) = p.layers
    assert conv.op == "Conv2D" and conv.dtype == "int8"
    assert conv.macs == 8 * 3 * 3 * 2 * 3 * 3
    assert conv.params == w.size and conv.nonzero_params == w.size - 18  # the zeroed channel
    g = read_graph(tmp_path / "qat.onnx")
    q = g.layers[0].weights[0]
    assert q.data.dtype == np.int8 and q.data.max() == 127 and q.data.min() == -127
