"""Sizes read from audio headers and label files are bounded before anything is allocated."""

import os
import struct

import pytest
from .conftest import write_wav

from sercompress.data import CorpusOptions
from sercompress.data.audio import MAX_RATE, MIN_RATE, UnusableAudio, read_audio
from sercompress.data.iemocap import MAX_LABEL_BYTES, scan
from sercompress.errors import DataError


def _patch_rate(path, rate):
    """Rewrite the fmt chunk's sample rate and byte rate (a canonical 44-byte PCM header)."""
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"fmt "
    channels, bits = struct.unpack_from("<H", data, 22)[0], struct.unpack_from("<H", data, 34)[0]
    struct.pack_into("<I", data, 24, rate)
    struct.pack_into("<I", data, 28, (rate * channels * bits // 8) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("rate", [2_147_483_647, 1_000_003, MAX_RATE + 1, MIN_RATE - 1, 1])
def test_absurd_header_sample_rate_is_refused_before_resampling(tmp_path, rate):
    """2**31 - 1 Hz asked the resampler for 320 GiB; 1,000,003 Hz took 1 GB for a 200 KB file."""
    path = _patch_rate(write_wav(tmp_path / "a.wav", seconds=0.5), rate)
    with pytest.raises(UnusableAudio, match="sample rate") as e:
        read_audio(path)
    assert e.value.path == path


@pytest.mark.parametrize("rate", [MIN_RATE, 44_100, MAX_RATE])
def test_real_sample_rates_still_resample(tmp_path, rate):
    x = read_audio(write_wav(tmp_path / "a.wav", seconds=0.25, sr=rate))
    assert x.shape == (4000,)


def test_huge_iemocap_label_file_is_refused_unread(tmp_path):
    """A 1 GiB label file was read whole (2.1 GB); a sparse 5 MiB one is refused from its size."""
    root = tmp_path / "iemocap"
    labels = root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    labels.parent.mkdir(parents=True)
    with open(labels, "wb") as f:
        f.truncate(MAX_LABEL_BYTES + 1)
    (root / "Session1" / "sentences" / "wav").mkdir(parents=True)
    with pytest.raises(DataError, match="label file is") as e:
        scan(root, CorpusOptions())
    assert e.value.path == labels


def test_label_fifo_is_refused(tmp_path):
    root = tmp_path / "iemocap"
    labels = root / "Session1" / "dialog" / "EmoEvaluation" / "x.txt"
    labels.parent.mkdir(parents=True)
    os.mkfifo(labels)
    with pytest.raises(DataError, match="not a regular file"):
        scan(root, CorpusOptions())
