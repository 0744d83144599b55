"""Benchmark: every shipped compression recipe on the default synthetic corpus.

Trains the reference (or reuses a finished run directory), runs each recipe
through ``compress.run_recipe`` (finished variants are reused, so a second run
only prints) and prints, per recipe, the figures measured on the exported
TFLite file: UA, WA, UA change against float32, bytes, gzip bytes, compression
ratio against float32 (raw and gzip), verified sparsity and distinct values per
output channel, and the wall time of the variant. Then the targets:

* ptq-int8 and qat-int8 within 1.0 point UA of float32 at >= 3.7x smaller raw;
* prune80-cluster16-qat >= 12x smaller in gzip bytes with UA within 2.0 points.

    python bench/compression.py [--run-dir DIR] [--out DIR] [--train-epochs N] [--epochs-scale 1.0]
                                [--recipes a,b]

The synthetic corpus is not speech from people: accuracies are only meaningful
relative to float32.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

#: Targets first, so a time-limited run reports them before the rest.
ORDER = ("float32", "ptq-int8", "qat-int8", "prune80-cluster16-qat", "ptq-dynamic", "ptq-float16",
         "prune-50", "prune-80", "prune-2of4", "cluster-16", "cluster-8", "prune80-cluster16",
         "prune80-qat", "cluster16-qat")
HEADER = (f"{'recipe':24s} {'file':6s} {'UA':>6s} {'WA':>6s} {'dUA':>6s} {'bytes':>10s} {'gzip':>10s} "
          f"{'x raw':>6s} {'x gzip':>6s} {'sparse':>7s} {'uniq':>5s} {'dtypes':14s} {'time s':>7s}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from sercompress.compress import run_recipe, shipped_recipes
    from sercompress.progress import Progress

    progress = Progress(quiet=not args.verbose)
    reference = reference_run(Path(args.run_dir), Path(args.cache_dir), args.train_epochs, progress)
    print(f"reference {reference.run_dir}: Keras test UA {reference.metrics.ua:.3f}, "
          f"WA {reference.metrics.wa:.3f}", flush=True)
    data = reference.data(cache_dir=args.cache_dir)
    shipped = shipped_recipes()
    names = args.recipes.split(",") if args.recipes else [n for n in ORDER if n in shipped] + sorted(
        set(shipped) - set(ORDER))
    rows: dict[str, dict] = {}
    print(HEADER, flush=True)
    for name in names:
        t0 = time.perf_counter()
        result = run_recipe(shipped[name], reference, args.out, epochs_scale=args.epochs_scale,
                            progress=progress, data=data)
        rows[name] = result.to_dict()
        base = rows.get("float32")
        for kind in ("tflite", "tflite_int8"):
            if kind in result.accuracy:
                print(line(name, kind, rows[name], base), flush=True)
        if time.perf_counter() - t0 < 1:
            print(f"{'':24s} (reused finished variant {result.directory.name})", flush=True)
    print()
    print_targets(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


def line(name: str, kind: str, row: dict, base: dict | None) -> str:
    acc, size, ver = row["accuracy"][kind], row["sizes"][kind], row["verification"][kind]
    d_ua = raw = gz = float("nan")
    if base is not None:
        b_acc, b_size = base["accuracy"]["tflite"], base["sizes"]["tflite"]
        d_ua = 100 * (acc["ua"] - b_acc["ua"])
        raw, gz = b_size["file_bytes"] / size["file_bytes"], b_size["gzip_bytes"] / size["gzip_bytes"]
    label = "int8" if kind == "tflite_int8" else "main"
    return (f"{name:24s} {label:6s} {acc['ua']:6.3f} {acc['wa']:6.3f} {d_ua:+6.1f} {size['file_bytes']:10,d} "
            f"{size['gzip_bytes']:10,d} {raw:6.2f} {gz:6.2f} {ver['sparsity']:7.1%} "
            f"{ver['max_unique_per_channel']:5d} {'/'.join(ver['weight_dtypes']):14s} {row['wall_time_s']:7.1f}")


def print_targets(rows: dict[str, dict]) -> None:
    base = rows.get("float32")
    if base is None:
        print("targets: float32 not run")
        return
    b_ua, b_size = base["accuracy"]["tflite"]["ua"], base["sizes"]["tflite"]
    targets = [("ptq-int8", 1.0, "file_bytes", 3.7), ("qat-int8", 1.0, "file_bytes", 3.7),
               ("prune80-cluster16-qat", 2.0, "gzip_bytes", 12.0)]
    for name, max_drop, measure, ratio in targets:
        if name not in rows:
            print(f"target {name}: not run")
            continue
        acc, size = rows[name]["accuracy"]["tflite"]["ua"], rows[name]["sizes"]["tflite"]
        drop, got = 100 * (b_ua - acc), b_size[measure] / size[measure]
        ok = drop <= max_drop and got >= ratio
        print(f"target {name:22s} UA drop {drop:+5.1f} pt (<= {max_drop}), {got:5.2f}x smaller "
              f"{'raw' if measure == 'file_bytes' else 'gzip'} (>= {ratio}x): {'MET' if ok else 'MISSED'}")


def reference_run(run_dir: Path, cache_dir: Path, epochs: int | None, progress):
    """A finished reference in ``run_dir``, trained there (default recipe) if missing."""
    from sercompress.dataset import DataConfig
    from sercompress.storage import is_done
    from sercompress.train import TrainConfig, load_reference, train_reference

    if is_done(run_dir):
        return load_reference(run_dir)
    train = TrainConfig() if epochs is None else TrainConfig(epochs=epochs)
    print(f"training the reference into {run_dir} (default synthetic corpus, {train.epochs} epochs) ...",
          flush=True)
    return train_reference(DataConfig(cache_dir=str(cache_dir)), train, run_dir, progress=progress)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", default=".cache/bench/reference", help="reference run directory (reused or trained)")
    p.add_argument("--out", default=".cache/bench/variants", help="variant output root")
    p.add_argument("--cache-dir", default=".cache", help="feature / corpus cache")
    p.add_argument("--train-epochs", type=int, default=None, help="reference epochs if it must be trained "
                   "(default: the training recipe's 30)")
    p.add_argument("--epochs-scale", type=float, default=1.0, help="scale every recipe's fine-tuning epochs")
    p.add_argument("--recipes", default="", help="comma-separated subset (default: every shipped recipe)")
    p.add_argument("--json", default="", help="also write every variant record to this JSON file")
    p.add_argument("--verbose", action="store_true", help="progress lines (epochs, steps)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
