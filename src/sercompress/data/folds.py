"""Speaker-independent folds: hold out one group, validate on whole training speakers.

Emotion recognisers learn speakers as readily as emotions, so a test speaker
must never be seen in training or in model selection. Fold ``k`` holds out the
``k``-th fold group (a speaker, an IEMOCAP session, or a synthetic speaker
pair); validation speakers are drawn, deterministically from the seed, from
the remaining speakers only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .types import Corpus, Utterance

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class Fold:
    index: int
    test_group: str
    train_speakers: tuple[str, ...]
    val_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]

    def split_of(self, utt: Utterance) -> str:
        if utt.speaker in self.test_speakers:
            return "test"
        if utt.speaker in self.val_speakers:
            return "val"
        return "train"

    def to_dict(self) -> dict:
        return {"index": self.index, "test_group": self.test_group,
                "train_speakers": list(self.train_speakers), "val_speakers": list(self.val_speakers),
                "test_speakers": list(self.test_speakers)}


def make_fold(corpus: Corpus, fold: int, val_speakers: int, seed: int) -> Fold:
    """The ``fold``-th speaker-independent split of ``corpus``."""
    groups = corpus.groups
    if len(groups) < 2:
        raise DataError(f"corpus {corpus.name!r} has {len(groups)} fold group(s); need at least 2",
                        path=corpus.root)
    if not 0 <= fold < len(groups):
        raise DataError(f"fold {fold} out of range: corpus {corpus.name!r} has {len(groups)} folds "
                        f"(0..{len(groups) - 1})", key="fold")
    test_group = groups[fold]
    test = sorted({u.speaker for u in corpus.utterances if u.group == test_group})
    rest = sorted({u.speaker for u in corpus.utterances if u.group != test_group} - set(test))
    if val_speakers < 0 or val_speakers >= len(rest):
        raise DataError(f"val_speakers={val_speakers} must leave at least one training speaker "
                        f"({len(rest)} speakers outside the test fold)", key="val_speakers")
    rng = np.random.default_rng([seed, fold])
    val = sorted(rest[i] for i in rng.permutation(len(rest))[:val_speakers])
    train = [s for s in rest if s not in val]
    return Fold(fold, test_group, tuple(train), tuple(val), tuple(test))


def split_utterances(corpus: Corpus, fold: Fold) -> dict[str, tuple[Utterance, ...]]:
    out: dict[str, list[Utterance]] = {s: [] for s in SPLITS}
    for u in corpus.utterances:
        out[fold.split_of(u)].append(u)
    return {k: tuple(v) for k, v in out.items()}
