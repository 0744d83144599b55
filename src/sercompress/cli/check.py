"""`sercompress check`: does each artifact fit each named device?

For every (artifact, hardware profile) pair: flash, RAM, latency and dtype
checks with margins and reasons (:mod:`sercompress.fit`). Exit 0 when every
pair fits, 1 when any does not, 2 for a usage or input error -- so a CI job can
gate on it. ``--junit`` writes one testcase per pair (a ``<failure>`` naming the
reasons), which CI systems display natively.

No TensorFlow: the artifact is read by the profiler's own flatbuffer / ONNX
readers; an integer .tflite gets TFLite Micro's measured arena, ``host`` is
measured and Vela devices run Vela, each in a subprocess -- the figures and the
path (``assess.assess_on_device``) are those of ``sercompress run``'s report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import print_json

#: Verdicts that are neither a fit nor a miss: shown, skipped in JUnit, failing under --strict.
SOFT_VERDICTS = ("MARGINAL", "UNKNOWN")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check artifacts against hardware budgets (exit 1 if any misfits)",
                       description="For each artifact and hardware profile: flash, RAM, latency "
                                   "and dtype checks with margins, and a verdict: FITS (the "
                                   "latency band's upper bound within budget), MARGINAL (the "
                                   "budget inside the band), UNKNOWN (the device runs every op "
                                   "but the latency model has no cost for some), DOES NOT FIT. "
                                   "Exit 0 if none does not fit (--strict: if all fit), 1 "
                                   "otherwise, 2 on a usage or input error.")
    p.add_argument("files", nargs="+", metavar="FILE", help=".tflite or .onnx artifact(s)")
    p.add_argument("--hw", action="append", required=True, metavar="NAME",
                   help="hardware profile name or .toml path (repeatable)")
    p.add_argument("--hw-dir", action="append", default=[], metavar="DIR",
                   help="extra directory of hardware profiles, searched first (repeatable)")
    p.add_argument("--latency-budget-ms", type=float, default=None,
                   help="override every profile's latency budget")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for measured (host) latency; 0 = all cores (default: 1)")
    p.add_argument("--runs", type=int, default=50, help="timed runs for measured latency (>= 50)")
    p.add_argument("--cache-dir", default=None, help="cache for Vela results (default: .cache)")
    p.add_argument("--strict", action="store_true", help="MARGINAL and UNKNOWN fail too (exit 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--junit", metavar="FILE", default=None, help="also write a JUnit XML report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..profile.hardware import get_hw_profile

    if args.latency_budget_ms is not None and args.latency_budget_ms <= 0:
        raise ConfigError(f"must be > 0, got {args.latency_budget_ms}", key="--latency-budget-ms")
    if args.threads < 0:
        raise ConfigError(f"must be >= 0, got {args.threads}", key="--threads")
    if args.junit:
        from ..outpaths import check_output_file

        check_output_file(args.junit, "--junit")  # before minutes of measuring, not after
    # Resolve every profile and read every artifact before any slow work: input errors first.
    profiles = [get_hw_profile(name, tuple(args.hw_dir)) for name in args.hw]
    statics = [_profile(f) for f in args.files]
    pairs = [(_check(static, hw, args), hw) for static in statics for hw in profiles]
    devices = [d for d, _ in pairs]
    results = [d.fit for d in devices]
    failing = ("DOES NOT FIT", *SOFT_VERDICTS) if args.strict else ("DOES NOT FIT",)
    passed = not any(r.verdict in failing for r in results)
    if args.junit:
        write_junit(Path(args.junit), results, failing)
    if args.json:
        print_json({"fits": all(r.fits for r in results), "passed": passed,
                    "results": [r.to_dict() for r in results],
                    "latency": [d.latency.without_layers().to_dict() for d in devices],
                    "model_flash": [d.model_flash.model_dump(mode="json") for d in devices]})
    else:
        for d, hw in pairs:
            _print(d, hw.sources.get("active_power_mw"))
    return 0 if passed else 1


def _profile(path: str) -> Any:
    """Static profile plus, for a .tflite TFLite Micro can load, its real arena (RAM check)."""
    from ..profile import measured_arena, profile_artifact

    return measured_arena(profile_artifact(path))


def _check(static: Any, hw: Any, args: argparse.Namespace) -> Any:
    from functools import partial

    from ..assess import assess_on_device
    from ..profile.host import measure

    threads = None if args.threads == 0 else args.threads
    device = assess_on_device(static, hw, measure_fn=partial(measure, threads=threads, runs=args.runs),
                              latency_budget_ms=args.latency_budget_ms, cache_dir=args.cache_dir)
    return device


def _print(device: Any, power_source: str | None) -> None:
    print(check_text(device, power_source), end="")


def check_text(device: Any, power_source: str | None) -> str:
    """What ``check`` prints for one device assessment (``sercompress search`` records it too)."""
    from ..fit import STATUS_MARK, latency_text

    result, latency = device.fit, device.latency
    lines = [f"{result.artifact} on {result.hardware}: {result.verdict}", f"  latency {latency_text(latency)}"]
    energy = energy_text(latency, power_source)
    if energy:
        lines.append(f"  energy  {energy}")
    lines += [f"  {STATUS_MARK[c.status]} {c.name:<8} {c.reason}" for c in result.checks]
    return "".join(line + "\n" for line in lines)


def energy_text(latency: Any, source: str | None) -> str:
    """``12.7 mJ per inference (90 % band 10.4-15.3 mJ; active power x latency; <source>)``."""
    from ..fit import energy_figure

    figure = energy_figure(latency)
    if not figure:
        return ""
    return f"{figure} (active power x latency" + (f"; power: {source}" if source else "") + ")"


def write_junit(path: Path, results: list[Any], failing: tuple[str, ...] = ("DOES NOT FIT",)) -> None:
    """One testcase per (artifact, hardware); a <failure> lists the failed checks.

    A verdict in ``failing`` is a failure (MARGINAL and UNKNOWN too under ``--strict``); a
    MARGINAL or UNKNOWN that is not is reported as a skipped case carrying its reason, so
    CI shows it without failing.
    """
    import xml.etree.ElementTree as ET

    from ..storage import atomic_write_bytes

    failures = sum(r.verdict in failing for r in results)
    skipped = sum(r.verdict in SOFT_VERDICTS and r.verdict not in failing for r in results)
    suite = ET.Element("testsuite", name="sercompress check", tests=str(len(results)),
                       failures=str(failures), errors="0", skipped=str(skipped))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"sercompress.check.{r.hardware}",
                             name=f"{Path(r.artifact).name} on {r.hardware}", file=r.artifact)
        if r.verdict in failing:
            fail = ET.SubElement(case, "failure", message="; ".join(r.reasons),
                                 type=_FAILURE_TYPE[r.verdict])
            fail.text = "\n".join(r.reasons)
        elif r.verdict in SOFT_VERDICTS:
            ET.SubElement(case, "skipped", message=f"{r.verdict}: " + "; ".join(r.reasons))
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(f"{c.name}: {c.status}: {c.reason}" for c in r.checks)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    atomic_write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


_FAILURE_TYPE = {"DOES NOT FIT": "DoesNotFit", "MARGINAL": "Marginal", "UNKNOWN": "Unknown"}
