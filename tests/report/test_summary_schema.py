"""summary.json: round trip, and clear errors for other schema versions and malformed files."""

from __future__ import annotations

import json

import pytest

from sercompress.report.summary import SCHEMA_VERSION, Summary, SummaryError


def test_round_trip(tmp_path, summary):
    path = summary.save(tmp_path)  # a directory means DIR/summary.json
    assert path == tmp_path / "summary.json"
    again = Summary.load(tmp_path)
    assert again == summary
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_lookups(summary):
    assert summary.reference().name == "float32"
    assert summary.variant("ptq_int8").fit_on("tiny_mcu").failed_budgets == ("flash",)
    assert summary.variant("ptq_int8").host_median_ms("litert") == pytest.approx(15.0)
    with pytest.raises(KeyError, match="nope"):
        summary.variant("nope")


def _write(tmp_path, data) -> str:
    p = tmp_path / "summary.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


@pytest.mark.parametrize("version", [0, 1, 99, "2", True])
def test_other_schema_version_is_refused(tmp_path, summary, version):
    data = json.loads(summary.to_json())
    data["schema_version"] = version
    with pytest.raises(SummaryError, match="schema_version.*not supported"):
        Summary.load(_write(tmp_path, data))


def test_missing_schema_version(tmp_path, summary):
    data = json.loads(summary.to_json())
    del data["schema_version"]
    with pytest.raises(SummaryError, match="no schema_version"):
        Summary.load(_write(tmp_path, data))


def test_unknown_field_names_the_key(tmp_path, summary):
    data = json.loads(summary.to_json())
    data["variants"][1]["sizes"]["zip_bytes"] = 3
    with pytest.raises(SummaryError, match=r"key 'variants\.1\.sizes\.zip_bytes': unknown key"):
        Summary.load(_write(tmp_path, data))


def test_invalid_value(tmp_path, summary):
    data = json.loads(summary.to_json())
    data["variants"][0]["family"] = "teacher"
    with pytest.raises(SummaryError, match="variants.0.family"):
        Summary.load(_write(tmp_path, data))


def test_not_json_and_missing(tmp_path):
    with pytest.raises(SummaryError, match="not valid JSON"):
        Summary.load(_write(tmp_path, "{nope"))
    with pytest.raises(SummaryError, match="summary not found"):
        Summary.load(tmp_path / "elsewhere")
