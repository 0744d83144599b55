"""Latency model: per-layer arithmetic, routing (estimated / vela / measured / unsupported), fitting."""

from __future__ import annotations

import pytest

from sercompress.profile import tflite_reader
from sercompress.profile.calibration import design_row, fit_coefficients, predict_ms
from sercompress.profile.cost import model_estimate
from sercompress.profile.hardware import HardwareProfile, get_hw_profile
from sercompress.profile.host import summarize
from sercompress.profile.latency import estimate, with_device_ground_truth
from sercompress.profile.types import LayerProfile, StaticProfile, VelaResult

CLOCK = 100_000_000
COEFFS = {
    "conv_macs_per_cycle": 0.5, "depthwise_macs_per_cycle": 0.25,
    "fully_connected_macs_per_cycle": 0.125, "elementwise_cycles_per_element": 3.0,
    "pooling_cycles_per_element": 2.0,
}


def device(**over) -> HardwareProfile:
    d = {
        "schema_version": 1, "name": "testdev", "description": "hand-made", "core": "test-core",
        "clock_hz": CLOCK, "flash_bytes": 1 << 20, "ram_bytes": 1 << 18,
        "runtime_flash_bytes": 1 << 16, "runtime_ram_bytes": 1 << 12, "runtime": "tflm",
        "kernels": "test", "weight_dtypes": ["int8"], "activation_dtypes": ["int8"],
        "latency_budget_ms": 100.0, "active_power_mw": 20.0,
        "latency": {"float_supported": False, "layer_overhead_cycles": 100, "int8": COEFFS},
        "sources": dict.fromkeys(("clock_hz", "flash_bytes", "ram_bytes", "runtime_footprint",
                                  "latency", "latency_budget_ms", "active_power_mw"), "test"),
    }
    d.update(over)
    return HardwareProfile.from_dict(d)


#: canonical op -> a TFLite builtin that reads as it (the runtime support check reads these)
RAW = {canonical: raw for raw, canonical in reversed(tflite_reader.CANONICAL.items())}


def layer(i, op, macs=0, inp=0, out=0, dtype="int8", act="int8", name=None, raw=None) -> LayerProfile:
    return LayerProfile(index=i, op=op, raw_op=raw or RAW.get(op, op.upper()), name=name or f"l{i}",
                        dtype=dtype,
                        activation_dtype=act, input_shapes=(), output_shapes=(), params=0,
                        nonzero_params=0, macs=macs, effective_macs=macs // 2, input_elements=inp,
                        output_elements=out, activation_bytes=out, known=op != "Unknown")


def static(layers, weight_dtypes=("int8", "int32"), act_dtypes=("int8",), vela=None,
           unknown=()) -> StaticProfile:
    return StaticProfile(path="/nonexistent/model.tflite", format="tflite", file_bytes=1000,
                         gzip_bytes=900, layers=tuple(layers), params=0, nonzero_params=0,
                         macs=sum(x.macs for x in layers), effective_macs=0,
                         weight_bytes_by_dtype={}, constant_bytes=800, peak_ram_bytes=5000,
                         input_shapes=((1, 8, 8, 1),), weight_dtypes=weight_dtypes,
                         activation_dtypes=act_dtypes, unknown_ops=unknown, vela=vela)


def vela_result(cycles=2_000_000, ms=4.0, fallback=("EXP 'y'",), accelerator="ethos-u55-128"):
    return VelaResult(accelerator=accelerator, system_config="Ethos_U55_High_End_Embedded",
                      memory_mode="Shared_Sram", clock_hz=5e8, cycles=cycles, inference_ms=ms,
                      sram_bytes=1000, flash_bytes=2000, macs=10, cpu_op_count=len(fallback),
                      npu_op_count=3, cpu_fallback_ops=fallback)


NET = [
    layer(0, "Conv2D", macs=1_000_000, inp=64, out=2000),
    layer(1, "DepthwiseConv2D", macs=50_000, inp=2000, out=2000),
    layer(2, "AveragePool2D", macs=2000, inp=2000, out=500),
    layer(3, "Add", inp=1000, out=500),
    layer(4, "Reshape", inp=500, out=500),
    layer(5, "FullyConnected", macs=5000, inp=500, out=10, dtype="int8"),
    layer(6, "Softmax", macs=20, inp=10, out=10),
]
# By hand: MACs / rate, elements x cost, 7 layers x 100 cycles of overhead.
EXPECTED_CYCLES = (1_000_000 / 0.5 + 50_000 / 0.25 + 2000 * 2.0 + 500 * 3.0 + 5000 / 0.125
                   + 10 * 3.0 + 7 * 100)


def test_per_layer_arithmetic():
    est = estimate(static(NET), device())
    assert est.source == "estimated" and est.supported
    assert est.cycles == pytest.approx(EXPECTED_CYCLES)
    assert est.ms == pytest.approx(EXPECTED_CYCLES / CLOCK * 1e3)
    assert est.energy_mj == pytest.approx(20.0 * est.ms / 1e3)
    by_op = {x.op: x for x in est.layers}
    assert by_op["Conv2D"].cycles == pytest.approx(1_000_000 / 0.5 + 100)
    assert by_op["AveragePool2D"].elements == 2000 and by_op["AveragePool2D"].macs == 0
    assert by_op["Reshape"].cycles == pytest.approx(100)
    assert sum(x.ms for x in est.layers) == pytest.approx(est.ms)
    assert est.to_dict()["layers"][0]["op_class"] == "conv"


def test_effective_macs_and_no_power():
    sparse = model_estimate(static(NET), device(active_power_mw=None), use_effective_macs=True)
    dense = model_estimate(static(NET), device(active_power_mw=None))
    assert sparse.cycles < dense.cycles and sparse.energy_mj is None


@pytest.mark.parametrize("net,kwargs,words", [
    ([layer(0, "Conv2D", 10, 4, 4, "float32", "float32")],
     {"weight_dtypes": ("float32",), "act_dtypes": ("float32",)}, "float compute"),
    ([layer(0, "Conv2D", 10, 4, 4, "int8", "int16")], {"act_dtypes": ("int16",)},
     "activation dtype(s) ['int16'] not supported"),
    ([layer(0, "Conv2D", 10, 4, 4, "int8", "float32")],
     {"act_dtypes": ("float32",)}, "float compute"),
    ([layer(0, "Unknown", 0, 4, 4, raw="CUSTOM:Mystery")], {"unknown": ("CUSTOM:Mystery",)},
     "op(s) not supported by runtime tflm: CUSTOM:Mystery (not a TFLite Micro builtin)"),
])
def test_unsupported_gets_no_number(net, kwargs, words):
    est = estimate(static(net, **kwargs), device())
    assert est.source == "unsupported" and est.ms is None and est.cycles is None
    assert words in est.reason


@pytest.mark.parametrize("runtime,op,source", [
    ("tflm", "CUMSUM", "unknown"),            # a TFLite Micro builtin we have no cost for
    ("tflm", "NON_MAX_SUPPRESSION_V5", "unsupported"),  # a TFLite builtin TFLite Micro lacks
    ("tflm", "CUSTOM:Mystery", "unsupported"),
    ("litert", "NON_MAX_SUPPRESSION_V5", "unknown"),    # LiteRT runs every builtin ...
    ("litert", "CUSTOM:Mystery", "unsupported"),        # ... but no custom op
])
def test_unknown_op_leaves_latency_unknown_only_where_the_runtime_runs_it(runtime, op, source):
    """Never a total that counts the op as zero: no figure, and unknown vs unsupported by runtime."""
    net = [*NET, layer(7, "Unknown", 0, 10, 10, raw=op)]
    est = estimate(static(net, unknown=(op,)), device(runtime=runtime))
    assert est.source == source and est.ms is None and est.cycles is None and est.energy_mj is None
    assert op in est.reason
    assert est.supported == (source == "unknown")


def test_a_known_op_tflite_micro_lacks_is_unsupported_there_only():
    """TILE has a cost, but no TFLite Micro kernel: no estimate for a board that cannot run it."""
    tiled = static([*NET, layer(7, "Tile", 0, 10, 40)])
    est = estimate(tiled, device())
    assert est.source == "unsupported" and "TILE (not a TFLite Micro builtin)" in est.reason
    assert estimate(tiled, device(runtime="litert")).source == "estimated"
    # an .onnx file's known ops are not TFLite builtins: its conversion decides, not checked here
    assert estimate(tiled.model_copy(update={"format": "onnx"}), device()).source == "estimated"


def test_float_io_conversions_keep_an_integer_model_integer():
    """PTQ int8 with float input/output: Quantize / Dequantize run on the CPU anywhere."""
    net = [layer(0, "Quantize", inp=100, out=100, dtype="int8", act="int8"),
           *NET, layer(9, "Dequantize", inp=10, out=10, dtype="float32", act="float32")]
    est = estimate(static(net, act_dtypes=("float32", "int8")), device())
    assert est.source == "estimated"
    assert est.cycles == pytest.approx(EXPECTED_CYCLES + 100 * 3.0 + 10 * 3.0 + 2 * 100)
    assert {x.dtype for x in est.layers} == {"int8"}


def test_hybrid_layers_need_hybrid_kernels():
    latency = {"float_supported": True, "layer_overhead_cycles": 0, "int8": COEFFS,
               "float32": COEFFS}
    hw = device(weight_dtypes=["int8", "float32"], activation_dtypes=["int8", "float32"],
                latency=latency)
    hybrid = static([layer(0, "Conv2D", 10, 4, 4, "int8", "float32")], act_dtypes=("float32",))
    assert "hybrid" in estimate(hybrid, hw).reason
    hw2 = HardwareProfile.from_dict({**hw.to_dict(), "hybrid_supported": True})
    assert estimate(hybrid, hw2).source == "estimated"


def test_missing_coefficients_for_a_supported_dtype():
    hw = device(activation_dtypes=["int8"], runtime="litert", measured=False)
    net = [layer(0, "Conv2D", 10, 4, 4, "int8", "int16")]
    hw16 = HardwareProfile.from_dict({**hw.to_dict(), "activation_dtypes": ["int8", "int16"],
                                      "measured": True})
    est = model_estimate(static(net, act_dtypes=("int16",)), hw16)
    assert est.source == "unsupported" and "no [latency.int16] coefficients" in est.reason


def test_vela_device_reads_vela_result():
    hw = device(runtime="vela", vela={"accelerator_config": "ethos-u55-128",
                                      "system_config": "Ethos_U55_High_End_Embedded",
                                      "memory_mode": "Shared_Sram"})
    none = estimate(static(NET), hw)
    assert none.source == "unsupported" and "Vela" in none.reason
    est = estimate(static(NET, vela=vela_result()), hw)
    assert est.source == "vela" and est.ms == 4.0 and est.cycles == 2_000_000
    assert est.vela == vela_result()
    assert "EXP" in est.reason and est.energy_mj == pytest.approx(20.0 * 4.0 / 1e3)
    # A Vela result compiled for another accelerator says nothing about this device.
    other = static(NET, vela=vela_result(accelerator="ethos-u65-256"))
    assert estimate(other, hw).source == "unsupported"
    # Vela is not run for a model the device cannot execute at all.
    f32 = static([layer(0, "Conv2D", 10, 4, 4, "float32", "float32")], ("float32",), ("float32",))
    assert with_device_ground_truth(f32, hw) is f32


def test_measured_device_measures_never_estimates():
    hw = device(measured=True, runtime="litert")
    calls = []

    def fake_measure(path):
        calls.append(path)
        return summarize(path, "litert", 1, 5, [7.0, 7.5, 8.0], 10, 5)

    est = estimate(static(NET), hw, measure=fake_measure)
    assert calls == ["/nonexistent/model.tflite"]
    assert est.source == "measured" and est.ms == 7.5 and est.measured.median_ms == 7.5
    assert est.measured.samples_ms == ()  # figures only: the raw samples are not kept


# ------------------------------------------------------------------ fitting


def _synthetic(i: int, fc_macs: int = 20_000) -> StaticProfile:
    """Nets of different widths and lengths whose term totals are not collinear."""
    w, t = 1 + i % 3, 1 + i // 3
    return static([
        layer(0, "Conv2D", macs=400_000 * w * w * t, inp=100 * t, out=800 * w * t),
        layer(1, "AveragePool2D", inp=800 * w * t, out=200 * w * t),
        layer(2, "Conv2D", macs=90_000 * w * t, inp=200 * w * t, out=300 * w * t),
        layer(3, "Add", inp=600 * w * t, out=300 * w * t * (1 + i % 2)),
        *[layer(4 + k, "Reshape", inp=1, out=1) for k in range(i % 4)],
        layer(9, "Mean", inp=300 * w * t, out=w),
        layer(10, "FullyConnected", macs=fc_macs * w * (1 + i % 5), inp=w, out=4),
    ])


def test_fit_recovers_known_coefficients():
    hw = device()
    samples = [(f"net{i}", s, estimate(s, hw).ms) for i, s in enumerate(map(_synthetic, range(9)))]
    report = fit_coefficients(samples, CLOCK)
    c = report.coefficients
    assert c.conv_macs_per_cycle == pytest.approx(0.5, rel=1e-4)
    assert c.fully_connected_macs_per_cycle == pytest.approx(0.125, rel=1e-3)
    assert c.pooling_cycles_per_element == pytest.approx(2.0, rel=1e-3)
    assert c.elementwise_cycles_per_element == pytest.approx(3.0, rel=1e-3)
    assert report.layer_overhead_cycles == pytest.approx(100, rel=1e-3)
    assert c.depthwise_macs_per_cycle == c.conv_macs_per_cycle   # never seen: takes conv's rate
    assert max(abs(e) for e in report.relative_errors) < 1e-6
    held_out = _synthetic(11)
    assert predict_ms(held_out, c, report.layer_overhead_cycles, CLOCK) == pytest.approx(
        estimate(held_out, hw).ms, rel=1e-4)


def test_fit_folds_a_tiny_mac_class_into_conv():
    """A 40-MAC classifier cannot be identified: it is costed at the conv rate, not fitted."""
    hw = device()
    nets = [_synthetic(i, fc_macs=40) for i in range(9)]
    report = fit_coefficients([(f"n{i}", s, estimate(s, hw).ms) for i, s in enumerate(nets)], CLOCK)
    c = report.coefficients
    assert c.fully_connected_macs_per_cycle == c.conv_macs_per_cycle
    assert c.conv_macs_per_cycle == pytest.approx(0.5, rel=1e-3)
    assert max(abs(e) for e in report.relative_errors) < 1e-3


def test_fit_needs_two_samples_and_design_row_counts_terms():
    with pytest.raises(ValueError):
        fit_coefficients([("one", static(NET), 1.0)], CLOCK)
    row = dict(zip(("conv", "depthwise", "fc", "elementwise", "pooling", "layers"),
                   design_row(static(NET))))
    assert row == {"conv": 1_000_000, "depthwise": 50_000, "fc": 5000, "elementwise": 510,
                   "pooling": 2000, "layers": 7}


# ------------------------------------------------------------------ Light-SERNet on the devices


@pytest.mark.slow
def test_light_sernet_int8_fits_stm32h743_not_nrf52840(light_sernet_int8):
    from sercompress.fit import Budget
    from sercompress.profile import profile_artifact

    s = profile_artifact(light_sernet_int8)
    results = {}
    for name in ("nrf52840", "stm32h743", "stm32l4r5"):
        hw = get_hw_profile(name)
        results[name] = Budget.from_hardware(hw).is_satisfied_by(s, estimate(s, hw))
    assert not results["nrf52840"].fits and not results["nrf52840"].check("ram").ok
    assert results["stm32h743"].fits, results["stm32h743"].reasons
    h743 = results["stm32h743"].check("latency")
    assert 200 < h743.value < h743.limit          # ~0.4 s by the kernel model at 480 MHz
    assert results["stm32l4r5"].check("ram").ok
    l4 = estimate(s, get_hw_profile("stm32l4r5"))
    concat = sum(x.ms for x in l4.layers if x.op == "Concatenation")
    # a concatenation is a memcpy: not 40 % of the latency, as the calibration's softmax-only `elem`
    # cost (1158 cycles per element) made it
    assert 0 < concat < 0.01 * l4.ms
