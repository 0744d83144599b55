"""The whole-arena estimate (plan + persistent tail) against TFLite Micro's real arena.

Also: variable tensors are not planned, scratch buffers are, a 100k-op chain plans in
seconds, and ``check`` judges RAM on TFLite Micro's real arena with a model built to sit
just below and just above a device's limit.
"""

from __future__ import annotations

import time

import pytest

from sercompress.cli import main
from sercompress.profile import profile_artifact, read_graph, tflm
from sercompress.profile.arena import plan_arena, scratch_request_bytes
from sercompress.profile.graph import Graph, Layer, Tensor
from sercompress.profile.hardware import SHIPPED_DIR
from sercompress.profile.persistent import (
    STATED_ERROR,
    cmsis_nn_scratch_bytes,
    estimate_arena,
    persistent_bytes,
)

from .ram_zoo import build, fast_specs


@pytest.fixture(scope="module")
def fast_zoo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ram_zoo")
    return [build(spec, directory) for spec in fast_specs()]


@pytest.mark.slow
def test_estimate_within_stated_error_of_tflm_on_the_fast_zoo(fast_zoo):
    for path in fast_zoo:
        real = tflm.arena_usage(path)
        est = estimate_arena(read_graph(path))
        assert est.head_bytes == real.head_bytes, path.name   # the plan is TFLM's, scratch included
        assert abs(est.total_bytes - real.total_bytes) <= STATED_ERROR * real.total_bytes, (
            path.name, est, real)


def _t(i: int, shape: tuple[int, ...], *, variable: bool = False, dtype: str = "float32") -> Tensor:
    return Tensor(id=i, name=f"t{i}", shape=shape, dtype=dtype, is_variable=variable)


def test_variable_tensors_live_in_the_tail_not_the_plan():
    x, state, y = _t(0, (1, 64)), _t(1, (1, 256), variable=True), _t(2, (1, 64))
    layer = Layer(0, "Unknown", "SVDF", (x, state), (), (y,))
    graph = Graph(path=None, format="tflite", layers=(layer,), inputs=(x,), outputs=(y,),
                  file_bytes=0, tensor_count=3)
    assert plan_arena(graph).peak_bytes == 2 * 256          # input and output, no state
    tail, variables = persistent_bytes(graph)
    assert variables == 1024 and tail > variables


def test_int8_transpose_conv_plans_an_accumulator_per_output_element():
    x, y = _t(0, (1, 4, 4, 8), dtype="int8"), _t(1, (1, 8, 8, 4), dtype="int8")
    layer = Layer(0, "Unknown", "TRANSPOSE_CONV", (x,), (), (y,))
    assert scratch_request_bytes("TRANSPOSE_CONV", layer) == (8 * 8 * 4 * 4,)
    graph = Graph(path=None, format="tflite", layers=(layer,), inputs=(x,), outputs=(y,),
                  file_bytes=0, tensor_count=2)
    assert plan_arena(graph).peak_bytes == 128 + 256 + 1024


def test_100k_op_onnx_chain_profiles_in_seconds(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    n = 100_000
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(n)]
    graph = helper.make_graph(nodes, "chain",
                              [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info(f"t{n}", TensorProto.FLOAT, [1, 8])])
    path = tmp_path / "chain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    start = time.process_time()
    profile = profile_artifact(path)
    # Not a speed target (about 8 CPU s alone on this machine, more late in a full test session, whose
    # large heap every garbage collection walks): a bound that only work quadratic in the number of
    # layers would break (100k layers at that would take hours).
    assert time.process_time() - start < 120.0
    assert profile.peak_ram_bytes == 64 and len(profile.layers) == n


def _profile_with_ram(directory, ram: int, name: str):
    text = (SHIPPED_DIR / "stm32h743.toml").read_text().replace('name = "stm32h743"',
                                                                  f'name = "{name}"')
    path = directory / f"{name}.toml"
    path.write_text(text.replace("ram_bytes = 524_288", f"ram_bytes = {ram}"))
    return path


@pytest.mark.slow
def test_check_never_fits_when_the_real_arena_does_not(fast_zoo, tmp_path, capsys):
    """Devices built around a model's real arena: one byte short does not fit, exact fits."""
    path = fast_zoo[0]
    real = tflm.arena_usage(path).total_bytes
    scratch = cmsis_nn_scratch_bytes(profile_artifact(path).layers)   # stm32h743 runs CMSIS-NN
    assert scratch > 0   # a 3x3 int8 conv: arm_convolve_s8 asks for an im2col buffer
    runtime = 32_768   # stm32h743's runtime_ram_bytes
    below = _profile_with_ram(tmp_path, real + scratch + runtime - 1, "justbelow")
    exact = _profile_with_ram(tmp_path, real + scratch + runtime, "exact")
    assert main(["check", str(path), "--hw", str(below), "--latency-budget-ms", "1e9"]) == 1
    out = capsys.readouterr().out
    assert "FAIL ram" in out and "measured by TFLite Micro" in out
    assert main(["check", str(path), "--hw", str(exact), "--latency-budget-ms", "1e9"]) == 0


def test_cmsis_nn_scratch_follows_its_buffer_size_rules():
    from sercompress.profile.types import LayerProfile

    def layer(op, cin, cout, macs_per_out, out=(1, 8, 8)):
        n = out[1] * out[2] * cout
        return LayerProfile(index=0, op=op, raw_op=op, name=op, dtype="int8", activation_dtype="int8",
                            input_shapes=((*out, cin),), output_shapes=((*out, cout),), params=0,
                            nonzero_params=0, macs=n * macs_per_out, effective_macs=n * macs_per_out,
                            input_elements=n, output_elements=n, activation_bytes=n)

    assert cmsis_nn_scratch_bytes((layer("Conv2D", 16, 32, 16),)) == 0           # 1x1: no im2col
    assert cmsis_nn_scratch_bytes((layer("Conv2D", 16, 32, 9 * 16),)) == 2 * 9 * 16 * 2
    assert cmsis_nn_scratch_bytes((layer("DepthwiseConv2D", 16, 16, 9),)) == 0   # 3x3 fast path
    assert cmsis_nn_scratch_bytes((layer("DepthwiseConv2D", 16, 16, 25),)) == 16 * 25 * 2
