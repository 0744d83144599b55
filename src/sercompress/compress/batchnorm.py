"""Re-estimate batch-norm statistics after a compression step.

Pruning and clustering change what every convolution outputs, but Keras
batch norm updates its moving mean / variance with momentum 0.99: after the
few dozen fine-tuning steps a small corpus gives, the statistics still
describe the *uncompressed* network, and the exported file (where they are
folded into the kernels) classifies badly. One pass over the training split
in training mode, with the momentum set so the moving values become the
cumulative average of the batch statistics, fixes that without touching a
single kernel weight (so sparsity and cluster claims are unaffected).
"""

from __future__ import annotations

from typing import Any

import numpy as np

BATCH = 128


def recalibrate_batchnorm(model: Any, x: np.ndarray, batch_size: int = BATCH) -> int:
    """Reset BN moving statistics to their average over ``x``; returns the BN layer count."""
    layers = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    if not layers or len(x) == 0:
        return 0
    saved = [layer.momentum for layer in layers]
    try:
        for k, start in enumerate(range(0, len(x), batch_size)):
            for layer in layers:
                layer.momentum = k / (k + 1)  # k = 0 -> batch stats; then a running mean
            model(np.asarray(x[start:start + batch_size], np.float32), training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum
    return len(layers)
