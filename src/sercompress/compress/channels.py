"""Structured (channel) pruning: a physically smaller model with whole output channels removed.

Unstructured sparsity (``prune``) leaves every tensor its shape, so on TFLite Micro
with CMSIS-NN it saves no flash, no RAM and no MACs. Removing whole output channels
of a convolution does, on every runtime: the kernel, its bias and its BatchNorm
lose those channels, the next layer loses the matching *input* channels, the
activation tensors get narrower (a smaller arena) and every layer touching them
does fewer MACs.

How channels are ranked (``criterion``):

* ``bn_gamma`` (default): ``|gamma|`` of the BatchNormalization right after the
  conv (Liu et al. 2017, "network slimming"). Every Light-SERNet conv is followed
  by a BN, which divides the conv's output by its own standard deviation: the
  filter's magnitude is normalised away, and what the next layer receives from a
  channel has spread ``|gamma|``. A conv without a BN after it falls back to L1.
* ``l1``: the L1 norm of each filter (Li et al. 2017, "Pruning filters for
  efficient ConvNets"), meaningful only where no normalisation follows.

The kept channels are the ``n`` best by score (ties: lower index), in their
original order, so ``keep = 1.0`` copies the model exactly. The smaller model is
rebuilt from the source model's own config (same layer names, hence the same
TFLite kernel names) with the kept weights copied in; channels are followed
through channel-wise layers (BN, ReLU, pooling, dropout, global pooling) and
concatenations (Light-SERNet's three first-layer paths) to the next conv or the
classifier. A layer kind this bookkeeping does not know is refused, not guessed.

``apply`` / ``strip``: ``apply`` builds the smaller model and fine-tunes it;
there are no wrappers to strip. ``restructure`` builds the smaller shape without
training, so the runner can load a step checkpoint of that shape on resume.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import RecipeError
from ..export.verify import Claim
from .recipe import ChannelPruneStep
from .registry import StepContext, register

KEY = "prune_channels.keep"
#: layers that act on each channel separately: the kept channels pass through unchanged
CHANNELWISE: frozenset[str] = frozenset({
    "BatchNormalization", "ReLU", "Activation", "LeakyReLU", "AveragePooling2D", "MaxPooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dropout"})
SUPPORTED: frozenset[str] = CHANNELWISE | {"InputLayer", "Conv2D", "Concatenate", "Dense"}


@dataclass(frozen=True)
class ChannelPlan:
    """Which output channels of each prunable conv survive (original indices, ascending)."""

    kept: Mapping[str, tuple[int, ...]]
    original: Mapping[str, int]

    def counts(self) -> dict[str, int]:
        return {name: len(idx) for name, idx in self.kept.items()}


def block_of(layer_name: str) -> str:
    """``lflb2_conv`` -> ``lflb2``: the name a recipe's ``keep`` table uses."""
    return layer_name.split("_", 1)[0]


def kept_count(filters: int, ratio: float, multiple: int = 1) -> int:
    """``ratio`` of ``filters`` rounded to the nearest count, up to ``multiple``, in [1, filters]."""
    n = max(1, math.floor(ratio * filters + 0.5))
    n = math.ceil(n / multiple) * multiple
    return min(filters, n)


def prunable_convs(model: Any) -> tuple[str, ...]:
    """Conv2D layers whose outputs feed another layer (a model output keeps its width)."""
    outputs = {entry[0] for entry in model.get_config()["output_layers"]}
    return tuple(layer.name for layer in model.layers
                 if type(layer).__name__ == "Conv2D" and layer.name not in outputs)


def plan_channels(model: Any, step: ChannelPruneStep) -> ChannelPlan:
    """Rank and select each prunable conv's channels; :class:`RecipeError` for unknown ``keep`` names."""
    convs = prunable_convs(model)
    _check_keep_names(step, convs)
    graph = _graph(model)
    consumers = _consumers(graph)
    kept, original = {}, {}
    for name in convs:
        layer = model.get_layer(name)
        filters = int(layer.get_config()["filters"])
        n = kept_count(filters, step.ratio_for(block_of(name), name), step.channel_multiple)
        scores = channel_scores(model, name, step.criterion, consumers)
        order = np.argsort(-scores, kind="stable")  # stable: ties keep the lower index
        kept[name] = tuple(int(i) for i in np.sort(order[:n]))
        original[name] = filters
    return ChannelPlan(kept=kept, original=original)


def channel_scores(model: Any, conv: str, criterion: str,
                   consumers: Mapping[str, list[str]] | None = None) -> np.ndarray:
    """One score per output channel of ``conv`` (higher = kept first); see the module docstring."""
    consumers = consumers if consumers is not None else _consumers(_graph(model))
    if criterion == "bn_gamma":
        after = consumers.get(conv, [])
        if len(after) == 1 and type(bn := model.get_layer(after[0])).__name__ == "BatchNormalization" \
                and bn.get_config().get("scale", True):
            return np.abs(np.asarray(bn.gamma.numpy(), dtype=np.float64))
    kernel = np.asarray(model.get_layer(conv).get_weights()[0], dtype=np.float64)
    return np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)


def shrink(model: Any, plan: ChannelPlan) -> Any:
    """A new model of the same topology with only the planned channels, weights copied in."""
    from ..tf_env import keras

    graph = _graph(model)
    config = model.get_config()
    for layer_cfg in config["layers"]:
        if layer_cfg["name"] in plan.kept:
            layer_cfg["config"]["filters"] = len(plan.kept[layer_cfg["name"]])
    small = keras().Model.from_config(config)
    channels: dict[str, np.ndarray] = {}
    for layer in model.layers:
        kind = type(layer).__name__
        inputs = [channels[name] for name in graph[layer.name]]
        channels[layer.name] = _output_channels(layer, kind, inputs, plan)
        weights = _sliced_weights(layer, kind, inputs, channels[layer.name])
        if weights:
            small.get_layer(layer.name).set_weights(weights)
    return small


def _output_channels(layer: Any, kind: str, inputs: list[np.ndarray], plan: ChannelPlan) -> np.ndarray:
    """Original channel indices present in ``layer``'s output."""
    if kind not in SUPPORTED:
        raise RecipeError(f"layer {layer.name!r} is a {kind}, which channel pruning cannot follow "
                          f"channels through (supported: {sorted(SUPPORTED)})", key="prune_channels")
    if kind == "InputLayer":
        return np.arange(int(layer.output_shape[0][-1] if isinstance(layer.output_shape, list)
                             else layer.output_shape[-1]))
    if kind == "Conv2D":
        if layer.get_config().get("groups", 1) != 1 or layer.get_config()["data_format"] != "channels_last":
            raise RecipeError(f"conv {layer.name!r} is grouped or channels-first: not supported",
                              key="prune_channels")
        return np.asarray(plan.kept.get(layer.name, range(int(layer.get_config()["filters"]))), dtype=np.int64)
    if kind == "Dense":
        return np.arange(int(layer.get_config()["units"]))
    if kind == "Concatenate":
        rank = len(layer.output_shape)
        if layer.get_config()["axis"] not in (-1, rank - 1):
            raise RecipeError(f"{layer.name!r} concatenates along axis {layer.get_config()['axis']}, "
                              "not channels", key="prune_channels")
        offsets = np.cumsum([0] + [int(s[-1]) for s in layer.input_shape[:-1]])
        return np.concatenate([idx + off for idx, off in zip(inputs, offsets, strict=True)])
    (only,) = inputs  # channel-wise: one input, channels unchanged
    return only


def _sliced_weights(layer: Any, kind: str, inputs: list[np.ndarray], out: np.ndarray) -> list[np.ndarray]:
    weights = layer.get_weights()
    if kind == "Conv2D":
        kernel = weights[0][:, :, inputs[0], :][..., out]
        return [kernel, *(b[out] for b in weights[1:])]
    if kind == "Dense":
        return [weights[0][inputs[0], ...], *weights[1:]]
    if kind == "BatchNormalization":
        return [w[out] for w in weights]
    if weights:
        raise RecipeError(f"layer {layer.name!r} ({kind}) has weights channel pruning does not know "
                          "how to slice", key="prune_channels")
    return []


def _graph(model: Any) -> dict[str, list[str]]:
    """layer name -> names of the layers it takes its inputs from (the functional config)."""
    graph: dict[str, list[str]] = {}
    for layer_cfg in model.get_config()["layers"]:
        nodes = layer_cfg.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise RecipeError(f"layer {layer_cfg['name']!r} is shared (called {len(nodes)} times): "
                              "channel pruning needs each layer used once", key="prune_channels")
        graph[layer_cfg["name"]] = [entry[0] for entry in nodes[0]] if nodes else []
    return graph


def _consumers(graph: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, sources in graph.items():
        for src in sources:
            out.setdefault(src, []).append(name)
    return out


def _check_keep_names(step: ChannelPruneStep, convs: tuple[str, ...]) -> None:
    if not isinstance(step.keep, dict):
        return
    known = {block_of(c) for c in convs} | set(convs)
    unknown = sorted(set(step.keep) - known)
    if unknown:
        raise RecipeError(f"keep names {unknown}, which are not prunable blocks of the model; its blocks: "
                          f"{sorted({block_of(c) for c in convs})} (or the conv layer names {list(convs)})",
                          key=KEY)


@register(ChannelPruneStep)
class ChannelPrune:
    @staticmethod
    def restructure(model: Any, step: ChannelPruneStep) -> Any:
        """The smaller model, weights copied, no training (also the shape a checkpoint of this step has)."""
        return shrink(model, plan_channels(model, step))

    @staticmethod
    def apply(model: Any, step: ChannelPruneStep, ctx: StepContext) -> Any:
        return ctx.train(ChannelPrune.restructure(model, step), step.finetune)

    @staticmethod
    def strip(model: Any) -> Any:
        return model

    @staticmethod
    def claims(step: ChannelPruneStep, model: Any) -> list[Claim]:
        """Every prunable conv shows its planned output-channel count in the file."""
        plan = plan_channels(model, step)
        return [Claim(output_channels=n, layers=(name,)) for name, n in plan.counts().items()]
