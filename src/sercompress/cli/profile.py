"""`sercompress profile`: per-layer table and totals of a .tflite / .onnx artifact.

Static figures need no TensorFlow and take well under a second. ``--tflm`` and
``--vela`` add ground truth (TFLite Micro's real arena, Arm Vela's NPU
estimate); ``--hw`` adds each device's latency (``profile.latency.estimate``)
and whether the model's constants and arena fit its flash and RAM.
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
    p.add_argument("--input-shape", type=_shape, default=None, metavar="1,184,40,1",
                   help="fix symbolic ONNX input dimensions")
    p.add_argument("--tflm", action="store_true", help="measure the TFLite Micro arena (int8 .tflite)")
    p.add_argument("--vela", action="store_true", help="compile with Arm Vela (int8 .tflite)")
    p.add_argument("--accelerator", default=None, help="Vela accelerator (default ethos-u55-128)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache for Vela results (default $SERCOMPRESS_CACHE_DIR or .cache)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"dimensions must be positive integers, got {text!r}")
    return dims


def run(args: argparse.Namespace) -> int:
    from ..profile import default_cache_dir, profile_artifact, with_ground_truth

    cache_dir = args.cache_dir or default_cache_dir()
    profile = profile_artifact(args.file, input_shape=args.input_shape)
    profile = with_ground_truth(profile, tflm=args.tflm, vela=args.vela,
                                accelerator=args.accelerator, cache_dir=cache_dir)
    devices = [_device(profile, name, cache_dir) for name in args.hw]
    if args.json:
        out = profile.to_dict()
        out["hardware"] = devices
        print_json(out)
    else:
        _print_table(profile)
        _print_totals(profile)
        for d in devices:
            _print_device(d)
    return 0


def _device(profile: Any, name: str, cache_dir: Path) -> dict[str, Any]:
    """Latency (C2's model) and flash / RAM fit of ``profile`` on one hardware profile."""
    from ..profile import with_ground_truth
    from ..profile.hardware import get_hw_profile
    from ..profile.latency import estimate

    hw = get_hw_profile(name)
    vela = profile.extra.get("vela")
    if hw.runtime == "vela" and hw.vela is not None and profile.format == "tflite":
        vela = with_ground_truth(profile, vela=True, accelerator=hw.vela.accelerator_config,
                                 system_config=hw.vela.system_config,
                                 memory_mode=hw.vela.memory_mode,
                                 cache_dir=cache_dir).extra["vela"]
    latency = estimate(profile, hw, vela=vela)
    flash_need = profile.constant_bytes
    ram_need = profile.peak_ram_bytes
    return {
        "hardware": hw.name,
        "latency": latency.to_dict(),
        "latency_budget_ms": hw.latency_budget_ms,
        "flash_need_bytes": flash_need,
        "flash_available_bytes": hw.model_flash_bytes,
        "ram_need_bytes": ram_need,
        "ram_available_bytes": hw.model_ram_bytes,
        "fits_flash": flash_need <= hw.model_flash_bytes,
        "fits_ram": ram_need <= hw.model_ram_bytes,
    }


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
    rows: list[tuple[str, str]] = [
        ("file", f"{p.path} ({p.format})"),
        ("input shapes", ", ".join("x".join(map(str, s)) for s in p.input_shapes)),
        ("params", f"{p.params:,} ({p.nonzero_params:,} non-zero)"),
        ("MACs", f"{p.macs:,} ({p.effective_macs:,} skipping zero weights)"),
        ("weight bytes", ", ".join(f"{k} {v:,}" for k, v in p.weight_bytes_by_dtype.items()) or "0"),
        ("constant bytes", f"{p.constant_bytes:,}"),
        ("file bytes", f"{p.file_bytes:,} (gzip -9: {p.gzip_bytes:,})"),
        ("peak RAM (plan)", f"{p.peak_ram_bytes:,} bytes of activations"),
        ("dtypes", f"weights {list(p.weight_dtypes)}, activations {list(p.activation_dtypes)}"),
    ]
    if p.unknown_ops:
        rows.append(("UNKNOWN ops", ", ".join(p.unknown_ops) + " (not costed)"))
    if "tflm" in p.extra:
        t = p.extra["tflm"]
        rows.append(("TFLM arena", f"{t['total_bytes']:,} bytes (head {t['head_bytes']:,}, "
                                   f"tail {t['tail_bytes']:,})"))
    if "vela" in p.extra:
        v = p.extra["vela"]
        fallback = ", ".join(v["cpu_fallback_ops"]) or "none"
        rows += [
            ("Vela", f"{v['accelerator']} {v['system_config']}/{v['memory_mode']}: "
                     f"{v['inference_ms']:.3f} ms ({v['cycles']:,} cycles at "
                     f"{v['clock_hz'] / 1e6:g} MHz)"),
            ("Vela memory", f"SRAM {v['sram_bytes']:,} B, flash {v['flash_bytes']:,} B, "
                            f"MACs {v['macs']:,}"),
            ("Vela CPU ops", f"{v['cpu_op_count']} of {v['cpu_op_count'] + v['npu_op_count']}: "
                             f"{fallback}"),
        ]
    print()
    for key, value in rows:
        print(f"{key:<16} {value}")


def _print_device(d: dict[str, Any]) -> None:
    lat = d["latency"]
    if lat["ms"] is None:
        line = f"unsupported: {lat['reason']}"
    else:
        verdict = "within" if lat["ms"] <= d["latency_budget_ms"] else "OVER"
        line = f"{lat['ms']:.3f} ms ({lat['source']}; {verdict} the {d['latency_budget_ms']:g} ms budget)"
    print(f"\n[{d['hardware']}]")
    print(f"  latency  {line}")
    for what in ("flash", "ram"):
        need, have = d[f"{what}_need_bytes"], d[f"{what}_available_bytes"]
        ok = "fits" if need <= have else "DOES NOT FIT"
        print(f"  {what:<8} {need:,} of {have:,} bytes available: {ok}")
