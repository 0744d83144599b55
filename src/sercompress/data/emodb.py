"""EMO-DB (Berlin Database of Emotional Speech) in its distributed layout.

``wav/03a01Fa.wav``: speaker = first two digits, text code = next three
characters, emotion letter at position 6 (German initials), version last.
10 speakers, 7 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from .layout import NamedFiles
from .types import Corpus, CorpusOptions

EMOTIONS: dict[str, str] = {"W": "angry", "L": "bored", "E": "disgusted", "A": "fearful",
                            "F": "happy", "T": "sad", "N": "neutral"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "bored", "disgusted", "fearful")
_NAME = re.compile(r"^(\d{2})([a-z]\d{2})([A-Za-z])([a-z])\.wav$", re.IGNORECASE)


def _code_and_speaker(m: re.Match[str]) -> tuple[str, str]:
    return m.group(3).upper(), m.group(1)


LAYOUT = NamedFiles("emodb", "EMO-DB", _NAME, "wav/03a01Fa.wav", EMOTIONS, CLASSES, _code_and_speaker,
                    subdir="wav")


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    return LAYOUT.scan(data_dir)
