"""One Optuna study per device: NSGA-II over the search space, constrained by the device's budgets.

Why one study per device (not the max over devices): each device has its own
feasible region and its own latency, so one front per device is what an
engineer reads; the candidates are content-addressed variants in the shared
store, so a recipe already trained for one device is reused, not retrained,
when another device's study draws it.

Ranking: the objectives are the exported file's UA on the *validation*
speakers (:mod:`.score`) and its latency per utterance; the test split is
measured and recorded but never ranked by.

Resuming: the study lives in ``OUT/study.journal`` (Optuna's journal storage,
append-only, safe against a kill). A re-run counts the finished trials and
only asks for the missing ones; a trial killed while running is marked failed
and drawn again, and its recipe's variant (or its step checkpoint) is found in
the store. The sampler is seeded; after a resume its draws are not those of an
uninterrupted run (Optuna does not store the sampler's state), but no finished
trial is recomputed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ArtifactError
from ..storage import atomic_write_text
from .candidate import build, portable, train_candidate
from .constraints import assess_file, constraint_values, stream_latency_budget_ms
from .record import CONSTRAINTS, SEARCH_SCHEMA_VERSION, TrialRecord
from .score import require_validation, validation_ua
from .sensitivity import Int16Sensitivity, int16_sensitivity
from .space import SearchSpace, anchors, recipe_text, suggest

DIRECTIONS = ("maximize", "minimize")
#: draws allowed per wanted trial before giving up (the space may hold fewer distinct points)
MAX_DRAWS_PER_TRIAL = 10
RECORD_ATTR = "record"


class Search:
    """Everything a trial needs: the reference, its data, the store and the output directory."""

    def __init__(self, reference: Any, data: Any, space: SearchSpace, out: Path, store: Path,
                 seed: int, progress: Any) -> None:
        from ..compress.window import feature_config_of

        self.reference, self.data, self.space = reference, data, space
        self.out, self.store, self.seed, self.progress = Path(out), Path(store), seed, progress
        require_validation(data)
        fc = feature_config_of(reference, data)
        self.clip_seconds = float(fc.duration_s) if fc is not None else None
        #: measured when a mixed-precision point is first drawn (None: not measured, or given by the space)
        self.sensitivity: Int16Sensitivity | None = None

    def int16_blocks(self) -> tuple[str, ...]:
        """The int16 blocks of mixed candidates: the space's, else measured once on the reference."""
        if self.space.int16_blocks is not None:
            return tuple(self.space.int16_blocks)
        if self.sensitivity is None:
            self.progress.info("search: measuring which blocks gain from int16 activations (once per reference)")
            self.sensitivity = int16_sensitivity(self.reference, self.data, self.store, self.space.mixed_blocks)
            self.progress.info(f"search: mixed candidates compute {'+'.join(self.sensitivity.chosen) or 'nothing'} "
                               f"in int16 (probe error {self.sensitivity.int8_error:.4f} all int8, "
                               f"{self.sensitivity.int16_error:.4f} all int16)")
        return self.sensitivity.chosen

    def storage(self) -> Any:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        self.out.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(self.out / "study.journal")))

    def run(self, hw: Any, n_trials: int, executor: Any = None) -> list[TrialRecord]:
        """Run (or resume) the study of ``hw`` up to ``n_trials`` finished trials; their records.

        Without ``executor`` one candidate is trained at a time in this process; with one
        (``executors.open_executor``: a local pool or Ray), ``executor.slots`` candidates at a time,
        each in a worker (asked of the sampler together, told as they finish).
        """
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # constraints via Trial.set_constraint (Optuna 5 deprecates constraints_func): NSGA-II ranks
        # by constrained domination -- a feasible trial beats any infeasible one, and infeasible ones
        # by their summed violation
        sampler = optuna.samplers.NSGAIISampler(seed=self.seed, population_size=population(n_trials))
        study = optuna.create_study(study_name=study_name(hw.name, self.seed), storage=self.storage(),
                                    sampler=sampler, directions=list(DIRECTIONS), load_if_exists=True)
        _fail_stale(study)
        if not study.trials:
            # NSGA-II's first generation is drawn at random; on a small device most of the space
            # does not fit, and a generation without a feasible member leaves the constrained
            # ranking to creep toward the feasible region. The smallest network at each window
            # anchors the front's feasible end (if none fits, nothing in the space does).
            for params in anchors(self.space, hw, self.clip_seconds)[: max(1, n_trials // 2)]:
                study.enqueue_trial(params)
        finished = _finished(study)
        if len(finished) >= n_trials:
            self.progress.info(f"search {hw.name}: all {n_trials} trial(s) already finished")
        else:
            self.progress.info(f"search {hw.name}: {len(finished)} trial(s) finished, "
                               f"{n_trials - len(finished)} to run")
        seen = {Path(t.user_attrs[RECORD_ATTR]["recipe"]).stem: t.number for t in finished}
        slots = executor.slots if executor is not None else 1
        draws = 0
        while (missing := n_trials - len(_finished(study))) > 0 and draws < MAX_DRAWS_PER_TRIAL * n_trials:
            batch = []
            while len(batch) < min(slots, missing) and draws < MAX_DRAWS_PER_TRIAL * n_trials:
                draws += 1
                trial = study.ask()
                drawn = self.draw(trial, hw, seen)
                if drawn is None:
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    continue
                job = executor.submit(train_candidate, str(drawn[1]), portable(self.reference), str(self.store)) \
                    if executor is not None else None
                batch.append((trial, *drawn, job))
            for trial, params, path, job in batch:
                self.finish(study, trial, hw, params, path, job)
        return [TrialRecord.model_validate(t.user_attrs[RECORD_ATTR]) for t in _finished(study)][:n_trials]

    def draw(self, trial: Any, hw: Any, seen: dict[str, int]) -> tuple[dict[str, Any], Path] | None:
        """The trial's point and its recipe file; None for a candidate drawn before.

        NSGA-II on a small categorical space redraws finished points often; counting those
        as trials would spend the budget on nothing new, so they are pruned (not counted)
        and another point is drawn, up to ``MAX_DRAWS_PER_TRIAL`` draws per trial.
        """
        params = suggest(trial, self.space, hw, self.clip_seconds)
        blocks = self.int16_blocks() if params["precision"] == "mixed" else ()
        if params["precision"] == "mixed" and not blocks:  # no block gains from int16: int16x8 or int8 instead
            return None
        name, text = recipe_text(params, self.space, self.clip_seconds, blocks)
        if name in seen:
            return None
        seen[name] = trial.number
        path = self.out / "trials" / f"{name}.toml"
        if not path.is_file():
            atomic_write_text(path, text)
        return params, path

    def finish(self, study: Any, trial: Any, hw: Any, params: dict[str, Any], path: Path, job: Any) -> None:
        """Train the candidate here (``job`` None) or take the worker's, measure it, tell the study."""
        from optuna.trial import TrialState

        from ..compress.variant import load_variant

        try:
            if job is None:
                result = build(path, self.reference, self.data, self.store, self.progress)
            else:
                directory, error = job.result()
                if error is not None:
                    raise ArtifactError(error, path=path)
                result = load_variant(directory)
            values, record = self.measure(trial, hw, params, path, result)
        except ArtifactError as e:  # a candidate whose file cannot be built or checked: a failed trial
            self.progress.info(f"search {hw.name}: trial {trial.number} failed ({e})")
            study.tell(trial, state=TrialState.FAIL)
            return
        study.tell(trial, values)
        ram = "-" if record.ram_bytes is None else f"{record.ram_bytes / 1024:.0f} KiB"
        self.progress.info(f"search {hw.name}: trial {record.number} ({path.stem}): validation UA "
                           f"{record.val_ua:.3f}, RAM {ram}, {record.verdict}")

    def measure(self, trial: Any, hw: Any, params: dict[str, Any], path: Path,
                result: Any) -> tuple[tuple[float, float], TrialRecord]:
        """Check the candidate's file on ``hw`` and score it on the validation speakers; the trial's
        values and record."""
        artifact = result.directory / result.artifacts["tflite"]
        budget = stream_latency_budget_ms(hw, result.stream)
        device = assess_file(artifact, hw, cache_dir=self.store / "cache", latency_budget_ms=budget)
        val_ua = validation_ua(artifact, result.recipe, self.data, path)
        record = trial_record(trial.number, params, path, result, artifact, device, val_ua, budget)
        trial.set_user_attr(RECORD_ATTR, record.model_dump(mode="json"))
        for name in CONSTRAINTS:
            trial.set_constraint(name, record.constraints[name])
        latency = record.latency_per_utterance_ms
        return (record.val_ua, latency if latency is not None else float("inf")), record


def study_name(hardware: str, seed: int) -> str:
    """One study per device and seed; the record schema is in the name, so a journal written by an
    older search (other record fields) is not resumed into this one (its variants are still reused)."""
    return f"search-v{SEARCH_SCHEMA_VERSION}-{hardware}-seed{seed}"


def trial_record(number: int, params: dict, recipe: Path, result: Any, artifact: Path, device: Any,
                 val_ua: float, latency_budget_ms: float | None) -> TrialRecord:
    windows = result.stream.windows_per_clip if result.stream else 1
    constraints = constraint_values(device)
    ms = device.latency_ms
    return TrialRecord(
        number=number, params=params, recipe=str(recipe), variant_dir=str(result.directory),
        artifact=str(artifact), artifact_sha256=result.artifact_sha256["tflite"],
        val_ua=val_ua, test_ua=float(result.accuracy["tflite"].ua), windows_per_clip=windows,
        latency_ms=ms, latency_high_ms=device.latency_high_ms,
        latency_budget_ms=next((float(c.limit) for c in device.fit.checks if c.name == "latency"
                                and c.limit is not None), latency_budget_ms),
        latency_per_utterance_ms=None if ms is None else ms * windows,
        flash_bytes=device.flash_bytes, ram_bytes=device.ram_bytes, verdict=device.verdict,
        constraints=constraints, feasible=all(v <= 0 for v in constraints.values()))


def population(n_trials: int) -> int:
    """NSGA-II's generation size: the first generation is drawn at random, so keep it a fraction
    of the budget (half, between 2 and 50) to leave room for selection and crossover."""
    return max(2, min(50, n_trials // 2))


def _finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if RECORD_ATTR in t.user_attrs]


def _fail_stale(study: Any) -> None:
    """Trials left RUNNING by a killed search: failed, so they are drawn again (the store keeps their work)."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # no public API for this


def pareto_front(trials: list[TrialRecord]) -> tuple[int, ...]:
    """Feasible trials no other feasible trial beats on both validation UA (higher) and latency per
    utterance (lower)."""
    ok = [t for t in trials if t.feasible and t.latency_per_utterance_ms is not None]

    def dominated(t: TrialRecord) -> bool:
        return any(o.val_ua >= t.val_ua and o.latency_per_utterance_ms <= t.latency_per_utterance_ms
                   and (o.val_ua > t.val_ua or o.latency_per_utterance_ms < t.latency_per_utterance_ms)
                   for o in ok)

    return tuple(sorted(t.number for t in ok if not dominated(t)))


def choose(trials: list[TrialRecord]) -> TrialRecord | None:
    """The feasible trial most accurate on the validation speakers; a tie goes to the lower latency per
    utterance (ties are common: a few validation clips give few distinct UA values)."""
    ok = [t for t in trials if t.feasible]
    if not ok:
        return None
    return min(ok, key=lambda t: (-t.val_ua, t.latency_per_utterance_ms if t.latency_per_utterance_ms is not None
                                  else float("inf"), t.number))
