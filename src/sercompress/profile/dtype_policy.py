"""Which dtypes a model computes in, and whether a device can run them at all.

The compute dtype of a layer is its activations' (int8 for a quantized layer);
int32 / int64 / bool tensors are shapes, indices or biases, never the compute
dtype, and the float<->int conversions at a model's boundary run on every
device's CPU, so they do not make an integer model a float one. A device that
lacks a dtype, a float path or hybrid kernels gets a reason here, never a number
(:func:`unsupported_reasons`, used by the latency routing and the fit's dtype check).
An op we have no cost for is only a reason when the device's runtime lacks it
(:func:`.ops.runtime_lacks`); one the runtime runs leaves the latency unknown, not
unsupported (:func:`.latency.estimate`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .cost import is_mac_op
from .hardware import FLOAT_DTYPES, HardwareProfile
from .ops import BOOKKEEPING_DTYPES, CONVERSION_OPS, DTYPE_ALIASES, runtime_lacks
from .types import LayerProfile, StaticProfile


def compute_dtype(layer: LayerProfile) -> str:
    """The dtype a layer's arithmetic runs in: its activations' (int8 for quantized layers)."""
    dt = layer.activation_dtype
    return DTYPE_ALIASES.get(dt, dt)


def compute_dtypes(static: StaticProfile) -> set[str]:
    """Dtypes the device must compute in: those of every layer but the I/O conversions."""
    return {compute_dtype(x) for x in static.layers if x.op not in CONVERSION_OPS}


def integer_compute_dtypes(static: StaticProfile) -> list[str]:
    """The model's integer compute dtypes, sorted (empty for a float model)."""
    return sorted(device_dtypes(sorted(compute_dtypes(static))) - FLOAT_DTYPES)


def is_hybrid(layer: LayerProfile) -> bool:
    """int8/int16 weights with float activations (dynamic-range quantization)."""
    return (is_mac_op(layer.op) and layer.dtype in ("int8", "int16", "uint8")
            and compute_dtype(layer) in FLOAT_DTYPES)


def device_dtypes(names: Sequence[str]) -> set[str]:
    """``names`` as a device sees them: aliases folded, bookkeeping dtypes dropped."""
    return {DTYPE_ALIASES.get(n, n) for n in names} - BOOKKEEPING_DTYPES


def unsupported_reasons(static: StaticProfile, hw: HardwareProfile) -> list[str]:
    """Why ``hw`` cannot run ``static`` at all; empty when it can."""
    reasons: list[str] = []
    weights = device_dtypes(static.weight_dtypes) - set(hw.weight_dtypes)
    if weights:
        reasons.append(f"weight dtype(s) {sorted(weights)} not supported by {hw.name} "
                       f"(supports {list(hw.weight_dtypes)})")
    acts = device_dtypes(sorted(compute_dtypes(static))) - set(hw.activation_dtypes)
    if acts:
        reasons.append(f"activation dtype(s) {sorted(acts)} not supported by {hw.name} "
                       f"(supports {list(hw.activation_dtypes)})")
    floats = compute_dtypes(static) & FLOAT_DTYPES
    if floats and not hw.latency.float_supported:
        reasons.append(f"float compute ({sorted(floats)}) has no path on {hw.core}")
    hybrid = [layer.name or layer.op for layer in static.layers if is_hybrid(layer)]
    if hybrid and not hw.hybrid_supported:
        reasons.append(f"{len(hybrid)} hybrid layer(s) (int weights, float activations) but "
                       f"runtime {hw.runtime} has no hybrid kernels")
    if not hw.measured:  # a measured device proves support by running it
        lacking = {op: why for op in _ops_to_check(static)
                   if (why := runtime_lacks(hw.runtime, static.format, op))}
        if lacking:
            reasons.append(f"{OPS_REASON} {hw.runtime}: "
                           + "; ".join(f"{op} ({why})" for op, why in lacking.items()))
    return reasons


#: How a reason about operators the runtime lacks starts (the fit's dtype check leaves it out).
OPS_REASON = "op(s) not supported by runtime"


def _ops_to_check(static: StaticProfile) -> list[str]:
    """Every op of a .tflite (the runtime runs that very file); only unknown ones of an .onnx
    (a TFLite runtime runs its conversion, whose ops are not known here)."""
    if static.format == "tflite":
        return sorted({layer.raw_op for layer in static.layers})
    return list(static.unknown_ops)
