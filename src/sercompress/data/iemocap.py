"""IEMOCAP in its distributed layout, in the usual 4-class setting.

Audio: ``Session1..5/sentences/wav/<dialog>/<utt>.wav``; labels:
``Session*/dialog/EmoEvaluation/*.txt`` lines such as
``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]``.
``exc`` is merged into ``hap``; the other IEMOCAP labels (frustration,
surprise, ...) are dropped as in the Light-SERNet paper. The speaker is the
session plus the gender letter of the utterance (``Ses01F_impro01_M003`` ->
``Ses01M``); the fold group is the session (leave-one-session-out).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..errors import DataError
from .layout import nothing_recognised, require_dir
from .types import Corpus, CorpusOptions, IemocapFilter, Skipped, Utterance

EMOTIONS: dict[str, str] = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry"}
#: Labels IEMOCAP defines but the 4-class setting drops.
DROPPED: frozenset[str] = frozenset({"fru", "sur", "fea", "dis", "oth", "xxx"})
CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry")
_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(Ses\d{2}[FM]_\S+)\s+(\S+)\s+\[")
_SESSION = re.compile(r"^Session(\d+)$")


def scan(data_dir: str | Path | None, options: CorpusOptions) -> Corpus:
    root = require_dir(data_dir, "iemocap")
    sessions = sorted(p for p in root.iterdir() if p.is_dir() and _SESSION.match(p.name))
    utts: list[Utterance] = []
    skipped: list[Skipped] = []
    dropped: Counter[str] = Counter()
    for session in sessions:
        for label_file in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            for utt_id, code in _labels(label_file):
                dialog = utt_id.rsplit("_", 1)[0]
                if not _keep(dialog, options.iemocap_filter):
                    continue
                if code in DROPPED:
                    dropped[code] += 1
                    continue
                wav = session / "sentences" / "wav" / dialog / f"{utt_id}.wav"
                if not wav.is_file():
                    skipped.append(Skipped(wav, f"labelled in {label_file.name} but the WAV is missing"))
                    continue
                gender = utt_id.rsplit("_", 1)[1][:1]
                speaker = f"{utt_id[:5]}{gender}"
                utts.append(Utterance(wav, EMOTIONS[code], speaker, utt_id[:5]))
    if not utts:
        raise nothing_recognised(
            root, "IEMOCAP", "Session1/sentences/wav/<dialog>/<utt>.wav with labels in "
            f"Session1/dialog/EmoEvaluation/*.txt (filter: {options.iemocap_filter})")
    notes = (f"dropped labels outside the 4-class setting: {dict(sorted(dropped.items()))}",) if dropped else ()
    return Corpus("iemocap", root, CLASSES, tuple(utts), tuple(skipped), notes=notes)


#: A real EmoEvaluation file is under 100 KB (one dialog, a few dozen turns); refuse anything
#: far larger before reading it (a 1 GiB file was read whole: 2.1 GB).
MAX_LABEL_BYTES = 4 * 1024 * 1024


def _labels(label_file: Path) -> list[tuple[str, str]]:
    """(utterance id, emotion code) pairs of one EmoEvaluation file."""
    try:
        size = label_file.stat().st_size
        if not label_file.is_file():
            raise DataError("label file is not a regular file", path=label_file)
        if size > MAX_LABEL_BYTES:
            raise DataError(f"label file is {size:,} bytes, more than the {MAX_LABEL_BYTES:,} an "
                            "IEMOCAP EmoEvaluation file can be", path=label_file)
        text = label_file.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DataError(f"cannot read label file ({e.strerror})", path=label_file) from None
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            continue
        utt_id, code = m.group(1), m.group(2).lower()
        if code not in EMOTIONS and code not in DROPPED:
            raise DataError(f"unknown IEMOCAP emotion code {code!r} for {utt_id} on line {lineno} "
                            f"(known: {sorted(set(EMOTIONS) | DROPPED)})", path=label_file)
        out.append((utt_id, code))
    return out


def _keep(dialog: str, which: IemocapFilter) -> bool:
    if which == "all":
        return True
    return ("impro" if which == "improvised" else "script") in dialog
