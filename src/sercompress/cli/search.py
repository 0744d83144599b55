"""`sercompress search`: the most accurate variant that fits each named device (issue 15)."""

from __future__ import annotations

import argparse

from .run import add_executor_options

MAX_TRIALS = 1000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search", help="search channel pruning, input window and precision for a device's budgets",
        description="An Optuna NSGA-II study per device over structured channel pruning, the deployed "
                    "input window (streamed), precision (int8, int16x8, or int16 only in the blocks measured to gain "
                    "most: mixed) and, on Ethos-U, weight sharing. Objectives: UA of the exported "
                    "file (max) and latency per utterance (min); constraints: the device's flash, RAM, "
                    "latency and dtype budgets measured on each candidate's file exactly as `check` does. "
                    "Writes OUT/search.json, OUT/search.md, OUT/index.html (the Pareto front per device, "
                    "self-contained), OUT/<hw>/chosen/ and OUT/chosen-recipe.toml. "
                    "Candidates are content-addressed variants in the store; a re-run resumes.")
    p.add_argument("--hw", action="append", required=True, metavar="NAME", help="hardware profile (repeatable)")
    p.add_argument("--trials", type=int, default=20, help=f"finished trials per device, 1..{MAX_TRIALS} (default 20)")
    p.add_argument("--config", default=None, metavar="FILE", help="search space TOML (default: issue 15's)")
    p.add_argument("--from", dest="run_dir", required=True, metavar="REFERENCE_RUN_DIR",
                   help="reference run directory (sercompress train --out)")
    p.add_argument("--out", required=True, help="output directory (the study journal lives here)")
    p.add_argument("--store", default=None, help="store of variants and step checkpoints (default OUT/store)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    add_executor_options(p, "candidates trained at once (default: one per CPU core; 1 with --executor local: "
                            "in this process)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from ..errors import ConfigError
    from ..executors import check_executor, open_executor, worker_count
    from ..profile.hardware import get_hw_profile
    from ..progress import Progress
    from ..search import load_space, run_search

    if not 1 <= args.trials <= MAX_TRIALS:
        raise ConfigError(f"must be in 1..{MAX_TRIALS}, got {args.trials}", key="--trials")
    hardware = [get_hw_profile(name) for name in args.hw]  # input errors before TensorFlow loads
    space = load_space(args.config)
    check_executor(args.executor, args.address)
    in_process = args.executor == "local" and worker_count(args.workers) == 1

    from ..train import load_reference

    reference = load_reference(args.run_dir)
    with (nullcontext(None) if in_process else
          open_executor(args.executor, workers=args.workers, address=args.address)) as executor:
        result = run_search(reference, hardware, space, args.out, store=args.store, n_trials=args.trials,
                            seed=args.seed, progress=Progress(quiet=args.quiet), executor=executor)
    for d in result.devices:
        fit = sum(t.feasible for t in d.trials)
        print(f"{d.hardware}: {len(d.trials)} trials, {fit} fit, front {list(d.front)}, chosen "
              f"{'none' if d.chosen is None else d.chosen}")
        for k in (d.comparison, d.vs_reference):
            if k is not None:
                print(f"  test UA vs {k.control}: {k.ua_difference:+.3f} [{k.low:+.3f}, {k.high:+.3f}]"
                      f"{' significant' if k.significant else ''}")
    print(f"wrote {args.out}/search.json, {args.out}/search.md, {args.out}/index.html "
          f"({result.wall_time_s:.0f} s)")
    return 0 if all(d.chosen is not None for d in result.devices) else 1
