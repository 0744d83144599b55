"""The one training loop: Adam on the training split, validation every epoch, best epoch kept.

:func:`fit` trains the reference and the baselines (through
:func:`~sercompress.train.reference.train_reference`) and fine-tunes tfmot-wrapped
models in the compression stage (passing e.g. ``UpdatePruningStep()`` in ``callbacks``
and ``select_best=False``). The test fold is only ever evaluated, never used to choose.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..metrics import Metrics, classification_metrics
from ..progress import Progress
from .batchnorm import PreciseBatchNorm
from .config import TrainConfig, learning_rate_at
from .losses import make_loss


@dataclass(frozen=True)
class EpochLog:
    """One row of history.csv. ``epoch`` is 1-based (as printed)."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_ua: float
    val_wa: float
    val_f1: float
    lr: float
    seconds: float


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` did: per-epoch logs and which epoch's weights the model holds."""

    epochs: tuple[EpochLog, ...]
    best_epoch: int | None  # 1-based epoch restored, None if select_best=False
    selected_on: str
    seconds: float

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras-``History``-like columns."""
        cols = [f for f in EpochLog.__dataclass_fields__]
        return {c: [getattr(e, c) for e in self.epochs] for c in cols}


def fit(model: Any, data: Any, config: TrainConfig, *, callbacks: Sequence[Any] = (),
        select_best: bool = True, progress: Progress | None = None) -> FitResult:
    """Compile ``model`` with Adam and train it on ``data.train`` as ``config`` says, validating on ``data.val``.

    ``data`` is a ``dataset.PreparedData`` (anything with ``.train``, ``.val``
    splits of ``x``/``y`` and ``.classes``). Every epoch the validation split is
    predicted once for val loss / UA / WA / F1 (unless ``config.validate_each_epoch`` is
    off, as for a compression step's fine-tuning), and one line is reported
    through ``progress`` (``Progress(quiet=True)`` silences it).

    ``select_best`` restores, at the end, the weights of the best epoch by
    ``config.select_on`` (ties broken by the other figure). It copies
    ``model.get_weights()`` wholesale, so with tfmot wrappers (masks, pruning
    step, quantizer ranges) prefer ``select_best=False`` and keep the last epoch.

    ``config.precise_bn_batches`` > 0 recalibrates BatchNorm statistics on that
    many training batches at the end of every epoch, before validating (plain
    Keras models only: use :meth:`TrainConfig.finetune` for tfmot-wrapped ones).
    """
    from ..tf_env import keras, seed_everything

    if len(data.train.y) == 0:
        raise DataError("the training split is empty")
    if select_best and len(data.val.y) == 0:
        raise DataError("the validation split is empty; cannot select the best epoch")
    if select_best and not config.validate_each_epoch:
        raise ValueError("selecting the best epoch needs validate_each_epoch")
    progress = progress or Progress()
    k = keras()
    seed_everything(config.seed)
    loss_fn = make_loss(config.loss, config.focal_gamma)
    model.compile(optimizer=k.optimizers.Adam(learning_rate=config.learning_rate), loss=loss_fn,
                  metrics=["accuracy"])
    schedule = k.callbacks.LearningRateScheduler(
        lambda epoch, _lr: learning_rate_at(epoch, config.learning_rate, config.decay))
    t0 = time.perf_counter()
    with progress.steps(config.epochs, "epoch", kind="epoch") as report:
        monitor = _epoch_monitor(data, config, loss_fn, select_best, report)
        model.fit(data.train.x, data.train.y, batch_size=config.batch_size, epochs=config.epochs, shuffle=True,
                  verbose=0, callbacks=[schedule, monitor, *callbacks])
    best = monitor.restore_best()
    return FitResult(epochs=tuple(monitor.rows), best_epoch=best, selected_on=config.select_on,
                     seconds=round(time.perf_counter() - t0, 3))


def _epoch_monitor(data: Any, config: TrainConfig, loss_fn: Any, select_best: bool,
                   report: Callable[..., None]):
    """Keras callback: validation figures into ``logs``, one progress report, best weights."""
    from ..tf_env import keras

    classes = tuple(data.classes)

    class EpochMonitor(keras().callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[EpochLog] = []
            self._t = 0.0
            self._best_key: tuple[float, float] | None = None
            self._best_weights: list[np.ndarray] | None = None
            self._best_epoch: int | None = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            self._precise_bn = PreciseBatchNorm(self.model, compiled=True) if config.precise_bn_batches else None

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs if logs is not None else {}
            if self._precise_bn is not None:
                self._precise_bn(data.train.x, batches=config.precise_bn_batches, batch_size=config.batch_size,
                                 seed=config.seed + epoch)
            val = _validate(self.model, data.val if config.validate_each_epoch else None, classes, loss_fn,
                            config.batch_size)
            logs.update(val)
            lr = float(keras().backend.get_value(self.model.optimizer.learning_rate))
            row = EpochLog(epoch=epoch + 1, loss=float(logs.get("loss", math.nan)),
                           accuracy=float(logs.get("accuracy", math.nan)), lr=lr,
                           seconds=round(time.perf_counter() - self._t, 3), **val)
            self.rows.append(row)
            if select_best:
                self._consider(row)
            report(_epoch_line(row, config.epochs), **asdict(row))

        def _consider(self, row: EpochLog) -> None:
            ua, vl = row.val_ua, row.val_loss
            key = (ua, -vl) if config.select_on == "val_ua" else (-vl, ua)
            if self._best_key is None or key > self._best_key:
                self._best_key = key
                self._best_epoch = row.epoch
                self._best_weights = [w.copy() for w in self.model.get_weights()]

        def restore_best(self) -> int | None:
            if self._best_weights is not None:
                self.model.set_weights(self._best_weights)
            return self._best_epoch

    return EpochMonitor()


def _validate(model: Any, split: Any, classes: tuple[str, ...], loss_fn: Any, batch_size: int) -> dict[str, float]:
    """Validation figures of one epoch (NaN when there is no split to predict, or none is wanted)."""
    if split is None or len(split.y) == 0:
        return {"val_loss": math.nan, "val_ua": math.nan, "val_wa": math.nan, "val_f1": math.nan}
    probs = model.predict(split.x, batch_size=batch_size, verbose=0)
    vloss = float(np.mean(np.asarray(loss_fn(split.y, probs))))  # data term only, no L2
    m = classification_metrics(split.y, probs, classes)
    return {"val_loss": vloss, "val_ua": m.ua, "val_wa": m.wa, "val_f1": m.f1}


def _epoch_line(r: EpochLog, epochs: int) -> str:
    val = "" if math.isnan(r.val_ua) else f"val_loss {r.val_loss:.4f}  val_ua {r.val_ua:.3f}  "
    return (f"epoch {r.epoch}/{epochs}  loss {r.loss:.4f}  acc {r.accuracy:.3f}  "
            f"{val}lr {r.lr:.2e}  {r.seconds:.1f} s")


def evaluate(model: Any, split: Any, classes: Sequence[str], batch_size: int = 64) -> Metrics:
    """Metrics of a Keras model on one split (predicted in batches)."""
    if len(split.y) == 0:
        raise DataError("cannot evaluate on an empty split")
    probs = model.predict(split.x, batch_size=batch_size, verbose=0)
    return classification_metrics(split.y, probs, classes)
