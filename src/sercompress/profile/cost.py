"""The per-layer cost model: cycles of a profiled artifact on a hardware profile.

cycles = sum over layers of  MACs / (MACs per cycle of that op class and dtype)
                           + elements x (cycles per element of elementwise / pooling ops)
                           + a fixed per-layer overhead,
and ms = cycles / clock. The coefficients live in the hardware profile's
``[latency.<dtype>]`` tables, each one cited in its ``sources``. Whether a
device should be costed this way at all (rather than measured, or read from
Vela) is :mod:`.latency`'s decision; how the host's coefficients are fitted is
:mod:`.calibration`'s.
"""

from __future__ import annotations

from collections.abc import Mapping

from .hardware import DtypeCoefficients, HardwareProfile
from .ops import BOOKKEEPING_DTYPES, CONVERSION_OPS, CostClass, spec
from .types import (
    LatencyBand,
    LatencyEstimate,
    LayerLatency,
    LayerProfile,
    StaticProfile,
)

OpClass = CostClass
#: An estimate with no validated error (no calibration data for the device / dtype) is
#: given this factor either way, and says so: a FITS must survive a 2x error.
UNVALIDATED_FACTOR = 2.0
#: MAC op class -> the coefficient giving its MACs per cycle.
MAC_FIELD: Mapping[str, str] = {
    "conv": "conv_macs_per_cycle",
    "depthwise": "depthwise_macs_per_cycle",
    "fully_connected": "fully_connected_macs_per_cycle",
}


def op_class(op: str) -> OpClass:
    """The cost class of a canonical op: the operator table's (:mod:`.ops`)."""
    return spec(op).cost


def is_mac_op(op: str) -> bool:
    return op_class(op) in MAC_FIELD


def model_estimate(static: StaticProfile, hw: HardwareProfile, *,
                   use_effective_macs: bool = False) -> LatencyEstimate:
    """The per-layer arithmetic alone, whatever the profile's usual source.

    A device calibrated on sourced measurements uses its kernel model, with a band
    (:mod:`.kernel_model`); the others the MACs-per-cycle rates below.
    """
    if not use_effective_macs:
        from .kernel_model import kernel_estimate

        calibrated = kernel_estimate(static, hw)
        if calibrated is not None:
            return calibrated
    # dtype_policy asks this module which ops are MAC ops; imported here to keep that one-way
    from .dtype_policy import compute_dtype, integer_compute_dtypes

    layers: list[LayerLatency] = []
    integer = integer_compute_dtypes(static)
    for layer in static.layers:
        dtype = compute_dtype(layer)
        if dtype in BOOKKEEPING_DTYPES:  # int32 shape arithmetic: costed like the model's own ops
            dtype = integer[0] if integer else "float32"
        if layer.op in CONVERSION_OPS and hw.latency.for_dtype(dtype) is None and integer:
            dtype = integer[0]  # a float<->int conversion costed like the integer elementwise op
        coeffs = hw.latency.for_dtype(dtype)
        if coeffs is None:
            return unsupported(hw, f"no [latency.{dtype}] coefficients for {layer.op} "
                                   f"layer '{layer.name}' on {hw.name}")
        cycles, elements = layer_cycles(layer, coeffs, hw.latency.layer_overhead_cycles,
                                        use_effective_macs)
        layers.append(LayerLatency(index=layer.index, name=layer.name, op=layer.op,
                                   op_class=op_class(layer.op), dtype=dtype,
                                   macs=_macs(layer, use_effective_macs), elements=elements,
                                   cycles=cycles, ms=1e3 * cycles / hw.clock_hz))
    total = sum(x.cycles for x in layers)
    ms = 1e3 * total / hw.clock_hz
    return LatencyEstimate(hardware=hw.name, source="estimated", ms=ms, cycles=total,
                           reason=f"per-layer model, {hw.kernels} on {hw.core} at "
                                  f"{hw.clock_hz / 1e6:g} MHz",
                           layers=tuple(layers), energy_mj=energy_mj(hw, ms),
                           band=LatencyBand(low_ms=ms / UNVALIDATED_FACTOR,
                                            high_ms=ms * UNVALIDATED_FACTOR,
                                            basis=f"unvalidated: no calibration data for this "
                                                  f"device and dtype, x{1 / UNVALIDATED_FACTOR:g}"
                                                  f"-x{UNVALIDATED_FACTOR:g} assumed"))


def layer_cycles(layer: LayerProfile, coeffs: DtypeCoefficients, overhead: float,
                 use_effective_macs: bool = False) -> tuple[float, int]:
    """(cycles, elements costed per element) of one layer."""
    cls = op_class(layer.op)
    if cls in MAC_FIELD:
        return _macs(layer, use_effective_macs) / getattr(coeffs, MAC_FIELD[cls]) + overhead, 0
    if cls == "pooling":
        return layer.input_elements * coeffs.pooling_cycles_per_element + overhead, layer.input_elements
    if cls == "elementwise":
        return (layer.output_elements * coeffs.elementwise_cycles_per_element + overhead,
                layer.output_elements)
    return overhead, 0  # "free" (reshape) and, if it ever gets here, "unknown"


def _macs(layer: LayerProfile, use_effective_macs: bool) -> int:
    if not is_mac_op(layer.op):
        return 0
    return layer.effective_macs if use_effective_macs else layer.macs


def energy_mj(hw: HardwareProfile, ms: float | None) -> float | None:
    """mJ = mW x s; only where the profile states an active power."""
    if hw.active_power_mw is None or ms is None:
        return None
    return hw.active_power_mw * ms / 1e3


def unsupported(hw: HardwareProfile, reason: str) -> LatencyEstimate:
    """No figure, and why."""
    return LatencyEstimate(hardware=hw.name, source="unsupported", ms=None, cycles=None, reason=reason)
