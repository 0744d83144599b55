"""Every command that reads a kind of untrusted file, as fuzz targets over the seed files.

``run`` and ``compress`` would go on to train when handed a valid file, so they are driven
to read and validate only: ``run --config F --out <an existing file>`` always stops at the
output check after the config is loaded; ``compress --recipe F --from <missing dir>``
stops after the recipe is validated; the reference run directory (run.json, model.keras)
is read through ``load_reference``, the function ``compress --from`` calls.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from .harness import REPORT_FILES, Target

HW = ("--hw", "stm32h743", "--hw", "esp32s3")


def _audio(path: Path, scratch: Path) -> object:
    from sercompress.data.audio import read_audio

    return read_audio(path)


def _reference(path: Path, scratch: Path) -> object:
    from sercompress.train import load_reference

    return load_reference(path)


def _run_dir_with(name: str):
    """Place the mutated bytes as ``name`` inside a copy of the seed run directory."""
    def place(seed: Path, data: bytes, scratch: Path) -> Path:
        run = scratch / "run"
        shutil.copytree(seed, run)
        (run / name).write_bytes(data)
        return run
    return place


def _keras_config(seed: Path, data: bytes, scratch: Path) -> Path:
    """The mutated bytes become config.json inside the run directory's model.keras."""
    run = scratch / "run"
    shutil.copytree(seed, run)
    src = zipfile.ZipFile(seed / "model.keras")
    with zipfile.ZipFile(run / "model.keras", "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, data if info.filename == "config.json" else src.read(info.filename))
    return run


def targets(seeds: dict[str, Path]) -> list[Target]:
    summary, tflite = seeds["summary"], seeds["tflite_int8"]
    out: list[Target] = []
    for kind, key in (("tflite", "tflite"), ("tflite", "tflite_int8"), ("tflite", "built_tflite"),
                      ("onnx", "onnx")):
        out += [
            Target(f"profile {key}", kind, key, argv=lambda p, s: ["profile", str(p)]),
            Target(f"profile --hw {key}", kind, key, argv=lambda p, s: ["profile", str(p), *HW]),
            Target(f"check --junit {key}", kind, key, codes=frozenset({0, 1, 2}),
                   argv=lambda p, s: ["check", str(p), *HW, "--junit", str(s / "out" / "j.xml")],
                   outputs=lambda s: (s / "out", ("j.xml",))),
        ]
    out.append(Target("profile --tflm --hw tflite_int8", "tflite", "tflite_int8", slow=True,
                      argv=lambda p, s: ["profile", str(p), "--tflm", "--hw", "stm32h743"]))
    out += [
        Target("read_audio wav", "wav", "wav", call=_audio),
        Target("read_audio wav_stereo", "wav", "wav_stereo", call=_audio),
        Target("check --hw FILE", "toml", "hw", codes=frozenset({0, 1, 2}),
               argv=lambda p, s: ["check", str(tflite), "--hw", str(p)]),
        Target("profile --hw FILE", "toml", "hw", argv=lambda p, s: ["profile", str(tflite), "--hw", str(p)]),
        Target("compare --tolerance FILE", "toml", "tolerance", codes=frozenset({0, 1, 2}),
               argv=lambda p, s: ["compare", str(summary), "--against", str(summary), "--tolerance", str(p)]),
        Target("compress --recipe FILE", "toml", "recipe",
               argv=lambda p, s: ["compress", "--recipe", str(p), "--from", str(s / "no-run"),
                                  "--out", str(s / "variants")]),
        Target("run --config FILE", "toml", "runconfig",
               argv=lambda p, s: ["run", "--config", str(p), "--out", str(_taken(s))]),
        Target("report SUMMARY", "json", "summary", argv=lambda p, s: ["report", str(p), "--out", str(s / "r")],
               outputs=lambda s: (s / "r", REPORT_FILES)),
        Target("compare SUMMARY", "json", "summary", codes=frozenset({0, 1, 2}),
               argv=lambda p, s: ["compare", str(p), "--against", str(summary)]),
        Target("compare --against SUMMARY", "json", "summary", codes=frozenset({0, 1, 2}),
               argv=lambda p, s: ["compare", str(summary), "--against", str(p)]),
    ]
    if "keras_run" in seeds:
        run = seeds["keras_run"]
        out += [
            Target("compress --from (run.json)", "json", "keras_run:run.json", call=_reference,
                   place=_run_dir_with("run.json")),
            Target("compress --from (model.keras config)", "json", "keras_run:config.json",
                   call=_reference, place=_keras_config),
            Target("compress --from (model.keras bytes)", "keras", "keras_run:model.keras",
                   call=_reference, place=_run_dir_with("model.keras")),
        ]
        del run
    return out


def _taken(scratch: Path) -> Path:
    """An existing regular file: `run` always stops at its --out check, never trains."""
    p = scratch / "taken"
    p.write_text("not a directory")
    return p


def seed_bytes(seeds: dict[str, Path], key: str) -> tuple[Path, bytes]:
    """(path the target's ``place`` receives, bytes to mutate) for a seed key."""
    if ":" not in key:
        return seeds[key], seeds[key].read_bytes()
    run_key, member = key.split(":")
    run = seeds[run_key]
    if member == "config.json":
        return run, zipfile.ZipFile(run / "model.keras").read("config.json")
    return run, (run / member).read_bytes()


def known_cases(seeds: dict[str, Path]) -> list[tuple[str, str, bytes]]:
    """(target name, label, file bytes): the hostile files of issue 12, rebuilt from the seeds."""
    import json
    import re
    import struct

    from .tflite_build import shaped_model, shared_buffer_model

    def seed(key: str) -> bytes:
        return seed_bytes(seeds, key)[1]

    def keras_config(edit) -> bytes:
        config = json.loads(seed("keras_run:config.json"))
        edit(config)
        return json.dumps(config).encode()

    def dense_units(config: dict) -> None:
        next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")["config"]["units"] = 2**27

    def wav_rate(rate: int) -> bytes:
        data = bytearray(seed("wav"))
        struct.pack_into("<I", data, 24, rate)
        return bytes(data)

    def summary(edit) -> bytes:
        data = json.loads(seed("summary"))
        edit(data["variants"][0]["accuracy"])
        return json.dumps(data).encode()

    def record(**changes) -> bytes:
        return json.dumps({**json.loads(seed("keras_run:run.json")), **changes}).encode()

    hw = seed("hw").decode()
    return [
        ("profile built_tflite", "8 MiB buffer shared by 276 tensors", shared_buffer_model(276, 8 << 20)),
        ("check --junit built_tflite", "40 dims of 2**31-1", shaped_model([2**31 - 1] * 40)),
        ("profile built_tflite", "500 dims", shaped_model([1] * 500)),
        ("compress --from (model.keras config)", "module 'this'",
         keras_config(lambda c: c.update(module="this"))),
        ("compress --from (model.keras config)", "Dense units 2**27", keras_config(dense_units)),
        ("read_audio wav", "sample rate 2**31-1", wav_rate(2**31 - 1)),
        ("read_audio wav", "sample rate 1,000,003", wav_rate(1_000_003)),
        ("report SUMMARY", "300 x 300 confusion", summary(lambda a: a.update(
            confusion=[[1] * 300] * 300, classes=[f"c{i}" for i in range(300)]))),
        ("report SUMMARY", "ragged confusion", summary(lambda a: a.update(
            confusion=[row[:1] if i == 1 else row for i, row in enumerate(a["confusion"])]))),
        ("compare SUMMARY", "5,000-digit integer", re.sub(rb'"schema_version": \d+',
                                                          b'"schema_version": ' + b"9" * 5000, seed("summary"),
                                                          count=1)),
        ("compare --against SUMMARY", "nested 30,000 deep", b'{"a": ' + b"[" * 30000 + b"]" * 30000 + b"}"),
        ("check --hw FILE", "clock_hz of 5,000 digits",
         re.sub(r"clock_hz = [0-9_]+", "clock_hz = " + "9" * 5000, hw).encode()),
        ("check --hw FILE", "inf latency coefficient",
         re.sub(r"conv_macs_per_cycle = [0-9.]+", "conv_macs_per_cycle = inf", hw, count=1).encode()),
        ("profile --hw FILE", "arrays nested 30,000 deep", (hw + "\nx = " + "[" * 30000 + "]" * 30000 + "\n").encode()),
        ("run --config FILE", "name ../../escaped_out",
         re.sub(r'name = "[^"]*"', 'name = "../../escaped_out"', seed("runconfig").decode(), count=1).encode()),
        ("compress --from (run.json)", "classes = 5", record(classes=5)),
        ("compress --from (run.json)", "input_shape = 'abc'", record(input_shape="abc")),
    ]
