"""`sercompress report DIR`: re-render the report from DIR/summary.json, recomputing nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="re-render index.html, summary.md and variants.csv from a summary.json",
        description="Re-render the report of a run from its summary.json alone: no training, "
                    "conversion or profiling, and no TensorFlow import.")
    p.add_argument("run_dir", metavar="DIR", help="run directory holding summary.json (or the file itself)")
    p.add_argument("--out", default=None, help="output directory (default: the summary's directory)")
    p.add_argument("--json", action="store_true", help="print the written paths as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report import render_report
    from ..report.summary import Summary, resolve_summary_path

    from ..outpaths import check_output_dir

    if args.out:
        check_output_dir(args.out, "--out")
    path = resolve_summary_path(args.run_dir)
    summary = Summary.load(path)
    out = Path(args.out) if args.out else path.parent
    files = render_report(summary, out)
    written = {k: str(v) for k, v in vars(files).items()}
    if args.json:
        print_json(written)
    else:
        for v in written.values():
            print(v)
    return 0
