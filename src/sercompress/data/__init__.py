"""Corpora: adapters for EMO-DB, IEMOCAP, RAVDESS, CREMA-D and the embedded synthetic corpus.

Each adapter module exposes ``scan(data_dir, options) -> Corpus`` and is
registered here by name, so callers never switch on corpus names. Adapters
only read directory listings and label files; audio is decoded later by
:func:`sercompress.data.audio.read_audio` (once, then cached as features).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import DataError
from . import cremad, emodb, iemocap, ravdess, synthetic
from .audio import UnusableAudio, read_audio
from .folds import SPLITS, Fold, make_fold, split_utterances
from .types import Corpus, CorpusOptions, Skipped, Utterance

Scanner = Callable[[str | Path | None, CorpusOptions], Corpus]

#: corpus name -> scan(data_dir, options)
CORPORA: dict[str, Scanner] = {
    "synthetic": synthetic.scan,
    "emodb": emodb.scan,
    "iemocap": iemocap.scan,
    "ravdess": ravdess.scan,
    "cremad": cremad.scan,
}


def load_corpus(name: str, data_dir: str | Path | None = None, options: CorpusOptions | None = None) -> Corpus:
    """Scan (or, for ``synthetic``, generate) a corpus by name."""
    if name not in CORPORA:
        raise DataError(f"unknown dataset {name!r} (valid choices: {sorted(CORPORA)})", key="dataset")
    return CORPORA[name](data_dir, options or CorpusOptions())


__all__ = [
    "CORPORA", "SPLITS", "Corpus", "CorpusOptions", "Fold", "Skipped", "UnusableAudio", "Utterance",
    "load_corpus", "make_fold", "read_audio", "split_utterances",
]
