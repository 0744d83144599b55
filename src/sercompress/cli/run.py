"""`sercompress run`: data, training, every recipe and baseline, profiling, report."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="the whole job: train, compress, profile, report",
        description="Train the reference, produce every compressed variant, train the baselines, "
                    "assess every artifact on every hardware profile and write the report. "
                    "Resumable: re-run the same command to continue an interrupted run.")
    p.add_argument("--config", default="default",
                   help="run config: 'quick', 'default' (configs/) or a path to a .toml (default: default)")
    add_data_options(p)
    p.add_argument("--hw", action="append", default=None, metavar="NAME",
                   help="hardware profile(s) to assess (repeatable; default: the config's, usually all)")
    p.add_argument("--out", default=None, help="run directory (default: reports/<config name>)")
    p.add_argument("--store", default=None,
                   help="directory of finished work (references, step checkpoints, variants, assessments) "
                        "shared by every run directory (default: $SERCOMPRESS_STORE or "
                        "~/.cache/sercompress/store)")
    p.add_argument("--workers", type=worker_count_arg, default=None, metavar="N",
                   help="worker processes computing the training and export work units in parallel "
                        "(default: one per CPU core; 1: one unit after another in this process)")
    p.add_argument("--quiet", action="store_true", help="print errors only")
    p.add_argument("--verbose", action="store_true",
                   help="also show TensorFlow's own log lines (hidden by default)")
    p.add_argument("--log-json", action="store_true", help="one JSON object per event on stderr")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    p.set_defaults(func=run)


def add_data_options(p: argparse.ArgumentParser) -> None:
    """--dataset / --data-dir: the config's corpus, overridden (``with_data_options``)."""
    p.add_argument("--dataset", default=None,
                   help="override the config's dataset (synthetic, emodb, iemocap, ravdess, cremad)")
    p.add_argument("--data-dir", default=None, help="directory of a local copy of a real corpus")


def with_data_options(config: Any, args: argparse.Namespace) -> Any:
    """``config`` with ``--dataset`` / ``--data-dir`` applied (validated like the file's [data] table)."""
    from ..errors import ConfigError

    data_update = {k: v for k, v in (("dataset", args.dataset), ("data_dir", args.data_dir)) if v}
    if not data_update:
        return config
    try:
        data = config.data.model_validate({**config.data.model_dump(), **data_update})
    except ValueError as e:
        raise ConfigError(str(e).splitlines()[-1], key="--dataset") from None
    return config.model_copy(update={"data": data})


def add_executor_options(p: argparse.ArgumentParser, workers_help: str) -> None:
    """``--executor``, ``--address`` and ``--workers``: where a command's independent tasks run."""
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: worker processes on this machine (default); ray: tasks on a Ray cluster "
                        "(pip install 'sercompress[ray]'; the store must be a path every node sees)")
    p.add_argument("--address", default=None, metavar="A",
                   help="Ray cluster to join ('auto', or ray://host:port); default: start a local Ray instance")
    p.add_argument("--workers", type=worker_count_arg, default=None, metavar="N", help=workers_help)


def worker_count_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes from 1 to 256, got {text!r}")
    return n


def run(args: argparse.Namespace) -> int:
    from .. import pipeline
    from ..progress import Progress
    from ..runconfig import load_run_config
    from ..tf_env import set_verbose
    from . import print_json

    set_verbose(args.verbose)
    config = with_data_options(load_run_config(args.config), args)
    from ..outpaths import check_output_dir

    out = check_output_dir(args.out or f"reports/{config.name}", "--out")
    progress = Progress(quiet=args.quiet, log_json=args.log_json)
    outcome = pipeline.run(config, out, progress=progress, hardware=tuple(args.hw) if args.hw else None,
                           store=args.store, workers=args.workers)
    if args.json:
        print_json({"summary": str(outcome.summary_path), "failures": list(outcome.failures),
                    "timings_s": progress.timings, "nested_timings_s": progress.nested_timings})
    return 1 if outcome.failures else 0
