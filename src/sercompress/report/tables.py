"""The report's tables: `variants.csv` for pandas, `summary.md` for a pull request.

The CSV is long-form (one row per variant x hardware profile, every variant
figure repeated) so ``pandas.read_csv`` followed by a pivot answers any
question; the markdown is the few tables a reviewer reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from ..assess import DeviceAssessment
from ..fit import energy_figure
from . import device_flash, uncertainty
from .select import unfit_profiles
from .summary import Summary, VariantEntry

CSV_COLUMNS: tuple[str, ...] = (
    "variant", "family", "recipe", "format", "dtype", "ua", "ua_low", "ua_high", "wa", "wa_low", "wa_high",
    "f1", "f1_low", "f1_high", "ci_unit", "dua_vs_reference", "dua_low", "dua_high", "dua_p_worse", "dua_paired",
    "control", "dua_vs_control", "dua_control_low", "dua_control_high", "dua_control_p_worse", "dua_control_paired",
    "file_bytes", "gzip_bytes", "params", "nonzero_params", "macs", "peak_ram_bytes",
    "litert_median_ms", "litert_p90_ms", "onnxruntime_median_ms", "onnxruntime_p90_ms",
    "sparsity", "max_unique_values",
    "profile", "fits", "flash_bytes", "ram_bytes", "latency_ms", "latency_source",
    "latency_low_ms", "latency_high_ms", "verdict", "energy_mj", "reasons",
    "windows_per_clip", "utterance_latency_ms", *device_flash.CSV_COLUMNS,
)


def _host(v: VariantEntry, runtime: str) -> tuple[float | None, float | None]:
    h = next((h for h in v.host_latency if h.runtime == runtime), None)
    return (h.median_ms, h.p90_ms) if h else (None, None)


def variant_rows(summary: Summary) -> list[dict[str, Any]]:
    """One dict per (variant, profile); a variant without fit results gets one row with empty profile."""
    rows = []
    ref = summary.reference()
    for v in summary.variants:
        lite, ort = _host(v, "litert"), _host(v, "onnxruntime")
        base = {
            "variant": v.name, "family": v.family, "recipe": v.recipe or "",
            "format": v.artifact.format, "dtype": v.artifact.dtype,
            "ua": v.accuracy.ua if v.accuracy else None,
            "wa": v.accuracy.wa if v.accuracy else None,
            "f1": v.accuracy.f1 if v.accuracy else None,
            **_interval_columns(v), **_difference_columns(ref, v),
            "control": v.control or "", **_control_columns(summary.control_of(v), v),
            "file_bytes": v.sizes.file_bytes, "gzip_bytes": v.sizes.gzip_bytes,
            "params": v.params, "nonzero_params": v.nonzero_params, "macs": v.macs,
            "peak_ram_bytes": v.peak_ram_bytes,
            "litert_median_ms": lite[0], "litert_p90_ms": lite[1],
            "onnxruntime_median_ms": ort[0], "onnxruntime_p90_ms": ort[1],
            "sparsity": v.verification.sparsity if v.verification else None,
            "max_unique_values": v.verification.max_unique_per_channel if v.verification else None,
        }
        fits = v.fits or (None,)
        for f in fits:
            row = dict(base)
            row.update({
                "profile": f.hardware if f else "", "fits": f.fits if f else None,
                "flash_bytes": f.flash_bytes if f else None, "ram_bytes": f.ram_bytes if f else None,
                "latency_ms": f.latency_ms if f else None,
                "latency_source": f.latency_source if f else "",
                "latency_low_ms": f.latency_low_ms if f else None,
                "latency_high_ms": f.latency_high_ms if f else None,
                "verdict": f.verdict if f else "", "energy_mj": f.energy_mj if f else None,
                "reasons": "; ".join(f.reasons) if f else "",
                # a streamed variant's latency_ms is per window; one utterance is windows_per_clip runs
                "windows_per_clip": v.windows_per_clip,
                "utterance_latency_ms": v.utterance_latency_ms(f.hardware) if f else None,
                **device_flash.csv_columns(summary, v, f.hardware if f else None),
            })
            rows.append(row)
    return rows


def _interval_columns(v: VariantEntry) -> dict[str, Any]:
    iv = uncertainty.intervals(v.accuracy)
    if iv is None:
        return {"ci_unit": ""}
    out: dict[str, Any] = {"ci_unit": iv["ua"].unit}
    for m, i in iv.items():
        out[f"{m}_low"], out[f"{m}_high"] = round(i.low, 6), round(i.high, 6)
    return out


def _difference_columns(ref: VariantEntry | None, v: VariantEntry) -> dict[str, Any]:
    return _ua_difference(ref, v, ("dua_vs_reference", "dua_low", "dua_high", "dua_p_worse", "dua_paired"))


def _control_columns(control: VariantEntry | None, v: VariantEntry) -> dict[str, Any]:
    """The same UA difference against the variant's same-budget control."""
    return _ua_difference(control, v, ("dua_vs_control", "dua_control_low", "dua_control_high",
                                       "dua_control_p_worse", "dua_control_paired"))


def _ua_difference(ref: VariantEntry | None, v: VariantEntry, columns: tuple[str, ...]) -> dict[str, Any]:
    """UA(v) - UA(ref) with its interval, one-sided p of a drop and whether paired, into ``columns``."""
    d = uncertainty.difference(ref.accuracy, v.accuracy) if ref is not None and ref is not v else None
    if d is None:
        return {columns[-1]: ""}
    return dict(zip(columns, (round(d.value, 6), round(d.low, 6), round(d.high, 6), round(d.p_drop, 6), d.paired),
                    strict=True))


def to_csv(summary: Summary) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for row in variant_rows(summary):
        w.writerow({k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS})
    return buf.getvalue()


# -- formatting -------------------------------------------------------------
def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def pct_ci(v: VariantEntry, metric: str = "ua") -> str:
    """``72.3 [67.8, 76.5]``: the figure and its 95 % bootstrap interval, in percent."""
    if v.accuracy is None:
        return "n/a"
    iv = uncertainty.intervals(v.accuracy)
    value = getattr(v.accuracy, metric)
    if iv is None:
        return pct(value)
    return f"{100 * value:.1f} [{100 * iv[metric].low:.1f}, {100 * iv[metric].high:.1f}]"


def delta_cell(ref: VariantEntry | None, v: VariantEntry) -> str:
    """UA change against float32 with its interval; "better" / "worse" only when the interval
    excludes zero, and "unpaired" when the clips differ."""
    if ref is None or v is ref:
        return "-"
    d = uncertainty.difference(ref.accuracy, v.accuracy)
    if d is None:
        return "n/a"
    verdict = ("better" if d.low > 0 else "worse") if d.significant else "n.s."
    return (f"{100 * d.value:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}] {verdict}"
            + ("" if d.paired else " (unpaired)"))


def control_cell(summary: Summary, v: VariantEntry) -> str:
    """UA change against the variant's same-budget control, named: the cost of compression alone."""
    control = summary.control_of(v)
    if control is None:
        return "-"
    return f"{delta_cell(control, v)} vs `{control.name}`"


def kib(n: float | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MiB"


def mega(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:,.2f} M"


def ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]] = ()) -> str:
    esc = lambda c: str(c).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines)


Grid = tuple[list[str], list[list[str]]]


def variants_grid(summary: Summary) -> Grid:
    header = ["variant", "family", "form", "UA % [95 % CI]", "UA vs float32, pt [95 % CI]",
              "UA vs same-budget control, pt [95 % CI]", "WA % [95 % CI]",
              "F1 % [95 % CI]", "gzip", "file", "params (non-zero)", "MACs", "peak RAM", "LiteRT ms (p90)",
              "ORT ms (p90)"]
    rows = []
    ref = summary.reference()
    for v in summary.variants:
        lite, ort = _host(v, "litert"), _host(v, "onnxruntime")
        rows.append([
            v.name, v.family, f"{v.artifact.format} {v.artifact.dtype}",
            pct_ci(v, "ua"), delta_cell(ref, v), control_cell(summary, v), pct_ci(v, "wa"), pct_ci(v, "f1"),
            kib(v.sizes.gzip_bytes), kib(v.sizes.file_bytes),
            f"{v.params:,} ({v.nonzero_params:,})", mega(v.macs), kib(v.peak_ram_bytes),
            f"{ms(lite[0])} ({ms(lite[1])})", f"{ms(ort[0])} ({ms(ort[1])})",
        ])
    return header, rows


def fit_cell(v: VariantEntry, profile: str) -> str:
    """The verdict in words, then the energy per inference where the profile declares power."""
    f = v.fit_on(profile)
    if f is None:
        return "-"
    energy = energy_figure(f.latency)
    return _verdict_words(f) + (f"; {energy}" if energy else "")


def _verdict_words(f: DeviceAssessment) -> str:
    if f.fits:
        return "fits"
    if f.verdict == "MARGINAL":
        return "marginal: budget inside the latency band"
    if f.verdict == "UNKNOWN":
        return "unknown: latency (ops without a cost)"
    failed = f.failed_budgets or tuple(r.split(":")[0] for r in f.reasons) or ("no",)
    return "misses: " + ", ".join(failed)


def fit_grid(summary: Summary) -> Grid:
    names = [p.name for p in summary.profiles]
    return ["variant", *names], [[v.name, *(fit_cell(v, p) for p in names)] for v in summary.variants]


def flash_grid(summary: Summary) -> Grid:
    """Flash per variant and device (ratios to float32 and int8 there) next to the gzip size.

    Devices whose column is the same for every variant (TFLite Micro boards, say) share one,
    named together with what their runtime stores."""
    f32, i8 = summary.reference(), device_flash.int8_reference(summary)
    refs = f"× {f32.name if f32 else 'float32'}, × {i8.name if i8 else device_flash.INT8_RECIPE}"
    columns: dict[tuple[str, ...], list[str]] = {}
    for p in summary.profiles:
        cells = tuple(_flash_cell(v, p.name, f32, i8) for v in summary.variants)
        columns.setdefault((device_flash.label(summary, p.name), *cells), []).append(p.name)
    header = ["variant", "form", f"gzip ({refs})",
              *(f"{', '.join(names)}: {key[0]} ({refs})" for key, names in columns.items())]
    rows = [[v.name, f"{v.artifact.format} {v.artifact.dtype}", _gzip_cell(v, f32, i8),
             *(key[1 + i] for key in columns)] for i, v in enumerate(summary.variants)]
    return header, rows


def _gzip_cell(v: VariantEntry, f32: VariantEntry | None, i8: VariantEntry | None) -> str:
    ratios = (_times(device_flash.gzip_ratio(v, ref)) for ref in (f32, i8))
    return f"{kib(v.sizes.gzip_bytes)} ({', '.join(ratios)})"


def flash_section(summary: Summary) -> tuple[str, Grid | None]:
    """The note and the flash table; no table (the note says why) for a summary without the figures."""
    if not device_flash.recorded(summary):
        return device_flash.NOT_RECORDED, None
    return device_flash.NOTE, flash_grid(summary)


def _flash_cell(v: VariantEntry, profile: str, f32: VariantEntry | None, i8: VariantEntry | None) -> str:
    """``480.5 KiB (×0.27, ×1.00)``: the flash there, then its ratio to float32 and to int8 there."""
    used = device_flash.flash_on(v, profile)
    if used is None or not device_flash.runs_on(v, profile):
        return "n/a" if used is None else "does not run"
    return (f"{kib(used.bytes)} ({_times(device_flash.flash_ratio(v, f32, profile))}, "
            f"{_times(device_flash.flash_ratio(v, i8, profile))})")


def _times(r: float | None) -> str:
    return "–" if r is None else f"×{r:.2f}"


def budgets_grid(summary: Summary) -> Grid:
    return (["profile", "flash", "RAM", "latency budget ms"],
            [[p.name, kib(p.flash_bytes), kib(p.ram_bytes), ms(p.latency_ms)] for p in summary.profiles])


def timings_grid(summary: Summary) -> Grid:
    return ["stage", "seconds"], [[k, f"{v:,.1f}"] for k, v in summary.run.timings_s.items()]


def published_grid(summary: Summary) -> Grid | None:
    rows = [[v.name, v.published.citation, f"{v.published.metric} {v.published.value:.2f} % ({v.published.corpus})",
             pct_ci(v)]
            for v in summary.variants if v.published is not None]
    if not rows:
        return None
    return ["baseline", "paper", "published", f"UA % here ({summary.run.dataset})"], rows


PUBLISHED_CAVEAT = ("Published figures are on the paper's own corpus and protocol; they are not comparable "
                    "with this run's dataset, only a pointer to the paper.")


def summary_markdown(summary: Summary, conclusion: str) -> str:
    run = summary.run
    parts = [
        f"# sercompress report: {run.config_name}",
        "",
        intro_line(summary),
        "",
        "## Conclusion", "", conclusion, "",
        "## Variants", "", md_table(*variants_grid(summary)), "",
    ]
    if summary.profiles:
        parts += ["## Fit per hardware profile", "", md_table(*fit_grid(summary)), ""]
        missing = unfit_profiles(summary)
        if missing:
            parts += [f"No variant fits: {', '.join(missing)}.", ""]
        note, flash = flash_section(summary)
        parts += ["## Flash each device needs", "", note, ""] + ([md_table(*flash), ""] if flash else [])
        parts += ["## Hardware budgets", "", md_table(*budgets_grid(summary)), ""]
    pub = published_grid(summary)
    if pub:
        parts += ["## Baselines: published vs measured here", "", PUBLISHED_CAVEAT, "", md_table(*pub), ""]
    if run.timings_s:
        parts += ["## Timings", "", md_table(*timings_grid(summary)), ""]
    return "\n".join(parts)


def intro_line(summary: Summary) -> str:
    run = summary.run
    return (f"Dataset {run.dataset}, seed {run.seed}" + (f", fold {run.fold}" if run.fold is not None else "")
            + f"; {len(summary.variants)} variants on {len(summary.profiles)} hardware profiles. "
            "Accuracy is measured on the exported artifact (test split); UA = unweighted accuracy. "
            + interval_note(summary))


def interval_note(summary: Summary) -> str:
    """How the intervals were computed (the resampling unit), in one sentence."""
    ivs = [iv["ua"].unit for v in summary.variants if (iv := uncertainty.intervals(v.accuracy))]
    unit = ivs[0] if ivs else None
    how = {"speaker": "resampling test speakers, since clips of one speaker are correlated",
           "clip-stratified": "resampling test clips within each class; fewer than 5 test speakers"}
    return ("Brackets are 95 % bootstrap intervals (" + how.get(unit, "from the confusion matrix") + "). "
            "Differences to float32 (and to the same-budget control: float32 fine-tuned for as many epochs, "
            "at the same learning rate, as the recipe) are paired on the same clips (unpaired when a side lacks per-clip "
            "predictions) and called better or worse only when their interval excludes zero "
            "(n.s. = not significant).")
