"""Robust audio reading: whatever is on disk becomes 16 kHz mono float32, or a clear skip.

Real corpus copies contain surprises (a stereo 44.1 kHz re-encode, a file cut
short by a failed copy, a silent placeholder). Each is either repaired
(resampled, mixed to mono) or refused with an :class:`UnusableAudio` naming the
file and the reason, so the caller can skip it and report it. Allocation is
bounded: size and length are checked from the header before decoding.
"""

from __future__ import annotations

import struct
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import UnusableAudio

#: Refuse (skip) files longer than this many seconds: emotion clips are a few seconds.
MAX_SECONDS = 60.0
#: Refuse (skip) files larger than this many bytes, checked before opening.
MAX_BYTES = 64 * 1024 * 1024
#: Sample rates a real recording has (telephone 8 kHz to studio 192 kHz). Outside this range
#: the header is lying: 2,147,483,647 Hz made the resampler ask for 320 GiB, 1,000,003 Hz
#: (prime, so no common factor with 16 kHz) 1 GB for a 200 KB file.
MIN_RATE, MAX_RATE = 8_000, 192_000
#: Channels of a real recording; more is a corrupt header (the decoder allocates frames x channels).
MAX_CHANNELS = 8
#: Decoded samples per byte of file: PCM holds at most one sample per byte; FLAC and Vorbis
#: compress speech far less than 32:1. Bounds the decoded array by the file's size.
MAX_SAMPLES_PER_BYTE = 32


def read_audio(path: str | Path, sample_rate: int = 16000, *, max_seconds: float = MAX_SECONDS,
               max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sample_rate`` (raises UnusableAudio)."""
    import soundfile as sf

    path = Path(path)
    size = _file_size(path)
    if size > max_bytes:
        raise UnusableAudio(f"file is {size} bytes, more than the {max_bytes} allowed", path=path)
    try:
        info = sf.info(str(path))
    except Exception as e:  # libsndfile raises several types for broken headers
        raise UnusableAudio(f"not a readable audio file ({_short(e)})", path=path) from None
    if info.samplerate <= 0 or info.frames <= 0:
        raise UnusableAudio("audio file holds no samples", path=path)
    _check_header_bounds(info, size, path)
    if info.frames / info.samplerate > max_seconds:
        raise UnusableAudio(
            f"audio is {info.frames / info.samplerate:.1f} s long, more than the {max_seconds:g} s allowed",
            path=path)
    if path.suffix.lower() == ".wav" and _wav_truncated(path, size):
        raise UnusableAudio("WAV file is truncated (data chunk shorter than its header says)", path=path)
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise UnusableAudio(f"audio data cannot be decoded ({_short(e)})", path=path) from None
    if data.shape[0] < info.frames:
        raise UnusableAudio(f"file is truncated: {data.shape[0]} of {info.frames} frames readable", path=path)
    return _normalise(data, sr, sample_rate, path)


def _check_header_bounds(info: object, size: int, path: Path) -> None:
    """Everything the decoder and resampler will allocate, checked from the header first."""
    rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)  # type: ignore[attr-defined]
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UnusableAudio(f"header claims a sample rate of {rate} Hz, outside the "
                            f"{MIN_RATE}-{MAX_RATE} Hz a recording has", path=path)
    if not 1 <= channels <= MAX_CHANNELS:
        raise UnusableAudio(f"header claims {channels} channels (at most {MAX_CHANNELS})", path=path)
    if frames * channels > MAX_SAMPLES_PER_BYTE * max(size, 1):
        raise UnusableAudio(f"header claims {frames * channels:,} samples, more than a {size:,}-byte "
                            "file can hold", path=path)


def _normalise(data: np.ndarray, sr: int, sample_rate: int, path: Path) -> np.ndarray:
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(mono)):
        raise UnusableAudio("audio contains NaN or infinite samples", path=path)
    if not np.any(mono):
        raise UnusableAudio("audio is all zeros (silent placeholder)", path=path)
    if sr != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(int(sr), int(sample_rate))
        mono = resample_poly(mono, sample_rate // g, int(sr) // g)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as e:
        raise UnusableAudio(f"cannot stat file ({e.strerror})", path=path) from None


def _wav_truncated(path: Path, size: int) -> bool:
    """True when the RIFF ``data`` chunk claims more bytes than the file holds.

    libsndfile silently shortens such files; a copy cut short must not pass as
    a shorter utterance. Only the chunk headers are read.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return False  # not plain RIFF/WAVE (e.g. RF64): trust libsndfile
            fmt = "<I" if head[:4] == b"RIFF" else ">I"
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk = f.read(8)
                if len(chunk) < 8:
                    return True
                (length,) = struct.unpack(fmt, chunk[4:8])
                if chunk[:4] == b"data":
                    return length != 0xFFFFFFFF and pos + 8 + length > size
                pos += 8 + length + (length & 1)
    except OSError:
        return True
    return False


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:160]
