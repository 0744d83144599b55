"""`sercompress train`: train the reference (or a baseline) on a corpus fold into a run directory."""

from __future__ import annotations

import argparse

from . import print_json

DATASETS = ("synthetic", "emodb", "iemocap", "ravdess", "cremad")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train the reference (or a baseline) on a corpus fold",
        description="Train a model with the Light-SERNet recipe (Adam, batch 32, LR decay after epoch 50, "
                    "best validation epoch kept) and write a reference run directory (run.json, model.keras, "
                    "history.csv, metrics.json on the held-out test fold, DONE). Re-running the same command "
                    "returns the finished run; a directory holding a different run is never overwritten.")
    p.add_argument("--out", required=True, help="run directory to write (or resume)")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", default="synthetic", choices=DATASETS, help="corpus (default: synthetic)")
    data.add_argument("--data-dir", default=None, help="local copy of a real corpus (required unless synthetic)")
    data.add_argument("--duration", type=float, default=3.0, help="clip duration in seconds (default: 3)")
    data.add_argument("--input-type", default="mfcc", choices=["mfcc", "spectrogram", "mel_spectrogram"])
    data.add_argument("--fold", type=int, default=0, help="index of the held-out speaker/session group (default: 0)")
    data.add_argument("--val-speakers", type=int, default=2, help="training speakers held out for validation")
    data.add_argument("--classes", default=None, help="comma-separated class subset, e.g. neutral,happy,sad,angry")
    data.add_argument("--iemocap-filter", default="improvised", choices=["improvised", "scripted", "all"])
    data.add_argument("--synthetic-speakers", type=int, default=10, help="synthetic corpus: speakers (default: 10)")
    data.add_argument("--synthetic-per-emotion", type=int, default=22,
                      help="synthetic corpus: clips per speaker and emotion (default: 22)")
    data.add_argument("--cache-dir", default=".cache", help="feature / synthetic corpus cache (default: .cache)")
    train = p.add_argument_group("training")
    train.add_argument("--model", default="light_sernet", help="architecture name (default: light_sernet)")
    train.add_argument("--epochs", type=int, default=None, help="training epochs (default: 30)")
    train.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    train.add_argument("--learning-rate", type=float, default=1e-4, help="Adam learning rate (default: 1e-4)")
    train.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "focal"])
    train.add_argument("--select-on", default="val_ua", choices=["val_ua", "val_loss"],
                       help="validation figure that picks the epoch kept (default: val_ua)")
    train.add_argument("--precise-bn-batches", type=int, default=8,
                       help="training batches that recompute BatchNorm statistics before each validation "
                            "(default: 8; 0 = Keras moving averages only, as in the paper)")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of training and of the validation-speaker choice (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--verbose", action="store_true",
                   help="also show TensorFlow's own log lines (hidden by default)")
    p.add_argument("--json", action="store_true", help="print the test metrics as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..progress import Progress
    from ..tf_env import set_verbose
    from ..train import train_reference

    set_verbose(args.verbose)
    data_cfg, train_cfg = _configs(args)
    ref = train_reference(data_cfg, train_cfg, args.out, model=args.model,
                          progress=Progress(quiet=args.quiet or args.json))
    m = ref.metrics
    if args.json:
        print_json({"run_dir": str(ref.run_dir), "model": ref.record["model"],
                    "best_epoch": ref.record.get("best_epoch"), "split": "test", **m.to_dict()})
        return 0
    print(f"run       {ref.run_dir} ({ref.record['model']}, {ref.record['params']:,} params, "
          f"best epoch {ref.record.get('best_epoch')})")
    print(f"test      UA {m.ua:.3f}  WA {m.wa:.3f}  F1 {m.f1:.3f}  ({m.n} clips)")
    if m.absent_classes:
        print(f"note      classes absent from the test fold (left out of UA/F1): {', '.join(m.absent_classes)}")
    return 0


def _configs(args: argparse.Namespace):
    from pydantic import ValidationError

    from ..dataset import DataConfig
    from ..errors import ConfigError
    from ..tomlconfig import validation_message
    from ..train import TrainConfig

    classes = tuple(c.strip() for c in args.classes.split(",") if c.strip()) if args.classes else None
    train_kw = {"batch_size": args.batch_size, "learning_rate": args.learning_rate, "loss": args.loss,
                "seed": args.seed, "select_on": args.select_on, "precise_bn_batches": args.precise_bn_batches}
    if args.epochs is not None:
        train_kw["epochs"] = args.epochs
    try:
        data_cfg = DataConfig(dataset=args.dataset, data_dir=args.data_dir, duration_s=args.duration,
                              input_type=args.input_type, fold=args.fold, val_speakers=args.val_speakers,
                              classes=classes, iemocap_filter=args.iemocap_filter, seed=args.seed,
                              synthetic_speakers=args.synthetic_speakers,
                              synthetic_per_emotion=args.synthetic_per_emotion, cache_dir=args.cache_dir)
        train_cfg = TrainConfig(**train_kw)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise ConfigError(msg, key=f"--{key.replace('_', '-')}" if key else None) from None
    return data_cfg, train_cfg
