"""The paper's training recipe, the reference run directory, and loading it back.

Light-SERNet is trained with Adam (lr 1e-4), batch 32, cross-entropy or focal
loss (gamma 2), the learning rate multiplied by exp(-0.15) every 20 epochs
after epoch 50. The epoch kept is the best on the *validation* split (taken
from the training speakers); the test fold is only ever evaluated, never used
to choose anything.

:func:`fit` is the one training loop: :func:`train_reference` uses it for the
reference and the baselines, and the compression stage uses it to fine-tune
tfmot-wrapped models (passing e.g. ``UpdatePruningStep()`` in ``callbacks``
and ``select_best=False``). :func:`train_reference` writes the run directory
described in ARCHITECTURE.md, every file atomically and ``DONE`` last, so a
killed run never looks complete; re-running with the same configuration
returns the finished run instead of training again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, ValidationError

from . import __version__
from .errors import ConfigError, DataError, RunError
from .metrics import Metrics, classification_metrics
from .progress import Progress
from .storage import atomic_path, atomic_write_json, atomic_write_text, content_hash, directory_lock, is_done, mark_done
from .tomlconfig import FrozenModel, validation_message

if TYPE_CHECKING:  # dataset imports the feature stack; load it only when a run needs data
    from .dataset import DataConfig, PreparedData

RUN_SCHEMA_VERSION = 1
RUN_FILES = ("run.json", "model.keras", "history.csv", "metrics.json", "DONE")
#: A Light-SERNet .keras file is ~2 MB; refuse to deserialise anything absurd.
MAX_MODEL_BYTES = 256 * 1024 * 1024
#: Sized for a 2-core CPU: the default synthetic fold has 528 training clips of 3 s; at
#: ~200 clips/s (bench/train_throughput.py, idle machine) an epoch is a few seconds.
DEFAULT_EPOCHS = 30
_EPS = 1e-7

LossName = Literal["cross_entropy", "focal"]
SelectOn = Literal["val_ua", "val_loss"]


class LRDecay(FrozenModel):
    """lr(epoch) = lr0 * exp(-exponent * floor((epoch - start_epoch) / every_epochs)), epoch >= start.

    ``epoch`` is Keras' 0-based index: epochs 0..69 train at lr0, 70..89 at
    lr0 * exp(-0.15), and so on ("every 20 epochs after epoch 50"). A closed
    form of the epoch rather than a running product of the previous rate, so
    the rate of any epoch is known without replaying the ones before it.
    """

    start_epoch: int = Field(50, ge=0)
    every_epochs: int = Field(20, ge=1)
    exponent: float = Field(0.15, ge=0)

    def factor_at(self, epoch: int) -> float:
        steps = max(0, (epoch - self.start_epoch) // self.every_epochs)
        return math.exp(-self.exponent * steps)


class TrainConfig(FrozenModel):
    """Everything that decides how a model is trained (hashed into the run)."""

    epochs: int = Field(DEFAULT_EPOCHS, ge=1, le=1000)
    batch_size: int = Field(32, ge=1, le=1024)
    learning_rate: float = Field(1e-4, gt=0, lt=1)
    loss: LossName = "cross_entropy"
    focal_gamma: float = Field(2.0, ge=0, le=10)
    seed: int = 0
    decay: LRDecay = LRDecay()
    select_on: SelectOn = "val_ua"
    #: training batches whose statistics replace BatchNorm's moving averages before each
    #: validation (see :func:`recalibrate_batchnorm`); 0 = Keras' moving averages only
    precise_bn_batches: int = Field(8, ge=0, le=1000)


def learning_rate_at(epoch: int, base_lr: float, decay: LRDecay | None) -> float:
    """The learning rate of 0-based ``epoch`` under ``decay`` (constant if None)."""
    return base_lr if decay is None else base_lr * decay.factor_at(epoch)


# --------------------------------------------------------------------------- losses

def sparse_focal_loss(gamma: float = 2.0):
    """Focal loss (Lin et al. 2017) on integer labels and softmax outputs.

    -(1 - p_t)^gamma * log(p_t): confident correct predictions contribute
    little, so training focuses on hard clips. gamma = 0 is cross-entropy.
    No alpha (per-class weight) term.
    """
    from .tf_env import tf

    t = tf()

    def focal_loss(y_true, y_prob):
        labels = t.cast(t.reshape(y_true, [-1]), t.int32)
        p = t.gather(y_prob, labels, axis=1, batch_dims=1)
        p = t.clip_by_value(p, _EPS, 1.0 - _EPS)
        return -t.pow(1.0 - p, gamma) * t.math.log(p)

    return focal_loss


def _cross_entropy(_gamma: float):
    from .tf_env import keras

    return keras().losses.sparse_categorical_crossentropy


_LOSSES = {"cross_entropy": _cross_entropy, "focal": sparse_focal_loss}


def make_loss(name: LossName, focal_gamma: float = 2.0):
    """A per-clip Keras loss function on integer labels and softmax probabilities.

    Per clip (not reduced) so that Keras' batch mean and our validation mean agree.
    """
    if name not in _LOSSES:
        raise ConfigError(f"unknown loss '{name}'; valid choices: {sorted(_LOSSES)}", key="loss")
    return _LOSSES[name](focal_gamma)


# --------------------------------------------------------------------------- fit

@dataclass(frozen=True)
class EpochLog:
    """One row of history.csv. ``epoch`` is 1-based (as printed)."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_ua: float
    val_wa: float
    val_f1: float
    lr: float
    seconds: float


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` did: per-epoch logs and which epoch's weights the model holds."""

    epochs: tuple[EpochLog, ...]
    best_epoch: int | None  # 1-based epoch restored, None if select_best=False
    selected_on: str
    seconds: float

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras-``History``-like columns."""
        cols = [f for f in EpochLog.__dataclass_fields__]
        return {c: [getattr(e, c) for e in self.epochs] for c in cols}


def fit(model: Any, data: Any, *, epochs: int, learning_rate: float, batch_size: int = 32,
        loss: LossName = "cross_entropy", callbacks: Sequence[Any] = (), select_best: bool = True,
        seed: int = 0, focal_gamma: float = 2.0, decay: LRDecay | None = None,
        select_on: SelectOn = "val_ua", precise_bn_batches: int = 0,
        progress: Progress | None = None) -> FitResult:
    """Compile ``model`` with Adam and train it on ``data.train``, validating on ``data.val``.

    ``data`` is a ``dataset.PreparedData`` (anything with ``.train``, ``.val``
    splits of ``x``/``y`` and ``.classes``). Every epoch the validation split is
    predicted once for val loss / UA / WA / F1, and one line is reported
    through ``progress`` (``Progress(quiet=True)`` silences it).

    ``select_best`` restores, at the end, the weights of the best epoch by
    ``select_on`` (ties broken by the other figure). It copies
    ``model.get_weights()`` wholesale, so with tfmot wrappers (masks, pruning
    step, quantizer ranges) prefer ``select_best=False`` and keep the last epoch.

    ``precise_bn_batches`` > 0 recalibrates BatchNorm statistics on that many
    training batches at the end of every epoch, before validating (plain
    Keras models only: leave it 0 for tfmot-wrapped ones).
    """
    from .tf_env import keras, seed_everything

    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}", key="epochs")
    if len(data.train.y) == 0:
        raise DataError("the training split is empty")
    if select_best and len(data.val.y) == 0:
        raise DataError("the validation split is empty; cannot select the best epoch")
    progress = progress or Progress()
    k = keras()
    seed_everything(seed)
    loss_fn = make_loss(loss, focal_gamma)
    model.compile(optimizer=k.optimizers.Adam(learning_rate=learning_rate), loss=loss_fn,
                  metrics=["accuracy"])
    monitor = _epoch_monitor(data, tuple(data.classes), loss_fn, batch_size, epochs,
                             select_best, select_on, progress, precise_bn_batches, seed)
    schedule = k.callbacks.LearningRateScheduler(
        lambda epoch, _lr: learning_rate_at(epoch, learning_rate, decay))
    t0 = time.perf_counter()
    model.fit(data.train.x, data.train.y, batch_size=batch_size, epochs=epochs, shuffle=True,
              verbose=0, callbacks=[schedule, monitor, *callbacks])
    best = monitor.restore_best()
    return FitResult(epochs=tuple(monitor.rows), best_epoch=best, selected_on=select_on,
                     seconds=round(time.perf_counter() - t0, 3))


def _epoch_monitor(data: Any, classes: tuple[str, ...], loss_fn: Any, batch_size: int, epochs: int,
                   select_best: bool, select_on: SelectOn, progress: Progress, precise_bn_batches: int,
                   seed: int):
    """Keras callback: validation figures into ``logs``, one progress line, best weights."""
    from .tf_env import keras

    class EpochMonitor(keras().callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[EpochLog] = []
            self._t = 0.0
            self._best_key: tuple[float, float] | None = None
            self._best_weights: list[np.ndarray] | None = None
            self._best_epoch: int | None = None

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs if logs is not None else {}
            if precise_bn_batches:
                recalibrate_batchnorm(self.model, data.train.x, batches=precise_bn_batches,
                                      batch_size=batch_size, seed=seed + epoch)
            val = _validate(self.model, data.val, classes, loss_fn, batch_size)
            logs.update(val)
            lr = float(keras().backend.get_value(self.model.optimizer.learning_rate))
            row = EpochLog(epoch=epoch + 1, loss=float(logs.get("loss", math.nan)),
                           accuracy=float(logs.get("accuracy", math.nan)), lr=lr,
                           seconds=round(time.perf_counter() - self._t, 3), **val)
            self.rows.append(row)
            if select_best:
                self._consider(row)
            progress.event("epoch", _epoch_line(row, epochs), **asdict(row))

        def _consider(self, row: EpochLog) -> None:
            ua, vl = row.val_ua, row.val_loss
            key = (ua, -vl) if select_on == "val_ua" else (-vl, ua)
            if self._best_key is None or key > self._best_key:
                self._best_key = key
                self._best_epoch = row.epoch
                self._best_weights = [w.copy() for w in self.model.get_weights()]

        def restore_best(self) -> int | None:
            if self._best_weights is not None:
                self.model.set_weights(self._best_weights)
            return self._best_epoch

    return EpochMonitor()


def recalibrate_batchnorm(model: Any, x: np.ndarray, *, batches: int = 8, batch_size: int = 32,
                          seed: int = 0) -> int:
    """Set BatchNorm moving statistics to the mean over ``batches`` random training batches.

    Why: Keras' moving averages (momentum 0.99) need several hundred steps to
    forget their initial values (mean 0, variance 1). A CPU-sized run of a few
    hundred steps then evaluates with stale statistics and predicts one class
    for every clip although training accuracy is high (measured on the default
    synthetic corpus: validation UA at chance for the first ~15 of 30 epochs).
    This is "precise BN" (Wu & Johnson, 2021, "Rethinking 'Batch' in
    BatchNorm"): the gradient path is untouched, since training-mode passes use
    batch statistics; only the statistics used at inference change.

    Runs training-mode forward passes eagerly with each layer's momentum set so
    that the moving value becomes the running mean of the batch statistics.
    Returns the number of BatchNorm layers recalibrated.
    """
    from .tf_env import keras

    bns = [m for m in model.submodules if isinstance(m, keras().layers.BatchNormalization)]
    if not bns or batches < 1 or len(x) == 0:
        return 0
    order = np.random.default_rng(seed).permutation(len(x))[: batches * batch_size]
    saved = [bn.momentum for bn in bns]
    try:
        for i, start in enumerate(range(0, len(order), batch_size), start=1):
            for bn in bns:
                bn.momentum = (i - 1) / i  # moving <- (i-1)/i * moving + 1/i * batch
            model(x[np.sort(order[start:start + batch_size])], training=True)
    finally:
        for bn, momentum in zip(bns, saved):
            bn.momentum = momentum
    return len(bns)


def _validate(model: Any, split: Any, classes: tuple[str, ...], loss_fn: Any, batch_size: int) -> dict[str, float]:
    if len(split.y) == 0:
        return {"val_loss": math.nan, "val_ua": math.nan, "val_wa": math.nan, "val_f1": math.nan}
    probs = model.predict(split.x, batch_size=batch_size, verbose=0)
    vloss = float(np.mean(np.asarray(loss_fn(split.y, probs))))  # data term only, no L2
    m = classification_metrics(split.y, probs, classes)
    return {"val_loss": vloss, "val_ua": m.ua, "val_wa": m.wa, "val_f1": m.f1}


def _epoch_line(r: EpochLog, epochs: int) -> str:
    return (f"epoch {r.epoch}/{epochs}  loss {r.loss:.4f}  acc {r.accuracy:.3f}  "
            f"val_loss {r.val_loss:.4f}  val_ua {r.val_ua:.3f}  lr {r.lr:.2e}  {r.seconds:.1f} s")


def evaluate(model: Any, split: Any, classes: Sequence[str], batch_size: int = 64) -> Metrics:
    """Metrics of a Keras model on one split (predicted in batches)."""
    if len(split.y) == 0:
        raise DataError("cannot evaluate on an empty split")
    probs = model.predict(split.x, batch_size=batch_size, verbose=0)
    return classification_metrics(split.y, probs, classes)


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


# --------------------------------------------------------------------------- reference run

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
        from .tf_env import keras

        model = keras().models.clone_model(self._model)
        model.set_weights(self._model.get_weights())
        return model

    def data(self, cache_dir: str | Path | None = None) -> PreparedData:
        """The prepared splits the model was trained on; refuses if the data changed since."""
        from .dataset import prepare

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


def config_hash(data_cfg: DataConfig, train_cfg: TrainConfig, model: str, hparams: Mapping[str, Any]) -> str:
    """Hash of what determines a reference run (not the cache location, not the package version)."""
    return content_hash("reference", RUN_SCHEMA_VERSION, model, dict(hparams),
                        _data_dict(data_cfg, hashed=True), train_cfg.model_dump(mode="json"))


def train_reference(data_cfg: DataConfig, train_cfg: TrainConfig, out_dir: str | Path, model: str = "light_sernet",
                    hparams: Mapping[str, Any] | None = None, *,
                    progress: Progress | None = None) -> TrainedReference:
    """Train ``model`` (a name from the models registry) and write the run directory.

    Resumable: if ``out_dir`` already holds a finished run of the same
    configuration it is returned without training. A directory holding a
    different configuration, or files that are not ours, is refused with
    :class:`RunError`, never overwritten.
    """
    from .dataset import prepare
    from .models import build_model, count_macs
    from .tf_env import seed_everything

    out = Path(out_dir)
    hp = dict(hparams or {})
    progress = progress or Progress()
    key = config_hash(data_cfg, train_cfg, model, hp)
    with directory_lock(out):
        if _check_existing(out, key, data_cfg, train_cfg, model, hp):
            progress.info(f"{model}: finished run with the same configuration found in {out}; not training again")
            return load_reference(out)
        data = prepare(data_cfg)
        seed_everything(train_cfg.seed)
        try:
            net = build_model(model, tuple(data.train.x.shape[1:]), len(data.classes), **hp)
        except KeyError as e:
            raise ConfigError(str(e.args[0]), key="model") from None
        except TypeError as e:
            raise ConfigError(f"bad hyper-parameters for {model}: {e}", key="hparams") from None
        progress.info(f"{model}: {net.count_params():,} parameters; {len(data.train.y)} train / "
                      f"{len(data.val.y)} val / {len(data.test.y)} test clips; {train_cfg.epochs} epochs")
        result = fit(net, data, epochs=train_cfg.epochs, learning_rate=train_cfg.learning_rate,
                     batch_size=train_cfg.batch_size, loss=train_cfg.loss, select_best=True,
                     seed=train_cfg.seed, focal_gamma=train_cfg.focal_gamma, decay=train_cfg.decay,
                     select_on=train_cfg.select_on, precise_bn_batches=train_cfg.precise_bn_batches,
                     progress=progress)
        test = evaluate(net, data.test, data.classes)
        val = evaluate(net, data.val, data.classes)
        record = {
            "schema_version": RUN_SCHEMA_VERSION, "kind": "reference", "config_hash": key,
            "model": model, "hparams": hp, "data": _data_dict(data_cfg, hashed=False),
            "train": train_cfg.model_dump(mode="json"), "classes": list(data.classes),
            "input_shape": [int(d) for d in data.train.x.shape[1:]],
            "params": int(net.count_params()), "macs": count_macs(net),
            "weights_sha256": weights_sha256(net), "data_fingerprint": data.fingerprint,
            "package_version": __version__, "best_epoch": result.best_epoch,
            "selected_on": result.selected_on, "epochs_run": len(result.epochs),
            "train_seconds": result.seconds,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _write_run(out, net, result, test, val, record)
        progress.info(f"{model}: best epoch {result.best_epoch} by {result.selected_on}; test UA {test.ua:.3f} "
                      f"WA {test.wa:.3f} F1 {test.f1:.3f}; written to {out}")
    return load_reference(out)


def _write_run(out: Path, net: Any, result: FitResult, test: Metrics, val: Metrics, record: dict) -> None:
    """Every file atomically; run.json then DONE last."""
    with atomic_path(out / "model.keras") as tmp:
        _uncompiled(net).save(tmp)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EpochLog.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in result.epochs)
    atomic_write_text(out / "history.csv", buf.getvalue())
    atomic_write_json(out / "metrics.json", {"split": "test", "source": "keras", **test.to_dict(),
                                             "val": val.to_dict()})
    atomic_write_json(out / "run.json", record)
    mark_done(out, {"config_hash": record["config_hash"]})


def _uncompiled(net: Any) -> Any:
    """A copy without optimizer state or loss: the file holds the network only (a third the size,
    and nothing custom such as the focal loss to deserialise)."""
    from .tf_env import keras

    clone = keras().models.clone_model(net)
    clone.set_weights(net.get_weights())
    return clone


def _check_existing(out: Path, key: str, data_cfg: DataConfig, train_cfg: TrainConfig, model: str,
                    hp: dict) -> bool:
    """True if ``out`` holds the finished run of ``key``; raise if it holds anything else of value."""
    if not out.exists():
        return False
    foreign = sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and p.name not in RUN_FILES)
    if foreign:
        raise RunError(f"not a reference run directory (it holds {foreign[:3]}); refusing to write "
                       f"into it, choose another output directory", path=out)
    if not (out / "run.json").is_file():
        return False  # empty, or an interrupted run before run.json: start over
    previous = _read_record(out)
    if previous.get("config_hash") == key:
        return is_done(out)
    wanted = {"model": model, "hparams": hp, "data": _data_dict(data_cfg, hashed=True),
              "train": train_cfg.model_dump(mode="json")}
    diff = [k for k in _flatten(wanted) if _flatten(previous).get(k) != _flatten(wanted)[k]]
    raise RunError(f"holds a run with a different configuration (differs in: {', '.join(diff) or 'config hash'}); "
                   f"refusing to overwrite it, choose another output directory or delete it", path=out)


def load_reference(run_dir: str | Path) -> TrainedReference:
    """Load and verify a finished run directory; :class:`RunError` names what is wrong."""
    from .tf_env import keras

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError("reference run directory not found", path=run_dir)
    if not is_done(run_dir):
        raise RunError("incomplete reference run: no DONE marker (interrupted or still training); "
                       "re-run the same `sercompress train` command to finish it", path=run_dir)
    record = _read_record(run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise RunError("incomplete reference run: model.keras is missing", path=model_path)
    size = model_path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise RunError(f"model file is {size} bytes, more than the {MAX_MODEL_BYTES} allowed", path=model_path)
    try:
        net = keras().models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as e:  # corrupt zip, unknown layer, unsafe lambda: all one user-facing problem
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


_REQUIRED_KEYS = ("schema_version", "kind", "config_hash", "model", "data", "train", "classes",
                  "input_shape", "weights_sha256", "data_fingerprint")


def _read_record(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise RunError("incomplete reference run: run.json is missing", path=path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunError(f"not valid JSON: {e}", path=path) from None
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
    return record


def _read_metrics(path: Path) -> Metrics:
    try:
        return Metrics.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise RunError("incomplete reference run: metrics.json is missing", path=path) from None
    except (ValueError, KeyError, TypeError) as e:
        raise RunError(f"unreadable metrics: {e}", path=path) from None


def _data_dict(cfg: Any, hashed: bool) -> dict[str, Any]:
    """The data config as JSON; for hashing only what determines the data (no cache / corpus location)."""
    if hashed:
        return cfg.identity()
    return cfg.model_dump(mode="json")


def _load_data_config(d: Any, path: Path) -> Any:
    from .dataset import DataConfig

    try:
        return DataConfig.model_validate(d)
    except ValidationError as e:
        key, msg = validation_message(e)
        raise RunError(msg, path=path, key=f"data.{key}" if key else "data") from None


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat
