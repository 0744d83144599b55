"""``sercompress search`` end to end: studies, fronts, the chosen variant, its control and its files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..storage import atomic_write_bytes, atomic_write_text
from .constraints import assess_file, check_command, check_text
from .record import SEARCH_FILE, ControlComparison, DeviceSearch, SearchResult, TrialRecord
from .space import SearchSpace
from .study import Search, choose, pareto_front


def run_search(reference: Any, hardware: list[Any], space: SearchSpace, out: str | Path, *,
               store: str | Path | None = None, n_trials: int = 20, seed: int = 0,
               data: Any = None, progress: Any = None, executor: Any = None) -> SearchResult:
    """Search every device in ``hardware``; write ``OUT/search.json``, ``OUT/search.md``, ``OUT/index.html``
    and the choices.

    ``executor`` (``executors.open_executor``): candidates trained in its workers, ``slots`` at a
    time; None: one at a time in this process.
    """
    from ..progress import Progress

    t0 = time.perf_counter()
    out = Path(out)
    store = Path(store) if store is not None else out / "store"
    progress = progress or Progress()
    data = data if data is not None else reference.data()
    search = Search(reference, data, space, out, store, seed, progress)
    devices = []
    for hw in hardware:
        trials = search.run(hw, n_trials, executor)
        devices.append(device_result(search, hw, trials, single=len(hardware) == 1))
    if any(t.params.get("precision") == "mixed" for d in devices for t in d.trials):
        search.int16_blocks()  # a resumed study drew nothing new: the record still says why those blocks
    result = SearchResult(reference=str(reference.run_dir), seed=seed, n_trials=n_trials,
                          sampler="optuna NSGAIISampler (constraints via Trial.set_constraint), one study per device",
                          validation_clips=len(data.val.y), devices=tuple(devices),
                          wall_time_s=round(time.perf_counter() - t0, 1),
                          int16_blocks=tuple(space.int16_blocks or (search.sensitivity.chosen if search.sensitivity
                                                                    else ())),
                          int16_sensitivity=search.sensitivity)
    write_search_files(result, out)
    return result


def write_search_files(result: SearchResult, out: Path, record: bool = True) -> list[Path]:
    """``OUT/search.json`` (unless ``record`` is False: re-rendering), ``search.md`` and ``index.html``."""
    from ..records import write_record
    from ..report.search import SEARCH_HTML, search_html

    page, text = search_html(result), markdown(result)  # rendered before any write: no half output
    written = [write_record(out / SEARCH_FILE, result)] if record else []
    return [*written, atomic_write_text(out / "search.md", text), atomic_write_text(out / SEARCH_HTML, page)]


def device_result(search: Search, hw: Any, trials: list[TrialRecord], single: bool) -> DeviceSearch:
    chosen = choose(trials)
    base = DeviceSearch(hardware=hw.name, trials=tuple(trials), front=pareto_front(trials),
                        chosen=None if chosen is None else chosen.number)
    if chosen is None:
        search.progress.info(f"search {hw.name}: no feasible candidate in {len(trials)} trial(s)")
        return base
    ddir = search.out / hw.name
    recipe_bytes = Path(chosen.recipe).read_bytes()
    atomic_write_bytes(ddir / "chosen-recipe.toml", recipe_bytes)
    if single:
        atomic_write_bytes(search.out / "chosen-recipe.toml", recipe_bytes)
    vdir = Path(chosen.variant_dir)
    for f in sorted(vdir.iterdir()):
        if f.is_file() and f.suffix in (".tflite", ".onnx", ".json"):
            atomic_write_bytes(ddir / "chosen" / f.name, f.read_bytes())
    chosen_file = ddir / "chosen" / Path(chosen.artifact).name
    budget = chosen.latency_budget_ms if chosen.windows_per_clip > 1 else None
    text = check_text(assess_file(chosen_file, hw, cache_dir=search.store / "cache", latency_budget_ms=budget), hw)
    atomic_write_text(ddir / "check.txt", text)
    return base.model_copy(update={"chosen_recipe": str(ddir / "chosen-recipe.toml"),
                                   "check_command": check_command(hw, chosen_file, budget), "check": text,
                                   "comparison": compare_with_control(search, chosen),
                                   "vs_reference": compare_with_reference(search, chosen)})


def compare_with_control(search: Search, chosen: TrialRecord) -> ControlComparison | None:
    """The paired test-split UA difference to the float control fine-tuned with the chosen recipe's budget
    (the test clips judge the chosen variant once; the study never ranked by them)."""
    from ..compress import load_recipe
    from ..compress.control import recipe_budget, run_controls

    budget = recipe_budget(load_recipe(chosen.recipe))
    if budget is None or budget.epochs == 0:
        return None
    control = run_controls([budget], search.reference, search.data, search.store / "variants",
                           search.store / "steps", search.progress)[budget]
    return paired(control, chosen, budget.name)


def compare_with_reference(search: Search, chosen: TrialRecord) -> ControlComparison | None:
    """The paired test-split UA difference to the reference as trained, exported as float32.

    The same-budget control isolates the cost of compression, but a search's fine-tuning rate
    can move the float model itself (at the former 6 epochs x 1e-3 the float control lost 6 points),
    so the user also sees the chosen file against the model they have today.
    """
    from ..compress import run_recipe
    from ..compress.recipe import RECIPE_DIR

    reference = run_recipe(RECIPE_DIR / "float32.toml", search.reference, search.store / "variants",
                           data=search.data, progress=search.progress, steps_dir=search.store / "steps")
    return paired(reference, chosen, "float32 (the reference as trained)")


def paired(control: Any, chosen: TrialRecord, name: str) -> ControlComparison | None:
    """``chosen``'s test UA minus ``control``'s (a ``VariantResult``), paired on the same clips."""
    from ..compress.variant import load_variant
    from ..stats import paired_difference

    a = control.accuracy["tflite"].predictions
    b = load_variant(Path(chosen.variant_dir)).accuracy["tflite"].predictions
    if a is None or b is None or not a.same_clips(b):
        return None
    d = paired_difference(b.labels, a.predicted, b.predicted, b.n_classes, b.speakers)
    return ControlComparison(control=name, control_ua=float(control.accuracy["tflite"].ua),
                             ua_difference=d.value, low=d.low, high=d.high, level=d.level,
                             unit=str(d.unit), significant=bool(d.significant))


def markdown(result: SearchResult) -> str:
    lines = [f"# sercompress search ({result.n_trials} trials per device, seed {result.seed})", "",
             f"Reference: `{result.reference}`. Sampler: {result.sampler}. Wall time {result.wall_time_s:.0f} s.",
             "Every figure is measured on the candidate's exported .tflite (`check`'s path). The study "
             f"ranks and chooses by UA on the validation speakers ({result.validation_clips} clips); "
             "the test UA is reported, never ranked by. A streamed candidate's latency budget per "
             "inference is min(hop, device budget / windows per clip).", ""]
    lines += _mixed_lines(result)
    for d in result.devices:
        lines += [f"## {d.hardware}", "", f"{sum(t.feasible for t in d.trials)} of {len(d.trials)} trials fit.",
                  "", "Pareto front (feasible; validation UA up, latency per utterance down):", "",
                  "| trial | params | val UA | test UA | latency/utt. ms | windows | budget/inf. ms | RAM KiB "
                  "| flash KiB | verdict |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        by_number = {t.number: t for t in d.trials}
        lines += [_row(by_number[n]) for n in d.front] or ["| (none) | | | | | | | | | |"]
        if d.chosen is not None:
            c = by_number[d.chosen]
            lines += ["", f"Chosen: trial {c.number} (`{d.chosen_recipe}`), validation UA {c.val_ua:.3f}, "
                          f"test UA {c.test_ua:.3f}."]
            for what, k in (("the same-budget float control", d.comparison), ("the reference", d.vs_reference)):
                if k is not None:
                    lines.append(f"Paired test-UA difference to {what} ({k.control}, UA {k.control_ua:.3f}): "
                                 f"{k.ua_difference:+.3f} [{k.low:+.3f}, {k.high:+.3f}] ({k.level:.0%}, "
                                 f"resampling {k.unit}){' significant' if k.significant else ''}.")
            lines += ["", "```", f"$ {d.check_command}", (d.check or "").rstrip(), "```"]
        lines.append("")
    return "\n".join(lines)


def _mixed_lines(result: SearchResult) -> list[str]:
    """Which blocks the mixed-precision candidates compute in int16, and the measurement behind it."""
    m = result.int16_sensitivity
    if m is None:
        return [f"Mixed-precision candidates: int16 in {'+'.join(result.int16_blocks)} (given by the space).", ""] \
            if result.int16_blocks else []
    rows = [f"| {b.block} | {b.error:.4f} |" for b in m.blocks]
    head = (f"Mixed-precision candidates: int16 in {'+'.join(m.chosen) or '(none: no block gains)'}, int8 "
            f"elsewhere. Chosen by the reference's error with one block in int16: mean |p - p_float| on "
            f"{m.probe_clips} training clips (all int8 {m.int8_error:.4f}, all int16 {m.int16_error:.4f}):")
    return [head, "", "| int16 block | error |", "|---|---|", *rows, ""]


def _row(t: TrialRecord) -> str:
    params = ", ".join(f"{k}={v}" for k, v in t.params.items())
    lat = "-" if t.latency_per_utterance_ms is None else f"{t.latency_per_utterance_ms:.4g}"
    kib = (lambda b: "-" if b is None else f"{b / 1024:.0f}")
    budget = "-" if t.latency_budget_ms is None else f"{t.latency_budget_ms:.4g}"
    return (f"| {t.number} | {params} | {t.val_ua:.3f} | {t.test_ua:.3f} | {lat} | {t.windows_per_clip} | "
            f"{budget} | {kib(t.ram_bytes)} | {kib(t.flash_bytes)} | {t.verdict} |")
