"""A run's work units computed ahead of its sequential pass, by an executor's workers, into the store.

Why: one training process keeps two cores busy only while it trains. Converting (the
TFLite converter, tf2onnx), evaluating the files in LiteRT, verifying them and tracing
each ``fit`` run on one core, and on the default run they are a large share of every
recipe's wall time. Worker processes with one TensorFlow thread per core keep every core
busy through all of it.

The units (``workunits``) are independent and content-addressed: the reference, every
baseline, every recipe, the same-budget controls. A unit waits only for what it builds
on: a recipe for the reference and for every recipe whose checkpointed steps are a prefix
of its own (it resumes from their checkpoints instead of training them again), the
controls for the reference. Among the ready units the one that unlocks the most work
(its own cost plus that of the units waiting for it) starts first. Workers only fill the store: the pipeline's sequential pass
then finds each unit finished and assembles the run exactly as it would without workers.
A unit that fails in a worker is named here and left to the sequential pass, which
computes it again and reports its error where it always does.

The workers are an executor's (``executors``): a local process pool, or Ray tasks across a
cluster. Each unit carries the configuration it is computed for, so the units of several
configurations (the folds and seeds of a sweep, their names prefixed) are scheduled together.

Host timing never runs in a worker: it needs the cores to itself and belongs to the
assess stage, which starts after every worker has stopped.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .executors import worker_count  # noqa: F401  (where callers have always found it)
from .progress import Progress
from .runconfig import RunConfig
from .workunits import (
    BASELINE_RECIPES,
    RECIPE_DIR,
    REFERENCE_MODEL,
    baseline_training,
    control_budgets,
    stored_controls,
    stored_reference,
    stored_variant,
)

if TYPE_CHECKING:
    from .executors import UnitExecutor

UnitKind = Literal["reference", "recipe", "controls", "baseline"]
REFERENCE = "reference"
#: a unit's cost beyond its training epochs (export, conversion, evaluation), in epochs of the
#: reference; only the order of the units depends on these rough weights, never a result
EXPORT_COST = 3.0
#: a baseline epoch against a reference epoch (the baselines are the larger models)
BASELINE_EPOCH_COST = 1.0


@dataclass(frozen=True)
class Unit:
    """One independent piece of a run's work, computed in a worker into the store."""

    name: str
    kind: UnitKind
    config: RunConfig              # the run configuration it is computed for
    paths: tuple[str, ...] = ()    # the recipe / baseline file(s) it computes
    after: tuple[str, ...] = ()    # the units it builds on
    cost: float = 1.0              # rough, in reference epochs: for ordering only


def plan(config: RunConfig, recipes: list[Path], baselines: list[Path], prefix: str = "") -> list[Unit]:
    """The units of a run and what each builds on; ``prefix`` starts every name (e.g. "fold1-seed0/"),
    so that the units of several configurations can be scheduled together."""
    from .baseline import load_baseline
    from .compress.recipe import load_recipe

    config = with_absolute_paths(config)
    scale = config.compress.epochs_scale
    loaded = {p: load_recipe(p) for p in recipes}
    chains = {p: _checkpointed_chain(r) for p, r in loaded.items()}
    reference = f"{prefix}{REFERENCE}"
    units = [Unit(reference, "reference", config, cost=float(config.train.epochs))]
    producers = _producers(chains)
    for p, recipe in loaded.items():
        providers = [q for q in producers if q != p and chains[p][: len(chains[q])] == chains[q]]
        skipped = max((len(chains[q]) for q in providers), default=0)
        epochs = sum(s.finetune.scaled_epochs(scale) for s in recipe.steps[skipped:] if hasattr(s, "finetune"))
        units.append(Unit(f"{prefix}recipe:{p.stem}", "recipe", config, (str(p),),
                          (reference, *(f"{prefix}recipe:{q.stem}" for q in providers)), EXPORT_COST + epochs))
    budgets = control_budgets(recipes, config)
    if any(b.epochs for b in budgets):
        units.append(Unit(f"{prefix}controls", "controls", config, tuple(map(str, recipes)), (reference,),
                          max(b.epochs for b in budgets) + EXPORT_COST * len({b for b in budgets if b.epochs})))
    for p in baselines:
        _, train_cfg = baseline_training(load_baseline(p), config)
        units.append(Unit(f"{prefix}baseline:{p.stem}", "baseline", config, (str(p),),
                          cost=BASELINE_EPOCH_COST * train_cfg.epochs + 2 * EXPORT_COST))
    return units


def with_absolute_paths(config: RunConfig) -> RunConfig:
    """``config`` with its corpus and feature-cache directories absolute, as this process sees them.

    A worker may run in another directory (a Ray worker starts where ``ray start`` was run), where a
    relative path names another directory. Neither path enters a content key.
    """
    data = config.data
    paths = {k: str(Path(v).expanduser().resolve()) for k in ("data_dir", "cache_dir") if (v := getattr(data, k))}
    return config.model_copy(update={"data": data.model_copy(update=paths)})


def _checkpointed_chain(recipe: Any) -> list[dict]:
    """The leading fine-tuned steps that leave a checkpoint another recipe can resume from."""
    from .compress.registry import technique_for

    chain = []
    for step in recipe.steps:
        if not hasattr(step, "finetune") or not getattr(technique_for(step), "checkpointable", True):
            break
        chain.append(step.model_dump(mode="json"))
    return chain


def _producers(chains: dict[Path, list[dict]]) -> list[Path]:
    """For each distinct non-empty chain, the one recipe that trains it (the first by name)."""
    first: dict[str, Path] = {}
    for p in sorted(chains, key=lambda q: q.stem):
        if chains[p]:
            first.setdefault(json.dumps(chains[p], sort_keys=True), p)
    return list(first.values())


def priorities(units: list[Unit]) -> dict[str, float]:
    """Each unit's cost plus the cost of every unit that waits for it: what unlocks most work goes first.

    (The reference gates every recipe: started after the baselines, it would leave a core idle.)
    """
    return {u.name: u.cost + sum(v.cost for v in units if u.name in v.after) for u in units}


def compute_ahead(units: list[Unit], store: Path, executor: UnitExecutor, progress: Progress) -> list[str]:
    """Compute ``units`` on ``executor`` into ``store``, ``executor.slots`` at a time; the names of those
    that failed."""
    prio = priorities(units)
    waiting = {u.name: u for u in units}
    finished: set[str] = set()
    failed: list[str] = []
    running: dict[Future, Unit] = {}
    with progress.steps(len(units), "work units", kind="unit") as report:
        while waiting or running:
            ready = sorted((u for u in waiting.values() if set(u.after) <= finished), key=lambda u: -prio[u.name])
            for u in ready[: executor.slots - len(running)]:
                del waiting[u.name]
                running[executor.submit(_run_unit, u, str(store))] = u
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                u = running.pop(future)
                finished.add(u.name)
                try:
                    wall, cpu, error = future.result()
                except BrokenExecutor as e:  # the pool lost a worker (killed, out of memory): stop here
                    progress.info(f"a worker process stopped ({e}); the rest is computed in this process")
                    return [*failed, u.name, *(v.name for v in running.values()), *waiting]
                except Exception as e:  # noqa: BLE001  (e.g. Ray gave up retrying a dead worker)
                    wall, cpu, error = 0.0, 0.0, f"{type(e).__name__}: {e}"
                if error:
                    failed.append(u.name)
                    report(f"{u.name} failed in a worker ({error}); computed again below", unit=u.name)
                else:
                    report(f"{u.name} done in {wall:.0f} s ({cpu:.0f} CPU s)", unit=u.name,
                           seconds=round(wall, 1), cpu_seconds=round(cpu, 1))
    return failed


def _run_unit(unit: Unit, store: str) -> tuple[float, float, str | None]:
    """A worker's job: one unit into the store; (wall s, CPU s, error or None). Never raises."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        _compute(unit, Path(store), Progress(quiet=True))
        error = None
    except Exception as e:  # noqa: BLE001  (the sequential pass computes the unit again and reports it)
        error = f"{type(e).__name__}: {e}"
    return time.perf_counter() - t0, time.process_time() - cpu0, error


def _compute(unit: Unit, store: Path, progress: Progress) -> None:
    config = unit.config
    if unit.kind == "baseline":
        from .baseline import load_baseline

        spec = load_baseline(unit.paths[0])
        data_cfg, train_cfg = baseline_training(spec, config)
        entry = stored_reference(data_cfg, train_cfg, spec.model, spec.hparams, store, progress)
        reference, data = _loaded(entry), _prepared(data_cfg)
        for recipe in BASELINE_RECIPES:
            stored_variant(RECIPE_DIR / f"{recipe}.toml", reference, config, data, store, progress)
        return
    entry = stored_reference(config.data, config.train, REFERENCE_MODEL, {}, store, progress)
    if unit.kind == "reference":
        return
    reference, data = _loaded(entry), _prepared(config.data)
    if unit.kind == "recipe":
        stored_variant(Path(unit.paths[0]), reference, config, data, store, progress)
    else:
        stored_controls(control_budgets([Path(p) for p in unit.paths], config), reference, data, store, progress)


@lru_cache(maxsize=4)
def _prepared(data_cfg: Any) -> Any:
    """A worker prepares each data configuration once, however many of its units use it."""
    from .dataset import prepare

    return prepare(data_cfg)


@lru_cache(maxsize=4)
def _loaded(entry: Path) -> Any:
    from .train import load_reference

    return load_reference(entry)
