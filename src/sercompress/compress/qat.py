"""Quantization-aware training with tfmot, plain or collaborative.

``preserve`` picks tfmot's scheme: ``none`` = default 8-bit QAT; ``sparsity``
= PQAT (``Default8BitPrunePreserveQuantizeScheme``); ``clusters`` = CQAT
(``Default8BitClusterPreserveQuantizeScheme``); ``both`` = PCQAT (the cluster
scheme with ``preserve_sparsity=True``). A QAT model converts straight to a
full-integer file, so there is nothing to strip.
"""

from __future__ import annotations

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
            qat = qk.quantize_apply(qk.quantize_annotate_model(model), scheme)
        return ctx.train(qat, step.finetune)

    @staticmethod
    def strip(model: Any) -> Any:
        return model

    @staticmethod
    def claims(step: QatStep, model: Any) -> list[Claim]:
        return [Claim(integer_weights=True)]
