"""Accuracy with its uncertainty: bootstrap intervals, paired differences, McNemar's exact test.

A test split of a few hundred clips measures UA to within several points, and
clips of one speaker are correlated. So every accuracy the suite shows carries
a 95 % bootstrap interval, and every "A is worse than B" rests on a test:

- **Resampling unit.** With at least :data:`MIN_SPEAKERS` test speakers the
  bootstrap resamples *speakers* (a cluster bootstrap: a speaker drawn twice
  brings all its clips twice), since clips of one speaker are not independent.
  With fewer speakers (the synthetic fold holds two) a speaker bootstrap would
  be meaningless, so it resamples clips *stratified by true class* (each
  class keeps its size, so UA's per-class recalls stay defined). The unit used
  is reported beside every interval (:attr:`Interval.unit`).
- **Paired differences.** Two artifacts evaluated on the same clips are
  compared on the *same* resamples (paired bootstrap of the UA difference),
  which cancels the clips' difficulty; McNemar's exact test on per-clip
  correctness is reported beside it.
- **Unpaired differences** (the clips differ, or one side kept only its
  confusion matrix): each side is resampled independently, stratified by class
  from its confusion matrix. Wider, and said so.

Resamples are drawn as integer weights per clip (how often each clip is drawn),
so a whole bootstrap is one matrix product; the seed is fixed, so the same
inputs give the same interval on every machine. Pure NumPy / SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Fewer test speakers than this: resample clips within class instead of speakers.
MIN_SPEAKERS = 5
N_BOOT = 2000
LEVEL = 0.95
SEED = 20240611
Unit = Literal["speaker", "clip-stratified", "class-stratified-unpaired"]
METRICS = ("ua", "wa", "f1")


@dataclass(frozen=True)
class Interval:
    """A figure (fraction) with its bootstrap percentile interval."""

    value: float
    low: float
    high: float
    unit: Unit
    level: float = LEVEL

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Difference:
    """``value`` = metric(candidate) - metric(control), with its interval and one-sided p-values.

    ``p_worse`` is the bootstrap p-value of "the candidate is worse" (small when
    nearly every resample shows a drop); ``p_better`` the mirror image.
    McNemar's exact test is only defined for paired data (None otherwise).
    """

    value: float
    low: float
    high: float
    p_worse: float
    p_better: float
    paired: bool
    unit: Unit
    mcnemar: McNemar | None = None
    level: float = LEVEL

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low > 0 or self.high < 0

    @property
    def p_drop(self) -> float:
        """One-sided p-value of "the candidate is worse" that a gate should use: paired, the
        larger of the bootstrap's and McNemar's (the percentile bootstrap alone is optimistic
        when only a handful of clips differ, e.g. 3 clips all lost gives p ~ 0.05)."""
        return max(self.p_worse, self.mcnemar.p_worse) if self.mcnemar is not None else self.p_worse


@dataclass(frozen=True)
class McNemar:
    """Clips only the control got right (``b``), only the candidate got right (``c``)."""

    b: int
    c: int
    p_two_sided: float
    p_worse: float        # one-sided: the candidate loses more clips than it wins


def resampling_unit(speakers: Sequence[str] | None) -> Unit:
    return "speaker" if speakers is not None and len(set(speakers)) >= MIN_SPEAKERS else "clip-stratified"


def bootstrap_weights(labels: np.ndarray, speakers: Sequence[str] | None = None, n_boot: int = N_BOOT,
                      seed: int = SEED) -> tuple[np.ndarray, Unit]:
    """``[n_boot, n]`` int32 draw counts per clip, and the unit that was resampled."""
    labels = np.asarray(labels)
    n = labels.size
    rng = np.random.default_rng(seed)
    w = np.zeros((n_boot, n), dtype=np.int32)
    unit = resampling_unit(speakers)
    if unit == "speaker":
        names, spk = np.unique(np.asarray(speakers), return_inverse=True)
        counts = rng.multinomial(len(names), np.full(len(names), 1.0 / len(names)), size=n_boot)
        w[:] = counts[:, spk]
        return w, unit
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        w[:, idx] = rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size), size=n_boot)
    return w, unit


def weighted_confusions(weights: np.ndarray, labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """``[B, k, k]`` confusion matrices of every resample (one matrix product)."""
    cell = np.asarray(labels, dtype=np.int64) * k + np.asarray(predicted, dtype=np.int64)
    onehot = np.zeros((cell.size, k * k), dtype=np.float64)
    onehot[np.arange(cell.size), cell] = 1.0
    return (weights.astype(np.float64) @ onehot).reshape(-1, k, k)


def metrics_of_confusions(cm: np.ndarray) -> dict[str, np.ndarray]:
    """UA, WA and macro F1 of a stack of confusion matrices ``[..., k, k]``, as in :mod:`metrics`
    (classes absent from a matrix's true labels are left out of its means)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support, predicted = cm.sum(axis=-1), cm.sum(axis=-2)
    present = support > 0
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=present)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    n_present = np.maximum(present.sum(axis=-1), 1)
    return {"ua": (recall * present).sum(axis=-1) / n_present,
            "wa": tp.sum(axis=-1) / np.maximum(cm.sum(axis=(-2, -1)), 1),
            "f1": (f1 * present).sum(axis=-1) / n_present}


def intervals(labels: Sequence[int], predicted: Sequence[int], k: int, speakers: Sequence[str] | None = None,
              n_boot: int = N_BOOT, level: float = LEVEL) -> dict[str, Interval]:
    """UA / WA / F1 of per-clip predictions, each with its bootstrap interval."""
    y, p = _check(labels, predicted, k)
    w, unit = bootstrap_weights(y, speakers, n_boot)
    point = metrics_of_confusions(weighted_confusions(np.ones((1, y.size), np.int32), y, p, k))
    boot = metrics_of_confusions(weighted_confusions(w, y, p, k))
    return {m: _interval(float(point[m][0]), boot[m], unit, level) for m in METRICS}


def intervals_from_confusion(confusion: Sequence[Sequence[int]], n_boot: int = N_BOOT,
                             level: float = LEVEL) -> dict[str, Interval]:
    """The class-stratified interval when only the confusion matrix is known."""
    cm = _confusion(confusion)
    point = metrics_of_confusions(cm)
    boot = metrics_of_confusions(_resample_confusion(cm, n_boot, np.random.default_rng(SEED)))
    return {m: _interval(float(point[m]), boot[m], "clip-stratified", level) for m in METRICS}


def paired_difference(labels: Sequence[int], control: Sequence[int], candidate: Sequence[int], k: int,
                      speakers: Sequence[str] | None = None, metric: str = "ua", n_boot: int = N_BOOT,
                      level: float = LEVEL) -> Difference:
    """metric(candidate) - metric(control) on the same clips, resampled together."""
    y, a = _check(labels, control, k)
    _, b = _check(labels, candidate, k)
    w, unit = bootstrap_weights(y, speakers, n_boot)
    ones = np.ones((1, y.size), np.int32)
    point = (metrics_of_confusions(weighted_confusions(ones, y, b, k))[metric][0]
             - metrics_of_confusions(weighted_confusions(ones, y, a, k))[metric][0])
    boot = (metrics_of_confusions(weighted_confusions(w, y, b, k))[metric]
            - metrics_of_confusions(weighted_confusions(w, y, a, k))[metric])
    return _difference(float(point), boot, True, unit, level, mcnemar(a == y, b == y))


@dataclass(frozen=True)
class PairedStratum:
    """One fold's test clips and, for every run tested on them (one per seed), the control's and the
    candidate's predicted classes: ``pairs = ((control, candidate), ...)``."""

    labels: Sequence[int]
    speakers: Sequence[str] | None
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]]


def pooled_paired_difference(strata: Sequence[PairedStratum], k: int, metric: str = "ua", n_boot: int = N_BOOT,
                             level: float = LEVEL) -> Difference:
    """The mean over runs of metric(candidate) - metric(control): a cross-validated paired difference.

    Every run's per-clip outcomes enter one statistic, the mean of the runs' paired differences
    (equal to the difference of the runs' mean figures). Its bootstrap is stratified by fold:
    each fold's clips are resampled on their own, as :func:`bootstrap_weights` does for one run
    (speakers as clusters with >= MIN_SPEAKERS test speakers, else clips within class), and every
    seed of a fold gets the *same* draw, since those runs were tested on the same clips. Folds are
    not resampled (two to ten of them): the spread between folds is reported beside this, as the
    standard deviation. One stratum with one pair gives exactly :func:`paired_difference`.

    McNemar's test is added when every clip is counted once (one seed): a clip tested by several
    seeds is not an independent pair.
    """
    if not strata or not all(s.pairs for s in strata):
        raise ValueError("a pooled difference needs at least one run in every stratum")
    total, boot, units = 0.0, np.zeros(n_boot), set()
    correct: list[tuple[np.ndarray, np.ndarray]] = []
    for i, stratum in enumerate(strata):
        y = np.asarray(stratum.labels, dtype=np.int64)
        w, unit = bootstrap_weights(y, stratum.speakers, n_boot, seed=SEED + i)
        ones = np.ones((1, y.size), np.int32)
        units.add(unit)
        for control, candidate in stratum.pairs:
            _, a = _check(y, control, k)
            _, b = _check(y, candidate, k)
            total += float(metrics_of_confusions(weighted_confusions(ones, y, b, k))[metric][0]
                           - metrics_of_confusions(weighted_confusions(ones, y, a, k))[metric][0])
            boot += (metrics_of_confusions(weighted_confusions(w, y, b, k))[metric]
                     - metrics_of_confusions(weighted_confusions(w, y, a, k))[metric])
            correct.append((a == y, b == y))
    n = len(correct)
    once = all(len(s.pairs) == 1 for s in strata)
    test = mcnemar(np.concatenate([a for a, _ in correct]), np.concatenate([b for _, b in correct])) if once else None
    unit: Unit = "speaker" if units == {"speaker"} else "clip-stratified"
    return _difference(total / n, boot / n, True, unit, level, test)


def unpaired_difference(control: Sequence[Sequence[int]], candidate: Sequence[Sequence[int]],
                        metric: str = "ua", n_boot: int = N_BOOT, level: float = LEVEL) -> Difference:
    """metric(candidate) - metric(control) on different clips: each confusion resampled on its own."""
    ca, cb = _confusion(control), _confusion(candidate)
    if ca.shape != cb.shape:
        raise ValueError(f"confusion matrices of different shapes {ca.shape} and {cb.shape}")
    rng = np.random.default_rng(SEED)
    point = metrics_of_confusions(cb)[metric] - metrics_of_confusions(ca)[metric]
    boot = (metrics_of_confusions(_resample_confusion(cb, n_boot, rng))[metric]
            - metrics_of_confusions(_resample_confusion(ca, n_boot, rng))[metric])
    return _difference(float(point), boot, False, "class-stratified-unpaired", level, None)


def unpaired_difference_shifted(d: Difference, shift: float) -> Difference:
    """``d`` moved by ``shift`` (recorded figures that differ from their confusion matrices):
    the resampling spread is kept, centred on the recorded difference. The p-values are
    recomputed from the normal approximation of the shifted bootstrap."""
    from scipy.stats import norm

    z = (1 - d.level) / 2
    se = max((d.high - d.low) / (2 * norm.ppf(1 - z)), 1e-12)
    value = d.value + shift
    return Difference(value, d.low + shift, d.high + shift, float(norm.sf(-value / se)),
                      float(norm.cdf(-value / se)), False, d.unit, None, d.level)


def mcnemar(control_correct: np.ndarray, candidate_correct: np.ndarray) -> McNemar:
    """McNemar's exact (binomial) test on the discordant clips."""
    from scipy.stats import binomtest

    a, c_ = np.asarray(control_correct, bool), np.asarray(candidate_correct, bool)
    b, c = int(np.sum(a & ~c_)), int(np.sum(~a & c_))
    if b + c == 0:
        return McNemar(b, c, 1.0, 1.0)
    return McNemar(b, c, float(binomtest(b, b + c, 0.5).pvalue),
                   float(binomtest(b, b + c, 0.5, alternative="greater").pvalue))


# --------------------------------------------------------------------------- helpers

def _interval(value: float, boot: np.ndarray, unit: Unit, level: float) -> Interval:
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Interval(value, float(lo), float(hi), unit, level)


def _difference(value: float, boot: np.ndarray, paired: bool, unit: Unit, level: float,
                test: McNemar | None) -> Difference:
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    # Percentile-bootstrap p-values (with the +1 that keeps them away from an impossible 0).
    # A difference that is 0 in every resample (identical predictions) gives p = 1 both ways.
    p_worse = (1 + int(np.sum(boot >= 0))) / (boot.size + 1)
    p_better = (1 + int(np.sum(boot <= 0))) / (boot.size + 1)
    return Difference(value, float(lo), float(hi), min(1.0, p_worse), min(1.0, p_better), paired, unit, test,
                      level)


def _resample_confusion(cm: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Each true-class row redrawn from its own proportions, keeping its size."""
    out = np.zeros((n_boot, *cm.shape), dtype=np.float64)
    for t, row in enumerate(cm):
        n = int(row.sum())
        if n:
            out[:, t, :] = rng.multinomial(n, row / n, size=n_boot)
    return out


def _confusion(confusion: Sequence[Sequence[int]]) -> np.ndarray:
    cm = np.asarray(confusion, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0 or (cm < 0).any():
        raise ValueError("a confusion matrix must be square, non-empty and non-negative")
    return cm


def _check(labels: Sequence[int], predicted: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if y.ndim != 1 or y.shape != p.shape or y.size == 0:
        raise ValueError(f"labels and predictions must be equal-length, non-empty 1-D arrays "
                         f"(got {y.shape} and {p.shape})")
    if min(y.min(), p.min()) < 0 or max(y.max(), p.max()) >= k:
        raise ValueError(f"class indices outside [0, {k - 1}]")
    return y, p
