"""Train a reference (or baseline) into its run directory, resumably.

Re-running with the same configuration returns the finished run instead of
training again; a directory holding a different configuration, or files that
are not ours, is refused with :class:`RunError`, never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import RunError
from ..progress import Progress
from ..storage import content_hash, directory_lock, is_done
from .config import TrainConfig
from .loop import evaluate, fit
from .rundir import (
    RUN_FILES,
    RUN_SCHEMA_VERSION,
    TrainedReference,
    load_reference,
    read_record,
    weights_sha256,
    write_run,
)

if TYPE_CHECKING:
    from ..dataset import DataConfig


def config_hash(data_cfg: DataConfig, train_cfg: TrainConfig, model: str, hparams: Mapping[str, Any]) -> str:
    """Hash of what determines a reference run (not the cache location, not the package version)."""
    return content_hash("reference", RUN_SCHEMA_VERSION, model, dict(hparams),
                        data_cfg.identity(), train_cfg.resolved().model_dump(mode="json"))


def train_reference(data_cfg: DataConfig, train_cfg: TrainConfig, out_dir: str | Path, model: str = "light_sernet",
                    hparams: Mapping[str, Any] | None = None, *,
                    progress: Progress | None = None) -> TrainedReference:
    """Train ``model`` (a name from the models registry) and write the run directory."""
    from ..dataset import prepare
    from ..models import build_model, count_macs
    from ..tf_env import dtype_policy, seed_everything

    out = Path(out_dir)
    hp = dict(hparams or {})
    progress = progress or Progress()
    train_cfg = train_cfg.resolved()
    key = config_hash(data_cfg, train_cfg, model, hp)
    with directory_lock(out):
        if _check_existing(out, key, data_cfg, train_cfg, model, hp):
            progress.info(f"{model}: finished run with the same configuration found in {out}; not training again")
            return load_reference(out)
        data = prepare(data_cfg)
        seed_everything(train_cfg.seed)
        shape = tuple(data.train.x.shape[1:])
        with dtype_policy(train_cfg.precision):
            net = build_model(model, shape, len(data.classes), **hp)  # ConfigError: bad hparams
            progress.info(f"{model}: {net.count_params():,} parameters; {len(data.train.y)} train / "
                          f"{len(data.val.y)} val / {len(data.test.y)} test clips; {train_cfg.epochs} epochs"
                          f"{'' if train_cfg.precision == 'float32' else f' in {train_cfg.precision}'}")
            result = fit(net, data, train_cfg, select_best=True, progress=progress)
        if train_cfg.precision != "float32":  # what is saved, evaluated and exported is the float32 network
            trained, net = net, build_model(model, shape, len(data.classes), **hp)
            net.set_weights(trained.get_weights())
        test = evaluate(net, data.test, data.classes)
        val = evaluate(net, data.val, data.classes)
        record = {
            "schema_version": RUN_SCHEMA_VERSION, "kind": "reference", "config_hash": key,
            "model": model, "hparams": hp, "data": data_cfg.model_dump(mode="json"),
            "train": train_cfg.model_dump(mode="json"), "classes": list(data.classes),
            "input_shape": [int(d) for d in data.train.x.shape[1:]],
            "params": int(net.count_params()), "macs": count_macs(net),
            "weights_sha256": weights_sha256(net), "data_fingerprint": data.fingerprint,
            "package_version": __version__, "best_epoch": result.best_epoch,
            "selected_on": result.selected_on, "epochs_run": len(result.epochs),
            "train_seconds": result.seconds,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_run(out, net, result, test, val, record)
        progress.info(f"{model}: best epoch {result.best_epoch} by {result.selected_on}; test UA {test.ua:.3f} "
                      f"WA {test.wa:.3f} F1 {test.f1:.3f}; written to {out}")
    return load_reference(out)


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
    previous = read_record(out)
    if previous.get("config_hash") == key:
        return is_done(out)
    wanted = {"model": model, "hparams": hp, "data": data_cfg.identity(),
              "train": train_cfg.model_dump(mode="json")}
    diff = [k for k in _flatten(wanted) if _flatten(previous).get(k) != _flatten(wanted)[k]]
    raise RunError(f"holds a run with a different configuration (differs in: {', '.join(diff) or 'config hash'}); "
                   f"refusing to overwrite it, choose another output directory or delete it", path=out)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat
