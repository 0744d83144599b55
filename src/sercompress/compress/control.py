"""The same-budget control: the float reference fine-tuned as long as a recipe fine-tunes.

A recipe's fine-tuning is also extra training of the reference: measured against the
reference as trained, an under-converged reference makes compression look like it
improves accuracy. A recipe's control is the float model trained on from the reference
with what its fine-tuning steps use (``TrainConfig.finetune``: Adam, constant learning
rate, batch size, the same data and seed) for the recipe's total fine-tuning epochs
after epoch scaling, so the difference to the control is the cost of compression alone.

One continued training per (learning rate, batch size) serves every budget of a run:
it runs to the largest budget and saves the weights after each epoch count a recipe
uses. ``train.fit`` reseeds and starts Adam afresh, and the rate is constant, so the
weights after k epochs do not depend on how long the training runs on: each checkpoint
is keyed by its own budget (reference weights, data fingerprint, epochs, learning rate,
batch size, seed, package version), and a later run with other budgets reuses it. Each
checkpoint is exported to a float32 TFLite file and measured like a variant (the
runner's export path, per-clip predictions kept) in a content-addressed variant
directory; a recipe without fine-tuning has the reference itself as its control.

The control also gets the recipe's treatment after training: the runner re-estimates
BatchNorm statistics after every fine-tuned step (``Recipe.recalibrate_batchnorm``), and
that alone moves a control's UA by 5-16 points (measured: float32 fine-tuned 9 epochs,
69.9 % UA with Keras' moving statistics, 86.4 % re-estimated). So the recalibration is
part of the budget: a recipe that switches it off is compared with a control that has it
off too (``-bn-as-trained``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ArtifactError, RunError
from ..progress import Progress
from ..storage import (
    STORE_WAIT_S,
    atomic_path,
    content_hash,
    directory_lock,
    is_done,
    mark_done,
)
from .batchnorm import recalibrate_batchnorm
from .recipe import Finetune, Recipe
from .runner import clear_outputs, export_and_measure, log_result
from .variant import StepRecord, VariantResult, load_variant, save_variant

#: bump when what a control checkpoint or its variant holds changes
CONTROL_KEY_VERSION = 1
#: the seed every recipe step fine-tunes with (``TrainConfig.finetune``'s default)
CONTROL_SEED = 0
_DEFAULT = Finetune()


@dataclass(frozen=True, order=True)
class ControlBudget:
    """How much a recipe fine-tunes in total: what its control is trained with."""

    epochs: int                    # 0: no fine-tuning, the reference is the control
    learning_rate: float = _DEFAULT.learning_rate
    batch_size: int = _DEFAULT.batch_size
    #: BatchNorm statistics re-estimated after training, as the recipe's last fine-tuned step is
    recalibrated: bool = True

    @property
    def name(self) -> str:
        """The control's row in the report: ``float32@6ep`` (settings named when not the default)."""
        extra = "" if (self.learning_rate, self.batch_size) == (_DEFAULT.learning_rate, _DEFAULT.batch_size) \
            else f"-lr{self.learning_rate:g}-b{self.batch_size}"
        return f"float32@{self.epochs}ep{extra}{'' if self.recalibrated else '-bn-as-trained'}"


def recipe_budget(recipe: Recipe, epochs_scale: float = 1.0, max_epochs: int | None = None
                  ) -> ControlBudget | None:
    """The total fine-tuning of ``recipe``'s steps, each scaled as the runner scales it.

    None when its steps fine-tune with different learning rates or batch sizes:
    no single continued training matches such a recipe, and it is reported
    without a control rather than against a wrong one.
    """
    tuned = [s for s in recipe.steps if hasattr(s, "finetune")]
    epochs = sum(s.finetune.scaled_epochs(epochs_scale, max_epochs) for s in tuned)  # = StepContext.epochs
    settings = {(s.finetune.learning_rate, s.finetune.batch_size) for s in tuned}
    if not tuned:
        return ControlBudget(0)
    if len(settings) != 1:
        return None
    (lr, batch), = settings
    # as runner._apply_steps: re-estimated after every fine-tuned step, QAT included
    return ControlBudget(epochs, lr, batch, recipe.recalibrate_batchnorm)


def checkpoint_key(reference: Any, budget: ControlBudget) -> str:
    """Hash of everything that determines a control's trained weights."""
    return content_hash("control", CONTROL_KEY_VERSION, reference.weights_sha256,
                        reference.record.get("data_fingerprint"), budget.epochs, float(budget.learning_rate),
                        budget.batch_size, CONTROL_SEED, __version__)


def control_key(reference: Any, budget: ControlBudget) -> str:
    """Hash of everything that determines a control's files and figures: its weights and BN treatment."""
    return content_hash("control-variant", checkpoint_key(reference, budget), budget.recalibrated)


def checkpoint_path(steps_dir: Path, reference: Any, budget: ControlBudget) -> Path:
    return Path(steps_dir) / f"control-{budget.epochs}ep-{checkpoint_key(reference, budget)}.weights.h5"


def control_directory(variants_dir: Path, reference: Any, budget: ControlBudget) -> Path:
    return Path(variants_dir) / f"control-{budget.epochs}ep-{control_key(reference, budget)}"


def run_controls(budgets: Iterable[ControlBudget], reference: Any, data: Any, variants_dir: str | Path,
                 steps_dir: str | Path, progress: Progress | None = None) -> dict[ControlBudget, VariantResult]:
    """The control variant of every budget with fine-tuning, trained and measured where not yet done."""
    progress = progress or Progress()
    wanted = sorted({b for b in budgets if b.epochs > 0})
    pending = [b for b in wanted if not is_done(control_directory(Path(variants_dir), reference, b))]
    train_checkpoints(pending, reference, data, Path(steps_dir), progress)
    return {b: _control_variant(b, reference, data, Path(variants_dir), Path(steps_dir), progress) for b in wanted}


def train_checkpoints(budgets: list[ControlBudget], reference: Any, data: Any, steps_dir: Path,
                      progress: Progress) -> None:
    """One continued training per (learning rate, batch size), saving each missing budget's weights."""
    from ..tf_env import keras
    from ..train import TrainConfig, fit

    def settings(b: ControlBudget) -> tuple[float, int]:
        return b.learning_rate, b.batch_size

    for (lr, batch), group in groupby(sorted(budgets, key=settings), key=settings):
        with directory_lock(steps_dir, name=f".control-{lr:g}-{batch}.lock", wait_s=STORE_WAIT_S):
            missing = {b.epochs: p for b in group if not (p := checkpoint_path(steps_dir, reference, b)).is_file()}
            if not missing:
                continue
            top = max(missing)
            progress.info(f"same-budget control: float32 fine-tuned {top} epoch(s) at lr {lr:g}, "
                          f"saved after {sorted(missing)}")
            model = reference.fresh_model()
            fit(model, data, TrainConfig.finetune(top, lr, batch, seed=CONTROL_SEED),
                callbacks=(_saver(keras(), missing),), select_best=False, progress=progress)


def _saver(k: Any, wanted: dict[int, Path]) -> Any:
    """A Keras callback writing the weights (atomically) after each wanted epoch count."""
    class SaveAtBudgets(k.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            path = wanted.get(epoch + 1)
            if path is not None:
                with atomic_path(path) as tmp:
                    self.model.save_weights(str(tmp))

    return SaveAtBudgets()


def _control_variant(budget: ControlBudget, reference: Any, data: Any, variants_dir: Path, steps_dir: Path,
                     progress: Progress) -> VariantResult:
    """Export one checkpoint to float32 TFLite and measure it like a variant (reused when done)."""
    key = control_key(reference, budget)
    vdir = control_directory(variants_dir, reference, budget)
    with directory_lock(vdir, wait_s=STORE_WAIT_S):
        if is_done(vdir):
            try:
                return load_variant(vdir)
            except (ArtifactError, RunError) as e:
                progress.info(f"{budget.name}: finished control is corrupted ({e}); recomputing")
                clear_outputs(vdir)
        ckpt = checkpoint_path(steps_dir, reference, budget)
        if not ckpt.is_file():
            train_checkpoints([budget], reference, data, steps_dir, progress)
        t0 = time.perf_counter()
        recipe = Recipe(name=budget.name.replace("float32@", "control-"), int8_deployment=False,
                        recalibrate_batchnorm=budget.recalibrated,
                        description=f"float32 reference fine-tuned {budget.epochs} epoch(s) at lr "
                                    f"{budget.learning_rate:g}, batch {budget.batch_size}: the same-budget control")
        model = reference.fresh_model()
        model.load_weights(str(ckpt))
        if budget.recalibrated:  # as the runner does after the recipe's last fine-tuned step
            recalibrate_batchnorm(model, data.train.x)
        step = StepRecord(type="finetune", epochs=budget.epochs, key=key, reused=True)
        with progress.stage(f"control {budget.name}"):
            result = export_and_measure(recipe, None, model, [], [step], data, reference, vdir, key, 1.0, t0)
        save_variant(result)
        mark_done(vdir, {"key": key})
        log_result(result, progress)
        return result
