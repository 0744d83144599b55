"""The reference run directory (see ARCHITECTURE.md): written atomically with ``DONE`` last,
and loaded back with every file verified, so a killed run never looks complete and a
replaced model file is refused rather than used."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from ..errors import RunError
from ..jsonfile import read_json
from ..kerasfile import check_keras_file
from ..metrics import Metrics
from ..storage import (
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    is_done,
    mark_done,
)
from ..tomlconfig import validation_message
from .loop import EpochLog, FitResult

if TYPE_CHECKING:  # dataset imports the feature stack; load it only when a run needs data
    from ..dataset import DataConfig, PreparedData

RUN_SCHEMA_VERSION = 1
RUN_FILES = ("run.json", "model.keras", "history.csv", "metrics.json", "DONE")
#: A Light-SERNet .keras file is ~2 MB; refuse to deserialise anything absurd.
MAX_MODEL_BYTES = 256 * 1024 * 1024
_REQUIRED_KEYS = ("schema_version", "kind", "config_hash", "model", "data", "train", "classes",
                  "input_shape", "weights_sha256", "data_fingerprint")


@dataclass(frozen=True)
class TrainedReference:
    """A finished reference (or baseline) run directory, loaded and verified."""

    run_dir: Path
    record: Mapping[str, Any]  # parsed run.json
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]
    data_config: DataConfig
    weights_sha256: str
    metrics: Metrics  # test split, Keras model
    _model: Any = field(repr=False, compare=False)

    def fresh_model(self) -> Any:
        """A new, uncompiled model object holding the reference weights.

        A new one on every call: tfmot's wrappers clone and may mutate the
        model they are given, and every variant must start from the same
        weights.
        """
        return _copy(self._model)

    def data(self, cache_dir: str | Path | None = None) -> PreparedData:
        """The prepared splits the model was trained on; refuses if the data changed since."""
        from ..dataset import prepare

        cfg = self.data_config
        if cache_dir is not None:
            cfg = cfg.model_copy(update={"cache_dir": str(cache_dir)})
        prepared = prepare(cfg)
        expected = self.record.get("data_fingerprint")
        if expected and prepared.fingerprint != expected:
            raise RunError(f"the data differ from those the reference was trained on (fingerprint "
                           f"{prepared.fingerprint} != {expected}); train it again",
                           path=self.run_dir / "run.json", key="data_fingerprint")
        return prepared


def weights_sha256(model: Any) -> str:
    """Digest of the weight values (shapes, dtypes, bytes, in layer order).

    Hashes the arrays rather than the .keras file, whose zip carries a save
    timestamp: two identical trainings give the same digest.
    """
    h = hashlib.sha256()
    for w in model.get_weights():
        a = np.ascontiguousarray(w)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_run(out: Path, net: Any, result: FitResult, test: Metrics, val: Metrics, record: dict) -> None:
    """Every file atomically; run.json then DONE last."""
    with atomic_path(out / "model.keras") as tmp:
        _copy(net).save(tmp)  # uncompiled: the network only, a third the size, no custom loss to load
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EpochLog.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in result.epochs)
    atomic_write_text(out / "history.csv", buf.getvalue())
    atomic_write_json(out / "metrics.json", {"split": "test", "source": "keras", **test.to_dict(),
                                             "val": val.to_dict()})
    atomic_write_json(out / "run.json", record)
    mark_done(out, {"config_hash": record["config_hash"]})


def _copy(net: Any) -> Any:
    """A new uncompiled model with ``net``'s weights (no optimizer state, no loss)."""
    from ..tf_env import keras

    clone = keras().models.clone_model(net)
    clone.set_weights(net.get_weights())
    return clone


def load_reference(run_dir: str | Path) -> TrainedReference:
    """Load and verify a finished run directory; :class:`RunError` names what is wrong."""
    from ..tf_env import keras

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError("reference run directory not found", path=run_dir)
    if not is_done(run_dir):
        raise RunError("incomplete reference run: no DONE marker (interrupted or still training); "
                       "re-run the same `sercompress train` command to finish it", path=run_dir)
    record = read_record(run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise RunError("incomplete reference run: model.keras is missing", path=model_path)
    size = model_path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise RunError(f"model file is {size} bytes, more than the {MAX_MODEL_BYTES} allowed", path=model_path)
    check_keras_file(model_path)  # modules, classes and sizes checked before Keras imports anything
    try:
        net = keras().models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001  corrupt zip, unknown layer, unsafe lambda: all one user-facing problem
        raise RunError(f"cannot load the model: {type(e).__name__}: {e}", path=model_path) from None
    digest = weights_sha256(net)
    if digest != record["weights_sha256"]:
        raise RunError("model weights do not match run.json (the file was replaced or corrupted)",
                       path=model_path, key="weights_sha256")
    return TrainedReference(
        run_dir=run_dir, record=record, classes=tuple(record["classes"]),
        input_shape=tuple(int(d) for d in record["input_shape"]),  # type: ignore[arg-type]
        data_config=_load_data_config(record["data"], run_dir / "run.json"),
        weights_sha256=digest, metrics=_read_metrics(run_dir / "metrics.json"), _model=net,
    )


def read_record(run_dir: Path) -> dict[str, Any]:
    """run.json, checked for its required keys, schema version and kind."""
    path = run_dir / "run.json"
    if not path.is_file():
        raise RunError("incomplete reference run: run.json is missing", path=path)
    record = read_json(path, RunError)
    if not isinstance(record, dict):
        raise RunError("expected a JSON object", path=path)
    for k in _REQUIRED_KEYS:
        if k not in record:
            raise RunError("missing key", path=path, key=k)
    if record["schema_version"] != RUN_SCHEMA_VERSION:
        raise RunError(f"unsupported schema version {record['schema_version']!r} "
                       f"(this sercompress reads {RUN_SCHEMA_VERSION})", path=path, key="schema_version")
    if record["kind"] != "reference":
        raise RunError(f"expected kind 'reference', got {record['kind']!r}", path=path, key="kind")
    _check_record_types(record, path)
    return record


def _check_record_types(record: dict[str, Any], path: Path) -> None:
    """The fields used to rebuild a model are the types they claim, before anything is built."""
    classes, shape = record["classes"], record["input_shape"]
    if not (isinstance(classes, list) and 2 <= len(classes) <= 64
            and all(isinstance(c, str) and c for c in classes)):
        raise RunError("must be a list of 2 to 64 class names", path=path, key="classes")
    if not (isinstance(shape, list) and 1 <= len(shape) <= 8 and all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 1_000_000 for d in shape)):
        raise RunError("must be a list of 1 to 8 positive integers (at most 1,000,000 each)",
                       path=path, key="input_shape")
    for key in ("data", "train"):
        if not isinstance(record[key], dict):
            raise RunError("must be a JSON object", path=path, key=key)
    if not isinstance(record["weights_sha256"], str):
        raise RunError("must be a hex string", path=path, key="weights_sha256")


def _read_metrics(path: Path) -> Metrics:
    if not path.is_file():
        raise RunError("incomplete reference run: metrics.json is missing", path=path)
    try:
        return Metrics.from_dict(read_json(path, RunError))
    except (ValueError, KeyError, TypeError) as e:
        raise RunError(f"unreadable metrics: {e}", path=path) from None


def _load_data_config(d: Any, path: Path) -> Any:
    from ..dataset import DataConfig

    try:
        return DataConfig.model_validate(d)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise RunError(msg, path=path, key=f"data.{key}" if key else "data") from None
