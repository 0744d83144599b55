"""Assess one exported artifact: static profile, host latency, and fit on each device.

This is the per-artifact task of `sercompress run` (and the core of
`sercompress check` and `sercompress profile --hw`): inputs are a file and the
hardware profiles; the result is an :class:`ArtifactAssessment` record, cached
under a key of the file's sha256 and everything else that decides the figures,
so a re-run never measures the same file twice. The cache holds the record
itself (validated when read back; an entry of another schema version is
recomputed). No TensorFlow is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Literal

from . import __version__
from .fit import Budget, DeviceFit, Resource, flash_used
from .profile import measured_arena, profile_artifact
from .profile.hardware import HardwareProfile
from .profile.host import measure
from .profile.latency import Measure, estimate, with_device_ground_truth
from .profile.types import HostLatency, LatencyEstimate, StaticProfile
from .records import Record, read_cached, write_record
from .storage import content_hash, sha256_file

ASSESSMENT_SCHEMA_VERSION = 5  # 5: DeviceAssessment.model_flash


class DeviceAssessment(Record):
    """One artifact on one device: its latency and the budget checks (the one path to both)."""

    hardware: str
    latency: LatencyEstimate
    fit: DeviceFit
    #: the flash the model itself takes there, runtime excluded, and what that is (what the
    #: runtime stores: :func:`sercompress.fit.flash_used`); None in summaries written before it
    model_flash: Resource | None = None

    # The figures of this artifact on this device, as the report shows them: the checks'.
    @property
    def fits(self) -> bool:
        return self.fit.fits

    @property
    def flash_bytes(self) -> int | None:
        """Model + runtime flash (:func:`sercompress.fit.flash_used` + the runtime's)."""
        return self._bytes("flash")

    @property
    def ram_bytes(self) -> int | None:
        """Arena + runtime RAM (:func:`sercompress.fit.ram_used` + the runtime's)."""
        return self._bytes("ram")

    @property
    def latency_ms(self) -> float | None:
        return self.latency.ms

    @property
    def latency_source(self) -> str:
        return self.latency.source

    @property
    def latency_low_ms(self) -> float | None:
        """Low end of the estimate's 90 % band (None: not a banded estimate)."""
        return self.latency.band.low_ms if self.latency.band else None

    @property
    def latency_high_ms(self) -> float | None:
        return self.latency.band.high_ms if self.latency.band else None

    @property
    def verdict(self) -> str:
        return self.fit.verdict

    @property
    def energy_mj(self) -> float | None:
        return self.latency.energy_mj

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it misses, one line per failed check; empty when it fits."""
        return self.fit.reasons

    @property
    def failed_budgets(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.fit.failures)

    def _bytes(self, check: str) -> int | None:
        value = next((c.value for c in self.fit.checks if c.name == check), None)
        return None if value is None else int(value)


class ArtifactAssessment(Record):
    """Everything the report needs about one file, as measured on it."""

    schema_version: Literal[5] = ASSESSMENT_SCHEMA_VERSION
    path: str
    sha256: str
    static: StaticProfile                       # with TFLite Micro's arena when it was run
    host: dict[str, HostLatency]                # "litert_1t", "litert_all", "onnxruntime_1t", ...
    devices: dict[str, DeviceAssessment]        # latency totals only (no per-layer rows)


def assess_on_device(static: StaticProfile, hw: HardwareProfile, *,
                     measure_fn: Measure | None = None,
                     latency_budget_ms: float | None = None,
                     cache_dir: str | Path | None = None) -> DeviceAssessment:
    """Latency (measured / Vela / estimated / unsupported) and the budget check on one device.

    The one place that decides an artifact's figures on a device: ``check``,
    ``profile --hw`` and the run all call it.
    """
    static = with_device_ground_truth(static, hw, cache_dir=str(cache_dir) if cache_dir else None)
    latency = estimate(static, hw, measure=measure_fn)
    fit = Budget.from_hardware(hw, latency_budget_ms).is_satisfied_by(static, latency)
    return DeviceAssessment(hardware=hw.name, latency=latency, fit=fit,
                            model_flash=flash_used(static, hw))


def assess_artifact(path: str | Path, hardware: Sequence[HardwareProfile], *,
                    onnx_path: str | Path | None = None, runs: int = 50, warmup: int = 10,
                    tflm: bool = True, cache_dir: str | Path, host_timing: bool = True) -> ArtifactAssessment:
    """Everything the report needs about one file; cached by content.

    ``host_timing=False`` (no ``hardware`` then: the host device's latency is measured) keeps the
    static profile and TFLite Micro's arena only: a sweep times one run's files, not every fold's
    files of the same graph.
    """
    path = Path(path)
    if not host_timing and hardware:
        raise ValueError("device fit needs the host timing (the host device's latency is measured)")
    sha = sha256_file(path)
    onnx_sha = sha256_file(onnx_path) if onnx_path else None
    key = content_hash("assess", ASSESSMENT_SCHEMA_VERSION, __version__, sha, onnx_sha, runs, warmup,
                       tflm, [hw.to_dict() for hw in hardware], *(() if host_timing else ("no host timing",)))
    cache = Path(cache_dir) / "assessments" / f"{sha[:16]}-{key}.json"
    cached = read_cached(cache, ArtifactAssessment, version=ASSESSMENT_SCHEMA_VERSION)
    if cached is not None:
        return cached
    static = profile_artifact(path)
    if tflm:  # every .tflite TFLite Micro can load: its real arena (float ones too)
        static = measured_arena(static)
    host = _host_measurements(path, onnx_path, runs, warmup) if host_timing else {}
    measure_fn = partial(_already_measured, host["litert_1t"]) if host_timing else None
    devices = {}
    for hw in hardware:
        device = assess_on_device(static, hw, measure_fn=measure_fn, cache_dir=cache_dir)
        devices[hw.name] = device.model_copy(update={"latency": device.latency.without_layers()})
    result = ArtifactAssessment(path=str(path), sha256=sha, static=static, host=host, devices=devices)
    write_record(cache, result)
    return result



def _host_measurements(path: Path, onnx_path: str | Path | None, runs: int,
                       warmup: int) -> dict[str, HostLatency]:
    """LiteRT on the .tflite (and ONNX Runtime on the .onnx), 1 thread and all threads."""
    files = {"litert": path, "onnxruntime": onnx_path}
    return {f"{runtime}_{label}": measure(file, threads=threads, runs=runs, warmup=warmup).figures()
            for runtime, file in files.items() if file
            for label, threads in (("1t", 1), ("all", None))}


def _already_measured(result: HostLatency, _path: str) -> HostLatency:
    """``host`` is measured, never estimated: reuse the LiteRT 1-thread measurement."""
    return result
