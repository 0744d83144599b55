"""`sercompress compare`: the CI gate between a candidate run and a committed reference summary.

Exit 0 within tolerance, 1 on a regression (each named with variant, metric,
old and new value and the tolerance), 2 on a usage or schema error.
"""

from __future__ import annotations

import argparse
import sys

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="CI gate: compare a run's summary with a reference summary",
        description="Compare two summaries variant by variant. Exit 0 within tolerance, 1 on a "
                    "regression, 2 on a usage or schema error.")
    p.add_argument("candidate", metavar="CANDIDATE", help="run directory or summary.json to check")
    p.add_argument("--against", required=True, metavar="REFERENCE", help="reference summary.json (or its directory)")
    p.add_argument("--tolerance", default=None, metavar="FILE",
                   help="tolerance TOML (default: built-in defaults, see configs/tolerance.toml)")
    p.add_argument("--all", action="store_true", help="list every compared figure, not only those that changed")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report.compare import compare_summaries, load_tolerance
    from ..report.summary import Summary, resolve_summary_path

    tol = load_tolerance(args.tolerance)
    cand_path, ref_path = resolve_summary_path(args.candidate), resolve_summary_path(args.against)
    result = compare_summaries(Summary.load(cand_path), Summary.load(ref_path), tol,
                               candidate_name=str(cand_path), reference_name=str(ref_path))
    if args.json:
        print_json(result.to_dict())
    else:
        sys.stdout.write(result.to_markdown(only_changes=not args.all))
    if not result.ok:
        print(f"sercompress compare: {len(result.regressions)} regression(s) beyond tolerance", file=sys.stderr)
        return 1
    return 0
