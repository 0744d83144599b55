"""Compressed variants judged against their same-budget control: pairing, tables, CSV, conclusion."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from sercompress.errors import SummaryError
from sercompress.metrics import classification_metrics
from sercompress.predictions import ClipPredictions
from sercompress.report.conclusion import conclusion_text
from sercompress.report.select import comparator, smallest_keeping_accuracy
from sercompress.report.summary import Summary
from sercompress.report.tables import control_cell, to_csv, variants_grid

from .conftest import make_summary, variant

CLASSES4 = ("angry", "happy", "neutral", "sad")


def _acc(n_wrong: int, n: int = 400):
    """400 clips, 8 speakers; the first ``n_wrong`` clips of a fixed order predicted wrong."""
    y = np.arange(n) % 4
    pred = y.copy()
    wrong = np.random.default_rng(1).permutation(n)[:n_wrong]
    pred[wrong] = (y[wrong] + 1) % 4
    p = ClipPredictions.from_arrays([f"c{i:03d}.wav" for i in range(n)], [f"s{i % 8}" for i in range(n)], y,
                                    np.eye(4)[pred])
    return classification_metrics(y, pred, CLASSES4).model_copy(update={"predictions": p})


def _summary(control: str | None = "float32@3ep") -> Summary:
    """Float32 72 %, its 3-epoch control 88 %, and a pruned variant at 82 %: better than the under-trained
    reference, significantly worse than its control."""
    entries = [
        ("float32", "reference", "float32", 112, {}),
        ("prune-80", "compressed", "int8", 72, {"recipe": "prune-80", "control": control}),
        ("ptq-int8", "compressed", "int8", 114, {"recipe": "ptq-int8", "control": "float32"}),
        ("float32@3ep", "control", "float32", 48, {"recipe": "control-3ep"}),
    ]
    return make_summary(variants=tuple(
        variant(n, fam, dt, 0.5, 1_000_000 if dt == "float32" else 300_000, 100_000, 100.0, **kw).model_copy(
            update={"accuracy": _acc(wrong)})
        for n, fam, dt, wrong, kw in entries))


def test_each_variant_is_paired_with_its_control():
    s = _summary()
    assert s.control_of(s.variant("prune-80")).name == "float32@3ep"
    assert s.control_of(s.variant("ptq-int8")) is s.reference()  # no fine-tuning: float32 is the control
    assert s.control_of(s.variant("float32@3ep")) is None
    assert comparator(s, s.variant("prune-80")).name == "float32@3ep"
    assert comparator(s, s.variant("float32@3ep")) is s.reference()
    assert Summary.model_validate_json(s.to_json()) == s  # the field round-trips


def test_a_control_naming_no_entry_is_refused():
    data = _summary().model_dump(mode="json")
    data["variants"][1]["control"] = "float32@9ep"
    with pytest.raises(SummaryError, match="float32@9ep"):
        Summary.from_dict(data)


def test_tables_and_csv_show_both_differences():
    s = _summary()
    header, rows = variants_grid(s)
    col_ref, col_ctl = header.index("UA vs float32, pt [95 % CI]"), header.index(
        "UA vs same-budget control, pt [95 % CI]")
    pruned = next(r for r in rows if r[0] == "prune-80")
    assert pruned[col_ref].endswith("better") and "worse" in pruned[col_ctl] and "float32@3ep" in pruned[col_ctl]
    assert control_cell(s, s.variant("float32@3ep")) == "-"
    row = next(r for r in csv.DictReader(io.StringIO(to_csv(s))) if r["variant"] == "prune-80")
    assert row["control"] == "float32@3ep" and row["dua_control_paired"] == "True"
    assert float(row["dua_vs_reference"]) == pytest.approx(0.10) and float(row["dua_vs_control"]) == pytest.approx(-0.06)
    assert float(row["dua_control_high"]) < 0 < float(row["dua_low"])


def test_conclusion_judges_compression_against_the_control():
    text = conclusion_text(_summary())
    assert "`prune-80` (-6.0 pt vs `float32@3ep`)" in text and "significantly worse" in text
    assert "significantly better: `prune-80`" not in text
    assert "`float32@3ep` +16.0 points" in text  # what fine-tuning alone did
    # without a control the same numbers read as an improvement over float32
    assert "significantly better: `prune-80` (+10.0 pt)" in conclusion_text(_summary(control=None))


def test_keeping_accuracy_is_measured_against_the_control():
    s = _summary()
    pick = smallest_keeping_accuracy(s, points=7.0)  # prune-80 is 6 pt below its control, 10 above float32
    assert pick is not None and pick.name == "prune-80"
    assert smallest_keeping_accuracy(s, points=5.0).name == "ptq-int8"
