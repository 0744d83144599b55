"""Per-block precision: the spliced int8 / int16x8 file runs, in each block the precision asked for."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.errors import ArtifactError, RecipeError
from sercompress.export.mixed import int16_compute_blocks, op_blocks, splice
from sercompress.export.runtime import run_tflite
from sercompress.export.tflite import convert_once, to_tflite
from sercompress.profile.tflite_reader import parse_tflite
from sercompress.profile.tflm import arena_usage
from sercompress.storage import atomic_write_bytes

pytestmark = pytest.mark.slow

SHAPE = (20, 12, 1)
BLOCKS = ["first", "second", "classifier"]


@pytest.fixture(scope="module")
def converted():
    """A small two-block conv net (random weights), its calibration and probe batches, both conversions."""
    from sercompress.tf_env import keras

    k = keras()
    k.utils.set_random_seed(1)
    inp = k.Input(shape=SHAPE, name="features")
    x = k.layers.Conv2D(6, (3, 3), padding="same", activation="relu", name="first_conv")(inp)
    x = k.layers.AveragePooling2D((2, 2), name="first_pool")(x)
    x = k.layers.Conv2D(8, (3, 3), padding="same", activation="relu", name="second_conv")(x)
    x = k.layers.GlobalAveragePooling2D(name="second_gap")(x)
    model = k.Model(inp, k.layers.Dense(4, activation="softmax", name="classifier")(x))
    rng = np.random.default_rng(0)
    rep, probe = (rng.normal(size=(16, *SHAPE)).astype(np.float32) for _ in range(2))
    return model, rep, probe, convert_once(model, "int8", rep, int8_io=True), convert_once(model, "int16x8", rep)


def run(tmp_path, name: str, data: bytes, x: np.ndarray) -> np.ndarray:
    return run_tflite(atomic_write_bytes(tmp_path / f"{name}.tflite", data), x)


def compute_dtypes(data: bytes) -> dict[str, str]:
    """Block -> activation dtype of its compute ops (the requantisations left out)."""
    graph = parse_tflite("m.tflite", data)
    return {layer.outputs[0].name.split("/")[1].split("_")[0]: layer.outputs[0].dtype
            for layer in graph.layers if layer.raw_op not in ("QUANTIZE", "DEQUANTIZE", "SOFTMAX")}


def test_the_blocks_are_read_from_the_converter_names(converted):
    int8 = converted[3]
    assert op_blocks(int8) == ["first", "first", "second", "second", "classifier", "classifier"]


def test_all_int8_and_all_int16_give_the_converter_files_outputs(converted, tmp_path):
    _, _, probe, int8, int16 = converted
    assert np.array_equal(run(tmp_path, "m8", splice(int8, int16, []), probe), run(tmp_path, "int8", int8, probe))
    all16 = splice(int8, int16, BLOCKS)
    assert set(compute_dtypes(all16).values()) == {"int16"}
    assert int16_compute_blocks(int8) == set() and int16_compute_blocks(all16) == set(BLOCKS)
    # the int16x8 file quantises its float input in-graph, the mixed one is given int16 (the runtime
    # quantises with the same scale): equal up to a rounding tie, far inside one int8 step (1/256)
    assert np.abs(run(tmp_path, "m16", all16, probe) - run(tmp_path, "int16", int16, probe)).max() < 1e-3


def test_one_int16_block_is_int16_and_the_file_runs_on_tflite_micro(converted, tmp_path):
    model, rep, probe, int8, _ = converted
    mixed = to_tflite(model, "mixed", rep, int16_blocks=["second"])
    assert compute_dtypes(mixed) == {"first": "int8", "second": "int16", "classifier": "int8"}
    graph = parse_tflite("m.tflite", mixed)
    assert [x.raw_op for x in graph.layers].count("QUANTIZE") == 2  # int8 -> int16 -> int8
    assert graph.inputs[0].dtype == "int8"
    path = atomic_write_bytes(tmp_path / "mixed.tflite", mixed)
    assert arena_usage(path).total_bytes > arena_usage(atomic_write_bytes(tmp_path / "i8.tflite", int8)).total_bytes
    expected = model.predict(probe, verbose=0)
    got = run_tflite(path, probe)
    assert np.abs(got - expected).max() < 0.05  # a quantised file, not another model
    first16 = to_tflite(model, "mixed", rep, int16_blocks=["first"])
    assert parse_tflite("m.tflite", first16).inputs[0].dtype == "int16"  # the input in its reader's precision


def test_an_unknown_block_is_named(converted):
    *_, int8, int16 = converted
    with pytest.raises(ArtifactError, match="no block"):
        splice(int8, int16, ["nowhere"])
    with pytest.raises(ValueError, match="int16_blocks"):
        to_tflite(converted[0], "int8", converted[1], int16_blocks=["first"])


def test_a_mixed_recipe_names_its_blocks_and_they_are_checked_against_the_model(converted):
    from sercompress.compress.ptq import Ptq
    from sercompress.compress.recipe import PtqStep

    with pytest.raises(ValueError, match="int16_blocks"):
        PtqStep(mode="mixed")
    with pytest.raises(ValueError, match="int16_blocks"):
        PtqStep(mode="int8", int16_blocks=("first",))
    with pytest.raises(ValueError, match="twice"):
        PtqStep(mode="mixed", int16_blocks=("first", "first"))
    assert Ptq.claims(PtqStep(mode="mixed", int16_blocks=("second",)), converted[0])
    for name in ("lflb9", "features"):  # unknown, or a layer that leaves no operator (the input)
        with pytest.raises(RecipeError, match="not blocks of the model"):
            Ptq.claims(PtqStep(mode="mixed", int16_blocks=(name,)), converted[0])


def test_a_mixed_file_costs_its_int8_layers_as_the_int8_file_and_its_int16_ones_at_the_rate_ratio(converted,
                                                                                                  tmp_path):
    from sercompress.profile import profile_artifact
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.kernel_model import kernel_estimate

    int8, int16 = converted[3:]
    hw = get_hw_profile("stm32l4r5")
    ratio = hw.latency.for_dtype("int8").conv_macs_per_cycle / hw.latency.for_dtype("int16").conv_macs_per_cycle
    files = {"int8": int8, "mixed": splice(int8, int16, ["second"]), "int16x8": int16}
    est = {k: kernel_estimate(profile_artifact(atomic_write_bytes(tmp_path / f"{k}.tflite", v)), hw)
           for k, v in files.items()}
    convs = {k: {x.name.split(";")[-1].split("/")[1]: x for x in e.layers if x.op == "Conv2D"} for k, e in est.items()}
    assert convs["mixed"]["first_conv"].cycles == pytest.approx(convs["int8"]["first_conv"].cycles)
    assert convs["mixed"]["second_conv"].dtype == "int16"
    assert convs["mixed"]["second_conv"].cycles == pytest.approx(ratio * convs["int8"]["second_conv"].cycles)
    # one rule: an int16 layer costs the same in an int16x8 file as in a mixed one
    assert convs["int16x8"]["second_conv"].cycles == pytest.approx(convs["mixed"]["second_conv"].cycles)
    band = est["mixed"].band
    assert "int16 layers" in band.basis and "unvalidated" in band.basis
    assert band.high_ms / est["mixed"].ms > est["int8"].band.high_ms / est["int8"].ms  # wider: the int16 share
