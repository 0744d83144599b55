"""Calibration of the cost model: fit its coefficients on measured latencies.

:func:`fit_coefficients` fits the per-layer model of :mod:`.cost` on measured
latencies by non-negative least squares; it is how the host's coefficients are
obtained and how the model is checked against measurement (``bench/profiler.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .cost import MAC_FIELD, layer_cycles, op_class
from .hardware import DtypeCoefficients
from .types import StaticProfile

#: Design-matrix columns of the fit: what each coefficient multiplies.
FIT_TERMS: tuple[str, ...] = ("conv", "depthwise", "fully_connected", "elementwise", "pooling",
                              "layers")
#: A MAC class below this share of every sample's MACs is costed at the conv rate in a fit.
MINOR_SHARE = 0.01


@dataclass(frozen=True)
class FitReport:
    """Coefficients fitted on measured latencies, with the fit's own residuals.

    A bench result, not a record passed between stages (nothing stores or reads it back).
    """

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
        if cls in MAC_FIELD:
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


def _merge_minor_mac_terms(x):
    """Fold depthwise / FC MACs into the conv column where they are too few to identify."""
    x = x.copy()
    conv = FIT_TERMS.index("conv")
    macs = x[:, [FIT_TERMS.index(t) for t in MAC_FIELD]].sum(axis=1)
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
