"""Which variants matter: the Pareto front, the smallest device, the variant to recommend.

Pure functions over a :class:`Summary`, shared by the plots and the plain-
language conclusion so that both always talk about the same variant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .summary import HardwareBudget, Summary, VariantEntry

#: "Keeps accuracy": UA within this many percentage points of the float32 reference.
UA_KEEP_POINTS = 1.0


def ua(v: VariantEntry) -> float | None:
    return v.accuracy.ua if v.accuracy is not None else None


def pareto_front(variants: Sequence[VariantEntry]) -> list[VariantEntry]:
    """Variants no other beats on both gzip size (smaller) and UA (higher), sorted by size."""
    pts = sorted((v for v in variants if ua(v) is not None), key=lambda v: (v.sizes.gzip_bytes, -ua(v)))
    front: list[VariantEntry] = []
    best = -math.inf
    for v in pts:
        if ua(v) > best:
            front.append(v)
            best = ua(v)
    return front


def profiles_by_size(summary: Summary) -> list[HardwareBudget]:
    """Smallest device first: by flash, then RAM (no limit counts as infinite)."""
    def key(p: HardwareBudget) -> tuple[float, float, str]:
        return (p.flash_bytes if p.flash_bytes is not None else math.inf,
                p.ram_bytes if p.ram_bytes is not None else math.inf, p.name)
    return sorted(summary.profiles, key=key)


def fitting(summary: Summary, profile: str) -> list[VariantEntry]:
    return [v for v in summary.variants if (f := v.fit_on(profile)) is not None and f.fits]


def unfit_profiles(summary: Summary) -> list[str]:
    """Profiles that no variant (nor baseline) fits."""
    return [p.name for p in summary.profiles if not fitting(summary, p.name)]


def best_on_smallest_device(summary: Summary) -> tuple[VariantEntry, HardwareBudget] | None:
    """Highest-UA variant on the smallest device that anything fits (ties: smaller file).

    Same-budget controls are measurements, not candidates: they are left out.
    """
    for prof in profiles_by_size(summary):
        cands = [v for v in fitting(summary, prof.name) if ua(v) is not None and v.family != "control"]
        if cands:
            return max(cands, key=lambda v: (ua(v), -v.sizes.gzip_bytes)), prof
    return None


def smallest_keeping_accuracy(summary: Summary, points: float = UA_KEEP_POINTS) -> VariantEntry | None:
    """Smallest (gzip) compressed or reference variant within ``points`` UA of its comparator that fits a device.

    The comparator is the variant's same-budget control (float32 fine-tuned as long as
    its recipe), else float32: fine-tuning alone must not pass for accuracy kept. The
    float32 reference itself qualifies: if nothing smaller keeps accuracy, that is the answer.
    """
    ref = summary.reference()
    if ref is None or ua(ref) is None:
        return None
    must_fit = bool(summary.profiles)  # without hardware profiles, "fits a device" cannot apply
    cands = [v for v in summary.variants
             if v.family not in ("baseline", "control") and ua(v) is not None
             and (base := ua(comparator(summary, v))) is not None and ua(v) >= base - points / 100.0 - 1e-12
             and (not must_fit or any(f.fits for f in v.fits))]
    return min(cands, key=lambda v: (v.sizes.gzip_bytes, -ua(v)), default=None)


def comparator(summary: Summary, v: VariantEntry) -> VariantEntry:
    """What ``v``'s accuracy cost is measured against: its same-budget control, else float32."""
    control = summary.control_of(v)
    return control if control is not None else summary.reference() or v


def largest_baseline(summary: Summary) -> VariantEntry | None:
    return max((v for v in summary.variants if v.family == "baseline"),
               key=lambda v: v.sizes.gzip_bytes, default=None)
