"""`sercompress compare` on two sweep summaries: mean UA per entry, paired across the sweeps' common runs.

The gate's rule is the one for runs (:mod:`.compare`): a UA drop is a regression only
when it exceeds the tolerance AND is significant. Here the figure is the mean UA over
the (fold, seed) runs both sweeps hold, and its test the pooled paired bootstrap
(``stats.pooled_paired_difference``: each fold's clips resampled on their own, the seeds
of a fold drawn alike) of the candidate's predictions against the reference's on the
same clips. Two sweeps that share no run on the same clips cannot be paired: that is an
error (exit 2), never a silent pass. Sizes, RAM, host latency and device fit are
compared as for runs (``compare.deployment_diffs``). Policies against the baselines are
single-run checks: each is reported as skipped.
"""

from __future__ import annotations

from .. import stats
from ..sweep.record import SweepEntry, SweepSummary
from .compare import (
    Comparison,
    MetricDiff,
    Tolerance,
    deployment_diffs,
    machine_key,
    presence_diffs,
    require_finite,
    ua_status,
)
from .policy import PolicyResult, title
from .summary import SummaryError


def compare_sweeps(candidate: SweepSummary, reference: SweepSummary, tol: Tolerance | None = None,
                   candidate_name: str = "candidate", reference_name: str = "reference") -> Comparison:
    tol = tol or Tolerance()
    for s, side in ((candidate, candidate_name), (reference, reference_name)):
        require_finite(s.model_dump(mode="python"), side)
    if candidate.sweep.classes != reference.sweep.classes:
        raise SummaryError(f"the sweeps have different classes ({list(candidate.sweep.classes)} against "
                           f"{list(reference.sweep.classes)}); cannot compare")
    old = {e.name: e for e in reference.entries}
    new = {e.name: e for e in candidate.entries}
    same_machine = machine_key(candidate.sweep.machine) == machine_key(reference.sweep.machine)
    diffs: list[MetricDiff] = []
    for name, o in old.items():
        if name in new:
            t = tol.for_variant(name)
            diffs += [_mean_ua(o, new[name], candidate, reference, t), *deployment_diffs(o, new[name], t, same_machine)]
    presence, added, removed = presence_diffs(list(old), list(new), tol)
    policies = tuple(PolicyResult(title(p), "skipped", "policies are checked on single-run summaries, not sweeps")
                     for p in tol.policies)
    return Comparison(candidate_name, reference_name, tuple(diffs + presence), added, removed,
                      tol.model_dump(mode="json"), policies)


def _mean_ua(o: SweepEntry, n: SweepEntry, cand: SweepSummary, ref: SweepSummary, tol: Tolerance) -> MetricDiff:
    """Mean UA over the runs both sweeps hold on the same clips, and its pooled paired test."""
    strata, old_ua, new_ua = [], [], []
    for fold in sorted({r.fold for r in o.runs} & {r.fold for r in n.runs}):
        a, b = ref.fold_clips(fold), cand.fold_clips(fold)
        if (a.clip_ids, a.labels) != (b.clip_ids, b.labels):
            continue
        pairs = []
        for ro in (r for r in o.runs if r.fold == fold):
            rn = next((r for r in n.runs if r.fold == fold and r.seed == ro.seed), None)
            if rn is not None:
                pairs.append((ro.predicted, rn.predicted))
                old_ua.append(ro.ua)
                new_ua.append(rn.ua)
        if pairs:
            strata.append(stats.PairedStratum(a.labels, a.speakers, pairs))
    if not strata:
        raise SummaryError(f"{o.name}: the two sweeps share no (fold, seed) run tested on the same clips, so their "
                           "mean UA cannot be compared paired; compare sweeps of the same config and corpus")
    d = stats.pooled_paired_difference(strata, len(ref.sweep.classes))
    old, new = 100 * sum(old_ua) / len(old_ua), 100 * sum(new_ua) / len(new_ua)
    delta = new - old
    t = f"drop <= {tol.ua_drop_points:g} pt or p >= {tol.alpha:g}"
    change = (f"{delta:+.2f} pt [{100 * d.low:+.2f}, {100 * d.high:+.2f}], p(drop)={d.p_drop:.3g}, "
              f"paired on {len(old_ua)} common run(s)")
    return MetricDiff(o.name, "mean_ua_pct", round(old, 6), round(new, 6), change, t, ua_status(delta, d, tol))
