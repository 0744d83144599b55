"""What a search chooses by: the UA of a candidate's exported file on the *validation* speakers.

Why not the test split: a search draws tens of candidates and keeps the best;
choosing by test UA would make the chosen variant's test UA an optimistic
estimate (the maximum of noisy figures on the very clips that judge it). The
study ranks and chooses on the validation speakers (held out from training,
like the reference's early stopping), and only the chosen variant's test UA,
with its paired interval to the same-budget control, is reported as its
accuracy. Both figures are measured on the exported ``.tflite``, streamed
through the variant's window exactly as the runner streams the test clips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError


def validation_ua(artifact: str | Path, recipe: Any, data: Any, recipe_path: str | Path | None = None) -> float:
    """UA of ``artifact`` on ``data.val``, its windows' scores pooled per clip (the runner's streaming)."""
    from ..compress.window import clip_windows
    from ..export.runtime import run_tflite
    from ..metrics import classification_metrics

    require_validation(data)
    val = data.val
    windows = clip_windows(recipe, getattr(data, "feature_config", None), recipe_path)
    probs = windows.pool(run_tflite(artifact, windows.cut(val.x)), len(val.y))
    return float(classification_metrics(val.y, probs.argmax(-1), data.classes).ua)


def require_validation(data: Any) -> None:
    """A search needs validation clips of every class present to rank candidates without the test split."""
    if len(data.val.y) == 0:
        raise ConfigError("the reference's data has no validation clips (val_speakers = 0): a search "
                          "ranks candidates on the validation speakers, never on the test split; "
                          "train the reference with val_speakers >= 1", key="val_speakers")
