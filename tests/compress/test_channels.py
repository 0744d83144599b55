"""Channel pruning: recipe checks, an exact copy, correct channel bookkeeping, and what the file shows.

The shape, MAC and arena checks use the real Light-SERNet (untrained: weights do not change
shapes, MACs or the arena), converted to int8 and read back with the profiler and TFLite
Micro; the runner test uses the tiny conftest model.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from sercompress.cli import main
from sercompress.compress import load_recipe, run_recipe
from sercompress.compress.recipe import ChannelPruneStep
from sercompress.errors import RecipeError
from sercompress.progress import Progress

HEAD = 'schema_version = 1\nname = "ch"\n'
STEP = '[[steps]]\ntype = "prune_channels"\n'
BLOCKS = ("path1", "path2", "path3", "lflb1", "lflb2", "lflb3", "lflb4", "head")
SHAPE = (184, 40, 1)


def write(tmp_path, body: str):
    path = tmp_path / "ch.toml"
    path.write_text(HEAD + body)
    return path


# --------------------------------------------------------------------------- recipe (no TensorFlow)

def test_keep_as_one_ratio_or_per_block(tmp_path):
    one = load_recipe(write(tmp_path, STEP + "keep = 0.5\n")).steps[0]
    assert isinstance(one, ChannelPruneStep) and one.ratio_for("lflb2", "lflb2_conv") == 0.5
    per = load_recipe(write(tmp_path, STEP + "keep = { lflb2 = 0.25, head_conv = 0.75 }\n")).steps[0]
    assert per.ratio_for("lflb2", "lflb2_conv") == 0.25 and per.ratio_for("head", "head_conv") == 0.75
    assert per.ratio_for("lflb1", "lflb1_conv") == 1.0  # not named: kept whole


@pytest.mark.parametrize("keep", ["0", "1.5", "-0.5", "true", '"half"', "{}", "{ lflb1 = 0 }",
                                  "{ lflb1 = 2 }"])
def test_bad_keep_is_one_error_naming_the_file(tmp_path, keep):
    path = write(tmp_path, STEP + f"keep = {keep}\n")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert err.value.path == path and err.value.key == "steps.0.keep", str(err.value)
    assert "(0, 1]" in err.value.message or "names no block" in err.value.message, str(err.value)


def test_bad_keep_through_the_cli_is_exit_2(tmp_path, capsys):
    path = write(tmp_path, STEP + "keep = 0\n")
    code = main(["compress", "--recipe", str(path), "--from", str(tmp_path / "none"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and "(0, 1]" in err and len(err.strip().splitlines()) == 1


def test_prune_channels_must_be_the_first_step(tmp_path):
    path = write(tmp_path, '[[steps]]\ntype = "prune"\ntarget_sparsity = 0.5\n' + STEP + "keep = 0.5\n")
    with pytest.raises(RecipeError, match="must be the first step"):
        load_recipe(path)


def test_kept_counts_round_and_respect_the_multiple():
    from sercompress.compress.channels import kept_count

    assert [kept_count(32, r) for r in (1.0, 0.5, 0.3, 0.01)] == [32, 16, 10, 1]
    assert kept_count(96, 0.3, multiple=8) == 32 and kept_count(20, 0.99, multiple=8) == 20


def test_shipped_search_recipes_validate():
    from sercompress.compress.recipe import RECIPE_DIR, shipped_recipes

    files = sorted((RECIPE_DIR / "search").glob("*.toml"))
    assert files and not {p.stem for p in files} & set(shipped_recipes())  # not in the default run
    channels = [p for p in files if p.stem.startswith("channels-")]
    assert channels and all(load_recipe(p).steps[0].type == "prune_channels" for p in channels)


# --------------------------------------------------------------------------- Keras models

def light_sernet(seed: int = 0):
    """Untrained Light-SERNet with random BatchNorm parameters (so the ranking is not all ties)."""
    from sercompress.models.lightsernet import light_sernet_from_shape
    from sercompress.tf_env import keras

    keras().utils.set_random_seed(seed)
    model = light_sernet_from_shape(SHAPE, 4)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.1, 2, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.1, beta.shape).astype(np.float32),
                               rng.normal(0, 0.1, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 2, var.shape).astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def lsn():
    return light_sernet()


@pytest.fixture(scope="module")
def features():
    return np.random.default_rng(1).normal(size=(2, *SHAPE)).astype(np.float32)


def test_keep_one_copies_the_model_exactly(lsn, features):
    from sercompress.compress.channels import plan_channels, shrink

    copy = shrink(lsn, plan_channels(lsn, ChannelPruneStep(keep=1.0)))
    assert copy is not lsn and copy.count_params() == lsn.count_params()
    assert np.array_equal(copy(features, training=False).numpy(), lsn(features, training=False).numpy())


def test_pruned_model_computes_the_original_with_the_dropped_channels_silenced(lsn, features):
    """Zeroing a dropped channel's BN gamma and beta makes it output 0 everywhere after it, so the
    original model with those channels silenced must equal the smaller model: any index mixed up in
    a conv, BN, the concatenation or the classifier would break this."""
    from sercompress.compress.channels import plan_channels, shrink

    step = ChannelPruneStep(keep={"path1": 0.5, "path3": 0.25, "lflb1": 0.5, "lflb3": 0.75, "head": 0.5})
    plan = plan_channels(lsn, step)
    small = shrink(lsn, plan)
    silenced = light_sernet()
    for conv, kept in plan.kept.items():
        bn = silenced.get_layer(conv.replace("_conv", "_bn"))
        gamma, beta, mean, var = bn.get_weights()
        drop = np.setdiff1d(np.arange(gamma.size), kept)
        gamma[drop], beta[drop] = 0.0, 0.0
        bn.set_weights([gamma, beta, mean, var])
        # bn_gamma ranking: every kept channel's |gamma| is at least every dropped one's
        g = np.abs(lsn.get_layer(conv.replace("_conv", "_bn")).get_weights()[0])
        assert drop.size == 0 or g[list(kept)].min() >= g[drop].max()
    assert plan.counts() == {"path1_conv": 16, "path2_conv": 32, "path3_conv": 8, "lflb1_conv": 32,
                             "lflb2_conv": 96, "lflb3_conv": 96, "lflb4_conv": 160, "head_conv": 160}
    assert small.get_layer("lflb1_conv").get_weights()[0].shape == (3, 3, 16 + 32 + 8, 32)
    assert small.get_layer("classifier").get_weights()[0].shape == (160, 4)
    np.testing.assert_allclose(small(features, training=False).numpy(),
                               silenced(features, training=False).numpy(), rtol=1e-4, atol=1e-6)


def test_unknown_block_names_are_refused_with_the_known_ones(lsn):
    from sercompress.compress.channels import ChannelPrune

    with pytest.raises(RecipeError) as err:
        ChannelPrune.claims(ChannelPruneStep(keep={"lflb9": 0.5, "lflb1": 0.5}), lsn)
    assert "lflb9" in err.value.message and all(b in err.value.message for b in BLOCKS)


# --------------------------------------------------------------------------- the exported file

def conv_channels(profile) -> list[int]:
    return [layer.output_shapes[0][-1] for layer in profile.layers if layer.op == "Conv2D"]


def expected_macs(model) -> int:
    """Conv and classifier MACs from the Keras shapes (the profile also counts pooling windows)."""
    total = 0
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            kh, kw, cin, cout = layer.get_weights()[0].shape
            _, h, w, _ = layer.output_shape
            total += h * w * kh * kw * cin * cout
        elif type(layer).__name__ == "Dense":
            total += int(np.prod(layer.get_weights()[0].shape))
    return total


@pytest.mark.slow
def test_int8_file_is_narrower_cheaper_and_needs_a_smaller_arena(lsn, features, tmp_path):
    from sercompress.compress.channels import ChannelPrune, plan_channels, shrink
    from sercompress.errors import ArtifactError
    from sercompress.export.tflite import to_tflite
    from sercompress.export.types import Claim
    from sercompress.export.verify import verify_tflite
    from sercompress.profile import measured_arena, profile_artifact

    step = ChannelPruneStep(keep=0.5)
    small = shrink(lsn, plan_channels(lsn, step))
    rep = np.random.default_rng(2).normal(size=(4, *SHAPE)).astype(np.float32)
    profiles = {}
    for name, model in (("full", lsn), ("half", small)):
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(to_tflite(model, "int8", rep, int8_io=True))
        profiles[name] = measured_arena(profile_artifact(path))
    full, half = profiles["full"], profiles["half"]
    assert conv_channels(full) == [32, 32, 32, 64, 96, 128, 160, 320]
    assert conv_channels(half) == [16, 16, 16, 32, 48, 64, 80, 160]
    for model, prof in ((lsn, full), (small, half)):
        assert sum(layer.macs for layer in prof.layers if layer.op in ("Conv2D", "FullyConnected")) \
            == expected_macs(model)
    assert half.macs < 0.3 * full.macs  # both sides of most convs halve: about a quarter
    assert half.params < 0.3 * full.params and half.file_bytes < 0.4 * full.file_bytes
    assert full.tflm is not None and half.tflm is not None, (full.tflm_error, half.tflm_error)
    assert half.tflm.total_bytes < full.tflm.total_bytes
    verify_tflite(half.path, ChannelPrune.claims(step, lsn))  # the claim the runner checks holds
    with pytest.raises(ArtifactError, match="output channels"):
        verify_tflite(full.path, ChannelPrune.claims(step, lsn))
    with pytest.raises(ArtifactError, match="output channels"):
        verify_tflite(half.path, [Claim(output_channels=32, layers=("lflb1_conv",)), Claim(output_channels=999)])


# --------------------------------------------------------------------------- the runner

RECIPE = HEAD.replace('"ch"', '"tiny-channels"') + """[parity]
quantized_min_agreement = 0.5
""" + STEP + """keep = { conv1 = 0.5, conv2 = 0.25 }
finetune = { epochs = 1, learning_rate = 1e-3, batch_size = 16 }
"""


@pytest.mark.slow
def test_runner_prunes_fine_tunes_verifies_and_resumes(reference, tmp_path):
    path = tmp_path / "tiny-channels.toml"
    path.write_text(RECIPE)
    out = tmp_path / "out"
    result = run_recipe(path, reference, out, progress=Progress(stream=io.StringIO()))
    shapes = [k.shape for k in result.verification["tflite_int8"].kernels]
    assert shapes[0][0] == 8 and shapes[1][0] == 8 and shapes[1][-1] == 8 and shapes[2] == (4, 8)
    assert all(c.claim.output_channels for c in result.verification["tflite"].checks)
    # interrupted after the step: the checkpoint (of the smaller shape) is loaded, not retrained
    (result.directory / "DONE").unlink()
    buf = io.StringIO()
    again = run_recipe(path, reference, out, progress=Progress(stream=buf))
    assert "resumed from prune_channels-" in buf.getvalue() and again.steps[0].reused
    assert again.accuracy["tflite"].ua == result.accuracy["tflite"].ua


@pytest.mark.slow
def test_runner_refuses_unknown_blocks_naming_the_recipe_file(reference, tmp_path):
    path = tmp_path / "bad-blocks.toml"
    path.write_text(RECIPE.replace("conv2 = 0.25", "lflb2 = 0.25"))
    with pytest.raises(RecipeError) as err:
        run_recipe(path, reference, tmp_path / "out", progress=Progress(stream=io.StringIO()))
    assert err.value.path == path and "lflb2" in err.value.message and "conv1" in err.value.message
    assert not (tmp_path / "out").exists()  # refused before anything was written
