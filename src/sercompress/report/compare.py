"""The CI gate: compare a candidate summary with a committed reference, variant by variant.

A regression is a figure that got worse by more than its tolerance. For
accuracy that is not enough: a UA drop is a regression only when it exceeds
``ua_drop_points`` AND is significant at ``alpha`` (one-sided; bootstrap of the
UA difference, paired on the same clips when both summaries kept per-clip
predictions of the same clips, unpaired from the confusion matrices otherwise,
and the table says which). A few borderline clips flipping between two
machines is noise, not a regression. Growth of the gzip size, peak RAM, estimated device
latency or host latency (percent; host latency only between runs on the same CPU), a variant that no longer fits a hardware
profile it used to fit, or a variant that disappeared. Tolerances come from a
TOML file (`configs/tolerance.toml`) whose defaults are what a reviewer would
accept without a second look; ``inf`` switches a check off (e.g. host latency
on a shared CI runner). Improvements never fail the gate.

A NaN or infinite figure, or a figure present on one side and missing on the
other, is an error (:class:`~sercompress.report.summary.SummaryError`, exit 2):
a gate must never pass what it could not compare.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..errors import ConfigError
from ..tomlconfig import FrozenModel, load_toml_model
from . import uncertainty
from .policy import Policy, PolicyResult, evaluate
from .summary import Summary, SummaryError, VariantEntry
from .tables import md_table

TOLERANCE_SCHEMA_VERSION = 1
Status = Literal["ok", "regression", "improved", "added", "removed", "allowed"]


class VariantTolerance(FrozenModel):
    """Per-variant override of any default (unset = the file's default)."""

    ua_drop_points: float | None = Field(None, ge=0)
    alpha: float | None = Field(None, gt=0, lt=1)
    size_growth_pct: float | None = Field(None, ge=0)
    ram_growth_pct: float | None = Field(None, ge=0)
    latency_growth_pct: float | None = Field(None, ge=0)
    host_latency_growth_pct: float | None = Field(None, ge=0)
    allow_fit_loss: bool | None = None


class Tolerance(FrozenModel):
    schema_version: Literal[1] = TOLERANCE_SCHEMA_VERSION
    #: largest accepted UA drop, in percentage points (0.70 -> 0.69 is 1 point)
    ua_drop_points: float = Field(1.0, ge=0)
    #: ... and only when the drop is significant at this level (one-sided test of "UA dropped")
    alpha: float = Field(0.05, gt=0, lt=1)
    #: largest accepted growth of the gzip size, percent
    size_growth_pct: float = Field(5.0, ge=0)
    #: largest accepted growth of the peak activation RAM, percent
    ram_growth_pct: float = Field(5.0, ge=0)
    #: largest accepted growth of the per-profile latency (estimated / Vela / measured), percent
    latency_growth_pct: float = Field(10.0, ge=0)
    #: largest accepted growth of the host LiteRT median latency, percent (noisy: generous default);
    #: only checked when both summaries come from the same CPU model and core count
    host_latency_growth_pct: float = Field(50.0, ge=0)
    #: accept a variant that stops fitting a hardware profile it used to fit
    allow_fit_loss: bool = False
    #: variants allowed to be missing from the candidate (e.g. a recipe deliberately dropped)
    allow_removed: tuple[str, ...] = ()
    #: per-variant overrides, ``[variants.<name>]``
    variants: dict[str, VariantTolerance] = Field(default_factory=dict)
    #: policies against the baselines, ``[[policies]]`` (see :mod:`sercompress.report.policy`)
    policies: tuple[Policy, ...] = ()

    def for_variant(self, name: str) -> Tolerance:
        o = self.variants.get(name)
        if o is None:
            return self
        return self.model_copy(update={k: v for k, v in o.model_dump().items() if v is not None})


def load_tolerance(path: str | Path | None) -> Tolerance:
    """The tolerance file, or the defaults when ``path`` is None."""
    if path is None:
        return Tolerance()
    return load_toml_model(path, Tolerance, ConfigError)


@dataclass(frozen=True)
class MetricDiff:
    variant: str
    metric: str
    old: float | str | None
    new: float | str | None
    change: str
    tolerance: str
    status: Status

    @property
    def regression(self) -> bool:
        return self.status in ("regression", "removed")

    @property
    def changed(self) -> bool:
        return self.status != "ok" or (self.old != self.new and self.change not in ("+0.0 %", "same", "n/a"))

    def message(self) -> str:
        return (f"{self.variant}: {self.metric} {_fmt(self.old)} -> {_fmt(self.new)} ({self.change}), "
                f"tolerance {self.tolerance}")


@dataclass(frozen=True)
class Comparison:
    candidate: str
    reference: str
    diffs: tuple[MetricDiff, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    tolerance: dict[str, Any] = field(default_factory=dict)
    policies: tuple[PolicyResult, ...] = ()

    @property
    def regressions(self) -> tuple[MetricDiff, ...]:
        return tuple(d for d in self.diffs if d.regression)

    @property
    def failed_policies(self) -> tuple[PolicyResult, ...]:
        return tuple(p for p in self.policies if p.outcome == "fail")

    @property
    def ok(self) -> bool:
        return not self.regressions and not self.failed_policies

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "candidate": self.candidate, "reference": self.reference,
                "added": list(self.added), "removed": list(self.removed),
                "regressions": [d.message() for d in self.regressions],
                "diffs": [asdict(d) for d in self.diffs], "tolerance": self.tolerance,
                "policies": [asdict(p) for p in self.policies]}

    def to_markdown(self, only_changes: bool = False) -> str:
        rows = [[d.variant, d.metric, _fmt(d.old), _fmt(d.new), d.change, d.tolerance,
                 "**REGRESSION**" if d.regression else d.status]
                for d in self.diffs if not only_changes or d.changed]
        head = (f"Candidate `{self.candidate}` against reference `{self.reference}`: "
                + ("within tolerance." if self.ok else
                   f"{len(self.regressions)} regression(s), {len(self.failed_policies)} failed policy(ies)."))
        parts = [head, ""]
        if rows:
            parts.append(md_table(["variant", "metric", "reference", "candidate", "change", "tolerance", "status"],
                                  rows))
        else:
            parts.append("No figure changed.")
        if self.added:
            parts += ["", "Added variants (not in the reference): " + ", ".join(self.added)]
        if self.removed:
            parts += ["", "Removed variants (missing from the candidate): " + ", ".join(self.removed)]
        if self.policies:
            parts += ["", "Policies against the baselines:", "",
                      md_table(["policy", "outcome", "detail"],
                               [[p.name, p.outcome.upper() if p.outcome == "fail" else p.outcome, p.message]
                                for p in self.policies])]
        if self.regressions:
            parts += ["", "Regressions:"] + [f"- {d.message()}" for d in self.regressions]
        return "\n".join(parts) + "\n"


def compare_summaries(candidate: Summary, reference: Summary, tol: Tolerance | None = None,
                      candidate_name: str = "candidate", reference_name: str = "reference") -> Comparison:
    tol = tol or Tolerance()
    for summary, side in ((candidate, candidate_name), (reference, reference_name)):
        require_finite(summary.model_dump(mode="python"), side)
        for v in summary.variants:
            uncertainty.check_consistent(v.accuracy, f"{side}: {v.name}")
    old = {v.name: v for v in reference.variants}
    new = {v.name: v for v in candidate.variants}
    diffs: list[MetricDiff] = []
    same_machine = _machine_key(candidate) == _machine_key(reference)
    for name, ov in old.items():
        if name in new:
            diffs += _compare_variant(ov, new[name], tol.for_variant(name), same_machine)
    presence, added, removed = presence_diffs(list(old), list(new), tol)
    return Comparison(candidate_name, reference_name, tuple(diffs + presence), added, removed,
                      tol.model_dump(mode="json"), evaluate(tol.policies, candidate, tol.alpha))


def presence_diffs(old: list[str], new: list[str], tol: Tolerance
                   ) -> tuple[list[MetricDiff], tuple[str, ...], tuple[str, ...]]:
    """Entries missing from the candidate (a regression unless allowed) and added to it; (diffs, added, removed)."""
    removed = tuple(n for n in old if n not in new)
    added = tuple(n for n in new if n not in old)
    diffs = [MetricDiff(n, "variant", "present", "missing", "removed",
                        "allow_removed" if n in tol.allow_removed else "must be present",
                        "allowed" if n in tol.allow_removed else "removed") for n in removed]
    diffs += [MetricDiff(n, "variant", "missing", "present", "added", "-", "added") for n in added]
    return diffs, added, removed


def require_finite(obj: Any, where: str) -> None:
    """NaN or inf anywhere in a summary is an error naming its key, never a silent pass."""
    stack: list[tuple[str, Any]] = [(where, obj)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise SummaryError(f"{key} is {value}: a summary holding NaN or inf figures cannot be compared")
        if isinstance(value, dict):
            stack += [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            stack += [(f"{key}[{i}]", v) for i, v in enumerate(value)]


def _machine_key(s: Summary) -> tuple[str, int]:
    return machine_key(s.run.machine)


def machine_key(m: Any) -> tuple[str, int]:
    return (m.cpu_model, m.cores)


def _compare_variant(o: VariantEntry, n: VariantEntry, tol: Tolerance, same_machine: bool) -> list[MetricDiff]:
    return [_ua(o, n, tol), *deployment_diffs(o, n, tol, same_machine)]


def deployment_diffs(o: Any, n: Any, tol: Tolerance, same_machine: bool) -> list[MetricDiff]:
    """Size, RAM, host latency and fit of one entry: a run's ``VariantEntry`` or a sweep's ``SweepEntry``
    (both have ``name``, ``sizes``, ``peak_ram_bytes``, ``fits``, ``fit_on`` and ``host_median_ms``)."""
    out = []
    out.append(_growth(o.name, "gzip_bytes", o.sizes.gzip_bytes, n.sizes.gzip_bytes, tol.size_growth_pct))
    out.append(_growth(o.name, "peak_ram_bytes", o.peak_ram_bytes, n.peak_ram_bytes, tol.ram_growth_pct))
    # Host timings from another CPU say nothing about a regression: compare only like with like.
    host_limit = tol.host_latency_growth_pct if same_machine else math.inf
    host = _growth(o.name, "host_litert_median_ms", o.host_median_ms("litert"), n.host_median_ms("litert"),
                   host_limit)
    if not same_machine:
        host = replace(host, tolerance="not checked (different machine)")
    out.append(host)
    for of in o.fits:
        nf = n.fit_on(of.hardware)
        if nf is None:
            status: Status = "allowed" if tol.allow_fit_loss else "regression"
            out.append(MetricDiff(o.name, f"fits:{of.hardware}", _yn(of.fits), "not checked", "profile missing",
                                  _fit_tol(tol), status if of.fits else "ok"))
            continue
        lost = of.fits and not nf.fits
        status = ("allowed" if tol.allow_fit_loss else "regression") if lost else (
            "improved" if nf.fits and not of.fits else "ok")
        change = "; ".join(nf.reasons) if lost else ("now fits" if status == "improved" else "same")
        out.append(MetricDiff(o.name, f"fits:{of.hardware}", _yn(of.fits), _yn(nf.fits), change or "stops fitting",
                              _fit_tol(tol), status))
        # A device whose latency is *measured* (the host) is as noisy as the host timings above.
        measured = "measured" in (of.latency_source, nf.latency_source)
        lat = _growth(o.name, f"latency_ms:{of.hardware}", of.latency_ms, nf.latency_ms,
                      host_limit if measured else tol.latency_growth_pct)
        if measured and not same_machine:
            lat = replace(lat, tolerance="not checked (measured on a different machine)")
        out.append(lat)
    return out


def _ua(o: VariantEntry, n: VariantEntry, tol: Tolerance) -> MetricDiff:
    t = f"drop <= {tol.ua_drop_points:g} pt or p >= {tol.alpha:g}"
    if o.accuracy is None and n.accuracy is None:
        return MetricDiff(o.name, "ua_pct", None, None, "n/a", t, "ok")
    if o.accuracy is None or n.accuracy is None:
        raise SummaryError(f"{o.name}: accuracy is missing from the "
                           f"{'reference' if o.accuracy is None else 'candidate'} summary; cannot compare")
    old, new = _pct(o.accuracy.ua), _pct(n.accuracy.ua)
    delta = new - old
    diff = uncertainty.difference(o.accuracy, n.accuracy)
    exceeds = -delta > tol.ua_drop_points + 1e-9
    if diff is None:  # a summary with neither predictions nor a confusion matrix: raw rule only
        status: Status = "regression" if exceeds else ("improved" if delta > 0 else "ok")
        return MetricDiff(o.name, "ua_pct", old, new, f"{delta:+.2f} pt (untested: no per-clip data)", t, status)
    status = ua_status(delta, diff, tol)
    how = (f"paired, McNemar {diff.mcnemar.b} lost / {diff.mcnemar.c} won" if diff.mcnemar
           else "unpaired (different clips)")
    change = (f"{delta:+.2f} pt [{100 * diff.low:+.2f}, {100 * diff.high:+.2f}], "
              f"p(drop)={diff.p_drop:.3g}, {how}")
    return MetricDiff(o.name, "ua_pct", old, new, change, t, status)


def ua_status(delta_points: float, diff: Any, tol: Tolerance) -> Status:
    """A regression is a drop beyond the tolerance AND significant; an improvement a significant gain."""
    if -delta_points > tol.ua_drop_points + 1e-9 and diff.p_drop < tol.alpha:
        return "regression"
    if delta_points > 0 and diff.p_better < tol.alpha:
        return "improved"
    return "ok"


def _pct(fraction: float) -> float:
    return round(100.0 * fraction, 6)


def _growth(variant: str, metric: str, old: float | None, new: float | None, limit_pct: float) -> MetricDiff:
    t = "not checked" if math.isinf(limit_pct) else f"growth <= {limit_pct:g} %"
    if old is None and new is None:
        return MetricDiff(variant, metric, old, new, "n/a", t, "ok")
    if old is None or new is None:
        raise SummaryError(f"{variant}: {metric} is missing from the {'reference' if old is None else 'candidate'}"
                           " summary; cannot compare")
    pct = 100.0 * (new - old) / old if old else (0.0 if new == old else math.inf)
    if math.isinf(limit_pct):
        status = "ok"
    else:
        status = "regression" if pct > limit_pct + 1e-9 else ("improved" if pct < 0 else "ok")
    return MetricDiff(variant, metric, old, new, f"{pct:+.1f} %", t, status)


def _fit_tol(tol: Tolerance) -> str:
    return "may stop fitting" if tol.allow_fit_loss else "must keep fitting"


def _yn(b: bool) -> str:
    return "fits" if b else "misses"


def _fmt(x: float | str | None) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return f"{x:,.2f}" if isinstance(x, float) else f"{x:,}"
