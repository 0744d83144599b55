"""Magnitude pruning with tfmot: ``prune_low_magnitude`` / ``strip_pruning``.

tfmot updates the mask every ``frequency`` optimizer steps (default 100, far
more than a small corpus's epoch), so the schedule is fitted to the actual
fine-tuning length: begin / end are fractions of the fine-tuning steps unless
given as steps, the frequency defaults to half an epoch, and the end step is
aligned to the last mask update so the polynomial ramp really reaches the
target before training stops.
"""

from __future__ import annotations

from typing import Any

from ..export.verify import Claim
from .recipe import PruneStep
from .registry import StepContext, register, selected_layers, tfmot, wrap_layers


def pruning_schedule(step: PruneStep, total_steps: int, steps_per_epoch: int):
    """The tfmot schedule for a prune step over ``total_steps`` optimizer steps."""
    sparsity = tfmot().sparsity.keras

    last = max(0, total_steps - 1)  # UpdatePruningStep counts 0 .. total - 1
    frequency = step.frequency or max(1, steps_per_epoch // 2)
    begin = step.begin_step if step.begin_step is not None else round(step.begin * total_steps)
    begin = min(begin, last)
    end = step.end_step if step.end_step is not None else round(step.end * total_steps)
    end = min(end, last)
    end = begin + ((end - begin) // frequency) * frequency
    target = step.claimed_sparsity
    if step.schedule == "constant" or step.m_by_n is not None or end <= begin:
        return sparsity.ConstantSparsity(target, begin_step=begin, frequency=frequency)
    return sparsity.PolynomialDecay(initial_sparsity=step.initial_sparsity, final_sparsity=target,
                                    begin_step=begin, end_step=end, frequency=frequency)


@register(PruneStep)
class Prune:
    @staticmethod
    def apply(model: Any, step: PruneStep, ctx: StepContext) -> Any:
        sparsity = tfmot().sparsity.keras

        spe = ctx.steps_per_epoch(step.finetune)
        schedule = pruning_schedule(step, ctx.epochs(step.finetune) * spe, spe)
        kwargs: dict[str, Any] = {"pruning_schedule": schedule}
        if step.m_by_n is not None:
            kwargs["sparsity_m_by_n"] = tuple(step.m_by_n)
        names = selected_layers(model, step.layers, key="prune.layers")
        wrapped = wrap_layers(model, names, lambda layer: sparsity.prune_low_magnitude(layer, **kwargs))
        return ctx.train(wrapped, step.finetune, callbacks=[sparsity.UpdatePruningStep()])

    @staticmethod
    def strip(model: Any) -> Any:
        sparsity = tfmot().sparsity.keras

        return sparsity.strip_pruning(model)

    @staticmethod
    def claims(step: PruneStep, model: Any) -> list[Claim]:
        names = selected_layers(model, step.layers, key="prune.layers")
        return [Claim(sparsity=None if step.m_by_n else step.target_sparsity,
                      m_by_n=tuple(step.m_by_n) if step.m_by_n else None, layers=names)]
