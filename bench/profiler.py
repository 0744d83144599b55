"""Benchmark of the profiler: speed of the static profile and its error against ground truth.

Prints, for Light-SERNet (4 classes, 3 s MFCC input; random weights, int8 with int8
input/output, or the .tflite files given on the command line):

* wall time of ``profile_artifact`` (cold: first call in the process, and warm median);
* MACs of the static profile vs Arm Vela's count (ethos-u55-128);
* peak RAM of the arena planner vs TFLite Micro's measured arena (total and head), % error;
* Vela's latency / SRAM / flash estimate, for reference;
* host latency (LiteRT, 1 and all threads: median, p90, spread, peak RSS) and the per-layer
  latency model fitted on this machine, with its error on Light-SERNet held out of the fit.

Usage: ``python bench/profiler.py [model_int8.tflite ...]``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def build_light_sernet_int8(directory: Path) -> Path:
    """Light-SERNet at 3 s, int8, converted with the suite's exporter (random weights)."""
    import numpy as np

    from sercompress.export.tflite import to_tflite
    from sercompress.models import light_sernet

    model = light_sernet(4, duration_s=3.0)
    rep = np.random.default_rng(0).standard_normal((16, *model.input_shape[1:])).astype(np.float32)
    path = directory / "light_sernet_3s_int8.tflite"
    path.write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
    return path


def static_profile_figures(path: Path) -> None:
    from sercompress.profile import profile_artifact, tflm, vela

    start = time.perf_counter()
    profile = profile_artifact(path)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        profile_artifact(path)
        warm.append(time.perf_counter() - start)
    print(f"== static profile: {path.name}")
    print(f"profile_artifact wall time     cold {cold * 1e3:8.1f} ms   warm median "
          f"{statistics.median(warm) * 1e3:8.1f} ms   ({len(profile.layers)} layers)")
    print(f"params                         {profile.params:,} ({profile.nonzero_params:,} non-zero)")

    v = vela.compile(path)
    diff = profile.macs - v.macs
    print(f"MACs static / Vela             {profile.macs:,} / {v.macs:,}   difference {diff:+,}")

    arena = tflm.arena_usage(path)
    err_total = 100.0 * (profile.peak_ram_bytes - arena.total_bytes) / arena.total_bytes
    err_head = 100.0 * (profile.peak_ram_bytes - arena.head_bytes) / max(arena.head_bytes, 1)
    print(f"planner peak RAM               {profile.peak_ram_bytes:,} B")
    print(f"TFLM arena total (head + tail) {arena.total_bytes:,} B ({arena.head_bytes:,} + "
          f"{arena.tail_bytes:,})")
    print(f"planner error vs TFLM          total {err_total:+.2f} %   head {err_head:+.2f} %")
    print(f"Vela {v.accelerator:<25} {v.inference_ms:.3f} ms ({v.cycles:,} cycles at "
          f"{v.clock_hz / 1e6:g} MHz), SRAM {v.sram_bytes / 1024:.2f} KiB, flash "
          f"{v.flash_bytes / 1024:.2f} KiB, CPU-fallback ops {v.cpu_op_count}")


# --------------------------------------------------------------------------- host latency
# Measured latency on this machine (LiteRT / XNNPACK, batch 1, warm-up then 50 runs in a
# subprocess) and the per-layer latency model fitted to it: a few int8 conv nets of different
# widths and durations are measured, the model's coefficients fitted by non-negative least
# squares on their fastest runs (best of 3 interleaved rounds), and Light-SERNet 3 s (left
# out of the fit) predicted.


def _host_variants(directory: Path) -> list[Path]:
    """Light-SERNet at 1, 2, 4 s and plain conv/pool stacks of different widths, as int8."""
    import numpy as np

    from sercompress.export.tflite import to_tflite
    from sercompress.models import light_sernet
    from sercompress.tf_env import keras

    k = keras()

    def conv_stack(width: int, blocks: int, adds: int, frames: int):
        x = inputs = k.Input((frames, 40, 1))
        for i in range(blocks):
            x = k.layers.Conv2D(width * (i + 1), 3, padding="same", activation="relu")(x)
            for _ in range(adds):
                x = k.layers.Add()([x, x])
            x = k.layers.AveragePooling2D(2, padding="same")(x)
        x = k.layers.GlobalAveragePooling2D()(x)
        return k.Model(inputs, k.layers.Dense(4, activation="softmax")(x))

    models = {f"light_sernet_{d:g}s": light_sernet(4, duration_s=d) for d in (1.0, 2.0, 4.0)}
    models.update({"conv_w8_b3": conv_stack(8, 3, 0, 96), "conv_w32_b2_add2": conv_stack(32, 2, 2, 96),
                   "conv_w64_b3_add1": conv_stack(64, 3, 1, 184),
                   "conv_w16_b4_add3": conv_stack(16, 4, 3, 128)})
    rng = np.random.default_rng(0)
    paths = []
    for name, model in models.items():
        rep = rng.standard_normal((16, *model.input_shape[1:])).astype(np.float32)
        path = directory / f"{name}_int8.tflite"
        path.write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
        paths.append(path)
    return paths


def host_latency_figures(reference: Path, directory: Path) -> None:
    from sercompress.profile import profile_artifact
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.host import measure
    from sercompress.profile.calibration import fit_host_coefficients, predict_ms

    hw = get_hw_profile("host")
    print(f"\n== host latency: {reference.name} (LiteRT XNNPACK, batch 1, warm-up 5, 50 runs)")
    print(f"{'threads':>7} {'median ms':>10} {'p90 ms':>9} {'min ms':>8} {'p90/med':>8} "
          f"{'peak RSS MiB':>13} {'baseline MiB':>13}")
    for threads in (1, None):
        r = measure(reference, threads=threads)
        print(f"{r.threads:>7} {r.median_ms:>10.3f} {r.p90_ms:>9.3f} {r.min_ms:>8.3f} {r.spread:>8.2f} "
              f"{r.peak_rss_bytes / 2**20:>13.1f} {r.baseline_rss_bytes / 2**20:>13.1f}")

    report = fit_host_coefficients([str(p) for p in _host_variants(directory)], hw.clock_hz)
    c = report.coefficients
    print(f"\n== per-layer model fitted here (NNLS on fastest runs, 1 thread, clock "
          f"{hw.clock_hz / 1e9:.3f} GHz; {reference.name} held out)")
    print(f"conv {c.conv_macs_per_cycle:.3f} MACs/cycle, depthwise {c.depthwise_macs_per_cycle:.3f}, "
          f"FC {c.fully_connected_macs_per_cycle:.3f}, elementwise "
          f"{c.elementwise_cycles_per_element:.3f} cycles/element, pooling "
          f"{c.pooling_cycles_per_element:.3f} cycles/element, {report.layer_overhead_cycles:.0f} "
          "cycles/layer")
    for name, measured, predicted in zip(report.names, report.measured_ms, report.predicted_ms):
        print(f"  fit       {Path(name).stem:<26} fastest {measured:8.3f} ms  model "
              f"{predicted:8.3f} ms  {100 * (predicted - measured) / measured:+6.1f} %")
    held = [measure(reference, threads=1) for _ in range(3)]   # best of 3, as in the fit
    predicted = predict_ms(profile_artifact(reference), c, report.layer_overhead_cycles, hw.clock_hz)
    for what, measured in (("fastest", min(h.min_ms for h in held)),
                           ("median ", min(h.median_ms for h in held))):
        print(f"  held out  {reference.stem:<26} {what} {measured:8.3f} ms  model {predicted:8.3f} ms  "
              f"{100 * (predicted - measured) / measured:+6.1f} %")


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(a) for a in argv] or [build_light_sernet_int8(Path(tmp))]
        for path in paths:
            static_profile_figures(path)
        host_latency_figures(paths[0], Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
