"""Benchmark: `sercompress search` on a finished reference (issue 15's "done means").

For each ``--hw`` device, runs (or resumes) the search in ``--out`` with the store in
``--store`` and prints the trials (params, UA of the exported file, latency per
utterance, RAM, flash, verdict), the wall time, the Pareto front, the chosen variant's
`check` verdict and its test UA with the paired difference to the same-budget float
control and to the reference's float32 file, and the smallest-RAM feasible trial whose
test UA is within 1 point of each (point estimates; the paired intervals are the chosen
variant's only). The
study ranks and chooses by validation UA; test UA is printed, never ranked by.

    python bench/search.py --run-dir RUN --out DIR [--store DIR] [--hw nrf52840 ...]
                           [--trials 8] [--epochs 12] [--seed 0] [--workers N]

Candidates train in a local pool of ``--workers`` processes (default one per core; 1 = in
this process), ``workers`` at a time.

Re-running the same command resumes: finished trials are read from the study journal,
and their variants from the store. Wall times depend on the machine's load; the figures
(measured on the files) do not.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run-dir", required=True, help="finished reference run directory (read only)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--store", default=None)
    ap.add_argument("--hw", action="append", default=None, help="device (repeatable; default nrf52840)")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=None,
                    help="fine-tuning epochs of every candidate (default: SearchSpace's, 12; bench/finetune.py)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="candidates at once (default: one per core)")
    args = ap.parse_args()

    from contextlib import nullcontext

    from sercompress.executors import open_executor, worker_count
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search import SearchSpace, run_search
    from sercompress.train import load_reference

    reference = load_reference(args.run_dir)
    space = SearchSpace() if args.epochs is None else SearchSpace(finetune_epochs=args.epochs)
    in_process = worker_count(args.workers) == 1
    with nullcontext(None) if in_process else open_executor("local", workers=args.workers) as executor:
        for name in args.hw or ["nrf52840"]:
            t0 = time.perf_counter()
            result = run_search(reference, [get_hw_profile(name)], space, f"{args.out}/{name}",
                                store=args.store or f"{args.out}/store", n_trials=args.trials, seed=args.seed,
                                executor=executor)
            report(result.devices[0], time.perf_counter() - t0, reference.metrics.ua)


def report(d, wall_s: float, reference_ua: float) -> None:
    print(f"\n== {d.hardware}: {len(d.trials)} trials, {sum(t.feasible for t in d.trials)} fit, "
          f"wall {wall_s:.0f} s (shared machine; includes resumed work); reference Keras UA {reference_ua:.3f}")
    print(f"{'#':>3} {'paths':>6} {'lflb':>6} {'win s':>6} {'hop':>4} {'prec':>8} {'share':>9} {'valUA':>6} {'testUA':>6} "
          f"{'ms/utt':>9} {'RAM KiB':>8} {'flash KiB':>9}  verdict")
    for t in d.trials:
        p = t.params
        lat = "-" if t.latency_per_utterance_ms is None else f"{t.latency_per_utterance_ms:.0f}"
        kib = (lambda b: "-" if b is None else f"{b / 1024:.0f}")
        mark = "*" if t.number in d.front else " "
        print(f"{t.number:>3}{mark}{p.get('keep_paths', '-'):>6} {p.get('keep_lflb', '-'):>6} "
              f"{p['window_seconds']:>6} {p['hop_fraction']:>4} {p['precision']:>8} {p.get('weight_sharing', '-'):>9} {t.val_ua:>6.3f} {t.test_ua:>6.3f} {lat:>9} "
              f"{kib(t.ram_bytes):>8} {kib(t.flash_bytes):>9}  {t.verdict}")
    print(f"front (*): {list(d.front)}")
    if d.chosen is None:
        print("chosen: none fits")
        return
    c = next(t for t in d.trials if t.number == d.chosen)
    print(f"chosen: trial {c.number}, validation UA {c.val_ua:.3f}, test UA {c.test_ua:.3f}, "
          f"recipe {d.chosen_recipe}")
    print(f"$ {d.check_command}")
    print(d.check.rstrip())
    for what, r in (("same-budget float control", d.comparison), ("reference as trained", d.vs_reference)):
        if r is not None:
            print(f"vs {what} {r.control} (UA {r.control_ua:.3f}): {r.ua_difference:+.3f} "
                  f"[{r.low:+.3f}, {r.high:+.3f}] ({r.level:.0%}, {r.unit}){' significant' if r.significant else ''}")
    for what, k in (("the same-budget control", d.comparison), ("the reference's float32 file", d.vs_reference)):
        if k is None:
            continue
        near = [t for t in d.trials if t.feasible and t.test_ua >= k.control_ua - 0.01 and t.ram_bytes is not None]
        if near:
            s = min(near, key=lambda t: t.ram_bytes)
            print(f"smallest-RAM feasible trial within 1 point of {what} (test UA, point estimates): "
                  f"trial {s.number}, RAM {s.ram_bytes / 1024:.0f} KiB, test UA {s.test_ua:.3f} vs {k.control_ua:.3f}")
        else:
            print(f"no feasible trial within 1 point of {what} ({k.control_ua:.3f})")

if __name__ == "__main__":
    main()
