"""Post-training quantisation: a conversion option, not a training step.

``apply`` leaves the model alone; the runner passes the step's ``mode``,
``int8_io`` and ``int16_blocks`` to :func:`sercompress.export.tflite.to_tflite`, with
representative data drawn from the training split.
"""

from __future__ import annotations

from typing import Any

from ..errors import RecipeError
from ..export.verify import Claim
from .channels import block_of
from .recipe import PtqStep
from .registry import StepContext, register

#: modes whose kernels are all stored as integers
INTEGER_WEIGHT_MODES: frozenset[str] = frozenset({"int8", "int16x8", "mixed"})
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
        _check_int16_blocks(step, model)
        if step.mode == "dynamic":
            return [Claim(min_integer_fraction=DYNAMIC_MIN_INTEGER_FRACTION)]
        return [Claim(integer_weights=step.mode in INTEGER_WEIGHT_MODES)]


#: layers that leave no operator in an inference file (no precision to choose)
_NO_OPERATOR = ("InputLayer", "Dropout", "SpatialDropout", "GaussianNoise", "GaussianDropout", "AlphaDropout")


def _check_int16_blocks(step: PtqStep, model: Any) -> None:
    """A mixed step's blocks must be blocks of the model that compute (checked before anything trains)."""
    known = {block_of(layer.name) for layer in getattr(model, "layers", ())
             if not type(layer).__name__.startswith(_NO_OPERATOR)}
    unknown = sorted(set(step.int16_blocks) - known)
    if unknown:
        raise RecipeError(f"int16_blocks names {unknown}, which are not blocks of the model; its blocks: "
                          f"{sorted(known)}", key="int16_blocks")
