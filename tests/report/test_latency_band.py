"""The latency band, the verdict (FITS / MARGINAL / UNKNOWN / DOES NOT FIT) and the energy
per inference reach the report: plot, CSV, markdown and HTML fit tables, fit matrix."""

from __future__ import annotations

from sercompress.profile.types import LatencyBand
from sercompress.report import plots
from sercompress.report.html import render_html
from sercompress.report.tables import fit_cell, summary_markdown, to_csv, variant_rows

from .conftest import PROFILES, make_summary


def _banded(summary):
    """Every fit with a 90 % band of x0.8..x1.25 around its latency; one marked MARGINAL."""
    variants = []
    for v in summary.variants:
        fits = tuple(f.model_copy(update={
            "latency": f.latency.model_copy(update={"band": LatencyBand(
                low_ms=f.latency_ms * 0.8, high_ms=f.latency_ms * 1.25,
                basis="p90 |error| 17 % over 18 models")}),
            "fit": f.fit.model_copy(update={"verdict": "FITS" if f.fits else "DOES NOT FIT"})})
            for f in v.fits)
        variants.append(v.model_copy(update={"fits": fits}))
    first = variants[1]
    head = first.fits[0]
    marginal = head.model_copy(update={"fit": head.fit.model_copy(update={"fits": False,
                                                                          "verdict": "MARGINAL"})})
    variants[1] = first.model_copy(update={"fits": (marginal, *first.fits[1:])})
    return summary.model_copy(update={"variants": tuple(variants)})


def test_latency_plot_draws_the_band(monkeypatch):
    summary = _banded(make_summary())
    drawn = []
    original = plots._latency_bands

    def spy(ax, points):
        drawn.extend(points)
        original(ax, points)

    monkeypatch.setattr(plots, "_latency_bands", spy)
    png = plots.latency_png(summary, PROFILES[0])
    assert png and png.startswith(b"\x89PNG")
    assert drawn and all(f.latency_low_ms < f.latency_ms < f.latency_high_ms for f, _ in drawn)


def test_csv_and_fit_matrix_carry_band_and_verdict():
    summary = _banded(make_summary())
    rows = [r for r in variant_rows(summary) if r["profile"] == PROFILES[0].name]
    assert all(r["latency_low_ms"] < r["latency_ms"] < r["latency_high_ms"] for r in rows)
    assert {r["verdict"] for r in rows} >= {"MARGINAL"}
    assert fit_cell(summary.variants[1], PROFILES[0].name).startswith("marginal")


def _with_energy_and_unknown(summary):
    """The first profile declares power (energy on every banded fit); one fit's latency UNKNOWN."""
    variants = []
    for v in summary.variants:
        fits = tuple(f.model_copy(update={"latency": f.latency.model_copy(
            update={"energy_mj": 0.0099 * f.latency_ms})}) if f.hardware == PROFILES[0].name else f
            for f in v.fits)
        variants.append(v.model_copy(update={"fits": fits}))
    third = variants[2]
    head = third.fits[0]
    latency = head.latency.model_copy(update={"source": "unknown", "ms": None, "band": None,
                                              "energy_mj": None,
                                              "reason": "1 layer(s) of op(s) CUMSUM ..."})
    checks = tuple(c if c.name != "latency" else c.model_copy(update={
        "ok": False, "unknown": True, "value": None, "margin": None, "reason": "UNKNOWN: CUMSUM"})
        for c in head.fit.checks)
    unknown = head.model_copy(update={"latency": latency, "fit": head.fit.model_copy(
        update={"fits": False, "verdict": "UNKNOWN", "checks": checks})})
    variants[2] = third.model_copy(update={"fits": (unknown, *third.fits[1:])})
    return summary.model_copy(update={"variants": tuple(variants)})


def test_energy_and_unknown_latency_in_every_table():
    summary = _with_energy_and_unknown(_banded(make_summary()))
    big, tiny = PROFILES[0].name, PROFILES[1].name
    first = summary.variants[0].fit_on(big)
    low, high = first.latency.energy_band_mj
    cell = fit_cell(summary.variants[0], big)
    assert f"{first.energy_mj:.3g} mJ per inference, 90 % band {low:.3g}–{high:.3g} mJ" in cell
    assert "mJ" not in fit_cell(summary.variants[0], tiny)  # that profile declares no power
    assert fit_cell(summary.variants[2], big).startswith("unknown: latency")
    page = render_html(summary, "c")
    assert f"{first.energy_mj:.3g} mJ per inference" in page
    assert '<td class="soft">unknown: latency' in page and '<td class="soft">marginal' in page
    assert '<td class="fits">fits; ' in page
    assert "unknown: latency" in summary_markdown(summary, "c")
    rows = {(r["variant"], r["profile"]): r for r in variant_rows(summary)}
    row = rows[(summary.variants[2].name, big)]
    assert (row["verdict"], row["latency_source"], row["latency_ms"]) == ("UNKNOWN", "unknown", None)
    assert ",UNKNOWN," in to_csv(summary)
    assert plots.fit_matrix_png(summary).startswith(b"\x89PNG")
