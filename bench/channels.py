"""Benchmark: structured (channel) pruning of a trained Light-SERNet, measured on its files.

For each ``--keep`` ratio, runs a ``prune_channels`` recipe (every block at that ratio,
fine-tuned ``--epochs`` at ``--lr``) through ``compress.run_recipe`` and prints, for the
unpruned reference and each variant, what the int8 file shows: parameters, MACs
(``profile_artifact``), int8 file bytes, TFLite Micro's measured arena (``measured_arena``)
and the test UA of the float and int8 files (LiteRT) with 95 % intervals. Each variant's
UA is compared, paired on the same clips, with its same-budget control (the float
reference fine-tuned as many epochs at the same rate: ``compress.control``), so the
difference is the cost of the pruning alone.

``--by-block R`` also prints, for each block pruned alone to ratio R (the others whole), the
int8 file's MACs, bytes and TFLite Micro arena: which blocks the arena and the MACs depend on
(what a per-block search should spend its pruning on).

``--zero-shot`` also prints, for each ratio and ranking criterion, the Keras test UA right
after pruning with BatchNorm statistics re-estimated and no fine-tuning: how much each
criterion's choice of channels keeps before training repairs anything.

    python bench/channels.py --run-dir RUN --out DIR [--keep 0.5,0.75] [--epochs 6] [--lr 1e-3]
                             [--zero-shot] [--by-block 0.5]

Wall times depend on the machine's load; the figures do not.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def recipe_text(keep: float, epochs: int, lr: float, criterion: str = "bn_gamma") -> str:
    return (f'schema_version = 1\nname = "channels-{round(keep * 100)}"\n'
            f'[[steps]]\ntype = "prune_channels"\nkeep = {keep}\ncriterion = "{criterion}"\n'
            f"finetune = {{ epochs = {epochs}, learning_rate = {lr} }}\n")


def file_figures(path: Path) -> dict:
    from sercompress.profile import measured_arena, profile_artifact

    p = measured_arena(profile_artifact(path))
    return {"params": p.params, "macs": p.macs, "bytes": p.file_bytes,
            "arena": p.tflm.total_bytes if p.tflm else None}


def ua_text(acc) -> str:
    from sercompress.stats import intervals

    pred = acc.predictions
    iv = intervals(pred.labels, pred.predicted, pred.n_classes, pred.speakers)["ua"]
    return f"{acc.ua:.3f} [{iv.low:.3f}, {iv.high:.3f}]"


def paired(control, candidate) -> str:
    """candidate - control UA on the same clips, with its paired 95 % interval."""
    from sercompress.stats import paired_difference

    a, b = control.predictions, candidate.predictions
    assert a.clip_ids == b.clip_ids
    d = paired_difference(a.labels, a.predicted, b.predicted, a.n_classes, a.speakers)
    return f"{d.value * 100:+.1f} pt [{d.low * 100:+.1f}, {d.high * 100:+.1f}]"


def reference_accuracy(path: Path, data) -> dict:
    """The unpruned reference's exported file on the test split, per clip (as the runner measures)."""
    from sercompress.export.runtime import run_tflite
    from sercompress.metrics import classification_metrics
    from sercompress.predictions import ClipPredictions, clip_id

    root = getattr(getattr(data, "corpus", None), "root", None)
    probs = run_tflite(path, data.test.x)
    pred = ClipPredictions.from_arrays([clip_id(p, root) for p in data.test.paths], data.test.speakers,
                                       data.test.y, probs)
    return classification_metrics(data.test.y, pred.predicted, data.classes).model_copy(
        update={"predictions": pred})


def by_block(reference, data, ratio: float, out: Path) -> None:
    from sercompress.compress.channels import (
        block_of,
        plan_channels,
        prunable_convs,
        shrink,
    )
    from sercompress.compress.recipe import ChannelPruneStep
    from sercompress.compress.runner import representative
    from sercompress.export.tflite import to_tflite

    print(f"\neach block alone at keep {ratio:g} (int8 file; weights not fine-tuned: shapes only):")
    rep = representative(data.train.x, 32)
    for block in [block_of(c) for c in prunable_convs(reference.fresh_model())]:
        model = reference.fresh_model()
        small = shrink(model, plan_channels(model, ChannelPruneStep(keep={block: ratio})))
        path = out / f"block-{block}-{round(ratio * 100)}.tflite"
        if not path.is_file():
            path.write_bytes(to_tflite(small, "int8", rep, int8_io=True))
        f = file_figures(path)
        print(f"  {block:6s} MACs {f['macs']:>12,}  bytes {f['bytes']:>8,}  arena {f['arena'] or 0:>8,}", flush=True)


def zero_shot(reference, data, keeps: list[float]) -> None:
    from sercompress.compress.batchnorm import recalibrate_batchnorm
    from sercompress.compress.channels import plan_channels, shrink
    from sercompress.compress.recipe import ChannelPruneStep
    from sercompress.export.runtime import predict_keras
    from sercompress.metrics import classification_metrics

    print("\nzero-shot (pruned, BN re-estimated, no fine-tuning), Keras test UA:")
    for keep in keeps:
        for criterion in ("bn_gamma", "l1"):
            model = reference.fresh_model()
            small = shrink(model, plan_channels(model, ChannelPruneStep(keep=keep, criterion=criterion)))
            recalibrate_batchnorm(small, data.train.x)
            probs = predict_keras(small, data.test.x)
            ua = classification_metrics(data.test.y, probs.argmax(-1), data.classes).ua
            print(f"  keep {keep:<5g} {criterion:9s} UA {ua:.3f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", required=True, help="a finished reference run directory (read only)")
    ap.add_argument("--out", required=True, help="where the variants and controls are written")
    ap.add_argument("--keep", default="0.5,0.75")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--zero-shot", action="store_true")
    ap.add_argument("--by-block", type=float, default=None)
    args = ap.parse_args(argv)

    from sercompress.compress import run_recipe
    from sercompress.compress.control import recipe_budget, run_controls
    from sercompress.compress.recipe import load_recipe
    from sercompress.compress.runner import representative
    from sercompress.export.tflite import to_tflite
    from sercompress.progress import Progress
    from sercompress.train import load_reference

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keeps = [float(k) for k in args.keep.split(",")]
    reference = load_reference(args.run_dir)
    data = reference.data(cache_dir=out / "cache")
    progress = Progress(quiet=True)

    ref_int8 = out / "reference_int8.tflite"
    if not ref_int8.is_file():
        ref_int8.write_bytes(to_tflite(reference.fresh_model(), "int8",
                                       representative(data.train.x, 200), int8_io=True))
    ref_float = out / "reference_float.tflite"
    if not ref_float.is_file():
        ref_float.write_bytes(to_tflite(reference.fresh_model(), None))
    rows = {"unpruned": file_figures(ref_int8)}
    ref_acc = {"tflite": reference_accuracy(ref_float, data), "tflite_int8": reference_accuracy(ref_int8, data)}
    results = {}
    for keep in keeps:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"channels-{round(keep * 100)}.toml"
            path.write_text(recipe_text(keep, args.epochs, args.lr))
            recipe = load_recipe(path)
            result = run_recipe(path, reference, out / "variants", data=data, progress=progress)
        results[keep] = (recipe, result)
        rows[f"keep {keep:g}"] = file_figures(result.paths["tflite_int8"])
    controls = run_controls([recipe_budget(r) for r, _ in results.values()], reference, data,
                            out / "variants", out / "steps", progress)

    print(f"reference {reference.run_dir}: Keras test UA {reference.metrics.ua:.3f}; "
          f"fine-tuning {args.epochs} epochs at lr {args.lr:g}")
    print(f"{'model':12s} {'params':>8s} {'MACs':>12s} {'int8 bytes':>11s} {'arena':>9s}   "
          f"{'UA float':22s} {'UA int8':22s} {'dUA int8 vs control':24s}")
    base = rows["unpruned"]
    print(f"{'unpruned':12s} {base['params']:>8,} {base['macs']:>12,} {base['bytes']:>11,} "
          f"{base['arena'] or 0:>9,}   {ua_text(ref_acc['tflite']):22s} {ua_text(ref_acc['tflite_int8']):22s}")
    for keep, (recipe, result) in results.items():
        r = rows[f"keep {keep:g}"]
        control = controls[recipe_budget(recipe)]
        print(f"{'keep ' + format(keep, 'g'):12s} {r['params']:>8,} {r['macs']:>12,} {r['bytes']:>11,} "
              f"{r['arena'] or 0:>9,}   {ua_text(result.accuracy['tflite']):22s} "
              f"{ua_text(result.accuracy['tflite_int8']):22s} "
              f"{paired(control.accuracy['tflite'], result.accuracy['tflite_int8'])}")
        print(f"{'':12s} ratios to unpruned: params {r['params'] / base['params']:.2f}, MACs "
              f"{r['macs'] / base['macs']:.2f}, bytes {r['bytes'] / base['bytes']:.2f}, arena "
              f"{(r['arena'] or 0) / (base['arena'] or 1):.2f}; control {control.name} float UA "
              f"{ua_text(control.accuracy['tflite'])}; float vs control "
              f"{paired(control.accuracy['tflite'], result.accuracy['tflite'])}; vs the unpruned reference "
              f"(not fine-tuned): float {paired(ref_acc['tflite'], result.accuracy['tflite'])}, int8 "
              f"{paired(ref_acc['tflite_int8'], result.accuracy['tflite_int8'])}; {result.wall_time_s:.0f} s")
    if args.by_block is not None:
        by_block(reference, data, args.by_block, out)
    if args.zero_shot:
        zero_shot(reference, data, keeps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
