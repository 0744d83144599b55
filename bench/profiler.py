"""Benchmark of the profiler: speed of the static profile and its error against ground truth.

Prints, for Light-SERNet (4 classes, 3 s MFCC input; random weights, int8 with int8
input/output, or the .tflite files given on the command line):

* wall time of ``profile_artifact`` (cold: first call in the process, and warm median);
* MACs of the static profile vs Arm Vela's count (ethos-u55-128);
* peak RAM of the arena planner vs TFLite Micro's measured arena (total and head), % error;
* Vela's latency / SRAM / flash estimate, for reference.

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


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(a) for a in argv] or [build_light_sernet_int8(Path(tmp))]
        for path in paths:
            static_profile_figures(path)
        # (host-latency figures: appended below by the latency-model section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
