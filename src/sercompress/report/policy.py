"""Policies against the baselines: does the compressed model stay competitive with the models it replaces?

A run compared only with its own past can drift into irrelevance; a team
wants CI to assert, for example, "`ptq-int8` within 2 points UA of `vgg_cnn`
at no more than a fifth of its flash on `stm32h743`" or "no baseline dominates
`prune80-cluster16-qat` on (UA, device flash)". Such policies are listed in the
tolerance file (``[[policies]]``) and evaluated on the candidate summary with
the gate's statistics: an accuracy shortfall counts only when it is beyond the
stated points AND significant at the file's ``alpha`` (paired on the same clips
when both kept per-clip predictions); flash ratios are exact. A policy naming a
variant, baseline or profile that the run does not contain is *skipped* and
reported as such (a JUnit ``<skipped>``), never silently passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from ..tomlconfig import FrozenModel
from . import uncertainty
from .summary import Summary, VariantEntry

Outcome = Literal["pass", "fail", "skipped"]


class WithinPolicy(FrozenModel):
    """``variant`` loses at most ``ua_points`` UA to ``baseline`` (unless the loss is not significant)
    and, when ``max_flash_ratio`` is set, needs at most that fraction of its flash on ``profile``."""

    kind: Literal["within"] = "within"
    name: str = ""
    variant: str
    baseline: str
    ua_points: float = Field(ge=0)
    profile: str | None = None           # flash on this device; None = the artifact's file size
    max_flash_ratio: float | None = Field(None, gt=0)


class NotDominatedPolicy(FrozenModel):
    """No baseline needs no more flash on ``profile`` than ``variant`` AND has a significantly higher UA."""

    kind: Literal["not_dominated"] = "not_dominated"
    name: str = ""
    variant: str
    profile: str | None = None


Policy = Annotated[WithinPolicy | NotDominatedPolicy, Field(discriminator="kind")]


@dataclass(frozen=True)
class PolicyResult:
    name: str
    outcome: Outcome
    message: str


def evaluate(policies: tuple[Policy, ...], summary: Summary, alpha: float) -> tuple[PolicyResult, ...]:
    return tuple(_evaluate(p, summary, alpha) for p in policies)


def title(p: Policy) -> str:
    if p.name:
        return p.name
    where = f" on {p.profile}" if p.profile else ""
    if isinstance(p, WithinPolicy):
        flash = f" at <= {p.max_flash_ratio:g}x its flash{where}" if p.max_flash_ratio else ""
        return f"{p.variant} within {p.ua_points:g} pt UA of {p.baseline}{flash}"
    return f"no baseline dominates {p.variant} on (UA, flash{where})"


def _evaluate(p: Policy, summary: Summary, alpha: float) -> PolicyResult:
    name = title(p)
    names = {v.name: v for v in summary.variants}
    wanted = [p.variant] + ([p.baseline] if isinstance(p, WithinPolicy) else [])
    missing = [n for n in wanted if n not in names]
    if p.profile is not None and summary.budget(p.profile) is None:
        missing.append(f"profile {p.profile}")
    if missing:
        return PolicyResult(name, "skipped", f"not in this run: {', '.join(missing)}")
    v = names[p.variant]
    if isinstance(p, WithinPolicy):
        return _within(p, name, v, names[p.baseline], alpha)
    return _not_dominated(p, name, v, [b for b in summary.variants if b.family == "baseline"], alpha)


def _within(p: WithinPolicy, name: str, v: VariantEntry, b: VariantEntry, alpha: float) -> PolicyResult:
    problems, notes = [], []
    d = uncertainty.difference(b.accuracy, v.accuracy)
    if d is None:
        return PolicyResult(name, "fail", f"{v.name} or {b.name} has no accuracy to compare")
    notes.append(f"UA {v.name} - {b.name} = {100 * d.value:+.2f} pt [{100 * d.low:+.2f}, {100 * d.high:+.2f}], "
                 f"p(worse) = {d.p_drop:.3g}, {'paired' if d.paired else 'unpaired'}")
    if -100 * d.value > p.ua_points + 1e-9 and d.p_drop < alpha:
        problems.append(f"UA {100 * -d.value:.2f} pt below {b.name} (> {p.ua_points:g} pt, significant)")
    if p.max_flash_ratio is not None:
        fv, fb = _flash(v, p.profile), _flash(b, p.profile)
        if fv is None or fb is None:
            problems.append(f"no flash figure on {p.profile}")
        else:
            notes.append(f"flash {fv:,} B = {fv / fb:.3f}x of {b.name}'s {fb:,} B")
            if fv > p.max_flash_ratio * fb:
                problems.append(f"flash {fv / fb:.3f}x of {b.name} (> {p.max_flash_ratio:g}x)")
    return PolicyResult(name, "fail" if problems else "pass", "; ".join(problems or notes))


def _not_dominated(p: NotDominatedPolicy, name: str, v: VariantEntry, baselines: list[VariantEntry],
                   alpha: float) -> PolicyResult:
    fv = _flash(v, p.profile)
    if fv is None or v.accuracy is None:
        return PolicyResult(name, "fail", f"{v.name} has no flash figure or no accuracy")
    dominators = []
    for b in baselines:
        fb, d = _flash(b, p.profile), uncertainty.difference(b.accuracy, v.accuracy)
        if fb is not None and d is not None and fb <= fv and d.value < 0 and d.p_drop < alpha:
            dominators.append(f"{b.name} ({fb:,} B <= {fv:,} B, UA {100 * -d.value:+.2f} pt, p = {d.p_drop:.3g})")
    if dominators:
        return PolicyResult(name, "fail", "dominated by " + "; ".join(dominators))
    return PolicyResult(name, "pass", f"{len(baselines)} baseline(s) checked; none smaller with a "
                                      "significantly higher UA")


def _flash(v: VariantEntry, profile: str | None) -> int | None:
    if profile is None:
        return v.sizes.file_bytes
    f = v.fit_on(profile)
    return None if f is None else f.flash_bytes
