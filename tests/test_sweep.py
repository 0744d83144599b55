"""`sercompress sweep`: the aggregation across folds and seeds, its record, report and gate, the CLI.

The aggregation is tested on hand-made run summaries (no training); one tiny real sweep (two
folds of a four-speaker synthetic corpus, 1-second clips, one epoch) runs end to end, and a
second sweep over the same store must compute nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sercompress import stats
from sercompress.cli import main
from sercompress.errors import RunError, SummaryError
from sercompress.metrics import classification_metrics
from sercompress.predictions import ClipPredictions
from sercompress.report.summary import MachineInfo, RunInfo, Summary
from sercompress.report.sweep import fold_grid, sweep_html, sweep_markdown
from sercompress.report.sweep_compare import compare_sweeps
from sercompress.sweep.aggregate import RunOutput, aggregate
from sercompress.sweep.record import Spread, SweepInfo, SweepSummary

from .report.conftest import PROFILES, variant

CLASSES = ("angry", "happy", "neutral", "sad")
N_CLIPS = 200


# --------------------------------------------------------------------------- hand-made runs

def _accuracy(fold: int, n_wrong: int, seed: int = 0):
    """Fold ``fold``'s 200 test clips (4 speakers); ``n_wrong`` of them, drawn from ``seed``, predicted wrong."""
    y = np.arange(N_CLIPS) % 4
    pred = y.copy()
    wrong = np.random.default_rng([fold, seed, n_wrong]).permutation(N_CLIPS)[:n_wrong]
    pred[wrong] = (y[wrong] + 1) % 4
    p = ClipPredictions.from_arrays([f"spk{fold}/c{i:03d}.wav" for i in range(N_CLIPS)],
                                    [f"s{fold}{i % 4}" for i in range(N_CLIPS)], y, np.eye(4)[pred])
    return classification_metrics(y, pred, CLASSES).model_copy(update={"predictions": p})


#: entry -> (family, dtype, extra fields); wrong clips per fold below
ENTRIES = {
    "float32": ("reference", "float32", {}),
    "ptq-int8": ("compressed", "int8", {"recipe": "ptq-int8", "control": "float32"}),
    "prune-50": ("compressed", "int8", {"recipe": "prune-50", "control": "float32@1ep"}),
    "float32@1ep": ("control", "float32", {"recipe": "control-1ep"}),
}


def _run(tmp_path: Path, fold: int, wrong: dict[str, int], seed: int = 0, gzip: int = 400_000) -> RunOutput:
    """A run directory holding a summary of the four entries and a file per entry (hashed by the sweep)."""
    directory = tmp_path / f"fold{fold}-seed{seed}"
    entries = []
    for name, (family, dtype, kw) in ENTRIES.items():
        v = variant(name, family, dtype, 0.5, gzip, 100_000, 100.0, **kw)
        entries.append(v.model_copy(update={"accuracy": _accuracy(fold, wrong[name], seed)}))
        (directory / v.artifact.path).parent.mkdir(parents=True, exist_ok=True)
        (directory / v.artifact.path).write_bytes(f"{name} {fold} {seed}".encode())
    run = RunInfo(config_name="unit", dataset="synthetic", classes=CLASSES, seed=seed, fold=fold,
                  machine=MachineInfo(cpu_model="test cpu", cores=2))
    return RunOutput(fold, seed, directory, Summary(run=run, profiles=PROFILES, variants=tuple(entries)))


def _info(folds=(0, 1), seeds=(0,)) -> SweepInfo:
    return SweepInfo(config_name="unit", dataset="synthetic", classes=CLASSES, folds=folds, seeds=seeds,
                     devices_from="fold0-seed0", machine=MachineInfo(cpu_model="test cpu", cores=2))


#: prune-50 loses ~10 points against its control in both folds; ptq-int8 is float32 within a clip or two
WRONG = ({"float32": 60, "ptq-int8": 61, "prune-50": 70, "float32@1ep": 50},
         {"float32": 80, "ptq-int8": 80, "prune-50": 92, "float32@1ep": 72})


@pytest.fixture
def sweep_summary(tmp_path) -> SweepSummary:
    return aggregate([_run(tmp_path, f, WRONG[f]) for f in (0, 1)], _info())


# --------------------------------------------------------------------------- statistics

def test_spread_is_mean_and_sample_sd():
    s = Spread.of([0.70, 0.80, 0.75])
    assert s.mean == pytest.approx(0.75) and s.sd == pytest.approx(0.05) and (s.low, s.high, s.n) == (0.70, 0.80, 3)
    assert Spread.of([0.7]).sd is None


def test_pooled_difference_of_one_run_is_the_paired_difference():
    a, b = _accuracy(0, 60).predictions, _accuracy(0, 75).predictions
    one = stats.pooled_paired_difference([stats.PairedStratum(a.labels, a.speakers, [(a.predicted, b.predicted)])], 4)
    assert one == stats.paired_difference(a.labels, a.predicted, b.predicted, 4, a.speakers)


def test_pooled_difference_is_the_mean_over_runs_and_seeds_of_a_fold_are_drawn_alike():
    runs = [(_accuracy(f, WRONG[f]["float32@1ep"]).predictions, _accuracy(f, WRONG[f]["prune-50"]).predictions)
            for f in (0, 1)]
    strata = [stats.PairedStratum(c.labels, c.speakers, [(c.predicted, p.predicted)]) for c, p in runs]
    d = stats.pooled_paired_difference(strata, 4)
    per_run = [stats.paired_difference(c.labels, c.predicted, p.predicted, 4).value for c, p in runs]
    assert d.value == pytest.approx(np.mean(per_run)) and d.significant and d.high < 0
    assert d.mcnemar is not None and d.mcnemar.b >= 20
    # the same run listed twice as two seeds of one fold: the same draw, so the same interval (no McNemar:
    # a clip tested twice is not an independent pair)
    twice = stats.pooled_paired_difference([stats.PairedStratum(s.labels, s.speakers, [*s.pairs, *s.pairs])
                                            for s in strata], 4)
    assert (twice.value, twice.low, twice.high) == pytest.approx((d.value, d.low, d.high))
    assert twice.mcnemar is None


# --------------------------------------------------------------------------- aggregation

def test_aggregate_gives_each_entry_its_spread_and_pooled_differences(sweep_summary):
    s = sweep_summary
    pruned = s.entry("prune-50")
    uas = [1 - WRONG[f]["prune-50"] / N_CLIPS for f in (0, 1)]
    assert pruned.ua.mean == pytest.approx(np.mean(uas)) and pruned.ua.sd == pytest.approx(np.std(uas, ddof=1))
    assert [r.run for r in pruned.runs] == ["fold0-seed0", "fold1-seed0"]
    assert pruned.vs_control.against == "float32@1ep" and pruned.vs_control.runs == 2
    assert pruned.vs_control.value == pytest.approx(pruned.ua.mean - s.entry("float32@1ep").ua.mean)
    assert pruned.vs_control.significant and pruned.vs_control.high < 0
    ptq = s.entry("ptq-int8")
    assert ptq.vs_control.against == "float32" and not ptq.vs_control.significant
    assert s.entry("float32").vs_reference is None and s.entry("float32@1ep").vs_reference.against == "float32"
    # deployment figures come from the first run, which the record names
    assert s.sweep.devices_from == "fold0-seed0" and pruned.fits and pruned.sizes.gzip_bytes == 400_000
    assert fold_grid(s)[1][2] == ["prune-50", "65.0", "54.0"]


def test_file_sizes_that_differ_between_folds_are_refused(tmp_path):
    runs = [_run(tmp_path, 0, WRONG[0]), _run(tmp_path, 1, WRONG[1], gzip=500_000)]
    with pytest.raises(RunError, match="bytes in different runs"):
        aggregate(runs, _info())


def test_seeds_of_one_fold_must_have_tested_the_same_clips(tmp_path):
    a, b = _run(tmp_path, 0, WRONG[0]), _run(tmp_path, 1, WRONG[1], seed=1)
    with pytest.raises(RunError, match="other clips"):
        aggregate([a, RunOutput(0, 1, b.directory, b.summary)], _info(folds=(0,), seeds=(0, 1)))


# --------------------------------------------------------------------------- the record and its report

def test_the_record_round_trips_and_is_checked_against_its_predictions(sweep_summary, tmp_path):
    path = sweep_summary.save(tmp_path / "sweep-summary.json")
    assert SweepSummary.load(path) == sweep_summary
    data = json.loads(path.read_text())
    data["entries"][2]["runs"][0]["ua"] = 0.99  # a figure its predictions contradict
    with pytest.raises(SummaryError, match="ua"):
        SweepSummary.from_dict(data, path)
    data = json.loads(path.read_text())
    data["entries"][0]["runs"][1]["predicted"] = data["entries"][0]["runs"][1]["predicted"][:-1]
    with pytest.raises(SummaryError, match="predictions for"):
        SweepSummary.from_dict(data, path)
    with pytest.raises(SummaryError, match="schema version"):
        SweepSummary.from_dict({**json.loads(path.read_text()), "schema_version": 2}, path)


def test_report_shows_cross_validation_per_fold_and_fit(sweep_summary):
    md, page = sweep_markdown(sweep_summary), sweep_html(sweep_summary)
    for text in (md, page):
        assert "Cross-validation" in text and "UA % per fold" in text and "Device fit (run fold0-seed0)" in text
        assert "runs/fold1-seed0/index.html" in text
    row = next(line for line in md.splitlines() if line.startswith("| prune-50 |"))
    assert "65.0 ± " not in row and "59.5 ± 7.8" in row and "worse vs `float32@1ep`" in row
    assert "<script" not in page


def test_the_papers_figures_stand_beside_ours_with_the_protocol_differences(sweep_summary):
    from sercompress.paper import PROTOCOLS, PublishedResult

    plain = sweep_markdown(sweep_summary)
    assert "paper" not in plain.lower()  # a corpus without the paper's protocol: no such section
    figure = PublishedResult(dataset="emodb", setting="EMO-DB, 7 classes, 3 s", ua=91.23, source="test table",
                             differences=("a difference of this figure",))
    s = sweep_summary.model_copy(update={"paper": PROTOCOLS["emodb"], "published": (figure,)})
    md = sweep_markdown(s)
    assert "| test table | EMO-DB, 7 classes, 3 s | 91.23 | not recorded | not recorded |" in md
    assert "| this sweep: `float32`, 2 folds x 1 seed(s) |" in md
    assert "- a difference of this figure" in md and PROTOCOLS["emodb"].differences[0] in md
    assert SweepSummary.model_validate_json(s.to_json()) == s
    assert "not recorded (sercompress.paper.PUBLISHED)" in sweep_markdown(s.model_copy(update={"published": ()}))


# --------------------------------------------------------------------------- compare

def test_compare_two_sweeps_pairs_their_runs(sweep_summary, tmp_path, capsys):
    ref = sweep_summary.save(tmp_path / "ref" / "sweep-summary.json")
    assert compare_sweeps(sweep_summary, sweep_summary).ok
    worse = dict(WRONG[0], **{"prune-50": 110}), dict(WRONG[1], **{"prune-50": 130})
    cand = aggregate([_run(tmp_path / "c", f, worse[f]) for f in (0, 1)], _info())
    cand_path = cand.save(tmp_path / "cand" / "sweep-summary.json")
    assert main(["compare", str(cand_path.parent), "--against", str(ref)]) == 1
    out = capsys.readouterr().out
    assert "prune-50" in out and "mean_ua_pct" in out and "REGRESSION" in out and "2 common run(s)" in out


def test_compare_refuses_a_sweep_against_a_single_run(sweep_summary, tmp_path, capsys):
    sweep_path = sweep_summary.save(tmp_path / "s" / "sweep-summary.json")
    run_path = _run(tmp_path, 0, WRONG[0]).summary.save(tmp_path / "summary.json")
    assert main(["compare", str(run_path), "--against", str(sweep_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot compare a sweep summary" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_comparing_and_rerendering_sweeps_never_imports_tensorflow(sweep_summary, tmp_path):
    import subprocess
    import sys

    path = sweep_summary.save(tmp_path / "sweep-summary.json")
    code = ("import sys\nfrom sercompress.cli import main\n"
            f"rc = main(['compare', {str(path)!r}, '--against', {str(path)!r}])\n"
            f"rc += main(['report', {str(tmp_path)!r}])\n"
            "print([m for m in ('tensorflow', 'tf_keras') if m in sys.modules], rc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[] 0"
    assert "Cross-validation" in (tmp_path / "index.html").read_text() and (tmp_path / "sweep-summary.md").is_file()


def test_compare_refuses_sweeps_without_common_runs(sweep_summary, tmp_path):
    other = aggregate([_run(tmp_path, 0, WRONG[0], seed=3)], _info(folds=(0,), seeds=(3,)))
    with pytest.raises(SummaryError, match="share no"):
        compare_sweeps(other, sweep_summary)


# --------------------------------------------------------------------------- CLI

TINY = """schema_version = 1
name = "tiny-sweep"
seed = 0

[data]
dataset = "synthetic"
duration_s = 1.0
synthetic_speakers = 4
synthetic_per_emotion = 3
val_speakers = 1
cache_dir = "{cache}"

[train]
epochs = 1
learning_rate = 0.001

[compress]
recipes = ["float32", "ptq-int8", "prune-50"]
epochs_scale = 0.25

[baselines]
names = []

[profiles]
hardware = ["nrf52840", "host"]
host_runs = 50
host_warmup = 1

[sweep]
folds = [0, 1]
seeds = [0]
"""


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(cache=tmp_path / "cache"))
    return path


@pytest.mark.parametrize("args, message", [
    (["--folds", "0,x"], "--folds"),
    (["--folds", "0,0"], "--folds"),
    (["--seeds", "-1"], "--seeds"),
    (["--folds", "2"], "fold(s) [2] out of range: corpus 'synthetic' has 2 folds"),
    (["--address", "auto"], "--executor ray"),
    (["--workers", "0"], "--workers"),
])
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(tiny_config, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:  # argparse's own errors exit through SystemExit
        code = main(["sweep", "--config", str(tiny_config), "--out", str(out), *args])
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_a_config_with_a_bad_sweep_table_names_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.format(cache=tmp_path / "cache").replace("folds = [0, 1]", "folds = [0, 0]"))
    assert main(["sweep", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sweep.folds" in err and "repeats" in err and str(path) in err


# --------------------------------------------------------------------------- a real tiny sweep

def _store_entries(store: Path) -> dict[str, float]:
    """Every finished unit in the store (its DONE marker or checkpoint) and when it was written."""
    from sercompress.storage import DONE_MARKER

    found = [*store.rglob(DONE_MARKER), *(store / "steps").glob("*.weights.h5")]
    return {str(p.relative_to(store)): p.stat().st_mtime for p in found}


def _same_figures(a: SweepSummary, b: SweepSummary) -> None:
    """Same entries, files (sha256), per-clip predictions, figures and pooled differences; host timing
    (and the host device's measured latency) aside, which is measured again in another store."""
    assert a.folds == b.folds and [e.name for e in a.entries] == [e.name for e in b.entries]
    keep = {"host_latency", "fits"}
    for x, y in zip(a.entries, b.entries):
        assert x.model_dump(exclude=keep) == y.model_dump(exclude=keep), x.name


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """The tiny config swept over its 2 folds x 1 seed with the local executor, in a store of its own."""
    from types import SimpleNamespace

    from sercompress.progress import Progress
    from sercompress.runconfig import load_run_config
    from sercompress.sweep.execute import sweep

    root = tmp_path_factory.mktemp("tiny-sweep")
    path = root / "tiny.toml"
    path.write_text(TINY.format(cache=root / "cache"))
    config = load_run_config(path)
    outcome = sweep(config, root / "local", store=root / "store", progress=Progress(quiet=True))
    return SimpleNamespace(root=root, config=config, store=root / "store", outcome=outcome,
                           summary=SweepSummary.load(outcome.summary_path))


@pytest.mark.slow
def test_a_tiny_local_sweep_end_to_end(tiny_sweep):
    s, out = tiny_sweep.summary, tiny_sweep.root / "local"
    assert tiny_sweep.outcome.failures == () and tiny_sweep.outcome.failed_units == ()
    assert s.sweep.folds == (0, 1) and s.sweep.seeds == (0,) and s.sweep.executor == "local"
    assert {"float32", "ptq-int8", "prune-50", "prune-50+int8"} <= {e.name for e in s.entries}
    assert all(e.ua.n == 2 and [r.run for r in e.runs] == ["fold0-seed0", "fold1-seed0"] for e in s.entries)
    pruned = s.entry("prune-50")
    assert pruned.vs_control is not None and pruned.vs_control.against.startswith("float32@")
    assert pruned.vs_control.runs == 2 and pruned.vs_control.low <= pruned.vs_control.value <= pruned.vs_control.high
    assert s.entry("ptq-int8").vs_control.against == "float32"
    # each run is a complete run directory; only the first one was timed and assessed on the devices
    first, second = (Summary.load(out / "runs" / n / "summary.json") for n in ("fold0-seed0", "fold1-seed0"))
    assert (first.run.fold, second.run.fold) == (0, 1) and (out / "runs" / "fold1-seed0" / "index.html").is_file()
    assert all(v.fits and v.host_latency for v in first.variants)
    assert all(not v.fits and not v.host_latency for v in second.variants) and not second.profiles
    assert {p.name for p in s.profiles} == {"nrf52840", "host"} and all(len(e.fits) == 2 for e in s.entries)
    page = (out / "index.html").read_text()
    assert "Cross-validation" in page and "UA % per fold" in page and "runs/fold1-seed0/index.html" in page
    assert json.loads((out / "sweep-config.json").read_text())["sweep"] == {"folds": [0, 1], "seeds": [0]}


@pytest.mark.slow
def test_a_second_sweep_over_the_same_store_computes_nothing(tiny_sweep):
    from sercompress.progress import Progress
    from sercompress.sweep.execute import sweep

    before = _store_entries(tiny_sweep.store)
    outcome = sweep(tiny_sweep.config, tiny_sweep.root / "again", store=tiny_sweep.store, progress=Progress(quiet=True))
    assert _store_entries(tiny_sweep.store) == before  # no unit computed, nothing rewritten
    again = SweepSummary.load(outcome.summary_path)
    _same_figures(again, tiny_sweep.summary)
    assert again.entries == tiny_sweep.summary.entries  # the first run's assessments came from the store too
    # what a sweep killed while assembling its runs leaves: a run without its summary, no sweep summary;
    # the same command again finishes it from the store
    (tiny_sweep.root / "again" / "runs" / "fold1-seed0" / "summary.json").unlink()
    outcome.summary_path.unlink()
    sweep(tiny_sweep.config, tiny_sweep.root / "again", store=tiny_sweep.store, progress=Progress(quiet=True))
    assert SweepSummary.load(outcome.summary_path).entries == again.entries
    assert _store_entries(tiny_sweep.store) == before
    # a directory holding a sweep of another configuration is refused
    with pytest.raises(RunError, match="different configuration"):
        sweep(tiny_sweep.config, tiny_sweep.root / "again", folds=(1,), store=tiny_sweep.store,
              progress=Progress(quiet=True))


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance of 2 CPUs for the module (starting one costs seconds)."""
    pytest.importorskip("ray", reason="the Ray executor's tests need the [ray] extra (make test installs it)")
    from sercompress.executors import start_local_ray

    ray = start_local_ray(cpus=2)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_the_ray_executor_gives_the_local_executors_summary(tiny_sweep, ray_instance):
    """The same sweep with --executor ray, into a store of its own: the same files, predictions and figures."""
    from sercompress.progress import Progress
    from sercompress.sweep.execute import sweep

    outcome = sweep(tiny_sweep.config, tiny_sweep.root / "ray", executor="ray", store=tiny_sweep.root / "ray-store",
                    progress=Progress(quiet=True))
    assert outcome.failures == () and outcome.failed_units == ()
    s = SweepSummary.load(outcome.summary_path)
    assert s.sweep.executor == "ray" and _store_entries(tiny_sweep.root / "ray-store")
    _same_figures(s, tiny_sweep.summary)
