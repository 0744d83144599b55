"""MACs on a sample of the generated zoo equal Arm Vela's (TFLite) and onnx-tool's (ONNX).

The whole zoo (53 TFLite, 58 ONNX models) runs in ``bench/profiler.py``; here 8 of each.
"""

from __future__ import annotations

import pytest

from .zoo import build_onnx_zoo, build_tflite_zoo, compare_with_vela
from .zoo_onnx import compare_with_onnx_tool


@pytest.fixture(scope="module")
def onnx_sample(tmp_path_factory):
    return build_onnx_zoo(tmp_path_factory.mktemp("onnx_zoo"), limit=8)


def test_onnx_zoo_macs_equal_onnx_tool(onnx_sample):
    from sercompress.profile import profile_artifact

    assert len(onnx_sample) == 8
    for name, path in onnx_sample:
        assert profile_artifact(path).unknown_op_count == 0, name
        ours, theirs, diffs = compare_with_onnx_tool(path)
        assert diffs == [] and ours == theirs, name
        assert ours > 0, name  # the comparison covered some MAC op


@pytest.mark.slow  # converts Keras models and runs Vela
def test_tflite_zoo_macs_equal_vela(tmp_path):
    from sercompress.profile import profile_artifact

    zoo = build_tflite_zoo(tmp_path, limit=8)
    assert len(zoo) == 8
    for name, path in zoo:
        assert profile_artifact(path).unknown_op_count == 0, name
        ours, vela_macs, vela_total = compare_with_vela(path)
        assert ours == vela_macs > 0, name
        assert vela_total >= vela_macs  # Vela adds per-element passes, never removes MACs
