"""Do the exported files compute what the Keras model computes?

Parity is top-1 agreement on the test split between the Keras model and each
artifact. A float export must agree on >= 99 % of clips (anything less means a
broken conversion, e.g. a layer dropped or mis-ordered); a quantised file is
held to a looser, recipe-configurable floor because rounding legitimately flips
borderline clips. Falling below the floor is an :class:`ArtifactError`: a broken
file must never become a row in a report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ArtifactError
from .types import Parity

FLOAT_MIN_AGREEMENT = 0.99


def compare(reference: np.ndarray, candidate: np.ndarray, *, artifact: str | Path,
            min_agreement: float) -> Parity:
    """Top-1 agreement and max |p_ref - p_art| of two probability batches."""
    if reference.shape != candidate.shape:
        raise ArtifactError(f"output shape {candidate.shape} differs from the Keras model's "
                            f"{reference.shape}", path=artifact)
    n = len(reference)
    agree = float(np.mean(reference.argmax(-1) == candidate.argmax(-1))) if n else 1.0
    diff = float(np.max(np.abs(reference - candidate))) if n else 0.0
    return Parity(artifact=str(artifact), clips=n, top1_agreement=agree, max_abs_diff=diff,
                  min_agreement=float(min_agreement), ok=agree >= min_agreement)


def require(parity: Parity) -> Parity:
    """Raise :class:`ArtifactError` when the agreement is under the floor."""
    if not parity.ok:
        raise ArtifactError(
            f"parity with the Keras model is {parity.top1_agreement:.1%} top-1 agreement on "
            f"{parity.clips} clips, below the {parity.min_agreement:.0%} floor (max |dp| "
            f"{parity.max_abs_diff:.3g}): the export is broken", path=parity.artifact)
    return parity


def check_artifact(reference: np.ndarray, path: str | Path, x: np.ndarray,
                   min_agreement: float = FLOAT_MIN_AGREEMENT) -> tuple[Parity, np.ndarray]:
    """Run ``path`` on ``x``, compare with the Keras probabilities, raise if broken.

    Returns the parity record and the artifact's own probabilities (reused for
    accuracy, which is always measured on the file).
    """
    from .runtime import run_artifact

    probs = run_artifact(path, x)
    return require(compare(reference, probs, artifact=path, min_agreement=min_agreement)), probs
