"""`sercompress compress`: apply one compression recipe to a trained reference run."""

from __future__ import annotations

import argparse

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress", help="run one compression recipe on a trained reference",
        description="Apply a recipe (compress/NAME.toml or any recipe file) to the reference in --from, "
                    "export TFLite and ONNX, check parity and the compression the files show, and write "
                    "OUT/<recipe>-<hash>/ (model.tflite, model.onnx, model_int8.tflite, variant.json, DONE). "
                    "A finished variant is reused; an interrupted one resumes.")
    p.add_argument("--recipe", required=True, help="recipe file, or the name of a shipped recipe (e.g. prune-80)")
    p.add_argument("--from", dest="run_dir", required=True, help="reference run directory (sercompress train --out)")
    p.add_argument("--out", required=True, help="directory the variant directory is created in")
    p.add_argument("--epochs-scale", type=float, default=1.0,
                   help="multiply every fine-tuning epoch count (rounded up, at least 1; default 1)")
    p.add_argument("--max-epochs", type=int, default=None, help="cap every step's fine-tuning epochs")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--json", action="store_true", help="print the variant record as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..compress import load_recipe, resolve_recipe, run_recipe
    from ..errors import ConfigError
    from ..progress import Progress

    if not 0 < args.epochs_scale <= 10:
        raise ConfigError(f"must be in (0, 10], got {args.epochs_scale}", key="--epochs-scale")
    if args.max_epochs is not None and args.max_epochs < 1:
        raise ConfigError(f"must be >= 1, got {args.max_epochs}", key="--max-epochs")
    path = resolve_recipe(args.recipe)
    load_recipe(path)  # validated before the reference (and TensorFlow) is loaded

    from ..train import load_reference

    reference = load_reference(args.run_dir)
    result = run_recipe(path, reference, args.out, epochs_scale=args.epochs_scale,
                        max_epochs=args.max_epochs, progress=Progress(quiet=args.quiet or args.json))
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"variant   {result.name}  ({result.directory})")
    for kind, acc in result.accuracy.items():
        if kind == "keras":
            continue
        size = result.sizes[kind]
        ver = result.verification[kind]
        print(f"{kind:12s} UA {acc.ua:.3f}  WA {acc.wa:.3f}  {size.file_bytes:>10,} B  "
              f"gzip {size.gzip_bytes:>10,} B  sparsity {ver.sparsity:.1%}  "
              f"max distinct/channel {ver.max_unique_per_channel}  {'/'.join(ver.weight_dtypes)}")
    unit = "windows" if result.stream else "clips"  # a streamed variant's files are compared per window
    for kind, par in result.parity.items():
        print(f"parity {kind:12s} top-1 agreement {par.top1_agreement:.1%} on {par.clips} {unit}")
    if result.stream:
        s = result.stream
        print(f"stream    {s.seconds:g} s windows ({s.frames} frames), hop {s.hop_seconds:g} s, "
              f"{s.windows_per_clip} per clip: UA from the mean of their softmax scores; parity per "
              "window; a file's latency is per window")
    if result.onnx_error:
        print(f"onnx      not exported: {result.onnx_error}")
    print(f"time      {result.wall_time_s:.1f} s")
    return 0
