"""`summary.json`: the one versioned record of a run, from which every report is rendered.

The pipeline fills a :class:`Summary` from the stages' results (training,
compression, profiling, fit) and writes it; `sercompress report` re-renders
from it and `sercompress compare` diffs two of them, neither recomputing
anything. It embeds the stages' own records rather than re-declaring them --
accuracy is :class:`~sercompress.metrics.Metrics`, sizes / verification the
export's, host latency the profiler's, each device's figures the assessment's
:class:`~sercompress.assess.DeviceAssessment` (latency estimate + budget checks,
the same record ``sercompress check`` prints) -- so a figure in the report is
the figure the stage computed. It carries the hardware budgets itself: the
report draws budget lines without reading `hw_profiles/`.

Units: accuracies are fractions in [0, 1] (as :mod:`sercompress.metrics`
returns them; the report prints percent), sizes in bytes, latencies in ms.
``schema_version`` changes whenever a field changes meaning or is removed;
:meth:`Summary.load` refuses any other version with a clear error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..assess import DeviceAssessment
from ..errors import SummaryError
from ..export.types import Sizes, Verification
from ..jsonfile import read_json
from ..metrics import Metrics
from ..profile.types import HostLatency
from ..records import Record, check_version
from ..storage import atomic_write_text
from ..tomlconfig import validation_message

SCHEMA_VERSION = 2
SUMMARY_FILE = "summary.json"
#: A summary is a few hundred kB at most; refuse to parse something far larger.
MAX_SUMMARY_BYTES = 64 * 1024 * 1024

#: Bounds on what a (possibly hostile) summary makes the report draw: a 300 x 300 confusion
#: matrix took 67 s and 1 GB to render. No emotion corpus has more than a dozen classes.
MAX_CLASSES = 64
#: A run has a few dozen variants on under ten devices and Light-SERNet ~30 layers; rendering
#: 1,500 variants took 27 s CPU and 1.2 GB, so a summary holding more than these is refused.
MAX_VARIANTS, MAX_PROFILES, MAX_LAYERS = 256, 64, 4096

#: "control": the float reference fine-tuned as long as a recipe (``compress.control``)
Family = Literal["reference", "compressed", "baseline", "control"]


def check_confusion(confusion: list[list[int]], classes: tuple[str, ...]) -> None:
    """A confusion matrix is square, at most MAX_CLASSES wide, counts >= 0, one row per class."""
    n = len(confusion)
    if n > MAX_CLASSES or len(classes) > MAX_CLASSES:
        raise ValueError(f"more than {MAX_CLASSES} classes")
    if any(len(row) != n for row in confusion):
        raise ValueError(f"confusion matrix is not square ({n} rows of lengths "
                         f"{sorted({len(r) for r in confusion})})")
    if classes and confusion and len(classes) != n:
        raise ValueError(f"confusion matrix is {n} x {n} but there are {len(classes)} classes")
    if any(v < 0 for row in confusion for v in row):
        raise ValueError("confusion matrix has a negative count")


class MachineInfo(Record):
    cpu_model: str = "unknown"
    cores: int = Field(1, ge=1)
    platform: str = ""
    python: str = ""


class RunInfo(Record):
    """What was run, where, and how long each stage took."""

    config_name: str
    config: dict[str, Any] = Field(default_factory=dict)  # the run config's content, as loaded
    dataset: str
    classes: tuple[str, ...] = ()
    seed: int = 0
    fold: int | None = None
    package_versions: dict[str, str] = Field(default_factory=dict)
    machine: MachineInfo = MachineInfo()
    timings_s: dict[str, float] = Field(default_factory=dict)  # stage -> wall seconds
    started_at: str | None = None      # ISO 8601, UTC
    finished_at: str | None = None


class HardwareBudget(Record):
    """A hardware profile's limits, copied here so the report needs no hw files."""

    name: str
    description: str = ""
    flash_bytes: int | None = Field(None, ge=0)   # None = no limit
    ram_bytes: int | None = Field(None, ge=0)
    latency_ms: float | None = Field(None, gt=0)


class Artifact(Record):
    path: str
    format: Literal["tflite", "onnx", "keras"]
    dtype: str                        # deployment form: float32, float16, int8, int16x8, dynamic_int8


class LayerFigure(Record):
    """A view of one layer for the per-layer plots (name, MACs, live activation bytes)."""

    name: str
    op: str
    macs: int = 0
    ram_bytes: int = 0                 # live activation bytes while the layer runs


class PublishedFigure(Record):
    """A baseline's figure from its paper (percent, on the paper's corpus)."""

    citation: str
    metric: str
    value: float
    corpus: str


class DeviceLookups:
    """Look-ups on a record's ``fits`` and ``host_latency`` fields: a run's entry or a sweep's
    (``sweep.record.SweepEntry``), so tables and the compare gate read either the same way."""

    def fit_on(self, profile: str) -> DeviceAssessment | None:
        return next((f for f in self.fits if f.hardware == profile), None)  # type: ignore[attr-defined]

    def host_median_ms(self, runtime: str = "litert") -> float | None:
        return next((h.median_ms for h in self.host_latency if h.runtime == runtime), None)  # type: ignore[attr-defined]


class VariantEntry(DeviceLookups, Record):
    name: str
    family: Family
    recipe: str | None = None          # recipe name (compressed), architecture (baseline)
    artifact: Artifact
    accuracy: Metrics | None = None    # on the artifact, test split; None when not evaluated
    sizes: Sizes
    params: int = Field(ge=0)
    nonzero_params: int = Field(ge=0)
    macs: int = Field(ge=0)
    peak_ram_bytes: int | None = Field(None, ge=0)   # fit.ram_used(static, None): no device
    host_latency: tuple[HostLatency, ...] = ()
    verification: Verification | None = None
    fits: tuple[DeviceAssessment, ...] = Field((), max_length=MAX_PROFILES)  # one per hardware profile
    layers: tuple[LayerFigure, ...] | None = Field(None, max_length=MAX_LAYERS)  # optional: keeps the JSON small
    published: PublishedFigure | None = None
    notes: tuple[str, ...] = ()
    #: the entry that is this variant's same-budget control (a "control" entry, or the reference
    #: for a recipe without fine-tuning); None for baselines, controls and summaries before controls
    control: str | None = None
    #: inferences per test clip: > 1 for a windowed (streamed) variant, whose artifact takes one
    #: window and whose accuracy pools the windows' scores (``compress.window``); its latencies are
    #: per window, one utterance costs ``windows_per_clip`` of them (:meth:`utterance_latency_ms`)
    windows_per_clip: int = Field(1, ge=1)

    def utterance_latency_ms(self, profile: str) -> float | None:
        """Latency of one whole utterance on ``profile``: windows per clip x the artifact's latency."""
        fit = self.fit_on(profile)
        ms = fit.latency_ms if fit is not None else None
        return None if ms is None else ms * self.windows_per_clip

    @model_validator(mode="after")
    def _square_confusion(self) -> VariantEntry:
        """Refused at load, before any file of a report is written or a plot is drawn."""
        if self.accuracy is not None:
            check_confusion(self.accuracy.confusion, self.accuracy.classes)
        return self


class Summary(Record):
    schema_version: Literal[2] = SCHEMA_VERSION
    run: RunInfo
    profiles: tuple[HardwareBudget, ...] = Field((), max_length=MAX_PROFILES)
    variants: tuple[VariantEntry, ...] = Field((), max_length=MAX_VARIANTS)

    # -- look-ups -----------------------------------------------------------
    def variant(self, name: str) -> VariantEntry:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"no variant '{name}'; known: {[v.name for v in self.variants]}")

    def reference(self) -> VariantEntry | None:
        """The float32 reference (the family 'reference' entry, float32 preferred)."""
        refs = [v for v in self.variants if v.family == "reference"]
        floats = [v for v in refs if v.artifact.dtype == "float32"]
        return (floats or refs or [None])[0]

    def control_of(self, v: VariantEntry) -> VariantEntry | None:
        """``v``'s same-budget control entry (None when it has none)."""
        return next((c for c in self.variants if c.name == v.control), None) if v.control else None

    @model_validator(mode="after")
    def _controls_exist(self) -> Summary:
        names = {v.name for v in self.variants}
        for v in self.variants:
            if v.control is not None and (v.control not in names or v.control == v.name):
                raise ValueError(f"variant '{v.name}' names control '{v.control}', which is not another "
                                 "entry of the summary")
        return self

    def budget(self, name: str) -> HardwareBudget | None:
        return next((p for p in self.profiles if p.name == name), None)

    # -- I/O ----------------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Atomic write; a directory means ``DIR/summary.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / SUMMARY_FILE
        return atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, data: Any, path: str | Path | None = None) -> Summary:
        check_schema_version(data, path)
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            key, msg = validation_message(e)
            raise SummaryError(msg, path=path, key=key or None) from None

    @classmethod
    def load(cls, path: str | Path) -> Summary:
        """Read ``path`` (a summary.json, or a directory holding one)."""
        path = resolve_summary_path(path)
        return cls.from_dict(read_json(path, SummaryError, MAX_SUMMARY_BYTES), path)


def resolve_summary_path(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / SUMMARY_FILE
    if not path.is_file():
        raise SummaryError("summary not found (expected a summary.json or a run directory holding one)",
                           path=path)
    return path


def check_schema_version(data: Any, path: str | Path | None = None) -> None:
    """Refuse anything but this package's schema version, before field validation talks about fields."""
    check_version(data, SCHEMA_VERSION, path, SummaryError, "summary",
                  "Re-run `sercompress run` (or `report` with the sercompress that wrote it).")
