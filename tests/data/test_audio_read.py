import numpy as np
import pytest
import soundfile as sf
from .conftest import truncate, write_wav

from sercompress.data.audio import UnusableAudio, read_audio
from sercompress.errors import DataError


def test_stereo_44k_is_mixed_to_mono_and_resampled(tmp_path):
    path = write_wav(tmp_path / "s.wav", seconds=0.5, sr=44100, channels=2)
    x = read_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert x.shape[0] == 8000  # 0.5 s at 16 kHz
    left, _ = sf.read(path, always_2d=True)
    # the mix of (x, 0.5 x) is 0.75 x: its RMS survives resampling
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(0.75 * np.sqrt(np.mean(left[:, 0] ** 2)), rel=0.05)


@pytest.mark.parametrize("keep", [0.5, 0.02])
def test_truncated_wav_is_unusable(tmp_path, keep):
    path = truncate(write_wav(tmp_path / "t.wav"), keep)
    with pytest.raises(UnusableAudio) as e:
        read_audio(path)
    assert e.value.path == path and isinstance(e.value, DataError)


def test_all_zero_and_nan_audio_are_unusable(tmp_path):
    with pytest.raises(UnusableAudio, match="all zeros"):
        read_audio(write_wav(tmp_path / "z.wav", silent=True))
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.1, np.nan, 0.2] * 1000, dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(UnusableAudio, match="NaN"):
        read_audio(nan)


def test_allocation_is_bounded_before_decoding(tmp_path):
    path = write_wav(tmp_path / "long.wav", seconds=2.0)
    with pytest.raises(UnusableAudio, match="s long"):
        read_audio(path, max_seconds=1.0)
    with pytest.raises(UnusableAudio, match="bytes"):
        read_audio(path, max_bytes=1000)


def test_not_audio_is_unusable(tmp_path):
    path = tmp_path / "x.wav"
    path.write_text("not a wav file at all")
    with pytest.raises(UnusableAudio, match="not a readable audio file"):
        read_audio(path)
