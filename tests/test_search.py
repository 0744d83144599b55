"""`sercompress search`: a tiny real search (Optuna NSGA-II, real fine-tuning, exported int8 files,
the TFLite Micro arena), resumed without new work, the chosen recipe reproduced; the CLI's exit-2 paths."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from sercompress.cli import main
from sercompress.features import FeatureConfig
from sercompress.progress import Progress

from .compress.conftest import FakeReference, tiny_data, tiny_model

#: 16 frames of 8 bins per clip, as the conftest model takes
TINY_FC = FeatureConfig(duration_s=0.256, frame_length=256, frame_step=256, fft_length=256, n_mfcc=8)
TINY_SPACE = """groups = { c1 = ["conv1"], c2 = ["conv2"] }
keep = [0.5, 1.0]
window_seconds = [0.128, 0.256]
hop_fraction = [0.5, 1.0]
precision = ["int8"]
finetune_epochs = 1
batch_size = 16
quantized_min_agreement = 0.5
"""


# --------------------------------------------------------------------------- the CLI's refusals (no TF)

def run_cli(capsys, *argv):
    code = main(["search", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("argv", "words"), [
    (["--hw", "no-such-device"], "unknown hardware profile 'no-such-device'"),
    (["--hw", "nrf52840", "--trials", "0"], "'--trials': must be in 1..1000, got 0"),
    (["--hw", "nrf52840", "--trials", "1001"], "must be in 1..1000"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, tmp_path, argv, words):
    code, err = run_cli(capsys, *argv, "--from", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_directory_that_is_not_a_reference_is_exit_2(capsys, tmp_path):
    code, err = run_cli(capsys, "--hw", "nrf52840", "--from", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 2 and "reference" in err and len(err.strip().splitlines()) == 1


def test_a_bad_space_file_is_exit_2_naming_it(capsys, tmp_path):
    bad = tmp_path / "space.toml"
    bad.write_text("keep = [0.0, 1.5]\n")
    code, err = run_cli(capsys, "--hw", "nrf52840", "--config", str(bad), "--from", str(tmp_path),
                        "--out", str(tmp_path / "out"))
    assert code == 2 and str(bad) in err and "keep" in err


def test_recipes_are_valid_and_a_whole_clip_window_ignores_the_hop(tmp_path):
    from sercompress.compress import load_recipe
    from sercompress.search.space import SearchSpace, recipe_text

    space = SearchSpace()
    params = {"keep_paths": 0.25, "keep_lflb": 0.5, "window_seconds": 1.0, "hop_fraction": 0.5,
              "precision": "int8"}
    name, text = recipe_text(params, space, 3.0)
    (tmp_path / "r.toml").write_text(text)
    r = load_recipe(tmp_path / "r.toml")
    assert r.name == name and r.window.seconds == 1.0 and r.window.hop_seconds == 0.5
    assert r.steps[0].keep == {"path1": 0.25, "path2": 0.25, "path3": 0.25, "lflb1": 0.5, "lflb2": 0.5,
                               "lflb3": 0.5, "lflb4": 0.5}
    whole = [recipe_text({**params, "window_seconds": 3.0, "hop_fraction": h}, space, 3.0) for h in (0.5, 1.0)]
    assert whole[0] == whole[1]  # one variant, not two
    assert recipe_text({**params, "precision": "int16x8"}, space, 3.0)[0] != name
    mixed = recipe_text({**params, "precision": "mixed"}, space, 3.0, ("lflb1", "lflb2"))
    (tmp_path / "m.toml").write_text(mixed[1])
    ptq = load_recipe(tmp_path / "m.toml").ptq
    assert ptq.mode == "mixed" and ptq.int16_blocks == ("lflb1", "lflb2") and mixed[0] not in (name,)
    with pytest.raises(ValueError, match="int16 blocks"):
        recipe_text({**params, "precision": "mixed"}, space, 3.0)


# --------------------------------------------------------------------------- a tiny real search

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sercompress.tf_env import keras
    from sercompress.train import weights_sha256

    data = tiny_data()
    model = tiny_model()
    model.compile(optimizer=keras().optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(data.train.x, data.train.y, batch_size=16, epochs=8, verbose=0)
    windowed = SimpleNamespace(**vars(data), feature_config=TINY_FC)
    ref = FakeReference(tmp_path_factory.mktemp("ref"), model.get_weights(), weights_sha256(model), windowed)
    space_file = tmp_path_factory.mktemp("space") / "space.toml"
    space_file.write_text(TINY_SPACE)
    return ref, space_file


def files_in(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != ".lock"}


@pytest.mark.slow
def test_tiny_search_measures_chooses_resumes_and_reproduces(tiny, tmp_path, capsys):
    import optuna

    from sercompress.compress import run_recipe
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search import load_space, run_search
    from sercompress.search.constraints import assess_file
    from sercompress.storage import sha256_file

    reference, space_file = tiny
    space = load_space(str(space_file))
    hw = get_hw_profile("nrf52840")
    tight = hw.model_copy(update={"name": "tight", "ram_bytes": hw.runtime_ram_bytes + 1024})
    out, store = tmp_path / "out", tmp_path / "store"
    result = run_search(reference, [hw, tight], space, out, store=store, n_trials=3, seed=1,
                        progress=Progress(stream=io.StringIO()))

    nrf, small = result.devices
    assert len(nrf.trials) == 3 and len(small.trials) == 3
    for d in (nrf, small):  # each study starts from the smallest network at each window (half the budget)
        assert d.trials[0].params == {"keep_c1": 0.5, "keep_c2": 0.5, "window_seconds": 0.128,
                                      "hop_fraction": 1.0, "precision": "int8"}
    for t in nrf.trials:  # the constraints are check's figures on the exported file
        device = assess_file(t.artifact, hw)
        assert t.verdict == device.verdict and t.ram_bytes == device.ram_bytes
        assert t.constraints["ram"] == pytest.approx(device.ram_bytes / hw.ram_bytes - 1.0)
        assert t.feasible == (device.verdict == "FITS")
        assert Path(t.recipe).is_file() and t.recipe.startswith(str(out / "trials"))
    assert all(t.feasible for t in nrf.trials)  # a tiny model fits 256 KB
    assert not any(t.feasible for t in small.trials) and all(t.constraints["ram"] > 0 for t in small.trials)
    assert small.chosen is None and small.front == ()
    chosen = next(t for t in nrf.trials if t.number == nrf.chosen)
    assert chosen.val_ua == max(t.val_ua for t in nrf.trials) and nrf.chosen in nrf.front
    for t in nrf.trials:  # ranked on the validation speakers, streamed as the runner streams the test clips
        from sercompress.compress import load_recipe
        from sercompress.search.score import validation_ua

        assert t.val_ua == validation_ua(t.artifact, load_recipe(t.recipe), reference.data(), t.recipe)
        if t.windows_per_clip > 1:  # a streamed candidate keeps up with its hop
            assert t.latency_budget_ms <= float(t.params["window_seconds"]) * 1000
    assert "nrf52840: FITS" in nrf.check and (out / "nrf52840" / "check.txt").read_text() == nrf.check
    chosen_file = out / "nrf52840" / "chosen" / Path(chosen.artifact).name
    capsys.readouterr()
    command = nrf.check_command.split()
    assert command[:4] == ["sercompress", "check", "--hw", "nrf52840"] and command[-1] == str(chosen_file)
    assert main(command[1:]) == 0
    assert capsys.readouterr().out == nrf.check  # exactly what `check` prints
    journal = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / "study.journal")))
    stored = optuna.load_study(study_name="search-v2-tight-seed1", storage=journal).trials
    complete = [t for t in stored if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3 and all(t.constraints["ram"] > 0 for t in complete)  # what NSGA-II ranks by
    assert len({t.recipe for t in nrf.trials}) == 3  # a redrawn candidate is pruned, not counted
    k = nrf.comparison
    assert k is not None and k.low <= k.ua_difference <= k.high and k.control.startswith("float32@1ep")
    r = nrf.vs_reference  # the chosen file against the reference as trained, on the same clips
    assert r is not None and r.low <= r.ua_difference <= r.high and r.control.startswith("float32 (the reference")
    assert r.ua_difference == pytest.approx(chosen.test_ua - r.control_ua)
    assert (out / "search.json").is_file() and "## nrf52840" in (out / "search.md").read_text()
    page = (out / "index.html").read_text()  # the HTML report: a figure per device, the choice, the misfit
    assert page.count("<img ") == 2 and f"Chosen: trial {nrf.chosen}" in page and "No trial fits tight" in page
    assert chosen_file.read_bytes() == Path(chosen.artifact).read_bytes()

    # a re-run with the same seed and --trials: the journal has every trial; nothing is computed
    before = files_in(store)
    log = io.StringIO()
    again = run_search(reference, [hw, tight], space, out, store=store, n_trials=3, seed=1,
                       progress=Progress(stream=log))
    assert files_in(store) == before
    assert "all 3 trial(s) already finished" in log.getvalue() and "fine-tuning" not in log.getvalue()
    assert [t.artifact_sha256 for t in again.devices[0].trials] == [t.artifact_sha256 for t in nrf.trials]

    # the written recipe reproduces the chosen file from scratch (a fresh store: retrained)
    fresh = run_recipe(out / "nrf52840" / "chosen-recipe.toml", reference, tmp_path / "fresh",
                       data=reference.data(), progress=Progress(stream=io.StringIO()))
    assert sha256_file(fresh.path("tflite")) == chosen.artifact_sha256


@pytest.mark.slow
def test_mixed_candidates_compute_int16_in_the_blocks_measured_to_gain(tiny, tmp_path, monkeypatch):
    from sercompress.compress import load_recipe
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.tflite_reader import parse_tflite
    from sercompress.search import load_space, run_search, sensitivity

    reference, space_file = tiny
    space = load_space(str(space_file)).model_copy(update={"precision": ("mixed",), "mixed_blocks": 1})
    store = tmp_path / "store"
    result = run_search(reference, [get_hw_profile("nrf52840")], space, tmp_path / "out", store=store,
                        n_trials=1, seed=0, progress=Progress(stream=io.StringIO()))
    m = result.int16_sensitivity
    assert m is not None and {b.block for b in m.blocks} == {"conv1", "pool1", "conv2", "gap", "classifier"}
    assert [b.error for b in m.blocks] == sorted(b.error for b in m.blocks)
    gaining = [b.block for b in m.blocks if b.error < m.int8_error]
    assert m.chosen == tuple(gaining[:1]) == result.int16_blocks and m.chosen, "no block of the tiny net gains"
    trial = result.devices[0].trials[0]
    assert load_recipe(trial.recipe).ptq.int16_blocks == m.chosen
    graph = parse_tflite("m.tflite", Path(trial.artifact).read_bytes())
    int16_blocks = {layer.outputs[0].name.split(";")[-1].split("/")[1] for layer in graph.layers
                     if layer.raw_op not in ("QUANTIZE", "SOFTMAX") and layer.outputs[0].dtype == "int16"}
    assert int16_blocks == set(m.chosen)  # what the file computes in int16 is what was chosen
    monkeypatch.setattr(sensitivity, "measure", lambda *a: pytest.fail("measured again"))
    resumed = run_search(reference, [get_hw_profile("nrf52840")], space, tmp_path / "out", store=store,
                         n_trials=1, seed=0, progress=Progress(stream=io.StringIO()))
    assert resumed.int16_sensitivity == m  # nothing drawn on resuming, the record still has the measurement
    again = sensitivity.int16_sensitivity(reference, reference.data(), store, 2)  # read from the store
    assert again.blocks == m.blocks and again.chosen == tuple(gaining[:2])
    for cached in (store / "sensitivity").glob("*.json"):  # a corrupted cache is measured again, no traceback
        cached.write_text("{not json")
    monkeypatch.setattr(sensitivity, "measure", lambda *a: m)
    assert sensitivity.int16_sensitivity(reference, reference.data(), store, 1).blocks == m.blocks


@pytest.mark.slow
def test_candidates_trained_in_worker_processes_are_the_files_this_process_trains(tiny, tmp_path):
    """The executor path: two candidates at a time in a spawn pool, the study told as they finish."""
    from sercompress.compress import load_recipe, run_recipe
    from sercompress.executors import local_executor
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search import load_space, run_search
    from sercompress.search.score import validation_ua
    from sercompress.storage import sha256_file

    reference, space_file = tiny
    executor = local_executor(2)
    try:
        result = run_search(reference, [get_hw_profile("nrf52840")], load_space(str(space_file)), tmp_path / "out",
                            store=tmp_path / "store", n_trials=2, seed=3, progress=Progress(stream=io.StringIO()),
                            executor=executor)
    finally:
        executor.shutdown()
    trials = result.devices[0].trials
    assert len(trials) == 2 and len({t.recipe for t in trials}) == 2 and result.devices[0].chosen is not None
    for t in trials:  # the worker's file, measured here
        assert sha256_file(t.artifact) == t.artifact_sha256 and t.variant_dir.startswith(str(tmp_path / "store"))
        assert t.val_ua == validation_ua(t.artifact, load_recipe(t.recipe), reference.data(), t.recipe)
    # the same recipe trained here (two TensorFlow threads, not the worker's one: the float sums
    # differ in order, so the bytes may too) gives the same graph and nearly the same accuracy
    here = run_recipe(trials[0].recipe, reference, tmp_path / "here", data=reference.data(),
                      progress=Progress(stream=io.StringIO()))
    assert here.path("tflite").stat().st_size == Path(trials[0].artifact).stat().st_size
    assert abs(here.accuracy["tflite"].ua - trials[0].test_ua) <= 0.1


def test_a_trial_left_running_by_a_kill_is_failed_and_not_counted(tmp_path):
    import optuna
    from optuna.trial import TrialState

    from sercompress.search.study import RECORD_ATTR, _fail_stale, _finished

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j")))
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize"])
    done = study.ask()
    done.set_user_attr(RECORD_ATTR, {})
    study.tell(done, (0.5, 1.0))
    study.ask()  # the process dies here: the trial stays RUNNING in the journal
    again = optuna.load_study(study_name="s", storage=storage)
    _fail_stale(again)
    assert [t.state for t in again.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert len(_finished(again)) == 1


def trial(number: int, val_ua: float, test_ua: float, ms: float = 10.0, feasible: bool = True):
    from sercompress.search.record import TrialRecord

    return TrialRecord(number=number, params={}, recipe="r.toml", variant_dir="v", artifact="a.tflite",
                       artifact_sha256="0" * 64, val_ua=val_ua, test_ua=test_ua, windows_per_clip=1,
                       latency_ms=ms, latency_high_ms=ms, latency_budget_ms=3000.0, latency_per_utterance_ms=ms,
                       flash_bytes=1, ram_bytes=1, verdict="FITS" if feasible else "DOES NOT FIT",
                       constraints={}, feasible=feasible)


def test_the_choice_and_the_front_never_look_at_the_test_split():
    from sercompress.search.study import choose, pareto_front

    trials = [trial(0, 0.60, 0.90), trial(1, 0.80, 0.50), trial(2, 0.95, 0.99, feasible=False),
              trial(3, 0.80, 0.70, ms=5.0)]
    assert choose(trials).number == 3  # best validation UA, then lower latency; not the best test UA
    assert pareto_front(trials) == (3,)
    swapped = [t.model_copy(update={"test_ua": 1.0 - t.test_ua}) for t in trials]
    assert choose(swapped).number == 3 and pareto_front(swapped) == (3,)


@pytest.mark.parametrize(("hop_s", "windows", "budget", "expected"), [
    (None, 1, 3000.0, None),          # a whole-clip file: the profile's own budget
    (0.5, 5, 3000.0, 500.0),          # keeping up with the hop is the tighter
    (1.0, 3, 1500.0, 500.0),          # the utterance's share of the budget is the tighter
    (0.25, 9, None, 250.0),           # no budget: the stream still has to keep up
])
def test_a_streamed_candidate_gets_a_per_inference_share_of_the_budget(hop_s, windows, budget, expected):
    from sercompress.compress.window import StreamInfo
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search.constraints import stream_latency_budget_ms

    hw = get_hw_profile("nrf52840").model_copy(update={"latency_budget_ms": budget})
    stream = None if hop_s is None else StreamInfo(seconds=1.0, hop_seconds=hop_s, frames=60, hop_frames=30,
                                                   clip_frames=184, windows_per_clip=windows)
    assert stream_latency_budget_ms(hw, stream) == expected


def test_a_reference_without_validation_speakers_is_refused():
    from sercompress.errors import ConfigError
    from sercompress.search.score import require_validation

    empty = SimpleNamespace(val=SimpleNamespace(y=[]))
    with pytest.raises(ConfigError, match="val_speakers"):
        require_validation(empty)


def test_the_anchors_are_the_smallest_network_at_every_window_that_fits_the_clip():
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search.space import SearchSpace, anchors

    space = SearchSpace()
    points = anchors(space, get_hw_profile("nrf52840"), 2.0)  # 3 s windows do not fit 2 s clips
    assert [p["window_seconds"] for p in points] == [1.0, 1.5, 2.0]
    assert all(p["keep_paths"] == p["keep_lflb"] == 0.25 and p["hop_fraction"] == 1.0 and p["precision"] == "int8"
               for p in points)
    only16 = space.model_copy(update={"precision": ("int16x8",)})
    assert {p["precision"] for p in anchors(only16, get_hw_profile("nrf52840"), 3.0)} == {"int16x8"}


def test_weight_sharing_is_offered_only_where_the_toolchain_stores_it_smaller(tmp_path):
    from sercompress.compress import load_recipe
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.search.space import SearchSpace, recipe_text

    space = SearchSpace()
    assert space.sharing_for(get_hw_profile("nrf52840")) == ("none",)
    assert space.sharing_for(get_hw_profile("ethos-u55-128")) == ("none", "cluster16", "prune50")
    params = {"keep_paths": 0.5, "keep_lflb": 0.5, "window_seconds": 3.0, "hop_fraction": 1.0, "precision": "int8"}
    plain = recipe_text(params, space, 3.0)
    assert recipe_text({**params, "weight_sharing": "none"}, space, 3.0) == plain  # the same variant
    for sharing, step in (("cluster16", "cluster"), ("prune50", "prune")):
        name, text = recipe_text({**params, "weight_sharing": sharing}, space, 3.0)
        (tmp_path / f"{name}.toml").write_text(text)
        recipe = load_recipe(tmp_path / f"{name}.toml")
        assert name != plain[0] and [s.type for s in recipe.steps] == ["prune_channels", step, "window", "ptq"]
        assert recipe.steps[1].finetune.learning_rate == 1e-4 and recipe.steps[1].finetune.epochs == 3
    with pytest.raises(ValueError, match="weight_sharing"):
        SearchSpace(weight_sharing=("cluster4",))
