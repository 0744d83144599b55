"""Baselines against Light-SERNet: size, MACs, training throughput and TFLite sizes.

Prints, for the reference and each `baselines/*.toml` at its input (3 s): parameters, MACs
(`models.count_macs`, conv/dense/pooling only), training clips/s (batch 32, Adam, random arrays
so only the network is measured; the first, graph-tracing epoch excluded), the seconds one epoch
of ~900 clips would take, and the float32 / full-int8 TFLite sizes (fixed batch-1 signature,
which the LSTM needs to fuse into a TFLite builtin).

    python bench/baselines.py [--clips 128] [--no-convert]

Throughput depends on what else runs on the machine: the load average is printed with it.
"""

from __future__ import annotations

import argparse
import gzip
import os
import time

import numpy as np


def convert(model, int8: bool, rep: np.ndarray) -> bytes:
    from sercompress.tf_env import tf

    t = tf()
    fn = t.function(lambda z: model(z, training=False))
    cf = fn.get_concrete_function(t.TensorSpec([1, *model.input_shape[1:]], t.float32))
    c = t.lite.TFLiteConverter.from_concrete_functions([cf], model)
    if int8:
        c.optimizations = [t.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([rep[i : i + 1]] for i in range(len(rep)))
        c.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(c.convert())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=128)
    ap.add_argument("--no-convert", action="store_true")
    args = ap.parse_args()

    from sercompress.baseline import list_baselines
    from sercompress.features import FeatureConfig
    from sercompress.models import build_model, count_macs

    entries = [("light_sernet", "light_sernet", "mfcc", {})]
    entries += [(s.name, s.model, s.input_type, s.hparams) for s in list_baselines()]
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'model':15s} {'input':>14s} {'params':>10s} {'MACs':>12s} {'clips/s':>8s} {'s/900':>7s} "
          f"{'tflite f32':>11s} {'int8':>9s} {'int8 gz':>9s}")
    rng = np.random.default_rng(0)
    for name, arch, input_type, hp in entries:
        shape = FeatureConfig(input_type=input_type, duration_s=3.0).shape
        model = build_model(arch, shape, 4, **hp)
        x = rng.standard_normal((args.clips, *shape)).astype("float32")
        y = rng.integers(0, 4, args.clips)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        t = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        rate = args.clips / (time.perf_counter() - t)
        sizes = ("-", "-", "-")
        if not args.no_convert:
            f32, i8 = convert(model, False, x[:16]), convert(model, True, x[:16])
            sizes = (f"{len(f32):,}", f"{len(i8):,}", f"{len(gzip.compress(i8)):,}")
        print(f"{name:15s} {'x'.join(map(str, shape)):>14s} {model.count_params():>10,} "
              f"{count_macs(model):>12,} {rate:>8.1f} {900 / rate:>7.0f} {sizes[0]:>11s} {sizes[1]:>9s} "
              f"{sizes[2]:>9s}", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
