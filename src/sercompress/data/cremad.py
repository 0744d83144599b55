"""CREMA-D in its distributed layout.

``AudioWAV/1001_DFA_ANG_XX.wav``: actor_sentence_emotion_level. 91 actors,
6 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from .layout import NamedFiles
from .types import Corpus, CorpusOptions

EMOTIONS: dict[str, str] = {"ANG": "angry", "DIS": "disgusted", "FEA": "fearful", "HAP": "happy",
                            "NEU": "neutral", "SAD": "sad"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "disgusted", "fearful")
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.wav$", re.IGNORECASE)


def _code_and_actor(m: re.Match[str]) -> tuple[str, str]:
    actor, _sentence, code, _level = m.groups()
    return code.upper(), actor


LAYOUT = NamedFiles("cremad", "CREMA-D", _NAME, "AudioWAV/1001_DFA_ANG_XX.wav", EMOTIONS, CLASSES,
                    _code_and_actor, subdir="AudioWAV")


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    return LAYOUT.scan(data_dir)
