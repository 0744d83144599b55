"""Parity: top-1 agreement against the Keras model, and a broken export fails loudly."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.errors import ArtifactError
from sercompress.export.parity import check_artifact, compare, require


def test_compare_counts_top1_agreement():
    ref = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]], np.float32)
    cand = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.3, 0.7]], np.float32)
    p = compare(ref, cand, artifact="x.tflite", min_agreement=0.99)
    assert p.top1_agreement == 0.75 and p.max_abs_diff == pytest.approx(0.2) and not p.ok
    with pytest.raises(ArtifactError, match="75.0% top-1 agreement"):
        require(p)
    assert require(compare(ref, ref, artifact="x", min_agreement=0.99)).ok


def test_shape_mismatch_is_a_broken_export():
    with pytest.raises(ArtifactError, match="shape"):
        compare(np.zeros((3, 4)), np.zeros((3, 2)), artifact="x", min_agreement=0.5)


@pytest.mark.slow
def test_float_export_agrees_and_a_different_model_does_not(model, batch, float_file, tmp_path):
    from sercompress.export.runtime import predict_keras
    from sercompress.export.tflite import to_tflite
    from sercompress.storage import atomic_write_bytes
    from sercompress.tf_env import keras

    ref = predict_keras(model, batch)
    parity, probs = check_artifact(ref, float_file, batch)
    assert parity.top1_agreement >= 0.99 and parity.max_abs_diff < 1e-4 and probs.shape == ref.shape
    # a "broken export": the classifier's outputs wired to the wrong classes
    other = keras().models.clone_model(model)
    weights = model.get_weights()
    other.set_weights([*weights[:-2], np.roll(weights[-2], 1, axis=-1), np.roll(weights[-1], 1)])
    broken = atomic_write_bytes(tmp_path / "broken.tflite", to_tflite(other))
    with pytest.raises(ArtifactError, match="export is broken"):
        check_artifact(ref, broken, batch)
