"""Budget checks: values, limits, margins and reasons for flash, RAM, latency and dtype."""

from __future__ import annotations

import math

import pytest

from sercompress.fit import Budget, DeviceFit, flash_used, ram_used
from sercompress.profile.hardware import HardwareProfile
from sercompress.profile.host import summarize
from sercompress.profile.persistent import STATED_ERROR
from sercompress.profile.types import (
    LatencyEstimate,
    LayerProfile,
    StaticProfile,
    TflmArena,
    VelaResult,
)

KIB = 1024


def hw(**over) -> HardwareProfile:
    d = {
        "schema_version": 1, "name": "dev", "description": "d", "core": "c", "clock_hz": 10**8,
        "flash_bytes": 100 * KIB, "ram_bytes": 50 * KIB, "runtime_flash_bytes": 20 * KIB,
        "runtime_ram_bytes": 10 * KIB, "runtime": "tflm", "kernels": "k",
        "weight_dtypes": ["int8"], "activation_dtypes": ["int8"], "latency_budget_ms": 100.0,
        "latency": {"float_supported": False, "layer_overhead_cycles": 0, "int8": {
            "conv_macs_per_cycle": 1, "depthwise_macs_per_cycle": 1,
            "fully_connected_macs_per_cycle": 1, "elementwise_cycles_per_element": 1,
            "pooling_cycles_per_element": 1}},
        "sources": dict.fromkeys(("clock_hz", "flash_bytes", "ram_bytes", "runtime_footprint",
                                  "latency", "latency_budget_ms"), "test"),
    }
    d.update(over)
    return HardwareProfile.from_dict(d)


def static(file_bytes=60 * KIB, constant=55 * KIB, peak=30 * KIB, fmt="tflite",
           dtypes=("int8",), **ground_truth) -> StaticProfile:
    conv = LayerProfile(index=0, op="Conv2D", raw_op="CONV_2D", name="c", dtype=dtypes[0],
                        activation_dtype=dtypes[0], input_shapes=(), output_shapes=(), params=0,
                        nonzero_params=0, macs=10, effective_macs=10, input_elements=1,
                        output_elements=1, activation_bytes=1)
    return StaticProfile(path=f"m.{fmt}", format=fmt, file_bytes=file_bytes, gzip_bytes=1,
                         layers=(conv,), params=0, nonzero_params=0, macs=10, effective_macs=10,
                         weight_bytes_by_dtype={}, constant_bytes=constant, peak_ram_bytes=peak,
                         input_shapes=(), weight_dtypes=(*dtypes, "int32"),
                         activation_dtypes=dtypes, **ground_truth)


def _measured(arena: int) -> TflmArena:
    """A TFLite Micro arena measured for the file: RAM is judged on it exactly."""
    return TflmArena(total_bytes=arena, head_bytes=arena, tail_bytes=0)


def lat(ms: float | None, source="estimated") -> LatencyEstimate:
    return LatencyEstimate(hardware="dev", source=source, ms=ms, cycles=None if ms is None else ms * 1e5,
                           reason="why")


def test_everything_fits_with_margins():
    r = Budget.from_hardware(hw()).is_satisfied_by(static(), lat(40.0))
    assert r.fits and r.failures == () and r.reasons == ()
    flash, ram, latency = r.check("flash"), r.check("ram"), r.check("latency")
    assert (flash.value, flash.limit, flash.margin) == (80 * KIB, 100 * KIB, 20 * KIB)
    upper = math.ceil(30 * KIB * (1 + STATED_ERROR))   # an estimated arena is judged at its upper bound
    assert (ram.value, ram.limit, ram.margin) == (upper + 10 * KIB, 50 * KIB, 40 * KIB - upper)
    assert "estimated" in ram.reason
    assert (latency.value, latency.limit, latency.margin) == (40.0, 100.0, 60.0)
    assert flash.unit == "bytes" and latency.unit == "ms"
    assert "flatbuffer as stored (TFLite Micro) 60.0 KiB + runtime 20.0 KiB" in flash.reason
    assert "left" in flash.reason
    assert r.to_dict()["checks"][0]["name"] == "flash"
    assert DeviceFit.model_validate_json(r.model_dump_json()) == r  # the record round-trips
    assert isinstance(flash.value, int)  # bytes stay integers


def test_over_budget_gives_negative_margins_and_reasons():
    r = Budget.from_hardware(hw()).is_satisfied_by(static(file_bytes=90 * KIB, tflm=_measured(45 * KIB)),
                                                   lat(250.0))
    assert not r.fits
    assert [c.name for c in r.failures] == ["flash", "ram", "latency"]
    assert r.check("flash").margin == -10 * KIB and r.check("ram").margin == -5 * KIB
    assert r.check("latency").margin == pytest.approx(-150.0)
    assert "10.0 KiB over of 100.0 KiB" in r.check("flash").reason
    assert "over the 100 ms budget by 150 ms" in r.check("latency").reason
    assert r.reasons[0].startswith("flash: ")


def test_exactly_at_the_limit_fits():
    r = Budget.from_hardware(hw()).is_satisfied_by(static(file_bytes=80 * KIB, tflm=_measured(40 * KIB)),
                                                   lat(100.0))
    assert r.fits and r.check("flash").margin == 0 and r.check("latency").margin == 0


def test_latency_override_and_onnx_counts_the_file():
    r = Budget.from_hardware(hw(), latency_ms=30.0).is_satisfied_by(static(fmt="onnx"), lat(40.0))
    assert not r.check("latency").ok and r.check("latency").limit == 30.0
    assert r.check("flash").value == 60 * KIB + 20 * KIB  # the file as stored, not only its constants


def test_unsupported_latency_and_dtype_fail_with_the_reason():
    r = Budget.from_hardware(hw()).is_satisfied_by(static(dtypes=("float32",)),
                                                   LatencyEstimate(hardware="dev", source="unsupported",
                                                                   ms=None, cycles=None,
                                                                   reason="float compute has no path"))
    assert not r.fits
    assert "unsupported: float compute has no path" in r.check("latency").reason
    dtype = r.check("dtype")
    assert not dtype.ok and "['float32'] not supported" in dtype.reason


def test_ground_truth_replaces_the_plan():
    tflm = static(tflm=TflmArena(total_bytes=48 * KIB, head_bytes=40 * KIB, tail_bytes=8 * KIB))
    r = Budget.from_hardware(hw()).is_satisfied_by(tflm, lat(1.0))
    assert r.check("ram").value == 58 * KIB and "measured by TFLite Micro" in r.check("ram").reason
    assert not r.fits
    vela_hw = hw(runtime="vela", vela={"accelerator_config": "ethos-u55-128",
                                       "system_config": "s", "memory_mode": "m"})
    vela = static(vela=VelaResult(accelerator="ethos-u55-128", system_config="s", memory_mode="m",
                                  clock_hz=5e8, cycles=1000, inference_ms=1.0, sram_bytes=5 * KIB,
                                  flash_bytes=70 * KIB, macs=10, cpu_op_count=0, npu_op_count=1,
                                  cpu_fallback_ops=()))
    r = Budget.from_hardware(vela_hw).is_satisfied_by(vela, lat(1.0, "vela"))
    assert r.check("ram").value == 15 * KIB and r.check("flash").value == 90 * KIB
    assert "Vela SRAM" in r.check("ram").reason
    # Vela figures are only used for a Vela device.
    r = Budget.from_hardware(hw()).is_satisfied_by(vela, lat(1.0))
    assert r.check("flash").value == 80 * KIB


def test_one_rule_chooses_the_ram_and_flash_of_a_device():
    """Vela (for the accelerator it compiled for) > TFLM arena > planner; the fit uses the same."""
    vela_hw = hw(runtime="vela", vela={"accelerator_config": "ethos-u55-128",
                                       "system_config": "s", "memory_mode": "m"})
    other_hw = hw(runtime="vela", vela={"accelerator_config": "ethos-u65-256",
                                        "system_config": "s", "memory_mode": "m"})
    vela = VelaResult(accelerator="ethos-u55-128", system_config="s", memory_mode="m", clock_hz=5e8,
                      cycles=1000, inference_ms=1.0, sram_bytes=5 * KIB, flash_bytes=70 * KIB,
                      macs=10, cpu_op_count=0, npu_op_count=1, cpu_fallback_ops=())
    both = static(tflm=TflmArena(total_bytes=48 * KIB, head_bytes=40 * KIB, tail_bytes=8 * KIB),
                  vela=vela)
    assert (ram_used(both, vela_hw).bytes, ram_used(both, vela_hw).source) == (5 * KIB, "Vela SRAM")
    assert ram_used(both, other_hw).source == "TFLM arena (measured by TFLite Micro)"  # other NPU
    assert ram_used(both, hw()).bytes == ram_used(both, None).bytes == 48 * KIB
    estimated = ram_used(static(), None)   # no ground truth: the estimate's upper bound
    assert estimated.source.startswith("TFLM arena (estimated")
    assert estimated.bytes == math.ceil(30 * KIB * (1 + STATED_ERROR))
    assert flash_used(both, vela_hw).bytes == 70 * KIB and flash_used(both, None).bytes == 60 * KIB
    for device in (vela_hw, other_hw, hw()):
        fit = Budget.from_hardware(device).is_satisfied_by(both, lat(1.0))
        assert fit.check("ram").value == ram_used(both, device).bytes + device.runtime_ram_bytes
        assert fit.check("flash").value == flash_used(both, device).bytes + device.runtime_flash_bytes


def test_default_budget_has_no_limits():
    r = Budget().is_satisfied_by(static(file_bytes=10**9, peak=10**9), lat(10**6))
    assert r.fits and all(c.margin is None for c in r.checks)
    assert not Budget(latency_ms=5.0).is_satisfied_by(static(), None).fits
    assert Budget().is_satisfied_by(static(), None).check("latency").ok


def test_unknown_latency_is_neither_a_fit_nor_a_miss():
    """Ops the runtime runs but the cost model does not know: UNKNOWN, never FITS, never a miss."""
    unknown = LatencyEstimate(hardware="dev", source="unknown", ms=None, cycles=None,
                              reason="1 layer(s) of op(s) CUMSUM that runtime tflm runs ...")
    r = Budget.from_hardware(hw()).is_satisfied_by(static(), unknown)
    assert (r.verdict, r.fits) == ("UNKNOWN", False)
    latency = r.check("latency")
    assert (latency.ok, latency.unknown, latency.marginal, latency.status) == (False, True, False, "unknown")
    assert latency.reason.startswith("UNKNOWN: ") and "CUMSUM" in latency.reason
    assert r.reasons == (f"latency: {latency.reason}",)
    # a byte figure over its limit still makes it a miss
    over = Budget.from_hardware(hw()).is_satisfied_by(static(file_bytes=90 * KIB), unknown)
    assert over.verdict == "DOES NOT FIT"
    # without a latency budget an unknown latency does not matter
    free = Budget(hardware="dev").is_satisfied_by(static(), unknown)
    assert free.verdict == "FITS" and "UNKNOWN" in free.check("latency").reason
    assert DeviceFit.model_validate_json(r.model_dump_json()) == r


def _host_measurement(peak: int, baseline: int):
    return summarize("m.tflite", "litert", 1, 5, [1.0] * 50, peak, baseline)


def test_litert_and_onnxruntime_devices_use_their_own_ram_figure():
    """Not TFLite Micro's arena: the measured RSS growth where it was run, else the planned arena."""
    arena = static(tflm=_measured(45 * KIB), peak=30 * KIB)
    for runtime, name in (("litert", "LiteRT"), ("onnxruntime", "ONNX Runtime")):
        used = ram_used(arena, hw(runtime=runtime))
        assert used.bytes == 30 * KIB and used.source.startswith(f"{name} planned activation arena")
    host = hw(runtime="litert", measured=True, ram_bytes=10**9)
    run = _host_measurement(peak=50_000_000, baseline=43_000_000)
    assert ram_used(arena, host, run).bytes == 7_000_000
    measured = LatencyEstimate(hardware="dev", source="measured", ms=1.0, cycles=1e5, reason="",
                               measured=run)
    check = Budget.from_hardware(host).is_satisfied_by(arena, measured).check("ram")
    assert check.value == 7_000_000 + 10 * KIB and "peak RSS over baseline measured by litert" in check.reason
    # TFLite Micro devices keep the arena TFLite Micro allocated
    assert ram_used(arena, hw(), run).bytes == 45 * KIB
