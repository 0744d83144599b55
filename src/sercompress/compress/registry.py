"""Techniques registered by the type of their step config (``@register(PruneStep)``).

The runner asks :func:`technique_for` for the handler of a step object and
never switches on strings. A technique is a class with three static methods:

``apply(model, step, ctx) -> model``   wrap the model and fine-tune it
``strip(model) -> model``              remove training-only wrappers before export
``claims(step, model) -> [Claim]``     what the exported file must show afterwards

A technique that changes the model's shape (channel pruning) also has
``restructure(model, step) -> model``: the new shape without training, so the
runner can load that step's weight checkpoint on resume.

``model`` in ``claims`` is the model the step was applied to (to resolve the
layer selection to layer names, which also name the TFLite kernels).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import RecipeError
from .recipe import Finetune


class FitFn(Protocol):
    def __call__(self, model: Any, *, epochs: int, learning_rate: float, batch_size: int,
                 callbacks: Sequence[Any] = ()) -> Any: ...


@dataclass(frozen=True)
class StepContext:
    """What a technique needs besides the model: how to train and for how long."""

    fit: FitFn
    train_size: int
    epochs_scale: float = 1.0
    max_epochs: int | None = None
    #: the clips' ``features.FeatureConfig`` (frames per second: the window step needs it)
    feature_config: Any = None

    def epochs(self, finetune: Finetune) -> int:
        return finetune.scaled_epochs(self.epochs_scale, self.max_epochs)

    def steps_per_epoch(self, finetune: Finetune) -> int:
        return max(1, math.ceil(self.train_size / finetune.batch_size))

    def train(self, model: Any, finetune: Finetune, callbacks: Sequence[Any] = ()) -> Any:
        self.fit(model, epochs=self.epochs(finetune), learning_rate=finetune.learning_rate,
                 batch_size=finetune.batch_size, callbacks=tuple(callbacks))
        return model


class Technique(Protocol):
    @staticmethod
    def apply(model: Any, step: Any, ctx: StepContext) -> Any: ...

    @staticmethod
    def strip(model: Any) -> Any: ...

    @staticmethod
    def claims(step: Any, model: Any) -> list[Any]: ...


TECHNIQUES: dict[type, type] = {}


def register(config_type: type) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        TECHNIQUES[config_type] = cls
        return cls

    return deco


def technique_for(step: Any) -> Technique:
    _load_builtin()
    try:
        return TECHNIQUES[type(step)]  # type: ignore[return-value]
    except KeyError:
        raise TypeError(f"no technique registered for {type(step).__name__}") from None


def selected_layers(model: Any, selection: Sequence[str], key: str = "layers") -> tuple[str, ...]:
    """Names of the layers whose class name or own name is in ``selection``."""
    names = tuple(layer.name for layer in model.layers
                  if type(layer).__name__ in selection or layer.name in selection)
    if not names:
        classes = sorted({type(layer).__name__ for layer in model.layers})
        raise RecipeError(f"{list(selection)} matches no layer of the model (layer classes: {classes})",
                          key=key)
    return names


def wrap_layers(model: Any, names: Sequence[str], wrap: Callable[[Any], Any]) -> Any:
    """Clone ``model`` with ``wrap`` applied to the named layers (tfmot's documented way).

    Unwrapped layers are reused as they are, so their weights carry over.
    """
    from ..tf_env import keras

    chosen = set(names)
    return keras().models.clone_model(
        model, clone_function=lambda layer: wrap(layer) if layer.name in chosen else layer)


def tfmot():
    """tensorflow_model_optimization, imported after TensorFlow is configured (Keras 2)."""
    from ..tf_env import tf

    tf()
    import tensorflow_model_optimization

    return tensorflow_model_optimization


def _load_builtin() -> None:
    from . import channels, cluster, prune, ptq, qat, window  # noqa: F401  (each registers itself)
