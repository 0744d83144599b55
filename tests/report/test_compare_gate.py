"""The CI gate: exit 0 within tolerance, 1 on a regression (named), 2 on usage / schema errors."""

from __future__ import annotations

import json

import pytest
from .conftest import PROFILES, fit, make_summary

from sercompress.cli import main
from sercompress.errors import ConfigError
from sercompress.report.compare import Tolerance, compare_summaries, load_tolerance
from sercompress.report.summary import Summary



def _with(summary: Summary, name: str, **updates) -> Summary:
    """Copy of ``summary`` with one variant's nested fields replaced (``accuracy__ua=0.5``)."""
    variants = []
    for v in summary.variants:
        if v.name == name:
            for key, value in updates.items():
                outer, _, inner = key.partition("__")
                v = v.model_copy(update={outer: getattr(v, outer).model_copy(update={inner: value})
                                         if inner else value})
        variants.append(v)
    return summary.model_copy(update={"variants": tuple(variants)})


@pytest.fixture
def ref_path(tmp_path):
    return make_summary().save(tmp_path / "ref.json")


def _cand(tmp_path, s: Summary) -> str:
    d = tmp_path / "cand"
    d.mkdir(exist_ok=True)
    s.save(d)
    return str(d)


def test_identical_summary_passes(tmp_path, ref_path, capsys):
    assert main(["compare", _cand(tmp_path, make_summary()), "--against", str(ref_path)]) == 0
    assert "within tolerance" in capsys.readouterr().out


def test_ua_drop_beyond_tolerance_fails_and_names_everything(tmp_path, ref_path, capsys):
    cand = _with(make_summary(), "ptq_int8", accuracy__ua=0.30)  # 69.5 -> 30.0 on 40 clips: significant
    assert main(["compare", _cand(tmp_path, cand), "--against", str(ref_path)]) == 1
    out = capsys.readouterr().out
    assert "ptq_int8: ua_pct 69.50 -> 30.00 (-39.50 pt [" in out
    assert "unpaired (different clips)), tolerance drop <= 1 pt or p >= 0.05" in out
    assert "| ptq_int8 | ua_pct | 69.50 | 30.00 | -39.50 pt [" in out and "**REGRESSION** |" in out


def test_ua_drop_beyond_tolerance_but_within_noise_passes(tmp_path, ref_path, capsys):
    cand = _with(make_summary(), "ptq_int8", accuracy__ua=0.68)  # 1.5 points on 40 clips: noise
    assert main(["compare", _cand(tmp_path, cand), "--against", str(ref_path)]) == 0
    assert "p(drop)=" in capsys.readouterr().out


def test_ua_drop_within_tolerance_passes(tmp_path, ref_path):
    cand = _with(make_summary(), "ptq_int8", accuracy__ua=0.69)  # 0.5 point
    assert main(["compare", _cand(tmp_path, cand), "--against", str(ref_path)]) == 0


def _predicted(n_wrong: int, flip: int = 0, n: int = 400):
    """Per-clip predictions of 400 clips (4 classes, 8 speakers), ``n_wrong`` wrong, then
    ``flip`` of the correct ones made wrong."""
    import numpy as np

    from sercompress.metrics import classification_metrics
    from sercompress.predictions import ClipPredictions

    rng = np.random.default_rng(1)
    y = np.arange(n) % 4
    pred = y.copy()
    wrong = rng.permutation(n)[:n_wrong + flip]
    pred[wrong[:n_wrong]] = (y[wrong[:n_wrong]] + 1) % 4
    pred[wrong[n_wrong:]] = (y[wrong[n_wrong:]] + 2) % 4
    probs = np.eye(4)[pred]
    p = ClipPredictions.from_arrays([f"c{i:03d}.wav" for i in range(n)], [f"s{i % 2}" for i in range(n)], y, probs)
    return classification_metrics(y, pred, ("a", "b", "c", "d")).model_copy(update={"predictions": p})


def test_paired_comparison_on_the_same_clips():
    ref = _with(make_summary(), "ptq_int8", accuracy=_predicted(120))
    noise = _with(make_summary(), "ptq_int8", accuracy=_predicted(120, flip=3))   # 0.75 pt: 3 clips
    tol = Tolerance(ua_drop_points=0.5)
    row = next(d for d in compare_summaries(noise, ref, tol).diffs if d.metric == "ua_pct" and d.variant == "ptq_int8")
    assert row.status == "ok" and ", paired" in row.change  # beyond 0.5 pt but not significant
    damaged = _with(make_summary(), "ptq_int8", accuracy=_predicted(120, flip=30))  # 7.5 pt
    res = compare_summaries(damaged, ref, tol)
    assert [d.metric for d in res.regressions] == ["ua_pct"] and ", paired" in res.regressions[0].change
    # the same drop without the per-clip data (unpaired) is still significant at 400 clips
    bare = _with(damaged, "ptq_int8", accuracy=damaged.variant("ptq_int8").accuracy.model_copy(
        update={"predictions": None}))
    assert "unpaired" in compare_summaries(bare, ref, tol).regressions[0].change


def test_accuracy_contradicting_its_predictions_is_an_error(tmp_path, capsys):
    ref = _with(make_summary(), "ptq_int8", accuracy=_predicted(120))
    ref_path = ref.save(tmp_path / "ref.json")
    lie = _with(ref, "ptq_int8", accuracy__ua=0.99)
    assert main(["compare", _cand(tmp_path, lie), "--against", str(ref_path)]) == 2
    assert "per-clip predictions give" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["NaN", "Infinity", None])
def test_nan_inf_or_missing_figures_are_errors(tmp_path, ref_path, capsys, value):
    data = json.loads(make_summary().to_json())
    for v in data["variants"]:
        for f in v["fits"]:
            f["latency"]["ms"] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["compare", str(bad), "--against", str(ref_path)]) == 2
    assert main(["compare", str(ref_path), "--against", str(bad)]) == 2
    err = capsys.readouterr().err
    assert ("NaN or inf" in err) if value else ("missing from the" in err)


def test_bad_schema_version_exits_2(tmp_path, ref_path, capsys):
    data = json.loads(make_summary().to_json())
    data["schema_version"] = 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["compare", str(bad), "--against", str(ref_path)]) == 2
    assert "schema version 3 is not supported" in capsys.readouterr().err


def test_added_and_removed_variants(tmp_path, ref_path, capsys):
    s = make_summary()
    extra = s.variant("ptq_int8").model_copy(update={"name": "qat_int8"})
    cand = s.model_copy(update={"variants": tuple(v for v in s.variants if v.name != "prune80_int8") + (extra,)})
    path = _cand(tmp_path, cand)
    assert main(["compare", path, "--against", str(ref_path), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["added"] == ["qat_int8"] and res["removed"] == ["prune80_int8"]
    assert res["regressions"] == ["prune80_int8: variant present -> missing (removed), tolerance must be present"]
    tol = tmp_path / "tol.toml"
    tol.write_text('schema_version = 1\nallow_removed = ["prune80_int8"]\n')
    assert main(["compare", path, "--against", str(ref_path), "--tolerance", str(tol)]) == 0
    assert "Added variants (not in the reference): qat_int8" in capsys.readouterr().out


def test_fit_loss_size_and_latency_growth():
    ref = make_summary()
    v = ref.variant("prune50_int8")
    lost = fit(PROFILES[1], v.fits[1].flash_bytes, 250_000, v.fits[1].latency_ms)  # over the 200 KB
    cand = _with(ref, "prune50_int8", fits=(v.fits[0], lost), sizes__gzip_bytes=int(250_000 * 1.06))
    res = compare_summaries(cand, ref)
    msgs = [d.message() for d in res.regressions]
    assert any(m.startswith("prune50_int8: fits:tiny_mcu fits -> misses (ram: 250000 > 200000)") for m in msgs)
    assert any(m.startswith("prune50_int8: gzip_bytes 250,000 -> 265,000 (+6.0 %)") for m in msgs)
    assert len(msgs) == 2
    relaxed = Tolerance(allow_fit_loss=True, size_growth_pct=10)
    assert compare_summaries(cand, ref, relaxed).ok


def test_latency_growth_and_per_variant_override():
    ref = make_summary()
    v = ref.variant("ptq_int8")
    slow = tuple(f.model_copy(update={"latency": f.latency.model_copy(update={"ms": f.latency_ms * 1.2})})
                 for f in v.fits)
    cand = _with(ref, "ptq_int8", fits=slow)
    res = compare_summaries(cand, ref)
    assert {d.metric for d in res.regressions} == {"latency_ms:big_mcu", "latency_ms:tiny_mcu"}
    tol = Tolerance.model_validate({"variants": {"ptq_int8": {"latency_growth_pct": 25}}})
    assert compare_summaries(cand, ref, tol).ok
    assert compare_summaries(cand, ref, Tolerance(latency_growth_pct=float("inf"))).ok


def test_improvements_never_fail():
    ref = make_summary()
    cand = _with(ref, "float32", accuracy__ua=0.9, sizes__gzip_bytes=1000)
    assert compare_summaries(cand, ref).ok


def test_tolerance_file_validation(tmp_path, ref_path, capsys):
    t = tmp_path / "t.toml"
    t.write_text("schema_version = 1\nua_drop_point = 2\n")
    with pytest.raises(ConfigError, match="ua_drop_point.*unknown key"):
        load_tolerance(t)
    assert main(["compare", str(ref_path), "--against", str(ref_path), "--tolerance", str(t)]) == 2
    assert "unknown key" in capsys.readouterr().err
    t.write_text("ua_drop_points = -1\n")
    with pytest.raises(ConfigError, match="ua_drop_points"):
        load_tolerance(t)


def test_shipped_tolerance_file_is_the_default():
    from pathlib import Path

    shipped = load_tolerance(Path(__file__).resolve().parents[2] / "configs" / "tolerance.toml")
    assert shipped.model_copy(update={"policies": ()}) == Tolerance()
    assert [p.kind for p in shipped.policies] == ["within", "not_dominated"]


def test_host_latency_only_compared_on_the_same_machine():
    ref = make_summary()
    v = ref.variant("ptq_int8")
    slower = tuple(h.model_copy(update={"median_ms": h.median_ms * 2}) for h in v.host_latency)
    cand = _with(ref, "ptq_int8", host_latency=slower)
    assert [d.metric for d in compare_summaries(cand, ref).regressions] == ["host_litert_median_ms"]
    other = cand.model_copy(update={"run": cand.run.model_copy(update={
        "machine": cand.run.machine.model_copy(update={"cpu_model": "CI runner"})})})
    res = compare_summaries(other, ref)
    assert res.ok
    host = next(d for d in res.diffs if d.variant == "ptq_int8" and d.metric == "host_litert_median_ms")
    assert host.tolerance == "not checked (different machine)"


def _policies(tmp_path, text: str) -> Tolerance:
    t = tmp_path / "policies.toml"
    t.write_text("schema_version = 1\n" + text)
    return load_tolerance(t)


def test_policies_against_baselines(tmp_path):
    """vgg_cnn: UA 72.0 on 12 MB; ptq_int8: 69.5 on 0.46 MB (40 clips: the 2.5 pt gap is noise)."""
    s = make_summary()
    tol = _policies(tmp_path, """
[[policies]]
kind = "within"
variant = "ptq_int8"
baseline = "vgg_cnn"
ua_points = 2.0
profile = "big_mcu"
max_flash_ratio = 0.2

[[policies]]
kind = "within"
variant = "ptq_int8"
baseline = "vgg_cnn"
ua_points = 2.0
max_flash_ratio = 0.01

[[policies]]
kind = "not_dominated"
variant = "prune80_int8"
profile = "tiny_mcu"

[[policies]]
kind = "within"
variant = "qat_int8"
baseline = "vgg_cnn"
ua_points = 2.0
""")
    res = compare_summaries(s, s, tol)
    assert [p.outcome for p in res.policies] == ["pass", "fail", "pass", "skipped"]
    assert "flash 0.035x of vgg_cnn (> 0.01x)" in res.policies[1].message
    assert "not in this run: qat_int8" in res.policies[3].message
    assert not res.ok and res.regressions == ()
    # a baseline as small as the variant with a significantly higher UA dominates it
    small = _with(s, "vgg_cnn", accuracy=_predicted(40), fits=s.variant("prune80_int8").fits)
    weak = _with(small, "prune80_int8", accuracy=_predicted(40, flip=60))
    res = compare_summaries(weak, weak, tol)
    assert res.policies[2].outcome == "fail" and "dominated by vgg_cnn" in res.policies[2].message


def test_policies_in_junit(tmp_path, capsys):
    import xml.etree.ElementTree as ET

    ref = make_summary().save(tmp_path / "ref.json")
    tol = tmp_path / "tol.toml"
    tol.write_text('schema_version = 1\n[[policies]]\nkind = "within"\nvariant = "ptq_int8"\n'
                   'baseline = "vgg_cnn"\nua_points = 1.0\nmax_flash_ratio = 0.01\n')
    junit = tmp_path / "gate.xml"
    assert main(["compare", str(ref), "--against", str(ref), "--tolerance", str(tol), "--junit", str(junit)]) == 1
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 6 and root.get("failures") == "1"
    policy = [c for c in cases if c.get("classname") == "sercompress.compare.policy"]
    assert policy[0].find("failure") is not None
    assert "failed policy" in capsys.readouterr().err
