"""`sweep-summary.json`: the versioned record of a cross-validated sweep.

A sweep is a run config repeated over (fold, seed) runs. What a reader wants from it is
per entry (reference, recipe, control, baseline): the mean and spread of UA / WA / F1
across the runs, the pooled paired difference to the same-budget control (and to the
float32 reference) with its interval, and the sizes and device fit, which do not vary by
fold. The record keeps what those figures are computed from -- each fold's test clips
once and each run's predicted class per clip -- so ``compare`` can pair two sweeps clip by
clip, and reading a file back re-checks every figure against its predictions: a file users
hand us is validated, never trusted.

No TensorFlow here: ``compare`` reads this.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ..assess import DeviceAssessment
from ..errors import SummaryError
from ..export.types import Sizes
from ..jsonfile import read_json
from ..paper import PaperProtocol, PublishedResult
from ..profile.types import HostLatency
from ..records import Record, parse_record
from ..report.summary import (
    MAX_CLASSES,
    MAX_PROFILES,
    MAX_SUMMARY_BYTES,
    MAX_VARIANTS,
    DeviceLookups,
    Family,
    HardwareBudget,
    MachineInfo,
    PublishedFigure,
)
from ..storage import atomic_write_text

SWEEP_SCHEMA_VERSION = 1
SWEEP_SUMMARY_FILE = "sweep-summary.json"
#: bounds on what a (possibly hostile) file makes us allocate and recompute
MAX_RUNS, MAX_FOLDS, MAX_CLIPS = 1000, 1000, 200_000
#: recorded figures and those recomputed from the predictions must agree this closely
CONSISTENCY_TOL = 1e-6


class FoldClips(Record):
    """A fold's test clips, the same for every seed: ids (paths relative to the corpus root), speakers, labels."""

    fold: int = Field(ge=0)
    clip_ids: tuple[str, ...] = Field(min_length=1, max_length=MAX_CLIPS)
    speakers: tuple[str, ...] = Field(max_length=MAX_CLIPS)
    labels: tuple[int, ...] = Field(max_length=MAX_CLIPS)

    @model_validator(mode="after")
    def _columns(self) -> FoldClips:
        if not len(self.clip_ids) == len(self.speakers) == len(self.labels):
            raise ValueError(f"fold {self.fold}: clip_ids, speakers and labels differ in length")
        return self


class RunFigures(Record):
    """One entry in one (fold, seed) run: its figures, its predicted class per test clip, its file's hash."""

    fold: int = Field(ge=0)
    seed: int = Field(ge=0)
    ua: float = Field(ge=0, le=1)
    wa: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)
    predicted: tuple[int, ...] = Field(max_length=MAX_CLIPS)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def run(self) -> str:
        return run_name(self.fold, self.seed)


class Spread(Record):
    """Mean and sample standard deviation (None for one run) of a figure across runs, with its range."""

    mean: float
    sd: float | None
    low: float
    high: float
    n: int = Field(ge=1)

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        a = np.asarray(values, dtype=np.float64)
        return cls(mean=float(a.mean()), sd=float(a.std(ddof=1)) if a.size > 1 else None,
                   low=float(a.min()), high=float(a.max()), n=int(a.size))

    def agrees_with(self, values: list[float]) -> bool:
        other = Spread.of(values)
        close = lambda x, y: (x is None) == (y is None) and (x is None or abs(x - y) <= CONSISTENCY_TOL)
        return self.n == other.n and all(close(getattr(self, k), getattr(other, k)) for k in ("mean", "sd", "low",
                                                                                                "high"))


class PooledDifference(Record):
    """metric(entry) - metric(``against``), mean over the runs holding both, with its 95 % interval
    (``stats.pooled_paired_difference``: clips resampled within each fold, seeds of a fold drawn alike)."""

    against: str
    metric: Literal["ua", "wa", "f1"] = "ua"
    value: float
    low: float
    high: float
    p_worse: float = Field(ge=0, le=1)
    p_better: float = Field(ge=0, le=1)
    p_drop: float = Field(ge=0, le=1)     # the gate's p-value: the larger of the bootstrap's and McNemar's
    unit: str
    runs: int = Field(ge=1)
    clips_lost: int | None = None         # McNemar's discordant clips (one seed only)
    clips_won: int | None = None

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


class SweepEntry(DeviceLookups, Record):
    """One reference / recipe / control / baseline across the sweep's runs."""

    name: str
    family: Family
    recipe: str | None = None
    dtype: str
    runs: tuple[RunFigures, ...] = Field(min_length=1, max_length=MAX_RUNS)
    ua: Spread
    wa: Spread
    f1: Spread
    control: str | None = None
    vs_control: PooledDifference | None = None
    vs_reference: PooledDifference | None = None
    # Deployment figures do not depend on the weights' values: from the sweep's first run
    # (``SweepInfo.devices_from``), the file size checked equal in every run.
    sizes: Sizes
    gzip_bytes: Spread                     # gzip does depend on the values (pruned zeros): its spread
    params: int = Field(ge=0)
    nonzero_params: int = Field(ge=0)
    macs: int = Field(ge=0)
    peak_ram_bytes: int | None = Field(None, ge=0)
    host_latency: tuple[HostLatency, ...] = ()
    fits: tuple[DeviceAssessment, ...] = Field((), max_length=MAX_PROFILES)
    published: PublishedFigure | None = None

    @model_validator(mode="after")
    def _spreads_are_the_runs(self) -> SweepEntry:
        for m in ("ua", "wa", "f1"):
            if not getattr(self, m).agrees_with([getattr(r, m) for r in self.runs]):
                raise ValueError(f"{self.name}: {m} is not the mean / sd / range of its runs")
        if len({r.run for r in self.runs}) != len(self.runs):
            raise ValueError(f"{self.name}: a (fold, seed) run is listed twice")
        return self


class SweepInfo(Record):
    config_name: str
    config: dict = Field(default_factory=dict)     # the run config (its [sweep] table resolved)
    dataset: str
    classes: tuple[str, ...] = Field(min_length=1, max_length=MAX_CLASSES)
    folds: tuple[int, ...] = Field(min_length=1, max_length=MAX_FOLDS)
    seeds: tuple[int, ...] = Field(min_length=1, max_length=MAX_RUNS)
    executor: str = "local"
    devices_from: str                     # the run whose sizes, host timing and device fit are shown
    package_versions: dict[str, str] = Field(default_factory=dict)
    machine: MachineInfo = MachineInfo()
    timings_s: dict[str, float] = Field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(run_name(f, s) for f in self.folds for s in self.seeds)


class SweepSummary(Record):
    schema_version: Literal[1] = SWEEP_SCHEMA_VERSION
    kind: Literal["sweep"] = "sweep"
    sweep: SweepInfo
    profiles: tuple[HardwareBudget, ...] = Field((), max_length=MAX_PROFILES)
    folds: tuple[FoldClips, ...] = Field(min_length=1, max_length=MAX_FOLDS)
    entries: tuple[SweepEntry, ...] = Field(min_length=1, max_length=MAX_VARIANTS)
    #: the Light-SERNet paper's setting on this corpus (``paper.protocol``) and its published figures
    #: (``paper.published``), shown beside ours with the protocol's differences
    paper: PaperProtocol | None = None
    published: tuple[PublishedResult, ...] = Field((), max_length=64)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSummary:
        """Every run belongs to the sweep, every prediction to a clip, every figure to its predictions."""
        k = len(self.sweep.classes)
        clips = {f.fold: f for f in self.folds}
        if len(clips) != len(self.folds) or set(clips) != set(self.sweep.folds):
            raise ValueError("folds must hold each of sweep.folds once")
        if self.sweep.devices_from not in self.sweep.runs:
            raise ValueError(f"devices_from names {self.sweep.devices_from!r}, not a run of the sweep")
        for f in self.folds:
            if any(not 0 <= y < k for y in f.labels):
                raise ValueError(f"fold {f.fold}: a label outside the {k} classes")
        names = {e.name for e in self.entries}
        if len(names) != len(self.entries):
            raise ValueError("two entries share a name")
        for e in self.entries:
            for d in (e.control, e.vs_control and e.vs_control.against, e.vs_reference and e.vs_reference.against):
                if d is not None and (d not in names or d == e.name):
                    raise ValueError(f"{e.name} is compared with {d!r}, which is not another entry")
            for r in e.runs:
                _check_run(e.name, r, clips, self.sweep.seeds, k)
        return self

    # -- look-ups -----------------------------------------------------------
    def entry(self, name: str) -> SweepEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"no entry '{name}'; known: {[e.name for e in self.entries]}")

    def fold_clips(self, fold: int) -> FoldClips:
        return next(f for f in self.folds if f.fold == fold)

    # -- I/O ----------------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=1) + "\n"

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(Path(path), self.to_json())

    @classmethod
    def from_dict(cls, data: object, path: str | Path | None = None) -> SweepSummary:
        return parse_record(data, cls, version=SWEEP_SCHEMA_VERSION, path=path, error=SummaryError,
                            what="sweep summary", hint="Re-run `sercompress sweep` (it reuses every finished run).")

    @classmethod
    def load(cls, path: str | Path) -> SweepSummary:
        """Read ``path`` (a sweep-summary.json, or the sweep directory holding one)."""
        path = Path(path)
        if path.is_dir():
            path = path / SWEEP_SUMMARY_FILE
        return cls.from_dict(read_json(path, SummaryError, MAX_SUMMARY_BYTES), path)


def run_name(fold: int, seed: int) -> str:
    """A run's name, and its directory under the sweep's ``runs/``."""
    return f"fold{fold}-seed{seed}"


def is_sweep_file(data: object) -> bool:
    """A parsed JSON document that says it is a sweep summary (``kind``), whatever its version."""
    return isinstance(data, dict) and data.get("kind") == "sweep"


def _check_run(name: str, r: RunFigures, clips: dict[int, FoldClips], seeds: tuple[int, ...], k: int) -> None:
    from .. import stats

    where = f"{name} in {r.run}"
    if r.fold not in clips or r.seed not in seeds:
        raise ValueError(f"{where}: not a run of the sweep")
    fold = clips[r.fold]
    if len(r.predicted) != len(fold.labels):
        raise ValueError(f"{where}: {len(r.predicted)} predictions for {len(fold.labels)} test clips")
    if any(not 0 <= p < k for p in r.predicted):
        raise ValueError(f"{where}: a predicted class outside the {k} classes")
    ones = np.ones((1, len(fold.labels)), np.int32)
    point = stats.metrics_of_confusions(stats.weighted_confusions(ones, fold.labels, r.predicted, k))
    for m in stats.METRICS:
        found = float(point[m][0])
        if not math.isclose(found, getattr(r, m), abs_tol=CONSISTENCY_TOL):
            raise ValueError(f"{where}: {m} = {getattr(r, m):.6f} but its predictions give {found:.6f}")
