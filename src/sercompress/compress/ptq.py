"""Post-training quantisation: a conversion option, not a training step.

``apply`` leaves the model alone; the runner passes the step's ``mode`` and
``int8_io`` to :func:`sercompress.export.tflite.to_tflite`, with
representative data drawn from the training split.
"""

from __future__ import annotations

from typing import Any

from ..export.verify import Claim
from .recipe import PtqStep
from .registry import StepContext, register

#: modes whose kernels are all stored as integers
INTEGER_WEIGHT_MODES: frozenset[str] = frozenset({"int8", "int16x8"})
#: dynamic-range mode leaves kernels under 1024 weights in float (the converter's
#: threshold); the bulk of the weights must still be int8
DYNAMIC_MIN_INTEGER_FRACTION = 0.8


@register(PtqStep)
class Ptq:
    @staticmethod
    def apply(model: Any, step: PtqStep, ctx: StepContext) -> Any:
        return model

    @staticmethod
    def strip(model: Any) -> Any:
        return model

    @staticmethod
    def claims(step: PtqStep, model: Any) -> list[Claim]:
        if step.mode == "dynamic":
            return [Claim(min_integer_fraction=DYNAMIC_MIN_INTEGER_FRACTION)]
        return [Claim(integer_weights=step.mode in INTEGER_WEIGHT_MODES)]
