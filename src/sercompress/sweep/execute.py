"""`sercompress sweep`: a run config over folds x seeds, every work unit through one executor.

1. The runs: one per (fold, seed) of the config's ``[sweep]`` table (or ``--folds`` /
   ``--seeds``), each the config as ``sercompress run`` would run it on that fold with that
   seed (``RunConfig.for_run``). Fold numbers are checked against the corpus before anything
   is written.
2. Every run's work units (reference, recipes, controls, baselines; ``parallel.plan``, names
   prefixed by the run) go through ONE ``compute_ahead`` on the chosen executor (local worker
   processes, or Ray), so the cores (or the cluster) stay busy across runs; everything lands in
   the content-addressed store.
3. Each run is then assembled from the store by the pipeline's sequential pass into
   ``OUT/runs/fold{f}-seed{s}/`` (a complete run directory with its own report). Only the
   first run is timed on the host and assessed on the hardware profiles: the other runs' files
   have the same graphs (the aggregation checks their sizes agree), so timing them again would
   spend minutes measuring noise.
4. The runs' summaries are aggregated (``aggregate``) into ``OUT/sweep-summary.json`` and
   rendered into ``OUT/index.html`` and ``OUT/sweep-summary.md``.

Resumable like a run: units are content-addressed in the store and each run directory resumes,
so a killed sweep re-run with the same arguments computes only what is missing; the sweep
directory is locked and belongs to one configuration (``sweep-config.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from ..baseline import BASELINE_DIR
from ..errors import ConfigError
from ..executors import check_executor
from ..progress import Progress
from ..runconfig import RunConfig, SweepSection, resolve_names
from ..storage import default_store, directory_lock
from ..workunits import RECIPE_DIR
from .record import SweepInfo, run_name

SWEEP_CONFIG_FILE = "sweep-config.json"
RUNS_DIR = "runs"
Executor = Literal["local", "ray"]


@dataclass(frozen=True)
class SweepOutcome:
    summary_path: Path
    index_html: Path
    failures: tuple[str, ...]        # "fold1-seed0: prune-80: ..." (variants refused in a run)
    failed_units: tuple[str, ...]    # units that failed on the executor (computed again in their run)


def resolve_runs(config: RunConfig, folds: tuple[int, ...] | Literal["all"] | None = None,
                 seeds: tuple[int, ...] | None = None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The sweep's folds and seeds: arguments over the config's ``[sweep]`` table; "all" and every
    fold number checked against the corpus's fold groups (a ``ConfigError`` naming the key)."""
    section = config.sweep or SweepSection()
    try:  # the same checks as the config file's table (distinct, non-negative, not empty)
        section = SweepSection(folds=folds if folds is not None else section.folds,
                               seeds=seeds if seeds is not None else section.seeds)
    except ValueError as e:
        raise ConfigError(str(e).splitlines()[-1].strip(), key="--folds/--seeds") from None
    groups = fold_groups(config)
    chosen = tuple(range(len(groups))) if section.folds == "all" else section.folds
    out_of_range = [f for f in chosen if f >= len(groups)]
    if out_of_range:
        raise ConfigError(f"fold(s) {out_of_range} out of range: corpus {config.data.dataset!r} has "
                          f"{len(groups)} folds (0..{len(groups) - 1})", key="sweep.folds")
    return chosen, section.seeds or (config.seed,)


def fold_groups(config: RunConfig) -> tuple[str, ...]:
    """The corpus's fold groups (speakers, sessions, synthetic speaker pairs): fold k holds out the k-th."""
    from ..data import load_corpus

    return load_corpus(config.data.dataset, config.data.data_dir, config.data.corpus_options()).groups


def sweep(config: RunConfig, out_dir: str | Path, *, folds: tuple[int, ...] | Literal["all"] | None = None,
          seeds: tuple[int, ...] | None = None, executor: Executor = "local", address: str | None = None,
          workers: int | None = None, store: str | Path | None = None,
          progress: Progress | None = None, run_progress: Progress | None = None) -> SweepOutcome:
    """Run the sweep into ``out_dir``; ``run_progress`` reports inside each run's assembly (default: quiet)."""
    from ..pipeline import claim_directory

    out = Path(out_dir)
    store = Path(store) if store is not None else default_store()
    progress = progress or Progress()
    started = _now()
    # Every name and fold checked before anything is written: a wrong one leaves --out untouched.
    recipes = resolve_names(config.compress.recipes, RECIPE_DIR, "recipe")
    baselines = resolve_names(config.baselines.names, BASELINE_DIR, "baseline")
    check_executor(executor, address)  # Ray missing, a malformed address: refused before --out is touched
    folds, seeds = resolve_runs(config, folds, seeds)
    resolved = config.model_copy(update={"sweep": SweepSection(folds=folds, seeds=seeds)})
    runs = {run_name(f, s): config.for_run(f, s) for f in folds for s in seeds}
    with directory_lock(out):
        claim_directory(out, resolved.model_dump(mode="json"), SWEEP_CONFIG_FILE, "sweep")
        with progress.stage("data", f"{len(folds)} folds x {len(seeds)} seeds"):
            classes = _prepare(runs, progress)
        failed_units = _compute_ahead(runs, recipes, baselines, store, executor, address, workers, progress)
        outputs, failures = _assemble(runs, out, store, progress, run_progress)
        with progress.stage("report"):
            from ..collect import machine, package_versions
            from ..report.sweep import render_sweep_report
            from .aggregate import aggregate

            info = SweepInfo(config_name=config.name, config=resolved.model_dump(mode="json"),
                             dataset=config.data.dataset, classes=classes, folds=folds, seeds=seeds,
                             executor=executor, devices_from=outputs[0].name, package_versions=package_versions(),
                             machine=machine(), timings_s={k: round(v, 1) for k, v in progress.timings.items()},
                             started_at=started, finished_at=_now())
            from ..paper import protocol, published

            dataset = config.data.dataset
            files = render_sweep_report(aggregate(outputs, info, protocol(dataset), published(dataset)), out)
    for f in failures:
        progress.info(f"FAILED {f}")
    progress.info(f"sweep report written to {files.index_html}; {progress.stage_seconds():.0f} s in stages")
    return SweepOutcome(files.summary_json, files.index_html, tuple(failures), tuple(failed_units))


def _prepare(runs: dict[str, RunConfig], progress: Progress) -> tuple[str, ...]:
    """Every run's data, once, in this process: the executor's workers then only read the feature cache."""
    from ..dataset import prepare

    classes: set[tuple[str, ...]] = set()
    for name, cfg in runs.items():
        data = prepare(cfg.data)
        classes.add(data.classes)
        progress.info(f"{name}: test {', '.join(sorted(set(data.test.speakers)))} ({len(data.test)} clips), "
                      f"train {len(data.train)}, val {len(data.val)}")
    if len(classes) != 1:
        raise ConfigError(f"the folds of this corpus do not share one set of classes: {sorted(classes)}")
    return classes.pop()


def _compute_ahead(runs: dict[str, RunConfig], recipes: list[Path], baselines: list[Path], store: Path,
                   executor: Executor, address: str | None, workers: int | None, progress: Progress) -> list[str]:
    """All runs' units through one executor: a unit of one run never waits for another run."""
    from ..executors import open_executor
    from ..parallel import compute_ahead, plan

    units = [u for name, cfg in runs.items() for u in plan(cfg, recipes, baselines, prefix=f"{name}/")]
    with (progress.stage("work units", f"{len(units)} units of {len(runs)} runs on the {executor} executor"),
          open_executor(executor, workers=workers, address=address) as ex):
        return list(compute_ahead(units, store, ex, progress))


def _assemble(runs: dict[str, RunConfig], out: Path, store: Path, progress: Progress,
              run_progress: Progress | None) -> tuple[list[Any], list[str]]:
    """Each run assembled from the store into ``OUT/runs/<name>``; only the first one times and fits devices."""
    from .. import pipeline
    from ..report.summary import Summary
    from .aggregate import RunOutput

    outputs, failures = [], []
    with progress.stage("runs", f"{len(runs)} runs assembled from the store"):
        for i, (name, cfg) in enumerate(runs.items()):
            directory = out / RUNS_DIR / name
            outcome = pipeline.run(cfg, directory, progress=run_progress or Progress(quiet=True), store=store,
                                   workers=1, devices=i == 0)
            failures += [f"{name}: {f}" for f in outcome.failures]
            summary = Summary.load(outcome.summary_path)
            outputs.append(RunOutput(cfg.data.fold, cfg.seed, directory, summary))
            ref = summary.reference()
            progress.info(f"{name}: {len(summary.variants)} entries" + (
                f", {ref.name} UA {100 * ref.accuracy.ua:.1f} %" if ref is not None and ref.accuracy else "")
                + (", sizes, host timing and device fit" if i == 0 else ""))
    return outputs, failures


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
