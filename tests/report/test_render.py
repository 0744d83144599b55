"""render_report: the four files, embedded images, tables and a conclusion computed from the numbers."""

from __future__ import annotations

import csv
import io
import re

import pytest
from .conftest import PROFILES, make_summary

from sercompress.report import render_report
from sercompress.report.conclusion import conclusion_text
from sercompress.report.select import (
    best_on_smallest_device,
    pareto_front,
    smallest_keeping_accuracy,
    unfit_profiles,
)
from sercompress.report.summary import HardwareBudget, Summary
from sercompress.report.tables import CSV_COLUMNS, to_csv

#: Two profiles some variant fits, and one nothing fits (the report must say so, not plot nothing).
WITH_SPECK = (*PROFILES, HardwareBudget(name="speck", flash_bytes=10_000, ram_bytes=4_000, latency_ms=1.0))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Rendered once for the module: matplotlib is the slow part of these tests."""
    out = tmp_path_factory.mktemp("report")
    return render_report(make_summary(profiles=WITH_SPECK), out)


def test_writes_the_four_files(rendered):
    for p in (rendered.summary_json, rendered.variants_csv, rendered.summary_md, rendered.index_html):
        assert p.is_file() and p.stat().st_size > 0
    assert Summary.load(rendered.summary_json) == make_summary(profiles=WITH_SPECK)
    assert not list(rendered.index_html.parent.glob(".*.tmp"))  # atomic writes left nothing behind


def test_html_is_self_contained_with_images(rendered):
    html = rendered.index_html.read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # Pareto, latency x 2 profiles (none for speck: nothing fits it), fit matrix, per-layer, confusion
    assert len(images) == 6
    assert all(len(i) > 1000 for i in images)
    assert not re.search(r'(src|href)="(https?:|//)', html) and "<script" not in html
    for name in ("float32", "prune50_int8", "vgg_cnn", "big_mcu", "tiny_mcu", "Pareto"):
        assert name in html


def test_csv_one_row_per_variant_and_profile(rendered):
    rows = list(csv.DictReader(io.StringIO(rendered.variants_csv.read_text())))
    assert len(rows) == len(make_summary().variants) * len(WITH_SPECK)
    assert tuple(rows[0]) == CSV_COLUMNS
    tiny = {r["variant"]: r for r in rows if r["profile"] == "tiny_mcu"}
    assert tiny["prune50_int8"]["fits"] == "True" and tiny["float32"]["fits"] == "False"
    assert "flash" in tiny["float32"]["reasons"]


def test_markdown_tables(rendered):
    md = rendered.summary_md.read_text()
    assert "| prune50_int8 | fits | fits | misses: flash, ram, latency |" in md
    assert "| ptq_int8 | fits | misses: flash | misses: flash, ram, latency |" in md
    assert "## Baselines: published vs measured here" in md and "Popova" in md


def test_selection_follows_the_numbers():
    s = make_summary()
    assert [v.name for v in pareto_front(s.variants)] == ["prune80_int8", "prune50_int8", "ptq_int8",
                                                           "float32", "vgg_cnn"]
    # within 1 point of 70.0: ptq (69.5) and prune50 (69.0); prune50 is smaller
    assert smallest_keeping_accuracy(s).name == "prune50_int8"
    assert smallest_keeping_accuracy(s, points=0.6).name == "ptq_int8"
    best, prof = best_on_smallest_device(s)
    assert (best.name, prof.name) == ("prune50_int8", "tiny_mcu")
    assert unfit_profiles(s) == []


def test_conclusion_is_computed():
    text = conclusion_text(make_summary())
    # 1.7 MB / 250 kB = 6.8x; 12 MB / 250 kB = 48.0x
    assert "`prune50_int8`" in text and "6.8x smaller than float32 gzipped" in text
    assert "48.0x smaller than the largest baseline `vgg_cnn`" in text
    assert "It fits `tiny_mcu`, which float32 does not." in text


def test_no_variant_fits_a_profile(rendered):
    """A profile nothing fits: the report says so instead of drawing an empty plot."""
    s = make_summary(profiles=WITH_SPECK)
    assert unfit_profiles(s) == ["speck"]
    html = rendered.index_html.read_text()
    assert "No variant fits speck" in html
    section = html.split("Accuracy vs latency: speck")[1].split("<h2>")[0]
    assert "data:image/png" not in section
    assert "No variant fits: speck." in rendered.summary_md.read_text()
    assert "No variant fits `speck`" in conclusion_text(s)


def test_nothing_fits_and_no_reference():
    s = make_summary(profiles=(HardwareBudget(name="speck", flash_bytes=10, ram_bytes=10),))
    s = s.model_copy(update={"variants": tuple(v for v in s.variants if v.family != "reference")})
    text = conclusion_text(s)
    assert "no evaluated float32 reference" in text and "No variant fits `speck`" in text
    # the closest miss is named with its reasons
    assert "even `prune80_int8` misses (flash:" in text
    assert best_on_smallest_device(s) is None
    assert to_csv(s).count("\n") == 1 + len(s.variants)


def test_conclusion_without_hardware_profiles():
    s = make_summary(profiles=())
    assert smallest_keeping_accuracy(s).name == "prune50_int8"
    text = conclusion_text(s)
    assert "within 1 point of float32 is `prune50_int8`" in text and "fits a device" not in text
