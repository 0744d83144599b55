"""Each technique on a tiny model: apply (wrap + fine-tune), strip, and what the weights show."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.compress.recipe import (
    ClusterStep,
    Finetune,
    PruneStep,
    PtqStep,
    QatStep,
)
from sercompress.compress.registry import StepContext, selected_layers, technique_for
from sercompress.errors import RecipeError
from sercompress.export.verify import satisfies_m_by_n

pytestmark = pytest.mark.slow
ONE = Finetune(epochs=1, learning_rate=1e-3, batch_size=16)


@pytest.fixture(scope="module")
def ctx(data) -> StepContext:
    from sercompress.progress import Progress
    from sercompress.train import TrainConfig, fit

    def fit_fn(model, *, epochs, learning_rate, batch_size, callbacks=()):
        return fit(model, data, TrainConfig.finetune(epochs, learning_rate, batch_size),
                   callbacks=callbacks, select_best=False, progress=Progress(quiet=True))

    return StepContext(fit=fit_fn, train_size=len(data.train.y))


def kernels(model) -> dict[str, np.ndarray]:
    return {layer.name: layer.get_weights()[0] for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Dense")}


def run(step, model, ctx):
    tech = technique_for(step)
    return tech.strip(tech.apply(model, step, ctx))


def test_registry_dispatches_on_config_type():
    from sercompress.compress.cluster import Cluster
    from sercompress.compress.prune import Prune
    from sercompress.compress.ptq import Ptq
    from sercompress.compress.qat import Qat

    assert technique_for(PruneStep(target_sparsity=0.5)) is Prune
    assert technique_for(ClusterStep()) is Cluster
    assert technique_for(QatStep()) is Qat
    assert technique_for(PtqStep(mode="int8")) is Ptq
    with pytest.raises(TypeError):
        technique_for(object())


@pytest.fixture(scope="module")
def pruned(reference, ctx):
    """The reference pruned to 60 %, and the reference weights before pruning."""
    source = reference.fresh_model()
    before = [w.copy() for w in source.get_weights()]
    return run(PruneStep(target_sparsity=0.6, finetune=ONE), source, ctx), before


def test_prune_reaches_target_sparsity_and_strips(reference, pruned):
    model, before = pruned
    assert not any("prune" in type(layer).__name__.lower() for layer in model.layers)
    for name, k in kernels(model).items():
        assert np.mean(k == 0) >= 0.59, name
    # the next variant starts from the reference weights, not from the pruned ones
    assert all(np.array_equal(a, b) for a, b in zip(reference.fresh_model().get_weights(), before))


def test_prune_m_by_n_gives_two_zeros_in_every_four(reference, ctx):
    model = run(PruneStep(m_by_n=(2, 4), finetune=ONE), reference.fresh_model(), ctx)
    k = kernels(model)["conv2"]  # Keras HWIO -> TFLite OHWI: M:N blocks run along input channels
    assert satisfies_m_by_n(np.transpose(k, (3, 0, 1, 2)), (2, 4))
    assert np.mean(k == 0) == pytest.approx(0.5)


def test_layer_selection_by_class_or_name(reference):
    model = reference.fresh_model()
    assert selected_layers(model, ("conv2",)) == ("conv2",)
    assert selected_layers(model, ("Conv2D", "Dense")) == ("conv1", "conv2", "classifier")
    with pytest.raises(RecipeError, match="matches no layer"):
        selected_layers(model, ("LSTM",))


def test_cluster_leaves_at_most_k_values_per_kernel(reference, ctx):
    model = run(ClusterStep(clusters=4, init="linear", finetune=ONE), reference.fresh_model(), ctx)
    for name, k in kernels(model).items():
        assert len(np.unique(k)) <= 4, name


def test_sparsity_preserving_cluster_keeps_zeros(pruned, ctx):
    model = run(ClusterStep(clusters=6, preserve_sparsity=True, finetune=ONE), pruned[0], ctx)
    for name, k in kernels(model).items():
        assert np.mean(k == 0) >= 0.59 and len(np.unique(k)) <= 6, name


def test_cluster_refuses_more_clusters_than_weights(reference, ctx):
    with pytest.raises(RecipeError, match="not enough for 200 clusters"):
        run(ClusterStep(clusters=200, finetune=ONE), reference.fresh_model(), ctx)


def test_qat_returns_a_quantize_aware_model(reference, ctx):
    model = run(QatStep(finetune=ONE), reference.fresh_model(), ctx)
    assert any(type(layer).__name__ == "QuantizeWrapperV2" for layer in model.layers)


def test_ptq_is_a_conversion_option_only(reference, ctx):
    model = reference.fresh_model()
    assert run(PtqStep(mode="int8"), model, ctx) is model


def test_batchnorm_recalibration_sets_moving_stats_to_the_data(reference, data):
    from sercompress.compress.batchnorm import recalibrate_batchnorm

    model = reference.fresh_model()
    bn = model.get_layer("bn1")
    bn.moving_mean.assign(np.full(bn.moving_mean.shape, 100.0, np.float32))
    kernels_before = [w.copy() for w in model.get_layer("conv1").get_weights()]
    assert recalibrate_batchnorm(model, data.train.x, batch_size=48) == 2
    conv_out = model.get_layer("conv1")(data.train.x).numpy()
    assert np.allclose(bn.moving_mean.numpy(), conv_out.mean(axis=(0, 1, 2)), atol=1e-3)
    assert bn.momentum == 0.99
    assert all(np.array_equal(a, b) for a, b in zip(model.get_layer("conv1").get_weights(), kernels_before))


def test_batchnorm_recalibration_reaches_inside_a_qat_model(reference, ctx, data):
    """The runner re-estimates BN statistics after QAT too: the BN layers sit inside the quantize
    wrappers, and only their statistics (and activation ranges, by their moving average) may move."""
    from sercompress.compress.batchnorm import recalibrate_batchnorm

    qat = run(QatStep(finetune=ONE), reference.fresh_model(), ctx)
    bns = [m for m in qat.submodules if type(m).__name__ == "BatchNormalization"]
    assert len(bns) == 2
    for bn in bns:
        bn.moving_mean.assign(np.full(bn.moving_mean.shape, 100.0, np.float32))
    kernels_before = {w.name: w.numpy().copy() for w in qat.trainable_weights}
    assert recalibrate_batchnorm(qat, data.train.x) == 2
    assert all(np.abs(bn.moving_mean.numpy()).max() < 50 for bn in bns)
    assert all(np.array_equal(w.numpy(), kernels_before[w.name]) for w in qat.trainable_weights)



def clustered_by_hand(model, clusters: int = 16):
    """Each kernel snapped to ``clusters`` values (per tensor), with conv2's every output channel
    holding all of them: what a per-tensor cluster step gives Light-SERNet's wide convolutions."""
    for layer in model.layers:
        if type(layer).__name__ in ("Conv2D", "Dense"):
            weights = layer.get_weights()
            k = weights[0]
            centroids = np.quantile(k, np.linspace(0, 1, clusters)).astype(np.float32)
            snapped = centroids[np.abs(k[..., None] - centroids).argmin(-1)]
            if layer.name == "conv2":
                flat = snapped.reshape(-1, k.shape[-1])
                flat[:clusters] = centroids[:, None]
                snapped = flat.reshape(k.shape)
            layer.set_weights([snapped, *weights[1:]])
    return model


def test_cqat_keeps_one_set_of_centroids_per_kernel_through_int8(reference, ctx, tmp_path):
    """CQAT regression: a per-tensor clustered conv whose channels each hold all 16 values was read
    by tfmot as per-channel clustering (32 x 16 trainable centroids drifting apart), which cost
    Light-SERNet 12 points of UA in one epoch."""
    from sercompress.export.tflite import to_tflite
    from sercompress.export.verify import Claim, verify_tflite

    clustered = clustered_by_hand(reference.fresh_model())
    step = QatStep(preserve="clusters", finetune=Finetune(epochs=2, learning_rate=1e-3, batch_size=16))
    qat = technique_for(step).apply(clustered, step, ctx)
    centroids = {w.name: tuple(w.shape) for w in qat.weights if "cluster_centroids" in w.name}
    assert len(centroids) == 3 and all(len(shape) == 1 for shape in centroids.values()), centroids
    for layer in qat.layers:
        kernel = [w.numpy() for w in layer.weights if w.name.endswith("kernel:0")]
        if kernel:
            assert len(np.unique(kernel[0])) <= 16, layer.name
    path = tmp_path / "cqat.tflite"
    path.write_bytes(to_tflite(qat, "int8", np.asarray(reference.data().train.x[:32]), int8_io=True))
    verification = verify_tflite(path, [Claim(clusters=16, layers=("conv1", "conv2", "classifier"))])
    assert verification.ok, verification.problems
