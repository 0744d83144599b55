"""Quantization-aware training with tfmot, plain or collaborative.

``preserve`` picks tfmot's scheme: ``none`` = default 8-bit QAT; ``sparsity``
= PQAT (``Default8BitPrunePreserveQuantizeScheme``); ``clusters`` = CQAT
(``Default8BitClusterPreserveQuantizeScheme``); ``both`` = PCQAT (the cluster
scheme with ``preserve_sparsity=True``). A QAT model converts straight to a
full-integer file, so there is nothing to strip.

Why the cluster-preserving schemes are applied with :func:`per_tensor_centroids`:
tfmot rebuilds the centroids from the clustered kernel and *guesses* whether
a Conv2D was clustered per channel: if every output channel holds the same
number of distinct values (give or take one), it makes one set of centroids
per channel. Our cluster step clusters per tensor, and in a dense kernel every
channel of the wider layers holds all 16 values, so the guess is wrong for
Light-SERNet's four LFLB convolutions and its head: each of their channels got
its own 16 trainable centroids (320 x 16 for the head). Measured on one
reference, one epoch of CQAT from the same clustered weights: Keras UA 0.682
with tfmot's guess against 0.795 with per-tensor centroids (0.801 before
QAT), and the per-channel form traces a Python loop over every channel (the
first epoch took minutes). PCQAT escaped because pruned channels hold
different numbers of values, which tfmot reads as per-tensor clustering.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..export.verify import Claim
from .recipe import QatStep
from .registry import StepContext, register, tfmot


def quantize_scheme(preserve: str):
    """The tfmot QuantizeScheme for a ``preserve`` value (None = default 8-bit)."""
    if preserve == "none":
        return None
    combine = tfmot().experimental.combine

    schemes = {
        "sparsity": combine.Default8BitPrunePreserveQuantizeScheme,
        "clusters": combine.Default8BitClusterPreserveQuantizeScheme,
        "both": lambda: combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True),
    }
    return schemes[preserve]()


@contextlib.contextmanager
def per_tensor_centroids() -> Iterator[None]:
    """Make tfmot's cluster-preserving quantizers take one set of centroids per kernel.

    The centroids are the kernel's distinct values, as tfmot does for Dense
    layers; only the per-channel guess for Conv2D is switched off (see the
    module docstring). Scoped to the wrapping, where the quantizers are built.
    """
    from tensorflow_model_optimization.python.core.quantization.keras.collab_opts.cluster_preserve import (
        cluster_preserve_quantize_registry as registry,
    )

    def whole_kernel(layer: Any, weight: Any, data_format: Any):
        centroids, lookup = registry.get_unique(weight)
        return centroids, registry.tf.size(centroids), lookup, False

    saved = registry.get_centroids
    registry.get_centroids = whole_kernel
    try:
        yield
    finally:
        registry.get_centroids = saved


@register(QatStep)
class Qat:
    #: a QAT model is wrapped in quantize layers: its weights cannot be loaded into the plain model
    checkpointable = False

    @staticmethod
    def apply(model: Any, step: QatStep, ctx: StepContext) -> Any:
        qk = tfmot().quantization.keras
        scheme = quantize_scheme(step.preserve)
        if scheme is None:
            qat = qk.quantize_model(model)
        else:
            with per_tensor_centroids():
                qat = qk.quantize_apply(qk.quantize_annotate_model(model), scheme)
        return ctx.train(qat, step.finetune)

    @staticmethod
    def strip(model: Any) -> Any:
        return model

    @staticmethod
    def claims(step: QatStep, model: Any) -> list[Claim]:
        return [Claim(integer_weights=True)]
