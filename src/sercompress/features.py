"""Acoustic features as the Light-SERNet reference implementation computes them.

16 kHz mono; STFT frame 1024, hop 256, FFT 1024, magnitude; 128 mel bins
80-7600 Hz; log(mel + 1e-6); DCT-II MFCCs, first 40 kept, clipped to [-10, 10].
Frames = (samples - 1024 + 256) // 256, so 3 s -> 184 frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

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
            raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {self.input_type!r}")
        if not 0 < self.duration_s <= 60:
            raise ValueError(f"duration_s must be in (0, 60], got {self.duration_s}")

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
