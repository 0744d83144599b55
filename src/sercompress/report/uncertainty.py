"""Intervals and differences of the accuracies *in a summary*: the bridge from `Metrics` to `stats`.

Per-clip predictions give the exact interval (speaker or class-stratified
bootstrap) and paired differences; a summary without them (written before they
were kept) still has its confusion matrix, which gives a class-stratified
interval and unpaired differences. Every caller (compare, tables, conclusion,
plots) goes through here so they all show the same numbers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import stats
from ..metrics import Metrics as Accuracy
from ..predictions import ClipPredictions
from .summary import SummaryError

#: Recorded figures and those recomputed from the per-clip predictions must agree this closely.
CONSISTENCY_TOL = 1e-6


def intervals(acc: Accuracy | None) -> dict[str, stats.Interval] | None:
    """UA / WA / F1 intervals of one accuracy, or None when it has neither predictions nor confusion."""
    if acc is None:
        return None
    if acc.predictions is not None:
        return _intervals_of(acc.predictions)
    if acc.confusion and sum(map(sum, acc.confusion)):
        iv = stats.intervals_from_confusion(acc.confusion)
        # Spread from the confusion matrix, centred on the recorded figure.
        return {m: _recentre(iv[m], getattr(acc, m)) for m in stats.METRICS}
    return None


def difference(control: Accuracy | None, candidate: Accuracy | None, metric: str = "ua"
               ) -> stats.Difference | None:
    """metric(candidate) - metric(control): paired when both kept predictions on the same clips."""
    if control is None or candidate is None:
        return None
    a, b = control.predictions, candidate.predictions
    if a is not None and b is not None and a.same_clips(b):
        return _paired_cached(a.labels, a.predicted, b.predicted, a.n_classes, a.speakers, metric)
    ca, cb = control.confusion, candidate.confusion
    if not ca or not cb or np.shape(ca) != np.shape(cb) or not sum(map(sum, ca)) or not sum(map(sum, cb)):
        return None
    d = stats.unpaired_difference(ca, cb, metric)
    shift = (getattr(candidate, metric) - getattr(control, metric)) - d.value
    if abs(shift) < CONSISTENCY_TOL:
        return d
    # Recorded figures that are not those of the confusion matrices: keep the bootstrap's spread
    # around the recorded difference (a shifted percentile bootstrap).
    return stats.unpaired_difference_shifted(d, shift)


def check_consistent(acc: Accuracy | None, where: str) -> None:
    """A figure that its own per-clip predictions contradict is a damaged summary (an error)."""
    if acc is None or acc.predictions is None:
        return
    p = acc.predictions
    point = _intervals_of(p)
    for m in stats.METRICS:
        if abs(point[m].value - getattr(acc, m)) > CONSISTENCY_TOL:
            raise SummaryError(f"{where}: accuracy.{m} = {getattr(acc, m):.6f} but its per-clip predictions "
                               f"give {point[m].value:.6f}", key=f"{where}.accuracy.{m}")


def _recentre(iv: stats.Interval, value: float) -> stats.Interval:
    shift = value - iv.value
    return stats.Interval(value, float(np.clip(iv.low + shift, 0, 1)), float(np.clip(iv.high + shift, 0, 1)),
                          iv.unit, iv.level)


@lru_cache(maxsize=256)
def _intervals_cached(labels: tuple[int, ...], predicted: tuple[int, ...], k: int,
                      speakers: tuple[str, ...]) -> dict[str, stats.Interval]:
    return stats.intervals(labels, predicted, k, speakers)


@lru_cache(maxsize=1024)
def _paired_cached(labels: tuple[int, ...], control: tuple[int, ...], candidate: tuple[int, ...], k: int,
                   speakers: tuple[str, ...], metric: str) -> stats.Difference:
    """The tables, the conclusion and the plots ask for the same pairs: each bootstrap runs once."""
    return stats.paired_difference(labels, control, candidate, k, speakers, metric)


def _intervals_of(p: ClipPredictions) -> dict[str, stats.Interval]:
    return _intervals_cached(p.labels, p.predicted, p.n_classes, p.speakers)
