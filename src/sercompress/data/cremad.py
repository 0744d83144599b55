"""CREMA-D in its distributed layout.

``AudioWAV/1001_DFA_ANG_XX.wav``: actor_sentence_emotion_level. 91 actors,
6 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError
from .layout import descend, nothing_recognised, require_dir, wav_files
from .types import Corpus, CorpusOptions, Skipped, Utterance

EMOTIONS: dict[str, str] = {"ANG": "angry", "DIS": "disgusted", "FEA": "fearful", "HAP": "happy",
                            "NEU": "neutral", "SAD": "sad"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "disgusted", "fearful")
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.wav$", re.IGNORECASE)


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    root = require_dir(data_dir, "cremad")
    utts: list[Utterance] = []
    skipped: list[Skipped] = []
    for path in wav_files(descend(root, "AudioWAV")):
        m = _NAME.match(path.name)
        if not m:
            skipped.append(Skipped(path, "file name not in the CREMA-D pattern (e.g. 1001_DFA_ANG_XX.wav)"))
            continue
        actor, _sentence, code, _level = m.groups()
        code = code.upper()
        if code not in EMOTIONS:
            raise DataError(f"unknown CREMA-D emotion code {code!r} (known: {sorted(EMOTIONS)})", path=path)
        utts.append(Utterance(path, EMOTIONS[code], actor, actor))
    if not utts:
        raise nothing_recognised(root, "CREMA-D", "AudioWAV/1001_DFA_ANG_XX.wav")
    return Corpus("cremad", root, CLASSES, tuple(utts), tuple(skipped))
