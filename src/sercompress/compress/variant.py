"""The variant record: everything measured about one compressed variant, as ``variant.json``.

:func:`.runner.run_recipe` returns a :class:`VariantResult` and writes the same
record to ``OUT/<recipe-name>-<hash>/variant.json``; :func:`load_variant` reads it
back validated (another ``schema_version`` is a :class:`RunError`, which makes the
runner recompute the variant's files from its step checkpoints) and checks every
artifact against its recorded sha256. Artifacts are stored by file name, so a
variant directory can move: the record's ``directory`` is where it was found.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import Field

from .. import __version__
from ..errors import ArtifactError, RunError
from ..export.types import Parity, Sizes, Verification
from ..metrics import Metrics
from ..records import Record, read_record, write_record
from ..storage import is_done, sha256_file
from .recipe import Recipe
from .window import StreamInfo

VARIANT_SCHEMA_VERSION = 2
VARIANT_FILE = "variant.json"
#: artifact kind -> file name inside the variant directory
ARTIFACT_FILES: dict[str, str] = {"tflite": "model.tflite", "onnx": "model.onnx",
                                  "tflite_int8": "model_int8.tflite"}
ArtifactKind = Literal["tflite", "onnx", "tflite_int8"]


class StepRecord(Record):
    """One applied recipe step: its fine-tuning epochs and its checkpoint."""

    type: str
    epochs: int
    key: str          # hash of the chain of steps up to this one (its checkpoint's name)
    reused: bool      # loaded from a checkpoint (this or another recipe's) instead of trained


class ReferenceInfo(Record):
    """The trained reference a variant starts from."""

    run_dir: str
    weights_sha256: str
    data_fingerprint: str | None = None
    keras_test_ua: float


class VariantResult(Record):
    """Everything measured about one variant, on its files; what the report consumes."""

    schema_version: Literal[2] = VARIANT_SCHEMA_VERSION
    name: str
    recipe_path: str | None
    key: str
    artifacts: dict[ArtifactKind, str]           # kind -> file name in ``directory``
    artifact_sha256: dict[ArtifactKind, str]
    accuracy: dict[str, Metrics]                 # tflite kinds and "keras" -> on the test split
    parity: dict[ArtifactKind, Parity]
    verification: dict[ArtifactKind, Verification]   # tflite kinds
    sizes: dict[ArtifactKind, Sizes]
    wall_time_s: float
    onnx_error: str | None = None
    steps: tuple[StepRecord, ...] = ()
    epochs_scale: float = 1.0
    recipe: Recipe
    #: a windowed variant: its files take one window, a clip is several inferences pooled
    #: (latency per utterance = windows_per_clip x the file's); None = one inference per clip
    stream: StreamInfo | None = None
    reference: ReferenceInfo
    package_version: str = __version__
    created_utc: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    #: where the record lives; not stored (set when written or loaded)
    directory: Path = Field(Path("."), exclude=True)

    def path(self, kind: str) -> Path:
        """The artifact file of ``kind`` (``KeyError`` if the variant has none)."""
        return self.directory / self.artifacts[kind]  # type: ignore[index]

    @property
    def paths(self) -> dict[str, Path]:
        return {kind: self.directory / name for kind, name in self.artifacts.items()}

    def to_dict(self) -> dict:
        """The stored form plus the directory (``sercompress compress --json``)."""
        return {**self.model_dump(mode="json"), "directory": str(self.directory)}


def save_variant(result: VariantResult) -> Path:
    """Write ``result`` to its directory's ``variant.json`` (atomically)."""
    return write_record(result.directory / VARIANT_FILE, result)


def load_variant(directory: str | Path) -> VariantResult:
    """Load a finished variant directory, checking every artifact against its recorded hash."""
    directory = Path(directory)
    path = directory / VARIANT_FILE
    if not is_done(directory) or not path.is_file():
        raise RunError("not a finished variant directory (no DONE marker or variant.json)", path=directory)
    rec = read_record(path, VariantResult, version=VARIANT_SCHEMA_VERSION, error=RunError,
                      what="variant record").model_copy(update={"directory": directory})
    for kind, file in rec.paths.items():
        if not file.is_file():
            raise ArtifactError("artifact listed in variant.json is missing", path=file)
        if sha256_file(file) != rec.artifact_sha256[kind]:  # type: ignore[index]
            raise ArtifactError("artifact does not match the sha256 recorded in variant.json", path=file)
    return rec
