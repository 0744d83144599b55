"""Training: the paper's recipe (:mod:`.config`), losses, the one loop (:mod:`.loop`),
precise BatchNorm (:mod:`.batchnorm`) and the reference run directory (:mod:`.rundir`,
:mod:`.reference`). The names other stages use are re-exported here."""

from .batchnorm import recalibrate_batchnorm
from .config import (
    DEFAULT_EPOCHS,
    LossName,
    LRDecay,
    SelectOn,
    TrainConfig,
    learning_rate_at,
)
from .loop import EpochLog, FitResult, evaluate, fit
from .losses import make_loss, sparse_focal_loss
from .reference import config_hash, train_reference
from .rundir import (
    MAX_MODEL_BYTES,
    RUN_FILES,
    RUN_SCHEMA_VERSION,
    TrainedReference,
    load_reference,
    weights_sha256,
)

__all__ = [
    "DEFAULT_EPOCHS", "MAX_MODEL_BYTES", "RUN_FILES", "RUN_SCHEMA_VERSION", "EpochLog", "FitResult",
    "LRDecay", "LossName", "SelectOn", "TrainConfig", "TrainedReference", "config_hash", "evaluate",
    "fit", "learning_rate_at", "load_reference", "make_loss", "recalibrate_batchnorm",
    "sparse_focal_loss", "train_reference", "weights_sha256",
]
