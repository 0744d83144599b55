"""Baselines: every shipped file loads, builds at the size computed by hand, trains, and converts.

Parameter counts are derived by hand from the layer formulas (not read back
from Keras), on 1 s inputs (59 frames) to keep the tests fast:
conv k_h*k_w*c_in*c_out (+c_out bias), batch norm 4*c, dense in*out+out,
LSTM 4*(units*(in+units)+units), multi-head attention 4 projections of
(d*heads*key_dim + heads*key_dim) except the output one (heads*key_dim*d + d).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sercompress.baseline import BASELINE_DIR, list_baselines, load_baseline
from sercompress.errors import ConfigError
from sercompress.features import FeatureConfig
from sercompress.models import build_model, count_macs, light_sernet

N_CLASSES = 4
REFERENCE_PARAMS, REFERENCE_MACS = 462_468, 160_228_480


def conv(kh, kw, cin, cout, bias=True):
    return kh * kw * cin * cout + (cout if bias else 0)


def bn(c):
    return 4 * c


def dense(n_in, n_out):
    return n_in * n_out + n_out


def lstm(n_in, units):
    return 4 * (units * (n_in + units) + units)


def mha(d, heads, key_dim):
    return 3 * (d * heads * key_dim + heads * key_dim) + (heads * key_dim * d + d)


# 1 s: 59 frames. cnn_lstm_2d pools 59->29->14->7->3 frames, 40->20->10->5->5 bins.
EXPECTED_1S = {
    "cnn_lstm_2d": conv(3, 3, 1, 64) + bn(64) + conv(3, 3, 64, 64) + bn(64) + conv(3, 3, 64, 128) + bn(128)
    + conv(3, 3, 128, 128) + bn(128) + lstm(5 * 128, 256) + dense(256, N_CLASSES),
    "attention_cnn": conv(10, 2, 1, 8) + bn(8) + conv(2, 8, 1, 8) + bn(8)
    + conv(3, 3, 16, 64, False) + bn(64) + conv(3, 3, 64, 128, False) + bn(128)
    + conv(3, 3, 128, 256, False) + bn(256) + conv(3, 3, 256, 256, False) + bn(256)
    + mha(256, 4, 64) + dense(256, N_CLASSES),
    # mel 128 bins: 59x128 -> 29x64 -> 14x32 -> 7x16 -> 3x8 x 128 channels flattened
    "vgg_cnn": conv(3, 3, 1, 16, False) + bn(16) + conv(3, 3, 16, 32, False) + bn(32)
    + conv(3, 3, 32, 64, False) + bn(64) + conv(3, 3, 64, 64, False) + bn(64)
    + conv(3, 3, 64, 128, False) + bn(128) + conv(3, 3, 128, 128, False) + bn(128)
    + dense(3 * 8 * 128, 256) + dense(256, 256) + dense(256, N_CLASSES),
}


@pytest.fixture(scope="module")
def specs():
    return {s.name: s for s in list_baselines()}


def shape_of(spec, duration_s=1.0):
    return FeatureConfig(input_type=spec.input_type, duration_s=duration_s).shape


def test_at_least_three_baselines_with_citations(specs):
    assert set(EXPECTED_1S) <= set(specs)
    for s in specs.values():
        assert s.paper.authors and s.paper.year >= 2017 and s.reported.value > 0
        assert s.paper.citation().endswith(str(s.paper.year))


@pytest.mark.parametrize("name", sorted(EXPECTED_1S))
def test_builds_with_hand_computed_params_and_trains_one_step(specs, name):
    spec = specs[name]
    model = spec.build(shape_of(spec), N_CLASSES)
    assert model.count_params() == EXPECTED_1S[name]
    assert tuple(model.output_shape) == (None, N_CLASSES)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *shape_of(spec))).astype("float32")
    y = np.arange(2) % N_CLASSES
    # eager: one step does not repay tracing a training graph
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    before = [w.copy() for w in model.get_weights()]
    loss = float(model.train_on_batch(x, y))
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_baselines_are_larger_than_light_sernet_at_3s(specs):
    """The point of a baseline: clearly larger (here >2x parameters) than the reference."""
    for spec in specs.values():
        model = spec.build(shape_of(spec, 3.0), N_CLASSES)
        assert model.count_params() > 2 * REFERENCE_PARAMS, spec.name
        assert count_macs(model) < 1.5 * REFERENCE_MACS, spec.name  # still trainable on a CPU


def test_registry_builds_by_name():
    m = build_model("vgg_cnn", (59, 128, 1), 3, dense_units=[32])
    assert tuple(m.output_shape) == (None, 3)
    assert light_sernet(4).count_params() == REFERENCE_PARAMS


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ConfigError, match="too small"):
        build_model("cnn_lstm_2d", (8, 40, 1), 4)


def test_unknown_model_and_knob_are_config_errors():
    with pytest.raises(ConfigError, match="key 'model'.*unknown model 'resnet'"):
        build_model("resnet", (59, 128, 1), 4)
    with pytest.raises(ConfigError, match="key 'hparams'.*no hyper-parameter 'widht'.*blocks"):
        build_model("vgg_cnn", (59, 128, 1), 4, widht=3)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


BASE = (BASELINE_DIR / "vgg_cnn.toml").read_text()


def test_unknown_key_names_the_key(tmp_path):
    p = _write(tmp_path, "vgg_cnn", BASE + "\nfoo = 1\n")
    with pytest.raises(ConfigError, match="foo.*unknown key"):
        load_baseline(p)


def test_unknown_architecture_lists_choices(tmp_path):
    p = _write(tmp_path, "vgg_cnn", BASE.replace('model = "vgg_cnn"', 'model = "resnet9000"'))
    with pytest.raises(ConfigError, match="model.*resnet9000.*light_sernet"):
        load_baseline(p)


def test_misspelt_or_mistyped_hparam_is_refused_at_load(tmp_path):
    """Before any data preparation or TensorFlow: the builder's signature is the schema."""
    p = _write(tmp_path, "vgg_cnn", BASE.replace("[hparams]", "[hparams]\ndense_unit = [8]"))
    with pytest.raises(ConfigError, match="no hyper-parameter 'dense_unit'.*dense_units"):
        load_baseline(p)
    p = _write(tmp_path, "vgg_cnn", BASE.replace("dropout = 0.5", "dropout = 'half'"))
    with pytest.raises(ConfigError, match="key 'hparams'.*'dropout'.*number"):
        load_baseline(p)


def test_name_must_match_file(tmp_path):
    p = _write(tmp_path, "other", BASE)
    with pytest.raises(ConfigError, match="name"):
        load_baseline(p)


def test_bad_reported_metric(tmp_path):
    p = _write(tmp_path, "vgg_cnn", BASE.replace('metric = "accuracy"', 'metric = "BLEU"'))
    with pytest.raises(ConfigError, match="reported.metric"):
        load_baseline(p)


# -- conversion -------------------------------------------------------------
def _run_tflite(blob: bytes, x: np.ndarray):
    """Run one sample (quantising it if the input is int8); return output as float, op names, input dtype."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=blob)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    if inp["dtype"] == np.int8:
        scale, zero = inp["quantization"]
        x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    it.set_tensor(inp["index"], x)
    it.invoke()
    y = it.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zero = out["quantization"]
        y = (y.astype(np.float32) - zero) * scale
    ops = {d["op_name"] for d in it._get_ops_details()}
    return y, ops, inp["dtype"]


#: Narrow versions of the shipped hyper-parameters: the same builders and op types
#: (the shipped ``unroll`` included), a fraction of the conversion time.
NARROW = {
    "cnn_lstm_2d": {"blocks": [[8, [2, 2]], [8, [2, 2]], [16, [2, 2]], [16, [2, 1]]], "lstm_units": 16},
    "attention_cnn": {"parallel_filters": 4, "stack": [[8, True], [16, True], [16, False]], "heads": 2,
                      "key_dim": 8},
    "vgg_cnn": {"blocks": [[4, 1], [8, 1], [8, 2], [16, 2]], "dense_units": [16, 16]},
}


def _no_flex(ops: set[str]) -> bool:
    return not any(o.startswith("Flex") or o == "CUSTOM" for o in ops)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_1S))
def test_converts_with_the_suite_exporter_to_tflite_float_int8_and_onnx(specs, name):
    """What the pipeline does: export.tflite.to_tflite (float; full int8 with int8 I/O) and tf2onnx opset 17."""
    import onnxruntime as ort

    from sercompress.export.onnx import to_onnx
    from sercompress.export.tflite import to_tflite

    spec = specs[name]
    assert set(NARROW[name]) <= set(spec.hparams)  # the narrow model exercises the shipped knobs
    model = build_model(spec.model, shape_of(spec), N_CLASSES, **{**spec.hparams, **NARROW[name]})
    rep = np.random.default_rng(1).standard_normal((8, *shape_of(spec))).astype("float32")
    x = rep[:1]
    want = model(x, training=False).numpy()

    out, ops, _ = _run_tflite(to_tflite(model), x)
    np.testing.assert_allclose(out, want, atol=1e-4)
    assert _no_flex(ops)

    out8, ops8, in_dtype = _run_tflite(to_tflite(model, "int8", rep, int8_io=True), x)
    assert in_dtype == np.int8 and _no_flex(ops8)
    assert out8.shape == want.shape and abs(float(out8.sum()) - 1.0) < 0.05

    sess = ort.InferenceSession(to_onnx(model), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, want, atol=1e-4)


def _trained_like(model, seed: int = 5):
    """Non-zero weights everywhere, as after training. A freshly built model has all-zero biases,
    and the converter drops an all-zero bias from FULLY_CONNECTED (the classifier's 4 figures
    vanish from the file), so a file's parameter count equals the model's only once trained."""
    rng = np.random.default_rng(seed)
    model.set_weights([np.abs(rng.normal(1.0, 0.1, w.shape)).astype("float32")
                       if "variance" in v.name or "gamma" in v.name
                       else rng.normal(0.0, 0.1, w.shape).astype("float32")
                       for v, w in zip(model.weights, model.get_weights())])
    return model


@pytest.mark.slow
def test_recurrent_lstm_is_exported_fused_at_batch_1_with_the_models_parameters(specs, tmp_path):
    """The shipped form (unroll=False) through the suite's exporter: one UNIDIRECTIONAL_SEQUENCE_LSTM
    op (float and full int8) at batch 1, the file holding the model's parameters once (not per step)."""
    from sercompress.export.runtime import run_tflite
    from sercompress.export.tflite import to_tflite
    from sercompress.profile import profile_artifact

    spec = specs["cnn_lstm_2d"]
    assert spec.hparams["unroll"] is False
    model = build_model(spec.model, shape_of(spec), N_CLASSES, **{**spec.hparams, **NARROW["cnn_lstm_2d"]})
    _trained_like(model)
    rep = np.random.default_rng(2).standard_normal((8, *shape_of(spec))).astype("float32")
    want = model(rep, training=False).numpy()
    assert np.ptp(want, axis=0).max() > 1e-3  # the clips give different outputs (a state leak would show)
    # batch norm folds into the convolutions, which have biases: its 4 figures per channel go
    bn_figures = sum(w.size for layer in model.layers if "bn" in layer.name for w in layer.get_weights())
    for mode in (None, "int8"):
        path = tmp_path / f"{mode}.tflite"
        path.write_bytes(to_tflite(model, mode, rep, int8_io=mode == "int8"))
        _, ops, _ = _run_tflite(path.read_bytes(), rep[:1])
        assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and _no_flex(ops)
        assert not any(op in ops for op in ("WHILE", "LOGISTIC", "TANH"))  # no loop, no unrolled gates
        assert profile_artifact(path).params == model.count_params() - bn_figures
        got = run_tflite(path, rep)  # a batch of 8 through a batch-1 file
        assert got.shape == want.shape
        if mode is None:
            np.testing.assert_allclose(got, want, atol=1e-4)
        else:
            assert np.abs(got.sum(axis=1) - 1.0).max() < 0.05
