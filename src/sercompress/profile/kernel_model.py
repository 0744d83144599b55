"""Per-layer latency model with the kernel structure of CMSIS-NN / ESP-NN, and its error band.

A whole-network MACs-per-cycle rate cannot describe TFLite Micro on a
microcontroller: a 1-channel convolution runs ~4x slower per MAC than a
64-channel one, float32 is ~5.7x slower than int8 for CNNs, an invoke costs
~4.5 k cycles and each layer 2-3 k (``hw_profiles/calibration``). So each layer
is split into the work its kernel actually does:

=========== =====================================================================
term        what it counts (per layer)
=========== =====================================================================
invoke      1 per inference (interpreter entry, input copy)
layer       1 per operator (dispatch, parameter setup)
mac         MACs of a general convolution's GEMM (after im2col)
mac1x1      MACs of a 1x1 convolution (GEMM straight on the input, no im2col)
fc_mac      MACs of a fully connected layer (matrix x vector: no weight reuse)
im2col      elements copied into the im2col buffer: ``MACs / out_channels`` of a
            non-1x1 convolution (``kh * kw * cin`` per output pixel) -- why narrow
            layers are slow per MAC
requant     output elements of conv / depthwise / FC: per-channel requantization
dw3x3_mac   MACs of a 3x3 depthwise convolution with multiplier 1 (the fast path)
dw_mac      MACs of any other depthwise convolution (the generic path)
pool        input elements of pooling / mean
elem        output elements of element-wise ops (activations, add, softmax, ...)
=========== =====================================================================

cycles = sum(term x cycles-per-term); the cycles per term are fitted to sourced
whole-network and per-kernel measurements (:mod:`.calibration`) and stored per
device and dtype in the hardware profile, together with the model's
leave-one-model-out error, from which the 90 % band is derived
(:func:`band`): ``[estimate x ratio_low, estimate x ratio_high]`` where the
ratios are the 5th / 95th percentiles of measured / predicted over the
left-out models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .types import (
    LatencyBand,
    LatencyEstimate,
    LayerLatency,
    LayerProfile,
    StaticProfile,
)

if TYPE_CHECKING:
    from .hardware import HardwareProfile

TERMS: tuple[str, ...] = ("invoke", "layer", "mac", "mac1x1", "fc_mac", "im2col", "requant",
                          "dw3x3_mac", "dw_mac", "pool", "elem")
#: A term no calibration sample exercises is costed like its more general kernel:
#: a 1x1 convolution or a matrix-vector product like the im2col GEMM, the depthwise 3x3
#: fast path like the generic depthwise kernel, that one like the GEMM.
PARENT: Mapping[str, str] = {"mac1x1": "mac", "fc_mac": "mac", "dw3x3_mac": "dw_mac",
                             "dw_mac": "mac"}

#: The only element-wise ops the calibration networks have (their output softmax / sigmoid, 2-10
#: elements): the fitted ``elem`` cycles describe them and nothing else. Every other element-wise
#: op (a concatenation's copy, a requantisation, an activation or add over a feature map) is costed
#: at the profile's per-layer element-wise rate (a few cycles per element, ``[latency.<dtype>]``) and
#: counted as unvalidated: the fitted figure (1158 cycles per element on the Cortex-M4 profiles)
#: applied to Light-SERNet's 176,640-element concatenation made a memcpy 40 % of its latency.
CALIBRATED_ELEMENTWISE: frozenset[str] = frozenset({"Softmax", "LogSoftmax", "Logistic"})

#: Canonical op -> kernel kind. Shape-only ops still cost a layer's dispatch.
KINDS: Mapping[str, str] = {
    "Conv2D": "conv", "DepthwiseConv2D": "depthwise", "FullyConnected": "fully_connected",
    "AveragePool2D": "pooling", "MaxPool2D": "pooling", "Mean": "pooling",
    "Reshape": "free", "Squeeze": "free", "Shape": "free",
}


@dataclass(frozen=True)
class KernelLayer:
    """What a kernel does in one layer, independent of how the layer was described."""

    kind: str               # conv | depthwise | fully_connected | pooling | elementwise | free
    macs: int = 0
    out_elements: int = 0
    out_channels: int = 1
    in_elements: int = 0
    kernel_area: int = 1    # kh * kw
    in_channels: int = 0    # 0: unknown (taken equal to out_channels)


def kernel_layer(layer: LayerProfile) -> KernelLayer:
    """Kernel view of a profiled layer (kernel area recovered from MACs and shapes)."""
    kind = KINDS.get(layer.op, "elementwise")
    out_shape = layer.output_shapes[0] if layer.output_shapes else ()
    in_shape = layer.input_shapes[0] if layer.input_shapes else ()
    cout = int(out_shape[-1]) if out_shape else 1
    area = 1
    if kind == "conv" and layer.output_elements and in_shape:
        area = max(1, round(layer.macs / (layer.output_elements * max(int(in_shape[-1]), 1))))
    elif kind == "depthwise" and layer.output_elements:
        area = max(1, round(layer.macs / layer.output_elements))
    cin = int(in_shape[-1]) if in_shape else 0
    return KernelLayer(kind, layer.macs, layer.output_elements, cout, layer.input_elements, area, cin)


def layer_terms(k: KernelLayer) -> dict[str, float]:
    """The term counts of one layer (``invoke`` excluded: it is per inference)."""
    t = dict.fromkeys(TERMS, 0.0)
    t["layer"] = 1.0
    if k.kind == "conv" and k.kernel_area > 1:
        t["mac"] = k.macs
        t["im2col"] = k.macs / max(k.out_channels, 1)
    elif k.kind == "conv":
        t["mac1x1"] = k.macs
    elif k.kind == "fully_connected":
        t["fc_mac"] = k.macs
    elif k.kind == "depthwise":
        fast = k.kernel_area == 9 and k.in_channels in (0, k.out_channels)
        t["dw3x3_mac" if fast else "dw_mac"] = k.macs
    if k.kind in ("conv", "fully_connected", "depthwise"):
        t["requant"] = k.out_elements
    elif k.kind == "pooling":
        t["pool"] = k.in_elements
    elif k.kind == "elementwise":
        t["elem"] = k.out_elements
    return t


def model_terms(layers: Iterable[KernelLayer], invoke: bool = True) -> dict[str, float]:
    """Summed term counts of a network (one invoke unless it is a single kernel call)."""
    total = dict.fromkeys(TERMS, 0.0)
    total["invoke"] = 1.0 if invoke else 0.0
    for k in layers:
        for term, value in layer_terms(k).items():
            total[term] += value
    return total


def cycles(terms: Mapping[str, float], coefficients: Mapping[str, float]) -> float:
    return float(sum(terms.get(t, 0.0) * coefficients.get(t, 0.0) for t in TERMS))


# --------------------------------------------------------------------------- estimate

#: A model whose share of cycles in terms no validation sample exercised exceeds this
#: is outside the calibrated op mix; MACs beyond SIZE_FACTOR x the calibrated range
#: are outside its size range. Either is stated with the estimate.
UNVALIDATED_SHARE = 0.10
SIZE_FACTOR = 4.0


def kernel_estimate(static: StaticProfile, hw: HardwareProfile) -> LatencyEstimate | None:
    """The kernel model's estimate with its 90 % band; ``None`` if ``hw`` has no kernel model
    for the model's arithmetic (the caller then uses the plain per-layer model).

    Layers of a dtype without a kernel model (int16 activations: an int16x8 file, or the int16
    blocks of a per-block mixed one) cost what the kernel model gives them as the modelled dtype,
    scaled by the ratio of the profile's per-layer rates for its op class (int16 at "half
    the int8 rate" costs twice its int8 kernel cycles); the band is the kernel part's
    validated band plus those layers at x0.5-x2 (``UNVALIDATED_FACTOR``), both stated in its
    basis. Why not the per-layer rates for the whole file: an int8 layer would then cost
    one figure in an int8 file and another (about twice) in a mixed one.
    """
    from .cost import energy_mj

    planned = _dtypes(static, hw)
    if planned is None:
        return None
    glue, rows = planned
    first = hw.latency.kernels_for(glue).model_dump()
    per_dtype: dict[str, float] = {}
    unvalidated = relative = 0.0
    layers = []
    for layer, dtype in rows:
        coeffs = hw.latency.kernels_for(dtype)
        c, outside = _layer_cycles(layer, dtype, hw, first if coeffs is None else coeffs.model_dump(), glue)
        if coeffs is None:
            relative += c
        else:
            per_dtype[dtype] = per_dtype.get(dtype, 0.0) + c
            unvalidated += outside
        layers.append(LayerLatency(index=layer.index, name=layer.name, op=layer.op,
                                   op_class=KINDS.get(layer.op, "elementwise"), dtype=dtype,
                                   macs=layer.macs, elements=layer.output_elements, cycles=c,
                                   ms=1e3 * c / hw.clock_hz))
    main = max(per_dtype, key=per_dtype.__getitem__) if per_dtype else glue
    kernel_total = sum(per_dtype.values()) + first["invoke"]
    total = kernel_total + relative
    ms = 1e3 * total / hw.clock_hz
    reason = (f"kernel model ({hw.kernels} on {hw.core} at {hw.clock_hz / 1e6:g} MHz), "
              f"fitted on sourced measurements")
    band = _band(static, hw, main, 1e3 * kernel_total / hw.clock_hz, unvalidated / max(kernel_total, 1.0))
    if relative and band is not None:
        others = ", ".join(sorted({d for _, d in rows if hw.latency.kernels_for(d) is None}))
        reason += (f"; {others} layers ({relative / total:.0%} of the cycles) at the {main} kernels' "
                   f"cycles x the profile's {main}/{others} rate ratio")
        band = _widened(band, 1e3 * relative / hw.clock_hz, f"on the {main} kernels; {others} layers "
                                                             f"({relative / total:.0%} of the cycles)")
    return LatencyEstimate(hardware=hw.name, source="estimated", ms=ms, cycles=total, reason=reason,
                           layers=tuple(layers), energy_mj=energy_mj(hw, ms), band=band)


def _dtypes(static: StaticProfile, hw: HardwareProfile) -> tuple[str, list[tuple[LayerProfile, str]]] | None:
    """(the modelled dtype conversions and shape ops are costed as, each layer with its costing
    dtype); None when the kernel model cannot cost the file (no kernels for its arithmetic, or a
    float layer in an integer file: the per-layer model then costs it, as before)."""
    from .dtype_policy import compute_dtype, integer_compute_dtypes
    from .ops import BOOKKEEPING_DTYPES, CONVERSION_OPS

    integer = integer_compute_dtypes(static)
    modelled = [d for d in integer or ["float32"] if hw.latency.kernels_for(d) is not None]
    if not modelled and integer and hw.latency.kernels_for("int8") is not None:
        modelled = ["int8"]  # an int16x8 file: relative to the int8 kernels, as a mixed file's int16 layers
    if not modelled or not static.layers:
        return None
    glue = modelled[0]
    rows = []
    for layer in static.layers:
        dtype = compute_dtype(layer)
        if dtype in BOOKKEEPING_DTYPES or (layer.op in CONVERSION_OPS and integer):
            dtype = glue
        if hw.latency.kernels_for(dtype) is None and (
                dtype not in integer or hw.latency.for_dtype(dtype) is None or hw.latency.for_dtype(glue) is None):
            return None
        rows.append((layer, dtype))
    return glue, rows


def _layer_cycles(layer: LayerProfile, dtype: str, hw: HardwareProfile, coeffs: Mapping[str, float],
                  glue: str) -> tuple[float, float]:
    """(cycles of one layer, the part of them no validation model exercised).

    ``coeffs`` are ``dtype``'s kernel cycles, or the modelled ``glue`` dtype's when ``dtype`` has
    none (the layer is then scaled by the rates' ratio). An element-wise op other than the
    calibration's softmax costs the profile's per-layer element rate (:data:`CALIBRATED_ELEMENTWISE`).
    """
    terms = layer_terms(kernel_layer(layer))
    rates = hw.latency.for_dtype(dtype)
    uncalibrated = 0.0
    if terms["elem"] and layer.op not in CALIBRATED_ELEMENTWISE and rates is not None:
        uncalibrated, terms["elem"] = terms["elem"] * rates.elementwise_cycles_per_element, 0.0
    c = cycles(terms, coeffs)
    if hw.latency.kernels_for(dtype) is None:
        return c * rate_ratio(layer.op, hw.latency.for_dtype(glue), rates) + uncalibrated, 0.0
    check = hw.latency.validation.get(dtype)
    outside = 0.0 if check is None else sum(terms[t] * coeffs[t] for t in TERMS
                                            if t not in check.validated_terms and t != "invoke")
    return c + uncalibrated, outside + uncalibrated


def _widened(band: LatencyBand, relative_ms: float, what: str) -> LatencyBand:
    """The kernel part's band plus the relatively costed layers at x0.5-x2."""
    from .cost import UNVALIDATED_FACTOR

    return band.model_copy(update={
        "low_ms": band.low_ms + relative_ms / UNVALIDATED_FACTOR,
        "high_ms": band.high_ms + relative_ms * UNVALIDATED_FACTOR,
        "basis": f"{band.basis} {what} unvalidated, x{1 / UNVALIDATED_FACTOR:g}-x{UNVALIDATED_FACTOR:g} assumed"})


def rate_ratio(op: str, modelled: Any, other: Any) -> float:
    """How many times slower ``other``'s per-layer rates are than ``modelled``'s for ``op``'s class
    (1 where a rate is zero: the profile then gives no ratio)."""
    from .cost import MAC_FIELD, op_class

    cls = op_class(op)
    if cls in MAC_FIELD:
        fast, slow = getattr(modelled, MAC_FIELD[cls]), getattr(other, MAC_FIELD[cls])
        return fast / slow if fast > 0 and slow > 0 else 1.0
    field = {"pooling": "pooling_cycles_per_element", "elementwise": "elementwise_cycles_per_element"}.get(cls)
    if field is None:
        return 1.0
    slow, fast = getattr(other, field), getattr(modelled, field)
    return slow / fast if fast > 0 and slow > 0 else 1.0


def _band(static: StaticProfile, hw: HardwareProfile, dtype: str, ms: float,
          unvalidated_share: float) -> LatencyBand | None:
    check = hw.latency.validation.get(dtype)
    if check is None:
        return None
    outside = []
    if unvalidated_share > UNVALIDATED_SHARE:
        outside.append(f"{unvalidated_share:.0%} of its cycles are in kernels no validation model "
                       "used (op mix never seen)")
    if static.macs > SIZE_FACTOR * check.macs_max or static.macs * SIZE_FACTOR < check.macs_min:
        outside.append(f"{static.macs:,} MACs, calibrated on {check.macs_min:,} to "
                       f"{check.macs_max:,} (size never seen)")
    return LatencyBand(low_ms=ms * check.ratio_low, high_ms=ms * check.ratio_high,
                       basis=f"{check.summary()}, leave-one-model-out", outside="; ".join(outside),
                       op_mix_outside=unvalidated_share > UNVALIDATED_SHARE)
