"""`sercompress compare`: the CI gate between a candidate run and a committed reference summary.

Exit 0 within tolerance, 1 on a regression (each named with variant, metric,
old and new value and the tolerance), 2 on a usage or schema error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="CI gate: compare a run's (or a sweep's) summary with a reference summary",
        description="Compare two summaries variant by variant (two runs, or two sweeps: mean UA over their "
                    "common runs, paired). Exit 0 within tolerance, 1 on a regression, 2 on a usage or "
                    "schema error.")
    p.add_argument("candidate", metavar="CANDIDATE",
                   help="run or sweep directory, summary.json or sweep-summary.json to check")
    p.add_argument("--against", required=True, metavar="REFERENCE",
                   help="reference summary.json or sweep-summary.json (or its directory)")
    p.add_argument("--tolerance", default=None, metavar="FILE",
                   help="tolerance TOML (default: built-in defaults, see configs/tolerance.toml)")
    p.add_argument("--all", action="store_true", help="list every compared figure, not only those that changed")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.add_argument("--junit", metavar="FILE", default=None,
                   help="also write a JUnit XML report: one testcase per variant and per policy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SummaryError
    from ..report.compare import compare_summaries, load_tolerance

    tol = load_tolerance(args.tolerance)
    (cand_path, cand), (ref_path, ref) = load_either(args.candidate), load_either(args.against)
    if type(cand) is not type(ref):
        sweep, single = (cand_path, ref_path) if is_sweep(cand) else (ref_path, cand_path)
        raise SummaryError(f"cannot compare a sweep summary ({sweep}) with a single-run summary ({single}): "
                           "compare two sweeps, or two runs (a sweep's runs are in its runs/ directory)")
    if is_sweep(cand):
        from ..report.sweep_compare import compare_sweeps

        result = compare_sweeps(cand, ref, tol, candidate_name=str(cand_path), reference_name=str(ref_path))
    else:
        result = compare_summaries(cand, ref, tol, candidate_name=str(cand_path), reference_name=str(ref_path))
    if args.junit:
        write_junit(Path(args.junit), result)
    if args.json:
        print_json(result.to_dict())
    else:
        sys.stdout.write(result.to_markdown(only_changes=not args.all))
    if not result.ok:
        print(f"sercompress compare: {len(result.regressions)} regression(s) beyond tolerance, "
              f"{len(result.failed_policies)} failed policy(ies)", file=sys.stderr)
        return 1
    return 0


def load_either(arg: str) -> tuple[Path, Any]:
    """A run's summary.json or a sweep's sweep-summary.json (a file, or the directory holding one)."""
    from ..errors import SummaryError
    from ..jsonfile import read_json
    from ..report.summary import MAX_SUMMARY_BYTES, Summary, resolve_summary_path
    from ..sweep.record import SWEEP_SUMMARY_FILE, SweepSummary, is_sweep_file

    path = Path(arg)
    if path.is_dir() and (path / SWEEP_SUMMARY_FILE).is_file():
        path = path / SWEEP_SUMMARY_FILE
    path = resolve_summary_path(path)
    data = read_json(path, SummaryError, MAX_SUMMARY_BYTES)
    return path, (SweepSummary.from_dict(data, path) if is_sweep_file(data) else Summary.from_dict(data, path))


def is_sweep(summary: Any) -> bool:
    from ..sweep.record import SweepSummary

    return isinstance(summary, SweepSummary)


def write_junit(path: Path, result: Any) -> None:
    """One testcase per compared variant (its regressions as a <failure>) and one per policy."""
    import xml.etree.ElementTree as ET

    from ..errors import SercompressError
    from ..storage import atomic_write_bytes

    if path.is_dir():
        raise SercompressError("--junit names a directory; give a file name", path=path)
    suite = ET.Element("testsuite", name="sercompress compare")
    cases = failures = skipped = 0
    by_variant: dict[str, list[Any]] = {}
    for d in result.diffs:
        by_variant.setdefault(d.variant, []).append(d)
    for variant, diffs in by_variant.items():
        case = ET.SubElement(suite, "testcase", classname="sercompress.compare.variant", name=variant)
        bad = [d for d in diffs if d.regression]
        if bad:
            fail = ET.SubElement(case, "failure", message="; ".join(d.message() for d in bad), type="Regression")
            fail.text = "\n".join(d.message() for d in bad)
        cases, failures = cases + 1, failures + bool(bad)
    for p in result.policies:
        case = ET.SubElement(suite, "testcase", classname="sercompress.compare.policy", name=p.name)
        if p.outcome == "fail":
            ET.SubElement(case, "failure", message=p.message, type="PolicyFailed").text = p.message
        elif p.outcome == "skipped":
            ET.SubElement(case, "skipped", message=p.message)
        else:
            ET.SubElement(case, "system-out").text = p.message
        cases, failures, skipped = cases + 1, failures + (p.outcome == "fail"), skipped + (p.outcome == "skipped")
    suite.attrib.update(tests=str(cases), failures=str(failures), errors="0", skipped=str(skipped))
    root = ET.Element("testsuites", tests=str(cases), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    atomic_write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
