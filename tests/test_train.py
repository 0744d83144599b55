"""The training recipe: LR schedule, losses, fit (plain and tfmot-wrapped), the reference run dir."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sercompress.errors import ConfigError, DataError
from sercompress.progress import Progress
from sercompress.train import (
    LRDecay,
    TrainConfig,
    fit,
    learning_rate_at,
    make_loss,
    sparse_focal_loss,
)

QUIET = Progress(quiet=True)


# --------------------------------------------------------------------------- schedule

@pytest.mark.parametrize("epoch, steps", [(0, 0), (49, 0), (50, 0), (69, 0), (70, 1), (89, 1), (90, 2), (130, 4)])
def test_paper_learning_rate_schedule(epoch, steps):
    cfg = TrainConfig()
    assert cfg.learning_rate == 1e-4 and cfg.batch_size == 32
    assert learning_rate_at(epoch, cfg.learning_rate, cfg.decay) == pytest.approx(1e-4 * math.exp(-0.15 * steps))


def test_no_decay_is_constant():
    assert learning_rate_at(500, 1e-3, None) == 1e-3


def test_train_config_validates():
    with pytest.raises(ValueError):
        TrainConfig(loss="hinge")
    with pytest.raises(ValueError):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError):
        LRDecay(every_epochs=0)


def test_train_config_round_trips_through_its_dict_form():
    cfg = TrainConfig(epochs=7, loss="focal", decay=LRDecay(start_epoch=3), select_on="val_loss")
    assert TrainConfig.model_validate(cfg.model_dump(mode="json")) == cfg


# --------------------------------------------------------------------------- losses

def _probs(n=16, k=4, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p.astype(np.float32), rng.integers(0, k, n)


def test_focal_with_gamma_zero_is_cross_entropy():
    p, y = _probs()
    ce = np.asarray(make_loss("cross_entropy")(y, p))
    fl0 = np.asarray(make_loss("focal", focal_gamma=0.0)(y, p))
    assert fl0 == pytest.approx(ce, rel=1e-5)
    assert ce == pytest.approx(-np.log(p[np.arange(len(y)), y]), rel=1e-5)


def test_focal_values_by_hand():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], dtype=np.float32)
    y = np.array([0, 0, 1])
    per_clip = np.asarray(sparse_focal_loss(2.0)(y, p))
    expected = [-(0.1 ** 2) * math.log(0.9), -(0.8 ** 2) * math.log(0.2), -(0.5 ** 2) * math.log(0.5)]
    assert per_clip == pytest.approx(expected, rel=1e-5)
    # focal down-weights the easy clip far more than the hard one
    ce = -np.log([0.9, 0.2, 0.5])
    ratio = per_clip / ce
    assert ratio[0] < ratio[2] < ratio[1]


def test_unknown_loss_is_a_config_error():
    with pytest.raises(ConfigError):
        make_loss("hinge")


# --------------------------------------------------------------------------- fit

def _tiny_model(n_classes=3, seed=0, batchnorm=False):
    from sercompress.tf_env import keras, seed_everything

    seed_everything(seed)
    k = keras()
    inp = k.Input((8, 6, 1))
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inp)
    if batchnorm:
        x = k.layers.BatchNormalization(name="bn")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    out = k.layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return k.Model(inp, out)


def _tiny_data(n_train=48, n_val=24, k=3, seed=0):
    rng = np.random.default_rng(seed)

    def split(n):
        y = rng.integers(0, k, n).astype(np.int64)
        x = rng.normal(size=(n, 8, 6, 1)).astype(np.float32)
        x += (y[:, None, None, None] - 1) * 0.8
        return SimpleNamespace(x=x, y=y)

    return SimpleNamespace(train=split(n_train), val=split(n_val), test=split(n_val),
                           classes=tuple(f"c{i}" for i in range(k)))


def _weight_recorder():
    from sercompress.tf_env import keras

    class Recorder(keras().callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append([w.copy() for w in self.model.get_weights()])
            self.logs = dict(logs or {})

    return Recorder()


@pytest.mark.parametrize("compiled", [False, True])
def test_precise_bn_sets_moving_statistics_to_the_training_statistics(compiled):
    from sercompress.tf_env import keras
    from sercompress.train.batchnorm import PreciseBatchNorm

    k = keras()
    inp = k.Input((8, 6, 1))
    conv = k.layers.Conv2D(4, 3, padding="same", name="conv")
    bn = k.layers.BatchNormalization(name="bn")
    model = k.Model(inp, bn(conv(inp)))
    x = (np.random.default_rng(1).normal(size=(32, 8, 6, 1)) * 3 + 2).astype(np.float32)
    feats = conv(x).numpy()
    assert not np.allclose(bn.moving_mean.numpy(), feats.mean(axis=(0, 1, 2)), atol=0.05)
    # two batches of 16 cover all 32 clips: the average of the batch means is the overall mean
    assert PreciseBatchNorm(model, compiled=compiled)(x, batches=2, batch_size=16, seed=0) == 1
    np.testing.assert_allclose(bn.moving_mean.numpy(), feats.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), feats.var(axis=(0, 1, 2)), rtol=0.2)
    assert bn.momentum == pytest.approx(0.99)


@pytest.mark.slow
def test_fit_restores_the_best_validation_epoch_and_logs_each_epoch():
    model, data, rec = _tiny_model(), _tiny_data(), _weight_recorder()
    decay = LRDecay(start_epoch=1, every_epochs=1, exponent=0.5)
    res = fit(model, data, TrainConfig(epochs=4, learning_rate=0.05, decay=decay, precise_bn_batches=0),
              callbacks=[rec], progress=QUIET)
    assert [e.epoch for e in res.epochs] == [1, 2, 3, 4]
    assert [e.lr for e in res.epochs] == pytest.approx([0.05 * math.exp(-0.5 * s) for s in (0, 0, 1, 2)])
    # the validation figures reach later callbacks through logs
    assert {"val_ua", "val_loss", "val_wa", "val_f1"} <= set(rec.logs)
    best = max(res.epochs, key=lambda e: (e.val_ua, -e.val_loss))
    assert res.best_epoch == best.epoch
    for got, want in zip(model.get_weights(), rec.weights[best.epoch - 1]):
        np.testing.assert_array_equal(got, want)
    assert set(res.history) >= {"loss", "accuracy", "val_ua", "lr", "seconds"}


@pytest.mark.slow
def test_fit_without_selection_keeps_the_last_epoch():
    model, data, rec = _tiny_model(), _tiny_data(), _weight_recorder()
    res = fit(model, data, TrainConfig.finetune(3, 0.05, 32), callbacks=[rec], select_best=False, progress=QUIET)
    assert res.best_epoch is None
    for got, want in zip(model.get_weights(), rec.weights[-1]):
        np.testing.assert_array_equal(got, want)
    # a fine-tuning keeps its last epoch: the validation split is not predicted every epoch
    assert all(np.isnan(e.val_ua) for e in res.epochs)
    with pytest.raises(ValueError, match="validate_each_epoch"):
        fit(model, data, TrainConfig.finetune(1, 0.05, 32), select_best=True, progress=QUIET)


@pytest.mark.slow
def test_fit_is_seeded():
    data = _tiny_data()
    runs = []
    for _ in range(2):
        model = _tiny_model(seed=3, batchnorm=True)  # the compiled precise-BN passes are seeded too
        res = fit(model, data, TrainConfig(epochs=2, learning_rate=0.05, seed=3, loss="focal", decay=None,
                                           batch_size=16, precise_bn_batches=2), progress=QUIET)
        runs.append(([e.loss for e in res.epochs], model.get_weights(), [e.val_loss for e in res.epochs]))
    assert runs[0][0] == runs[1][0] and runs[0][2] == runs[1][2]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_fit_fine_tunes_a_pruning_wrapped_model():
    import tensorflow_model_optimization as tfmot

    sched = tfmot.sparsity.keras.ConstantSparsity(0.5, begin_step=0, frequency=1)
    wrapped = tfmot.sparsity.keras.prune_low_magnitude(_tiny_model(), pruning_schedule=sched)
    res = fit(wrapped, _tiny_data(), TrainConfig.finetune(1, 0.01, 32), select_best=False,
              callbacks=[tfmot.sparsity.keras.UpdatePruningStep()], progress=QUIET)
    assert len(res.epochs) == 1
    stripped = tfmot.sparsity.keras.strip_pruning(wrapped)
    kernel = stripped.get_layer("classifier").get_weights()[0]
    assert np.mean(kernel == 0) >= 0.5


def test_fit_refuses_an_empty_validation_split():
    data = _tiny_data()
    data.val = SimpleNamespace(x=data.val.x[:0], y=data.val.y[:0])
    with pytest.raises(DataError):
        fit(object(), data, TrainConfig.finetune(1, 0.01, 32), progress=QUIET)


# --------------------------------------------------------------------------- reference run directory

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Light-SERNet on a tiny synthetic corpus, 1 s clips, 2 epochs."""
    from sercompress.dataset import DataConfig
    from sercompress.train import train_reference

    root = tmp_path_factory.mktemp("ref")
    data_cfg = DataConfig(duration_s=1.0, synthetic_speakers=4, synthetic_per_emotion=3, val_speakers=1,
                          cache_dir=str(root / "cache"))
    train_cfg = TrainConfig(epochs=2, learning_rate=1e-3)
    ref = train_reference(data_cfg, train_cfg, root / "run", progress=QUIET)
    return SimpleNamespace(ref=ref, data_cfg=data_cfg, train_cfg=train_cfg, dir=root / "run", root=root)


def _copy_run(run, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(run.dir, dst)
    return dst


@pytest.mark.slow
def test_reference_run_directory_is_complete(tiny_run):
    import csv
    import json

    from sercompress.train import RUN_FILES

    d = tiny_run.dir
    assert sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) == sorted(RUN_FILES)
    rec = json.loads((d / "run.json").read_text())
    for key in ("schema_version", "kind", "model", "hparams", "data", "train", "classes", "input_shape", "params",
                "macs", "weights_sha256", "data_fingerprint", "package_version"):
        assert key in rec, key
    assert rec["kind"] == "reference" and rec["model"] == "light_sernet"
    assert rec["input_shape"] == [59, 40, 1] and rec["params"] == 462_468
    assert rec["train"]["epochs"] == 2 and rec["data"]["duration_s"] == 1.0
    rows = list(csv.DictReader((d / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    metrics = json.loads((d / "metrics.json").read_text())
    ref = tiny_run.ref
    data = ref.data()
    assert metrics["split"] == "test" and metrics["n"] == len(data.test.y)
    assert ref.metrics.n == len(data.test.y) and ref.classes == data.classes
    assert data.fingerprint == rec["data_fingerprint"]
    assert 1 <= rec["best_epoch"] <= 2
    # DONE is the last file written
    assert all((d / "DONE").stat().st_mtime_ns >= (d / f).stat().st_mtime_ns for f in RUN_FILES)


@pytest.mark.slow
def test_rerun_with_the_same_config_does_not_train(tiny_run, monkeypatch):
    import sercompress.dataset
    from sercompress.train import train_reference

    def no_data(*_a, **_k):
        raise AssertionError("prepared data: it is training again")

    monkeypatch.setattr(sercompress.dataset, "prepare", no_data)
    before = (tiny_run.dir / "model.keras").stat().st_mtime_ns
    again = train_reference(tiny_run.data_cfg, tiny_run.train_cfg, tiny_run.dir, progress=QUIET)
    assert (tiny_run.dir / "model.keras").stat().st_mtime_ns == before
    assert again.weights_sha256 == tiny_run.ref.weights_sha256


@pytest.mark.slow
def test_a_different_config_is_refused_not_overwritten(tiny_run):
    from sercompress.errors import RunError
    from sercompress.train import train_reference

    before = (tiny_run.dir / "run.json").read_bytes()
    with pytest.raises(RunError, match="train.epochs"):
        train_reference(tiny_run.data_cfg, TrainConfig(epochs=3, learning_rate=1e-3), tiny_run.dir, progress=QUIET)
    assert (tiny_run.dir / "run.json").read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("leftover", [("history.csv",), ("model.keras", "run.json")])
def test_an_interrupted_run_of_the_same_config_is_trained_again(tiny_run, tmp_path, monkeypatch, leftover):
    import shutil

    import sercompress.dataset
    from sercompress.train import train_reference

    class Retraining(Exception):
        pass

    def sentinel(*_a, **_k):
        raise Retraining

    d = tmp_path / "partial"
    d.mkdir()
    for name in leftover:  # what a run killed before DONE leaves behind
        shutil.copy(tiny_run.dir / name, d / name)
    monkeypatch.setattr(sercompress.dataset, "prepare", sentinel)
    with pytest.raises(Retraining):
        train_reference(tiny_run.data_cfg, tiny_run.train_cfg, d, progress=QUIET)


@pytest.mark.slow
def test_train_reference_is_model_agnostic(tiny_run, tmp_path, monkeypatch):
    import json

    from sercompress.models import MODEL_BUILDERS
    from sercompress.tf_env import keras
    from sercompress.train import load_reference, train_reference

    def tiny(input_shape, n_classes, width=2):
        k = keras()
        inp = k.Input(input_shape)
        x = k.layers.Conv2D(width, 3, name="conv")(inp)
        x = k.layers.GlobalAveragePooling2D()(x)
        return k.Model(inp, k.layers.Dense(n_classes, activation="softmax")(x))

    monkeypatch.setitem(MODEL_BUILDERS, "tiny_test", tiny)
    ref = train_reference(tiny_run.data_cfg, TrainConfig(epochs=1), tmp_path / "r", model="tiny_test",
                          hparams={"width": 3}, progress=QUIET)
    rec = json.loads((tmp_path / "r" / "run.json").read_text())
    assert rec["model"] == "tiny_test" and rec["hparams"] == {"width": 3}
    assert rec["params"] == (3 * 3 * 1 * 3 + 3) + (3 * 4 + 4)
    assert load_reference(tmp_path / "r").fresh_model().get_layer("conv").filters == 3
    assert ref.classes == tiny_run.ref.classes


def test_auto_precision_is_decided_by_the_cpu_and_hashed_as_decided(monkeypatch):
    from sercompress import tf_env
    from sercompress.dataset import DataConfig
    from sercompress.train import config_hash

    assert tf_env.cpu_has_bf16("processor: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n")
    assert not tf_env.cpu_has_bf16("processor: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    auto = TrainConfig(precision="auto")
    for has, decided in ((True, "mixed_bfloat16"), (False, "float32")):
        monkeypatch.setattr(tf_env, "cpu_has_bf16", lambda has=has: has)
        assert auto.resolved().precision == decided
        assert config_hash(DataConfig(), auto, "m", {}) == config_hash(DataConfig(), TrainConfig(precision=decided),
                                                                         "m", {})
    assert TrainConfig().precision == "float32" and TrainConfig().resolved() == TrainConfig()


@pytest.mark.slow
def test_mixed_precision_training_saves_a_float32_network(tiny_run, tmp_path):
    """bfloat16 is how the network is trained, never what is saved, evaluated or exported."""
    import json

    from sercompress.tf_env import keras
    from sercompress.train import load_reference, train_reference

    cfg = TrainConfig(epochs=1, learning_rate=1e-3, precision="mixed_bfloat16")
    ref = train_reference(tiny_run.data_cfg, cfg, tmp_path / "bf16", progress=QUIET)
    assert keras().mixed_precision.global_policy().name == "float32"  # restored for whatever runs next
    assert json.loads((tmp_path / "bf16" / "run.json").read_text())["train"]["precision"] == "mixed_bfloat16"
    model = load_reference(tmp_path / "bf16").fresh_model()
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert 0 <= ref.metrics.ua <= 1


def test_a_foreign_directory_is_refused(tmp_path):
    from sercompress.dataset import DataConfig
    from sercompress.errors import RunError
    from sercompress.train import train_reference

    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(RunError, match="not a reference run directory"):
        train_reference(DataConfig(cache_dir=str(tmp_path / "c")), TrainConfig(), tmp_path, progress=QUIET)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


@pytest.mark.slow
@pytest.mark.parametrize("damage, message", [
    ("DONE", "no DONE marker"),
    ("model.keras", "model.keras is missing"),
    ("metrics.json", "metrics.json is missing"),
    ("run.json", "run.json is missing"),
])
def test_load_reference_names_the_missing_file(tiny_run, tmp_path, damage, message):
    from sercompress.errors import RunError
    from sercompress.train import load_reference

    d = _copy_run(tiny_run, tmp_path)
    (d / damage).unlink()
    with pytest.raises(RunError, match=message) as e:
        load_reference(d)
    assert str(d) in str(e.value)


@pytest.mark.slow
def test_load_reference_rejects_bad_records_and_swapped_weights(tiny_run, tmp_path):
    import json

    from sercompress.errors import RunError
    from sercompress.train import load_reference

    d = _copy_run(tiny_run, tmp_path)
    rec = json.loads((d / "run.json").read_text())
    (d / "run.json").write_text("{not json")
    with pytest.raises(RunError, match="not valid JSON"):
        load_reference(d)
    (d / "run.json").write_text(json.dumps({**rec, "schema_version": 99}))
    with pytest.raises(RunError, match="schema_version"):
        load_reference(d)
    (d / "run.json").write_text(json.dumps({**rec, "weights_sha256": "0" * 64}))
    with pytest.raises(RunError, match="weights_sha256"):
        load_reference(d)
    (d / "run.json").write_text(json.dumps(rec))
    (d / "model.keras").write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(RunError, match="not a readable .keras file|cannot load the model"):
        load_reference(d)
    with pytest.raises(RunError, match="not found"):
        load_reference(tmp_path / "nowhere")


@pytest.mark.slow
def test_fresh_model_returns_independent_copies_of_the_reference(tiny_run):
    ref = tiny_run.ref
    a, b = ref.fresh_model(), ref.fresh_model()
    assert a is not b
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    a.set_weights([np.zeros_like(w) for w in a.get_weights()])
    c = ref.fresh_model()
    from sercompress.train import weights_sha256

    assert weights_sha256(b) == weights_sha256(c) == ref.weights_sha256 != weights_sha256(a)
    x = ref.data().test.x[:4]
    np.testing.assert_allclose(b.predict(x, verbose=0), c.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.slow
def test_train_cli_resumes_and_prints_json(tiny_run, capsys):
    import json

    from sercompress.cli import main

    cfg = tiny_run.data_cfg
    argv = ["train", "--out", str(tiny_run.dir), "--duration", "1", "--synthetic-speakers", "4",
            "--synthetic-per-emotion", "3", "--val-speakers", "1", "--epochs", "2", "--learning-rate", "1e-3",
            "--cache-dir", cfg.cache_dir, "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ua"] == tiny_run.ref.metrics.ua and out["n"] == tiny_run.ref.metrics.n
    assert out["run_dir"] == str(tiny_run.dir)
    assert main([*argv[:-1], "--loss", "focal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.loss" in err


def test_train_cli_rejects_bad_numbers(tmp_path, capsys):
    from sercompress.cli import main

    assert main(["train", "--out", str(tmp_path / "r"), "--epochs", "0"]) == 2
    assert "--epochs" in capsys.readouterr().err
