"""The self-contained `index.html`: one file, images inlined as base64 PNG, opens offline.

No scripts, no external stylesheets or fonts: the page must render the same
from a CI artifact download, an e-mail attachment or an air-gapped laptop.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence

from . import plots
from .select import best_on_smallest_device, fitting, unfit_profiles
from .summary import Summary, VariantEntry
from .tables import (
    PUBLISHED_CAVEAT,
    budgets_grid,
    fit_grid,
    flash_section,
    intro_line,
    published_grid,
    timings_grid,
    variants_grid,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}
td.fits{background:#e3f4e8}td.miss{background:#fbe3e3}td.soft{background:#fdf3d8}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
.note{color:#555;font-size:0.9em}
.conclusion{background:#f7f9fc;border-left:4px solid #1f77b4;padding:0.6em 1em}
code{background:#f2f2f2;padding:0 3px}
"""


#: Fit-table cells by their first word (tables.fit_cell): fits green, misses red, the rest amber.
_CELL_CLASS = {"fits": "fits", "misses": "miss", "marginal": "soft", "unknown": "soft"}


def img_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def text_with_code(text: str) -> str:
    """Escape, then turn `name` (as the conclusion writes names) into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(c: str) -> str:
        word = str(c).split(":")[0].split(";")[0]
        cls = f' class="{_CELL_CLASS[word]}"' if word in _CELL_CLASS else ""
        return f"<td{cls}>{html.escape(str(c))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(png: bytes | None, alt: str, missing: str) -> str:
    return img_tag(png, alt) if png is not None else f'<p class="note">{html.escape(missing)}</p>'


def focus_variants(summary: Summary) -> list[VariantEntry]:
    """The reference and the best variant on the smallest device (if different)."""
    out = []
    ref = summary.reference()
    if ref is not None:
        out.append(ref)
    best = best_on_smallest_device(summary)
    if best is not None and best[0] not in out:
        out.append(best[0])
    return out


def render_html(summary: Summary, conclusion: str) -> str:
    run = summary.run
    s: list[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>sercompress report: {html.escape(run.config_name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>sercompress report: {html.escape(run.config_name)}</h1>",
        f'<p class="note">{html.escape(intro_line(summary))}</p>',
        f'<h2>Conclusion</h2><p class="conclusion">{text_with_code(conclusion)}</p>',
        "<h2>Size vs accuracy (Pareto front dashed)</h2>",
        _figure(plots.pareto_png(summary), "UA vs gzip size with the Pareto front", "No variant has an accuracy to plot."),
    ]
    s += _latency_section(summary)
    if summary.profiles:
        s += ["<h2>Fit matrix</h2>",
              _figure(plots.fit_matrix_png(summary), "fit matrix", "No fit results."),
              html_table(*fit_grid(summary))]
        missing = unfit_profiles(summary)
        if missing:
            s.append(f"<p><strong>No variant fits {html.escape(', '.join(missing))}.</strong></p>")
        s += _flash_section(summary)
    focus = focus_variants(summary)
    names = " and ".join(v.name for v in focus) or "no variant"
    s += [f"<h2>Per-layer MACs and RAM ({html.escape(names)})</h2>",
          _figure(plots.layers_png(focus), "per-layer MACs and RAM",
                  "Per-layer figures were not recorded for these variants."),
          f"<h2>Confusion matrices ({html.escape(names)})</h2>",
          _figure(plots.confusion_png(focus), "confusion matrices", "No confusion matrix was recorded.")]
    s += ["<h2>Variants</h2>", html_table(*variants_grid(summary))]
    if summary.profiles:
        s += ["<h2>Hardware budgets</h2>", html_table(*budgets_grid(summary))]
    pub = published_grid(summary)
    if pub:
        s += ["<h2>Baselines: published vs measured here</h2>",
              f'<p class="note">{html.escape(PUBLISHED_CAVEAT)}</p>', html_table(*pub)]
    if run.timings_s:
        s += ["<h2>Timings</h2>", html_table(*timings_grid(summary))]
    s += [_run_details(summary), "</body></html>"]
    return "\n".join(s) + "\n"


def _flash_section(summary: Summary) -> list[str]:
    """What each device stores per variant, so a gzip ratio is not read as flash saved."""
    note, flash = flash_section(summary)
    return ["<h2>Flash each device needs</h2>", f'<p class="note">{html.escape(note)}</p>',
            *([html_table(*flash)] if flash else [])]


def _latency_section(summary: Summary) -> list[str]:
    out: list[str] = []
    for prof in summary.profiles:
        out.append(f"<h2>Accuracy vs latency: {html.escape(prof.name)}</h2>")
        if not fitting(summary, prof.name):
            out.append(f"<p><strong>No variant fits {html.escape(prof.name)}</strong>; "
                       "see the fit matrix for which budgets fail.</p>")
            continue
        out.append(_figure(plots.latency_png(summary, prof), f"UA vs latency on {prof.name}",
                           f"No latency figure is available for {prof.name}."))
    return out


def _run_details(summary: Summary) -> str:
    run = summary.run
    rows = [["config", run.config_name], ["dataset", run.dataset], ["seed", str(run.seed)],
            ["machine", f"{run.machine.cpu_model}, {run.machine.cores} cores, {run.machine.platform}"],
            ["python", run.machine.python]]
    rows += [[k, v] for k, v in sorted(run.package_versions.items())]
    return "<h2>Run</h2>" + html_table(["", ""], rows)
