"""What a compression buys on each device: the flash its runtime stores, next to the gzip size.

The rule (``fit.flash_used``) by runtime, the record the assessment keeps
(``DeviceAssessment.model_flash``), the report's table, and on real files: an int8
model and an 80 %-sparse copy take the same flash on TFLite Micro and LiteRT (only
their gzip differs) and less on Ethos-U, where Vela's encoder shrinks the zeros.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from sercompress.assess import assess_on_device
from sercompress.fit import FLASH_STORED, Budget, Resource, flash_used
from sercompress.profile.types import VelaResult
from sercompress.report.conclusion import conclusion_text
from sercompress.report.device_flash import (
    NOT_RECORDED,
    NOTE,
    csv_columns,
    int8_reference,
)
from sercompress.report.html import render_html
from sercompress.report.summary import HardwareBudget, Summary
from sercompress.report.tables import flash_grid, summary_markdown, to_csv
from tests.report.conftest import make_summary, variant
from tests.test_fit import KIB, hw, lat, static

VELA_HW = {"runtime": "vela", "vela": {"accelerator_config": "ethos-u55-128", "system_config": "s",
                                       "memory_mode": "m"}}


def _vela(optimised: int) -> VelaResult:
    return VelaResult(accelerator="ethos-u55-128", system_config="s", memory_mode="m", clock_hz=5e8,
                      cycles=1000, inference_ms=1.0, sram_bytes=5 * KIB, flash_bytes=70 * KIB, macs=10,
                      cpu_op_count=0, npu_op_count=1, cpu_fallback_ops=(), optimised_bytes=optimised)


# -- the rule -------------------------------------------------------------------------------
def test_each_runtime_names_what_it_stores():
    model = static(file_bytes=60 * KIB, constant=55 * KIB)
    for runtime in ("tflm", "litert", "onnxruntime"):
        used = flash_used(model, hw(runtime=runtime))
        assert (used.bytes, used.source) == (60 * KIB, FLASH_STORED[runtime])
    assert flash_used(model, None) == Resource(bytes=60 * KIB, source="file as stored")
    # an ONNX file counts whole; constants kept as external data count when larger
    assert flash_used(static(fmt="onnx", file_bytes=60 * KIB, constant=55 * KIB), None).bytes == 60 * KIB
    assert flash_used(static(fmt="onnx", file_bytes=2 * KIB, constant=55 * KIB), None).bytes == 55 * KIB


def test_ethos_u_stores_the_vela_optimised_model():
    device = hw(**VELA_HW)
    used = flash_used(static(vela=_vela(optimised=40 * KIB)), device)
    assert (used.bytes, used.source) == (40 * KIB, FLASH_STORED["vela"])
    # a Vela record written before the optimised size was kept: Vela's own flash figure
    assert flash_used(static(vela=_vela(optimised=0)), device).bytes == 70 * KIB
    # not compiled by Vela (a float file, say): the file as stored, and it says so
    assert flash_used(static(), device).source == "file as stored (not compiled by Vela)"


def test_the_assessment_keeps_the_flash_its_check_used():
    for device, model in ((hw(), static()), (hw(**VELA_HW), static(vela=_vela(40 * KIB)))):
        assessed = assess_on_device(model, device)
        fit = Budget.from_hardware(device).is_satisfied_by(model, lat(1.0))
        assert assessed.model_flash == flash_used(model, device)
        assert assessed.flash_bytes == assessed.model_flash.bytes + device.runtime_flash_bytes
        assert fit.check("flash").value == assessed.flash_bytes
        assert assessed.model_flash.source in fit.check("flash").reason


# -- the report -----------------------------------------------------------------------------
PROFILES = tuple(HardwareBudget(name=n, flash_bytes=2_000_000, ram_bytes=1_000_000, latency_ms=500.0)
                 for n in ("nrf", "stm32", "npu", "pi"))
TFLM, VELA, LITERT = FLASH_STORED["tflm"], FLASH_STORED["vela"], FLASH_STORED["litert"]


def _with_flash(v, flash: dict[str, tuple[int, str]], unsupported: tuple[str, ...] = ()):
    fits = []
    for f in v.fits:
        latency = (f.latency.model_copy(update={"source": "unsupported", "ms": None})
                   if f.hardware in unsupported else f.latency)
        used = Resource(bytes=flash[f.hardware][0], source=flash[f.hardware][1])
        fits.append(f.model_copy(update={"model_flash": used, "latency": latency}))
    return v.model_copy(update={"fits": tuple(fits)})


def _summary() -> Summary:
    def on(tflm: int, npu: tuple[int, str]):
        return {"nrf": (tflm, TFLM), "stm32": (tflm, TFLM), "npu": npu, "pi": (tflm, LITERT)}

    f32 = variant("float32", "reference", "float32", 0.80, 1_600_000, 900_000, 400.0, PROFILES)
    i8 = variant("ptq-int8", "compressed", "int8", 0.80, 470_000, 400_000, 150.0, PROFILES,
                 recipe="ptq-int8")
    sparse = variant("prune-80+int8", "compressed", "int8", 0.79, 150_000, 400_000, 150.0, PROFILES,
                     recipe="prune-80")
    return make_summary(PROFILES, (
        _with_flash(f32, on(1_800_000, (1_800_000, "file as stored (not compiled by Vela)")),
                    unsupported=("npu",)),
        _with_flash(i8, on(490_000, (470_000, VELA))),
        _with_flash(sparse, on(490_000, (150_000, VELA)))))


def test_the_table_shows_flash_per_device_next_to_gzip():
    s = _summary()
    assert int8_reference(s).name == "ptq-int8"
    header, rows = flash_grid(s)
    # the two TFLite Micro boards store the same bytes: one column naming both
    assert header[2:] == ["gzip (× float32, × ptq-int8)",
                          f"nrf, stm32: {TFLM} (× float32, × ptq-int8)",
                          f"npu: {VELA} (× float32, × ptq-int8)",
                          f"pi: {LITERT} (× float32, × ptq-int8)"]
    table = {r[0]: r[2:] for r in rows}
    # pruning: gzip ×0.32 of int8, flash ×1.00 on TFLite Micro and LiteRT, ×0.32 on Ethos-U
    assert table["prune-80+int8"] == ["146.5 KiB (×0.09, ×0.32)", "478.5 KiB (×0.27, ×1.00)",
                                      "146.5 KiB (–, ×0.32)", "478.5 KiB (×0.27, ×1.00)"]
    assert table["float32"][2] == "does not run"   # no flash saving against a model the NPU cannot run
    assert table["ptq-int8"][2] == "459.0 KiB (–, ×1.00)"


def test_csv_markdown_and_html_carry_the_figures():
    s = _summary()
    prune = s.variant("prune-80+int8")
    assert csv_columns(s, prune, "npu") == {
        "device_flash_bytes": 150_000, "device_flash_what": VELA, "device_flash_vs_float32": None,
        "device_flash_vs_int8": round(150_000 / 470_000, 4), "gzip_vs_float32": round(150_000 / 1_600_000, 4),
        "gzip_vs_int8": round(150_000 / 470_000, 4)}
    assert csv_columns(s, prune, "nrf")["device_flash_vs_int8"] == 1.0
    lines = to_csv(s).splitlines()
    assert "device_flash_bytes" in lines[0].split(",") and len(lines) == 1 + 3 * len(PROFILES)
    md = summary_markdown(s, "conclusion")
    assert "## Flash each device needs" in md and NOTE in md and "478.5 KiB (×0.27, ×1.00)" in md
    said = conclusion_text(s)   # the conclusion's pick names its flash, not only its gzip ratio
    assert "No device stores `prune-80+int8` gzipped" in said and "146.5 KiB on npu" in said
    page = render_html(s, "conclusion")
    assert "Flash each device needs" in page and "146.5 KiB (–, ×0.32)" in page


def test_old_summaries_load_and_say_the_figure_was_not_recorded():
    s = _summary()
    assert Summary.from_dict(json.loads(s.to_json())) == s  # the field round-trips
    old = json.loads(make_summary().to_json())
    assert all("model_flash" in f and f["model_flash"] is None for v in old["variants"] for f in v["fits"])
    for v in old["variants"]:
        for f in v["fits"]:
            del f["model_flash"]  # written before the field existed
    before = Summary.from_dict(old)
    md = summary_markdown(before, "conclusion")
    assert NOT_RECORDED in md and "## Flash each device needs" in md  # a note, no table of guesses
    rows = list(csv.DictReader(io.StringIO(to_csv(before))))
    assert rows and all(r["device_flash_bytes"] == r["device_flash_what"] == "" for r in rows)


# -- real files -----------------------------------------------------------------------------
def _weights_model(seed: int):
    from sercompress.tf_env import keras

    k = keras()
    x = k.Input(shape=(16, 16, 1))
    h = k.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    h = k.layers.Conv2D(64, 3, padding="same", activation="relu")(h)
    h = k.layers.Conv2D(64, 3, padding="same", activation="relu")(h)
    y = k.layers.Dense(4)(k.layers.GlobalAveragePooling2D()(h))
    model = k.Model(x, y)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def _zero_smallest(model, fraction: float) -> None:
    """Unstructured sparsity: the smallest ``fraction`` of each kernel's weights set to 0."""
    weights = []
    for w in model.get_weights():
        if w.ndim > 1:
            w = np.where(np.abs(w) <= np.quantile(np.abs(w), fraction), 0.0, w).astype(np.float32)
        weights.append(w)
    model.set_weights(weights)


@pytest.fixture(scope="module")
def dense_and_sparse(tmp_path_factory):
    from sercompress.export.tflite import to_tflite

    d = tmp_path_factory.mktemp("device_flash")
    rep = np.random.default_rng(1).standard_normal((8, 16, 16, 1)).astype(np.float32)
    model = _weights_model(0)
    (d / "dense.tflite").write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
    _zero_smallest(model, 0.8)
    (d / "sparse.tflite").write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
    return d / "dense.tflite", d / "sparse.tflite"


@pytest.mark.slow
def test_sparsity_buys_flash_only_where_vela_encodes_it(dense_and_sparse, tmp_path, capsys):
    from sercompress.cli import main
    from sercompress.profile import profile_artifact
    from sercompress.profile.hardware import get_hw_profile

    dense, sparse = (profile_artifact(p) for p in dense_and_sparse)
    assert sparse.nonzero_params < 0.25 * dense.nonzero_params
    assert sparse.gzip_bytes < 0.6 * dense.gzip_bytes          # gzip sees the zeros ...
    flash = {name: [assess_on_device(s, get_hw_profile(name), cache_dir=tmp_path).model_flash
                    for s in (dense, sparse)]
             for name in ("nrf52840", "rpi4", "ethos-u55-128")}
    for name in ("nrf52840", "rpi4"):                           # ... TFLite Micro and LiteRT do not
        d, s = flash[name]
        assert abs(d.bytes - s.bytes) <= 16 and d.bytes == dense.file_bytes, name
    d, s = flash["ethos-u55-128"]                               # Vela's encoder does
    assert d.source == s.source == FLASH_STORED["vela"]
    assert s.bytes < 0.8 * d.bytes, (d.bytes, s.bytes)
    # `check` applies the same rule: its flash check and its JSON name the same bytes
    assert main(["check", str(dense_and_sparse[1]), "--hw", "ethos-u55-128", "--json",
                 "--cache-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    flash_check = next(c for c in out["results"][0]["checks"] if c["name"] == "flash")
    assert out["model_flash"] == [s.model_dump(mode="json")]
    assert flash_check["value"] == s.bytes + get_hw_profile("ethos-u55-128").runtime_flash_bytes
