"""Acoustic features as the Light-SERNet reference implementation computes them.

16 kHz mono; STFT frame 1024, hop 256, FFT 1024, magnitude; 128 mel bins
80-7600 Hz; log(mel + 1e-6); DCT-II MFCCs, first 40 kept, clipped to [-10, 10].
Frames = (samples - 1024 + 256) // 256, so 3 s -> 184 frames.

Features are computed once per (clip, feature config) with ``tf.signal`` and
kept in a :class:`FeatureCache` keyed by content hashes; TensorFlow is only
imported when something has to be computed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import ConfigError
from .storage import atomic_write_bytes, content_hash

InputType = Literal["mfcc", "spectrogram", "mel_spectrogram"]
INPUT_TYPES: tuple[str, ...] = ("mfcc", "spectrogram", "mel_spectrogram")


@dataclass(frozen=True)
class FeatureConfig:
    input_type: InputType = "mfcc"
    duration_s: float = 3.0
    sample_rate: int = 16000
    frame_length: int = 1024
    frame_step: int = 256
    fft_length: int = 1024
    n_mels: int = 128
    fmin: float = 80.0
    fmax: float = 7600.0
    n_mfcc: int = 40
    clip: float = 10.0
    log_offset: float = 1e-6

    def __post_init__(self) -> None:
        if self.input_type not in INPUT_TYPES:
            raise ConfigError(f"must be one of {INPUT_TYPES}, got {self.input_type!r}", key="input_type")
        if not 0 < self.duration_s <= 60:
            raise ConfigError(f"must be in (0, 60], got {self.duration_s}", key="duration_s")

    @property
    def n_samples(self) -> int:
        return int(round(self.duration_s * self.sample_rate))

    @property
    def n_frames(self) -> int:
        return n_frames(self.n_samples, self.frame_length, self.frame_step)

    @property
    def n_bins(self) -> int:
        return {"mfcc": self.n_mfcc, "spectrogram": self.fft_length // 2 + 1,
                "mel_spectrogram": self.n_mels}[self.input_type]

    @property
    def shape(self) -> tuple[int, int, int]:
        """Model input shape (frames, bins, 1)."""
        return (self.n_frames, self.n_bins, 1)

    def to_dict(self) -> dict:
        return asdict(self)


def n_frames(n_samples: int, frame_length: int = 1024, frame_step: int = 256) -> int:
    """Frame count of the reference: (samples - frame_length + frame_step) // frame_step."""
    return (n_samples - frame_length + frame_step) // frame_step


# --- computing features -----------------------------------------------------------------------

#: Clips per TensorFlow call: bounds memory (a 64 x 3 s batch of 513-bin spectra is ~24 MB).
BATCH_SIZE = 64


def feature_digest(cfg: FeatureConfig) -> str:
    """Hash of everything in ``cfg`` that changes the arrays (names the cache directory)."""
    return content_hash("features", FEATURE_VERSION, cfg.to_dict())


def fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Cut to the first ``n_samples`` or zero-pad at the end, as the reference does."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size >= n_samples:
        return audio[:n_samples]
    return np.pad(audio, (0, n_samples - audio.size))


def compute_features(clips: Sequence[np.ndarray], cfg: FeatureConfig) -> np.ndarray:
    """Features of mono 16 kHz clips: float32 ``[N, frames, bins]`` (no channel axis).

    Uses ``tf.signal`` exactly as the Light-SERNet reference, batched, so the
    numbers match it; TensorFlow is imported only here.
    """
    if not clips:
        return np.zeros((0, cfg.n_frames, cfg.n_bins), dtype=np.float32)
    batch = np.stack([fit_length(c, cfg.n_samples) for c in clips])
    out = [_tf_features(batch[i:i + BATCH_SIZE], cfg) for i in range(0, len(batch), BATCH_SIZE)]
    return np.concatenate(out).astype(np.float32, copy=False)


def _tf_features(batch: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    from .tf_env import tf

    t = tf()
    stfts = t.signal.stft(t.constant(batch), frame_length=cfg.frame_length, frame_step=cfg.frame_step,
                          fft_length=cfg.fft_length)
    spectrograms = t.abs(stfts)
    if cfg.input_type == "spectrogram":
        return spectrograms.numpy()
    mel_matrix = t.signal.linear_to_mel_weight_matrix(
        cfg.n_mels, cfg.fft_length // 2 + 1, cfg.sample_rate, cfg.fmin, cfg.fmax)
    mel = t.tensordot(spectrograms, mel_matrix, 1)
    log_mel = t.math.log(mel + cfg.log_offset)
    if cfg.input_type == "mel_spectrogram":
        return log_mel.numpy()
    mfccs = t.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., : cfg.n_mfcc]
    return t.clip_by_value(mfccs, -cfg.clip, cfg.clip).numpy()


# --- the on-disk cache --------------------------------------------------------------------------

#: Bump when the feature computation changes, so stale caches are never read.
FEATURE_VERSION = 1


class FeatureCache:
    """Features of one clip under one config, stored as ``.npy`` keyed by content hashes.

    The key is (hash of the clip's audio content, :func:`feature_digest`), so a
    renamed file hits and an edited one misses. Files are written to a
    temporary name and renamed (never half-written) and read with
    ``allow_pickle=False``; an unreadable or mis-shaped entry counts as a miss.
    """

    def __init__(self, cache_dir: str | Path, cfg: FeatureConfig):
        self.cfg = cfg
        self.root = Path(cache_dir) / "features" / feature_digest(cfg)

    def path(self, audio_hash: str) -> Path:
        return self.root / audio_hash[:2] / f"{audio_hash}.npy"

    def load(self, audio_hash: str) -> np.ndarray | None:
        path = self.path(audio_hash)
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if arr.dtype != np.float32 or arr.shape != (self.cfg.n_frames, self.cfg.n_bins):
            return None
        return arr

    def save(self, audio_hash: str, features: np.ndarray) -> Path:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(features, dtype=np.float32), allow_pickle=False)
        return atomic_write_bytes(self.path(audio_hash), buf.getvalue())
