"""`sercompress sweep`: a run config cross-validated over folds x seeds, on a local pool or a Ray cluster."""

from __future__ import annotations

import argparse

from .run import add_data_options, add_executor_options, with_data_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="cross-validate a run config over folds x seeds (local processes or Ray)",
        description="Run a config on every (fold, seed) of its [sweep] table (or --folds / --seeds): every "
                    "run's work units through one executor into the shared store, each run assembled into "
                    "OUT/runs/fold{f}-seed{s}/, then OUT/sweep-summary.json and OUT/index.html with the mean "
                    "and sd over runs, pooled paired differences and a per-fold table. Resumable: re-run the "
                    "same command to continue an interrupted sweep.")
    p.add_argument("--config", required=True,
                   help="run config: 'quick', 'default', a paper-* config (configs/) or a path to a .toml")
    add_data_options(p)
    p.add_argument("--out", required=True, help="sweep directory")
    p.add_argument("--folds", type=fold_list, default=None, metavar="0,1|all",
                   help="folds to run (comma-separated fold numbers, or 'all' = every fold group of the corpus; "
                        "default: the config's [sweep] folds, else all)")
    p.add_argument("--seeds", type=seed_list, default=None, metavar="0,1",
                   help="seeds to run (comma-separated; default: the config's [sweep] seeds, else its seed)")
    add_executor_options(p, "concurrent work units (default: one per CPU core)")
    p.add_argument("--store", default=None,
                   help="directory of finished work shared by every run (default: $SERCOMPRESS_STORE or "
                        "~/.cache/sercompress/store); on a Ray cluster, a path every node sees")
    p.add_argument("--quiet", action="store_true", help="print errors only")
    p.add_argument("--verbose", action="store_true",
                   help="also show each run's stages and TensorFlow's own log lines (hidden by default)")
    p.add_argument("--log-json", action="store_true", help="one JSON object per event on stderr")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    p.set_defaults(func=run)


def _numbers(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected distinct comma-separated {what} numbers (e.g. 0,1), got {text!r}")
    return values


def fold_list(text: str) -> tuple[int, ...] | str:
    return "all" if text == "all" else _numbers(text, "fold")


def seed_list(text: str) -> tuple[int, ...]:
    return _numbers(text, "seed")


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..outpaths import check_output_dir
    from ..progress import Progress
    from ..runconfig import load_run_config
    from ..sweep.execute import sweep
    from ..tf_env import set_verbose
    from . import print_json

    if args.address is not None and args.executor != "ray":
        raise ConfigError("--address names a Ray cluster: it needs --executor ray", key="--address")
    set_verbose(args.verbose)
    config = with_data_options(load_run_config(args.config), args)
    out = check_output_dir(args.out, "--out")
    progress = Progress(quiet=args.quiet, log_json=args.log_json)
    run_progress = Progress(quiet=not args.verbose or args.quiet, log_json=args.log_json)
    outcome = sweep(config, out, folds=args.folds, seeds=args.seeds, executor=args.executor, address=args.address,
                    workers=args.workers, store=args.store, progress=progress, run_progress=run_progress)
    if args.json:
        print_json({"summary": str(outcome.summary_path), "report": str(outcome.index_html),
                    "failures": list(outcome.failures), "failed_units": list(outcome.failed_units),
                    "timings_s": progress.timings})
    return 1 if outcome.failures else 0
