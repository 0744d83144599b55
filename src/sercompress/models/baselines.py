"""Larger speech-emotion models from the literature, the baselines Light-SERNet is measured against.

Each builder is ``(input_shape, n_classes, **hparams) -> tf_keras.Model`` and is
registered by name so that ``baselines/*.toml`` files can point at it and the
pipeline trains, exports and profiles it with exactly the code it uses for the
reference. Only layers that convert to TFLite builtins (float and full int8)
and to ONNX opset 17 are used: no Lambda layers (they would also break
``safe_mode`` loading), no Flex ops. The LSTM is a plain ``tf_keras`` LSTM,
recurrent (what ``baselines/cnn_lstm_2d.toml`` ships): the exporter converts it
at batch 1, fused into one ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op, the form a user
deploys. ``unroll=True`` exists for dynamic-batch exporters; every step then
gets its own operators on the shared weight buffers (the file is as large, the
per-operator parameter count ~9x the model's), and its training is not bit-reproducible
across processes (the weight gradients of the unrolled steps are summed in an
order that varies between processes; measured: identical initial weights, LSTM
weights differing by ~1e-8 after one step; the recurrent form repeats exactly).

The three models are deliberately *larger in parameters* than Light-SERNet
(462,468) while their multiply-accumulates stay within ~1.5x of its 160 M, so
that each trains on a 2-core CPU in a few minutes: the comparison is "what does
a bigger model from the literature buy", not "how long can we wait". Where a
builder departs from its paper (widths, pooling, attention variant), the
departure is written below and in the baseline's TOML ``notes``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError
from ..tf_env import keras
from . import register_model

Block = tuple[int, tuple[int, int]]


def _check_shape(input_shape: Sequence[int], min_frames: int, min_bins: int, name: str) -> None:
    """Fail early with a readable message instead of a Keras shape error deep in the graph."""
    frames, bins = int(input_shape[0]), int(input_shape[1])
    if frames < min_frames or bins < min_bins:
        raise ConfigError(
            f"{name}: input {tuple(input_shape)} is too small; needs at least "
            f"{min_frames} frames x {min_bins} bins for its pooling"
        )


def _pool_product(pools: Sequence[tuple[int, int]]) -> tuple[int, int]:
    t, f = 1, 1
    for pt, pf in pools:
        t, f = t * pt, f * pf
    return t, f


@register_model("cnn_lstm_2d")
def cnn_lstm_2d(
    input_shape: tuple[int, int, int],
    n_classes: int,
    blocks: Sequence[Block] = ((64, (2, 2)), (64, (2, 2)), (128, (2, 2)), (128, (2, 1))),
    lstm_units: int = 256,
    unroll: bool = False,
    name: str = "cnn_lstm_2d",
):
    """2D CNN-LSTM of Zhao, Mao and Chen (Biomed. Signal Process. Control 2019).

    Four local feature learning blocks (3x3 conv - batch norm - ELU - max pool)
    followed by an LSTM over the remaining time steps and a softmax layer. The
    paper pools 2x2 then 4x4 (three times) on log-mel spectrograms of whole
    utterances; on 3 s of 40 MFCCs that leaves one time step, so here the
    pools are (2,2), (2,2), (2,2), (2,1) and the frequency x channel plane of
    each of the remaining frames is the LSTM's input vector.

    ``unroll=False`` keeps one recurrent op, which the TFLite converter fuses
    into ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (float and int8) but only from a
    fixed-batch signature (``export.tflite.to_tflite`` converts such models at
    batch 1); with a dynamic batch dimension it fails on ``TensorListReserve``.
    ``unroll=True`` (same weights, same maths) unrolls the few time steps into
    plain builtins that convert from any signature; their per-step operators
    read the same weight buffers, so a per-operator count is ~9x the model's.
    """
    k = keras()
    layers = k.layers
    pools = [tuple(p) for _, p in blocks]
    need_t, need_f = _pool_product(pools)
    _check_shape(input_shape, need_t, need_f, "cnn_lstm_2d")
    inputs = k.Input(shape=input_shape, name="features")
    x = inputs
    for i, (filters, pool) in enumerate(blocks, start=1):
        x = layers.Conv2D(int(filters), (3, 3), padding="same", name=f"lflb{i}_conv")(x)
        x = layers.BatchNormalization(name=f"lflb{i}_bn")(x)
        x = layers.ELU(name=f"lflb{i}_elu")(x)
        x = layers.MaxPooling2D(pool_size=tuple(pool), name=f"lflb{i}_pool")(x)
    _, steps, bins, channels = x.shape
    x = layers.Reshape((int(steps), int(bins) * int(channels)), name="to_sequence")(x)
    x = layers.LSTM(int(lstm_units), unroll=bool(unroll), name="lstm")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return k.Model(inputs, outputs, name=name)


@register_model("attention_cnn")
def attention_cnn(
    input_shape: tuple[int, int, int],
    n_classes: int,
    parallel_filters: int = 8,
    stack: Sequence[tuple[int, bool]] = ((64, True), (128, True), (256, False), (256, False)),
    heads: int = 4,
    key_dim: int = 64,
    dropout: float = 0.3,
    name: str = "attention_cnn",
):
    """Attention CNN after MACNN (Xu, Zhang, Cui, Zhang; ICASSP 2021).

    As in MACNN: two parallel first convolutions with a temporal (10x2) and a
    spectral (2x8) kernel (8 filters each), concatenated, then a stack of 3x3 conv - batch norm -
    ReLU layers and self-attention over the positions of the final feature
    map. Departures, to make it a *larger* model that still trains on a CPU:
    wider layers (64-128-256-256 instead of 32-48-64-80), 2x2 max pools after
    the parallel pair and the first two stack layers so attention runs on a
    23 x 5 map (3 s MFCC), and standard multi-head self-attention (area size
    1) with a residual connection, followed by global average pooling instead
    of flatten. ``stack`` is ``((filters, pool_after), ...)``.
    """
    k = keras()
    layers = k.layers
    stack = [(int(f), bool(p)) for f, p in stack]
    if not stack:
        raise ConfigError("attention_cnn: needs at least one conv layer after the parallel pair", key="hparams.stack")
    n_pools = 1 + sum(p for _, p in stack)
    _check_shape(input_shape, 2**n_pools, 2**n_pools, "attention_cnn")
    inputs = k.Input(shape=input_shape, name="features")
    branches = []
    for tag, kernel in (("time", (10, 2)), ("freq", (2, 8))):
        b = layers.Conv2D(int(parallel_filters), kernel, padding="same", name=f"conv1_{tag}")(inputs)
        b = layers.BatchNormalization(name=f"conv1_{tag}_bn")(b)
        branches.append(layers.ReLU(name=f"conv1_{tag}_relu")(b))
    x = layers.Concatenate(axis=-1, name="conv1_concat")(branches)
    x = layers.MaxPooling2D((2, 2), name="conv1_pool")(x)
    for i, (f, pool) in enumerate(stack, start=2):
        x = layers.Conv2D(f, (3, 3), padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = layers.ReLU(name=f"conv{i}_relu")(x)
        if pool:
            x = layers.MaxPooling2D((2, 2), name=f"conv{i}_pool")(x)
    _, t, f_, c = x.shape
    seq = layers.Reshape((int(t) * int(f_), int(c)), name="to_positions")(x)
    att = layers.MultiHeadAttention(num_heads=int(heads), key_dim=int(key_dim), name="attention")(seq, seq)
    x = layers.Add(name="attention_residual")([seq, att])
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(float(dropout), name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return k.Model(inputs, outputs, name=name)


@register_model("vgg_cnn")
def vgg_cnn(
    input_shape: tuple[int, int, int],
    n_classes: int,
    blocks: Sequence[tuple[int, int]] = ((16, 1), (32, 1), (64, 2), (128, 2)),
    dense_units: Sequence[int] = (256, 256),
    dropout: float = 0.5,
    name: str = "vgg_cnn",
):
    """VGG-style CNN on log-mel spectrograms (after Popova et al. 2018, VGG-16 on mel spectrograms).

    VGG's recipe: stacks of 3x3 conv - ReLU with the channel count doubling
    after every 2x2 max pool, then fully connected layers on the flattened map
    (that is where VGG keeps most of its parameters). Narrower and shallower
    than VGG-16 (four blocks of 1-2 convs, 16-128 channels, two 256-unit dense
    layers) so that it trains from scratch on a CPU; batch norm is added after
    each conv because there is no ImageNet initialisation to lean on.
    ``blocks`` is ``((filters, n_convs), ...)``.
    """
    k = keras()
    layers = k.layers
    _check_shape(input_shape, 2 ** len(blocks), 2 ** len(blocks), "vgg_cnn")
    inputs = k.Input(shape=input_shape, name="features")
    x = inputs
    for b, (filters, n_convs) in enumerate(blocks, start=1):
        for c in range(1, int(n_convs) + 1):
            x = layers.Conv2D(int(filters), (3, 3), padding="same", use_bias=False,
                              name=f"block{b}_conv{c}")(x)
            x = layers.BatchNormalization(name=f"block{b}_conv{c}_bn")(x)
            x = layers.ReLU(name=f"block{b}_conv{c}_relu")(x)
        x = layers.MaxPooling2D((2, 2), name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense_units, start=1):
        x = layers.Dense(int(units), activation="relu", name=f"fc{i}")(x)
        x = layers.Dropout(float(dropout), name=f"fc{i}_dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return k.Model(inputs, outputs, name=name)


#: The architectures this module registers (the baselines' ``model`` keys).
BASELINE_MODELS: tuple[str, ...] = ("cnn_lstm_2d", "attention_cnn", "vgg_cnn")
