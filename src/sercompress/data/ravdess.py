"""RAVDESS in its distributed layout (audio-only speech and song files).

``Actor_01/03-01-05-01-02-01-01.wav``: modality-channel-emotion-intensity-
statement-repetition-actor. Only modality 03 (audio-only) is audio; the
full-AV (01) and video-only (02) files are ignored and counted in a note.
24 actors, 8 classes; folds are leave-one-speaker-out.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError
from .layout import nothing_recognised, require_dir, wav_files
from .types import Corpus, CorpusOptions, Skipped, Utterance

EMOTIONS: dict[str, str] = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
                            "06": "fearful", "07": "disgusted", "08": "surprised"}
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "calm", "fearful", "disgusted", "surprised")
_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.wav$", re.IGNORECASE)
AUDIO_ONLY = "03"


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    root = require_dir(data_dir, "ravdess")
    utts: list[Utterance] = []
    skipped: list[Skipped] = []
    not_audio = 0
    for path in wav_files(root, recursive=True):
        m = _NAME.match(path.name)
        if not m:
            skipped.append(Skipped(path, "file name not in the RAVDESS pattern (e.g. 03-01-05-01-02-01-01.wav)"))
            continue
        modality, _channel, code, _intensity, _statement, _rep, actor = m.groups()
        if modality != AUDIO_ONLY:
            not_audio += 1
            continue
        if code not in EMOTIONS:
            raise DataError(f"unknown RAVDESS emotion code {code!r} (known: {sorted(EMOTIONS)})", path=path)
        speaker = f"actor{actor}"
        utts.append(Utterance(path, EMOTIONS[code], speaker, speaker))
    if not utts:
        raise nothing_recognised(root, "RAVDESS", "Actor_01/03-01-05-01-02-01-01.wav")
    notes = (f"{not_audio} non-audio-only (modality 01/02) file(s) ignored",) if not_audio else ()
    return Corpus("ravdess", root, CLASSES, tuple(utts), tuple(skipped), notes=notes)
