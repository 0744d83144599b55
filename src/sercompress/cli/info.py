"""`sercompress info`: parameters, MACs and input shape of a model architecture."""

from __future__ import annotations

import argparse

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="parameters, MACs and input shape of a model",
                       description="Build a model architecture and print its size figures.")
    p.add_argument("--model", default="light_sernet", help="architecture name (default: light_sernet)")
    p.add_argument("--classes", type=int, default=4, help="number of emotion classes (default: 4)")
    p.add_argument("--duration", type=float, default=3.0, help="clip duration in seconds (default: 3)")
    p.add_argument("--input-type", default="mfcc", choices=["mfcc", "spectrogram", "mel_spectrogram"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..features import FeatureConfig
    from ..models import build_model, count_macs

    from ..report.summary import MAX_CLASSES

    if not 2 <= args.classes <= MAX_CLASSES:  # 10**8 classes ran TensorFlow out of memory
        raise ConfigError(f"must be between 2 and {MAX_CLASSES}, got {args.classes}", key="--classes")
    shape = FeatureConfig(input_type=args.input_type, duration_s=args.duration).shape
    model = build_model(args.model, shape, args.classes)
    info = {
        "model": args.model,
        "classes": args.classes,
        "duration_s": args.duration,
        "input_type": args.input_type,
        "input_shape": list(shape),
        "params": int(model.count_params()),
        "macs": count_macs(model),
        "layers": len(model.layers),
    }
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:12s} {v:,}" if isinstance(v, int) else f"{k:12s} {v}")
    return 0
