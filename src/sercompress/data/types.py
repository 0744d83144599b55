"""The records a corpus adapter returns: utterances, skipped files, the corpus.

Adapters only *scan*: they map a directory in a corpus's distributed layout to
labelled utterances without decoding audio. Decoding (and skipping unusable
files) happens once, in :mod:`sercompress.dataset`, where features are cached.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ..errors import DataError

IemocapFilter = Literal["improvised", "scripted", "all"]


@dataclass(frozen=True)
class Utterance:
    """One labelled clip. ``group`` is the unit held out by a fold.

    For EMO-DB, RAVDESS and CREMA-D the group is the speaker; for IEMOCAP it
    is the session (two speakers); for the synthetic corpus a pair of speakers.
    """

    path: Path
    label: str
    speaker: str
    group: str


@dataclass(frozen=True)
class Skipped:
    """A file left out, and why (reported in every summary, never silent)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class CorpusOptions:
    """Corpus-specific knobs, taken from ``DataConfig`` by ``dataset.prepare``.

    ``cache_dir`` is where the synthetic corpus is generated; it never changes
    what the corpus contains.
    """

    iemocap_filter: IemocapFilter = "improvised"
    synthetic_speakers: int = 10
    synthetic_per_emotion: int = 22
    synthetic_test_group: tuple[int, int] | None = None   # (fold group index, clips per emotion)
    ravdess_channel: Literal["speech", "song", "both"] = "speech"
    synthetic_seed: int = 0
    cache_dir: Path = Path(".cache")


@dataclass(frozen=True)
class Corpus:
    name: str
    root: Path
    classes: tuple[str, ...]
    utterances: tuple[Utterance, ...]
    skipped: tuple[Skipped, ...] = ()
    synthetic: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({u.speaker for u in self.utterances}))

    @property
    def groups(self) -> tuple[str, ...]:
        """Fold groups in a stable (sorted) order: fold k holds out ``groups[k]``."""
        return tuple(sorted({u.group for u in self.utterances}))

    def class_counts(self) -> dict[str, int]:
        counts = Counter(u.label for u in self.utterances)
        return {c: counts.get(c, 0) for c in self.classes}

    def speaker_counts(self) -> dict[str, int]:
        counts = Counter(u.speaker for u in self.utterances)
        return {s: counts[s] for s in self.speakers}

    def with_classes(self, classes: tuple[str, ...] | None) -> Corpus:
        """Keep only ``classes`` (in that order); unknown names are a DataError."""
        if classes is None:
            return self
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise DataError(
                f"class(es) {unknown} not in corpus {self.name!r}; its classes are {list(self.classes)}",
                key="classes",
            )
        if len(set(classes)) < 2:
            raise DataError("a class subset needs at least two distinct classes", key="classes")
        kept = tuple(u for u in self.utterances if u.label in classes)
        return replace(self, classes=tuple(classes), utterances=kept)

    def without(self, skipped: list[Skipped]) -> Corpus:
        """Drop utterances whose audio turned out unusable, remembering why."""
        if not skipped:
            return self
        bad = {s.path for s in skipped}
        kept = tuple(u for u in self.utterances if u.path not in bad)
        return replace(self, utterances=kept, skipped=self.skipped + tuple(skipped))
