"""The same-budget control's budget: what a recipe fine-tunes in total, as the runner runs it (no training)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sercompress.compress.control import (
    ControlBudget,
    checkpoint_path,
    control_key,
    recipe_budget,
)
from sercompress.compress.recipe import Recipe, load_recipe, shipped_recipes
from sercompress.compress.registry import StepContext


def _runner_epochs(recipe: Recipe, scale: float, max_epochs: int | None) -> int:
    """What the runner trains: StepContext.epochs of every step that fine-tunes (runner._apply_steps)."""
    ctx = StepContext(fit=None, train_size=100, epochs_scale=scale, max_epochs=max_epochs)  # type: ignore[arg-type]
    return sum(ctx.epochs(s.finetune) for s in recipe.steps if hasattr(s, "finetune"))


@pytest.mark.parametrize("scale,max_epochs", [(1.0, None), (0.34, None), (0.5, 2)])
def test_budget_is_the_runners_total_of_fine_tuning_epochs(scale, max_epochs):
    for name, path in shipped_recipes().items():
        recipe = load_recipe(path)
        budget = recipe_budget(recipe, scale, max_epochs)
        assert budget is not None, name
        assert budget.epochs == _runner_epochs(recipe, scale, max_epochs), name
        lrs = {s.finetune.learning_rate for s in recipe.steps if hasattr(s, "finetune")}
        assert lrs <= {budget.learning_rate}, name


def _recipe(*finetunes) -> Recipe:
    steps = [{"type": "prune", "target_sparsity": 0.5, "finetune": f} for f in finetunes[:1]]
    steps += [{"type": "cluster", "clusters": 16, "preserve_sparsity": True, "finetune": f} for f in finetunes[1:]]
    return Recipe.model_validate({"name": "r", "steps": steps})


def test_budget_sums_steps_and_keeps_their_learning_rate():
    b = recipe_budget(_recipe({"epochs": 4, "learning_rate": 3e-5}, {"epochs": 6, "learning_rate": 3e-5}), 0.5)
    assert b == ControlBudget(5, 3e-5, 32)
    assert b.name == "float32@5ep-lr3e-05-b32"
    assert recipe_budget(_recipe({"epochs": 4})).name == "float32@4ep"


def test_control_gets_the_batchnorm_treatment_of_the_recipes_last_fine_tuned_step():
    """The runner re-estimates BN statistics after every fine-tuned step (QAT too), unless a recipe opts out."""
    budget = {n: recipe_budget(load_recipe(shipped_recipes()[n])) for n in
              ("prune-80", "prune80-cluster16", "qat-int8", "prune80-qat")}
    assert all(b.recalibrated for b in budget.values())
    assert budget["qat-int8"].name == "float32@3ep" and budget["prune-80"].name == "float32@6ep"
    opted_out = load_recipe(shipped_recipes()["qat-int8"]).model_copy(update={"recalibrate_batchnorm": False})
    assert recipe_budget(opted_out).name == "float32@3ep-bn-as-trained"
    ref = SimpleNamespace(weights_sha256="a" * 64, record={"data_fingerprint": "d1"})
    raw = ControlBudget(6, recalibrated=False)
    # one trained checkpoint, two exports
    assert checkpoint_path("s", ref, raw) == checkpoint_path("s", ref, ControlBudget(6))
    assert control_key(ref, raw) != control_key(ref, ControlBudget(6))


def test_no_fine_tuning_is_budget_zero_and_mixed_rates_have_no_control():
    assert recipe_budget(load_recipe(shipped_recipes()["ptq-int8"])) == ControlBudget(0)
    assert recipe_budget(_recipe({"epochs": 2, "learning_rate": 1e-4}, {"epochs": 2, "learning_rate": 1e-5})) is None


def test_checkpoints_are_keyed_by_budget_reference_and_data():
    ref = SimpleNamespace(weights_sha256="a" * 64, record={"data_fingerprint": "d1"})
    other_data = SimpleNamespace(weights_sha256="a" * 64, record={"data_fingerprint": "d2"})
    b3, b6 = ControlBudget(3), ControlBudget(6)
    keys = {control_key(ref, b3), control_key(ref, b6), control_key(other_data, b3),
            control_key(ref, ControlBudget(3, 3e-5)), control_key(ref, ControlBudget(3, batch_size=16))}
    assert len(keys) == 5
    assert control_key(ref, b3) == control_key(SimpleNamespace(**vars(ref)), ControlBudget(3))  # deterministic
    assert checkpoint_path("steps", ref, b3).name.startswith("control-3ep-")
