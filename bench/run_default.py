"""Benchmark: the default run end to end (what `make run` does).

Prints each stage's wall time, the total, the size and UA of every variant and
baseline, and the report's headline: the smallest variant within 1 point UA of
float32, its gzip ratio against float32 and the largest baseline, and the
devices it fits that float32 does not.

    .venv/bin/python bench/run_default.py [--config default] [--out reports/default] [--again DIR] [--workers N]

Re-running on a finished directory only re-renders (stage times near zero);
pass a fresh --out to time a cold run. ``--again DIR`` then runs the same
config into a second, fresh directory and times it (what a user's second run
costs when finished work is reused). Stage times are wall seconds: on a shared
machine they include other people's load (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import time

from sercompress.pipeline import run
from sercompress.progress import Progress
from sercompress.report.select import largest_baseline, smallest_keeping_accuracy
from sercompress.report.summary import Summary
from sercompress.runconfig import load_run_config

#: wall-time goals of issue 13 on a quiet 2-core machine
TARGET_S = {"default": 600, "quick": 180}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--out", default="reports/default")
    ap.add_argument("--again", default=None, metavar="DIR",
                    help="afterwards, run the same config into this fresh directory and time it")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes for the work units (default: one per core; 1: none)")
    args = ap.parse_args()

    config = load_run_config(args.config)
    load = os.getloadavg()[0]
    progress = Progress()
    t0 = time.perf_counter()
    outcome = run(config, args.out, progress=progress, workers=args.workers)
    total = time.perf_counter() - t0
    summary = Summary.load(outcome.summary_path)

    print(f"\n== stage wall times ({config.name}; {os.cpu_count()} cores, load average {load:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at the end) ==")
    print_timings(progress, total)
    target = TARGET_S.get(config.name)
    if target:
        print(f"target for '{config.name}' (issue 13, quiet 2-core machine): {target} s")
    if args.again:
        again = Progress(quiet=True)
        t1 = time.perf_counter()
        run(config, args.again, progress=again, workers=args.workers)
        print(f"\n== the same config again, into {args.again} ==")
        print_timings(again, time.perf_counter() - t1)

    print("\n== variants and baselines ==")
    print(f"{'name':28s} {'family':10s} {'dtype':12s} {'UA %':>6s} {'file B':>10s} {'gzip B':>10s}")
    for v in summary.variants:
        ua = f"{100 * v.accuracy.ua:6.1f}" if v.accuracy else "   n/a"
        print(f"{v.name:28s} {v.family:10s} {v.artifact.dtype:12s} {ua} {v.sizes.file_bytes:>10,} "
              f"{v.sizes.gzip_bytes:>10,}")

    ref = summary.reference()
    best = smallest_keeping_accuracy(summary)
    print("\n== headline ==")
    if ref is None or best is None:
        print("no variant keeps UA within 1 point of float32 and fits a device")
    else:
        print(f"smallest variant within 1 pt UA of float32: {best.name} "
              f"(UA {100 * best.accuracy.ua:.1f} % vs {100 * ref.accuracy.ua:.1f} %)")
        print(f"gzip size: {best.sizes.gzip_bytes:,} B = {ref.sizes.gzip_bytes / best.sizes.gzip_bytes:.1f}x "
              f"smaller than float32 ({ref.sizes.gzip_bytes:,} B)")
        big = largest_baseline(summary)
        if big is not None:
            print(f"  and {big.sizes.gzip_bytes / best.sizes.gzip_bytes:.1f}x smaller than the largest "
                  f"baseline, {big.name} ({big.sizes.gzip_bytes:,} B)")
        gained = [f.hardware for f in best.fits if f.fits and not ref.fit_on(f.hardware).fits]
        print(f"fits devices float32 does not: {', '.join(gained) or 'none'}")
    if outcome.failures:
        print("\nFAILED variants:", *outcome.failures, sep="\n  ")


def print_timings(progress: Progress, total: float) -> None:
    """Top-level stages (they add up), each with its nested stages indented (already inside it)."""
    cpu = progress.cpu_timings
    print(f"{'stage':28s} {'wall s':>8s} {'CPU s':>8s}")
    for stage, seconds in progress.timings.items():
        print(f"{stage:28s} {seconds:8.1f} {cpu.get(stage, 0):8.1f}")
        for key, inner in progress.nested_timings.items():
            if key.startswith(f"{stage}/"):
                print(f"  {key.split('/', 1)[1]:26s} {inner:8.1f} {cpu.get(key, 0):8.1f}")
    print(f"{'sum of stages':28s} {progress.stage_seconds():8.1f} {sum(cpu.get(k, 0) for k in progress.timings):8.1f}")
    print(f"{'total (wall)':28s} {total:8.1f}")


if __name__ == "__main__":
    main()
