"""The static profile against TFLite Micro's real arena and Arm Vela's compile of the int8 file."""

from __future__ import annotations

import json
import subprocess

import pytest

from sercompress.cli import main
from sercompress.errors import ProfileError
from sercompress.profile import profile_artifact, tflm, vela, with_ground_truth


@pytest.fixture(scope="module")
def vela_result(light_sernet_int8, tmp_path_factory):
    return vela.compile(light_sernet_int8, cache_dir=tmp_path_factory.mktemp("vela_cache"))


def test_macs_equal_vela_exactly(light_sernet_int8, vela_result):
    p = profile_artifact(light_sernet_int8)
    assert p.macs == vela_result.macs
    assert vela_result.macs == 160_228_488  # Light-SERNet, 4 classes, 3 s: Vela's count


def test_planner_matches_the_tflm_arena(light_sernet_int8):
    arena = tflm.arena_usage(light_sernet_int8)
    planned = profile_artifact(light_sernet_int8).peak_ram_bytes
    assert arena.total_bytes == tflm.arena_bytes(light_sernet_int8)
    assert arena.total_bytes == arena.head_bytes + arena.tail_bytes
    assert abs(planned - arena.total_bytes) / arena.total_bytes < 0.05
    assert planned == arena.head_bytes  # the same greedy plan, byte for byte


def test_planner_matches_tflm_on_the_small_int8_model(small_model):
    arena = tflm.arena_usage(small_model.int8)
    assert profile_artifact(small_model.int8).peak_ram_bytes == arena.head_bytes


def test_vela_result_is_complete_and_all_on_the_npu(vela_result):
    assert vela_result.accelerator == "ethos-u55-128"
    assert vela_result.cpu_op_count == 0 and vela_result.cpu_fallback_ops == ()
    assert vela_result.npu_op_count > 0
    assert vela_result.cycles > 0 and vela_result.clock_hz > 0
    assert vela_result.inference_ms == pytest.approx(1e3 * vela_result.cycles / vela_result.clock_hz,
                                                     rel=0.01)
    # activations must be in SRAM; the weights (~450 KiB) in flash
    assert vela_result.sram_bytes > 3 * 58_880
    assert 400_000 < vela_result.flash_bytes < 600_000
    # the optimised .tflite the device stores holds that flash, plus the flatbuffer around it
    assert vela_result.flash_bytes < vela_result.optimised_bytes < 1.1 * vela_result.flash_bytes


def test_vela_results_are_cached_by_content(light_sernet_int8, tmp_path, monkeypatch):
    first = vela.compile(light_sernet_int8, cache_dir=tmp_path)
    assert len(list((tmp_path / "vela").glob("*.json"))) == 1

    def no_subprocess(*args, **kwargs):
        raise AssertionError("vela ran again despite the cache")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert vela.compile(light_sernet_int8, cache_dir=tmp_path) == first


def test_vela_reports_cpu_fallback_ops(small_model):
    result = vela.compile(small_model.dynamic)  # float activations: nothing runs on the NPU
    assert result.cpu_op_count > 0
    assert any(op.startswith("FULLY_CONNECTED") for op in result.cpu_fallback_ops)


def test_ground_truth_failures_are_profile_errors(small_model, tmp_path):
    with pytest.raises(ProfileError, match="TFLite Micro"):
        tflm.arena_usage(small_model.float16)  # TFLM has no float16 DEQUANTIZE of constants
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ProfileError, match="vela failed"):
        vela.compile(junk)
    with pytest.raises(ProfileError, match="need a .tflite"):
        with_ground_truth(profile_artifact(small_model.onnx, input_shape=(1, 8, 6, 3)), tflm=True)


def test_cli_json_with_ground_truth_and_hardware(light_sernet_int8, tmp_path, capsys):
    rc = main(["profile", str(light_sernet_int8), "--json", "--tflm", "--vela",
               "--cache-dir", str(tmp_path), "--hw", "ethos-u55-128", "--hw", "nrf52840"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["macs"] == out["vela"]["macs"]
    assert out["tflm"]["head_bytes"] == out["peak_ram_bytes"]
    by_name = {d["hardware"]: d for d in out["hardware"]}
    assert by_name["ethos-u55-128"]["latency"]["source"] == "vela"
    assert by_name["ethos-u55-128"]["latency"]["ms"] == pytest.approx(
        out["vela"]["inference_ms"])
    # 412 KB of activations cannot fit the nRF52840's 256 KB of RAM
    nrf = {c["name"]: c for c in by_name["nrf52840"]["fit"]["checks"]}
    assert by_name["nrf52840"]["fit"]["fits"] is False and nrf["ram"]["ok"] is False


def test_cli_table_and_bad_file(light_sernet_int8, tmp_path, capsys):
    assert main(["profile", str(light_sernet_int8)]) == 0
    text = capsys.readouterr().out
    assert "160,228,488" in text and "Conv2D" in text
    bad = tmp_path / "bad.onnx"
    bad.write_text("garbage" * 10)
    assert main(["profile", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.onnx" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", ["1,x", "1,,4", "0,184,40,1", "abc"])
def test_cli_rejects_a_malformed_input_shape(text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["profile", "model.onnx", "--input-shape", text])
    assert exc.value.code == 2
    assert "--input-shape" in capsys.readouterr().err
