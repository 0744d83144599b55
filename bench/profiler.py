"""Benchmark of the profiler: speed of the static profile and its error against ground truth.

Prints, for Light-SERNet (4 classes, 3 s MFCC input; random weights, int8 with int8
input/output, or the .tflite files given on the command line):

* wall time of ``profile_artifact`` (cold: first call in the process, and warm median);
* MACs of the static profile vs Arm Vela's count (ethos-u55-128);
* peak RAM of the arena planner vs TFLite Micro's measured arena (total and head), % error;
* Vela's latency / SRAM / flash estimate, for reference;
* host latency (LiteRT, 1 and all threads: median, p90, spread, peak RSS) and the per-layer
  latency model fitted on this machine, with its error on Light-SERNet held out of the fit.

* on the generated zoo (``tests/profile/zoo.py``: 53 int8 TFLite, 58 ONNX models), the
  static MACs against Vela's count of the same ops and against onnx-tool's independent
  count: max and p90 relative error, and the cold wall time of ``profile_artifact`` per file.

Usage: ``python bench/profiler.py [model_int8.tflite ...]``, ``python bench/profiler.py --ram``
(RAM zoos vs TFLite Micro, MCU latency leave-one-out) or ``python bench/profiler.py --zoo
[DIR]`` (the zoo part alone; DIR keeps the built models between runs).
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
    from sercompress.profile.calibration import fit_host_coefficients, predict_ms
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.host import measure

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


# --------------------------------------------------------------------------- zoo MACs

def _errors_line(what: str, errors: list[float]) -> str:
    import numpy as np

    e = np.abs(np.asarray(errors, dtype=float)) * 100
    return (f"{what:<44} n={len(e):>3}  max |error| {e.max():7.3f} %   p90 {np.percentile(e, 90):7.3f} %"
            f"   exact {int((e == 0).sum())}/{len(e)}")


def zoo_mac_figures(directory: Path) -> None:
    """MACs of every zoo model against Vela (TFLite) and onnx-tool (ONNX), and cold times."""
    import subprocess

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sercompress.profile import profile_artifact
    from tests.profile.zoo import build_onnx_zoo, build_tflite_zoo, compare_with_vela
    from tests.profile.zoo_onnx import NOT_COMPARED, compare_with_onnx_tool

    tflite, onnx = build_tflite_zoo(directory / "tflite"), build_onnx_zoo(directory / "onnx")
    print(f"\n== zoo MACs: {len(tflite)} int8 TFLite models vs Vela, {len(onnx)} ONNX vs onnx-tool")
    vs_mac_ops, vs_total, unknown = [], [], []
    for name, path in tflite:
        ours, vela_macs, vela_total = compare_with_vela(path)
        vs_mac_ops.append((ours - vela_macs) / vela_macs)
        vs_total.append((ours - vela_total) / vela_total)
        unknown += list(profile_artifact(path).unknown_ops)
        if ours != vela_macs:
            print(f"  differs: {name}: ours {ours:,} Vela {vela_macs:,}")
    print(_errors_line("TFLite vs Vela, MACs of the same ops", vs_mac_ops))
    print(_errors_line("TFLite vs Vela total (+ its per-element passes)", vs_total))
    vs_tool, skipped = [], []
    for name, path in onnx:
        unknown += list(profile_artifact(path).unknown_ops)
        try:
            ours, theirs, diffs = compare_with_onnx_tool(path)
        except NotImplementedError as e:  # onnx-tool cannot read the op (RNN)
            skipped.append(f"{name} ({e})")
            continue
        if not theirs:
            skipped.append(f"{name} (no MAC node onnx-tool counts)")
            continue
        vs_tool.append((ours - theirs) / theirs)
        for d in diffs:
            print(f"  differs: {name}: {d}")
    print(_errors_line("ONNX vs onnx-tool, MAC nodes", vs_tool))
    for name in skipped:
        print(f"  not compared: {name}")
    for op, why in NOT_COMPARED.items():
        print(f"  {op} nodes not compared with onnx-tool: {why}")
    print(f"unknown ops over the zoo: {sorted(set(unknown)) or 'none'}")
    for fmt, files in (("TFLite", tflite), ("ONNX", onnx)):
        cold = [_cold_profile_seconds(p, subprocess) for _, p in files]
        wall, cpu = [w for w, _ in cold], [c for _, c in cold]
        print(f"{fmt:<6} profile cold, fresh interpreter incl. imports: CPU max {max(cpu):.3f} s "
              f"median {statistics.median(cpu):.3f} s; wall max {max(wall):.3f} s (inflated by "
              f"the machine's load)")


def _cold_profile_seconds(path: Path, subprocess) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh interpreter importing the profiler and profiling ``path``."""
    code = ("import time; t, c = time.perf_counter(), time.process_time(); "
            "from sercompress.profile import profile_artifact; "
            f"profile_artifact({str(path)!r}); "
            "print(time.perf_counter() - t, time.process_time() - c)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


# --------------------------------------------------------------------------- RAM and MCU latency
# The whole-arena estimate (plan + persistent tail, profile/persistent.py) against TFLite Micro's
# real arena on the RAM zoo (tests/profile/ram_zoo.py, 63 models), and the kernel latency model's
# leave-one-model-out error per device family (bench/calibrate_latency.py has the per-model rows).


def ram_zoo_figures(directory: Path) -> None:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sercompress.errors import ProfileError
    from sercompress.profile import read_graph, tflm
    from sercompress.profile.persistent import estimate_arena
    from tests.profile.ram_zoo import build, zoo_specs
    from tests.profile.zoo import build_tflite_zoo

    errors, refused = [], []
    print("\n== RAM zoo: estimated whole arena vs TFLite Micro's real arena (the RAM zoo, then "
          "the MAC zoo's int8 TFLite models)")
    paths = [build(spec, directory) for spec in zoo_specs()]
    paths += [p for _, p in build_tflite_zoo(directory / "mac_zoo")]
    for path in paths:
        est = estimate_arena(read_graph(path))
        try:
            real = tflm.arena_usage(path)
        except ProfileError:
            refused.append(path.stem)   # TFLM cannot load it: only the estimate exists
            continue
        err = (est.total_bytes - real.total_bytes) / real.total_bytes
        errors.append(abs(err))
        print(f"  {path.stem:<44} real {real.total_bytes:>8,} B  estimate {est.total_bytes:>8,} B "
              f"{100 * err:+6.2f} %  head {'=' if est.head_bytes == real.head_bytes else '!='}")
    print(f"RAM zoos: {len(errors)} models TFLM loads; |error| max {100 * max(errors):.2f} %, "
          f"p90 {100 * np.percentile(errors, 90):.2f} %; {len(refused)} TFLM cannot load: {refused}")


def latency_calibration_figures() -> None:
    from sercompress.profile.kernel_calibration import calibrate, load_samples

    print("\n== MCU latency: kernel model, leave-one-model-out error per device family")
    for c in calibrate(load_samples()):
        print(f"  {c.family:<10} {c.dtype:<8} p90 |error| {c.p90_abs_error:6.1%} over {c.models:2d} "
              f"models, 90 % band x{c.ratio_low:.2f}..x{c.ratio_high:.2f}  ({c.note})")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--ram"]:   # RAM estimate and MCU latency calibration only
        latency_calibration_figures()
        with tempfile.TemporaryDirectory() as tmp:
            ram_zoo_figures(Path(tmp))
        return 0
    if argv[:1] == ["--zoo"]:
        if len(argv) > 1:
            zoo_mac_figures(Path(argv[1]))
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            zoo_mac_figures(Path(tmp))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(a) for a in argv] or [build_light_sernet_int8(Path(tmp))]
        for path in paths:
            static_profile_figures(path)
        latency_calibration_figures()
        ram_zoo_figures(Path(tmp))
        host_latency_figures(paths[0], Path(tmp))
        zoo_mac_figures(Path(tmp) / "zoo")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
