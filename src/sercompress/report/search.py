"""The search's report: a self-contained ``OUT/index.html`` from a :class:`SearchResult` alone.

Per device: validation UA against latency per utterance for every trial
(feasible filled, infeasible hollow grey, the Pareto front as a step line, the
chosen trial marked), the front's table and every trial's (collapsed), and the
chosen variant with its recipe, its ``check`` command and output, and its paired
difference to the same-budget float control. A device where nothing fits says
so, with the figures of the trial that came closest. Like the run's report
(:mod:`.html`): one file, images inlined, no scripts; nothing is recomputed and
TensorFlow is never imported.
"""

from __future__ import annotations

import html

from ..search.record import CONSTRAINTS, ControlComparison, DeviceSearch, SearchResult, TrialRecord
from .html import CSS, html_table, img_tag, text_with_code
from .plots import plain_log_x, png_bytes, pyplot
from .tables import Grid

SEARCH_HTML = "index.html"
#: a latency axis spanning more than this ratio is drawn log-scaled
LOG_SPAN = 10.0
_KNOWN = ("window_seconds", "hop_fraction", "precision")
#: what a paired interval resampled, in words (``stats.Unit``)
RESAMPLED = {"speaker": "test speakers", "clip-stratified": "test clips within class"}


# -- cells --------------------------------------------------------------------
def _num(x: float | None, fmt: str = "{:,.2f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def _kib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1024:,.0f}"


def _ua(x: float) -> str:
    return f"{100 * x:.1f}"


def keep_cell(t: TrialRecord) -> str:
    """The kept channel fractions per group (``keep_lflb=0.5``), then any parameter not tabled apart."""
    keep = [f"{k.removeprefix('keep_')}={v}" for k, v in t.params.items() if k.startswith("keep_")]
    other = [f"{k}={v}" for k, v in t.params.items() if not k.startswith("keep_") and k not in _KNOWN]
    return ", ".join(keep + other) or "-"


def violations(t: TrialRecord) -> list[str]:
    """The budgets the trial misses, each with its relative excess (``ram +35 %``)."""
    out = []
    for name in CONSTRAINTS:
        v = t.constraints.get(name)
        if v is not None and v > 0:
            out.append(name if name == "dtype" or v < 0.005 else f"{name} +{100 * v:.0f} %")
    return out


def verdict_cell(t: TrialRecord) -> str:
    """``fits``, or ``misses``/``marginal``/``unknown`` with the budgets at fault (the fit table's words,
    so :func:`html_table` colours the cell the same way)."""
    if t.feasible:
        return "fits"
    word = {"MARGINAL": "marginal", "UNKNOWN": "unknown"}.get(t.verdict, "misses")
    return f"{word}: {', '.join(violations(t)) or t.verdict}"


def violation(t: TrialRecord) -> float:
    """Summed relative excess over the budgets (how NSGA-II ranks infeasible trials)."""
    return sum(max(v, 0.0) for v in t.constraints.values())


def least_violating(trials: tuple[TrialRecord, ...]) -> TrialRecord | None:
    return min(trials, key=lambda t: (violation(t), t.number), default=None)


# -- grids --------------------------------------------------------------------
TRIAL_HEADER = ["trial", "window s", "hop (x window)", "precision", "keep", "val UA %", "test UA %",
                "latency / utterance ms", "windows", "budget / inference ms", "RAM KiB", "flash KiB", "verdict"]


def trial_row(t: TrialRecord, d: DeviceSearch) -> list[str]:
    marks = [m for m, on in (("chosen", t.number == d.chosen), ("front", t.number in d.front)) if on]
    p = t.params
    return [f"{t.number}" + (f" ({', '.join(marks)})" if marks else ""), str(p.get("window_seconds", "-")),
            str(p.get("hop_fraction", "-")), str(p.get("precision", "-")), keep_cell(t), _ua(t.val_ua),
            _ua(t.test_ua), _num(t.latency_per_utterance_ms), str(t.windows_per_clip), _num(t.latency_budget_ms),
            _kib(t.ram_bytes), _kib(t.flash_bytes), verdict_cell(t)]


def front_grid(d: DeviceSearch) -> Grid:
    """The front, fastest first (so UA rises down the table)."""
    by = {t.number: t for t in d.trials}
    front = sorted((by[n] for n in d.front if n in by),  # a record read from elsewhere may lack a latency: last
                   key=lambda t: (t.latency_per_utterance_ms is None, t.latency_per_utterance_ms or 0.0, t.number))
    return TRIAL_HEADER, [trial_row(t, d) for t in front]


def trials_grid(d: DeviceSearch) -> Grid:
    return TRIAL_HEADER, [trial_row(t, d) for t in sorted(d.trials, key=lambda t: t.number)]


def overview_grid(r: SearchResult) -> Grid:
    header = ["device", "trials", "fit", "front", "chosen trial", "val UA %", "test UA %",
              "latency / utterance ms", "test UA vs same-budget control, pt"]
    rows = []
    for d in r.devices:
        c = chosen_trial(d)
        figures = ["-"] * 4 if c is None else [str(c.number), _ua(c.val_ua), _ua(c.test_ua),
                                               _num(c.latency_per_utterance_ms)]
        rows.append([d.hardware, str(len(d.trials)), str(sum(t.feasible for t in d.trials)), str(len(d.front)),
                     *(["none fits", "-", "-", "-"] if c is None else figures), comparison_cell(d)])
    return header, rows


def chosen_trial(d: DeviceSearch) -> TrialRecord | None:
    return next((t for t in d.trials if t.number == d.chosen), None)


def comparison_cell(d: DeviceSearch) -> str:
    k = d.comparison
    if k is None:
        return "-"
    verdict = ("significant" if k.significant else "not significant")
    return (f"{100 * k.ua_difference:+.1f} [{100 * k.low:+.1f}, {100 * k.high:+.1f}] {verdict}")


# -- the figure ---------------------------------------------------------------
def scatter_png(d: DeviceSearch) -> bytes | None:
    """Validation UA vs latency per utterance; None when no trial has a latency."""
    have = [t for t in d.trials if t.latency_per_utterance_ms is not None]
    if not have:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    xy = lambda ts: ([t.latency_per_utterance_ms for t in ts], [100 * t.val_ua for t in ts])
    bad = [t for t in have if not t.feasible]
    ok = [t for t in have if t.feasible]
    if bad:
        ax.scatter(*xy(bad), facecolors="none", edgecolors="#999999", s=45, linewidths=1.0,
                   label="does not fit", zorder=2)
    if ok:
        ax.scatter(*xy(ok), c="#1f77b4", s=45, edgecolors="black", linewidths=0.4, label="fits", zorder=3)
    by = {t.number: t for t in have}
    front = sorted((by[n] for n in d.front if n in by), key=lambda t: t.latency_per_utterance_ms)
    if front:  # ringed, so a front of one trial shows too
        ax.step(*xy(front), where="post", color="#2ca02c", linestyle="--", zorder=2)
        ax.scatter(*xy(front), facecolors="none", edgecolors="#2ca02c", s=130, linewidths=1.5,
                   label="Pareto front (fits)", zorder=3)
    c = by.get(d.chosen) if d.chosen is not None else None
    if c is not None:
        ax.scatter(*xy([c]), marker="*", c="#d62728", s=220, edgecolors="black", linewidths=0.5,
                   label="chosen", zorder=4)
        ax.annotate(f"chosen: trial {c.number}", (c.latency_per_utterance_ms, 100 * c.val_ua),
                    textcoords="offset points", xytext=(6, 6), fontsize=8)
    xs = xy(have)[0]
    log = min(xs) > 0 and max(xs) / min(xs) > LOG_SPAN
    if log:
        plain_log_x(ax)
    ax.set_xlabel("latency per utterance (ms" + (", log scale)" if log else ")"))
    ax.set_ylabel("validation UA (%)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(max(lo, -1.0), min(hi, 101.0))  # no ticks beyond what a UA can be
    ax.set_title(f"{d.hardware}: validation UA vs latency per utterance")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return png_bytes(fig)


# -- sections -----------------------------------------------------------------
def intro(r: SearchResult) -> str:
    return (f"Reference `{r.reference}`; {r.n_trials} trials per device, seed {r.seed}; sampler: {r.sampler}; "
            f"wall time {r.wall_time_s:,.0f} s. Objectives: {'; '.join(r.objectives)}. Every figure is measured "
            "on the candidate's exported .tflite as `sercompress check` measures it. The study ranks and "
            f"chooses by UA on the validation speakers ({r.validation_clips} clips); the test UA is reported, "
            "never ranked by. A streamed candidate's latency budget per inference is "
            "min(hop, device budget / windows per clip).")


def device_section(d: DeviceSearch) -> list[str]:
    name = html.escape(d.hardware)
    fit = sum(t.feasible for t in d.trials)
    out = [f"<h2>{name}</h2>", f"<p>{fit} of {len(d.trials)} trials fit {name}.</p>"]
    png = scatter_png(d)
    out.append(img_tag(png, f"validation UA vs latency per utterance on {d.hardware}") if png is not None
               else f'<p class="note">No trial on {name} has a latency estimate: nothing to plot.</p>')
    missing = [t.number for t in d.trials if t.latency_per_utterance_ms is None]
    if missing and png is not None:
        out.append(f'<p class="note">Not plotted (no latency estimate on {name}): trial(s) '
                   f"{html.escape(', '.join(map(str, missing)))}.</p>")
    if d.chosen is None:
        out += no_fit(d)
    else:
        out += ["<h3>Pareto front (fits; validation UA up, latency per utterance down)</h3>",
                html_table(*front_grid(d)), *chosen_section(d)]
    out += [f"<details><summary>All {len(d.trials)} trials</summary>", html_table(*trials_grid(d)), "</details>"]
    return out


def no_fit(d: DeviceSearch) -> list[str]:
    name = html.escape(d.hardware)
    t = least_violating(d.trials)
    out = [f"<p><strong>No trial fits {name}</strong> ({len(d.trials)} tried): nothing is chosen.</p>"]
    if t is None:
        return out
    figures = [f"RAM {_kib(t.ram_bytes)} KiB{_against('ram', t)}",
               f"flash {_kib(t.flash_bytes)} KiB{_against('flash', t)}",
               f"latency band's upper end {_num(t.latency_high_ms)} ms per inference, budget "
               f"{_num(t.latency_budget_ms)} ms{_against('latency', t)}"]
    if t.constraints.get("dtype", 0.0) > 0:
        figures.append("a data type the device does not support")
    out.append(f"<p>The trial that came closest (smallest summed excess over the budgets) is trial {t.number} "
               f"({html.escape(keep_cell(t))}, window {html.escape(str(t.params.get('window_seconds', '-')))} s, "
               f"{html.escape(str(t.params.get('precision', '-')))}): {html.escape('; '.join(figures))}. "
               f"Verdict: {html.escape(t.verdict)}.</p>")
    return out


def _against(name: str, t: TrialRecord) -> str:
    """`` (5 % over its budget)`` / `` (20 % under)`` from the recorded relative excess."""
    v = t.constraints.get(name)
    if v is None:
        return ""
    return f" ({100 * v:.0f} % over its budget)" if v > 0 else f" ({100 * -v:.0f} % under it)"


def chosen_section(d: DeviceSearch) -> list[str]:
    c = chosen_trial(d)
    if c is None:
        return []
    out = [f"<h3>Chosen: trial {c.number}</h3>",
           f"<p>Validation UA {_ua(c.val_ua)} %, test UA {_ua(c.test_ua)} %, latency per utterance "
           f"{_num(c.latency_per_utterance_ms)} ms. The study ranks by validation UA (the highest that fits; "
           "a tie goes to the lower latency); the test UA is reported, never ranked by.</p>",
           f"<p>Recipe: <code>{html.escape(d.chosen_recipe or c.recipe)}</code> (reproduce with "
           f"<code>sercompress compress --recipe {html.escape(d.chosen_recipe or c.recipe)}</code>).</p>"]
    k = d.comparison
    if k is None:
        out.append('<p class="note">No paired comparison with a same-budget float control (the recipe '
                   "has no fine-tuning budget, or the predictions were not on the same clips).</p>")
    else:
        out.append(comparison_text(k, "the float control fine-tuned with the same budget"))
    if d.vs_reference is not None:
        out.append(comparison_text(d.vs_reference, "the reference as trained (not fine-tuned)"))
    if d.check_command or d.check:
        out.append(f"<pre>$ {html.escape(d.check_command or '')}\n{html.escape((d.check or '').rstrip())}</pre>")
    return out


def comparison_text(k: ControlComparison, against: str) -> str:
    verdict = ("significant: the interval excludes zero" if k.significant
               else "not significant: the interval includes zero")
    return text_with_code(
        f"Test UA against {against} (`{k.control}`, UA {_ua(k.control_ua)} %): {100 * k.ua_difference:+.1f} "
        f"points [{100 * k.low:+.1f}, {100 * k.high:+.1f}] ({k.level:.0%} bootstrap interval, paired on the "
        f"same test clips, resampling {RESAMPLED.get(k.unit, k.unit)}), {verdict}.").join(("<p>", "</p>"))


def mixed_section(r: SearchResult) -> list[str]:
    """Which blocks the mixed-precision candidates compute in int16, and the measurement that chose them."""
    m = r.int16_sensitivity
    if m is None:
        return [] if not r.int16_blocks else \
            ["<h2>Mixed precision</h2>", f"<p>int16 in {html.escape('+'.join(r.int16_blocks))} (given by the space).</p>"]
    rows = [[b.block, f"{b.error:.4f}", "int16" if b.block in m.chosen else ""] for b in m.blocks]
    return ["<h2>Mixed precision</h2>",
            f"<p>Mixed candidates compute {html.escape('+'.join(m.chosen) or 'nothing (no block gains)')} with "
            f"int16 activations, int8 elsewhere: the blocks whose int16 brings the reference's class "
            f"probabilities closest to the float model's (mean absolute difference on {m.probe_clips} training "
            f"clips; all int8 {m.int8_error:.4f}, all int16 {m.int16_error:.4f}).</p>",
            html_table(["block alone in int16", "error", "chosen"], rows)]


def search_html(r: SearchResult) -> str:
    """The whole page, rendered in memory (the caller writes it atomically)."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>sercompress search</title>", f"<style>{CSS}pre{{background:#f7f7f7;padding:0.6em;"
           "overflow-x:auto;font-size:0.85em}</style></head><body>",
           "<h1>sercompress search</h1>", f'<p class="note">{text_with_code(intro(r))}</p>',
           "<h2>Devices</h2>", html_table(*overview_grid(r)), *mixed_section(r)]
    for d in r.devices:
        out += device_section(d)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
