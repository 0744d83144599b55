"""The embedded default corpus: SYNTHETIC emotional speech-like signals.

This is **not speech from people** and never stands in for a real corpus: it
exists so the whole pipeline (train, compress, export, profile) runs anywhere
without a download, and so the accuracy cost of compression is visible. Its
accuracies are not comparable with published results.

Each utterance is a source-filter "voice": glottal pulses along an F0 contour
(declination, pitch accents, jitter, shimmer), shaped by a glottal low-pass
(spectral tilt) and lip radiation, plus aspiration noise (breathiness); a
sequence of syllables, each a consonant noise burst followed by a vowel whose
formant resonances (F1-F4) are scaled by the speaker's vocal-tract length.
Emotions move the acoustic correlates reported in the literature (Scherer
2003; Banse and Scherer 1996; Juslin and Laukka 2003) relative to neutral:

============  ========  ========  ==========  =====  ===================
emotion       F0 mean   F0 range  intensity   rate   tilt / quality
============  ========  ========  ==========  =====  ===================
neutral       mid       narrow    mid         mid    mid
happy         high      wide      raised      fast   slightly flatter
sad           low       narrow    low         slow   steep, breathy
angry         high      wide      loud        fast   flat (tense)
============  ========  ========  ==========  =====  ===================

Speakers differ in base F0, vocal-tract length, habitual rate, voice quality
and expressiveness; every utterance draws its parameters around its emotion's
target with a spread wide enough for classes to overlap (happy and angry most),
then gets a random recording gain and background noise at a random SNR. The
spread (``SyntheticSpec``) was tuned so the reference Light-SERNet reaches a
clearly imperfect speaker-independent accuracy: Adam lr 1e-4, batch 32, 30
epochs (``train.fit``, best epoch on validation), test UA 86.4 % on fold 0 and
77.8 % on fold 2 (a wider spread gave 71.0 % / 76.7 %, wider still 69.9 %).

Generation is deterministic: utterance ``(speaker, emotion, k)`` is drawn from
its own ``numpy.random.default_rng([seed, speaker, emotion, k])``. The corpus
is written once as 16-bit WAV files plus a manifest under
``<cache_dir>/synthetic/<hash>/`` (published atomically, ``DONE`` last) and is
then read like any other corpus directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..storage import content_hash, is_done, mark_done
from .types import Corpus, CorpusOptions, Utterance
from .voice import SAMPLE_RATE, render

GENERATOR_VERSION = 1
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry")
SPEAKERS_PER_GROUP = 2


@dataclass(frozen=True)
class EmotionProfile:
    """Targets of one emotion (neutral is the reference point)."""

    f0_scale: float   # x the speaker's base F0
    f0_range: float   # pitch-accent excursion, semitones
    level_db: float   # vocal effort relative to neutral
    rate: float       # x the speaker's syllable rate
    tilt: float       # glottal low-pass pole: higher = steeper spectral tilt (softer voice)
    breath: float     # aspiration noise relative to voicing
    jitter: float     # period-to-period F0 perturbation (fraction)
    shimmer: float    # pulse-to-pulse amplitude perturbation (fraction)


PROFILES: dict[str, EmotionProfile] = {
    "neutral": EmotionProfile(1.00, 2.5, 0.0, 1.00, 0.950, 0.10, 0.008, 0.05),
    "happy": EmotionProfile(1.22, 6.0, 3.0, 1.12, 0.935, 0.10, 0.010, 0.06),
    "sad": EmotionProfile(0.90, 1.2, -5.0, 0.78, 0.972, 0.35, 0.018, 0.09),
    "angry": EmotionProfile(1.28, 5.0, 7.0, 1.18, 0.900, 0.05, 0.012, 0.07),
}

#: Male adult vowel formants (Hz), F1..F4; scaled by the speaker's vocal-tract factor.


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and difficulty of the corpus; every field is part of its hash."""

    n_speakers: int = 10
    per_emotion: int = 22
    seed: int = 0
    variation: float = 0.5          # scales every per-utterance spread
    expressiveness: tuple[float, float] = (0.8, 1.2)  # how far an utterance moves from neutral
    snr_db: tuple[float, float] = (8.0, 30.0)
    gain_db: float = 4.0            # +- random recording gain
    max_seconds: float = 3.4
    #: (group index, clips per emotion) for the speakers of one fold group (the test fold)
    group_per_emotion: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.n_speakers < 2 * SPEAKERS_PER_GROUP:
            raise DataError(f"synthetic corpus needs at least {2 * SPEAKERS_PER_GROUP} speakers, "
                            f"got {self.n_speakers}", key="synthetic_speakers")
        if not 1 <= self.per_emotion <= 500:
            raise DataError(f"synthetic_per_emotion must be in 1..500, got {self.per_emotion}",
                            key="synthetic_per_emotion")
        if self.group_per_emotion is not None and not 1 <= self.group_per_emotion[1] <= 500:
            raise DataError(f"synthetic_test_per_emotion must be in 1..500, got {self.group_per_emotion[1]}",
                            key="synthetic_test_per_emotion")

    def clips_per_emotion(self, speaker_index: int) -> int:
        """Utterances per emotion of one speaker (clip k is the same whatever the count)."""
        g = self.group_per_emotion
        if g is not None and speaker_index // SPEAKERS_PER_GROUP == g[0]:
            return g[1]
        return self.per_emotion
    @property
    def digest(self) -> str:
        fields = asdict(self)
        if self.group_per_emotion is None:  # unset: corpora generated before the option keep their hash
            del fields["group_per_emotion"]
        return content_hash(GENERATOR_VERSION, fields)


@dataclass(frozen=True)
class Speaker:
    name: str
    female: bool
    f0: float
    vtl: float           # formant scale: >1 for a shorter (female) vocal tract
    rate: float          # habitual syllables per second
    tilt: float          # offset of the glottal pole
    breath: float        # offset of aspiration
    expressive: float    # personal scale of emotional deviation


def make_speakers(spec: SyntheticSpec) -> tuple[Speaker, ...]:
    """Alternating female/male speakers, so every fold pair holds one of each."""
    out = []
    for i in range(spec.n_speakers):
        rng = np.random.default_rng([spec.seed, 7919, i])
        female = i % 2 == 0
        f0 = rng.uniform(175, 235) if female else rng.uniform(92, 135)
        vtl = rng.uniform(1.12, 1.22) if female else rng.uniform(0.92, 1.04)
        out.append(Speaker(
            name=f"spk{i + 1:02d}{'F' if female else 'M'}", female=female, f0=float(f0), vtl=float(vtl),
            rate=float(rng.uniform(3.8, 4.8)), tilt=float(rng.normal(0, 0.008)),
            breath=float(rng.uniform(0.0, 0.10)), expressive=float(rng.uniform(0.85, 1.15))))
    return tuple(out)


def group_of(index: int) -> str:
    return f"pair{index // SPEAKERS_PER_GROUP + 1:02d}"


def synthesize(spec: SyntheticSpec, speaker: Speaker, emotion: str, k: int, speaker_index: int) -> np.ndarray:
    """One utterance as float32 samples in [-1, 1] (deterministic in its arguments)."""
    e = EMOTIONS.index(emotion)
    rng = np.random.default_rng([spec.seed, speaker_index, e, k])
    p = _utterance_params(spec, speaker, PROFILES[emotion], PROFILES["neutral"], rng)
    return render(p, speaker, spec, rng)


def _utterance_params(spec: SyntheticSpec, spk: Speaker, emo: EmotionProfile, neu: EmotionProfile,
                      rng: np.random.Generator) -> dict[str, float]:
    v = spec.variation
    x = rng.uniform(*spec.expressiveness) * spk.expressive

    def toward(name: str) -> float:
        a, b = getattr(neu, name), getattr(emo, name)
        return a + x * (b - a)

    return {
        "f0": spk.f0 * toward("f0_scale") * float(np.exp(rng.normal(0, 0.07 * v))),
        "f0_range": max(0.3, toward("f0_range") * float(np.exp(rng.normal(0, 0.35 * v)))),
        "level_db": toward("level_db") + rng.normal(0, 2.5 * v),
        "rate": spk.rate * toward("rate") * float(np.exp(rng.normal(0, 0.10 * v))),
        "tilt": float(np.clip(toward("tilt") + spk.tilt + rng.normal(0, 0.012 * v), 0.80, 0.990)),
        "breath": max(0.0, toward("breath") + spk.breath + rng.normal(0, 0.06 * v)),
        "jitter": max(0.0, toward("jitter") * float(np.exp(rng.normal(0, 0.3 * v)))),
        "shimmer": max(0.0, toward("shimmer") * float(np.exp(rng.normal(0, 0.3 * v)))),
        "snr_db": rng.uniform(*spec.snr_db),
        "gain_db": rng.uniform(-spec.gain_db, spec.gain_db),
    }


#: below this many clips one process generates them all: starting worker processes costs more
PARALLEL_MIN_CLIPS = 300


def generate(spec: SyntheticSpec, directory: Path) -> None:
    """Write every utterance as 16-bit WAV plus ``manifest.json`` into ``directory``.

    Speakers are written by one process per core for a corpus of :data:`PARALLEL_MIN_CLIPS`
    clips or more (the default corpus: 880 clips, about 10 s on one core). Every clip is drawn
    from its own seed, so the files are the same whichever process writes them.
    """
    (directory / "wav").mkdir(parents=True, exist_ok=True)
    speakers = range(spec.n_speakers)
    clips = sum(spec.clips_per_emotion(i) for i in speakers) * len(EMOTIONS)
    workers = min(os.cpu_count() or 1, spec.n_speakers)
    if clips < PARALLEL_MIN_CLIPS or workers < 2:
        per_speaker = [_write_speaker(spec, i, directory) for i in speakers]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            per_speaker = list(pool.map(_write_speaker, [spec] * spec.n_speakers, speakers,
                                        [directory] * spec.n_speakers))
    manifest = {"generator_version": GENERATOR_VERSION, "spec": asdict(spec), "synthetic": True,
                "note": "synthetic speech-like signals, not speech from people",
                "speakers": [asdict(s) for s in make_speakers(spec)],
                "utterances": [e for entries in per_speaker for e in entries]}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _write_speaker(spec: SyntheticSpec, i: int, directory: Path) -> list[dict[str, str]]:
    """Speaker ``i``'s clips as WAV files; their manifest entries, in a fixed order."""
    import soundfile as sf

    spk = make_speakers(spec)[i]
    entries = []
    for emotion in EMOTIONS:
        for k in range(spec.clips_per_emotion(i)):
            name = f"{spk.name}_{emotion}_{k:03d}.wav"
            sf.write(directory / "wav" / name, synthesize(spec, spk, emotion, k, i), SAMPLE_RATE,
                     subtype="PCM_16")
            entries.append({"file": f"wav/{name}", "speaker": spk.name, "label": emotion,
                            "group": group_of(i)})
    return entries


def corpus_dir(spec: SyntheticSpec, cache_dir: Path) -> Path:
    """Generate the corpus once into the cache (atomically); return its directory."""
    target = Path(cache_dir) / "synthetic" / spec.digest
    if is_done(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        generate(spec, tmp)
        mark_done(tmp, {"generator_version": GENERATOR_VERSION})
        if target.exists() and not is_done(target):
            shutil.rmtree(target, ignore_errors=True)  # a killed writer's leftovers
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process published the same corpus first; never replace a
            # directory someone may be reading: keep theirs, drop ours.
            if not is_done(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    """The synthetic corpus for ``options`` (``data_dir`` overrides where it is generated)."""
    spec = SyntheticSpec(n_speakers=options.synthetic_speakers, per_emotion=options.synthetic_per_emotion,
                         seed=options.synthetic_seed, group_per_emotion=options.synthetic_test_group)
    root = corpus_dir(spec, Path(data_dir) if data_dir is not None else Path(options.cache_dir))
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        utts = tuple(Utterance(root / e["file"], e["label"], e["speaker"], e["group"])
                     for e in manifest["utterances"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"synthetic corpus manifest unreadable ({e}); delete the directory to regenerate",
                        path=root / "manifest.json") from None
    return Corpus("synthetic", root, EMOTIONS, utts, synthetic=True,
                  notes=("SYNTHETIC speech-like signals (not speech from people); "
                         f"spec {spec.digest}: {spec.n_speakers} speakers x {len(EMOTIONS)} emotions x "
                         f"{spec.per_emotion}"
                         + (f" ({spec.group_per_emotion[1]} for the test fold's speakers)"
                            if spec.group_per_emotion else ""),))
