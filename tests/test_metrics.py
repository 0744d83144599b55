"""UA / WA / macro F1 / confusion on cases computed by hand."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sercompress.metrics import Metrics, classification_metrics

CLASSES = ("angry", "happy", "neutral", "sad")


def test_perfect_predictions():
    y = [0, 1, 2, 3, 3]
    m = classification_metrics(y, y, CLASSES)
    assert (m.ua, m.wa, m.f1, m.n) == (1.0, 1.0, 1.0, 5)
    assert m.confusion == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 2]]
    assert m.absent_classes == ()


def test_imbalanced_case_by_hand():
    # class 0: 4 samples, 3 right, 1 -> class 1; class 1: 2 samples, 1 right, 1 -> class 0.
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0]
    m = classification_metrics(y_true, y_pred, ("a", "b"))
    # recalls 3/4 and 1/2 -> UA 0.625; WA 4/6.
    assert m.ua == pytest.approx(0.625)
    assert m.wa == pytest.approx(4 / 6)
    # precision a = 3/4, b = 1/2 -> F1 a = 0.75, F1 b = 0.5 -> macro 0.625
    assert m.f1 == pytest.approx(0.625)
    assert m.recall == pytest.approx((0.75, 0.5))
    assert m.confusion == [[3, 1], [1, 1]]


def test_ua_differs_from_wa_when_majority_class_wins():
    y_true = [0] * 8 + [1] * 2
    y_pred = [0] * 10
    m = classification_metrics(y_true, y_pred, ("a", "b"))
    assert m.wa == pytest.approx(0.8)
    assert m.ua == pytest.approx(0.5)
    # F1 a = 2 * 0.8 * 1 / 1.8, F1 b = 0 (never predicted)
    assert m.f1 == pytest.approx((2 * 0.8 / 1.8 + 0.0) / 2)


def test_absent_class_is_excluded_from_ua_and_f1():
    # class 2 never occurs in y_true but is predicted once (an error for class 0).
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]
    m = classification_metrics(y_true, y_pred, ("a", "b", "c"))
    assert m.absent_classes == ("c",)
    assert m.recall == (0.5, 1.0, None)
    assert m.ua == pytest.approx(0.75)  # mean of 0.5 and 1.0, not of three classes
    assert m.wa == pytest.approx(0.75)
    # F1 a: p=1, r=0.5 -> 2/3; F1 b: 1 -> macro over present = (2/3 + 1) / 2
    assert m.f1 == pytest.approx((2 / 3 + 1) / 2)
    assert m.confusion[2] == [0, 0, 0]


def test_scores_are_argmaxed():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m = classification_metrics([0, 1, 1], probs, ("a", "b"))
    assert m.confusion == [[1, 0], [1, 1]]


@pytest.mark.parametrize(
    "y_true, y_pred",
    [([], []), ([0, 1], [0]), ([0, 4], [0, 1]), ([0, -1], [0, 1]), ([0.5, 1], [0, 1])],
)
def test_bad_input_raises(y_true, y_pred):
    with pytest.raises(ValueError):
        classification_metrics(y_true, y_pred, CLASSES)


def test_round_trip_through_json():
    m = classification_metrics([0, 0, 1, 2], [0, 1, 1, 0], ("a", "b", "c", "d"))
    back = Metrics.from_dict(json.loads(json.dumps({**m.to_dict(), "split": "test"})))
    assert back == m


def test_metrics_module_does_not_import_tensorflow():
    code = "import sys, sercompress.metrics; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
