"""Per-clip predictions of one evaluated artifact: what makes every accuracy comparison pairable.

Two artifacts evaluated on the same clips can be compared clip by clip (a
paired bootstrap, McNemar's test), which is far more sensitive than comparing
two UA figures. So the evaluation keeps, per artifact: the clip id (its path
relative to the corpus root, the same on every machine), its speaker, its
true class, the predicted class and the class probabilities, as
``Metrics.predictions`` of the artifact's accuracy: in ``variant.json`` with the
probabilities, in ``summary.json`` without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from .tomlconfig import FrozenModel

#: Probabilities are stored to this many decimals (argmax and bootstrap need no more).
DECIMALS = 5


class ClipPredictions(FrozenModel):
    """Parallel per-clip columns; ``predicted`` is the argmax the accuracy was computed from."""

    clip_ids: tuple[str, ...]
    speakers: tuple[str, ...]
    labels: tuple[int, ...]
    predicted: tuple[int, ...]
    probabilities: tuple[tuple[float, ...], ...] = ()
    n_classes: int = Field(ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> ClipPredictions:
        n = len(self.clip_ids)
        cols = {"speakers": self.speakers, "labels": self.labels, "predicted": self.predicted}
        if self.probabilities:
            cols["probabilities"] = self.probabilities
        for name, col in cols.items():
            if len(col) != n:
                raise ValueError(f"{name} has {len(col)} entries for {n} clips")
        for name in ("labels", "predicted"):
            if any(not 0 <= v < self.n_classes for v in getattr(self, name)):
                raise ValueError(f"{name} holds a class index outside [0, {self.n_classes - 1}]")
        if any(len(row) != self.n_classes or not all(np.isfinite(row)) for row in self.probabilities):
            raise ValueError(f"every probability row must hold {self.n_classes} finite numbers")
        return self

    @classmethod
    def from_arrays(cls, clip_ids: Any, speakers: Any, labels: Any, probabilities: np.ndarray) -> ClipPredictions:
        probs = np.nan_to_num(np.asarray(probabilities, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return cls(clip_ids=tuple(str(c) for c in clip_ids), speakers=tuple(str(s) for s in speakers),
                   labels=tuple(int(v) for v in labels), predicted=tuple(int(v) for v in probs.argmax(-1)),
                   probabilities=tuple(tuple(round(float(p), DECIMALS) for p in row) for row in probs),
                   n_classes=int(probs.shape[-1]))

    def same_clips(self, other: ClipPredictions) -> bool:
        """Both evaluated the same clips with the same labels (so a paired comparison is valid)."""
        return (self.clip_ids == other.clip_ids and self.labels == other.labels
                and self.n_classes == other.n_classes)


def clip_id(path: str | Path, root: Path | None) -> str:
    """A clip's path relative to the corpus root: the same id on every machine."""
    try:
        return Path(path).relative_to(root).as_posix() if root is not None else Path(path).as_posix()
    except ValueError:
        return Path(path).as_posix()
