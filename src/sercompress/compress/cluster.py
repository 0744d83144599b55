"""Weight clustering with tfmot: ``cluster_weights`` / ``strip_clustering``.

Each selected kernel keeps ``clusters`` shared values (centroids); with
``preserve_sparsity`` (after a prune step) zeros stay zero, which is the
sparsity-preserving half of deep compression.
"""

from __future__ import annotations

from typing import Any

from ..errors import RecipeError
from ..export.verify import Claim
from .recipe import ClusterStep
from .registry import StepContext, register, selected_layers, tfmot, wrap_layers

#: recipe spelling -> tfmot CentroidInitialization attribute
INITS: dict[str, str] = {"kmeans++": "KMEANS_PLUS_PLUS", "linear": "LINEAR",
                         "density": "DENSITY_BASED", "random": "RANDOM"}


@register(ClusterStep)
class Cluster:
    @staticmethod
    def apply(model: Any, step: ClusterStep, ctx: StepContext) -> Any:
        ck = tfmot().clustering.keras
        init = getattr(ck.CentroidInitialization, INITS[step.init])
        names = selected_layers(model, step.layers, key="cluster.layers")
        _check_enough_weights(model, names, step)
        wrapped = wrap_layers(model, names, lambda layer: ck.cluster_weights(
            layer, number_of_clusters=step.clusters, cluster_centroids_init=init,
            preserve_sparsity=step.preserve_sparsity))
        return ctx.train(wrapped, step.finetune)

    @staticmethod
    def strip(model: Any) -> Any:
        return tfmot().clustering.keras.strip_clustering(model)

    @staticmethod
    def claims(step: ClusterStep, model: Any) -> list[Claim]:
        return [Claim(clusters=step.clusters, layers=selected_layers(model, step.layers, key="cluster.layers"))]


def _check_enough_weights(model: Any, names: tuple[str, ...], step: ClusterStep) -> None:
    """tfmot's kmeans++ fails obscurely when a kernel has fewer candidates than clusters."""
    import numpy as np

    for layer in model.layers:
        if layer.name in names and layer.get_weights():
            kernel = layer.get_weights()[0]
            n = int(np.count_nonzero(kernel)) if step.preserve_sparsity else kernel.size
            if n <= step.clusters:
                raise RecipeError(
                    f"layer {layer.name!r} has only {n} {'non-zero ' if step.preserve_sparsity else ''}"
                    f"weights, not enough for {step.clusters} clusters; leave it out of 'layers'",
                    key="cluster.clusters")
