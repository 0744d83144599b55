"""`sercompress run`: the whole job, one stage after another, resumable and locked.

data -> reference training -> every recipe -> every baseline -> assessment of
every artifact on every hardware profile -> summary.json -> report.

Each unit of work is an independent task writing a content-addressed
directory (training runs, variants, assessments), so a killed run re-run with
the same arguments continues where it stopped, and a finished run re-run only
re-renders the report. A second process on the same directory is refused.

Finished work units live in the user's store (``storage.default_store()`` or
``--store``) under their content keys: a reference by its configuration, a
step checkpoint by its chain of steps, a variant by its recipe and reference,
an assessment by the file's hash. A run into another directory with the same
configuration reuses all of them, and the run directory receives hard links
(or copies) to what it uses, so it stays self-contained.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .baseline import BASELINE_DIR, load_baseline
from .collect import ArtifactRow, budget, entry, machine, package_versions, published
from .errors import ArtifactError, RunError
from .jsonfile import read_json
from .parallel import worker_count
from .progress import Progress
from .report.summary import RunInfo, Summary
from .runconfig import RunConfig, resolve_names
from .storage import atomic_write_json, default_store, directory_lock, link_tree
from .workunits import (
    BASELINE_RECIPES,
    RECIPE_DIR,
    REFERENCE_MODEL,
    baseline_training,
    stored_controls,
    stored_reference,
    stored_variant,
)

CONFIG_FILE = "run-config.json"


@dataclass(frozen=True)
class RunOutcome:
    summary_path: Path
    failures: tuple[str, ...]       # variants refused (e.g. a file that does not show its claim)


def run(config: RunConfig, out_dir: str | Path, *, progress: Progress | None = None,
        hardware: tuple[str, ...] | None = None, store: str | Path | None = None,
        workers: int | None = None, devices: bool = True) -> RunOutcome:
    """Run ``config`` into ``out_dir``; ``workers`` processes compute the work units first
    (default: one per core; 1 = everything in this process, one unit after another).

    ``devices=False`` assesses no hardware profile and times nothing on the host (sizes, static
    profile and TFLite Micro arena only): a sweep's runs after its first, whose files have the
    same graphs, so the same sizes, RAM and latency, as the first run's.
    """
    out = Path(out_dir)
    store = Path(store) if store is not None else default_store()
    progress = progress or Progress()
    started = _now()
    # Every name resolved before anything is written: a wrong one leaves --out untouched.
    hw = _hardware(hardware or config.profiles.hardware) if devices else []
    recipes = resolve_names(config.compress.recipes, RECIPE_DIR, "recipe")
    baselines = resolve_names(config.baselines.names, BASELINE_DIR, "baseline")
    with directory_lock(out):
        claim_directory(out, config.model_dump(mode="json"), CONFIG_FILE, "run")
        with contextlib.ExitStack() as workers_alive:  # closed before anything is timed on the host
            executor = _started_workers(worker_count(workers), workers_alive)
            with progress.stage("data", config.data.dataset):
                from .dataset import prepare

                data = prepare(config.data)
                for line in data.summary_lines():
                    progress.info(line)
            if executor is not None:
                _compute_ahead(config, recipes, baselines, store, executor, progress, workers_alive)
        with progress.stage("reference", f"{config.train.epochs} epochs"):
            reference = _reference(config.data, config.train, REFERENCE_MODEL, {}, store, out / "reference",
                                   progress)
        rows, failures, results = [], [], []
        with progress.stage("compress", f"{len(recipes)} recipes"):
            for path in progress.bar(recipes, "recipe", label=_stem):
                result = _variant(path, reference, out / "variants", config, data, progress, failures, store)
                if result is not None:
                    rows += _rows(result, "reference" if path.stem == "float32" else "compressed")
                    results += [result] if path.stem != "float32" else []
        with progress.stage("control", "float32 fine-tuned as long as each recipe"):
            rows = _with_controls(rows, results, reference, config, data, out, progress, store)
        with progress.stage("baselines", f"{len(baselines)} models"):
            for path in progress.bar(baselines, "baseline", label=_stem):
                rows += _baseline_rows(path, config, out, progress, failures, store)
        with progress.stage("assess", f"{len(rows)} artifacts x {len(hw)} devices"):
            assessed = [_assess(row, hw, config, store, devices)
                        for row in progress.bar(rows, "artifact", label=_row_name)]
        with progress.stage("report"):
            from .report import render_report

            summary = _summary(config, assessed, hw, out, started, progress, data.classes)
            path = render_report(summary, out).summary_json
    for f in failures:
        progress.info(f"FAILED {f}")
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in progress.timings.items())
    progress.info(f"report written to {out}/index.html; {progress.stage_seconds():.0f} s in stages ({stages})")
    return RunOutcome(path, tuple(failures))


def _started_workers(workers: int, stack: contextlib.ExitStack) -> Any:
    """With more than one worker, the local process pool, started at once so that its workers load
    TensorFlow while this process prepares the data; ``None`` for one worker (no pool)."""
    if workers < 2:
        return None
    from .executors import open_executor

    executor = stack.enter_context(open_executor("local", workers))
    executor.start()
    return executor


def _compute_ahead(config: RunConfig, recipes: list[Path], baselines: list[Path], store: Path, executor: Any,
                   progress: Progress, workers_alive: contextlib.ExitStack) -> None:
    """Every work unit computed into the store by the workers first (``parallel``); the workers
    stopped (and reaped) inside the stage, so that their CPU seconds count in it."""
    from .parallel import compute_ahead, plan

    units = plan(config, recipes, baselines)
    with progress.stage("work units", f"{len(units)} units on {executor.slots} worker processes"):
        compute_ahead(units, store, executor, progress)
        workers_alive.close()


def claim_directory(out: Path, wanted: dict[str, Any], record_name: str, what: str) -> None:
    """A run (or sweep) directory belongs to one configuration, recorded in ``record_name``: never mix
    two runs' results."""
    record = out / record_name
    if record.is_file():
        existing = read_json(record, RunError)
        started = any(p for p in out.iterdir() if p.name not in (record_name, ".lock"))
        if existing != wanted and started:  # a record alone (a run that failed at once) is replaced
            raise RunError(f"this directory holds a {what} of a different configuration; "
                           "choose another --out (nothing was changed)", path=out)
    elif any(p for p in out.iterdir() if p.name != ".lock"):
        raise RunError(f"directory is not empty and holds no sercompress {what}; choose another --out", path=out)
    atomic_write_json(record, wanted)


def _hardware(names: tuple[str, ...]) -> list[Any]:
    from .profile.hardware import get_hw_profile, load_all

    if tuple(names) == ("all",):
        return list(load_all().values())
    return [get_hw_profile(n) for n in names]


def _reference(data_cfg: Any, train_cfg: Any, model: str, hparams: Any, store: Path, dest: Path,
               progress: Progress) -> Any:
    """Train (or find) the reference in the store, link it to ``dest`` and load it from there."""
    from .train import load_reference

    return load_reference(link_tree(stored_reference(data_cfg, train_cfg, model, hparams, store, progress), dest))


def _variant(recipe_path: Path, reference: Any, out: Path, config: RunConfig, data: Any,
             progress: Progress, failures: list[str], store: Path) -> Any:
    """Compute (or find) the variant in the store; link it into ``out`` and load it from there."""
    from .compress import load_variant

    try:
        stored = stored_variant(recipe_path, reference, config, data, store, progress)
        return load_variant(link_tree(stored.directory, out / stored.directory.name))
    except ArtifactError as e:  # the file does not show its claim: an error, not a row
        failures.append(f"{recipe_path.stem}: {e}")
        progress.info(f"{recipe_path.stem}: refused: {e}")
        return None


def _with_controls(rows: list[ArtifactRow], results: list[Any], reference: Any, config: RunConfig, data: Any,
                   out: Path, progress: Progress, store: Path) -> list[ArtifactRow]:
    """Add each recipe's same-budget control (``compress.control``) and point its rows to it.

    A recipe without fine-tuning has the reference's float32 row as its control;
    one whose steps mix learning rates has none (said in the report).
    """
    from .compress import load_variant
    from .compress.control import recipe_budget

    budgets = {r.name: recipe_budget(r.recipe, config.compress.epochs_scale) for r in results}
    controls = stored_controls([b for b in budgets.values() if b is not None], reference, data, store, progress)
    control_rows = []
    for spent, stored in controls.items():
        result = load_variant(link_tree(stored.directory, out / "variants" / stored.directory.name))
        control_rows += _rows(result, "control", spent.name)
    names = {r.name for r in rows + control_rows}
    linked = []
    for row in rows:
        b = budgets.get(row.recipe) if row.family == "compressed" else None
        name = None if b is None else (b.name if b.epochs else "float32")
        linked.append(replace(row, control=name if name in names else None))
    return linked + control_rows


def _rows(result: Any, family: str, name: str | None = None, published_figure: Any = None) -> list[ArtifactRow]:
    base = name or result.name
    rows = []
    for kind, suffix in (("tflite", ""), ("tflite_int8", "+int8")):
        if kind in result.artifacts:
            rows.append(ArtifactRow(f"{base}{suffix}", family, result.name, result, kind, None,  # type: ignore[arg-type]
                                    published_figure))
    return rows


def _baseline_rows(path: Path, config: RunConfig, out: Path, progress: Progress,
                   failures: list[str], store: Path) -> list[ArtifactRow]:
    """Train a baseline exactly like the reference (same data, fold, epochs, seed) and export it."""
    from .dataset import prepare

    spec = load_baseline(path)
    data_cfg, train_cfg = baseline_training(spec, config)
    run_dir = out / "baselines" / spec.name
    ref = _reference(data_cfg, train_cfg, spec.model, spec.hparams, store, run_dir / "run", progress)
    data = prepare(data_cfg)
    rows = []
    for recipe in BASELINE_RECIPES:
        result = _variant(RECIPE_DIR / f"{recipe}.toml", ref, run_dir / "variants", config, data,
                          progress, failures, store)
        if result is not None:
            name = spec.name if recipe == "float32" else f"{spec.name}+int8"
            rows += [ArtifactRow(name, "baseline", spec.model, result, "tflite", None,  # type: ignore[arg-type]
                                 published(spec))]
    return rows


def _assess(row: ArtifactRow, hw: list[Any], config: RunConfig, store: Path, host_timing: bool = True) -> ArtifactRow:
    """Assess the run directory's file; the assessment is cached in the store by the file's content."""
    from .assess import assess_artifact

    artifacts = row.variant.paths
    onnx = artifacts.get("onnx") if row.kind == "tflite" else None
    a = assess_artifact(artifacts[row.kind], hw, onnx_path=onnx, runs=config.profiles.host_runs,
                        warmup=config.profiles.host_warmup, tflm=config.profiles.tflm,
                        cache_dir=store / "cache", host_timing=host_timing)
    a = a.model_copy(update={"path": str(artifacts[row.kind])})  # a cached one names the first run's file
    return replace(row, assessment=a)


def _summary(config: RunConfig, rows: list[ArtifactRow], hw: list[Any], out: Path, started: str,
             progress: Progress, classes: tuple[str, ...]) -> Summary:
    run_info = RunInfo(
        config_name=config.name, config=config.model_dump(mode="json"), dataset=config.data.dataset,
        classes=tuple(classes), seed=config.seed, fold=config.data.fold, package_versions=package_versions(),
        machine=machine(), timings_s={k: round(v, 1) for k, v in progress.timings.items()},
        started_at=started, finished_at=_now(),
    )
    return Summary(run=run_info, profiles=tuple(budget(h) for h in hw),
                   variants=tuple(entry(r, out) for r in rows))


def _stem(path: Path) -> str:
    return path.stem


def _row_name(row: ArtifactRow) -> str:
    return row.name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
