"""Light-SERNet (Aftab et al., ICASSP 2022), exactly as the official code builds it.

Three parallel convolution paths capture temporal (11x1), spectral (1x9) and
joint (3x3) patterns on the MFCC input; their outputs are concatenated and go
through four local-feature-learning blocks and a 1x1 convolution, global
average pooling, dropout and a softmax classifier.

4 classes, 3 s MFCC input (184 x 40 x 1): 462,468 parameters, 160.2 M MACs.
"""

from __future__ import annotations

from ..tf_env import keras

#: (filters, pool size) of the four local-feature-learning blocks.
LFLB_BLOCKS: tuple[tuple[int, tuple[int, int]], ...] = (
    (64, (2, 2)),
    (96, (2, 2)),
    (128, (2, 1)),
    (160, (2, 1)),
)
PATH_KERNELS: tuple[tuple[int, int], ...] = ((11, 1), (1, 9), (3, 3))
PATH_FILTERS = 32
HEAD_FILTERS = 320
L2_WEIGHT = 1e-6
DROPOUT = 0.3


def light_sernet_from_shape(input_shape: tuple[int, int, int], n_classes: int, name: str = "light_sernet"):
    k = keras()
    layers = k.layers
    reg = k.regularizers.l2(L2_WEIGHT)
    inputs = k.Input(shape=input_shape, name="features")

    paths = []
    for i, kernel in enumerate(PATH_KERNELS, start=1):
        x = layers.Conv2D(PATH_FILTERS, kernel, padding="same", name=f"path{i}_conv")(inputs)
        x = layers.BatchNormalization(name=f"path{i}_bn")(x)
        x = layers.ReLU(name=f"path{i}_relu")(x)
        x = layers.AveragePooling2D(pool_size=(2, 2), padding="same", name=f"path{i}_pool")(x)
        paths.append(x)
    x = layers.Concatenate(axis=-1, name="paths_concat")(paths)

    for i, (filters, pool) in enumerate(LFLB_BLOCKS, start=1):
        x = layers.Conv2D(filters, (3, 3), padding="same", use_bias=False,
                          kernel_regularizer=reg, name=f"lflb{i}_conv")(x)
        x = layers.BatchNormalization(name=f"lflb{i}_bn")(x)
        x = layers.ReLU(name=f"lflb{i}_relu")(x)
        x = layers.AveragePooling2D(pool_size=pool, padding="same", name=f"lflb{i}_pool")(x)

    x = layers.Conv2D(HEAD_FILTERS, (1, 1), padding="same", use_bias=False,
                      kernel_regularizer=reg, name="head_conv")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.ReLU(name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(DROPOUT, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return k.Model(inputs, outputs, name=name)
