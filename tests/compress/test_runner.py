"""The variant task end to end on a tiny model: files, parity, accuracy, verification, caching."""

from __future__ import annotations

import io
import json

import pytest

from sercompress.compress import load_recipe, load_variant, run_recipe
from sercompress.errors import ArtifactError, RunError
from sercompress.progress import Progress

pytestmark = pytest.mark.slow

PRUNE = """schema_version = 1
name = "tiny-prune"
[parity]
quantized_min_agreement = 0.5
[[steps]]
type = "prune"
target_sparsity = 0.75
frequency = 1
finetune = { epochs = 1, learning_rate = 1e-3, batch_size = 16 }
"""


PRUNE_CLUSTER = PRUNE.replace('name = "tiny-prune"', 'name = "tiny-prune-cluster"') + """
[[steps]]
type = "cluster"
clusters = 8
preserve_sparsity = true
finetune = { epochs = 1, learning_rate = 1e-3, batch_size = 16 }
"""


def recipe(tmp_path, text):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return load_recipe(path)


def quiet() -> tuple[Progress, io.StringIO]:
    buf = io.StringIO()
    return Progress(stream=buf), buf


@pytest.fixture(scope="module")
def pruned_variant(reference, tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    path = root / "tiny-prune.toml"
    path.write_text(PRUNE)
    return run_recipe(path, reference, root / "out", progress=quiet()[0]), path


def test_variant_has_files_figures_and_a_record(pruned_variant):
    result, path = pruned_variant
    assert result.directory.name.startswith("tiny-prune-") and result.recipe_path == str(path)
    assert set(result.artifacts) == {"tflite", "onnx", "tflite_int8"}
    assert all(p.is_file() and p.parent == result.directory for p in result.paths.values())
    assert (result.directory / "DONE").is_file()
    # accuracy measured on both TFLite files; parity on all three; float export agrees
    assert set(result.accuracy) >= {"tflite", "tflite_int8"}
    assert result.parity["tflite"].top1_agreement >= 0.99
    assert result.parity["onnx"].top1_agreement >= 0.99
    # the files show the pruning; the int8 form is integer
    assert result.verification["tflite"].checks[0].sparsity >= 0.74
    assert result.verification["tflite_int8"].weight_dtypes == ("int8",)
    sizes = result.sizes["tflite"]
    assert 0 < sizes.gzip_bytes < sizes.file_bytes
    assert result.sizes["tflite_int8"].file_bytes < sizes.file_bytes
    assert [(s.type, s.epochs, s.reused) for s in result.steps] == [("prune", 1, False)]
    record = json.loads((result.directory / "variant.json").read_text())
    assert record["artifact_sha256"] == result.artifact_sha256
    assert record["schema_version"] == 2 and "directory" not in record
    assert load_variant(result.directory) == result  # the stored record is the returned one
    # per-clip predictions of each evaluated file, in the record, consistent with its accuracy
    for kind in ("tflite", "tflite_int8"):
        p = result.accuracy[kind].predictions
        assert len(p.clip_ids) == 48 and len(p.probabilities) == 48
        assert sum(a == b for a, b in zip(p.labels, p.predicted)) / 48 == pytest.approx(result.accuracy[kind].wa)
    assert record["accuracy"]["tflite"]["predictions"]["predicted"] == list(result.accuracy["tflite"].predictions.predicted)


def test_rerun_reuses_finished_variant(pruned_variant, reference):
    result, path = pruned_variant
    progress, log = quiet()
    again = run_recipe(path, reference, result.directory.parent, progress=progress)
    assert "reused" in log.getvalue() and "fine-tuning" not in log.getvalue()
    assert again == result


def test_epochs_scale_changes_the_variant_directory(reference, tmp_path):
    from sercompress.compress.runner import variant_key

    r = recipe(tmp_path, PRUNE)
    assert variant_key(r, reference, 1.0, None) != variant_key(r, reference, 0.5, None)
    assert variant_key(r, reference, 1.0, None) == variant_key(r, reference, 1.0, None)


def test_interrupted_variant_resumes_from_step_checkpoint(pruned_variant, reference, tmp_path):
    result, path = pruned_variant
    # simulate a kill after the training step: no variant.json / DONE yet
    (result.directory / "DONE").unlink()
    (result.directory / "variant.json").unlink()
    progress, log = quiet()
    again = run_recipe(path, reference, result.directory.parent, progress=progress)
    assert "steps 1-1 resumed from prune-" in log.getvalue() and "fine-tuning" not in log.getvalue()
    assert again.artifact_sha256["tflite"] == result.artifact_sha256["tflite"]


def test_recipes_share_their_prefix_with_the_same_result(pruned_variant, reference, tmp_path):
    """prune -> cluster reuses the prune checkpoint of the prune recipe, and ends where running it alone does."""
    result, _ = pruned_variant
    chained = recipe(tmp_path, PRUNE_CLUSTER)
    progress, log = quiet()
    shared = run_recipe(chained, reference, result.directory.parent, progress=progress)
    assert "steps 1-1 resumed" in log.getvalue() and "step 1 (prune)" not in log.getvalue()
    assert "step 2 (cluster)" in log.getvalue()
    assert [s.reused for s in shared.steps] == [True, False]
    assert shared.steps[0].key == result.steps[0].key
    progress, log = quiet()
    alone = run_recipe(chained, reference, tmp_path / "alone", progress=progress)
    assert "step 1 (prune)" in log.getvalue()
    assert alone.artifact_sha256["tflite"] == shared.artifact_sha256["tflite"]
    assert alone.accuracy == shared.accuracy


def test_step_keys_are_chain_prefixes(reference, tmp_path):
    from sercompress.compress.runner import step_keys

    alone, chained = recipe(tmp_path, PRUNE), recipe(tmp_path, PRUNE_CLUSTER)
    a, c = step_keys(alone, reference, 1.0, None), step_keys(chained, reference, 1.0, None)
    assert a[0] == c[0] and len(set(c)) == 2
    assert step_keys(chained, reference, 0.5, None)[0] != c[0]


def test_corrupted_variant_is_recomputed(pruned_variant, reference):
    result, path = pruned_variant
    result.path("tflite").write_bytes(b"TFL3 garbage")
    with pytest.raises(ArtifactError, match="sha256"):
        load_variant(result.directory)
    progress, log = quiet()
    again = run_recipe(path, reference, result.directory.parent, progress=progress)
    assert "corrupted" in log.getvalue()
    # TFLite conversion is deterministic (tf2onnx embeds run-specific names, so not ONNX)
    assert again.artifact_sha256["tflite"] == result.artifact_sha256["tflite"]
    assert load_variant(again.directory).artifact_sha256 == again.artifact_sha256


def test_load_variant_refuses_unfinished_directory(tmp_path):
    with pytest.raises(RunError, match="not a finished variant"):
        load_variant(tmp_path)


def test_variant_record_of_another_version_is_recomputed_without_retraining(pruned_variant, reference):
    result, path = pruned_variant
    record = json.loads((result.directory / "variant.json").read_text())
    (result.directory / "variant.json").write_text(json.dumps({**record, "schema_version": 1}))
    with pytest.raises(RunError, match="schema version 1 is not supported"):
        load_variant(result.directory)
    progress, log = quiet()
    again = run_recipe(path, reference, result.directory.parent, progress=progress)
    assert again.directory == result.directory and "fine-tuning" not in log.getvalue()
    assert load_variant(again.directory) == again
