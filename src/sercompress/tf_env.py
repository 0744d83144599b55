"""The single place TensorFlow is imported and configured.

Stages that need TensorFlow call :func:`tf` / :func:`keras` instead of
importing it at module level, so that `profile`, `check`, `report` and
`compare` start in well under a second and never pull TensorFlow in.
"""

from __future__ import annotations

import os
import random
from functools import lru_cache
from types import ModuleType

import sercompress  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)


@lru_cache(maxsize=1)
def tf() -> ModuleType:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as _tf

    _tf.get_logger().setLevel("ERROR")
    return _tf


@lru_cache(maxsize=1)
def keras() -> ModuleType:
    tf()
    import tf_keras

    return tf_keras


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; enable TF's deterministic ops.

    Determinism is what makes the committed CI reference report stable: a
    seeded run on one machine gives the same numbers twice.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    t = tf()
    keras().utils.set_random_seed(seed)
    if deterministic:
        try:
            t.config.experimental.enable_op_determinism()
        except Exception:  # pragma: no cover - older TF
            pass
