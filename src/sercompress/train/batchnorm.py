"""BatchNorm statistics re-estimated from training data ("precise BN"): one function for the
training loop (before each validation) and the compression stage (after a step is stripped).

Why: Keras' moving averages (momentum 0.99) need several hundred steps to forget their
initial values (mean 0, variance 1), and after pruning or clustering they still describe the
*uncompressed* network. A CPU-sized run of a few hundred steps then evaluates with stale
statistics and predicts one class for every clip although training accuracy is high (measured
on the default synthetic corpus: validation UA at chance for the first ~15 of 30 epochs), and
an exported file, where the statistics are folded into the kernels, classifies badly. This is
"precise BN" (Wu & Johnson, 2021, "Rethinking 'Batch' in BatchNorm"): the gradient path and
every kernel weight are untouched (so sparsity and cluster claims hold); only the statistics
used at inference change.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def recalibrate_batchnorm(model: Any, x: np.ndarray, *, batches: int | None = None, batch_size: int = 32,
                          seed: int = 0) -> int:
    """Set BatchNorm moving statistics to the mean of their batch statistics over training data.

    ``batches`` random batches of ``batch_size`` clips (drawn with ``seed``), or every clip of
    ``x`` in order when ``batches`` is None. Runs training-mode forward passes with each
    layer's momentum set so that the moving value becomes the running mean of the batch
    statistics. Returns the number of BatchNorm layers recalibrated.
    """
    from ..tf_env import keras

    bns = [m for m in model.submodules if isinstance(m, keras().layers.BatchNormalization)]
    if not bns or len(x) == 0 or (batches is not None and batches < 1):
        return 0
    chunks = _batches(len(x), batches, batch_size, seed)
    saved = [bn.momentum for bn in bns]
    try:
        for i, idx in enumerate(chunks, start=1):
            for bn in bns:
                bn.momentum = (i - 1) / i  # moving <- (i-1)/i * moving + 1/i * batch
            model(np.asarray(x[idx], np.float32), training=True)
    finally:
        for bn, momentum in zip(bns, saved, strict=True):
            bn.momentum = momentum
    return len(bns)


def _batches(n: int, batches: int | None, batch_size: int, seed: int) -> list[np.ndarray]:
    """Index arrays of the batches: random (sorted within a batch) or all of ``x`` in order."""
    if batches is None:
        order = np.arange(n)
        return [order[s:s + batch_size] for s in range(0, n, batch_size)]
    order = np.random.default_rng(seed).permutation(n)[: batches * batch_size]
    return [np.sort(order[s:s + batch_size]) for s in range(0, len(order), batch_size)]
