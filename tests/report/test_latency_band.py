"""The latency band and the three-valued verdict reach the report: plot, CSV, fit matrix."""

from __future__ import annotations

from sercompress.profile.types import LatencyBand
from sercompress.report import plots
from sercompress.report.tables import fit_cell, variant_rows

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
