"""One candidate's training and export, in this process or in an executor's worker (local pool, Ray).

Why a separate, picklable entry point: a candidate is a recipe file run from the
reference into the shared store (``compress.run_recipe``); its variant directory is
content-addressed, so a worker on any node writes what the search process then
reads, and a candidate a killed search left half-done is found (or redone) by the
store's markers, never taken as done. The search process keeps everything cheap and
TensorFlow-free: Optuna, the device check, the validation score.

A worker gets the reference as its run directory (loaded once per worker process) or,
for a reference that is not a run directory (tests), as the picklable object itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import SercompressError
from ..progress import Progress


def portable(reference: Any) -> Any:
    """What a worker is sent to find ``reference``: its run directory when it is a loaded run."""
    from ..train.rundir import TrainedReference

    return str(reference.run_dir) if isinstance(reference, TrainedReference) else reference


def train_candidate(recipe: str, reference: Any, store: str) -> tuple[str | None, str | None]:
    """A worker's job: (the variant directory, None), or (None, the error) for a candidate that
    cannot be built (an exception's own type may not survive the trip back from a Ray worker)."""
    try:
        ref, data = _reference_and_data(reference) if isinstance(reference, str) else (reference, reference.data())
        return str(build(recipe, ref, data, Path(store), Progress(quiet=True)).directory), None
    except SercompressError as e:
        return None, str(e)


def build(recipe: str | Path, reference: Any, data: Any, store: Path, progress: Progress) -> Any:
    """The candidate's ``VariantResult``: from the store, or trained, exported and measured into it."""
    from ..compress import run_recipe

    return run_recipe(recipe, reference, store / "variants", data=data, progress=progress,
                      steps_dir=store / "steps")


@lru_cache(maxsize=2)
def _reference_and_data(run_dir: str) -> tuple[Any, Any]:
    """A worker loads the reference and prepares its data once, however many candidates it trains."""
    from ..train import load_reference

    reference = load_reference(run_dir)
    return reference, reference.data()
