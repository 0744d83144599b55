"""`sercompress check`: exit codes 0/1/2, JSON, JUnit XML, and no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from sercompress.cli import main
from sercompress.profile.hardware import SHIPPED_DIR


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """A small conv net as int8 and float .tflite (a ~20 KB arena: fits the MCUs)."""
    from sercompress.export.tflite import to_tflite
    from sercompress.tf_env import keras

    k = keras()
    x = k.Input((32, 16, 1))
    y = k.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = k.layers.AveragePooling2D(2)(y)
    y = k.layers.GlobalAveragePooling2D()(y)
    model = k.Model(x, k.layers.Dense(4, activation="softmax")(y))
    rep = np.random.default_rng(0).standard_normal((8, 32, 16, 1)).astype(np.float32)
    d = tmp_path_factory.mktemp("check")
    (d / "tiny_int8.tflite").write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
    (d / "tiny_f32.tflite").write_bytes(to_tflite(model))
    return {"int8": d / "tiny_int8.tflite", "f32": d / "tiny_f32.tflite", "dir": d}


@pytest.fixture(scope="module")
def cumsum(tmp_path_factory) -> Path:
    """A dense layer then CUMSUM: a TFLite Micro builtin the cost model has no cost for."""
    from sercompress.export.tflite import to_tflite
    from sercompress.tf_env import keras, tf

    k = keras()
    x = k.Input(shape=(8,))
    y = k.layers.Lambda(lambda t: tf().math.cumsum(t, axis=-1))(k.layers.Dense(4)(x))
    path = tmp_path_factory.mktemp("cumsum") / "cumsum.tflite"
    path.write_bytes(to_tflite(k.Model(x, y)))
    return path


def _small_ram_profile(directory: Path, ram: int = 34_000) -> Path:
    """stm32h743 with almost no RAM: the tiny model's arena cannot fit."""
    text = (SHIPPED_DIR / "stm32h743.toml").read_text().replace('name = "stm32h743"',
                                                                  'name = "tinyram"')
    path = directory / "tinyram.toml"
    path.write_text(text.replace("ram_bytes = 524_288", f"ram_bytes = {ram}"))
    return path


def test_fits_exit_0(tiny, capsys):
    assert main(["check", str(tiny["int8"]), "--hw", "stm32h743", "--hw", "nrf52840"]) == 0
    out = capsys.readouterr().out
    assert "on stm32h743: FITS" in out and "on nrf52840: FITS" in out
    assert "FAIL" not in out and "left of" in out


def test_does_not_fit_exit_1_with_junit(tiny, tmp_path, capsys):
    profile = _small_ram_profile(tmp_path)
    junit = tmp_path / "out" / "check.xml"
    rc = main(["check", str(tiny["int8"]), "--hw", "stm32h743", "--hw", str(profile),
               "--junit", str(junit)])
    assert rc == 1
    out = capsys.readouterr().out
    assert "on tinyram: DOES NOT FIT" in out and "FAIL ram" in out
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["tiny_int8.tflite on stm32h743",
                                              "tiny_int8.tflite on tinyram"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message").startswith("ram: ")
    assert "over of" in failure.text and "latency" not in failure.text
    assert root.get("tests") == "2" and root.get("failures") == "1"
    assert list(junit.parent.iterdir()) == [junit]          # atomic: no temporary left


def test_json_and_latency_override(tiny, capsys):
    rc = main(["check", str(tiny["int8"]), str(tiny["f32"]), "--hw", "ethos-u55-128",
               "--latency-budget-ms", "1e9", "--json", "--cache-dir", str(tiny["dir"] / "cache")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["fits"] is False
    by_file = {Path(r["artifact"]).name: r for r in out["results"]}
    assert by_file["tiny_int8.tflite"]["fits"], by_file["tiny_int8.tflite"]
    f32 = {c["name"]: c for c in by_file["tiny_f32.tflite"]["checks"]}
    assert not f32["dtype"]["ok"] and not f32["latency"]["ok"]
    assert "unsupported" in f32["latency"]["reason"] and f32["latency"]["value"] is None
    assert f32["latency"]["limit"] == 1e9


def test_host_is_measured(tiny, capsys):
    assert main(["check", str(tiny["int8"]), "--hw", "host", "--json"]) == 0
    latency = {c["name"]: c for c in json.loads(capsys.readouterr().out)["results"][0]["checks"]}
    assert "(measured)" in latency["latency"]["reason"] and latency["latency"]["value"] > 0


def test_input_errors_exit_2(tiny, tmp_path, capsys):
    assert main(["check", str(tiny["int8"]), "--hw", "nosuchboard"]) == 2
    err = capsys.readouterr().err
    assert "unknown hardware profile 'nosuchboard'" in err and "stm32h743" in err and "rpi4" in err
    assert main(["check", str(tmp_path / "absent.tflite"), "--hw", "stm32h743"]) == 2
    assert "absent.tflite" in capsys.readouterr().err
    bad = _small_ram_profile(tmp_path, ram=-4)
    assert main(["check", str(tiny["int8"]), "--hw", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "key 'ram_bytes'" in err and err.count("\n") == 1
    assert main(["check", str(tiny["int8"]), "--hw", "host", "--runs", "3"]) == 2
    with pytest.raises(SystemExit) as e:       # usage error: --hw is required
        main(["check", str(tiny["int8"])])
    assert e.value.code == 2


def test_check_runs_without_tensorflow(tiny):
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from sercompress.cli import main\n"
        f"rc = main(['check', {str(tiny['int8'])!r}, '--hw', 'stm32h743', '--hw', 'host', '--json'])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["fits"] is True


def test_unknown_op_the_runtime_runs_is_latency_unknown(cumsum, tmp_path, capsys):
    """Not DOES NOT FIT, not unsupported, not FITS: UNKNOWN, skipped in JUnit, failing under --strict."""
    junit = tmp_path / "check.xml"
    rc = main(["check", str(cumsum), "--hw", "stm32h743", "--hw", "rpi4", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "cumsum.tflite on stm32h743: UNKNOWN" in out and "cumsum.tflite on rpi4: UNKNOWN" in out
    assert "UNKN latency  UNKNOWN: 1 layer(s) of op(s) CUMSUM that runtime tflm runs" in out
    assert "unsupported" not in out and "FAIL" not in out
    # TFLite Micro really runs it: it allocated the model (an op it lacks aborts the allocation)
    assert "TFLM arena (measured by TFLite Micro)" in out
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert [c.find("skipped").get("message").split(":")[0] for c in cases] == ["UNKNOWN", "UNKNOWN"]
    assert all(c.find("failure") is None for c in cases)
    assert "latency: unknown: UNKNOWN" in cases[0].find("system-out").text

    rc = main(["check", str(cumsum), "--hw", "stm32h743", "--strict", "--json", "--junit", str(junit)])
    result = json.loads(capsys.readouterr().out)
    assert rc == 1 and result["passed"] is False
    assert result["results"][0]["verdict"] == "UNKNOWN" and result["latency"][0]["source"] == "unknown"
    failure = ET.parse(junit).getroot().find(".//failure")
    assert failure.get("type") == "Unknown" and "CUMSUM" in failure.get("message")


def test_unknown_op_the_runtime_lacks_is_unsupported(cumsum, tmp_path, capsys):
    """The same file with the op renamed to a custom op: TFLite Micro has no kernel, so it does not fit."""
    data = cumsum.read_bytes()
    custom = _rename_cumsum_to_custom(data)
    path = tmp_path / "custom.tflite"
    path.write_bytes(custom)
    assert main(["check", str(path), "--hw", "stm32h743", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["verdict"] == "DOES NOT FIT"
    latency = next(c for c in result["checks"] if c["name"] == "latency")
    assert "not supported by runtime tflm: BUILTIN_32 (an operator code with no name" in latency["reason"]


def _rename_cumsum_to_custom(data: bytes) -> bytes:
    """Turn the file's CUMSUM operator code into CUSTOM (code 32, no custom name): same graph, an
    op no runtime has a kernel for."""
    from ethosu.vela.tflite.BuiltinOperator import BuiltinOperator
    from ethosu.vela.tflite.Model import Model

    model = Model.GetRootAs(data, 0)
    out = bytearray(data)
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        if code.BuiltinCode() == BuiltinOperator.CUMSUM:
            table = code._tab
            for slot in (10, 4):  # builtin_code (int32), deprecated_builtin_code (int8)
                offset = table.Offset(slot)
                if offset:
                    pos = table.Pos + offset
                    size = 4 if slot == 10 else 1
                    out[pos:pos + size] = BuiltinOperator.CUSTOM.to_bytes(size, "little", signed=True)
            return bytes(out)
    raise AssertionError("no CUMSUM operator code in the file")
