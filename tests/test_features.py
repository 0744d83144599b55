import numpy as np
import pytest

from sercompress.features import FeatureCache, FeatureConfig, compute_features, fit_length, n_frames


def test_frame_arithmetic():
    assert n_frames(48000) == 184 and FeatureConfig().n_frames == 184
    assert FeatureConfig(duration_s=7.0).n_frames == (112000 - 1024 + 256) // 256 == 434
    assert FeatureConfig(duration_s=7.0).shape == (434, 40, 1)


def test_fit_length_cuts_the_start_or_zero_pads():
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(fit_length(x, 4), x[:4])
    y = fit_length(x, 12)
    assert y.shape == (12,) and np.array_equal(y[:10], x) and not y[10:].any()


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    loud = rng.standard_normal(40000).astype(np.float32)  # 2.5 s: zero-padded to 3 s
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(50000) / 16000).astype(np.float32)  # cut
    return [loud, tone]


@pytest.mark.parametrize("kind, bins", [("mfcc", 40), ("spectrogram", 513), ("mel_spectrogram", 128)])
def test_shapes(clips, kind, bins):
    out = compute_features(clips, FeatureConfig(input_type=kind))
    assert out.shape == (2, 184, bins) and out.dtype == np.float32 and np.all(np.isfinite(out))


def test_mfcc_is_clipped_but_log_mel_is_not(clips):
    mfcc = compute_features(clips, FeatureConfig())
    assert mfcc.max() == pytest.approx(10.0) and mfcc.min() >= -10.0  # loud noise saturates c0
    mel = compute_features(clips, FeatureConfig(input_type="mel_spectrogram"))
    assert mel.min() == pytest.approx(np.log(1e-6), abs=1e-3)  # padded frames: log(0 + 1e-6)


def test_spectrogram_matches_a_numpy_stft(clips):
    spec = compute_features(clips[1:], FeatureConfig(input_type="spectrogram"))[0]
    x = fit_length(clips[1], 48000).astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)  # periodic Hann, as tf.signal
    frames = np.stack([x[i * 256:i * 256 + 1024] * window for i in range(184)])
    np.testing.assert_allclose(spec, np.abs(np.fft.rfft(frames, 1024)), rtol=1e-3, atol=1e-3)
    assert spec[10].argmax() == round(440 * 1024 / 16000)


def test_cache_round_trip_and_bad_entries_are_misses(tmp_path):
    cfg = FeatureConfig()
    cache = FeatureCache(tmp_path, cfg)
    arr = np.random.default_rng(1).standard_normal((184, 40)).astype(np.float32)
    assert cache.load("ab" * 32) is None
    path = cache.save("ab" * 32, arr)
    assert np.array_equal(cache.load("ab" * 32), arr)
    assert not list(path.parent.glob(".*"))  # no temporary left behind
    np.save(path, arr[:10])
    assert cache.load("ab" * 32) is None  # wrong shape
    path.write_bytes(b"garbage")
    assert cache.load("ab" * 32) is None
    other = FeatureCache(tmp_path, FeatureConfig(duration_s=7.0))
    assert other.root != cache.root
