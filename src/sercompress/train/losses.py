"""Per-clip training losses on integer labels and softmax probabilities."""

from __future__ import annotations

from ..errors import ConfigError
from .config import LossName

_EPS = 1e-7


def sparse_focal_loss(gamma: float = 2.0):
    """Focal loss (Lin et al. 2017) on integer labels and softmax outputs.

    -(1 - p_t)^gamma * log(p_t): confident correct predictions contribute
    little, so training focuses on hard clips. gamma = 0 is cross-entropy.
    No alpha (per-class weight) term.
    """
    from ..tf_env import tf

    t = tf()

    def focal_loss(y_true, y_prob):
        labels = t.cast(t.reshape(y_true, [-1]), t.int32)
        p = t.gather(y_prob, labels, axis=1, batch_dims=1)
        p = t.clip_by_value(p, _EPS, 1.0 - _EPS)
        return -t.pow(1.0 - p, gamma) * t.math.log(p)

    return focal_loss


def _cross_entropy(_gamma: float):
    from ..tf_env import keras

    return keras().losses.sparse_categorical_crossentropy


_LOSSES = {"cross_entropy": _cross_entropy, "focal": sparse_focal_loss}


def make_loss(name: LossName, focal_gamma: float = 2.0):
    """A per-clip Keras loss function on integer labels and softmax probabilities.

    Per clip (not reduced) so that Keras' batch mean and our validation mean agree.
    """
    if name not in _LOSSES:
        raise ConfigError(f"unknown loss '{name}'; valid choices: {sorted(_LOSSES)}", key="loss")
    return _LOSSES[name](focal_gamma)
