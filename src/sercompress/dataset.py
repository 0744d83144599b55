"""Corpus + fold + features -> the train / val / test arrays every later stage uses.

``prepare(DataConfig)`` scans (or generates) the corpus, decodes each clip at
most once per feature config (features are cached by content hash, so a
second call only hashes files and loads ``.npy`` files and never imports
TensorFlow), skips and reports unusable audio, and splits speaker-
independently. ``PreparedData.fingerprint`` hashes everything that determines
the arrays (config without ``cache_dir`` / ``data_dir``, feature config,
file contents, labels, split membership), so runs can prove which data they saw.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .data import (
    CORPORA, SPLITS, Corpus, CorpusOptions, Fold, Skipped, UnusableAudio, Utterance, load_corpus,
    make_fold, read_audio, split_utterances,
)
from .errors import DataError
from .features import FeatureCache, FeatureConfig, compute_features
from .storage import content_hash, sha256_file
from .tomlconfig import FrozenModel

log = logging.getLogger("sercompress.data")

#: Clips decoded and featurised per round: bounds the raw audio held in memory.
DECODE_CHUNK = 256

DatasetName = Literal["synthetic", "emodb", "iemocap", "ravdess", "cremad"]


class DataConfig(FrozenModel):
    """Which data a run uses. ``cache_dir`` and ``data_dir`` never enter a hash.

    ``val_speakers`` whole training speakers are held out for model selection
    (chosen from ``seed`` and ``fold``); ``classes`` optionally keeps a subset
    in the given order (e.g. the 4-class neutral/happy/sad/angry setting).
    """

    dataset: DatasetName = "synthetic"
    data_dir: str | None = None
    input_type: Literal["mfcc", "spectrogram", "mel_spectrogram"] = "mfcc"
    duration_s: float = Field(3.0, gt=0, le=60)
    fold: int = Field(0, ge=0)
    val_speakers: int = Field(2, ge=0)
    seed: int = 0
    classes: tuple[str, ...] | None = None
    iemocap_filter: Literal["improvised", "scripted", "all"] = "improvised"
    #: RAVDESS vocal channel: speech (01, what SER papers use), song (02) or both
    ravdess_channel: Literal["speech", "song", "both"] = "speech"
    synthetic_speakers: int = Field(10, ge=4, le=100)
    synthetic_per_emotion: int = Field(22, ge=1, le=500)
    #: clips per speaker and emotion for the speakers of the held-out (test) fold only; None =
    #: ``synthetic_per_emotion``. Inference is cheap: a large test set gives accuracy intervals
    #: narrow enough for a gate while training stays small (the quick config).
    synthetic_test_per_emotion: int | None = Field(None, ge=1, le=500)
    synthetic_seed: int = 0
    cache_dir: str = ".cache"

    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(input_type=self.input_type, duration_s=self.duration_s)

    def corpus_options(self) -> CorpusOptions:
        return CorpusOptions(iemocap_filter=self.iemocap_filter, ravdess_channel=self.ravdess_channel,
                             synthetic_speakers=self.synthetic_speakers,
                             synthetic_per_emotion=self.synthetic_per_emotion,
                             synthetic_test_group=(self.fold, self.synthetic_test_per_emotion)
                             if self.synthetic_test_per_emotion is not None else None,
                             synthetic_seed=self.synthetic_seed, cache_dir=Path(self.cache_dir))

    def identity(self) -> dict[str, Any]:
        """The fields that determine the data (what a fingerprint covers)."""
        exclude = {"cache_dir", "data_dir"}
        if self.synthetic_test_per_emotion is None:  # unset: the fingerprints of earlier runs stay valid
            exclude.add("synthetic_test_per_emotion")
        if self.dataset != "ravdess":
            exclude.add("ravdess_channel")
        return self.model_dump(mode="json", exclude=exclude)


@dataclass(frozen=True, eq=False)
class Split:
    """One split: ``x`` float32 ``[N, frames, bins, 1]``, ``y`` int64 class indices."""

    x: np.ndarray
    y: np.ndarray
    speakers: tuple[str, ...]
    paths: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def class_counts(self, classes: Sequence[str]) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(classes))
        return {c: int(n) for c, n in zip(classes, counts)}


@dataclass(frozen=True)
class FeatureStats:
    computed: int = 0
    cached: int = 0


@dataclass(frozen=True, eq=False)
class PreparedData:
    classes: tuple[str, ...]
    feature_config: FeatureConfig
    train: Split
    val: Split
    test: Split
    fingerprint: str
    config: DataConfig
    corpus: Corpus = field(repr=False)
    fold: Fold = field(repr=False)
    features: FeatureStats = FeatureStats()

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.feature_config.shape

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        return self.corpus.skipped

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def summary(self) -> dict[str, Any]:
        """Machine-readable summary (what ``sercompress data --json`` prints)."""
        c = self.corpus
        return {
            "dataset": c.name, "synthetic": c.synthetic, "root": str(c.root), "notes": list(c.notes),
            "classes": list(self.classes), "input_shape": list(self.input_shape),
            "utterances": len(c.utterances), "speakers": c.speaker_counts(),
            "class_counts": c.class_counts(), "fold_groups": list(c.groups), "fold": self.fold.to_dict(),
            "splits": {s: {"n": len(self.split(s)), "class_counts": self.split(s).class_counts(self.classes),
                           "speakers": sorted(set(self.split(s).speakers))} for s in SPLITS},
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in c.skipped],
            "features": {"computed": self.features.computed, "cached": self.features.cached},
            "fingerprint": self.fingerprint,
        }

    def summary_lines(self) -> list[str]:
        """One line per stage: corpus, skipped files, fold, each split, features."""
        c, f = self.corpus, self.fold
        kind = " (SYNTHETIC, not speech from people)" if c.synthetic else ""
        lines = [f"corpus   {c.name}{kind}: {len(c.utterances)} clips, {len(c.speakers)} speakers, "
                 f"{len(c.groups)} folds, classes {_counts(c.class_counts())}"]
        lines.append(f"skipped  {len(c.skipped)} file(s)" + (
            ": " + "; ".join(f"{s.path.name} ({s.reason})" for s in c.skipped[:5])
            + (" ..." if len(c.skipped) > 5 else "") if c.skipped else ""))
        lines.append(f"fold     {f.index} holds out {f.test_group} (test {', '.join(f.test_speakers)}; "
                     f"val {', '.join(f.val_speakers) or '-'})")
        for s in SPLITS:
            sp = self.split(s)
            lines.append(f"{s:8s} {len(sp)} clips: {_counts(sp.class_counts(self.classes))}")
        lines.append(f"features {self.feature_config.input_type} {self.input_shape}: "
                     f"{self.features.computed} computed, {self.features.cached} from cache; "
                     f"fingerprint {self.fingerprint}")
        return lines


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items())


def prepare(cfg: DataConfig, *, on_skip: Callable[[Skipped], None] | None = None) -> PreparedData:
    """Scan or generate the corpus, featurise (cached) and split speaker-independently."""
    if cfg.dataset not in CORPORA:  # DataConfig validates this; guard callers that bypass it
        raise DataError(f"unknown dataset {cfg.dataset!r}", key="dataset")
    fc = cfg.feature_config()
    corpus = load_corpus(cfg.dataset, cfg.data_dir, cfg.corpus_options()).with_classes(cfg.classes)
    feats, hashes, skipped, stats = _featurise(corpus.utterances, FeatureCache(cfg.cache_dir, fc), fc)
    for s in skipped:
        log.warning("skipping %s: %s", s.path, s.reason)
        if on_skip is not None:
            on_skip(s)
    total = len(corpus.utterances)
    corpus = corpus.without(skipped)
    if not corpus.utterances:
        raise DataError(f"no usable audio: all {total} recognised file(s) were skipped "
                        f"(first: {skipped[0].path}: {skipped[0].reason})" if skipped else "no usable audio",
                        path=corpus.root)
    fold = make_fold(corpus, cfg.fold, cfg.val_speakers, cfg.seed)
    members = split_utterances(corpus, fold)
    splits = {name: _split(utts, feats, corpus.classes) for name, utts in members.items()}
    if len(splits["test"]) == 0 or len(splits["train"]) == 0:
        raise DataError(f"fold {cfg.fold} leaves an empty train or test split", path=corpus.root, key="fold")
    fingerprint = content_hash(
        "data", cfg.identity(), fc.to_dict(), list(corpus.classes),
        {name: [[_rel(u.path, corpus.root), hashes[u.path], u.label, u.speaker] for u in utts]
         for name, utts in members.items()}, length=20)
    return PreparedData(corpus.classes, fc, splits["train"], splits["val"], splits["test"], fingerprint,
                        cfg, corpus, fold, stats)


def _featurise(utts: Sequence[Utterance], cache: FeatureCache, fc: FeatureConfig
               ) -> tuple[dict[Path, np.ndarray], dict[Path, str], list[Skipped], FeatureStats]:
    """Features of every utterance: cache hits by content hash, the rest decoded in chunks."""
    feats: dict[Path, np.ndarray] = {}
    hashes: dict[Path, str] = {}
    skipped: list[Skipped] = []
    pending: list[Utterance] = []
    for u in utts:
        try:
            hashes[u.path] = sha256_file(u.path)
        except OSError as e:
            skipped.append(Skipped(u.path, f"cannot read file ({e.strerror})"))
            continue
        hit = cache.load(hashes[u.path])
        if hit is None:
            pending.append(u)
        else:
            feats[u.path] = hit
    computed = 0
    for i in range(0, len(pending), DECODE_CHUNK):
        clips, done = [], []
        for u in pending[i:i + DECODE_CHUNK]:
            try:
                clips.append(read_audio(u.path, fc.sample_rate))
                done.append(u)
            except UnusableAudio as e:
                skipped.append(Skipped(u.path, e.message))
        for u, arr in zip(done, compute_features(clips, fc)):
            cache.save(hashes[u.path], arr)
            feats[u.path] = arr
        computed += len(done)
    return feats, hashes, skipped, FeatureStats(computed=computed, cached=len(feats) - computed)


def _split(utts: Sequence[Utterance], feats: dict[Path, np.ndarray], classes: tuple[str, ...]) -> Split:
    fc_shape = next(iter(feats.values())).shape if feats else (0, 0)
    x = np.zeros((len(utts), *fc_shape, 1), dtype=np.float32)
    for i, u in enumerate(utts):
        x[i, ..., 0] = feats[u.path]
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[u.label] for u in utts], dtype=np.int64)
    return Split(x, y, tuple(u.speaker for u in utts), tuple(str(u.path) for u in utts))


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)

