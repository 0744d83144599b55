"""The operator table: one definition per op, known to both readers alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from sercompress.profile import onnx_reader, ops, tflite_reader

READERS = {"tflite": tflite_reader.CANONICAL, "onnx": onnx_reader.CANONICAL}
#: Canonical ops a reader emits without its mapping table naming them (resolved per node).
RESOLVED = {"onnx": {"DepthwiseConv2D", "Conv3D", "MatMul", "Relu6"}, "tflite": set()}


def _emitted(fmt: str) -> set[str]:
    return set(READERS[fmt].values()) | RESOLVED[fmt]


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_every_op_a_reader_emits_is_in_the_table(fmt):
    assert _emitted(fmt) <= ops.CANONICAL_OPS, sorted(_emitted(fmt) - ops.CANONICAL_OPS)
    assert ops.UNKNOWN not in READERS[fmt].values()  # unknown is what is *not* mapped


def test_no_op_is_known_to_one_format_only_unless_the_table_says_why():
    """ELU, SPLIT and UNPACK were once taught to the TFLite side only; this catches that."""
    tflite, onnx = _emitted("tflite"), _emitted("onnx")
    for op in sorted(tflite ^ onnx):
        have = "tflite" if op in tflite else "onnx"
        assert ops.OPS[op].only == have, f"{op} is known to {have} only; map it in the other " \
                                         "reader or mark it only=... with the reason"
    for name, spec in ops.OPS.items():
        if name == ops.UNKNOWN:
            continue
        wanted = {spec.only} if spec.only else {"tflite", "onnx"}
        have = {fmt for fmt in READERS if name in _emitted(fmt)}
        assert have == wanted, f"{name}: table says {sorted(wanted)}, readers map {sorted(have)}"


def test_issue_10_ops_are_costed_in_both_formats():
    for raw in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF", "TRANSPOSE_CONV", "LEAKY_RELU", "DIV",
                "MAXIMUM", "MINIMUM"):
        assert tflite_reader.CANONICAL[raw] in ops.OPS
    for raw in ("LSTM", "GRU", "ConvTranspose", "LeakyRelu", "PRelu", "HardSwish", "Clip",
                "Split", "Slice", "Resize"):
        assert onnx_reader.CANONICAL[raw] in ops.OPS


def test_mac_ops_have_a_mac_cost_class_and_weighted_ops_take_their_constants():
    for name, spec in ops.OPS.items():
        if spec.macs in ("conv", "matmul", "recurrent"):
            assert spec.cost in ("conv", "depthwise", "fully_connected"), name
        if spec.kernel_first:
            assert spec.const_inputs == "weights", name
    assert ops.is_weight("Conv2D", "int32")           # the bias of a quantized conv
    assert not ops.is_weight("Add", "int32")          # shape arithmetic
    assert ops.is_weight("Add", "int8")               # a constant operand
    assert not ops.is_weight("Reshape", "float32")    # never a weight
    assert ops.spec("NoSuchOp") is ops.OPS[ops.UNKNOWN]


def test_stages_read_the_one_table():
    from sercompress.export import verify
    from sercompress.profile import cost, dtype_policy, graph, static

    assert verify.KERNEL_OPS is ops.KERNEL_OPS
    assert graph.CANONICAL_OPS is ops.CANONICAL_OPS
    assert static.SHAPE_OPS is ops.SHAPE_OPS
    assert dtype_policy.CONVERSION_OPS is ops.CONVERSION_OPS
    assert all(cost.op_class(n) == s.cost for n, s in ops.OPS.items())


def _tensor(i, shape, const=True):
    import numpy as np

    from sercompress.profile.graph import Tensor

    return Tensor(id=i, name=f"t{i}", shape=shape, dtype="int8",
                  data=np.zeros(shape, np.int8) if const else None)


def test_tflite_svdf_and_lstm_count_their_gate_matrices():
    """SVDF: feature [F, I] and time [F, M] weights per batch row; LSTM: 8 gate matrices per step."""
    b, i, f, m = 2, 10, 12, 8
    svdf = {0: _tensor(0, (b, i), False), 1: _tensor(1, (f, i)), 2: _tensor(2, (f, m)),
            4: _tensor(4, (b, f * m), False)}
    assert tflite_reader._recurrent_attrs("SVDF", svdf) == {"steps": b, "matrix_elements": f * (i + m)}
    t, feat, c = 5, 3, 4
    lstm = {0: _tensor(0, (1, t, feat), False)}
    lstm.update({k: _tensor(k, (c, feat)) for k in (1, 2, 3, 4)})
    lstm.update({k: _tensor(k, (c, c)) for k in (5, 6, 7, 8)})
    attrs = tflite_reader._recurrent_attrs("UNIDIRECTIONAL_SEQUENCE_LSTM", lstm)
    assert attrs["steps"] * attrs["matrix_elements"] == t * 4 * c * (feat + c)


def test_a_leaky_relu_model_is_not_refused_as_unsupported(tmp_path):
    """23 LEAKY_RELU models were once reported "unsupported": the op was unknown."""
    import onnx
    from onnx import TensorProto, helper

    from sercompress.profile import profile_artifact
    from sercompress.profile.dtype_policy import unsupported_reasons
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.latency import estimate

    graph = helper.make_graph([helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.1)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              tmp_path / "lrelu.onnx")
    static = profile_artifact(tmp_path / "lrelu.onnx")
    hw = get_hw_profile("rpi4")
    assert unsupported_reasons(static, hw) == []
    assert estimate(static, hw).source == "estimated"


@pytest.mark.parametrize("batch, units, rank, memory", [(1, 8, 2, 10), (2, 4, 1, 6)])
def test_a_real_svdf_model_counts_its_feature_and_time_products(tmp_path, batch, units, rank,
                                                                memory):
    """An int8 SVDF file TFLite Micro runs (keyword spotting's layer), written by hand."""
    from sercompress.profile import profile_artifact, tflm

    from .svdf import write_svdf_tflite

    path = write_svdf_tflite(tmp_path / "svdf.tflite", batch=batch, input_size=16, units=units,
                             rank=rank, memory=memory)
    (svdf,) = profile_artifact(path).layers
    filters = units * rank
    assert svdf.op == "SVDF" and svdf.macs == batch * filters * (16 + memory)
    assert svdf.params == filters * 16 + filters * memory + units  # feature, time, bias
    assert tflm.arena_usage(path).total_bytes > 0  # the file is one TFLite Micro runs


def test_tflite_bidirectional_lstm_counts_both_directions():
    t, feat, c = 4, 3, 5
    x = {0: _tensor(0, (1, t, feat), False)}
    fw = {k: _tensor(k, (c, feat) if k < 5 else (c, c)) for k in range(1, 9)}
    bw = {k + 17: _tensor(k + 17, (c, feat) if k < 5 else (c, c)) for k in range(1, 9)}
    attrs = tflite_reader._recurrent_attrs("BIDIRECTIONAL_SEQUENCE_LSTM", {**x, **fw, **bw})
    assert attrs["steps"] * attrs["matrix_elements"] == 2 * t * 4 * c * (feat + c)


def test_tflm_builtins_are_the_kernels_the_installed_tflite_micro_registers():
    """The op table's list of what TFLite Micro runs, read against its runtime's Register_* symbols."""
    import re
    import shutil
    import subprocess
    from importlib.util import find_spec

    from ethosu.vela.tflite.BuiltinOperator import BuiltinOperator

    spec_ = find_spec("tflite_micro")
    nm = shutil.which("nm")
    if spec_ is None or nm is None:
        pytest.skip("needs the tflite_micro runtime and binutils' nm")
    lib = next(Path(spec_.submodule_search_locations[0]).rglob("_runtime*.so"))
    symbols = subprocess.run([nm, "-C", str(lib)], capture_output=True, text=True, check=True).stdout
    registered = set(re.findall(r"Register_([A-Z0-9_]+)\(", symbols))
    builtins = {k for k in vars(BuiltinOperator) if not k.startswith("_")}
    assert registered & builtins == ops.TFLM_BUILTINS
