"""EMO-DB (Berlin Database of Emotional Speech) in its distributed layout.

``wav/03a01Fa.wav``: speaker = first two digits, text code = next three
characters, emotion letter at position 6 (German initials), version last.
10 speakers, 7 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError
from .layout import descend, nothing_recognised, require_dir, wav_files
from .types import Corpus, CorpusOptions, Skipped, Utterance

EMOTIONS: dict[str, str] = {"W": "angry", "L": "bored", "E": "disgusted", "A": "fearful",
                            "F": "happy", "T": "sad", "N": "neutral"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "bored", "disgusted", "fearful")
_NAME = re.compile(r"^(\d{2})([a-z]\d{2})([A-Za-z])([a-z])\.wav$", re.IGNORECASE)


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    root = require_dir(data_dir, "emodb")
    utts: list[Utterance] = []
    skipped: list[Skipped] = []
    for path in wav_files(descend(root, "wav")):
        m = _NAME.match(path.name)
        if not m:
            skipped.append(Skipped(path, "file name not in the EMO-DB pattern (e.g. 03a01Fa.wav)"))
            continue
        code = m.group(3).upper()
        if code not in EMOTIONS:
            raise DataError(f"unknown EMO-DB emotion code {code!r} (known: {sorted(EMOTIONS)})",
                            path=path)
        speaker = m.group(1)
        utts.append(Utterance(path, EMOTIONS[code], speaker, speaker))
    if not utts:
        raise nothing_recognised(root, "EMO-DB", "wav/03a01Fa.wav")
    return Corpus("emodb", root, CLASSES, tuple(utts), tuple(skipped))
