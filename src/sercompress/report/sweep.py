"""The sweep's report: the cross-validation section of ``OUT/index.html`` and ``OUT/sweep-summary.md``.

Rendered from :class:`~sercompress.sweep.record.SweepSummary` alone (nothing recomputed).
Tables: each entry's mean +- sd of UA / WA / F1 over the runs with its pooled paired
difference to float32 and to its same-budget control (called better or worse only when the
interval excludes zero), UA per fold, device fit and budgets (from one run: they do not vary
by fold), the paper's published figures beside ours when the corpus has them, and links to
every run's own report. No TensorFlow.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from ..errors import SummaryError
from ..storage import atomic_write_text
from ..sweep.record import (
    SWEEP_SUMMARY_FILE,
    PooledDifference,
    Spread,
    SweepEntry,
    SweepSummary,
)
from .html import CSS, html_table, text_with_code
from .tables import Grid, budgets_grid, fit_cell, kib, md_table, mega, ms, pct

SWEEP_MARKDOWN = "sweep-summary.md"
SWEEP_HTML = "index.html"


@dataclass(frozen=True)
class SweepReportFiles:
    summary_json: Path
    summary_md: Path
    index_html: Path


def render_sweep_report(summary: SweepSummary, out_dir: str | Path) -> SweepReportFiles:
    """Write the three files, each atomically, after every one rendered in memory."""
    out = Path(out_dir)
    files = SweepReportFiles(out / SWEEP_SUMMARY_FILE, out / SWEEP_MARKDOWN, out / SWEEP_HTML)
    for f in vars(files).values():
        if f.exists() and not f.is_file():
            raise SummaryError("exists and is not a regular file; cannot write the sweep report there", path=f)
    texts = {files.summary_json: summary.to_json(), files.summary_md: sweep_markdown(summary),
             files.index_html: sweep_html(summary)}
    for path, text in texts.items():
        atomic_write_text(path, text)
    return files


# -- cells --------------------------------------------------------------------
def spread_cell(s: Spread) -> str:
    """``72.3 ± 4.1`` percent (sd over the runs; a single run has none)."""
    return pct(s.mean) + ("" if s.sd is None else f" ± {100 * s.sd:.1f}")


def pooled_cell(d: PooledDifference | None) -> str:
    if d is None:
        return "-"
    verdict = ("better" if d.low > 0 else "worse") if d.significant else "n.s."
    return f"{100 * d.value:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}] {verdict}"


def control_cell(e: SweepEntry) -> str:
    return "-" if e.vs_control is None else f"{pooled_cell(e.vs_control)} vs `{e.vs_control.against}`"


# -- grids --------------------------------------------------------------------
def cv_grid(s: SweepSummary) -> Grid:
    header = ["entry", "family", "form", "runs", "UA % (mean ± sd)", "WA %", "F1 %",
              "UA vs float32, pt [95 % CI]", "UA vs same-budget control, pt [95 % CI]", "gzip (mean)", "file",
              "params (non-zero)", "MACs", "peak RAM", "LiteRT ms"]
    rows = [[e.name, e.family, e.dtype, str(e.ua.n), spread_cell(e.ua), spread_cell(e.wa), spread_cell(e.f1),
             pooled_cell(e.vs_reference), control_cell(e), kib(e.gzip_bytes.mean), kib(e.sizes.file_bytes),
             f"{e.params:,} ({e.nonzero_params:,})", mega(e.macs), kib(e.peak_ram_bytes), ms(e.host_median_ms())]
            for e in s.entries]
    return header, rows


def fold_grid(s: SweepSummary) -> Grid:
    """UA per fold (the mean over seeds where there are several)."""
    folds = s.sweep.folds
    header = ["entry", *(f"fold {f}" for f in folds)]
    rows = []
    for e in s.entries:
        cells = []
        for f in folds:
            values = [r.ua for r in e.runs if r.fold == f]
            cells.append(pct(sum(values) / len(values)) if values else "-")
        rows.append([e.name, *cells])
    return header, rows


def fit_grid(s: SweepSummary) -> Grid:
    names = [p.name for p in s.profiles]
    return ["entry", *names], [[e.name, *(fit_cell(e, p) for p in names)] for e in s.entries]  # type: ignore[arg-type]


def paper_grid(s: SweepSummary) -> Grid | None:
    """The paper's figures and ours (float32 Light-SERNet, mean ± sd over this sweep's runs) side by side."""
    if s.paper is None:
        return None
    ref = next((e for e in s.entries if e.family == "reference" and e.dtype == "float32"), None)
    num = lambda x: "not recorded" if x is None else f"{x:.2f}"
    rows = [[p.source, p.setting, num(p.ua), num(p.wa), num(p.f1)] for p in s.published]
    if not rows:
        rows.append(["the paper", s.paper.setting, *["not recorded (sercompress.paper.PUBLISHED)"] * 3])
    if ref is not None:
        rows.append([f"this sweep: `{ref.name}`, {len(s.sweep.folds)} folds x {len(s.sweep.seeds)} seed(s)",
                     f"config {s.sweep.config_name}", spread_cell(ref.ua), spread_cell(ref.wa), spread_cell(ref.f1)])
    return ["source", "setting", "UA %", "WA %", "F1 %"], rows


def paper_differences(s: SweepSummary) -> tuple[str, ...]:
    """Where this sweep's protocol differs from the paper's experiment (travels with its figures)."""
    if s.paper is None:
        return ()
    return tuple(dict.fromkeys([*s.paper.differences, *(d for p in s.published for d in p.differences)]))


def runs_grid(s: SweepSummary) -> Grid:
    ref = next((e for e in s.entries if e.family == "reference"), None)
    rows = []
    for name in s.sweep.runs:
        figure = next((r for r in ref.runs if r.run == name), None) if ref else None
        rows.append([name, f"runs/{name}/index.html", pct(figure.ua) if figure else "n/a"])
    return ["run", "report", f"UA % of {ref.name if ref else 'the reference'}"], rows


def timings_grid(s: SweepSummary) -> Grid:
    return ["stage", "seconds"], [[k, f"{v:,.1f}"] for k, v in s.sweep.timings_s.items()]


# -- text -------------------------------------------------------------------
def intro(s: SweepSummary) -> str:
    i = s.sweep
    synthetic = (" The synthetic corpus is not speech from people: its figures are not comparable with "
                 "published results." if i.dataset == "synthetic" else "")
    unit = next((e.vs_control.unit for e in s.entries if e.vs_control), "clip-stratified")
    how = "test speakers" if unit == "speaker" else "test clips within class"
    return (f"Dataset {i.dataset}, {len(i.classes)} classes; {len(i.folds)} fold(s) ({', '.join(map(str, i.folds))})"
            f" x {len(i.seeds)} seed(s) ({', '.join(map(str, i.seeds))}) = {len(i.runs)} runs on the "
            f"{i.executor} executor. UA = unweighted accuracy on the exported artifact, mean ± sample sd over "
            "the runs. Differences are the mean over runs of the paired UA difference on the same clips, with a "
            f"95 % bootstrap interval resampling {how} within each fold (every seed of a fold drawn alike), "
            "called better or worse only when it excludes zero (n.s. = not significant). Sizes, host timing and "
            f"device fit do not vary by fold and come from run {i.devices_from}.{synthetic}")


def conclusion(s: SweepSummary) -> str:
    ref = next((e for e in s.entries if e.family == "reference" and e.dtype == "float32"), None)
    out = []
    if ref is not None:
        out.append(f"The float32 reference `{ref.name}` reaches UA {spread_cell(ref.ua)} % over {ref.ua.n} runs.")
    judged = [e for e in s.entries if e.family == "compressed" and e.vs_control is not None]
    worse = [e for e in judged if e.vs_control.significant and e.vs_control.value < 0]
    better = [e for e in judged if e.vs_control.significant and e.vs_control.value > 0]
    if judged:
        out.append(f"Against its same-budget control, {len(worse)} of {len(judged)} compressed variants "
                   "lose UA significantly" + (": " + ", ".join(f"`{e.name}` ({pooled_cell(e.vs_control)})"
                                                              for e in worse) if worse else "")
                   + (f"; {len(better)} gain significantly ("
                      + ", ".join(f"`{e.name}`" for e in better) + ")" if better else "") + ".")
    return " ".join(out)


def sweep_markdown(s: SweepSummary) -> str:
    parts = [f"# sercompress sweep: {s.sweep.config_name}", "", intro(s), "", "## Conclusion", "", conclusion(s), "",
             "## Cross-validation", "", md_table(*cv_grid(s)), "", "## UA % per fold", "", md_table(*fold_grid(s)), ""]
    if s.profiles:
        parts += [f"## Device fit (run {s.sweep.devices_from})", "", md_table(*fit_grid(s)), "",
                  "## Hardware budgets", "", md_table(*budgets_grid(s)), ""]  # type: ignore[arg-type]
    paper = paper_grid(s)
    if paper:
        parts += ["## The paper's figures beside ours", "", md_table(*paper), "",
                  "Where our protocol differs from the paper's:", ""]
        parts += [f"- {d}" for d in paper_differences(s)] + [""]
    parts += ["## Runs", "", md_table(*runs_grid(s)), ""]
    if s.sweep.timings_s:
        parts += ["## Timings", "", md_table(*timings_grid(s)), ""]
    return "\n".join(parts)


def sweep_html(s: SweepSummary) -> str:
    name = html.escape(s.sweep.config_name)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>sercompress sweep: {name}</title>", f"<style>{CSS}</style></head><body>",
           f"<h1>sercompress sweep: {name}</h1>", f'<p class="note">{html.escape(intro(s))}</p>',
           f'<h2>Conclusion</h2><p class="conclusion">{text_with_code(conclusion(s))}</p>',
           "<h2>Cross-validation</h2>", html_table(*cv_grid(s)),
           "<h2>UA % per fold</h2>", html_table(*fold_grid(s))]
    if s.profiles:
        out += [f"<h2>Device fit (run {html.escape(s.sweep.devices_from)})</h2>", html_table(*fit_grid(s)),
                "<h2>Hardware budgets</h2>", html_table(*budgets_grid(s))]  # type: ignore[arg-type]
    paper = paper_grid(s)
    if paper:
        out += ["<h2>The paper's figures beside ours</h2>", html_table(*paper),
                "<p>Where our protocol differs from the paper's:</p>", "<ul>"]
        out += [f"<li>{text_with_code(d)}</li>" for d in paper_differences(s)]
        out.append("</ul>")
    header, rows = runs_grid(s)
    links = [[html.escape(r[0]), f'<a href="{html.escape(r[1])}">{html.escape(r[1])}</a>', html.escape(r[2])]
             for r in rows]
    out += ["<h2>Runs</h2>", "<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header)
            + "</tr></thead><tbody>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in links)
            + "</tbody></table>"]
    if s.sweep.timings_s:
        out += ["<h2>Timings</h2>", html_table(*timings_grid(s))]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
