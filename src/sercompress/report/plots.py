"""The report's figures, as PNG bytes (matplotlib, Agg backend, no display needed).

Each function returns ``None`` when there is nothing honest to draw (no
accuracies, no latencies, no per-layer figures) so the HTML can say so in
words instead of showing an empty axis.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from . import uncertainty
from .select import pareto_front, ua
from .summary import HardwareBudget, Summary, VariantEntry

FAMILY_STYLE: dict[str, dict[str, Any]] = {
    "reference": {"marker": "*", "color": "#d62728", "s": 160, "label": "reference"},
    "compressed": {"marker": "o", "color": "#1f77b4", "s": 50, "label": "compressed variant"},
    "baseline": {"marker": "s", "color": "#7f7f7f", "s": 60, "label": "baseline (literature)"},
    "control": {"marker": "D", "color": "#ff7f0e", "s": 40, "label": "float32 same-budget control"},
}
DPI = 100


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display): every report figure is drawn through it."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (to inline in a page), closed so figures do not pile up."""
    plt = pyplot()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def plain_log_x(ax) -> None:
    """Log x axis labelled 150, 300, 1,000 rather than 1.5x10^2 (call after plotting).

    Minor ticks are labelled only when the axis spans less than about a decade
    and a half, where there would otherwise be one label or none.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    fmt = FuncFormatter(lambda x, _: f"{x:,.0f}" if x >= 1 else f"{x:g}")
    ax.xaxis.set_major_formatter(fmt)
    lo, hi = ax.get_xlim()
    ax.xaxis.set_minor_formatter(fmt if hi / max(lo, 1e-12) < 30 else NullFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=7)


def _ua_error_bars(ax, variants: Sequence[VariantEntry], x_of, color: str) -> None:
    """Vertical 95 % bootstrap intervals of UA (see :mod:`sercompress.report.uncertainty`)."""
    xs, ys, lo, hi = [], [], [], []
    for v in variants:
        iv = uncertainty.intervals(v.accuracy)
        if iv is None:
            continue
        xs.append(x_of(v))
        ys.append(100 * v.accuracy.ua)
        lo.append(100 * (v.accuracy.ua - iv["ua"].low))
        hi.append(100 * (iv["ua"].high - v.accuracy.ua))
    if xs:
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="none", ecolor=color, elinewidth=0.8, capsize=2, alpha=0.7,
                    zorder=2)


def _scatter_families(ax, variants: Sequence[VariantEntry], x_of, label_points: bool = True,
                      error_bars: bool = False) -> None:
    for fam, style in FAMILY_STYLE.items():
        pts = [(x_of(v), 100 * ua(v), v.name) for v in variants
               if v.family == fam and ua(v) is not None and x_of(v) is not None]
        if not pts:
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=style["marker"], c=style["color"],
                   s=style["s"], label=style["label"], zorder=3, edgecolors="black", linewidths=0.4)
        if error_bars:
            _ua_error_bars(ax, [v for v in variants if v.family == fam and ua(v) is not None
                                and x_of(v) is not None], x_of, style["color"])
        if label_points:
            for x, y, name in pts:
                ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)


def pareto_png(summary: Summary) -> bytes | None:
    """UA vs gzip size (log x), families marked differently, Pareto front as a step line."""
    variants = [v for v in summary.variants if ua(v) is not None]
    if not variants:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    _scatter_families(ax, variants, lambda v: v.sizes.gzip_bytes / 1024, error_bars=True)
    front = pareto_front(variants)
    ax.step([v.sizes.gzip_bytes / 1024 for v in front], [100 * ua(v) for v in front], where="post",
            color="#2ca02c", linestyle="--", label="Pareto front", zorder=2)
    plain_log_x(ax)
    ax.set_xlabel("gzip size (KiB, log scale)")
    ax.set_ylabel("UA (%)")
    ax.set_title("Size vs accuracy (bars: 95 % bootstrap interval of UA)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return png_bytes(fig)


def _latency_bands(ax, points: list) -> None:
    """Each estimate's 90 % band (from the device's validated error) as a horizontal bar."""
    banded = [(f, y) for f, y in points if f.latency_low_ms is not None and f.latency_high_ms is not None]
    if not banded:
        return
    xs = [f.latency_ms for f, _ in banded]
    ax.errorbar(xs, [y for _, y in banded], fmt="none", ecolor="#7f7f7f", elinewidth=1.2, capsize=3,
                zorder=2, label="90 % band (validated error)",
                xerr=[[x - f.latency_low_ms for x, (f, _) in zip(xs, banded)],
                      [f.latency_high_ms - x for x, (f, _) in zip(xs, banded)]])


def latency_png(summary: Summary, profile: HardwareBudget) -> bytes | None:
    """UA vs latency on one profile with its budget line; None if no variant has a latency there."""
    have = [v for v in summary.variants if ua(v) is not None
            and (f := v.fit_on(profile.name)) is not None and f.latency_ms is not None]
    if not have:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _scatter_families(ax, have, lambda v: v.fit_on(profile.name).latency_ms, error_bars=True)
    _latency_bands(ax, [(v.fit_on(profile.name), 100 * ua(v)) for v in have])
    if profile.latency_ms is not None:
        ax.axvline(profile.latency_ms, color="#d62728", linestyle=":", label=f"budget {profile.latency_ms:g} ms")
    sources = sorted({v.fit_on(profile.name).latency_source for v in have})
    plain_log_x(ax)
    ax.set_xlabel(f"latency on {profile.name} (ms, log; source: {', '.join(sources)})")
    ax.set_ylabel("UA (%)")
    ax.set_title(f"{profile.name}: accuracy vs latency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return png_bytes(fig)


def fit_matrix_png(summary: Summary) -> bytes | None:
    """Heat map variant x profile: green fits, amber MARGINAL / UNKNOWN, red misses (annotated
    with the budgets that fail or are in doubt)."""
    profiles = [p.name for p in summary.profiles]
    if not profiles or not summary.variants:
        return None
    import numpy as np

    plt = pyplot()
    grid = np.full((len(summary.variants), len(profiles)), np.nan)
    for i, v in enumerate(summary.variants):
        for j, p in enumerate(profiles):
            f = v.fit_on(p)
            if f is not None:
                grid[i, j] = 1.0 if f.fits else 0.0 if f.verdict == "DOES NOT FIT" else 0.5
    from matplotlib.colors import ListedColormap

    fig, ax = plt.subplots(figsize=(min(12.0, max(5.0, 2.0 + 1.4 * len(profiles))),
                                    1.2 + 0.38 * len(summary.variants)))
    ax.imshow(np.ma.masked_invalid(grid), cmap=ListedColormap(["#f4a6a6", "#f9dc8c", "#a8ddb5"]),
              vmin=0, vmax=1,
              aspect="auto")
    for i, v in enumerate(summary.variants):
        for j, p in enumerate(profiles):
            f = v.fit_on(p)
            text = "-" if f is None else ("fits" if f.fits else ", ".join(f.failed_budgets) or "misses")
            if f is not None and f.verdict in ("MARGINAL", "UNKNOWN"):
                text = f"{f.verdict.lower()}: {text}"
            if f is not None and f.energy_mj is not None:
                text += f"\n{f.energy_mj:.3g} mJ"
            ax.text(j, i, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(profiles)), profiles, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(summary.variants)), [v.name for v in summary.variants], fontsize=8)
    ax.set_title("Fit (green), marginal / latency unknown (amber) or the budgets that fail (red); "
                 "energy per inference where the device declares power", fontsize=9)
    return png_bytes(fig)


def layers_png(entries: Sequence[VariantEntry]) -> bytes | None:
    """Per-layer MACs and RAM, one row of two panels per variant that has layer figures."""
    entries = [e for e in entries if e.layers]
    if not entries:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(len(entries), 2, figsize=(11, 3.2 * len(entries)), squeeze=False)
    for row, e in zip(axes, entries):
        names = [f"{i}:{layer.op}" for i, layer in enumerate(e.layers)]
        x = range(len(names))
        row[0].bar(x, [layer.macs / 1e6 for layer in e.layers], color="#1f77b4")
        row[0].set_ylabel("MMACs")
        row[0].set_title(f"{e.name}: MACs per layer")
        row[1].bar(x, [layer.ram_bytes / 1024 for layer in e.layers], color="#ff7f0e")
        row[1].set_ylabel("KiB")
        row[1].set_title(f"{e.name}: activation RAM per layer")
        for ax in row:
            step = max(1, len(names) // 30)
            ax.set_xticks(list(x)[::step], names[::step], rotation=90, fontsize=6)
            ax.grid(True, axis="y", alpha=0.3)
    return png_bytes(fig)


def confusion_png(entries: Sequence[VariantEntry]) -> bytes | None:
    """Row-normalised confusion matrices side by side (counts annotated)."""
    entries = [e for e in entries if e.accuracy is not None and e.accuracy.confusion]
    if not entries:
        return None
    import numpy as np

    plt = pyplot()
    fig, axes = plt.subplots(1, len(entries), figsize=(4.6 * len(entries), 4.2), squeeze=False)
    for ax, e in zip(axes[0], entries):
        cm = np.asarray(e.accuracy.confusion, dtype=float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        classes = list(e.accuracy.classes) or [str(i) for i in range(len(cm))]
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        iv = uncertainty.intervals(e.accuracy)
        ci = f" [{100 * iv['ua'].low:.1f}, {100 * iv['ua'].high:.1f}]" if iv else ""
        ax.set_title(f"{e.name} (UA {100 * e.accuracy.ua:.1f}{ci} %)", fontsize=9)
    return png_bytes(fig)

