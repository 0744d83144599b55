"""Compression recipes and the variant runner.

Public API::

    load_recipe(path) -> Recipe
    run_recipe(recipe, reference, out_root, *, epochs_scale=1.0, max_epochs=None,
               progress=None) -> VariantResult
    load_variant(directory) -> VariantResult

Techniques (``prune``, ``cluster``, ``qat``, ``ptq``, ``prune_channels``) each live in their own
module with an apply / strip pair and are registered by step config type in
:mod:`.registry`. Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from .recipe import (
                     ChannelPruneStep,
                     ClusterStep,
                     Finetune,
                     PruneStep,
                     PtqStep,
                     QatStep,
                     Recipe,
                     load_recipe,
                     resolve_recipe,
                     shipped_recipes,
)
from .runner import run_recipe
from .variant import VariantResult, load_variant

__all__ = [
    "ChannelPruneStep", "ClusterStep", "Finetune", "PruneStep", "PtqStep", "QatStep", "Recipe", "VariantResult",
    "load_recipe", "load_variant", "resolve_recipe", "run_recipe", "shipped_recipes",
]
