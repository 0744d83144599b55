"""Benchmark of the CI gate: false alarms, power, and the width of the accuracy intervals.

1. **False alarms.** ``--runs`` fresh-process quick runs (``sercompress run --config quick``)
   are compared with the reference summary (default: the committed
   ``reports/ci-reference/summary.json``) under ``configs/ci-tolerance.toml``. A
   seeded run repeats exactly on one machine, which would make this trivially 0;
   so runs after the first perturb the floating-point arithmetic the way another
   CPU of the same kind does: oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``: other
   kernels, other rounding) and / or one core (``taskset``: other reduction
   splits). Each run prints how far its figures moved (max |UA change|, gzip
   size change), to show the weights really differ. Target: 0 false alarms.
2. **Detection.** In each run, a deliberately damaged variant replaces
   ``prune-80``: the run's own reference with 95 % of every kernel's weights
   zeroed by magnitude and *no* fine-tuning, exported to TFLite and evaluated on
   the same test clips. Target: flagged in every run.
3. **Interval widths** of UA (95 %, the report's bootstrap) at the quick size
   (400 test clips), at the default config's size (fold 0: the same two test
   speakers with 22 clips per emotion = 176 clips, the subset ``k < 22`` of the
   quick clips) and at the former quick size (64 clips, ``k < 8``).

    python bench/gate.py [--runs 5] [--jobs 1] [--out /tmp/gate-bench] [--reference FILE] [--tolerance FILE]

Wall times on a shared machine are inflated by the load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Per run: (label, extra environment, taskset CPU list or None)
PERTURBATIONS = (
    ("as committed", {}, None),
    ("oneDNN off", {"TF_ENABLE_ONEDNN_OPTS": "0"}, None),
    ("1 core", {}, "0"),
    ("oneDNN off, 1 core", {"TF_ENABLE_ONEDNN_OPTS": "0"}, "1"),
    ("repeat", {}, None),
)
DAMAGED = "prune-80"
SPARSITY = 0.95


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from sercompress.report.compare import compare_summaries, load_tolerance
    from sercompress.report.summary import Summary

    reference = Summary.load(args.reference)
    tol = load_tolerance(args.tolerance)
    alarms, detected, rows = 0, 0, []
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each run is its own process
        list(pool.map(lambda i: quick_run(args.out / f"run-{i}", *PERTURBATIONS[i % len(PERTURBATIONS)][1:]),
                      range(args.runs)))
    print(f"{args.runs} quick runs ({args.jobs} at a time) in {time.time() - t0:.0f} s wall (inflated by load)")
    for i in range(args.runs):
        label = PERTURBATIONS[i % len(PERTURBATIONS)][0]
        out = args.out / f"run-{i}"
        t0 = time.time()
        cand = Summary.load(out)
        res = compare_summaries(cand, reference, tol)
        alarms += not res.ok
        damaged = damage(cand, out)
        dres = compare_summaries(damaged, reference, tol)
        hit = any(d.variant == DAMAGED and d.metric == "ua_pct" for d in dres.regressions)
        detected += hit
        drift = figure_drift(cand, reference)
        row = (f"run {i} ({label}): {'ALARM' if not res.ok else 'no alarm'}; damaged {DAMAGED} "
               f"UA {100 * damaged.variant(DAMAGED).accuracy.ua:.1f} % -> {'flagged' if hit else 'MISSED'}; "
               f"max |dUA| {drift['ua']:.2f} pt, max |d gzip| {drift['gzip']:.3f} %, "
               f"clips changed {drift['clips']}")
        rows.append(row)
        print(row, flush=True)
        for d in res.regressions:
            print(f"    regression: {d.message()}")
    print()
    print(f"false alarms: {alarms} / {args.runs} fresh-process quick runs (target 0)")
    print(f"damaged variant ({int(SPARSITY * 100)} % pruning, no fine-tuning) flagged: {detected} / {args.runs} "
          "(target: every run)")
    widths(reference)
    return 0 if alarms == 0 and detected == args.runs else 1


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--jobs", type=int, default=1, help="quick runs at a time")
    p.add_argument("--out", type=Path, default=Path("/tmp/gate-bench"))
    p.add_argument("--reference", type=Path, default=ROOT / "reports" / "ci-reference" / "summary.json")
    p.add_argument("--tolerance", type=Path, default=ROOT / "configs" / "ci-tolerance.toml")
    return p.parse_args(argv)


def quick_run(out: Path, env: dict[str, str], cpus: str | None) -> None:
    """A fresh-process quick run (reused when ``out`` already holds a finished one)."""
    if (out / "summary.json").is_file():
        return
    # Each run gets its own empty store: a shared one would hand run 2 run 1's finished work.
    cmd = [sys.executable, "-m", "sercompress", "run", "--config", "quick", "--out", str(out), "--quiet",
           "--store", str(out.with_name(out.name + "-store"))]
    if cpus is not None:
        cmd = ["taskset", "-c", cpus, *cmd]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"quick run failed ({out}):\n{proc.stderr[-3000:]}")


def damage(summary, run_dir: Path):
    """``summary`` with DAMAGED's accuracy replaced by that of the pruned-without-fine-tuning reference."""
    from sercompress.export.runtime import run_tflite
    from sercompress.export.tflite import to_tflite
    from sercompress.metrics import classification_metrics
    from sercompress.predictions import ClipPredictions
    from sercompress.train import load_reference

    ref = load_reference(run_dir / "reference")
    model = ref.fresh_model()
    for layer in model.layers:
        if hasattr(layer, "kernel"):
            w = layer.get_weights()
            k = w[0]
            w[0] = np.where(np.abs(k) >= np.quantile(np.abs(k), SPARSITY), k, 0).astype(k.dtype)
            layer.set_weights(w)
    path = run_dir / "damaged.tflite"
    path.write_bytes(to_tflite(model))
    keep = summary.variant(DAMAGED).accuracy.predictions
    data = ref.data()
    probs = run_tflite(path, data.test.x)
    p = ClipPredictions.from_arrays(keep.clip_ids, keep.speakers, data.test.y, probs)
    acc = classification_metrics(p.labels, p.predicted, data.classes).model_copy(update={"predictions": p})
    variants = tuple(v.model_copy(update={"accuracy": acc}) if v.name == DAMAGED else v for v in summary.variants)
    return summary.model_copy(update={"variants": variants})


def figure_drift(cand, ref) -> dict[str, float]:
    ua, gz, clips = 0.0, 0.0, 0
    for v in ref.variants:
        try:
            c = cand.variant(v.name)
        except KeyError:
            continue
        ua = max(ua, 100 * abs(c.accuracy.ua - v.accuracy.ua))
        gz = max(gz, 100 * abs(c.sizes.gzip_bytes - v.sizes.gzip_bytes) / v.sizes.gzip_bytes)
        a, b = v.accuracy.predictions, c.accuracy.predictions
        if a is not None and b is not None and a.same_clips(b):
            clips = max(clips, sum(x != y for x, y in zip(a.predicted, b.predicted)))
    return {"ua": ua, "gzip": gz, "clips": clips}


def widths(summary) -> None:
    """UA interval widths of every variant at 400, 176 and 64 test clips."""
    from sercompress import stats

    print()
    print("UA 95 % interval width (points; bootstrap unit in brackets), per variant:")
    print(f"{'variant':22s} {'400 (quick)':>16s} {'176 (default)':>16s} {'64 (old quick)':>16s}")
    per_size: dict[int, list[float]] = {400: [], 176: [], 64: []}
    for v in summary.variants:
        p = v.accuracy.predictions if v.accuracy else None
        if p is None:
            continue
        k_of = np.array([int(re.search(r"_(\d+)\.wav$", c).group(1)) for c in p.clip_ids])
        cells = []
        for size, limit in ((400, 50), (176, 22), (64, 8)):
            sel = k_of < limit
            iv = stats.intervals(np.array(p.labels)[sel], np.array(p.predicted)[sel], p.n_classes,
                                 [s for s, ok in zip(p.speakers, sel) if ok])["ua"]
            per_size[size].append(100 * iv.width)
            cells.append(f"{100 * iv.width:6.1f} [{iv.unit[:7]}]")
        print(f"{v.name:22s} " + " ".join(f"{c:>16s}" for c in cells))
    print("mean width: " + ", ".join(f"{size} clips {np.mean(w):.1f} pt" for size, w in per_size.items() if w))
    print(json.dumps({"mean_ua_interval_width_pt": {str(k): round(float(np.mean(w)), 2)
                                                     for k, w in per_size.items() if w}}))


if __name__ == "__main__":
    sys.exit(main())
