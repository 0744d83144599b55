"""Training throughput of the reference on this machine, and the cost of preparing the default corpus.

Prints:
  * Light-SERNet training clips/s at 3 s MFCC (batch 32, Adam), on random arrays
    so that only the network is measured (first epoch, which traces the graph,
    is reported separately);
  * inference clips/s of the same model (what each epoch's validation costs);
  * wall time of ``dataset.prepare(DataConfig())`` cold (generate the synthetic
    corpus and featurise it into an empty temporary cache) and warm (cache hits).

These are what the default epoch count and the run-time targets are sized
from. Usage: ``python bench/train_throughput.py [--clips N] [--epochs E] [--skip-data]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def train_throughput(clips: int, epochs: int, batch_size: int = 32) -> dict[str, float]:
    from sercompress.models import light_sernet
    from sercompress.tf_env import keras, seed_everything

    seed_everything(0)
    model = light_sernet(4)
    model.compile(optimizer=keras().optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(clips, *model.input_shape[1:])).astype(np.float32)
    y = rng.integers(0, 4, clips)
    t = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    first = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    steady, steady_cpu = time.perf_counter() - t, time.process_time() - cpu
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    t = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    infer = time.perf_counter() - t
    return {"first_epoch_s": first, "train_clips_per_s": clips * epochs / steady,
            "train_clips_per_cpu_s": clips * epochs / steady_cpu, "infer_clips_per_s": clips / infer}


def prepare_times() -> dict[str, float]:
    from sercompress.dataset import DataConfig, prepare

    with tempfile.TemporaryDirectory() as cache:
        cfg = DataConfig(cache_dir=cache)
        t = time.perf_counter()
        data = prepare(cfg)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        prepare(cfg)
        warm = time.perf_counter() - t
    return {"clips": len(data.train) + len(data.val) + len(data.test), "train": len(data.train),
            "val": len(data.val), "test": len(data.test), "cold_s": cold, "warm_s": warm}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=320, help="random clips per epoch (default: 320)")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs after the first (default: 2)")
    p.add_argument("--skip-data", action="store_true", help="do not time dataset.prepare")
    args = p.parse_args()

    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} (other work skews figures)")
    tp = train_throughput(args.clips, args.epochs)
    print(f"light_sernet 3 s MFCC, batch 32: first epoch {tp['first_epoch_s']:.1f} s (graph tracing); "
          f"training {tp['train_clips_per_s']:.0f} clips/s; inference {tp['infer_clips_per_s']:.0f} clips/s")
    print(f"training {tp['train_clips_per_cpu_s']:.0f} clips per CPU-second of this process (less sensitive to "
          f"other load; thread spinning under contention lowers it, so x{os.cpu_count()} cores = "
          f"{tp['train_clips_per_cpu_s'] * (os.cpu_count() or 1):.0f} clips/s is a rough lower bound when idle)")
    if not args.skip_data:
        d = prepare_times()
        per_epoch = d["train"] / tp["train_clips_per_s"] + d["val"] / tp["infer_clips_per_s"]
        print(f"default corpus: {d['clips']} clips ({d['train']} train / {d['val']} val / {d['test']} test); "
              f"prepare cold {d['cold_s']:.1f} s, warm {d['warm_s']:.2f} s")
        print(f"=> one epoch of the default reference ~ {per_epoch:.1f} s; "
              f"30 epochs ~ {30 * per_epoch / 60:.1f} min")


if __name__ == "__main__":
    main()
