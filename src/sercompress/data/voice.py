"""The source-filter voice that renders one synthetic utterance from its parameters.

Split from :mod:`.synthetic` (which chooses speakers, emotions and per-utterance
parameters) so that each module has one job: this one only turns a parameter set
into samples. Glottal pulses along an F0 contour, a glottal low-pass for spectral
tilt, aspiration noise, syllables of a consonant burst plus a formant-filtered
vowel, lip radiation, then gain and pink + white background noise at the drawn SNR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .synthetic import Speaker, SyntheticSpec

SAMPLE_RATE = 16000

VOWELS: np.ndarray = np.array([
    [730, 1090, 2440, 3400],  # a
    [530, 1840, 2480, 3500],  # e
    [270, 2290, 3010, 3700],  # i
    [570, 840, 2410, 3300],   # o
    [300, 870, 2240, 3300],   # u
    [660, 1720, 2410, 3400],  # ae
    [520, 1190, 2390, 3400],  # schwa
], dtype=np.float64)
BANDWIDTHS: np.ndarray = np.array([80.0, 100.0, 150.0, 220.0])

def render(p: dict[str, float], spk: Speaker, spec: SyntheticSpec, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import lfilter

    sr = SAMPLE_RATE
    syllables = _syllable_plan(p["rate"], spec.max_seconds, rng)
    n = int(min(spec.max_seconds, syllables[-1][2] + rng.uniform(0.1, 0.35)) * sr)
    voiced = np.zeros(n)
    for _, v0, v1, _ in syllables:
        voiced[int(v0 * sr):int(v1 * sr)] = 1.0

    f0 = _f0_contour(p, syllables, n, rng)
    phase = np.cumsum(f0 / sr)
    pulse_at = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulse_at = pulse_at[voiced[pulse_at] > 0]
    source = np.zeros(n)
    source[pulse_at] = 1.0 + p["shimmer"] * rng.standard_normal(pulse_at.size)
    g = p["tilt"]
    source = lfilter([(1 - g) ** 2], [1.0, -2 * g, g * g], source)
    source = source / (np.std(source[voiced > 0]) + 1e-9)
    breath = rng.standard_normal(n) * (0.6 + 0.4 * np.cos(2 * np.pi * phase)) * p["breath"] * 2.0
    excitation = (source + breath) * voiced

    speech = np.zeros(n)
    for onset, v0, v1, stress in syllables:
        _add_syllable(speech, excitation, onset, v0, v1, stress, spk, p, rng)
    speech = np.diff(speech, prepend=0.0)  # lip radiation
    return _mix(speech, voiced, p, rng)


def _syllable_plan(rate: float, max_seconds: float, rng: np.random.Generator) -> list[tuple[float, float, float, float]]:
    """(consonant onset, vowel start, vowel end, stress) times in seconds."""
    t = rng.uniform(0.08, 0.3)
    out = []
    for i in range(int(rng.integers(7, 14))):
        dur = rng.uniform(0.7, 1.3) / rate
        cons = dur * rng.uniform(0.15, 0.35)
        if t + dur > max_seconds - 0.1:
            break
        out.append((t, t + cons, t + dur * 0.95, float(rng.uniform(0.5, 1.0))))
        t += dur
        if i > 2 and rng.random() < 0.12:  # phrase break
            t += rng.uniform(0.08, 0.25)
    return out


def _f0_contour(p: dict[str, float], syllables: list, n: int, rng: np.random.Generator) -> np.ndarray:
    sr = SAMPLE_RATE
    t = np.arange(n) / sr
    semis = np.linspace(1.0, -1.5, n) * rng.uniform(0.5, 1.5)  # declination
    for onset, v0, v1, stress in syllables:
        if rng.random() < 0.55:
            a, b = int(onset * sr), int(v1 * sr)
            semis[a:b] += p["f0_range"] * stress * np.hanning(b - a)
    knots = rng.standard_normal(int(n / sr * 8) + 2) * 0.4 * p["f0_range"] / 3
    semis += np.interp(t, np.linspace(0, t[-1], knots.size), knots)
    per_period = rng.standard_normal(int(n / sr * 250) + 2) * p["jitter"]
    jitter = per_period[(t * 250).astype(int)]
    return p["f0"] * 2 ** (semis / 12) * (1 + jitter)


def _add_syllable(out: np.ndarray, excitation: np.ndarray, onset: float, v0: float, v1: float,
                  stress: float, spk: Speaker, p: dict[str, float], rng: np.random.Generator) -> None:
    """Add one consonant burst + formant-filtered vowel into ``out`` (in place: no full-length copies)."""
    from scipy.signal import sosfilt

    sr = SAMPLE_RATE
    a, b = int(v0 * sr), int(v1 * sr)
    tail = min(len(excitation), b + int(0.03 * sr))
    formants = VOWELS[rng.integers(len(VOWELS))] * spk.vtl * np.exp(rng.normal(0, 0.06, 4))
    env = _envelope(tail - a, b - a) * (0.6 + 0.4 * stress)
    out[a:tail] += sosfilt(_resonators(formants, BANDWIDTHS * (1 + p["breath"])), excitation[a:tail] * env)
    c0, c1 = int(onset * sr), a
    if c1 > c0:
        noise = rng.standard_normal(c1 - c0) * np.hanning(c1 - c0)
        centre = rng.uniform(1500, 6500)
        burst = sosfilt(_resonators(np.array([centre]), np.array([centre * 0.5])), noise)
        level = 10 ** ((rng.uniform(-20, -8) + 0.5 * p["level_db"]) / 20)
        out[c0:c1] += burst / (np.std(burst) + 1e-9) * level


def _envelope(n: int, voiced: int) -> np.ndarray:
    env = np.zeros(n)
    attack, release = max(1, voiced // 5), max(1, voiced // 3)
    env[:voiced] = 1.0
    env[:attack] = np.linspace(0, 1, attack)
    env[voiced - release:voiced] = np.linspace(1, 0, release)
    return env


def _resonators(freqs: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """Second-order sections of a cascade of unit-gain-at-DC formant resonators."""
    nyq = SAMPLE_RATE / 2
    freqs = np.clip(freqs, 60.0, nyq * 0.95)
    r = np.exp(-np.pi * bands[: len(freqs)] / SAMPLE_RATE)
    theta = 2 * np.pi * freqs / SAMPLE_RATE
    a1, a2 = -2 * r * np.cos(theta), r * r
    gain = 1 + a1 + a2
    return np.stack([gain, np.zeros_like(gain), np.zeros_like(gain), np.ones_like(gain), a1, a2], axis=1)


_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])


def _mix(speech: np.ndarray, voiced: np.ndarray, p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import lfilter

    active = speech[voiced > 0] if np.any(voiced) else speech
    speech = speech / (np.sqrt(np.mean(active ** 2)) + 1e-12) * 10 ** ((p["level_db"] + p["gain_db"] - 26) / 20)
    noise = lfilter(_PINK_B, _PINK_A, rng.standard_normal(len(speech)))
    noise += 0.3 * rng.standard_normal(len(speech))
    speech_rms = np.sqrt(np.mean(speech[voiced > 0] ** 2)) if np.any(voiced) else 1e-3
    noise *= speech_rms / (np.sqrt(np.mean(noise ** 2)) + 1e-12) * 10 ** (-p["snr_db"] / 20)
    y = speech + noise
    peak = np.max(np.abs(y))
    if peak > 0.99:
        y *= 0.99 / peak
    return y.astype(np.float32)
