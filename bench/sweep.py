"""Benchmark: a 5-fold quick sweep with the local executor and with a local Ray instance.

For each executor, a cold sweep (its own empty store) of ``--config quick`` over every fold
(the synthetic corpus has 5) and one seed; prints the wall time of each stage and in all,
the work units' own time (wall and CPU seconds inside the workers, from the unit events), and
what the executor added per unit: the work-units stage's wall times its slots, less the
units' own time, per unit (scheduling, worker start-up and the TensorFlow import in each
worker, and slots idle while units wait for the reference they build on); then the no-op
round trip per task of ``bench/executors.py`` (pure scheduling). Last, each entry's UA mean ±
sd over the folds, and whether both executors gave the same files (sha256) and figures.

    .venv/bin/python bench/sweep.py [--config quick] [--folds all] [--seeds 0] [--out reports/bench-sweep]
                                    [--executors local,ray] [--workers N]

Wall times depend on what else runs on the machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

from sercompress.progress import Progress
from sercompress.runconfig import load_run_config
from sercompress.sweep.execute import sweep
from sercompress.sweep.record import SweepSummary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="quick")
    ap.add_argument("--folds", default="all", help="'all' or comma-separated fold numbers")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--out", default="reports/bench-sweep", help="base directory (one sweep and store per executor)")
    ap.add_argument("--executors", default="local,ray")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--tasks", type=int, default=50, help="no-op tasks for the pure scheduling overhead")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # an executor's figures survive stopping the next one (Ctrl-C)

    config = load_run_config(args.config)
    folds = "all" if args.folds == "all" else tuple(int(f) for f in args.folds.split(","))
    seeds = tuple(int(s) for s in args.seeds.split(","))
    base = Path(args.out)
    summaries = {}
    for kind in args.executors.split(","):
        out, store = base / kind, base / f"{kind}-store"
        for d in (out, store):  # cold: nothing reused from an earlier bench
            shutil.rmtree(d, ignore_errors=True)
        events = io.StringIO()
        progress = Progress(log_json=True, stream=events)
        load = os.getloadavg()[0]
        t0, cpu0 = time.perf_counter(), _cpu()
        outcome = sweep(config, out, folds=folds, seeds=seeds, executor=kind, workers=args.workers, store=store,
                        progress=progress)
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
        summaries[kind] = s = SweepSummary.load(outcome.summary_path)
        units = [e for e in map(json.loads, events.getvalue().splitlines()) if e["event"] == "unit" and "seconds" in e]
        print(f"\n== {kind}: {len(s.sweep.runs)} runs ({config.name}, folds {s.sweep.folds}, seeds {s.sweep.seeds}); "
              f"{os.cpu_count()} cores, load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end ==")
        print(f"total {wall:.0f} s wall, {cpu:.0f} s CPU (this process and its finished children)")
        for stage, seconds in progress.timings.items():
            print(f"  {stage:12s} {seconds:8.1f} s")
        _overhead(progress, units, args.workers or os.cpu_count() or 1)
        if outcome.failures or outcome.failed_units:
            print(f"FAILURES: {outcome.failures} {outcome.failed_units}")
    _noop_overhead(args)
    for kind, s in summaries.items():
        print(f"\n== per entry, UA % mean ± sd over {len(s.sweep.runs)} runs ({kind}) ==")
        for e in s.entries:
            sd = "" if e.ua.sd is None else f" ± {100 * e.ua.sd:4.1f}"
            vs = e.vs_control
            ctl = "" if vs is None else (f"   vs {vs.against}: {100 * vs.value:+.1f} [{100 * vs.low:+.1f}, "
                                         f"{100 * vs.high:+.1f}]{' significant' if vs.significant else ''}")
            print(f"  {e.name:24s} {100 * e.ua.mean:5.1f}{sd}{ctl}")
    if len(summaries) == 2:
        a, b = summaries.values()
        keep = {"host_latency", "fits"}
        same = a.folds == b.folds and [x.model_dump(exclude=keep) for x in a.entries] == \
            [y.model_dump(exclude=keep) for y in b.entries]
        print(f"\nsame files (sha256), predictions and figures under both executors: {same}")


def _overhead(progress: Progress, units: list[dict], slots: int) -> None:
    stage = progress.timings.get("work units")
    if not units or stage is None:
        return
    inside = sum(u["seconds"] for u in units)
    cpu = sum(u["cpu_seconds"] for u in units)
    print(f"  {len(units)} units: {inside:.0f} s wall / {cpu:.0f} s CPU inside the workers; the stage's "
          f"{stage:.0f} s x {slots} slots leaves {(stage * slots - inside) / len(units):.1f} s per unit to the "
          "executor (scheduling, worker start-up, TensorFlow import, slots idle waiting on dependencies)")


def _noop_overhead(args: argparse.Namespace) -> None:
    """The pure scheduling cost per task: ``bench/executors.py``'s no-op round trips."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import executors as bench_executors  # bench/executors.py
    except ImportError:
        print("\n(bench/executors.py not found: no no-op scheduling figure)")
        return
    from sercompress.executors import local_executor, ray_executor

    print("\n== no-op tasks (bench/executors.py): the scheduling cost alone ==")
    cpus = args.workers or os.cpu_count() or 1
    for kind in args.executors.split(","):
        start = (lambda: local_executor(cpus)) if kind == "local" else (lambda: ray_executor(None, cpus))
        bench_executors.measure(kind, start, args.tasks)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


if __name__ == "__main__":
    main()
