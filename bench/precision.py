"""Benchmark: what the search's precision dimension buys -- int8, mixed and int16x8 of one network.

For each ``--params`` point of the search space (e.g. a search's chosen trial), exports the
same channel-pruned, fine-tuned network three ways (the fine-tuning is one step checkpoint,
shared through the store): int8; ``mixed`` (int16 activations only in the blocks
``search/sensitivity.py`` measures to gain most on the reference); int16x8. Prints, per
file: validation and test UA (test paired against the int8 file, with its 95 % interval),
and per ``--hw`` device the real TFLite Micro arena + runtime RAM, the flash, the latency
estimate with its band and the verdict, as ``check`` gives them (the streamed candidates'
per-inference budget included).

    python bench/precision.py --run-dir RUN --store DIR \
        --params '{"keep_paths": 0.25, "keep_lflb": 0.25, "window_seconds": 3.0, "hop_fraction": 1.0}' \
        [--hw nrf52840 --hw stm32l4r5] [--epochs N]

Re-running reuses every file from the store.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

PRECISIONS = ("int8", "mixed", "int16x8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run-dir", required=True, help="finished reference run directory (read only)")
    ap.add_argument("--store", required=True)
    ap.add_argument("--params", action="append", required=True, help="a point of the space, JSON (repeatable)")
    ap.add_argument("--hw", action="append", default=None, help="device (repeatable; default nrf52840, stm32l4r5)")
    ap.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (default: the search's)")
    args = ap.parse_args()

    from sercompress.compress.window import feature_config_of
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.progress import Progress
    from sercompress.search import SearchSpace
    from sercompress.search.sensitivity import int16_sensitivity
    from sercompress.train import load_reference

    reference = load_reference(args.run_dir)
    data, store, progress = reference.data(), Path(args.store), Progress(quiet=True)
    space = SearchSpace() if args.epochs is None else SearchSpace(finetune_epochs=args.epochs)
    fc = feature_config_of(reference, data)
    clip_s = float(fc.duration_s) if fc is not None else None
    t0 = time.perf_counter()
    m = int16_sensitivity(reference, data, store, space.mixed_blocks)
    print(f"int16 blocks of the mixed files: {'+'.join(m.chosen)} (probe error all int8 {m.int8_error:.4f}, "
          f"all int16 {m.int16_error:.4f}; per block: "
          + ", ".join(f"{b.block} {b.error:.4f}" for b in m.blocks) + f"), {time.perf_counter() - t0:.0f} s")
    devices = [get_hw_profile(n) for n in args.hw or ["nrf52840", "stm32l4r5"]]
    for text in args.params:
        point(json.loads(text), space, clip_s, m.chosen, reference, data, store, progress, devices)


def point(params, space, clip_s, blocks, reference, data, store, progress, devices) -> None:
    from sercompress.search.candidate import build
    from sercompress.search.constraints import assess_file, stream_latency_budget_ms
    from sercompress.search.score import validation_ua
    from sercompress.search.space import recipe_text
    from sercompress.stats import paired_difference
    from sercompress.storage import atomic_write_text

    print(f"\n## {params}")
    base = None
    for precision in PRECISIONS:
        t0 = time.perf_counter()
        name, text = recipe_text({**params, "precision": precision}, space, clip_s,
                                 blocks if precision == "mixed" else ())
        path = atomic_write_text(store / "bench-precision" / f"{name}.toml", text)
        result = build(path, reference, data, store, progress)
        artifact = result.directory / result.artifacts["tflite"]
        val = validation_ua(artifact, result.recipe, data, path)
        acc = result.accuracy["tflite"]
        line = f"{precision:8s} val UA {val:.3f}  test UA {acc.ua:.3f}"
        if base is None:
            base = acc.predictions
        else:
            p = acc.predictions
            d = paired_difference(p.labels, base.predicted, p.predicted, p.n_classes, p.speakers)
            line += (f"  vs int8 {100 * d.value:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}] pt"
                     f"{' significant' if d.significant else ''}")
        print(f"{line}  ({time.perf_counter() - t0:.0f} s)")
        for hw in devices:
            dev = assess_file(artifact, hw, cache_dir=store / "cache",
                              latency_budget_ms=stream_latency_budget_ms(hw, result.stream))
            band = "" if dev.latency_high_ms is None else f" (high {dev.latency_high_ms:,.0f})"
            lat = "-" if dev.latency_ms is None else f"{dev.latency_ms:,.0f} ms{band}"
            kib = (lambda b: "-" if b is None else f"{b / 1024:.1f} KiB")
            print(f"    {hw.name:14s} RAM {kib(dev.ram_bytes):>11s}  flash {kib(dev.flash_bytes):>11s}  "
                  f"latency/inference {lat}  {dev.verdict}")


if __name__ == "__main__":
    main()
