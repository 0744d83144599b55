"""How a model is trained: the paper's recipe as one frozen, hashed config.

Light-SERNet is trained with Adam (lr 1e-4), batch 32, cross-entropy or focal
loss (gamma 2), the learning rate multiplied by exp(-0.15) every 20 epochs
after epoch 50. The epoch kept is the best on the *validation* split.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from ..tomlconfig import FrozenModel

#: Sized for a 2-core CPU: the default synthetic fold has 528 training clips of 3 s; at
#: ~200 clips/s (bench/train_throughput.py, idle machine) an epoch is a few seconds.
DEFAULT_EPOCHS = 30

LossName = Literal["cross_entropy", "focal"]
#: "mixed_bfloat16": compute in bfloat16, variables in float32 (Keras' mixed precision);
#: "auto": that where the CPU multiplies bfloat16 natively (AVX512-BF16 / AMX), float32 elsewhere
Precision = Literal["float32", "mixed_bfloat16", "auto"]
SelectOn = Literal["val_ua", "val_loss"]


class LRDecay(FrozenModel):
    """lr(epoch) = lr0 * exp(-exponent * floor((epoch - start_epoch) / every_epochs)), epoch >= start.

    ``epoch`` is Keras' 0-based index: epochs 0..69 train at lr0, 70..89 at
    lr0 * exp(-0.15), and so on ("every 20 epochs after epoch 50"). A closed
    form of the epoch rather than a running product of the previous rate, so
    the rate of any epoch is known without replaying the ones before it.
    """

    start_epoch: int = Field(50, ge=0)
    every_epochs: int = Field(20, ge=1)
    exponent: float = Field(0.15, ge=0)

    def factor_at(self, epoch: int) -> float:
        steps = max(0, (epoch - self.start_epoch) // self.every_epochs)
        return math.exp(-self.exponent * steps)


class TrainConfig(FrozenModel):
    """Everything that decides how a model is trained (hashed into the run); what :func:`fit` takes."""

    epochs: int = Field(DEFAULT_EPOCHS, ge=1, le=1000)
    batch_size: int = Field(32, ge=1, le=1024)
    learning_rate: float = Field(1e-4, gt=0, lt=1)
    loss: LossName = "cross_entropy"
    focal_gamma: float = Field(2.0, ge=0, le=10)
    seed: int = 0
    #: None = constant learning rate (fine-tuning)
    decay: LRDecay | None = LRDecay()
    select_on: SelectOn = "val_ua"
    #: training batches whose statistics replace BatchNorm's moving averages before each
    #: validation (see :func:`recalibrate_batchnorm`); 0 = Keras' moving averages only
    precise_bn_batches: int = Field(8, ge=0, le=1000)
    #: arithmetic of training only: the trained weights are saved, evaluated and exported in float32
    precision: Precision = "float32"
    #: predict the validation split after every epoch (needed to select the best epoch); a
    #: compression step keeps its last epoch and is measured on its exported file instead
    validate_each_epoch: bool = True

    def resolved(self) -> TrainConfig:
        """This config with ``precision = "auto"`` decided for this machine (what is hashed and recorded)."""
        if self.precision != "auto":
            return self
        from ..tf_env import cpu_has_bf16

        return self.model_copy(update={"precision": "mixed_bfloat16" if cpu_has_bf16() else "float32"})

    @classmethod
    def finetune(cls, epochs: int, learning_rate: float, batch_size: int, seed: int = 0) -> TrainConfig:
        """A compression step's fine-tuning: constant rate, no precise BN (tfmot wrappers hold
        their own BatchNorm copies; the recipe runner recalibrates after stripping)."""
        return cls(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed,
                   decay=None, precise_bn_batches=0, validate_each_epoch=False)


def learning_rate_at(epoch: int, base_lr: float, decay: LRDecay | None) -> float:
    """The learning rate of 0-based ``epoch`` under ``decay`` (constant if None)."""
    return base_lr if decay is None else base_lr * decay.factor_at(epoch)
