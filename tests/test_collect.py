"""The summary's figures per (artifact, device) are `check`'s and `profile --hw`'s for the same file.

A quick-run-like summary is built from two small generated .tflite files through the
run's own code path (``pipeline._assess`` -> ``assess.assess_artifact`` ->
``pipeline._summary`` -> ``collect.entry``), written and read back; then `check
--json` is run on the same files and every device's RAM, flash and (non-measured)
latency must be the same number, from the same rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sercompress.cli import main
from sercompress.collect import ArtifactRow
from sercompress.compress.recipe import Recipe
from sercompress.compress.variant import ReferenceInfo, VariantResult
from sercompress.export.parity import compare
from sercompress.export.verify import artifact_sizes, verify_tflite
from sercompress.metrics import classification_metrics
from sercompress.pipeline import _assess, _summary
from sercompress.profile.hardware import load_all
from sercompress.progress import Progress
from sercompress.report.summary import Summary
from sercompress.runconfig import load_run_config
from sercompress.storage import sha256_file

CLASSES = ("a", "b", "c", "d")
pytestmark = pytest.mark.slow  # converts a Keras model and measures on the host (~30 s)


@pytest.fixture(scope="module")
def variant(tmp_path_factory) -> VariantResult:
    """A float32 .tflite and its int8 form, with the records the runner would write."""
    from sercompress.export.runtime import predict_keras, run_artifact
    from sercompress.export.tflite import to_tflite
    from sercompress.tf_env import keras

    k = keras()
    x = k.Input((32, 16, 1))
    y = k.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = k.layers.GlobalAveragePooling2D()(k.layers.AveragePooling2D(2)(y))
    model = k.Model(x, k.layers.Dense(len(CLASSES), activation="softmax")(y))
    data = np.random.default_rng(0).standard_normal((16, 32, 16, 1)).astype(np.float32)
    labels = np.arange(16) % len(CLASSES)
    d = tmp_path_factory.mktemp("variant")
    files = {"tflite": d / "model.tflite", "tflite_int8": d / "model_int8.tflite"}
    files["tflite"].write_bytes(to_tflite(model))
    files["tflite_int8"].write_bytes(to_tflite(model, "int8", representative=data, int8_io=True))
    keras_probs = predict_keras(model, data)
    probs = {k: run_artifact(p, data) for k, p in files.items()}
    return VariantResult(
        name="tiny", recipe_path=None, key="k", directory=d,
        artifacts={k: p.name for k, p in files.items()},
        artifact_sha256={k: sha256_file(p) for k, p in files.items()},
        accuracy={k: classification_metrics(labels, p.argmax(-1), CLASSES) for k, p in probs.items()},
        parity={k: compare(keras_probs, p, artifact=files[k], min_agreement=0.5) for k, p in probs.items()},
        verification={k: verify_tflite(p, []) for k, p in files.items()},
        sizes={k: artifact_sizes(p) for k, p in files.items()},
        wall_time_s=0.0, recipe=Recipe(name="tiny"),
        reference=ReferenceInfo(run_dir=str(d), weights_sha256="0" * 64, keras_test_ua=0.25))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="module")
def summary(variant, run_dir) -> Summary:
    out = run_dir
    config = load_run_config("quick")
    hw = list(load_all().values())
    rows = [ArtifactRow("tiny" + suffix, "compressed", "tiny", variant, kind, None)  # type: ignore[arg-type]
            for kind, suffix in (("tflite", ""), ("tflite_int8", "+int8"))]
    assessed = [_assess(row, hw, config, out) for row in rows]
    summary = _summary(config, assessed, hw, out, "2026-01-01T00:00:00+00:00", Progress(quiet=True), CLASSES)
    summary.save(out)
    loaded = Summary.load(out)
    assert loaded == summary  # the records survive the JSON round trip unchanged
    return loaded


def _check(path: Path, devices: list[str], capsys) -> dict[str, dict]:
    rc = main(["check", str(path), *(a for d in devices for a in ("--hw", d)), "--json"])
    assert rc in (0, 1)
    return {r["hardware"]: r for r in json.loads(capsys.readouterr().out)["results"]}


def _profile_hw(path: Path, devices: list[str], capsys) -> dict[str, dict]:
    assert main(["profile", str(path), *(a for d in devices for a in ("--hw", d)), "--json"]) == 0
    return {d["hardware"]: d for d in json.loads(capsys.readouterr().out)["hardware"]}


def test_summary_figures_equal_check_figures(summary, variant, capsys):
    devices = [p.name for p in summary.profiles]
    assert {"host", "nrf52840", "stm32h743", "ethos-u55-128"} <= set(devices)
    for entry, kind in zip(summary.variants, ("tflite", "tflite_int8")):
        checked = _check(variant.path(kind), devices, capsys)
        profiled = _profile_hw(variant.path(kind), [d for d in devices if d != "host"], capsys)
        assert {f.hardware for f in entry.fits} == set(devices)
        for f in entry.fits:
            c = {x["name"]: x for x in checked[f.hardware]["checks"]}
            if f.latency_source != "measured":
                assert f.ram_bytes == c["ram"]["value"], (entry.name, f.hardware)
            else:  # host RAM is the measurement's RSS growth: a re-measurement, by the same rule
                for reason in (f.fit.check("ram").reason, c["ram"]["reason"]):
                    assert reason.startswith("peak RSS over baseline measured by litert"), reason
            if f.hardware == "rpi4":  # LiteRT's own figure, not TFLite Micro's arena
                assert c["ram"]["reason"].startswith("LiteRT planned activation arena")
            assert f.flash_bytes == c["flash"]["value"], (entry.name, f.hardware)
            if f.hardware != "host":  # profile --hw: the same record again
                p = profiled[f.hardware]
                assert p["fit"]["checks"] == checked[f.hardware]["checks"]
                assert p["latency"]["ms"] == f.latency_ms
            assert [x.ok for x in f.fit.checks if x.name != "latency"] == \
                   [x["ok"] for x in checked[f.hardware]["checks"] if x["name"] != "latency"]
            if f.latency_source != "measured":  # a re-measurement is another sample
                assert f.latency_ms == c["latency"]["value"], (entry.name, f.hardware)
                assert f.fit.check("latency").reason == c["latency"]["reason"]
            else:
                assert f.latency_ms is not None and c["latency"]["value"] is not None


def test_vela_device_figures_come_from_vela(summary):
    """For the Ethos-U the RAM is Vela's SRAM, on an MCU the TFLM arena of the int8 file."""
    int8 = summary.variant("tiny+int8")
    ethos, mcu = int8.fit_on("ethos-u55-128"), int8.fit_on("stm32h743")
    assert ethos.latency.source == "vela" and ethos.latency.vela is not None
    assert "Vela SRAM" in ethos.fit.check("ram").reason
    assert "TFLM arena (measured by TFLite Micro)" in mcu.fit.check("ram").reason
    # the device's RAM is the measured arena (+ CMSIS-NN scratch on a CMSIS-NN device) + runtime
    assert 0 <= mcu.ram_bytes - _runtime_ram("stm32h743") - int8.peak_ram_bytes < int8.peak_ram_bytes


def _runtime_ram(name: str) -> int:
    from sercompress.profile.hardware import get_hw_profile

    return get_hw_profile(name).runtime_ram_bytes


def test_assessment_cache_holds_the_record_and_recomputes_another_version(summary, variant, run_dir):
    from sercompress.assess import (
        ASSESSMENT_SCHEMA_VERSION,
        ArtifactAssessment,
        assess_artifact,
    )

    entries = sorted((run_dir / "cache" / "assessments").glob("*.json"))
    assert len(entries) == 2
    cached = ArtifactAssessment.model_validate_json(entries[0].read_text())
    assert cached.schema_version == ASSESSMENT_SCHEMA_VERSION
    path, hw = Path(cached.path), list(load_all().values())
    config = load_run_config("quick").profiles
    kw = {"runs": config.host_runs, "warmup": config.host_warmup, "tflm": config.tflm,
          "cache_dir": run_dir / "cache"}
    assert assess_artifact(path, hw, **kw) == cached  # read back, not re-measured
    old = json.loads(entries[0].read_text())
    entries[0].write_text(json.dumps({**old, "schema_version": ASSESSMENT_SCHEMA_VERSION - 1}))
    again = assess_artifact(path, hw, **kw)  # another version: recomputed
    assert again.static == cached.static and again.host != cached.host  # measured anew
    assert json.loads(entries[0].read_text())["schema_version"] == ASSESSMENT_SCHEMA_VERSION
