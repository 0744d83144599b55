"""Latency of a profiled artifact on one device: route to the source its figure comes from.

Each device takes its latency from exactly one place:

* ``host`` (``measured = true``) is *measured* here (:mod:`.host`), never estimated;
* Vela devices (``runtime = "vela"``) take Vela's cycle count (:attr:`StaticProfile.vela`,
  compiled for the device's own configuration by :func:`with_device_ground_truth`);
* every other device gets the per-layer cost model (:mod:`.cost`).

Where a number would be a guess it is not given: a dtype the device does not
run, float on a device without a float path, hybrid layers on a runtime
without hybrid kernels, or ops the device's runtime lacks come back as
``source="unsupported"`` with the reason (:mod:`.dtype_policy`); ops the runtime
runs but the cost model does not know make the latency ``"unknown"``: never a
total that silently counts them as zero.
"""

from __future__ import annotations

from collections.abc import Callable

from .cost import energy_mj, model_estimate, unsupported
from .dtype_policy import unsupported_reasons
from .hardware import HardwareProfile
from .types import HostLatency, LatencyEstimate, StaticProfile, VelaResult

#: ``measure(path) -> HostLatency``: how a measured device is timed.
Measure = Callable[[str], HostLatency]


def estimate(static: StaticProfile, hw: HardwareProfile, *, measure: Measure | None = None,
             vela: VelaResult | None = None, use_effective_macs: bool = False) -> LatencyEstimate:
    """Latency of ``static`` on ``hw``: measured (host), from Vela, estimated, or unsupported.

    ``measure(path) -> HostLatency`` defaults to :func:`sercompress.profile.host.measure`
    (a subprocess, a few seconds). ``vela`` defaults to ``static.vela`` when it was
    compiled for ``hw``'s accelerator. ``use_effective_macs`` costs only non-zero
    weights, for runtimes with sparse kernels (none of the shipped ones).
    """
    reasons = unsupported_reasons(static, hw)
    if reasons:
        return unsupported(hw, "; ".join(reasons))
    if hw.measured:
        return _measured(static, hw, measure)
    if static.unknown_ops:  # Vela's figure leaves them out too (CPU fallback)
        return _unknown(static, hw)
    if hw.runtime == "vela":
        return _from_vela(hw, vela if vela is not None else vela_for(static, hw))
    return model_estimate(static, hw, use_effective_macs=use_effective_macs)


def vela_for(static: StaticProfile, hw: HardwareProfile) -> VelaResult | None:
    """``static``'s Vela result if it describes ``hw`` (a Vela device of that accelerator)."""
    if hw.runtime != "vela" or hw.vela is None or static.vela is None:
        return None
    return static.vela if static.vela.accelerator == hw.vela.accelerator_config else None


def with_device_ground_truth(static: StaticProfile, hw: HardwareProfile,
                             cache_dir: str | None = None) -> StaticProfile:
    """``static`` plus the ground truth ``hw`` takes its figures from (Vela for Vela devices).

    A no-op for other devices, for models the device cannot run at all (the estimate
    says why), for non-TFLite files (Vela reads only .tflite; the estimate then says
    why it has no figure) and when the result for this device is already there. A Vela
    result for another accelerator is replaced, never used for this device.
    """
    if hw.runtime != "vela" or hw.vela is None or static.format != "tflite" or vela_for(static, hw):
        return static
    if unsupported_reasons(static, hw):  # Vela would put every op on the CPU and report zeros
        return static
    from . import with_ground_truth

    return with_ground_truth(static, vela=True, accelerator=hw.vela.accelerator_config,
                             system_config=hw.vela.system_config, memory_mode=hw.vela.memory_mode,
                             cache_dir=cache_dir)


def _unknown(static: StaticProfile, hw: HardwareProfile) -> LatencyEstimate:
    """No figure: ``hw``'s runtime runs the ops, but our cost model has no cost for some."""
    ops = ", ".join(static.unknown_ops)
    return LatencyEstimate(hardware=hw.name, source="unknown", ms=None, cycles=None,
                           reason=f"{static.unknown_op_count} layer(s) of op(s) {ops} that runtime "
                                  f"{hw.runtime} runs but the cost model has no cost for")


def _measured(static: StaticProfile, hw: HardwareProfile, measure: Measure | None) -> LatencyEstimate:
    room = _host_ram_bytes(hw)
    if static.peak_ram_bytes > room:  # a 64 GiB plan was run on a 24 GiB host: refuse, never run
        return unsupported(hw, f"not run: the planned arena ({static.peak_ram_bytes:,} bytes) exceeds "
                               f"the RAM this host can give a model ({room:,} bytes)")
    if measure is None:
        from .host import measure as host_measure

        measure = host_measure
    result = measure(static.path).figures()
    ms = float(result.median_ms)
    return LatencyEstimate(hardware=hw.name, source="measured", ms=ms, cycles=ms * hw.clock_hz / 1e3,
                           reason=f"measured here: median of {result.runs} runs, {result.runtime}, "
                                  f"{result.threads} thread(s), p90 {result.p90_ms:.3g} ms",
                           energy_mj=energy_mj(hw, ms), measured=result)


def _host_ram_bytes(hw: HardwareProfile) -> int:
    """RAM a measured model may use: the profile's model share, capped by this machine's memory."""
    import os

    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: trust the profile
        physical = hw.model_ram_bytes
    return min(hw.model_ram_bytes, physical)


def _from_vela(hw: HardwareProfile, vela: VelaResult | None) -> LatencyEstimate:
    if vela is None:
        return unsupported(hw, f"{hw.name} takes its latency from Vela, and no Vela result is "
                               "available for this artifact (run the profiler with Vela)")
    reason = "Vela performance estimate"
    if vela.cpu_fallback_ops:
        reason += f"; CPU-fallback op(s) {list(vela.cpu_fallback_ops)} are not included"
    return LatencyEstimate(hardware=hw.name, source="vela", ms=vela.inference_ms,
                           cycles=float(vela.cycles), reason=reason,
                           energy_mj=energy_mj(hw, vela.inference_ms), vela=vela)
