"""ONNX MAC counting: one regression test per bug of issue 10, and the newly costed ops."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.errors import ProfileError
from sercompress.profile import profile_artifact


def _save(tmp_path, nodes, inputs, outputs, inits=(), name="m", opset=17):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def value(n, shape, dtype=TensorProto.FLOAT):
        return helper.make_tensor_value_info(n, dtype, shape)

    graph = helper.make_graph(
        nodes, "g", [value(*i) for i in inputs], [value(*o) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def _node(op, ins, outs, **attrs):
    from onnx import helper

    return helper.make_node(op, ins, outs, **attrs)


def _w(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def test_conv3d_uses_all_three_kernel_dims(tmp_path):
    path = _save(tmp_path, [_node("Conv", ["x", "w"], ["y"])], [("x", [1, 2, 4, 4, 4])],
                 [("y", None)], [("w", _w(4, 2, 2, 2, 2))])
    (conv,) = profile_artifact(path).layers
    assert conv.op == "Conv3D"
    assert conv.macs == (4 * 3 * 3 * 3) * (2 * 2 * 2) * 2  # out elements x kd kh kw x cin = 1,728


def test_3d_pooling_uses_every_kernel_dim(tmp_path):
    path = _save(tmp_path, [_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2, 2], strides=[2, 2, 2])],
                 [("x", [1, 3, 4, 4, 4])], [("y", None)])
    (pool,) = profile_artifact(path).layers
    assert pool.macs == (3 * 2 * 2 * 2) * 8


@pytest.mark.parametrize("b_is_weight", [True, False])
def test_gemm_honours_trans_a(tmp_path, b_is_weight):
    inputs, inits = [("a", [6, 2])], [("b", _w(6, 5))]
    if not b_is_weight:
        inputs, inits = [("a", [6, 2]), ("b", [6, 5])], []
    path = _save(tmp_path, [_node("Gemm", ["a", "b"], ["y"], transA=1)], inputs, [("y", None)],
                 inits)
    (gemm,) = profile_artifact(path).layers
    assert gemm.macs == 2 * 5 * 6  # M x N x K with K = 6, the rows of A


def test_gemm_with_activation_b_does_not_take_c_as_the_weight(tmp_path):
    path = _save(tmp_path, [_node("Gemm", ["a", "b", "c"], ["y"])], [("a", [2, 3]), ("b", [3, 4])],
                 [("y", None)], [("c", _w(4))])
    (gemm,) = profile_artifact(path).layers
    assert gemm.op == "MatMul" and gemm.macs == 2 * 4 * 3  # 24, not 2
    assert gemm.params == 4  # the bias


def test_qlinear_matmul_with_activation_b_has_no_weights(tmp_path):
    from onnx import TensorProto

    scale, zp = np.float32(0.1), np.int8(0)
    inits = [("sa", scale), ("za", zp), ("sb", scale), ("zb", zp), ("sy", scale), ("zy", zp)]
    path = _save(tmp_path, [_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"],
                                  ["y"])],
                 [("a", [2, 3], TensorProto.INT8), ("b", [3, 4], TensorProto.INT8)],
                 [("y", None, TensorProto.INT8)], inits)
    (mm,) = profile_artifact(path).layers
    assert mm.params == 0 and len(mm.input_shapes) == 2 and mm.macs == 2 * 4 * 3


def test_conv_with_computed_kernel_takes_the_kernel_not_the_bias(tmp_path):
    from onnx import TensorProto, helper

    nodes = [_node("ConstantOfShape", ["wshape"], ["w"],
                   value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
             _node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])]
    path = _save(tmp_path, nodes, [("x", [1, 3, 8, 8])], [("y", None)],
                 [("wshape", np.array([4, 3, 3, 3], np.int64)), ("b", _w(4))])
    conv = next(x for x in profile_artifact(path).layers if x.raw_op == "Conv")
    assert conv.op == "Conv2D" and conv.macs == 4 * 8 * 8 * 3 * 3 * 3


def test_static_zero_length_dim_is_not_symbolic(tmp_path):
    path = _save(tmp_path, [_node("Relu", ["x"], ["y"])], [("x", [0, 3])], [("y", [0, 3])])
    p = profile_artifact(path)
    assert p.input_shapes == ((0, 3),) and p.macs == 0


@pytest.mark.parametrize("opset", [9, 17])
def test_unused_dropout_mask_without_shape_is_ignored(tmp_path, opset):
    nodes = [_node("Dropout", ["x"], ["y", "mask"]), _node("Relu", ["y"], ["z"])]
    path = _save(tmp_path, nodes, [("x", [1, 4])], [("z", [1, 4])], opset=opset)
    assert [x.op for x in profile_artifact(path).layers] == ["Reshape", "Relu"]


def test_input_shape_by_name_for_a_model_with_two_inputs(tmp_path):
    path = _save(tmp_path, [_node("MatMul", ["a", "b"], ["y"])], [("a", ["n", 3]), ("b", [3, "m"])],
                 [("y", None)])
    with pytest.raises(ProfileError, match="NAME=DIMS"):
        profile_artifact(path, input_shape=(2, 3))
    with pytest.raises(ProfileError, match="not inputs"):
        profile_artifact(path, input_shape={"c": (2, 3)})
    p = profile_artifact(path, input_shape={"a": (2, 3), "b": (3, 5)})
    assert p.macs == 2 * 5 * 3


def test_cli_takes_named_input_shapes(tmp_path, capsys):
    from sercompress.cli import main

    path = _save(tmp_path, [_node("MatMul", ["a", "b"], ["y"])], [("a", ["n", 3]), ("b", [3, "m"])],
                 [("y", None)])
    assert main(["profile", str(path), "--input-shape", "a=2,3", "--input-shape", "b=3,5"]) == 0
    assert "30" in capsys.readouterr().out


# --------------------------------------------------------------------------- newly costed ops

def test_lstm_and_gru_count_their_gate_matrix_products(tmp_path):
    t, b, f, h = 5, 1, 3, 4
    lstm = _save(tmp_path, [_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=h)],
                 [("x", [t, b, f])], [("y", None)], [("w", _w(1, 4 * h, f)), ("r", _w(1, 4 * h, h))],
                 name="lstm")
    gru = _save(tmp_path, [_node("GRU", ["x", "w", "r"], ["y"], hidden_size=h)],
                [("x", [t, b, f])], [("y", None)], [("w", _w(1, 3 * h, f)), ("r", _w(1, 3 * h, h))],
                name="gru")
    rnn = _save(tmp_path, [_node("RNN", ["x", "w", "r"], ["y"], hidden_size=h,
                                 direction="bidirectional")],
                [("x", [t, b, f])], [("y", None)], [("w", _w(2, h, f)), ("r", _w(2, h, h))],
                name="rnn")
    assert profile_artifact(lstm).macs == t * b * 4 * h * (f + h)
    assert profile_artifact(gru).macs == t * b * 3 * h * (f + h)
    assert profile_artifact(rnn).macs == 2 * t * b * h * (f + h)  # two directions


def test_conv_transpose_counts_like_vela(tmp_path):
    path = _save(tmp_path, [_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2])],
                 [("x", [1, 3, 4, 4])], [("y", None)], [("w", _w(3, 5, 2, 2))])
    (tc,) = profile_artifact(path).layers
    assert tc.op == "TransposeConv2D" and tc.output_shapes == ((1, 5, 8, 8),)
    assert tc.macs == 5 * 8 * 8 * (2 * 2) * 3  # out elements x window x input channels


@pytest.mark.parametrize("op, attrs, extra", [
    ("LeakyRelu", {"alpha": 0.1}, ()), ("HardSwish", {}, ()), ("Clip", {}, ("lo", "hi")),
    ("PRelu", {}, ("slope",)), ("Div", {}, ("d",)), ("Max", {}, ("d",)), ("Min", {}, ("d",)),
])
def test_elementwise_mcu_ops_are_known_and_cost_no_macs(tmp_path, op, attrs, extra):
    consts = {"lo": np.float32(-1), "hi": np.float32(1), "slope": _w(4, 1, 1),
              "d": np.full((1, 4, 2, 2), 2, np.float32)}
    path = _save(tmp_path, [_node(op, ["x", *extra], ["y"], **attrs)], [("x", [1, 4, 2, 2])],
                 [("y", None)], [(n, consts[n]) for n in extra])
    p = profile_artifact(path)
    assert p.unknown_op_count == 0 and p.macs == 0 and p.layers[0].known


def test_split_slice_resize_are_known(tmp_path):
    nodes = [_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2),
             _node("Slice", ["a", "st", "en"], ["s"]),
             _node("Resize", ["s", "", "sc"], ["y"], mode="nearest")]
    path = _save(tmp_path, nodes, [("x", [1, 4, 4, 4])], [("y", None)],
                 [("st", np.array([0], np.int64)), ("en", np.array([2], np.int64)),
                  ("sc", np.array([1, 1, 2, 2], np.float32))], opset=18)
    p = profile_artifact(path)
    assert [x.op for x in p.layers] == ["Split", "StridedSlice", "Resize"]
    assert p.unknown_op_count == 0 and p.params == 0  # the scales are attributes


def test_unknown_op_makes_the_total_a_lower_bound(tmp_path):
    nodes = [_node("MatMul", ["x", "w"], ["h"]), _node("Einsum", ["h"], ["y"], equation="ij->ji")]
    path = _save(tmp_path, nodes, [("x", [2, 3])], [("y", None)], [("w", _w(3, 4))], opset=17)
    p = profile_artifact(path)
    assert p.unknown_ops == ("Einsum",) and p.unknown_op_count == 1
    assert p.macs == 2 * 4 * 3 and p.macs_are_lower_bound


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_group_zero_is_a_profile_error_not_a_crash(tmp_path, op):
    path = _save(tmp_path, [_node(op, ["x", "w"], ["y"], group=0)], [("x", [1, 2, 4, 4])],
                 [("y", [1, 2, 4, 4])], [("w", _w(2, 2, 1, 1))])
    with pytest.raises(ProfileError):
        profile_artifact(path)
