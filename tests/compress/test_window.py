"""The window step: schema and refusals, frames and pooling, the exact weight copy, streamed
evaluation on a tiny model end to end, and the real Light-SERNet's TFLite Micro arena at 1 s."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sercompress.compress import load_recipe, run_recipe
from sercompress.compress.window import Windows, clip_windows, plan, silence_frame
from sercompress.errors import RecipeError
from sercompress.features import FeatureConfig, compute_features

from .conftest import CLASSES, SHAPE, tiny_model

WINDOWED = """schema_version = 1
name = "tiny-window"
[parity]
quantized_min_agreement = 0.5
[[steps]]
type = "window"
seconds = {seconds}
hop_seconds = {hop}
[[steps]]
type = "ptq"
mode = "int8"
int8_io = true
"""
#: tiny clips: 16 frames of 8 bins, one frame per 256 samples (SHAPE of the conftest model)
TINY_FC = FeatureConfig(duration_s=0.256, frame_length=256, frame_step=256, fft_length=256, n_mfcc=8)


def write(tmp_path, text, name="recipe.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- schema, refusals

@pytest.mark.parametrize(("seconds", "hop", "key", "words"), [
    (0.0, 0.5, "steps.0.window.seconds", "greater than 0"),
    (-1.0, 0.5, "steps.0.window.seconds", "greater than 0"),
    (1.0, 0.0, "steps.0.window.hop_seconds", "greater than 0"),
    (1.0, 1.5, "steps.0", "must not exceed seconds"),
])
def test_bad_windows_refused_at_load_naming_the_file(tmp_path, seconds, hop, key, words):
    path = write(tmp_path, WINDOWED.format(seconds=seconds, hop=hop))
    with pytest.raises(RecipeError) as e:
        load_recipe(path)
    assert e.value.path == path and e.value.key == key and words in e.value.message


def test_window_must_be_the_last_step_before_ptq(tmp_path):
    text = WINDOWED.format(seconds=1.0, hop=0.5).replace('type = "ptq"\nmode = "int8"\nint8_io = true',
                                                          'type = "prune"\ntarget_sparsity = 0.5')
    with pytest.raises(RecipeError, match="only ptq may follow window") as e:
        load_recipe(write(tmp_path, text))
    assert e.value.path is not None


def test_window_longer_than_the_clips_refused_before_any_work(tmp_path):
    path = write(tmp_path, WINDOWED.format(seconds=3.5, hop=0.5))
    recipe = load_recipe(path)  # valid on its own: the clips' duration is the data's
    with pytest.raises(RecipeError, match="longer than the clips") as e:
        clip_windows(recipe, FeatureConfig(duration_s=3.0), path)
    assert (e.value.path, e.value.key) == (path, "steps.0.seconds")
    out = tmp_path / "out"
    data = SimpleNamespace(feature_config=FeatureConfig(duration_s=3.0))
    with pytest.raises(RecipeError, match="longer than the clips") as e:  # the runner: before any file
        run_recipe(path, SimpleNamespace(), out, data=data)
    assert e.value.path == path and not out.exists()


def test_search_recipe_loads_and_stays_out_of_the_default_run():
    from sercompress.compress import shipped_recipes
    from sercompress.compress.recipe import RECIPE_DIR
    from sercompress.runconfig import resolve_names

    path = RECIPE_DIR / "search" / "window-1s-int8.toml"
    recipe = load_recipe(path)
    assert (recipe.window.seconds, recipe.window.hop, recipe.ptq.mode) == (1.0, 0.5, "int8")
    assert path not in resolve_names(("all",), RECIPE_DIR, "recipe")  # the 10-minute default run
    assert recipe.name not in shipped_recipes()


# --------------------------------------------------------------------------- frames, cutting, pooling

def test_frames_and_hop_from_the_feature_config():
    fc = FeatureConfig(duration_s=3.0)  # 184 frames of 256 samples at 16 kHz
    w = plan(load_step(1.0, 0.5), fc)
    assert (w.frames, w.hop) == (59, 31)  # n_frames(16000); round(8000 / 256)
    assert w.starts(184) == (0, 31, 62, 93, 124, 125)  # the last aligned to the clip's end
    assert plan(load_step(1.5, 1.5), fc).starts(184) == (0, 94)  # 90 frames; 94 + 90 = 184
    whole = plan(load_step(3.0, 3.0), fc)
    assert whole.frames == 184 and whole.starts(184) == (0,)
    info = w.info(184, 1.0, fc.frame_step, fc.sample_rate)
    assert (info.windows_per_clip, info.hop_seconds) == (6, 0.496)


def load_step(seconds, hop):
    from sercompress.compress.recipe import WindowStep

    return WindowStep(seconds=seconds, hop_seconds=hop)


def test_cut_and_pool_are_clip_major_and_average_the_scores():
    w = Windows(frames=4, hop=3)
    x = np.arange(2 * 10 * 3, dtype=np.float32).reshape(2, 10, 3, 1)
    cut = w.cut(x)
    assert w.starts(10) == (0, 3, 6)
    assert cut.shape == (6, 4, 3, 1)
    np.testing.assert_array_equal(cut[4], x[1, 3:7])  # clip 1, second window
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=6).astype(np.float32)
    np.testing.assert_allclose(w.pool(probs, 2), [probs[:3].mean(0), probs[3:].mean(0)], rtol=1e-6)
    with pytest.raises(ValueError):
        w.pool(probs[:5], 2)
    np.testing.assert_array_equal(Windows().cut(x), x)  # no window: whole clips, unchanged
    assert Windows().pool(probs, 6) is not None and Windows().pool(probs, 6).shape == (6, 4)


def test_a_clip_shorter_than_a_window_is_padded_with_the_features_of_silence():
    fc = FeatureConfig(duration_s=1.0)
    clip = compute_features([np.random.default_rng(1).normal(size=8000).astype(np.float32)],
                            FeatureConfig(duration_s=0.5))[..., None]  # 28 frames
    w = plan(load_step(1.0, 0.5), fc)
    cut = w.cut(clip)
    assert cut.shape == (1, 59, 40, 1)
    np.testing.assert_array_equal(cut[0, :28], clip[0])
    # frames after the audio: what fit_length's zeros give, far from the clip's end
    zeros = compute_features([np.zeros(16000, np.float32)], fc)
    np.testing.assert_allclose(cut[0, 40:, :, 0], zeros[0, 40:], atol=1e-5)
    np.testing.assert_allclose(silence_frame(fc), zeros[0, 0], atol=1e-5)


# --------------------------------------------------------------------------- the model at a window

def test_rebuilt_model_has_the_same_weights_and_computes_what_the_old_one_does():
    from sercompress.compress.window import at_window
    from sercompress.tf_env import tf

    old = tiny_model(seed=3)
    new = at_window(old, 8)
    assert new.input_shape == (None, 8, *SHAPE[1:]) and new.input_names == old.input_names
    assert all(np.array_equal(a, b) for a, b in zip(old.get_weights(), new.get_weights(), strict=True))
    x = np.random.default_rng(0).normal(size=(5, 8, *SHAPE[1:])).astype(np.float32)
    # the old model's own graph on the same 8 frames (its input spec would refuse the call)
    expected = old._run_internal_graph(tf().constant(x), training=False).numpy()
    np.testing.assert_array_equal(new(x, training=False).numpy(), expected)


def test_a_model_that_is_not_fully_convolutional_is_refused():
    from sercompress.compress.window import at_window
    from sercompress.tf_env import keras

    k = keras()
    inp = k.Input(shape=SHAPE)
    model = k.Model(inp, k.layers.Dense(4)(k.layers.Flatten()(inp)))
    with pytest.raises(RecipeError, match="fully convolutional"):
        at_window(model, 8)


# --------------------------------------------------------------------------- streamed evaluation

@pytest.mark.slow
def test_streamed_variant_pools_the_artifacts_window_scores(reference, data, tmp_path):
    from sercompress.export.runtime import run_artifact
    from sercompress.metrics import classification_metrics

    windowed_data = SimpleNamespace(**vars(data), feature_config=TINY_FC)
    path = write(tmp_path, WINDOWED.format(seconds=0.128, hop=0.064))  # 8 frames, hop 4: 3 per clip
    result = run_recipe(path, reference, tmp_path / "out", data=windowed_data)
    stream = result.stream
    assert (stream.frames, stream.hop_frames, stream.windows_per_clip, stream.clip_frames) == (8, 4, 3, 16)
    x = data.test.x
    windows = np.concatenate([x[:, None, s:s + 8] for s in (0, 4, 8)], axis=1).reshape(-1, 8, *SHAPE[1:])
    acc = result.accuracy["tflite"]
    probs = run_artifact(result.path("tflite"), windows)  # the file takes one window
    pooled = probs.reshape(len(x), 3, len(CLASSES)).mean(1)
    assert acc.predictions.predicted == tuple(int(c) for c in pooled.argmax(-1))
    assert acc.ua == classification_metrics(data.test.y, pooled.argmax(-1), CLASSES).ua
    assert len(acc.predictions.clip_ids) == len(x)  # per clip: pairable with a whole-clip control
    assert result.parity["tflite"].clips == 3 * len(x)  # parity per window
    assert set(result.artifacts) == {"tflite", "onnx"}  # int8 main file: no second int8 form
    assert result.recipe.window.seconds == 0.128


# --------------------------------------------------------------------------- the real network

@pytest.mark.slow
def test_light_sernet_int8_arena_at_1s_is_well_below_3s(tmp_path):
    """Measured with TFLite Micro on the real architecture (weights random: the arena depends on
    shapes only); 3 s: 184 x 40 frames, about 424 KB; 1 s: 59 frames."""
    from sercompress.compress.window import at_window
    from sercompress.export.tflite import to_tflite
    from sercompress.models.lightsernet import light_sernet_from_shape
    from sercompress.profile import measured_arena, profile_artifact

    full = light_sernet_from_shape((184, 40, 1), 4)
    rng = np.random.default_rng(0)
    arenas = {}
    for frames, model in ((184, full), (59, at_window(full, 59))):
        rep = rng.normal(size=(4, frames, 40, 1)).astype(np.float32)
        path = tmp_path / f"ls-{frames}.tflite"
        path.write_bytes(to_tflite(model, "int8", rep, int8_io=True))
        static = measured_arena(profile_artifact(path))
        assert static.tflm is not None, static.tflm_error
        arenas[frames] = static.tflm.total_bytes
    print(f"TFLite Micro arena: 3 s {arenas[184]:,} B, 1 s {arenas[59]:,} B")
    assert 380_000 < arenas[184] < 470_000
    assert arenas[59] < 0.45 * arenas[184]


# --------------------------------------------------------------------------- the report

def test_report_rows_give_the_latency_per_window_and_per_utterance():
    from sercompress.report.tables import CSV_COLUMNS, variant_rows
    from tests.report.conftest import make_summary

    summary = make_summary()
    streamed = summary.variants[1].model_copy(update={"windows_per_clip": 6})
    summary = summary.model_copy(update={"variants": (summary.variants[0], streamed, *summary.variants[2:])})
    rows = [r for r in variant_rows(summary) if r["variant"] == streamed.name and r["latency_ms"]]
    assert rows and {"windows_per_clip", "utterance_latency_ms"} <= set(CSV_COLUMNS)
    for r in rows:
        assert r["windows_per_clip"] == 6 and r["utterance_latency_ms"] == pytest.approx(6 * r["latency_ms"])
    whole = [r for r in variant_rows(summary) if r["variant"] == summary.variants[0].name and r["latency_ms"]]
    assert all(r["utterance_latency_ms"] == r["latency_ms"] for r in whole)
