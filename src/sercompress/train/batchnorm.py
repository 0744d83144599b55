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

The batch statistics are averaged with equal weight per batch, as a running mean
would (``moving <- (i-1)/i * moving + 1/i * batch``), but summed in separate variables
so that the pass can be one compiled graph: a momentum that changes every batch would be
baked into a traced graph as a constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def recalibrate_batchnorm(model: Any, x: np.ndarray, *, batches: int | None = None, batch_size: int = 32,
                          seed: int = 0) -> int:
    """Set BatchNorm moving statistics to the mean of their batch statistics over training data.

    ``batches`` random batches of ``batch_size`` clips (drawn with ``seed``), or every clip of
    ``x`` in order when ``batches`` is None. Returns the number of BatchNorm layers
    recalibrated. A one-off call runs eagerly (tracing a graph would cost more than the few
    passes); a loop that recalibrates every epoch keeps one compiled :class:`PreciseBatchNorm`.
    """
    return PreciseBatchNorm(model, compiled=False)(x, batches=batches, batch_size=batch_size, seed=seed)


class PreciseBatchNorm:
    """Precise BN for one model: training-mode passes that average each layer's batch statistics.

    Each pass runs with momentum 0, so a layer's moving value *is* that batch's statistic, and
    the step adds it to a per-layer sum; at the end the moving values become the sums over the
    number of batches. ``compiled`` runs the step as one graph (traced once, any batch size).
    """

    def __init__(self, model: Any, *, compiled: bool) -> None:
        from ..tf_env import keras, tf

        t = tf()
        self._model = model
        self._bns = [m for m in model.submodules if isinstance(m, keras().layers.BatchNormalization)]
        self._sums = [(t.Variable(t.zeros_like(bn.moving_mean), trainable=False),
                       t.Variable(t.zeros_like(bn.moving_variance), trainable=False)) for bn in self._bns]
        self._compiled = compiled
        self._step: Any = None

    def __call__(self, x: np.ndarray, *, batches: int | None = None, batch_size: int = 32, seed: int = 0) -> int:
        if not self._bns or len(x) == 0 or (batches is not None and batches < 1):
            return 0
        chunks = _batches(len(x), batches, batch_size, seed)
        saved = [bn.momentum for bn in self._bns]
        try:
            for bn in self._bns:
                bn.momentum = 0.0
            for sm, sv in self._sums:
                sm.assign(0.0 * sm)
                sv.assign(0.0 * sv)
            step = self._step_for(x)
            for idx in chunks:
                step(np.asarray(x[idx], np.float32))
            for bn, (sm, sv) in zip(self._bns, self._sums, strict=True):
                bn.moving_mean.assign(sm / len(chunks))
                bn.moving_variance.assign(sv / len(chunks))
        finally:
            for bn, momentum in zip(self._bns, saved, strict=True):
                bn.momentum = momentum
        return len(self._bns)

    def _accumulate(self, xb: Any) -> None:
        self._model(xb, training=True)
        for bn, (sm, sv) in zip(self._bns, self._sums, strict=True):
            sm.assign_add(bn.moving_mean)
            sv.assign_add(bn.moving_variance)

    def _step_for(self, x: np.ndarray) -> Any:
        if not self._compiled:
            return self._accumulate
        if self._step is None:
            from ..tf_env import tf

            spec = tf().TensorSpec([None, *x.shape[1:]], tf().float32)
            self._step = tf().function(self._accumulate, input_signature=[spec])
        return self._step


def _batches(n: int, batches: int | None, batch_size: int, seed: int) -> list[np.ndarray]:
    """Index arrays of the batches: random (sorted within a batch) or all of ``x`` in order."""
    if batches is None:
        order = np.arange(n)
        return [order[s:s + batch_size] for s in range(0, n, batch_size)]
    order = np.random.default_rng(seed).permutation(n)[: batches * batch_size]
    return [np.sort(order[s:s + batch_size]) for s in range(0, len(order), batch_size)]
