"""RAVDESS in its distributed layout (audio-only speech and song files).

``Actor_01/03-01-05-01-02-01-01.wav``: modality-channel-emotion-intensity-
statement-repetition-actor. Only modality 03 (audio-only) is audio; the
full-AV (01) and video-only (02) files are ignored and counted in a note.
24 actors, 8 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from .layout import NamedFiles
from .types import Corpus, CorpusOptions

EMOTIONS: dict[str, str] = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
                            "06": "fearful", "07": "disgusted", "08": "surprised"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "calm", "fearful", "disgusted", "surprised")
_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.wav$", re.IGNORECASE)
AUDIO_ONLY = "03"


def _audio_only(m: re.Match[str]) -> tuple[str, str] | None:
    """Emotion code and speaker of an audio-only file; None for the video files of the full corpus."""
    modality, _channel, code, _intensity, _statement, _rep, actor = m.groups()
    return (code, f"actor{actor}") if modality == AUDIO_ONLY else None


LAYOUT = NamedFiles("ravdess", "RAVDESS", _NAME, "Actor_01/03-01-05-01-02-01-01.wav", EMOTIONS, CLASSES,
                    _audio_only, ignored_note="non-audio-only (modality 01/02) file(s) ignored")


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    return LAYOUT.scan(data_dir)
