"""`sercompress data`: scan a corpus (or generate the synthetic one), print its summary and folds."""

from __future__ import annotations

import argparse

from . import print_json

DATASETS = ("synthetic", "emodb", "iemocap", "ravdess", "cremad")
#: DataConfig field -> the flag that sets it, for error messages.
_FLAGS = {"duration_s": "--duration"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data", help="scan a corpus (or generate the synthetic one) and print its summary and folds",
        description="Scan a corpus in its distributed layout (or generate the embedded SYNTHETIC corpus), "
                    "decode and featurise every clip (cached), and print counts per class and speaker, the "
                    "speaker-independent folds, skipped files and the feature shape. Nothing is downloaded.")
    p.add_argument("--dataset", default="synthetic", choices=DATASETS, help="corpus (default: synthetic)")
    p.add_argument("--data-dir", default=None, help="local copy of a real corpus (required unless synthetic)")
    p.add_argument("--duration", type=float, default=3.0, help="clip duration in seconds (default: 3)")
    p.add_argument("--input-type", default="mfcc", choices=["mfcc", "spectrogram", "mel_spectrogram"])
    p.add_argument("--fold", type=int, default=0, help="index of the held-out speaker/session group (default: 0)")
    p.add_argument("--val-speakers", type=int, default=2, help="training speakers held out for validation")
    p.add_argument("--classes", default=None, help="comma-separated class subset, e.g. neutral,happy,sad,angry")
    p.add_argument("--iemocap-filter", default="improvised", choices=["improvised", "scripted", "all"])
    p.add_argument("--seed", type=int, default=0, help="seed of the validation-speaker choice")
    p.add_argument("--cache-dir", default=".cache", help="feature / synthetic corpus cache (default: .cache)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ..dataset import DataConfig, prepare
    from ..errors import ConfigError
    from ..tomlconfig import validation_message

    classes = tuple(c.strip() for c in args.classes.split(",") if c.strip()) if args.classes else None
    try:
        cfg = DataConfig(dataset=args.dataset, data_dir=args.data_dir, duration_s=args.duration,
                         input_type=args.input_type, fold=args.fold, val_speakers=args.val_speakers,
                         classes=classes, iemocap_filter=args.iemocap_filter, seed=args.seed,
                         cache_dir=args.cache_dir)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise ConfigError(msg, key=_FLAGS.get(key, f"--{key.replace('_', '-')}") if key else None) from None
    data = prepare(cfg)
    if args.json:
        print_json(data.summary())
        return 0
    for line in data.summary_lines():
        print(line)
    _print_details(data)
    return 0


def _print_details(data) -> None:
    c = data.corpus
    for note in c.notes:
        print(f"note     {note}")
    print("speakers " + " ".join(f"{s}={n}" for s, n in c.speaker_counts().items()))
    groups = c.groups
    print(f"folds    {len(groups)} speaker-independent folds (--fold K holds out group K):")
    for k, g in enumerate(groups):
        speakers = sorted({u.speaker for u in c.utterances if u.group == g})
        n = sum(1 for u in c.utterances if u.group == g)
        print(f"  {k:3d}  {g}: {', '.join(speakers)} ({n} clips)")
    for s in c.skipped:
        print(f"skipped  {s.path}: {s.reason}")
