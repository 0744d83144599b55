"""The work units of a run, each computed into the store under its content key.

A unit is one of: a trained reference (Light-SERNet or a baseline model), a
recipe's variant, the same-budget controls. Each function here either finds
its unit finished in the store or computes it there, and returns where it is:
the run's sequential pass (``pipeline``) and the worker processes that compute
units ahead of it (``parallel``) call the same functions with the same
arguments, so they reach the same keys and a unit is never computed twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .baseline import BaselineSpec
from .compress.recipe import RECIPE_DIR  # noqa: F401  (one definition; the pipeline, workers and sweep import it from here)
from .progress import Progress
from .runconfig import RunConfig
from .storage import is_done, store_entry

#: the model every recipe compresses
REFERENCE_MODEL = "light_sernet"
#: Recipes a baseline is given: its float file, and its int8 PTQ form.
BASELINE_RECIPES = ("float32", "ptq-int8")


def stored_reference(data_cfg: Any, train_cfg: Any, model: str, hparams: Any, store: Path,
                     progress: Progress) -> Path:
    """Train a model (or find it trained) in the store; its store entry, keyed by its configuration."""
    from .train import config_hash, train_reference

    with store_entry(store / "references" / f"{model}-{config_hash(data_cfg, train_cfg, model, hparams)}") as entry:
        if is_done(entry):
            progress.info(f"{model}: finished run with the same configuration found in {entry}; reused")
        else:
            train_reference(data_cfg, train_cfg, entry, model=model, hparams=hparams, progress=progress)
    return entry


def baseline_training(spec: BaselineSpec, config: RunConfig) -> tuple[Any, Any]:
    """A baseline is trained exactly like the reference (same data, fold, seed), on its own input type."""
    data_cfg = config.data.model_copy(update={"input_type": spec.input_type})
    train_cfg = config.train
    if config.baselines.epochs is not None:
        train_cfg = train_cfg.model_copy(update={"epochs": config.baselines.epochs})
    return data_cfg, train_cfg


def stored_variant(recipe_path: Path, reference: Any, config: RunConfig, data: Any, store: Path,
                   progress: Progress) -> Any:
    """A recipe applied to ``reference``, in the store (``compress.run_recipe``); its VariantResult."""
    from .compress import run_recipe

    return run_recipe(recipe_path, reference, store / "variants", epochs_scale=config.compress.epochs_scale,
                      data=data, progress=progress, steps_dir=store / "steps")


def control_budgets(recipe_paths: list[Path], config: RunConfig) -> list[Any]:
    """The same-budget controls the recipes need (``compress.control.recipe_budget``)."""
    from .compress.control import recipe_budget
    from .compress.recipe import load_recipe

    budgets = [recipe_budget(load_recipe(p), config.compress.epochs_scale) for p in recipe_paths]
    return [b for b in budgets if b is not None]


def stored_controls(budgets: list[Any], reference: Any, data: Any, store: Path, progress: Progress) -> dict:
    """Every budget's control variant, in the store (``compress.control.run_controls``)."""
    from .compress.control import run_controls

    return run_controls(budgets, reference, data, store / "variants", store / "steps", progress)
