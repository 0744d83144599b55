"""The runs of a sweep -> its :class:`~.record.SweepSummary`: figures across folds and seeds.

Each run's ``summary.json`` is the record its pipeline wrote (per-clip predictions
included); this module only gathers them. Per entry: mean and standard deviation of UA /
WA / F1 over the runs, the pooled paired differences to the same-budget control and to
the float32 reference (``stats.pooled_paired_difference``), and the deployment figures
of the first run -- after checking that the file sizes agree in every run, since the
graph, and so the size, RAM and latency, do not depend on the fold (gzip does, slightly,
through the values: its spread is kept). No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import stats
from ..errors import RunError
from ..paper import PaperProtocol, PublishedResult
from ..report.summary import Summary, VariantEntry
from ..storage import sha256_file
from .record import (
    FoldClips,
    PooledDifference,
    RunFigures,
    Spread,
    SweepEntry,
    SweepInfo,
    SweepSummary,
    run_name,
)


@dataclass(frozen=True)
class RunOutput:
    """One finished (fold, seed) run: its directory and the summary it wrote there."""

    fold: int
    seed: int
    directory: Path
    summary: Summary

    @property
    def name(self) -> str:
        return run_name(self.fold, self.seed)

    def find(self, entry: str) -> VariantEntry | None:
        return next((v for v in self.summary.variants if v.name == entry), None)


def aggregate(runs: Sequence[RunOutput], info: SweepInfo, paper: PaperProtocol | None = None,
              published: Sequence[PublishedResult] = ()) -> SweepSummary:
    """The sweep's record; ``runs[0]`` is the run whose deployment figures it shows."""
    if not runs:
        raise RunError("a sweep without runs has nothing to aggregate")
    folds = _fold_clips(runs)
    names = list(dict.fromkeys(v.name for r in runs for v in r.summary.variants))
    entries = {n: _entry(n, runs, folds) for n in names}
    reference = runs[0].summary.reference()
    k = len(info.classes)
    out = []
    for name, e in entries.items():
        vs_control = _pooled(name, e.control, runs, folds, k) if e.control in entries else None
        vs_reference = (_pooled(name, reference.name, runs, folds, k)
                        if reference is not None and reference.name != name else None)
        out.append(e.model_copy(update={"vs_control": vs_control, "vs_reference": vs_reference}))
    return SweepSummary(sweep=info.model_copy(update={"devices_from": runs[0].name}),
                        profiles=runs[0].summary.profiles, folds=tuple(folds.values()), entries=tuple(out),
                        paper=paper, published=tuple(published))


def _fold_clips(runs: Sequence[RunOutput]) -> dict[int, FoldClips]:
    """Each fold's test clips, taken from its runs' predictions; every seed of a fold must have tested the same."""
    folds: dict[int, FoldClips] = {}
    for r in runs:
        for v in r.summary.variants:
            p = _predictions(r, v)
            clips = FoldClips(fold=r.fold, clip_ids=p.clip_ids, speakers=p.speakers, labels=p.labels)
            if folds.setdefault(r.fold, clips) != clips:
                raise RunError(f"{v.name} in {r.name} was tested on other clips than fold {r.fold}'s other runs",
                               path=r.directory)
    return dict(sorted(folds.items()))


def _predictions(r: RunOutput, v: VariantEntry):  # -> ClipPredictions
    if v.accuracy is None or v.accuracy.predictions is None:
        raise RunError(f"{v.name} has no per-clip predictions in {r.name}'s summary; re-run the sweep "
                       "with this sercompress", path=r.directory)
    return v.accuracy.predictions


def _entry(name: str, runs: Sequence[RunOutput], folds: dict[int, FoldClips]) -> SweepEntry:
    found = [(r, v) for r in runs if (v := r.find(name)) is not None]
    first = found[0][1]
    figures = [RunFigures(fold=r.fold, seed=r.seed, ua=v.accuracy.ua, wa=v.accuracy.wa, f1=v.accuracy.f1,
                          predicted=_predictions(r, v).predicted, sha256=sha256_file(r.directory / v.artifact.path))
               for r, v in found]
    sizes = {v.sizes.file_bytes for _, v in found}
    if len(sizes) > 1:  # the same graph in every fold: anything else is a bug, not a fold effect
        raise RunError(f"{name}: its file is {sorted(sizes)} bytes in different runs; sizes and device fit "
                       "are shown from one run only because they must not vary by fold")
    controls = {v.control for _, v in found}
    if len(controls) > 1:
        raise RunError(f"{name}: its same-budget control differs between runs ({sorted(map(str, controls))})")
    return SweepEntry(
        name=name, family=first.family, recipe=first.recipe, dtype=first.artifact.dtype, runs=tuple(figures),
        **{m: Spread.of([getattr(f, m) for f in figures]) for m in stats.METRICS},
        control=first.control, sizes=first.sizes,
        gzip_bytes=Spread.of([float(v.sizes.gzip_bytes) for _, v in found]),
        params=first.params, nonzero_params=first.nonzero_params, macs=first.macs,
        peak_ram_bytes=first.peak_ram_bytes, host_latency=first.host_latency, fits=first.fits,
        published=first.published)


def _pooled(name: str, against: str | None, runs: Sequence[RunOutput], folds: dict[int, FoldClips],
            k: int) -> PooledDifference | None:
    """UA(name) - UA(against) over every run holding both, clips resampled within each fold."""
    if against is None:
        return None
    strata = []
    for fold, clips in folds.items():
        pairs = [(_predictions(r, a).predicted, _predictions(r, b).predicted) for r in runs
                 if r.fold == fold and (a := r.find(against)) is not None and (b := r.find(name)) is not None]
        if pairs:
            strata.append(stats.PairedStratum(clips.labels, clips.speakers, pairs))
    if not strata:
        return None
    d = stats.pooled_paired_difference(strata, k)
    return PooledDifference(
        against=against, value=d.value, low=d.low, high=d.high, p_worse=d.p_worse, p_better=d.p_better,
        p_drop=d.p_drop, unit=d.unit, runs=sum(len(s.pairs) for s in strata),
        clips_lost=d.mcnemar.b if d.mcnemar else None, clips_won=d.mcnemar.c if d.mcnemar else None)
