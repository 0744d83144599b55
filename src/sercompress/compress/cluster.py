"""Weight clustering with tfmot: ``cluster_weights`` / ``strip_clustering``.

Each selected kernel keeps ``clusters`` shared values (centroids); with
``preserve_sparsity`` (after a prune step) zeros stay zero, which is the
sparsity-preserving half of deep compression.
"""

from __future__ import annotations

from typing import Any

from ..export.verify import Claim
from .recipe import ClusterStep
from .registry import StepContext, register, tfmot, selected_layers, wrap_layers

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
