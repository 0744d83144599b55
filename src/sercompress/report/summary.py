"""`summary.json`: the one versioned record of a run, from which every report is rendered.

The pipeline fills a :class:`Summary` from the stages' results (training,
compression, profiling, fit) and writes it; `sercompress report` re-renders
from it and `sercompress compare` diffs two of them, neither recomputing
anything. That is why it holds plain data only (no imports of the stages'
types) and why it carries the hardware budgets itself: the report draws budget
lines without reading `hw_profiles/`.

Units: accuracies are fractions in [0, 1] (as :mod:`sercompress.metrics`
returns them; the report prints percent), sizes in bytes, latencies in ms.
``schema_version`` changes whenever a field changes meaning or is removed;
:meth:`Summary.load` refuses any other version with a clear error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..errors import SummaryError
from ..storage import atomic_write_text
from ..jsonfile import read_json
from ..tomlconfig import FrozenModel, validation_message

SCHEMA_VERSION = 1
SUMMARY_FILE = "summary.json"
#: A summary is a few hundred kB at most; refuse to parse something far larger.
MAX_SUMMARY_BYTES = 64 * 1024 * 1024

#: Bounds on what a (possibly hostile) summary makes the report draw: a 300 x 300 confusion
#: matrix took 67 s and 1 GB to render. No emotion corpus has more than a dozen classes.
MAX_CLASSES = 64
#: A run has a few dozen variants on under ten devices and Light-SERNet ~30 layers; rendering
#: 1,500 variants took 27 s CPU and 1.2 GB, so a summary holding more than these is refused.
MAX_VARIANTS, MAX_PROFILES, MAX_LAYERS = 256, 64, 4096

Family = Literal["reference", "compressed", "baseline"]
LatencySource = Literal["measured", "vela", "estimated", "unsupported"]


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


#: Every summary record is immutable and refuses unknown keys (a typo fails loudly).
Record = FrozenModel


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


class Accuracy(Record):
    """Measured on the exported artifact (not the Keras model) on the test split."""

    ua: float = Field(ge=0, le=1)
    wa: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)
    confusion: list[list[int]] = Field(default_factory=list)  # confusion[true][pred]
    classes: tuple[str, ...] = ()
    n: int | None = None
    source: str = "tflite"

    @model_validator(mode="after")
    def _square_confusion(self) -> Accuracy:
        """Refused at load, before any file of a report is written or a plot is drawn."""
        check_confusion(self.confusion, self.classes)
        return self


class Sizes(Record):
    file_bytes: int = Field(ge=0)
    gzip_bytes: int = Field(ge=0)
    weight_bytes_by_dtype: dict[str, int] = Field(default_factory=dict)


class HostLatency(Record):
    runtime: Literal["litert", "onnxruntime"]
    median_ms: float = Field(ge=0)
    p90_ms: float = Field(ge=0)
    runs: int | None = None
    threads: int | None = None


class Verification(Record):
    """What the artifact itself shows (read back from the file), not what the recipe claims."""

    sparsity: float | None = Field(None, ge=0, le=1)
    max_unique_values: int | None = None   # largest count of distinct values in one weight tensor
    passed: bool | None = None
    notes: tuple[str, ...] = ()


class FitCheck(Record):
    name: str                          # "flash", "ram", "latency", "dtype", "ops", ...
    ok: bool
    value: float | None = None
    limit: float | None = None
    margin: float | None = None        # limit - value (positive = room left)
    reason: str = ""


class ProfileFit(Record):
    """One variant on one hardware profile."""

    profile: str
    fits: bool
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    latency_ms: float | None = None
    latency_source: LatencySource = "estimated"
    #: 90 % band of an estimate (from the device's validated error) and where it comes from
    latency_low_ms: float | None = None
    latency_high_ms: float | None = None
    latency_band: str = ""
    verdict: Literal["FITS", "MARGINAL", "DOES NOT FIT", ""] = ""
    energy_mj: float | None = None     # active power x latency, for profiles that state a power
    energy_low_mj: float | None = None
    energy_high_mj: float | None = None
    reasons: tuple[str, ...] = ()      # why it misses, one line each; empty when it fits
    checks: tuple[FitCheck, ...] = ()

    @property
    def failed_budgets(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.ok)


class LayerFigure(Record):
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


class VariantEntry(Record):
    name: str
    family: Family
    recipe: str | None = None          # recipe name (compressed), architecture (baseline)
    artifact: Artifact
    accuracy: Accuracy | None = None   # None when the artifact could not be evaluated
    sizes: Sizes
    params: int = Field(ge=0)
    nonzero_params: int = Field(ge=0)
    macs: int = Field(ge=0)
    peak_ram_bytes: int | None = Field(None, ge=0)
    host_latency: tuple[HostLatency, ...] = ()
    verification: Verification = Verification()
    fits: tuple[ProfileFit, ...] = Field((), max_length=MAX_PROFILES)
    layers: tuple[LayerFigure, ...] | None = Field(None, max_length=MAX_LAYERS)  # optional: keeps the JSON small
    published: PublishedFigure | None = None
    notes: tuple[str, ...] = ()

    def fit_on(self, profile: str) -> ProfileFit | None:
        return next((f for f in self.fits if f.profile == profile), None)

    def host_median_ms(self, runtime: str = "litert") -> float | None:
        return next((h.median_ms for h in self.host_latency if h.runtime == runtime), None)


class Summary(Record):
    schema_version: Literal[1] = SCHEMA_VERSION
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
    if not isinstance(data, dict):
        raise SummaryError("top level must be a JSON object", path=path)
    if "schema_version" not in data:
        raise SummaryError("no schema_version: not a sercompress summary", path=path, key="schema_version")
    version = data["schema_version"]
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise SummaryError(
            f"schema version {version!r} is not supported; this sercompress reads version "
            f"{SCHEMA_VERSION}. Re-run `sercompress run` (or `report` with the sercompress that wrote it).",
            path=path, key="schema_version",
        )
