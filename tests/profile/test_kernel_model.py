"""The calibrated kernel latency model: sourced samples, leave-one-out, bands, the verdict."""

from __future__ import annotations

import pytest

from sercompress.cli import main
from sercompress.fit import Budget
from sercompress.profile.hardware import get_hw_profile
from sercompress.profile.kernel_calibration import (
    calibrate,
    leave_one_out,
    load_samples,
)
from sercompress.profile.kernel_model import kernel_estimate
from sercompress.profile.types import LayerProfile, StaticProfile


@pytest.fixture(scope="module")
def samples():
    return load_samples()


def test_the_18_edgemark_models_are_rebuilt_layer_by_layer(samples):
    edgemark = [s for s in samples if s.name.startswith("EdgeMark")]
    assert len(edgemark) == 36 and len({s.name for s in edgemark}) == 18   # int8 + float32 each
    cnn7 = next(s for s in edgemark if s.name == "EdgeMark CNN_7" and s.dtype == "int8")
    assert cnn7.macs == 11_084_416 and abs(cnn7.measured_cycles - 322.0258e-3 * 120e6) < 1


def test_float32_is_several_times_slower_than_int8_on_wide_cnns(samples):
    """The fitted model keeps the sourced float32 / int8 ratio of the CNNs (5.5-5.9x)."""
    from sercompress.profile.kernel_model import cycles, model_terms

    fits = {c.dtype: c.coefficients for c in calibrate(samples) if c.family == "cortex-m4"}
    cnn6 = next(s for s in samples if s.name == "EdgeMark CNN_6" and s.dtype == "int8")
    ratio = cycles(model_terms(cnn6.layers), fits["float32"]) / cycles(model_terms(cnn6.layers),
                                                                      fits["int8"])
    assert 4.5 < ratio < 7.0


def test_profiles_store_the_fit_and_its_leave_one_out_error(samples):
    """What the shipped profiles say is what bench/calibrate_latency.py computes now."""
    fresh = {(c.family, c.dtype): c for c in calibrate(samples)}
    for name, family in (("stm32l4r5", "cortex-m4"), ("stm32h743", "cortex-m7"), ("esp32s3", "esp32s3")):
        hw = get_hw_profile(name)
        for dtype, stored in hw.latency.validation.items():
            c = fresh[(family, dtype)]
            assert stored.models == c.models
            assert stored.ratio_low == pytest.approx(c.ratio_low, abs=1e-3)
            assert stored.ratio_high == pytest.approx(c.ratio_high, abs=1e-3)
            kernels = hw.latency.kernel_model[dtype].model_dump()
            assert kernels == pytest.approx(c.coefficients, rel=1e-4, abs=1e-9)
    v = leave_one_out([s for s in samples if s.name.startswith("EdgeMark")], "cortex-m", "int8")
    assert len(v.names) == 18 and v.p90_abs_error() < 0.5   # each model predicted without itself


def _static(channels: int, size: int, layers: int = 3) -> StaticProfile:
    """A stack of 3x3 int8 convolutions (the calibrated op mix)."""
    convs = tuple(LayerProfile(
        index=i, op="Conv2D", raw_op="CONV_2D", name=f"c{i}", dtype="int8", activation_dtype="int8",
        input_shapes=((1, size, size, channels),), output_shapes=((1, size, size, channels),),
        params=9 * channels * channels, nonzero_params=9 * channels * channels,
        macs=size * size * channels * 9 * channels, effective_macs=size * size * channels * 9 * channels,
        input_elements=size * size * channels, output_elements=size * size * channels,
        activation_bytes=size * size * channels) for i in range(layers))
    macs = sum(c.macs for c in convs)
    return StaticProfile(path="m.tflite", format="tflite", file_bytes=1000, gzip_bytes=900,
                         layers=convs, params=0, nonzero_params=0, macs=macs, effective_macs=macs,
                         weight_bytes_by_dtype={"int8": 1}, constant_bytes=1000, peak_ram_bytes=1000,
                         input_shapes=((1, size, size, channels),), weight_dtypes=("int8", "int32"),
                         activation_dtypes=("int8",))


def test_band_comes_from_the_profiles_validation():
    hw = get_hw_profile("stm32l4r5")
    est = kernel_estimate(_static(32, 16), hw)
    v = hw.latency.validation["int8"]
    assert est.band.low_ms == pytest.approx(est.ms * v.ratio_low)
    assert est.band.high_ms == pytest.approx(est.ms * v.ratio_high)
    assert "over 18 models" in est.band.basis and est.band.outside == ""


def test_three_valued_verdict_follows_the_band():
    hw = get_hw_profile("stm32l4r5")
    static = _static(32, 16)
    est = kernel_estimate(static, hw)
    low, high = est.band.low_ms, est.band.high_ms

    def verdict(budget):
        return Budget.from_hardware(hw, latency_ms=budget).is_satisfied_by(static, est).verdict

    assert verdict(high * 1.01) == "FITS"
    assert verdict((low + high) / 2) == "MARGINAL"
    assert verdict(low * 0.99) == "DOES NOT FIT"


def test_outside_the_calibrated_size_or_op_mix_says_so():
    hw = get_hw_profile("stm32l4r5")
    big = kernel_estimate(_static(64, 96, layers=8), hw)     # ~2.7 G MACs: never seen
    assert "size never seen" in big.band.outside
    dw = _static(16, 16).layers[0].model_copy(update={"op": "DepthwiseConv2D", "raw_op": "DEPTHWISE_CONV_2D",
                                                       "macs": 16 * 16 * 16 * 9})
    static = _static(16, 16).model_copy(update={"layers": (dw,)})
    est = kernel_estimate(static, get_hw_profile("stm32l4r5").model_copy(update={}))
    assert est.band.op_mix_outside and "op mix never seen" in est.band.outside


def test_check_prints_the_band_and_strict_fails_marginal(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((16, 16, 3, 3), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 32, 32])], [w])
    path = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    hw = get_hw_profile("stm32l4r5")
    from sercompress.profile import profile_artifact

    est = kernel_estimate(profile_artifact(path), hw)
    inside = str((est.band.low_ms + est.band.high_ms) / 2)
    junit = tmp_path / "check.xml"
    assert main(["check", str(path), "--hw", "stm32l4r5", "--latency-budget-ms", inside,
                 "--junit", str(junit)]) == 0
    out = capsys.readouterr().out
    assert ": MARGINAL" in out and "90 % band" in out and "(estimated, 90 % band" in out
    xml = junit.read_text()
    assert 'skipped="1"' in xml and 'failures="0"' in xml and "MARGINAL" in xml
    assert main(["check", str(path), "--hw", "stm32l4r5", "--latency-budget-ms", inside, "--strict"]) == 1
    assert main(["check", str(path), "--hw", "stm32l4r5", "--latency-budget-ms",
                 str(est.band.low_ms * 0.9)]) == 1
    assert "DOES NOT FIT" in capsys.readouterr().out
