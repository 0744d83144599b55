"""stats: bootstrap intervals (speaker or class-stratified), paired / unpaired differences, McNemar."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress import stats
from sercompress.metrics import classification_metrics
from sercompress.predictions import ClipPredictions


def _clips(n=400, acc=0.7, seed=0, k=4):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    pred = np.where(rng.random(n) < acc, y, (y + rng.integers(1, k, n)) % k)
    return y, pred


def _lose(y, pred, n, k=4):
    """``pred`` with its first ``n`` right clips made wrong (and none made right)."""
    out = pred.copy()
    right = np.flatnonzero(pred == y)[:n]
    out[right] = (y[right] + 1) % k
    return out


def test_interval_contains_the_point_and_shrinks_with_more_clips():
    y, p = _clips(100)
    small = stats.intervals(y, p, 4)["ua"]
    y, p = _clips(1600)
    big = stats.intervals(y, p, 4)["ua"]
    for iv in (small, big):
        assert iv.low < iv.value < iv.high and iv.unit == "clip-stratified"
    assert big.width < small.width / 3  # ~ 1/sqrt(16) = 1/4
    assert big.value == pytest.approx(classification_metrics(y, p, "abcd").ua)


def test_interval_is_deterministic_and_uses_speakers_when_there_are_enough():
    y, p = _clips()
    assert stats.intervals(y, p, 4) == stats.intervals(y, p, 4)
    assert stats.intervals(y, p, 4, [f"s{i % 2}" for i in range(400)])["ua"].unit == "clip-stratified"
    assert stats.intervals(y, p, 4, [f"s{i % 8}" for i in range(400)])["ua"].unit == "speaker"


def test_speaker_bootstrap_is_wider_when_speakers_differ():
    """Clips of one speaker are correlated: per-speaker accuracy varies, and only resampling
    speakers shows that uncertainty."""
    rng = np.random.default_rng(3)
    spk = np.repeat(np.arange(8), 50)
    y = np.tile(np.arange(4), 100)
    acc = np.array([0.3, 0.9, 0.5, 0.95, 0.4, 0.85, 0.6, 0.99])[spk]
    p = np.where(rng.random(400) < acc, y, (y + 1) % 4)
    by_speaker = stats.intervals(y, p, 4, [str(s) for s in spk])["ua"]
    by_clip = stats.intervals(y, p, 4)["ua"]
    assert by_speaker.width > 1.5 * by_clip.width


def test_coverage_of_the_stratified_interval():
    """Nominal 95 %: over 120 simulated test sets the interval holds the true UA ~95 % of the time."""
    hits = 0
    for seed in range(120):
        y, p = _clips(200, acc=0.7, seed=seed)
        iv = stats.intervals(y, p, 4, n_boot=300)["ua"]
        hits += iv.low <= 0.7 <= iv.high
    assert 0.87 <= hits / 120 <= 0.995


def test_paired_difference_and_mcnemar():
    y, a = _clips()
    same = stats.paired_difference(y, a, a, 4)
    assert same.value == 0 and same.p_worse == 1 and same.p_drop == 1 and not same.significant
    b = _lose(y, a, 40)  # 40 clips lost, none won: 10 points
    d = stats.paired_difference(y, a, b, 4)
    assert d.value == pytest.approx(-0.10, abs=0.005) and d.high < 0 and d.significant
    assert d.mcnemar.b == 40 and d.mcnemar.c == 0 and d.mcnemar.p_worse < 1e-10
    assert d.p_drop < 0.001 and d.p_better == 1


def test_a_few_lost_clips_are_not_significant():
    y, a = _clips()
    b = _lose(y, a, 3)
    d = stats.paired_difference(y, a, b, 4)
    assert d.mcnemar.p_worse == pytest.approx(0.125)
    assert d.p_drop >= 0.125            # the bootstrap alone would be optimistic here


def test_unpaired_difference_is_wider_than_paired():
    y, a = _clips()
    b = _lose(y, a, 20)
    paired = stats.paired_difference(y, a, b, 4)
    cm = lambda p: classification_metrics(y, p, "abcd").confusion
    unpaired = stats.unpaired_difference(cm(a), cm(b))
    assert unpaired.value == pytest.approx(paired.value)
    assert unpaired.high - unpaired.low > 2 * (paired.high - paired.low)
    assert not unpaired.paired and unpaired.mcnemar is None


def test_metrics_of_confusions_match_metrics():
    y, p = _clips(97, k=5)
    p[y == 4] = 0  # a class never predicted
    m = classification_metrics(y, p, "abcde")
    got = stats.metrics_of_confusions(np.asarray(m.confusion))
    assert (float(got["ua"]), float(got["wa"]), float(got["f1"])) == pytest.approx((m.ua, m.wa, m.f1))


@pytest.mark.parametrize("labels,pred", [([], []), ([0, 1], [0]), ([0, 5], [0, 1])])
def test_bad_input_is_refused(labels, pred):
    with pytest.raises(ValueError):
        stats.intervals(labels, pred, 4)


def test_predictions_round_trip_and_validate():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [np.nan, 0.0]])
    p = ClipPredictions.from_arrays(["a.wav", "b.wav", "c.wav"], ["s1", "s1", "s2"], [1, 1, 0], probs)
    assert p.predicted == (1, 0, 0) and p.n_classes == 2
    assert ClipPredictions.model_validate_json(p.model_dump_json()) == p
    with pytest.raises(ValueError, match="labels"):
        ClipPredictions(clip_ids=("a",), speakers=("s",), labels=(3,), predicted=(0,), n_classes=2)
    with pytest.raises(ValueError, match="entries"):
        ClipPredictions(clip_ids=("a", "b"), speakers=("s",), labels=(0,), predicted=(0,), n_classes=2)
