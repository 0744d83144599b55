"""An ELU + unrolled-LSTM model (what the CNN-LSTM baseline exports to) profiles with no unknown op."""

import pytest

pytestmark = pytest.mark.slow


def test_unrolled_lstm_and_elu_are_known_and_estimated(tmp_path):
    from sercompress.export.tflite import to_tflite
    from sercompress.profile import profile_artifact
    from sercompress.profile.hardware import get_hw_profile
    from sercompress.profile.latency import estimate
    from sercompress.tf_env import keras

    k = keras()
    inp = k.Input((8, 6, 1))
    x = k.layers.Conv2D(4, 3, padding="same", activation="elu")(inp)
    x = k.layers.Reshape((8, 24))(x)
    x = k.layers.LSTM(5, unroll=True)(x)
    out = k.layers.Dense(3, activation="softmax")(x)
    path = tmp_path / "m.tflite"
    path.write_bytes(to_tflite(k.Model(inp, out)))

    static = profile_artifact(path)
    assert static.unknown_ops == ()
    assert {"Elu", "Unpack"} <= {layer.op for layer in static.layers}
    latency = estimate(static, get_hw_profile("rpi4"))
    assert latency.source == "estimated" and latency.ms > 0
