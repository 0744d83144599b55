"""Does an artifact fit a device? Budgets as data, answers with margins and reasons.

A :class:`Budget` holds the limits of one device (built from its hardware
profile with :meth:`Budget.from_hardware`); any limit left ``None`` means "no
limit". :meth:`Budget.is_satisfied_by` takes the artifact's static profile and
its latency estimate and returns a :class:`FitResult` with one :class:`Check`
per resource -- flash, RAM, latency, dtype -- each with its value, limit,
margin (limit - value: negative means over budget) and a one-line reason, so a
report can say *why* a variant does not fit, not just that it does not.

Which figures are used:

* flash = the model file (a .tflite flatbuffer is stored in flash as is, so
  its whole size counts; for other formats the constant data) + the runtime's
  declared flash; for Vela devices, Vela's own flash figure when available.
* RAM = the arena: Vela's SRAM for Vela devices, else the TFLM arena actually
  allocated when it was measured (``static.extra["tflm"]``), else the
  planner's peak -- plus the runtime's declared RAM.
* latency = the estimate's ms (measured on ``host``); "unsupported" fails.
* dtype = the model's weight / activation dtypes against the device's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .profile.hardware import HardwareProfile
from .profile.latency import LatencyEstimate, compute_dtypes, unsupported_reasons
from .profile.types import StaticProfile


@dataclass(frozen=True)
class Check:
    name: str                  # "flash" | "ram" | "latency" | "dtype"
    ok: bool
    value: float | None
    limit: float | None
    margin: float | None       # limit - value, in ``unit``; negative = over budget
    unit: str                  # "bytes" | "ms" | ""
    reason: str


@dataclass(frozen=True)
class FitResult:
    artifact: str
    hardware: str
    fits: bool
    checks: tuple[Check, ...]

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{c.name}: {c.reason}" for c in self.failures)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Budget:
    """Limits of one device; ``None`` means no limit on that resource."""

    hardware: str = "unbounded"
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    latency_ms: float | None = None
    runtime_flash_bytes: int = 0
    runtime_ram_bytes: int = 0
    profile: HardwareProfile | None = None   # for the dtype check; None: every dtype allowed

    @classmethod
    def from_hardware(cls, hw: HardwareProfile, latency_ms: float | None = None) -> Budget:
        """The device's budget; ``latency_ms`` overrides the profile's latency budget."""
        return cls(hardware=hw.name, flash_bytes=hw.flash_bytes, ram_bytes=hw.ram_bytes,
                   latency_ms=latency_ms if latency_ms is not None else hw.latency_budget_ms,
                   runtime_flash_bytes=hw.runtime_flash_bytes,
                   runtime_ram_bytes=hw.runtime_ram_bytes, profile=hw)

    def is_satisfied_by(self, static: StaticProfile, latency: LatencyEstimate | None) -> FitResult:
        checks = (self._flash(static), self._ram(static), self._latency(latency), self._dtype(static))
        return FitResult(static.path, self.hardware, all(c.ok for c in checks), checks)

    # One small method per resource ------------------------------------------------

    def _flash(self, static: StaticProfile) -> Check:
        vela_flash = _vela_figure(static, self, ("flash_bytes", "off_chip_flash_bytes"))
        if vela_flash is not None:
            model, what = vela_flash, "Vela flash"
        elif static.format == "tflite":
            model, what = static.file_bytes, "model file"
        else:
            model, what = static.constant_bytes, "constant data"
        return _bytes_check("flash", model, what, self.runtime_flash_bytes, self.flash_bytes)

    def _ram(self, static: StaticProfile) -> Check:
        vela_sram = _vela_figure(static, self, ("sram_bytes",))
        tflm = (static.extra or {}).get("tflm") or {}
        tflm_arena = tflm.get("total_bytes")  # profile.tflm.TflmArena: head + persistent tail
        if vela_sram is not None:
            model, what = vela_sram, "Vela SRAM"
        elif tflm_arena:
            model, what = int(tflm_arena), "TFLM arena (measured)"
        else:
            model, what = static.peak_ram_bytes, "planned arena"
        return _bytes_check("ram", model, what, self.runtime_ram_bytes, self.ram_bytes)

    def _latency(self, latency: LatencyEstimate | None) -> Check:
        if latency is None:
            ok = self.latency_ms is None
            return Check("latency", ok, None, self.latency_ms, None, "ms",
                         "no latency figure" + ("" if ok else " for a device with a latency budget"))
        if latency.ms is None:
            return Check("latency", False, None, self.latency_ms, None, "ms",
                         f"{latency.source}: {latency.reason}")
        if self.latency_ms is None:
            return Check("latency", True, latency.ms, None, None, "ms",
                         f"{latency.ms:.4g} ms ({latency.source}), no budget")
        margin = self.latency_ms - latency.ms
        ok = margin >= 0
        word = "within" if ok else "over"
        return Check("latency", ok, latency.ms, self.latency_ms, margin, "ms",
                     f"{latency.ms:.4g} ms ({latency.source}) {word} the {self.latency_ms:g} ms "
                     f"budget by {abs(margin):.4g} ms")

    def _dtype(self, static: StaticProfile) -> Check:
        if self.profile is None:
            return Check("dtype", True, None, None, None, "", "no dtype restriction")
        reasons = [r for r in unsupported_reasons(static, self.profile) if "unknown op" not in r]
        if reasons:
            return Check("dtype", False, None, None, None, "", "; ".join(reasons))
        return Check("dtype", True, None, None, None, "",
                     f"weights {_compute(static.weight_dtypes)}, compute "
                     f"{sorted(compute_dtypes(static))} supported")


def _compute(dtypes: tuple[str, ...]) -> list[str]:
    """Dtypes that matter to a device (int32 biases and shapes are everywhere)."""
    return [d for d in dtypes if d not in ("int32", "int64", "bool")]


def _bytes_check(name: str, model: int, what: str, runtime: int, limit: int | None) -> Check:
    value = int(model) + int(runtime)
    detail = f"{what} {_kib(model)} + runtime {_kib(runtime)} = {_kib(value)}"
    if limit is None:
        return Check(name, True, value, None, None, "bytes", f"{detail}, no limit")
    margin = limit - value
    ok = margin >= 0
    verdict = f"{_kib(abs(margin))} {'left' if ok else 'over'} of {_kib(limit)}"
    return Check(name, ok, value, limit, margin, "bytes", f"{detail}: {verdict}")


def _vela_figure(static: StaticProfile, budget: Budget, keys: tuple[str, ...]) -> int | None:
    if budget.profile is None or budget.profile.runtime != "vela":
        return None
    vela: Mapping[str, Any] = (static.extra or {}).get("vela") or {}
    return next((int(vela[k]) for k in keys if vela.get(k) is not None), None)


def _kib(n: float) -> str:
    """Bytes in the largest binary unit that keeps the figure readable."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if abs(n) >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n / 1024:,.1f} KiB"
