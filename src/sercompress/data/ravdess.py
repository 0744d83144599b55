"""RAVDESS in its distributed layout (audio-only speech and song files).

``Actor_01/03-01-05-01-02-01-01.wav``: modality-channel-emotion-intensity-
statement-repetition-actor. Only modality 03 (audio-only) is audio; the
full-AV (01) and video-only (02) files are ignored and counted in a note.
Vocal channel 01 is speech, 02 song. Speech-emotion papers use the speech
subset (1,440 clips), so that is the default; ``ravdess_channel = "song"`` or
``"both"`` (``DataConfig``) takes the sung clips, and the files left out are
counted in a note. 24 actors, 8 classes (song has no disgust or surprise);
folds are leave-one-speaker-out.
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
#: vocal channel codes of each ``CorpusOptions.ravdess_channel`` setting
CHANNELS: dict[str, tuple[str, ...]] = {"speech": ("01",), "song": ("02",), "both": ("01", "02")}


def _layout(channel: str) -> NamedFiles:
    channels = CHANNELS[channel]

    def parse(m: re.Match[str]) -> tuple[str, str] | None:
        """Emotion code and speaker of an audio-only file of the wanted vocal channel(s)."""
        modality, vocal, code, _intensity, _statement, _rep, actor = m.groups()
        return (code, f"actor{actor}") if modality == AUDIO_ONLY and vocal in channels else None

    return NamedFiles("ravdess", "RAVDESS", _NAME, "Actor_01/03-01-05-01-02-01-01.wav", EMOTIONS, CLASSES, parse,
                      ignored_note=f"file(s) ignored: not audio-only (modality 01/02) or another vocal channel "
                                   f"(ravdess_channel = {channel!r}; 01 speech, 02 song)")


LAYOUTS: dict[str, NamedFiles] = {c: _layout(c) for c in CHANNELS}


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    return LAYOUTS[options.ravdess_channel].scan(data_dir)
