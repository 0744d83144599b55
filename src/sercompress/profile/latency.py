"""Per-layer latency model: how long a profiled artifact takes on a hardware profile.

cycles = sum over layers of  MACs / (MACs per cycle of that op class and dtype)
                           + elements x (cycles per element of elementwise / pooling ops)
                           + a fixed per-layer overhead,
and ms = cycles / clock. The coefficients live in the hardware profile's
``[latency.<dtype>]`` tables, each one cited in its ``sources``.

Where a number would be a guess it is not given: a dtype the device does not
run, float on a device without a float path, hybrid (int8-weight, float
activation) layers on a runtime without hybrid kernels, or ops the model does
not know come back as ``source="unsupported"`` with the reason. Devices whose
figures come from elsewhere are routed there: ``host`` is *measured*
(:mod:`sercompress.profile.host`), Vela devices take Vela's cycle count.

:func:`fit_coefficients` fits the same model on measured latencies by
non-negative least squares; it is how the host's coefficients are obtained and
how the model is checked against measurement (``bench/profiler.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .hardware import FLOAT_DTYPES, DtypeCoefficients, HardwareProfile
from .ops import BOOKKEEPING_DTYPES, CONVERSION_OPS, DTYPE_ALIASES, OPS, CostClass
from .types import LayerProfile, StaticProfile

Source = Literal["estimated", "vela", "measured", "unsupported"]
OpClass = CostClass

#: Canonical op -> cost class: the operator table's (:mod:`.ops`), one table for every stage.
OP_CLASSES: Mapping[str, OpClass] = {name: s.cost for name, s in OPS.items()}
_MAC_FIELD: Mapping[str, str] = {
    "conv": "conv_macs_per_cycle",
    "depthwise": "depthwise_macs_per_cycle",
    "fully_connected": "fully_connected_macs_per_cycle",
}
_BOOKKEEPING_DTYPES = BOOKKEEPING_DTYPES
_DTYPE_ALIASES = DTYPE_ALIASES


@dataclass(frozen=True)
class LayerLatency:
    index: int
    name: str
    op: str
    op_class: str
    dtype: str
    macs: int
    elements: int
    cycles: float
    ms: float


@dataclass(frozen=True)
class LatencyEstimate:
    hardware: str
    source: Source
    ms: float | None
    cycles: float | None
    reason: str
    layers: tuple[LayerLatency, ...] = ()
    energy_mj: float | None = None
    extra: Mapping[str, Any] | None = None   # e.g. the HostLatency figures when measured

    @property
    def supported(self) -> bool:
        return self.source != "unsupported"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra"] = dict(self.extra) if self.extra else None
        return d


def op_class(op: str) -> OpClass:
    return OP_CLASSES.get(op, "unknown")


def compute_dtype(layer: LayerProfile) -> str:
    """The dtype a layer's arithmetic runs in: its activations' (int8 for quantized layers)."""
    dt = layer.activation_dtype
    return _DTYPE_ALIASES.get(dt, dt)


def compute_dtypes(static: StaticProfile) -> set[str]:
    """Dtypes the device must compute in: those of every layer but the I/O conversions."""
    return {compute_dtype(x) for x in static.layers if x.op not in CONVERSION_OPS}


def is_hybrid(layer: LayerProfile) -> bool:
    """int8/int16 weights with float activations (dynamic-range quantization)."""
    return (op_class(layer.op) in _MAC_FIELD and layer.dtype in ("int8", "int16", "uint8")
            and compute_dtype(layer) in FLOAT_DTYPES)


def unsupported_reasons(static: StaticProfile, hw: HardwareProfile) -> list[str]:
    """Why ``hw`` cannot run ``static`` at all; empty when it can."""
    reasons: list[str] = []
    weights = _dtypes(static.weight_dtypes) - set(hw.weight_dtypes)
    if weights:
        reasons.append(f"weight dtype(s) {sorted(weights)} not supported by {hw.name} "
                       f"(supports {list(hw.weight_dtypes)})")
    acts = _dtypes(sorted(compute_dtypes(static))) - set(hw.activation_dtypes)
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
    if static.unknown_ops and not hw.measured:  # a measured device proves support by running it
        reasons.append(f"unknown op(s) {list(static.unknown_ops)}: cost and runtime support unknown")
    return reasons


def _dtypes(names: Sequence[str]) -> set[str]:
    return {_DTYPE_ALIASES.get(n, n) for n in names} - _BOOKKEEPING_DTYPES


def estimate(static: StaticProfile, hw: HardwareProfile, *,
             measure: Callable[[str], Any] | None = None,
             vela: Mapping[str, Any] | None = None,
             use_effective_macs: bool = False) -> LatencyEstimate:
    """Latency of ``static`` on ``hw``: measured (host), from Vela, estimated, or unsupported.

    ``measure(path) -> HostLatency`` defaults to :func:`sercompress.profile.host.measure`
    (a subprocess, a few seconds). ``vela`` is a Vela result mapping (``cycles`` or ``ms``);
    by default ``static.extra["vela"]``. ``use_effective_macs`` costs only non-zero weights,
    for runtimes with sparse kernels (none of the shipped ones).
    """
    reasons = unsupported_reasons(static, hw)
    if reasons:
        return _unsupported(hw, "; ".join(reasons))
    if hw.measured:
        return _measured(static, hw, measure)
    if hw.runtime == "vela":
        return _from_vela(hw, vela if vela is not None else static.extra.get("vela"))
    return model_estimate(static, hw, use_effective_macs=use_effective_macs)


def with_device_ground_truth(static: StaticProfile, hw: HardwareProfile,
                             cache_dir: str | None = None) -> StaticProfile:
    """``static`` plus the ground truth ``hw`` takes its figures from (Vela for Vela devices).

    A no-op for other devices, for models the device cannot run at all (the estimate
    says why), for non-TFLite files (Vela reads only .tflite; the estimate then says
    why it has no figure) and when the result is already there.
    """
    if hw.runtime != "vela" or hw.vela is None or static.format != "tflite" or static.extra.get("vela"):
        return static
    if unsupported_reasons(static, hw):  # Vela would put every op on the CPU and report zeros
        return static
    from . import with_ground_truth

    return with_ground_truth(static, vela=True, accelerator=hw.vela.accelerator_config,
                             system_config=hw.vela.system_config, memory_mode=hw.vela.memory_mode,
                             cache_dir=cache_dir)


def model_estimate(static: StaticProfile, hw: HardwareProfile, *,
                   use_effective_macs: bool = False) -> LatencyEstimate:
    """The per-layer arithmetic alone, whatever the profile's usual source."""
    layers: list[LayerLatency] = []
    integer = sorted(_dtypes(sorted(compute_dtypes(static))) - FLOAT_DTYPES)
    for layer in static.layers:
        dtype = compute_dtype(layer)
        if dtype in _BOOKKEEPING_DTYPES:  # int32 shape arithmetic: costed like the model's own ops
            dtype = integer[0] if integer else "float32"
        if layer.op in CONVERSION_OPS and hw.latency.for_dtype(dtype) is None and integer:
            dtype = integer[0]  # a float<->int conversion costed like the integer elementwise op
        coeffs = hw.latency.for_dtype(dtype)
        if coeffs is None:
            return _unsupported(hw, f"no [latency.{dtype}] coefficients for {layer.op} "
                                    f"layer '{layer.name}' on {hw.name}")
        cycles, elements = layer_cycles(layer, coeffs, hw.latency.layer_overhead_cycles,
                                        use_effective_macs)
        layers.append(LayerLatency(layer.index, layer.name, layer.op, op_class(layer.op), dtype,
                                   _macs(layer, use_effective_macs), elements, cycles,
                                   1e3 * cycles / hw.clock_hz))
    total = sum(x.cycles for x in layers)
    ms = 1e3 * total / hw.clock_hz
    return LatencyEstimate(hw.name, "estimated", ms, total,
                           f"per-layer model, {hw.kernels} on {hw.core} at {hw.clock_hz / 1e6:g} MHz",
                           tuple(layers), _energy(hw, ms))


def layer_cycles(layer: LayerProfile, coeffs: DtypeCoefficients, overhead: float,
                 use_effective_macs: bool = False) -> tuple[float, int]:
    """(cycles, elements costed per element) of one layer."""
    cls = op_class(layer.op)
    if cls in _MAC_FIELD:
        return _macs(layer, use_effective_macs) / getattr(coeffs, _MAC_FIELD[cls]) + overhead, 0
    if cls == "pooling":
        return layer.input_elements * coeffs.pooling_cycles_per_element + overhead, layer.input_elements
    if cls == "elementwise":
        return (layer.output_elements * coeffs.elementwise_cycles_per_element + overhead,
                layer.output_elements)
    return overhead, 0  # "free" (reshape) and, if it ever gets here, "unknown"


def _macs(layer: LayerProfile, use_effective_macs: bool) -> int:
    if op_class(layer.op) not in _MAC_FIELD:
        return 0
    return layer.effective_macs if use_effective_macs else layer.macs


def _energy(hw: HardwareProfile, ms: float | None) -> float | None:
    """mJ = mW x s; only where the profile states an active power."""
    if hw.active_power_mw is None or ms is None:
        return None
    return hw.active_power_mw * ms / 1e3


def _unsupported(hw: HardwareProfile, reason: str) -> LatencyEstimate:
    return LatencyEstimate(hw.name, "unsupported", None, None, reason)


def _measured(static: StaticProfile, hw: HardwareProfile,
              measure: Callable[[str], Any] | None) -> LatencyEstimate:
    if measure is None:
        from .host import measure as host_measure

        measure = host_measure
    result = measure(static.path)
    ms = float(result.median_ms)
    return LatencyEstimate(hw.name, "measured", ms, ms * hw.clock_hz / 1e3,
                           f"measured here: median of {result.runs} runs, {result.runtime}, "
                           f"{result.threads} thread(s), p90 {result.p90_ms:.3g} ms",
                           (), _energy(hw, ms), result.to_dict())


#: Keys a Vela result may carry its figures under (sercompress.profile.vela).
_VELA_CYCLE_KEYS = ("cycles", "npu_cycles", "total_cycles")
_VELA_MS_KEYS = ("ms", "inference_ms", "latency_ms")


def _from_vela(hw: HardwareProfile, vela: Mapping[str, Any] | None) -> LatencyEstimate:
    if not vela:
        return _unsupported(hw, f"{hw.name} takes its latency from Vela, and no Vela result is "
                                "available for this artifact (run the profiler with Vela)")
    cycles = next((float(vela[k]) for k in _VELA_CYCLE_KEYS if vela.get(k) is not None), None)
    ms = next((float(vela[k]) for k in _VELA_MS_KEYS if vela.get(k) is not None), None)
    if ms is None and cycles is not None:
        ms = 1e3 * cycles / hw.clock_hz
    if ms is None:
        return _unsupported(hw, f"the Vela result has no cycle count: keys {sorted(vela)}")
    if cycles is None:
        cycles = ms * hw.clock_hz / 1e3
    cpu_ops = vela.get("cpu_ops") or vela.get("cpu_fallback_ops") or ()
    reason = "Vela performance estimate"
    if cpu_ops:
        reason += f"; CPU-fallback op(s) {list(cpu_ops)} are not included"
    return LatencyEstimate(hw.name, "vela", ms, cycles, reason, (), _energy(hw, ms), dict(vela))


# --------------------------------------------------------------------------- fitting

#: Design-matrix columns of the fit: what each coefficient multiplies.
FIT_TERMS: tuple[str, ...] = ("conv", "depthwise", "fully_connected", "elementwise", "pooling",
                              "layers")


@dataclass(frozen=True)
class FitReport:
    """Coefficients fitted on measured latencies, with the fit's own residuals."""

    dtype: str
    clock_hz: float
    coefficients: DtypeCoefficients
    layer_overhead_cycles: float
    names: tuple[str, ...]
    measured_ms: tuple[float, ...]
    predicted_ms: tuple[float, ...]

    @property
    def relative_errors(self) -> tuple[float, ...]:
        return tuple((p - m) / m for p, m in zip(self.predicted_ms, self.measured_ms))


def design_row(static: StaticProfile) -> list[float]:
    """Per-term totals of a profile: MACs per MAC class, elements, layer count."""
    row = dict.fromkeys(FIT_TERMS, 0.0)
    for layer in static.layers:
        cls = op_class(layer.op)
        if cls in _MAC_FIELD:
            row[cls] += layer.macs
        elif cls == "pooling":
            row["pooling"] += layer.input_elements
        elif cls == "elementwise":
            row["elementwise"] += layer.output_elements
        row["layers"] += 1
    return [row[t] for t in FIT_TERMS]


def fit_coefficients(samples: Sequence[tuple[str, StaticProfile, float]], clock_hz: float,
                     dtype: str = "int8") -> FitReport:
    """Fit the per-layer model to (name, profile, measured ms) samples by non-negative LSQ.

    Unknowns are cycles per MAC of each MAC class, cycles per element, and cycles per
    layer. Terms that are zero in every sample (e.g. depthwise in Light-SERNet) cannot
    be identified; they get the rate of the nearest identified MAC class (conv) and the
    report says so by carrying the same value. So do MAC classes that are under
    :data:`MINOR_SHARE` of the MACs in every sample (Light-SERNet's 1,280-MAC classifier):
    left free, such a column soaks up the noise of the whole measurement. Rows are weighted by 1/measured so the
    fit minimises *relative* error, which is what a latency model is judged on.
    """
    import numpy as np
    from scipy.optimize import nnls

    if len(samples) < 2:
        raise ValueError("fitting needs at least two measured models")
    x = np.array([design_row(s) for _, s, _ in samples], dtype=np.float64)
    y_cycles = np.array([ms * clock_hz / 1e3 for _, _, ms in samples], dtype=np.float64)
    x = _merge_minor_mac_terms(x)
    used = np.flatnonzero(x.any(axis=0))
    w = 1.0 / y_cycles
    scale = x[:, used].max(axis=0)
    sol, _ = nnls((x[:, used] / scale) * w[:, None], y_cycles * w)
    cost = dict.fromkeys(FIT_TERMS, 0.0)
    for j, col in enumerate(used):
        cost[FIT_TERMS[col]] = float(sol[j] / scale[j])
    coeffs = _coefficients_from_costs(cost)
    predicted = x @ np.array([cost[t] for t in FIT_TERMS])
    return FitReport(dtype, clock_hz, coeffs, cost["layers"], tuple(n for n, _, _ in samples),
                     tuple(ms for _, _, ms in samples),
                     tuple(float(c) * 1e3 / clock_hz for c in predicted))


#: A MAC class below this share of every sample's MACs is costed at the conv rate in a fit.
MINOR_SHARE = 0.01


def _merge_minor_mac_terms(x):
    """Fold depthwise / FC MACs into the conv column where they are too few to identify."""
    x = x.copy()
    conv = FIT_TERMS.index("conv")
    macs = x[:, [FIT_TERMS.index(t) for t in _MAC_FIELD]].sum(axis=1)
    for term in ("depthwise", "fully_connected"):
        j = FIT_TERMS.index(term)
        share = x[:, j] / (macs + (macs == 0))
        if share.max() < MINOR_SHARE:
            x[:, conv] += x[:, j]
            x[:, j] = 0.0
    return x


def _coefficients_from_costs(cost: Mapping[str, float]) -> DtypeCoefficients:
    """Cycles-per-MAC costs -> MACs-per-cycle rates (unidentified classes take conv's)."""
    conv = cost["conv"] if cost["conv"] > 0 else None

    def rate(term: str) -> float:
        c = cost[term] if cost[term] > 0 else conv
        return 1.0 / c if c else 1e9  # a class that costs nothing measurable: "free"

    return DtypeCoefficients(
        conv_macs_per_cycle=rate("conv"),
        depthwise_macs_per_cycle=rate("depthwise"),
        fully_connected_macs_per_cycle=rate("fully_connected"),
        elementwise_cycles_per_element=cost["elementwise"],
        pooling_cycles_per_element=cost["pooling"],
    )


def predict_ms(static: StaticProfile, coeffs: DtypeCoefficients, overhead: float,
               clock_hz: float) -> float:
    """Model latency of a profile with explicit coefficients (e.g. freshly fitted ones)."""
    cycles = sum(layer_cycles(layer, coeffs, overhead)[0] for layer in static.layers)
    return 1e3 * cycles / clock_hz


def fit_host_coefficients(artifacts: Sequence[str], clock_hz: float, *, threads: int | None = 1,
                          runs: int = 50, dtype: str = "int8",
                          statistic: Literal["min_ms", "median_ms"] = "min_ms",
                          rounds: int = 3) -> FitReport:
    """Measure ``artifacts`` on this machine and fit the per-layer model to them.

    This is how the ``host`` profile's coefficients are obtained (``bench/profiler.py``),
    and, predicting an artifact left out of the fit, how far the per-layer model is from
    a measurement. No TensorFlow: artifacts are built by the caller.

    The fit uses each artifact's fastest run by default: a cost model describes the
    uncontended machine, and on a shared VM the median also carries other tenants' load
    (compare against ``median_ms`` to see how much). The artifacts are measured in
    ``rounds`` interleaved passes and the best pass kept per artifact, so a burst of load
    during one artifact's runs does not skew the fit towards it.
    """
    from . import profile_artifact
    from .host import measure

    best: dict[str, float] = {}
    for _ in range(max(rounds, 1)):
        for path in artifacts:
            ms = float(getattr(measure(path, threads=threads, runs=runs), statistic))
            best[str(path)] = min(ms, best.get(str(path), ms))
    samples = [(str(p), profile_artifact(p), best[str(p)]) for p in artifacts]
    return fit_coefficients(samples, clock_hz, dtype)
