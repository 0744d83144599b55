"""Hardware profiles: every shipped file loads and round-trips; bad files name file and key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sercompress.errors import ProfileError
from sercompress.profile.hardware import (
    PATH_ENV, SHIPPED_DIR, HardwareProfile, available_profiles, get_hw_profile, load_hw_profile,
)

SHIPPED = sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))
REQUIRED = {  # name: (clock_hz, flash_bytes, runtime)
    "nrf52840": (64_000_000, 1 << 20, "tflm"),
    "stm32l4r5": (120_000_000, 2 << 20, "tflm"),
    "stm32h7a3": (280_000_000, 2 << 20, "tflm"),
    "stm32h743": (480_000_000, 2 << 20, "tflm"),
    "esp32s3": (240_000_000, 8 << 20, "tflm"),
    "ethos-u55-128": (None, None, "vela"),
    "rpi4": (1_500_000_000, None, "litert"),
    "host": (None, None, "litert"),
}


def test_the_required_devices_are_shipped():
    assert set(REQUIRED) <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_loads_and_round_trips(name):
    hw = load_hw_profile(SHIPPED_DIR / f"{name}.toml")
    d = hw.to_dict()
    assert d["schema_version"] == 1 and d["name"] == name
    again = HardwareProfile.from_dict(d)
    assert again == hw and again.to_dict() == d
    assert hw.model_flash_bytes == hw.flash_bytes - hw.runtime_flash_bytes > 0
    assert hw.model_ram_bytes == hw.ram_bytes - hw.runtime_ram_bytes > 0
    assert all(v.strip() for v in hw.sources.values())


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_device_figures(name):
    clock, flash, runtime = REQUIRED[name]
    hw = get_hw_profile(name)
    assert hw.runtime == runtime
    if clock is not None:
        assert hw.clock_hz == clock
    if flash is not None:
        assert hw.flash_bytes == flash


def test_device_specific_choices():
    assert get_hw_profile("host").measured
    ethos = get_hw_profile("ethos-u55-128")
    assert ethos.vela is not None and ethos.vela.accelerator_config == "ethos-u55-128"
    assert not ethos.latency.float_supported and ethos.latency.for_dtype("float32") is None
    nrf = get_hw_profile("nrf52840")
    assert nrf.ram_bytes == 256 * 1024 and nrf.active_power_mw is not None
    # The arena limit of the H743 is its largest contiguous SRAM block, not the 1 MB total.
    h743 = get_hw_profile("stm32h743")
    assert h743.ram_total_bytes == 1 << 20 and h743.ram_bytes == 512 * 1024


# ------------------------------------------------------------------ bad files


def _variant(tmp_path: Path, edit, name: str = "stm32h743") -> Path:
    text = (SHIPPED_DIR / f"{name}.toml").read_text()
    path = tmp_path / f"{name}.toml"
    path.write_text(edit(text))
    return path


def _drop_line(key: str):
    return lambda t: re.sub(rf"(?m)^{re.escape(key)} = .*\n", "", t, count=1)


def _set(key: str, value: str):
    return lambda t: re.sub(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", t, count=1)


@pytest.mark.parametrize("edit,key,words", [
    (_drop_line("clock_hz"), "clock_hz", "Field required"),
    (_set("flash_bytes", "-5"), "flash_bytes", "greater than 0"),
    (_set("runtime_ram_bytes", "-1"), "runtime_ram_bytes", "greater than or equal to 0"),
    (_set("runtime", '"tensorrt"'), "runtime", "valid choices"),
    (lambda t: t.replace("[latency]\n", "[latency]\nturbo = true\n"), "latency.turbo", "unknown key"),
    (_set("conv_macs_per_cycle", "0"), "latency.int8.conv_macs_per_cycle", "greater than 0"),
    (_set("weight_dtypes", '["int4"]'), "weight_dtypes.0", "valid choices"),
    (_set("schema_version", "2"), "schema_version", "unsupported schema_version 2"),
    (_drop_line("schema_version"), "schema_version", "missing"),
    (_set("name", '"other"'), "name", "does not match the file name"),
])
def test_bad_profile_names_file_and_key(tmp_path, edit, key, words):
    path = _variant(tmp_path, edit)
    with pytest.raises(ProfileError) as e:
        load_hw_profile(path)
    assert e.value.path == path and e.value.key == key
    assert words in str(e.value) and str(path) in str(e.value)


@pytest.mark.parametrize("edit,words", [
    (lambda t: t.replace("float_supported = true", "float_supported = false"), "float"),
    (_set("runtime_ram_bytes", "600_000"), "runtime_ram_bytes must be smaller than ram_bytes"),
    (lambda t: re.sub(r"(?m)^latency = .*\n", "", t), "sources must cite ['latency']"),
    (lambda t: re.sub(r"\[latency\.int16\]\n(.*\n){5}", "", t), "int16 has no [latency.int16]"),
])
def test_inconsistent_profile_is_refused(tmp_path, edit, words):
    with pytest.raises(ProfileError) as e:
        load_hw_profile(_variant(tmp_path, edit))
    assert words in str(e.value)


def test_vela_runtime_needs_vela_table(tmp_path):
    path = _variant(tmp_path, lambda t: t.replace("[vela]", "[unused]").replace(
        "accelerator_config", "#").replace("system_config", "#").replace("memory_mode", "#"),
        "ethos-u55-128")
    path.write_text(path.read_text().replace("[unused]\n", ""))
    with pytest.raises(ProfileError, match="runtime 'vela' needs a \\[vela\\] table"):
        load_hw_profile(path)


def test_not_a_toml_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("name = [unclosed\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_hw_profile(bad)
    with pytest.raises(ProfileError, match="file not found"):
        load_hw_profile(tmp_path / "absent.toml")


# ------------------------------------------------------------------ registry


def test_unknown_name_lists_known_ones():
    with pytest.raises(ProfileError) as e:
        get_hw_profile("cray-1")
    msg = str(e.value)
    assert "unknown hardware profile 'cray-1'" in msg
    for name in REQUIRED:
        assert name in msg


def test_user_adds_a_device_by_adding_a_file(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    text = (SHIPPED_DIR / "stm32h743.toml").read_text().replace('name = "stm32h743"',
                                                                  'name = "my-board"')
    (mine / "my-board.toml").write_text(text.replace("clock_hz = 480_000_000", "clock_hz = 400_000_000"))
    assert "my-board" not in available_profiles()
    hw = get_hw_profile("my-board", extra=(mine,))
    assert hw.name == "my-board" and hw.clock_hz == 400_000_000
    assert get_hw_profile(mine / "my-board.toml") == hw          # by path
    monkeypatch.setenv(PATH_ENV, str(mine))                       # or by search path
    assert "my-board" in available_profiles()
    assert get_hw_profile("my-board") == hw


def test_earlier_directory_overrides_a_shipped_profile(tmp_path):
    shutil.copy(SHIPPED_DIR / "rpi4.toml", tmp_path / "rpi4.toml")
    (tmp_path / "rpi4.toml").write_text((tmp_path / "rpi4.toml").read_text().replace(
        "latency_budget_ms = 3000.0", "latency_budget_ms = 50.0"))
    assert get_hw_profile("rpi4", extra=(tmp_path,)).latency_budget_ms == 50.0
    assert get_hw_profile("rpi4").latency_budget_ms == 3000.0
