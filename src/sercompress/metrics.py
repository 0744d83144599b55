"""Classification metrics of speech emotion recognition: UA, WA, macro F1, confusion.

SER papers report *unweighted accuracy* (UA: the mean of per-class recalls,
insensitive to class imbalance) beside *weighted accuracy* (WA: plain
accuracy). Every stage (training, the compression runner measuring accuracy on
the TFLite file, the report) computes them here, so the figures are comparable.
Pure NumPy: the report stage imports this without TensorFlow.

Classes absent from ``y_true``: their recall is 0/0, undefined. Rather than
count them as 0 (which punishes a model for a split that lacks a class) or as 1,
they are left out of the UA and macro-F1 means and listed in
``Metrics.absent_classes``; their row of the confusion matrix is all zeros.
Predictions *into* an absent class still count as errors (in WA and in the
recall of the true class).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .predictions import ClipPredictions
from .records import Record


class Metrics(Record):
    """Figures of one model on one split. Fractions in [0, 1]."""

    ua: float  # unweighted accuracy: mean recall over classes present in y_true
    wa: float  # weighted accuracy: correct / n
    f1: float  # macro F1 over classes present in y_true
    confusion: list[list[int]]  # confusion[true][pred], rows/cols ordered as `classes`
    classes: tuple[str, ...]
    n: int
    recall: tuple[float | None, ...]  # per class; None where the class is absent from y_true
    absent_classes: tuple[str, ...] = ()
    #: per-clip predictions these figures were computed from (kept for evaluated artifacts, so
    #: every comparison can be paired; see :mod:`sercompress.stats`); None elsewhere
    predictions: ClipPredictions | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metrics:
        """Inverse of :meth:`to_dict`; extra keys (e.g. ``split``) are ignored."""
        return cls.model_validate({k: v for k, v in d.items() if k in cls.model_fields})


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``cm[t, p]`` = number of samples of true class t predicted as p."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def classification_metrics(y_true: Any, y_pred: Any, classes: Sequence[str]) -> Metrics:
    """UA, WA, macro F1 and confusion matrix of integer predictions.

    ``y_pred`` may also be a 2-D array of class scores (probabilities or
    logits), in which case its argmax is taken. Raises ``ValueError`` for
    empty input, mismatched lengths, or labels outside ``range(len(classes))``.
    """
    classes = tuple(str(c) for c in classes)
    k = len(classes)
    if k < 1:
        raise ValueError("classes must not be empty")
    t = _labels(y_true, "y_true")
    p = np.asarray(y_pred)
    if p.ndim == 2:
        if p.shape[1] != k:
            raise ValueError(f"y_pred has {p.shape[1]} score columns for {k} classes")
        p = p.argmax(axis=1)
    p = _labels(p, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels, y_pred {p.size}")
    if t.size == 0:
        raise ValueError("no samples: metrics of an empty split are undefined")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.min() < 0 or arr.max() >= k:
            raise ValueError(f"{name} has labels outside [0, {k - 1}]")

    cm = confusion_matrix(t, p, k)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm)
    present = support > 0
    recall = np.divide(tp, support, out=np.zeros(k), where=present)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    return Metrics(
        ua=float(recall[present].mean()),
        wa=float(tp.sum() / t.size),
        f1=float(f1[present].mean()),
        confusion=cm.tolist(),
        classes=classes,
        n=int(t.size),
        recall=tuple(float(r) if ok else None for r, ok in zip(recall, present)),
        absent_classes=tuple(c for c, ok in zip(classes, present) if not ok),
    )


def _labels(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"{name} must hold integer class indices")
    return arr.astype(np.int64)
