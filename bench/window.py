"""The input window of the int8 reference: TFLite Micro arena, file size, streamed UA.

For each window (seconds; hop = half the window, or ``--hop-fraction``), the trained reference is rebuilt at the
window (`window` recipe step, no fine-tuning: Light-SERNet is fully convolutional), converted
to full-integer int8 (calibrated on windows of the training clips) and measured on the file:
TFLite Micro's real arena, the .tflite size, LiteRT's 1-thread latency per window (host; inflated
when the machine is loaded) and per utterance (x windows per clip), and UA on the test split by
streaming (the windows' softmax scores averaged per clip), with its 95 % bootstrap interval and
the paired difference to the float reference (Keras, whole 3 s clips) on the same clips.

    python bench/window.py --from RUN_DIR --out DIR [--config default] [--windows 0.5 1.0 1.5 3.0] [--hop-fraction 0.5]
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="run_dir", required=True, help="reference run directory")
    ap.add_argument("--out", required=True, help="directory for the variant directories")
    ap.add_argument("--config", default="default", help="run config whose data section prepares the data")
    ap.add_argument("--windows", type=float, nargs="+", default=[0.5, 1.0, 1.5, 3.0])
    ap.add_argument("--hop-fraction", type=float, default=0.5,
                    help="hop as a fraction of the window (0.5: half-overlapping; 1.0: back to back)")
    ap.add_argument("--runs", type=int, default=50, help="host latency runs per file (at least 50)")
    args = ap.parse_args()

    from sercompress import stats
    from sercompress.compress import run_recipe
    from sercompress.compress.recipe import PtqStep, Recipe, WindowStep
    from sercompress.dataset import prepare
    from sercompress.export.runtime import predict_keras
    from sercompress.profile import measured_arena, profile_artifact
    from sercompress.profile.host import measure
    from sercompress.progress import Progress
    from sercompress.runconfig import load_run_config
    from sercompress.train import load_reference

    reference = load_reference(args.run_dir)
    data = prepare(load_run_config(args.config).data)
    y, k = data.test.y, len(data.classes)
    float_pred = predict_keras(reference.fresh_model(), data.test.x).argmax(-1)
    print(f"test clips {len(y)}, speakers {len(set(data.test.speakers))}; float reference (Keras, 3 s) "
          f"UA {stats.intervals(y, float_pred, k, data.test.speakers)['ua'].value:.3f}")
    print(f"{'window':>7} {'hop':>6} {'frames':>6} {'win/clip':>8} {'arena B':>9} {'file B':>9} "
          f"{'ms/win':>7} {'ms/utt':>7}  {'UA [95% CI]':>22}  {'dUA vs float [95% CI]':>26}")
    for seconds in args.windows:
        hop = seconds if seconds >= data.feature_config.duration_s else seconds * args.hop_fraction
        recipe = Recipe(name=f"window-{seconds:g}s-int8", steps=(
            WindowStep(seconds=seconds, hop_seconds=hop), PtqStep(mode="int8", int8_io=True)))
        result = run_recipe(recipe, reference, args.out, data=data, progress=Progress(quiet=True))
        path = result.path("tflite")
        arena = measured_arena(profile_artifact(path)).tflm
        ms = measure(path, threads=1, runs=args.runs).figures().median_ms
        pred = result.accuracy["tflite"].predictions.predicted
        ua = stats.intervals(y, pred, k, data.test.speakers)["ua"]
        d = stats.paired_difference(y, float_pred, pred, k, data.test.speakers)
        s = result.stream
        print(f"{seconds:>6g}s {s.hop_seconds:>5.3g}s {s.frames:>6} {s.windows_per_clip:>8} "
              f"{arena.total_bytes:>9,} {result.sizes['tflite'].file_bytes:>9,} {ms:>7.2f} "
              f"{ms * s.windows_per_clip:>7.2f}  {ua.value:.3f} [{ua.low:.3f}, {ua.high:.3f}]  "
              f"{d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}] p_worse {d.p_worse:.2f}")
    print(f"latency: LiteRT 1 thread on this host (median of {args.runs}), load-dependent; "
          f"load average {' '.join(f'{v:.1f}' for v in __import__('os').getloadavg())}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
