"""BatchNorm statistics after a compression step: the training package's precise BN over the
whole training split.

Pruning and clustering change what every convolution outputs, but after the few dozen
fine-tuning steps a small corpus gives, Keras' moving statistics still describe the
*uncompressed* network, and the exported file (where they are folded into the kernels)
classifies badly. One pass over every training clip, in order, in batches of 128, fixes that
without touching a kernel weight; the algorithm is :func:`sercompress.train.recalibrate_batchnorm`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..train.batchnorm import recalibrate_batchnorm as _precise_bn

BATCH = 128


def recalibrate_batchnorm(model: Any, x: np.ndarray, batch_size: int = BATCH) -> int:
    """Reset BN moving statistics to their average over all of ``x``; returns the BN layer count."""
    return _precise_bn(model, x, batches=None, batch_size=batch_size)
