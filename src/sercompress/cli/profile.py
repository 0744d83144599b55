"""`sercompress profile`: per-layer table and totals of a .tflite / .onnx artifact.

Static figures need no TensorFlow and take well under a second. ``--tflm`` and
``--vela`` add ground truth (TFLite Micro's real arena, Arm Vela's NPU
estimate); ``--hw`` adds each device's latency and whether the model fits its
flash and RAM, through the same path as ``check`` and the run
(``assess.assess_on_device``, from TFLite Micro's arena for an integer .tflite).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="per-layer MACs, parameters, bytes and arena of an artifact",
                       description="Static profile of a .tflite or .onnx file (no TensorFlow).")
    p.add_argument("file", type=Path, help="model artifact (.tflite or .onnx)")
    p.add_argument("--hw", action="append", default=[], metavar="NAME",
                   help="hardware profile name or .toml path (repeatable): latency and fit")
    p.add_argument("--input-shape", type=_shape, action="append", default=None,
                   metavar="[NAME=]1,184,40,1",
                   help="fix symbolic ONNX input dimensions; NAME=DIMS once per input for "
                        "a model with several inputs")
    p.add_argument("--tflm", action="store_true", help="measure the TFLite Micro arena (int8 .tflite)")
    p.add_argument("--vela", action="store_true", help="compile with Arm Vela (int8 .tflite)")
    p.add_argument("--accelerator", default=None, help="Vela accelerator (default ethos-u55-128)")
    p.add_argument("--system-config", default=None,
                   help="Vela system config from Arm/vela.ini (default Ethos_U55_High_End_Embedded)")
    p.add_argument("--memory-mode", default=None, help="Vela memory mode (default Shared_Sram)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache for Vela results (default $SERCOMPRESS_CACHE_DIR or .cache)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _shape(text: str) -> tuple[str | None, tuple[int, ...]]:
    name, _, dims_text = text.rpartition("=")
    try:  # "1,184,40,1", "1x184x40x1" or "input_1=1,184,40,1"
        dims = tuple(int(d) for d in dims_text.strip().replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"dimensions must be positive integers, got {text!r}")
    return name or None, dims


def _input_shapes(given: list[tuple[str | None, tuple[int, ...]]] | None) -> Any:
    """One unnamed shape, or {input name: shape}; ProfileError for a mix or a repeat."""
    if not given:
        return None
    if len(given) == 1 and given[0][0] is None:
        return given[0][1]
    names = [n for n, _ in given]
    if None in names or len(set(names)) != len(names):
        from ..errors import ProfileError

        raise ProfileError("--input-shape given more than once: use NAME=DIMS, once per input",
                           key="input_shape")
    return dict(given)


def run(args: argparse.Namespace) -> int:
    from ..profile import default_cache_dir, profile_artifact, with_ground_truth

    cache_dir = args.cache_dir or default_cache_dir()
    profile = profile_artifact(args.file, input_shape=_input_shapes(args.input_shape))
    profile = with_ground_truth(profile, tflm=args.tflm, vela=args.vela,
                                accelerator=args.accelerator, system_config=args.system_config,
                                memory_mode=args.memory_mode, cache_dir=cache_dir)
    if args.hw:  # RAM is judged on TFLite Micro's real arena where it can load the file
        from ..profile import measured_arena

        profile = measured_arena(profile)
    devices = [_device(profile, name, cache_dir) for name in args.hw]
    if args.json:
        out = profile.model_dump(mode="json")
        out["hardware"] = [d.model_dump(mode="json") for d in devices]  # DeviceAssessment records
        print_json(out)
    else:
        _print_table(profile)
        _print_totals(profile)
        for d in devices:
            _print_device(d)
    return 0


def _device(profile: Any, name: str, cache_dir: Path) -> Any:
    """Latency and fit of ``profile`` on one hardware profile: the same path as ``check``."""
    from ..assess import assess_on_device
    from ..profile.hardware import get_hw_profile

    return assess_on_device(profile, get_hw_profile(name), cache_dir=cache_dir)


def _print_table(profile: Any) -> None:
    header = f"{'#':>3} {'op':<16} {'dtype':<8} {'output':<18} {'params':>9} {'nonzero':>9} " \
             f"{'MACs':>13} {'act bytes':>10}  name"
    print(header)
    print("-" * len(header))
    for layer in profile.layers:
        op = layer.op if layer.known else f"?{layer.raw_op}"
        out = "x".join(str(d) for d in layer.output_shapes[0]) if layer.output_shapes else "-"
        print(f"{layer.index:>3} {op:<16.16} {layer.dtype:<8} {out:<18.18} {layer.params:>9,} "
              f"{layer.nonzero_params:>9,} {layer.macs:>13,} {layer.activation_bytes:>10,}  "
              f"{layer.name[:48]}")


def _print_totals(p: Any) -> None:
    from ..profile.persistent import STATED_ERROR as ARENA_STATED_ERROR

    rows: list[tuple[str, str]] = [
        ("file", f"{p.path} ({p.format})"),
        ("input shapes", ", ".join("x".join(map(str, s)) for s in p.input_shapes)),
        ("params", f"{p.params:,} ({p.nonzero_params:,} non-zero)"),
        ("MACs", f"{p.macs:,} ({p.effective_macs:,} skipping zero weights)"
                 + (f"; lower bound: {p.unknown_op_count} unknown "
                    f"op{'s' if p.unknown_op_count > 1 else ''}" if p.unknown_op_count else "")),
        ("weight bytes", ", ".join(f"{k} {v:,}" for k, v in p.weight_bytes_by_dtype.items()) or "0"),
        ("constant bytes", f"{p.constant_bytes:,}"),
        ("file bytes", f"{p.file_bytes:,} (gzip -9: {p.gzip_bytes:,})"),
        ("peak RAM (plan)", f"{p.peak_ram_bytes:,} bytes of activations"),
        ("arena estimate", f"{p.arena_estimate_bytes:,} bytes: plan + TFLite Micro's persistent "
                              f"tail, ±{ARENA_STATED_ERROR:.0%}"),
        ("dtypes", f"weights {list(p.weight_dtypes)}, activations {list(p.activation_dtypes)}"),
    ]
    if p.unknown_ops:
        rows.append(("UNKNOWN ops", ", ".join(p.unknown_ops) + " (not costed)"))
    if (t := p.tflm) is not None:
        rows.append(("TFLM arena", f"{t.total_bytes:,} bytes (head {t.head_bytes:,}, "
                                   f"tail {t.tail_bytes:,})"))
        from ..fit import TFLM_DISAGREEMENT

        if p.peak_ram_bytes > TFLM_DISAGREEMENT * max(t.total_bytes, 1):
            rows.append(("WARNING", f"TFLM's arena and the planned arena differ by more than "
                                    f"{TFLM_DISAGREEMENT}x: TFLite Micro did not allocate the shapes "
                                    "this file declares; the plan is used for the fit"))
    if (v := p.vela) is not None:
        fallback = ", ".join(v.cpu_fallback_ops) or "none"
        rows += [
            ("Vela", f"{v.accelerator} {v.system_config}/{v.memory_mode}: "
                     f"{v.inference_ms:.3f} ms ({v.cycles:,} cycles at {v.clock_hz / 1e6:g} MHz)"),
            ("Vela memory", f"SRAM {v.sram_bytes:,} B, flash {v.flash_bytes:,} B, "
                            f"DRAM {v.dram_bytes:,} B, MACs {v.macs:,}; optimised model "
                            f"{v.optimised_bytes:,} B"),
            ("Vela CPU ops", f"{v.cpu_op_count} of {v.cpu_op_count + v.npu_op_count}: {fallback}"),
        ]
    print()
    for key, value in rows:
        print(f"{key:<16} {value}")


def _print_device(d: Any) -> None:
    from ..fit import STATUS_MARK, latency_text
    from ..profile.hardware import get_hw_profile
    from .check import energy_text

    print(f"\n[{d.hardware}] {d.fit.verdict}")
    print(f"  latency {latency_text(d.latency)}")
    energy = energy_text(d.latency, get_hw_profile(d.hardware).sources.get("active_power_mw"))
    if energy:
        print(f"  energy  {energy}")
    for c in d.fit.checks:
        print(f"  {STATUS_MARK[c.status]} {c.name:<8} {c.reason}")
