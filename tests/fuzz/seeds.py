"""Seed files the fuzz suite mutates: real files produced by the suite itself.

* ``tflite`` / ``tflite_int8`` / ``onnx``: a small Conv/BN/ReLU/pool/Dense net exported by
  ``sercompress.export`` (the converters the pipeline uses; the ONNX batch dim fixed to 1);
* ``built.tflite``: a flatbuffer built directly (shared buffers, no converter);
* ``wav`` / ``wav_stereo``: 16-bit PCM at 16 kHz mono and 44.1 kHz stereo (soundfile);
* ``summary``: the committed CI reference ``reports/ci-reference/summary.json`` (a real run);
* ``hw``, ``tolerance``, ``recipe``, ``runconfig``: shipped TOML files;
* ``keras_run``: a reference run directory (run.json, model.keras, metrics.json, DONE)
  as ``train`` writes it, for ``load_reference``.

Converting needs TensorFlow (a few seconds, once per session); everything else does not.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from .tflite_build import shared_buffer_model

REPO = Path(__file__).resolve().parents[2]
SHAPE = (16, 8, 1)


def _tiny_model():
    from sercompress.tf_env import keras

    k = keras()
    k.utils.set_random_seed(0)
    inp = k.Input(shape=SHAPE, name="features")
    x = k.layers.Conv2D(8, (3, 3), padding="same", name="conv")(inp)
    x = k.layers.BatchNormalization(name="bn")(x)
    x = k.layers.ReLU(name="relu")(x)
    x = k.layers.AveragePooling2D((2, 2), name="pool")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    out = k.layers.Dense(4, activation="softmax", name="dense")(x)
    return k.Model(inp, out, name="tiny")


def model_seeds(directory: Path) -> dict[str, Path]:
    """TFLite (float, int8), ONNX and a reference run directory from one tiny model."""
    import onnx

    from sercompress.export.onnx import to_onnx
    from sercompress.export.tflite import to_tflite

    directory.mkdir(parents=True, exist_ok=True)
    model = _tiny_model()
    rep = np.random.default_rng(0).standard_normal((8, *SHAPE)).astype(np.float32)
    out = {"tflite": directory / "tiny.tflite", "tflite_int8": directory / "tiny_int8.tflite",
           "onnx": directory / "tiny.onnx", "built_tflite": directory / "built.tflite"}
    out["tflite"].write_bytes(to_tflite(model))
    out["tflite_int8"].write_bytes(to_tflite(model, "int8", representative=rep, int8_io=True))
    proto = onnx.ModelProto.FromString(to_onnx(model))
    for value in (*proto.graph.input, *proto.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = 1   # static batch: every command reads it
    out["onnx"].write_bytes(proto.SerializeToString())
    out["built_tflite"].write_bytes(shared_buffer_model(12, 4096))
    out["keras_run"] = _run_dir(model, directory / "run")
    return out


def _run_dir(model, run: Path) -> Path:
    from sercompress.storage import mark_done
    from sercompress.train import weights_sha256

    run.mkdir(parents=True, exist_ok=True)
    model.save(run / "model.keras")
    record = {"schema_version": 1, "kind": "reference", "config_hash": "fuzz", "model": "tiny",
              "hparams": {}, "data": {}, "train": {}, "classes": ["angry", "happy", "neutral", "sad"],
              "input_shape": list(SHAPE), "weights_sha256": weights_sha256(model),
              "data_fingerprint": "fuzz"}
    (run / "run.json").write_text(json.dumps(record, indent=1))
    classes = record["classes"]
    (run / "metrics.json").write_text(json.dumps({
        "ua": 1.0, "wa": 1.0, "f1": 1.0, "confusion": np.eye(4, dtype=int).tolist(),
        "classes": classes, "n": 4, "recall": [1.0] * 4}))
    mark_done(run)
    return run


def text_seeds(directory: Path) -> dict[str, Path]:
    """Shipped TOML files, the committed summary, and two WAV files (no TensorFlow)."""
    import soundfile as sf

    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "hw": REPO / "hw_profiles" / "stm32h743.toml",
        "tolerance": REPO / "configs" / "tolerance.toml",
        "recipe": REPO / "compress" / "prune-80.toml",
        "runconfig": REPO / "configs" / "quick.toml",
        "summary": REPO / "reports" / "ci-reference" / "summary.json",
    }
    out = {k: Path(shutil.copy(v, directory / v.name)) for k, v in files.items()}
    rng = np.random.default_rng(0)
    for name, sr, channels in (("wav", 16000, 1), ("wav_stereo", 44100, 2)):
        t = np.arange(int(0.5 * sr)) / sr
        x = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.02 * rng.standard_normal(t.size)
        data = np.stack([x, 0.5 * x], axis=1) if channels == 2 else x
        out[name] = directory / f"{name}.wav"
        sf.write(out[name], data.astype(np.float32), sr, subtype="PCM_16")
    return out
