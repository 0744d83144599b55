"""Benchmark: how `sercompress search` should fine-tune a channel-pruned candidate.

One search candidate (by default the quarter-width network, 3 s window, int8: the one that
fits an nRF52840) is built with each fine-tuning setting (learning rate x epochs of its
``prune_channels`` step) and each fine-tuning seed, exactly as the search builds it
(``space.recipe_text`` -> ``compress.run_recipe``), and measured on its exported file:
UA on the validation speakers (what the search ranks by; ``search.score``), test UA, and the
CPU seconds of building it (one TensorFlow thread, as a search worker; training dominates).

The setting is chosen on validation only: per setting, the mean validation UA over the
seeds and its paired difference to ``--baseline`` pooled over the seeds (the same clips,
bootstrap over clips; the seeds' own spread is printed beside it, the interval does not
hold it). Test UA is printed, never chosen by; ``--report LR:EPOCHS`` adds that setting's
seed-0 test UA (seed 0 is what the search trains) paired with the reference's float32 file.

    python bench/finetune.py --run-dir RUN --out DIR [--settings 1e-3:6,3e-4:12,...]
                             [--seeds 0,1,2] [--baseline 1e-3:6] [--report 3e-4:12]
                             [--keep-paths 0.25] [--keep-lflb 0.25] [--window 3]

Re-running resumes: every variant is content-addressed in ``DIR/seed<k>/``.
"""

from __future__ import annotations

import argparse
import resource
from contextlib import contextmanager
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run-dir", required=True, help="finished reference run directory (read only)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--settings", default="1e-4:6,3e-4:6,1e-3:6,1e-4:12,3e-4:12,1e-3:12,1e-4:20,3e-4:20,1e-3:20")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--baseline", default="1e-3:6", help="the setting every other is paired with")
    ap.add_argument("--report", default=None, help="LR:EPOCHS whose test UA is paired with the float32 file")
    ap.add_argument("--keep-paths", type=float, default=0.25)
    ap.add_argument("--keep-lflb", type=float, default=0.25)
    ap.add_argument("--window", type=float, default=3.0)
    args = ap.parse_args()

    from sercompress.executors import start_worker

    start_worker(1, False)
    from sercompress.train import load_reference

    reference = load_reference(args.run_dir)
    data = reference.data()
    settings = [parse_setting(s) for s in args.settings.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    params = {"keep_paths": args.keep_paths, "keep_lflb": args.keep_lflb, "window_seconds": args.window,
              "hop_fraction": 1.0, "precision": "int8"}
    runs = {(st, seed): build(reference, data, params, st, seed, Path(args.out)) for seed in seeds for st in settings}
    table(runs, settings, seeds, parse_setting(args.baseline), data)
    if args.report:
        versus_float(reference, data, runs[(parse_setting(args.report), 0)], Path(args.out))


def parse_setting(text: str) -> tuple[float, int]:
    lr, epochs = text.split(":")
    return float(lr), int(epochs)


@contextmanager
def finetune_seed(seed: int):
    """Recipes carry no seed (every step fine-tunes with ``TrainConfig.finetune``'s, 0); to see how
    much a candidate's figures move with it, this bench swaps in another one."""
    from sercompress.train import TrainConfig

    original = TrainConfig.__dict__["finetune"]
    TrainConfig.finetune = classmethod(lambda cls, e, lr, b, **_: original.__func__(cls, e, lr, b, seed=seed))
    try:
        yield
    finally:
        TrainConfig.finetune = original


def build(reference, data, params: dict, setting: tuple[float, int], seed: int, out: Path) -> dict:
    """One candidate with one fine-tuning setting and seed: its figures and per-clip predictions."""
    from sercompress.compress import load_recipe, run_recipe
    from sercompress.compress.runner import variant_key
    from sercompress.compress.window import clip_windows
    from sercompress.export.runtime import run_tflite
    from sercompress.metrics import classification_metrics
    from sercompress.search.space import SearchSpace, recipe_text
    from sercompress.storage import is_done

    lr, epochs = setting
    space = SearchSpace(finetune_epochs=epochs, learning_rate=lr)
    name, text = recipe_text(params, space, float(data.feature_config.duration_s))
    store = out / f"seed{seed}"
    path = store / "recipes" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    recipe = load_recipe(path)
    was_done = is_done(store / "variants" / f"{name}-{variant_key(recipe, reference, 1.0, None)}")
    cpu0 = cpu_seconds()
    with finetune_seed(seed):
        result = run_recipe(path, reference, store / "variants", data=data, steps_dir=store / "steps")
    cpu = cpu_seconds() - cpu0
    artifact = result.directory / result.artifacts["tflite"]
    windows = clip_windows(result.recipe, data.feature_config, path)
    val_pred = windows.pool(run_tflite(artifact, windows.cut(data.val.x)), len(data.val.y)).argmax(-1)
    val_ua = float(classification_metrics(data.val.y, val_pred, data.classes).ua)
    test = result.accuracy["tflite"]
    reused = was_done or any(s.reused for s in result.steps if s.epochs)  # CPU seconds not of a training
    print(f"lr {lr:g} {epochs:>3} epochs seed {seed}: val UA {val_ua:.3f}  test UA {test.ua:.3f}  "
          f"CPU {cpu:.1f} s{' (reused)' if reused else ''}", flush=True)
    return {"val_ua": val_ua, "val_pred": val_pred, "test_ua": test.ua, "test": test.predictions, "cpu": cpu,
            "reused": reused}


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def table(runs: dict, settings: list, seeds: list[int], baseline: tuple[float, int], data) -> None:
    import numpy as np

    from sercompress.stats import PairedStratum, pooled_paired_difference

    print(f"\n{'lr':>7} {'epochs':>6} {'val UA mean':>11}  {'per seed':<20} {'vs baseline (val, pooled)':<28} "
          f"{'test UA mean':>12}  {'CPU s':>6}")
    for st in settings:
        rs = [runs[(st, s)] for s in seeds]
        pairs = [(runs[(baseline, s)]["val_pred"], runs[(st, s)]["val_pred"]) for s in seeds]
        d = pooled_paired_difference([PairedStratum(labels=data.val.y, speakers=None, pairs=pairs)],
                                     len(data.classes))
        fresh = [r["cpu"] for r in rs if not r["reused"]]
        per_seed = " ".join(f"{r['val_ua']:.3f}" for r in rs)
        paired = f"{d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
        cpu = f"{np.mean(fresh):.1f}" if fresh else "-"
        print(f"{st[0]:>7g} {st[1]:>6} {np.mean([r['val_ua'] for r in rs]):>11.3f}  {per_seed:<20} {paired:<28} "
              f"{np.mean([r['test_ua'] for r in rs]):>12.3f}  {cpu:>6}")


def versus_float(reference, data, run: dict, out: Path) -> None:
    """The reported setting's seed-0 file against the reference's float32 file, paired on the test clips."""
    from sercompress.compress import run_recipe
    from sercompress.compress.recipe import RECIPE_DIR
    from sercompress.stats import paired_difference

    ref = run_recipe(RECIPE_DIR / "float32.toml", reference, out / "seed0" / "variants", data=data,
                     steps_dir=out / "seed0" / "steps").accuracy["tflite"]
    a, b = ref.predictions, run["test"]
    d = paired_difference(b.labels, a.predicted, b.predicted, b.n_classes, b.speakers)
    print(f"\nreported setting, seed 0: test UA {run['test_ua']:.3f} vs the reference's float32 file "
          f"{ref.ua:.3f}: {d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}] ({d.level:.0%}, resampling {d.unit})"
          f"{' significant' if d.significant else ''}")


if __name__ == "__main__":
    main()
