"""Does an artifact fit a device? Budgets as data, answers with margins and reasons.

A :class:`Budget` holds the limits of one device (built from its hardware
profile with :meth:`Budget.from_hardware`); any limit left ``None`` means "no
limit". :meth:`Budget.is_satisfied_by` takes the artifact's static profile and
its latency estimate and returns a :class:`DeviceFit` with one :class:`Check`
per resource -- flash, RAM, latency, dtype -- each with its value, limit,
margin (limit - value: negative means over budget) and a one-line reason, so a
report can say *why* a variant does not fit, not just that it does not.

Which figures are used -- chosen here and nowhere else (``check``, ``profile --hw``,
the run and the report all go through :func:`ram_used` / :func:`flash_used`):

* flash = what the device's runtime stores (:func:`flash_used`) + the runtime's declared flash.
* RAM = what the device's runtime allocates: Vela's SRAM for Vela devices; on a
  TFLite Micro device the TFLM arena actually allocated when it was measured
  (``static.tflm``), else the estimated whole arena (plan + persistent tail,
  :mod:`.profile.persistent`) at its stated upper bound; on a LiteRT / ONNX Runtime
  device the peak RSS the measurement added over its baseline where it was measured
  (``host``), else the planned arena -- plus the runtime's declared RAM.
* latency = the estimate's ms (``profile.latency.estimate``: measured on ``host``,
  Vela's for Vela devices); "unsupported" fails; "unknown" (ops the runtime runs
  but the cost model does not know) is neither a fit nor a miss: the UNKNOWN verdict.
* dtype = the model's weight / activation dtypes against the device's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from .profile.dtype_policy import OPS_REASON, compute_dtypes, unsupported_reasons
from .profile.hardware import HardwareProfile
from .profile.latency import vela_for
from .profile.persistent import STATED_ERROR as ARENA_STATED_ERROR
from .profile.types import HostLatency, LatencyEstimate, StaticProfile
from .records import Record


class Check(Record):
    """One resource of one artifact on one device: its figure against the device's limit."""

    name: Literal["flash", "ram", "latency", "dtype"]
    ok: bool
    value: int | float | None  # bytes stay integers, ms are floats
    limit: int | float | None
    margin: int | float | None  # limit - value, in ``unit``; negative = over budget
    unit: Literal["bytes", "ms", ""]
    reason: str
    marginal: bool = False     # not ok, but not known to fail: the budget lies inside the band
    unknown: bool = False      # not ok, but not known to fail: no figure (ops without a cost)

    @property
    def status(self) -> Literal["ok", "marginal", "unknown", "FAIL"]:
        return "ok" if self.ok else "marginal" if self.marginal else "unknown" if self.unknown \
            else "FAIL"


Verdict = Literal["FITS", "MARGINAL", "UNKNOWN", "DOES NOT FIT"]
#: How check and profile --hw mark each check's status.
STATUS_MARK = {"ok": "ok  ", "marginal": "WARN", "unknown": "UNKN", "FAIL": "FAIL"}


class DeviceFit(Record):
    """Does one artifact fit one device: a check per resource, and the three-valued verdict.

    FITS: every check holds at the pessimistic end of its figure (the latency band's
    upper bound); DOES NOT FIT: some check fails even at the optimistic end (the band's
    lower bound over budget, or a byte figure over its limit); MARGINAL: the budget
    lies inside the latency band, or the model is outside the calibrated op mix;
    UNKNOWN: nothing fails, but the latency has no figure (the device's runtime runs
    every op, the cost model does not know some). ``fits`` is ``verdict == "FITS"``.
    """

    artifact: str
    hardware: str
    fits: bool
    checks: tuple[Check, ...]
    verdict: Verdict = "FITS"

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{c.name}: {c.reason}" for c in self.failures)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Resource(Record):
    """Bytes a model takes of one kind of memory on a device, and which figure that is."""

    bytes: int
    source: str   # "Vela SRAM" | "TFLM arena (measured by TFLite Micro)" | FLASH_STORED[runtime] | ...


def ram_used(static: StaticProfile, hw: HardwareProfile | None,
             measured: HostLatency | None = None) -> Resource:
    """The RAM ``static`` takes on ``hw`` (``None``: no device), runtime excluded.

    Vela's SRAM on a Vela device it was compiled for; on a LiteRT / ONNX Runtime
    device what that runtime allocates (:func:`_host_runtime_ram`); else the arena
    TFLite Micro allocated when it was run, else the estimated arena's upper bound.
    """
    vela = vela_for(static, hw) if hw is not None else None
    if vela is not None:
        return Resource(bytes=vela.sram_bytes, source="Vela SRAM")
    if hw is not None and hw.runtime in ("litert", "onnxruntime"):
        return _host_runtime_ram(static, hw, measured)
    arena = _tflm_arena(static)
    scratch = _cmsis_nn_scratch(static, hw)
    if not scratch:
        return arena
    return Resource(bytes=arena.bytes + scratch,
                    source=f"{arena.source} {_kib(arena.bytes)} + CMSIS-NN kernel scratch "
                           f"{_kib(scratch)} (bound from its buffer-size rules) =")


def _host_runtime_ram(static: StaticProfile, hw: HardwareProfile,
                      measured: HostLatency | None) -> Resource:
    """LiteRT / ONNX Runtime: the measured RSS growth, else the runtime's planned arena.

    Where the model was run (``host``), the measuring process's peak RSS over its
    baseline before loading the model: arena, mapped model file, packed weights. The
    baseline itself is the profile's runtime RAM. Elsewhere both runtimes plan their
    activation arena the way :mod:`.profile.arena` does (TFLite Micro's tail is no part
    of it); the mapped file and packed weights are then not included, and it says so.
    """
    name = "LiteRT" if hw.runtime == "litert" else "ONNX Runtime"
    if measured is not None:
        grown = max(0, measured.peak_rss_bytes - measured.baseline_rss_bytes)
        return Resource(bytes=grown, source=f"peak RSS over baseline measured by {measured.runtime} "
                                            "here (arena, mapped file, packed weights)")
    return Resource(bytes=static.peak_ram_bytes,
                    source=f"{name} planned activation arena (mapped model file and packed "
                           "weights not included)")


def _cmsis_nn_scratch(static: StaticProfile, hw: HardwareProfile | None) -> int:
    """Scratch CMSIS-NN kernels add on a device that runs them (0 elsewhere)."""
    if hw is None or hw.runtime != "tflm" or not hw.kernels.upper().startswith("CMSIS-NN"):
        return 0
    from .profile.persistent import cmsis_nn_scratch_bytes

    return cmsis_nn_scratch_bytes(static.layers)


def _tflm_arena(static: StaticProfile) -> Resource:
    """TFLite Micro's arena: measured when it ran, else the estimate's upper bound."""
    if static.tflm is not None and static.tflm.total_bytes:
        measured = static.tflm.total_bytes
        if static.peak_ram_bytes > TFLM_DISAGREEMENT * measured:
            # TFLite Micro measured 1.6 KiB for a 9.2e19-byte plan: it never allocated the shapes
            # the file declares. The measurement cannot vouch for a fit, so the plan counts.
            return Resource(bytes=static.peak_ram_bytes,
                            source=f"planned arena (TFLM measured only {measured:,} B, more than "
                                   f"{TFLM_DISAGREEMENT}x less: it did not allocate this file's shapes)")
        return Resource(bytes=measured, source="TFLM arena (measured by TFLite Micro)")
    # judged at the estimate's upper bound, so a FITS holds for the real arena too
    estimate = static.arena_estimate_bytes or static.peak_ram_bytes
    return Resource(bytes=math.ceil(estimate * (1 + ARENA_STATED_ERROR)),
                    source=f"TFLM arena (estimated {_kib(estimate)}, ±{ARENA_STATED_ERROR:.0%}: "
                           "upper bound)")


#: Measured TFLM arena and planned arena differ by tens of percent on real models (alignment,
#: persistent buffers); a factor of 100 means one of them is not describing this file.
TFLM_DISAGREEMENT = 100


#: What each runtime keeps in flash: how checks and the report name the flash figure.
FLASH_STORED = {"tflm": "flatbuffer as stored (TFLite Micro)", "vela": "Vela-optimised model (Ethos-U)",
                "litert": "file as stored (LiteRT)", "onnxruntime": "file as stored (ONNX Runtime)"}


def flash_used(static: StaticProfile, hw: HardwareProfile | None) -> Resource:
    """The flash ``static`` takes on ``hw`` (``None``: no device), runtime excluded: what the
    runtime stores, never a gzip size. TFLite Micro and LiteRT keep the flatbuffer as is
    (pruning's zeros and clustering's shared values cost as much as any weight); Ethos-U the
    .tflite Vela optimised, whose weight encoder does shrink them (else Vela's flash figure).
    ONNX: the file, or its constants when larger (external data)."""
    if (vela := vela_for(static, hw) if hw is not None else None) is not None:
        return Resource(bytes=vela.optimised_bytes or vela.flash_bytes, source=FLASH_STORED["vela"])
    stored = static.file_bytes if static.format == "tflite" else max(static.file_bytes, static.constant_bytes)
    source = ("file as stored" if hw is None else "file as stored (not compiled by Vela)"
              if hw.runtime == "vela" else FLASH_STORED[hw.runtime])
    return Resource(bytes=stored, source=source)


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

    def is_satisfied_by(self, static: StaticProfile, latency: LatencyEstimate | None) -> DeviceFit:
        measured = latency.measured if latency is not None else None
        checks = (self._flash(static), self._ram(static, measured), self._latency(latency),
                  self._dtype(static))
        statuses = {c.status for c in checks}
        verdict: Verdict = ("DOES NOT FIT" if "FAIL" in statuses else "UNKNOWN" if "unknown" in statuses
                            else "MARGINAL" if "marginal" in statuses else "FITS")
        return DeviceFit(artifact=static.path, hardware=self.hardware, fits=verdict == "FITS",
                         checks=checks, verdict=verdict)

    # One small method per resource ------------------------------------------------

    def _flash(self, static: StaticProfile) -> Check:
        used = flash_used(static, self.profile)
        return _bytes_check("flash", used, self.runtime_flash_bytes, self.flash_bytes)

    def _ram(self, static: StaticProfile, measured: HostLatency | None) -> Check:
        used = ram_used(static, self.profile, measured)
        return _bytes_check("ram", used, self.runtime_ram_bytes, self.ram_bytes)

    def _latency(self, latency: LatencyEstimate | None) -> Check:
        if latency is None:
            ok = self.latency_ms is None
            return _check("latency", ok, None, self.latency_ms, None, "ms",
                          "no latency figure" + ("" if ok else " for a device with a latency budget"))
        if latency.source == "unknown":
            if self.latency_ms is None:
                return _check("latency", True, None, None, None, "ms",
                              f"UNKNOWN ({latency.reason}), no budget")
            return Check(name="latency", ok=False, value=None, limit=self.latency_ms, margin=None,
                         unit="ms", reason=f"UNKNOWN: {latency.reason}", unknown=True)
        if latency.ms is None:
            return _check("latency", False, None, self.latency_ms, None, "ms",
                          f"{latency.source}: {latency.reason}")
        if self.latency_ms is None:
            return _check("latency", True, latency.ms, None, None, "ms",
                          f"{latency.ms:.4g} ms ({latency.source}), no budget")
        if latency.band is not None:
            return _banded_latency(latency, self.latency_ms)
        margin = self.latency_ms - latency.ms
        ok = margin >= 0
        word = "within" if ok else "over"
        return _check("latency", ok, latency.ms, self.latency_ms, margin, "ms",
                      f"{latency.ms:.4g} ms ({latency.source}) {word} the {self.latency_ms:g} ms "
                      f"budget by {abs(margin):.4g} ms")

    def _dtype(self, static: StaticProfile) -> Check:
        if self.profile is None:
            return _check("dtype", True, None, None, None, "", "no dtype restriction")
        reasons = [r for r in unsupported_reasons(static, self.profile)
                   if not r.startswith(OPS_REASON)]  # the latency check says it
        if reasons:
            return _check("dtype", False, None, None, None, "", "; ".join(reasons))
        return _check("dtype", True, None, None, None, "",
                      f"weights {_compute(static.weight_dtypes)}, compute "
                      f"{sorted(compute_dtypes(static))} supported")


def latency_text(latency: LatencyEstimate) -> str:
    """``1.28 s (estimated, 90 % band 1.05-1.55 s)``: the figure as check and report print it."""
    if latency.source == "unknown":
        return f"UNKNOWN ({latency.reason})"
    if latency.ms is None:
        return f"no figure ({latency.source})"
    if latency.band is None:
        return f"{_duration(latency.ms)} ({latency.source})"
    b = latency.band
    label = "band" if b.basis.startswith("unvalidated") else "90 % band"
    return (f"{_duration(latency.ms)} ({latency.source}, {label} {_duration(b.low_ms)}–"
            f"{_duration(b.high_ms)}; {b.basis})")


def energy_figure(latency: LatencyEstimate) -> str:
    """``12.7 mJ per inference, 90 % band 10.4–15.3 mJ``; "" without a power figure."""
    if latency.energy_mj is None:
        return ""
    band = latency.energy_band_mj
    span = f", 90 % band {band[0]:.3g}–{band[1]:.3g} mJ" if band else ""
    return f"{latency.energy_mj:.3g} mJ per inference{span}"


def _duration(ms: float) -> str:
    return f"{ms / 1e3:.3g} s" if ms >= 1000 else f"{ms:.3g} ms"


def _banded_latency(latency: LatencyEstimate, budget: float) -> Check:
    """FITS only if the band's upper bound is within budget; fails only if its lower bound is over."""
    band = latency.band
    assert band is not None and latency.ms is not None
    text = latency_text(latency)
    outside = f"; outside the calibration range: {band.outside}" if band.outside else ""
    if band.low_ms > budget:
        return _check("latency", False, latency.ms, budget, budget - latency.ms, "ms",
                      f"{text}: even the lower bound is over the {budget:g} ms budget{outside}")
    if band.high_ms <= budget and not band.op_mix_outside:
        return _check("latency", True, latency.ms, budget, budget - latency.ms, "ms",
                      f"{text}: the upper bound is within the {budget:g} ms budget{outside}")
    why = ("the op mix is outside the calibration range, so the band is not validated for it"
           if band.op_mix_outside and band.high_ms <= budget
           else f"the {budget:g} ms budget lies inside the band")
    return Check(name="latency", ok=False, value=latency.ms, limit=budget,
                 margin=budget - latency.ms, unit="ms", reason=f"{text}: MARGINAL, {why}{outside}",
                 marginal=True)


def _compute(dtypes: tuple[str, ...]) -> list[str]:
    """Dtypes that matter to a device (int32 biases and shapes are everywhere)."""
    return [d for d in dtypes if d not in ("int32", "int64", "bool")]


def _check(name: str, ok: bool, value: float | None, limit: float | None, margin: float | None,
           unit: str, reason: str) -> Check:
    return Check(name=name, ok=ok, value=value, limit=limit, margin=margin, unit=unit, reason=reason)


def _bytes_check(name: str, used: Resource, runtime: int, limit: int | None) -> Check:
    value = int(used.bytes) + int(runtime)
    detail = f"{used.source} {_kib(used.bytes)} + runtime {_kib(runtime)} = {_kib(value)}"
    if limit is None:
        return _check(name, True, value, None, None, "bytes", f"{detail}, no limit")
    margin = limit - value
    ok = margin >= 0
    verdict = f"{_kib(abs(margin))} {'left' if ok else 'over'} of {_kib(limit)}"
    return _check(name, ok, value, limit, margin, "bytes", f"{detail}: {verdict}")


def _kib(n: float) -> str:
    """Bytes in the largest binary unit that keeps the figure readable."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if abs(n) >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n / 1024:,.1f} KiB"
