"""Assess one exported artifact: static profile, host latency, and fit on each device.

This is the per-artifact task of `sercompress run` (and the core of
`sercompress check`): inputs are a file and the hardware profiles; the result
is plain data, cached under a key of the file's sha256 and everything else that
decides the figures, so a re-run never measures the same file twice.
No TensorFlow is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from . import __version__
from .fit import Budget, FitResult
from .profile import profile_artifact, with_ground_truth
from .profile.hardware import HardwareProfile
from .profile.host import HostLatency, measure
from .profile.latency import LatencyEstimate, estimate, with_device_ground_truth
from .profile.types import StaticProfile
from .storage import atomic_write_json, content_hash, sha256_file

ASSESSMENT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HostTiming:
    """Measured host latency of one runtime / thread setting (figures only, no samples)."""

    runtime: str
    threads: int
    median_ms: float
    p90_ms: float
    spread: float
    runs: int
    peak_rss_bytes: int


@dataclass(frozen=True)
class DeviceAssessment:
    hardware: str
    fits: bool
    latency: dict[str, Any]        # LatencyEstimate.to_dict() (layers dropped)
    fit: dict[str, Any]            # FitResult.to_dict()


@dataclass(frozen=True)
class ArtifactAssessment:
    path: str
    sha256: str
    static: dict[str, Any]                     # StaticProfile.to_dict()
    host: dict[str, HostTiming]                # "litert_1t", "litert_all", "onnxruntime_1t", ...
    devices: dict[str, DeviceAssessment]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArtifactAssessment:
        return cls(path=d["path"], sha256=d["sha256"], static=d["static"],
                   host={k: HostTiming(**v) for k, v in d["host"].items()},
                   devices={k: DeviceAssessment(**v) for k, v in d["devices"].items()})


def assess_on_device(static: StaticProfile, hw: HardwareProfile, *,
                     measure_fn: Callable[[str], Any] | None = None,
                     latency_budget_ms: float | None = None,
                     cache_dir: str | Path | None = None) -> tuple[LatencyEstimate, FitResult]:
    """Latency (measured / Vela / estimated / unsupported) and the budget check on one device."""
    static = with_device_ground_truth(static, hw, cache_dir=str(cache_dir) if cache_dir else None)
    latency = estimate(static, hw, measure=measure_fn)
    return latency, Budget.from_hardware(hw, latency_budget_ms).is_satisfied_by(static, latency)


def assess_artifact(path: str | Path, hardware: Sequence[HardwareProfile], *,
                    onnx_path: str | Path | None = None, runs: int = 50, warmup: int = 10,
                    tflm: bool = True, cache_dir: str | Path) -> ArtifactAssessment:
    """Everything the report needs about one file; cached by content."""
    path = Path(path)
    sha = sha256_file(path)
    onnx_sha = sha256_file(onnx_path) if onnx_path else None
    key = content_hash("assess", ASSESSMENT_SCHEMA_VERSION, __version__, sha, onnx_sha, runs, warmup,
                       tflm, [hw.to_dict() for hw in hardware])
    cache = Path(cache_dir) / "assessments" / f"{sha[:16]}-{key}.json"
    if cache.is_file():
        try:
            return ArtifactAssessment.from_dict(json.loads(cache.read_text()))
        except (ValueError, KeyError, TypeError):
            pass  # unreadable cache entry: recompute and overwrite atomically
    static = profile_artifact(path)
    if tflm and static.format == "tflite" and _is_integer(static):
        static = with_ground_truth(static, tflm=True)
    host = _host_measurements(path, onnx_path, runs, warmup)
    measure_fn = partial(_already_measured, host["litert_1t"])
    devices = {}
    for hw in hardware:
        latency, fit = assess_on_device(static, hw, measure_fn=measure_fn, cache_dir=cache_dir)
        lat = latency.to_dict()
        lat.pop("layers", None)
        devices[hw.name] = DeviceAssessment(hw.name, fit.fits, lat, fit.to_dict())
    result = ArtifactAssessment(str(path), sha, static.to_dict(),
                                {k: _timing(h) for k, h in host.items()}, devices)
    atomic_write_json(cache, result.to_dict())
    return result


def _is_integer(static: StaticProfile) -> bool:
    return bool(static.activation_dtypes) and all(d in ("int8", "int16", "int32") for d in static.activation_dtypes)


def _timing(h: HostLatency) -> HostTiming:
    return HostTiming(h.runtime, h.threads, h.median_ms, h.p90_ms, h.spread, h.runs, h.peak_rss_bytes)


def _host_measurements(path: Path, onnx_path: str | Path | None, runs: int,
                       warmup: int) -> dict[str, HostLatency]:
    """LiteRT on the .tflite (and ONNX Runtime on the .onnx), 1 thread and all threads."""
    files = {"litert": path, "onnxruntime": onnx_path}
    return {f"{runtime}_{label}": measure(file, threads=threads, runs=runs, warmup=warmup)
            for runtime, file in files.items() if file
            for label, threads in (("1t", 1), ("all", None))}


def _already_measured(result: HostLatency, _path: str) -> HostLatency:
    """``host`` is measured, never estimated: reuse the LiteRT 1-thread measurement."""
    return result
