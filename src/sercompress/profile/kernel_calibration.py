"""Calibration of the kernel latency model on sourced measurements, validated leave-one-model-out.

The samples are published measurements (``hw_profiles/calibration/``, copied with
their sources from the project's calibration collection):

* ``cortex-m`` -- TFLite Micro + CMSIS-NN: EdgeMark's 18 models on a NUCLEO-L4R5ZI
  (Cortex-M4F, 120 MHz), int8 and float32, rebuilt layer by layer from the layer
  lists in the rows' notes (the parsed MACs must equal the rows' MAC column), and
  the TFLM examples person_detect / micro_speech / sine on a Cortex-M33 (DWT
  cycles; taken per cycle like the M4: same single-issue DSP pipeline with SMLAD);
* ``cortex-m7`` -- the Cortex-M model scaled by the M7's speed-up on the one M7
  network with a known layer list (the CMSIS-NN paper's CIFAR-10 CNN);
* ``esp32s3`` -- ESP-NN per-kernel cycle counts (esp-nn README) and TFLM + ESP-NN
  person_detect (esp-tflite-micro README).

:func:`fit` solves non-negative least squares on relative error (cycles per term,
:mod:`.kernel_model`); :func:`leave_one_out` refits without each model in turn
and predicts it, which is the error a profile states and its band comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .calibration_nets import Sample, load_samples
from .kernel_model import PARENT, TERMS, cycles, model_terms

__all__ = ["Calibration", "Sample", "Validation", "calibrate", "fit", "leave_one_out", "load_samples"]

# --------------------------------------------------------------------------- fitting

def _matrix(samples: Sequence[Sample]) -> np.ndarray:
    return np.array([[model_terms(s.layers, s.invoke)[t] for t in TERMS] for s in samples])


#: Terms fitted as one where the data cannot tell them apart (family -> {term: fitted as}).
#: On Cortex-M, 1x1 convolutions appear in one model only (person_detect, beside its
#: depthwise layers): they share the GEMM's cost per MAC and just skip the im2col term.
TIED: dict[str, dict[str, str]] = {"cortex-m": {"mac1x1": "mac"}, "esp32s3": {}}


#: Physical floors of cycles per MAC: a Cortex-M4/M33/M7 issues at most one SMLAD, two 16-bit
#: MACs, per cycle (calibration/kernels.md [S]), so no int8 MAC costs under 0.5 cycles. Without
#: it the 3x3-only EdgeMark nets let the fit move all of a conv's cost into im2col and
#: requantization, which then over-costs 1x1 convolutions (no im2col, few outputs per MAC).
MIN_CYCLES: dict[tuple[str, str], dict[str, float]] = {
    ("cortex-m", "int8"): {"mac": 0.5, "mac1x1": 0.5, "fc_mac": 0.5, "dw3x3_mac": 0.5, "dw_mac": 0.5},
}


def fit(samples: Sequence[Sample], tied: dict[str, str] | None = None) -> dict[str, float]:
    """Cycles per term minimising the relative error, non-negative and above the physical floors."""
    from scipy.optimize import lsq_linear

    tied = TIED.get(samples[0].family, {}) if tied is None and samples else (tied or {})
    x = _matrix(samples)
    for term, into in tied.items():
        x[:, TERMS.index(into)] += x[:, TERMS.index(term)]
        x[:, TERMS.index(term)] = 0.0
    y = np.array([s.measured_cycles for s in samples])
    used = np.flatnonzero(x.any(axis=0))
    scale = x[:, used].max(axis=0)
    a = (x[:, used] / scale) / y[:, None]
    floor = np.array([MIN_CYCLES.get((samples[0].family, samples[0].dtype), {}).get(TERMS[c], 0.0)
                      for c in used]) * scale
    sol = lsq_linear(a, np.ones(len(samples)), bounds=(floor, np.inf)).x
    coeffs = dict.fromkeys(TERMS, 0.0)
    for j, col in enumerate(used):
        coeffs[TERMS[col]] = float(sol[j] / scale[j])
    for term, into in tied.items():
        coeffs[term] = coeffs[into]
    for term in TERMS:  # unexercised kernels take their general kernel's cost
        parent = term
        while (coeffs[term] == 0.0 and parent in PARENT and term not in tied
               and not x[:, TERMS.index(term)].any()):
            parent = PARENT[parent]
            coeffs[term] = coeffs[parent]
    return coeffs


@dataclass(frozen=True)
class Validation:
    """Leave-one-model-out result of one (family, dtype)."""

    family: str
    dtype: str
    names: tuple[str, ...]
    measured_ms: tuple[float, ...]
    predicted_ms: tuple[float, ...]

    @property
    def ratios(self) -> np.ndarray:
        """measured / predicted of each left-out model."""
        return np.array(self.measured_ms) / np.array(self.predicted_ms)

    @property
    def abs_errors(self) -> np.ndarray:
        return np.abs(np.array(self.predicted_ms) / np.array(self.measured_ms) - 1)

    def p90_abs_error(self) -> float:
        return float(np.percentile(self.abs_errors, 90))

    def ratio_bounds(self) -> tuple[float, float]:
        """5th / 95th percentile of measured / predicted: the 90 % band's factors."""
        return float(np.percentile(self.ratios, 5)), float(np.percentile(self.ratios, 95))


def leave_one_out(samples: Sequence[Sample], family: str, dtype: str) -> Validation:
    """Refit without each model and predict it (only models of ``family`` / ``dtype``)."""
    pool_ = [s for s in samples if s.family == family and s.dtype == dtype]
    names, measured, predicted = [], [], []
    for s in pool_:
        coeffs = fit([o for o in pool_ if o.name != s.name])
        names.append(s.name)
        measured.append(1e3 * s.measured_cycles / s.clock_hz)
        predicted.append(1e3 * cycles(model_terms(s.layers, s.invoke), coeffs) / s.clock_hz)
    return Validation(family, dtype, tuple(names), tuple(measured), tuple(predicted))


def m7_speedup(samples: Sequence[Sample], cortex_m: dict[str, float]) -> float:
    """Cortex-M4 cycles / Cortex-M7 cycles on the M7 networks with a known layer list."""
    m7 = [s for s in samples if s.family == "cortex-m7"]
    return float(np.mean([cycles(model_terms(s.layers, s.invoke), cortex_m) / s.measured_cycles
                          for s in m7]))


@dataclass(frozen=True)
class Calibration:
    """What a device family's profile stores for one dtype (see ``bench/calibrate_latency.py``)."""

    family: str
    dtype: str
    coefficients: dict[str, float]     # cycles per term at this core's clock
    validated_terms: tuple[str, ...]   # terms the leave-one-out samples exercise
    models: int                        # models in the leave-one-out validation
    p90_abs_error: float
    ratio_low: float                   # 5th percentile of measured / predicted
    ratio_high: float                  # 95th percentile
    macs_min: int
    macs_max: int
    note: str


def _exercised(samples: Sequence[Sample]) -> tuple[str, ...]:
    x = _matrix(samples)
    return tuple(t for j, t in enumerate(TERMS) if x[:, j].any() and t != "invoke")


def _stage_two(base: dict[str, float], samples: Sequence[Sample]) -> dict[str, float]:
    """Depthwise costs from the M33 networks, the M4 coefficients held fixed.

    Each depthwise path appears in one network (3x3 in person_detect, generic in
    micro_speech): its cost is that network's residual over its depthwise MACs, so it is
    fitted, not validated (a model using it is outside the validated range).
    """
    out = dict(base)
    for term in ("dw_mac", "dw3x3_mac"):   # the generic path first: the fast path's fallback
        for s in samples:
            t = model_terms(s.layers, s.invoke)
            if not t[term]:
                continue
            rest = cycles(t, {**out, term: 0.0})
            cost = (s.measured_cycles - rest) / t[term]
            # a residual <= 0 (the rest of the network already over-predicted) says nothing
            # about this path: it keeps the generic path's cost rather than becoming free
            out[term] = cost if cost > 0 else out[PARENT[term]]
    return out


def calibrate(samples: Sequence[Sample]) -> list[Calibration]:
    """Every family / dtype the shipped profiles use, fitted and validated."""
    out = []
    m4 = {dt: [s for s in samples if s.family == "cortex-m" and s.dtype == dt
               and s.name.startswith("EdgeMark")] for dt in ("int8", "float32")}
    m33 = [s for s in samples if s.family == "cortex-m" and s.dtype == "int8"
           and not s.name.startswith("EdgeMark")]
    speedup = 1.0
    for dtype, pool_ in m4.items():
        coeffs = fit(pool_)
        if dtype == "int8":
            coeffs = _stage_two(coeffs, m33)
            speedup = m7_speedup(samples, coeffs)
        v = leave_one_out(pool_, "cortex-m", dtype)
        low, high = v.ratio_bounds()
        common = {"validated_terms": _exercised(pool_), "models": len(v.names),
                  "p90_abs_error": v.p90_abs_error(), "ratio_low": low, "ratio_high": high,
                  "macs_min": min(s.macs for s in pool_), "macs_max": max(s.macs for s in pool_)}
        out.append(Calibration("cortex-m4", dtype, coeffs, note=(
            f"TFLM + CMSIS-NN on NUCLEO-L4R5ZI (EdgeMark, {len(pool_)} models), leave-one-model-out"
            + ("; depthwise costs from the Cortex-M33 person_detect / micro_speech rows (not "
               "validated)" if dtype == "int8" else "")), **common))
        out.append(Calibration("cortex-m7", dtype, {k: c / speedup for k, c in coeffs.items()},
                               note=(f"the Cortex-M4 model / {speedup:.2f}, the M7's cycle speed-up "
                                     "on the CMSIS-NN paper's CIFAR-10 CNN (one model: the band is "
                                     "the Cortex-M4's)"), **common))
    esp = [s for s in samples if s.family == "esp32s3"]
    kernels = [s for s in esp if not s.invoke]
    coeffs = fit(kernels, tied={})
    held = [s for s in esp if s.invoke]
    errors = [cycles(model_terms(s.layers, s.invoke), coeffs) / s.measured_cycles - 1 for s in held]
    worst = max(abs(e) for e in errors)
    base = next(c for c in out if c.family == "cortex-m4" and c.dtype == "int8")
    out.append(Calibration(
        "esp32s3", "int8", coeffs, _exercised(kernels), len(held), worst,
        base.ratio_low / (1 + worst), base.ratio_high * (1 + worst),
        min(s.macs for s in esp), max(s.macs for s in esp),
        f"ESP-NN per-kernel cycles ({len(kernels)} kernels) fitted; validated on {len(held)} held-out "
        f"network (person_detect, error {errors[0]:+.0%}); band = the Cortex-M4 band widened by it"))
    return out
