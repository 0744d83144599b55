"""`sercompress report DIR`: re-render the report from DIR/summary.json, recomputing nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="re-render index.html, summary.md and variants.csv from a summary.json",
        description="Re-render the report of a run from its summary.json (of a sweep from its "
                    "sweep-summary.json, of a search from its search.json) alone: no training, conversion "
                    "or profiling, and no TensorFlow import.")
    p.add_argument("run_dir", metavar="DIR",
                   help="run or sweep directory holding summary.json / sweep-summary.json (or the file itself)")
    p.add_argument("--out", default=None, help="output directory (default: the summary's directory)")
    p.add_argument("--json", action="store_true", help="print the written paths as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outpaths import check_output_dir
    from ..report import render_report
    from .compare import is_sweep, load_either

    if args.out:
        check_output_dir(args.out, "--out")
    search = search_record_path(Path(args.run_dir))
    if search is not None:
        return _rerender_search(search, Path(args.out) if args.out else search.parent, args.json)
    path, summary = load_either(args.run_dir)  # a run's summary.json or a sweep's sweep-summary.json
    out = Path(args.out) if args.out else path.parent
    if is_sweep(summary):
        from ..report.sweep import render_sweep_report

        files = render_sweep_report(summary, out)
    else:
        files = render_report(summary, out)
    written = {k: str(v) for k, v in vars(files).items()}
    if args.json:
        print_json(written)
    else:
        for v in written.values():
            print(v)
    return 0


def search_record_path(arg: Path) -> Path | None:
    """``arg``'s search.json when ``arg`` is a search's output directory or that file, else None."""
    from ..search.record import SEARCH_FILE

    if arg.is_dir() and (arg / SEARCH_FILE).is_file():
        return arg / SEARCH_FILE
    return arg if arg.name == SEARCH_FILE and arg.is_file() else None


def _rerender_search(path: Path, out: Path, as_json: bool) -> int:
    """A search's search.md and index.html again from its search.json (validated, never executed)."""
    from ..errors import SummaryError
    from ..records import read_record
    from ..search.record import SEARCH_SCHEMA_VERSION, SearchResult
    from ..search.run import write_search_files

    result = read_record(path, SearchResult, version=SEARCH_SCHEMA_VERSION, error=SummaryError,
                         what="search record")
    written = [str(p) for p in write_search_files(result, out, record=False)]
    if as_json:
        print_json({"search_md": written[0], "index_html": written[1]})
    else:
        print("\n".join(written))
    return 0
