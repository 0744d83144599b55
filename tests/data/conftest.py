"""Tiny corpus trees in each corpus's real naming and layout, written as short WAVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def write_wav(path: Path, seconds: float = 0.25, sr: int = 16000, channels: int = 1, seed: int = 0,
              silent: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * sr)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.2 * np.sin(2 * np.pi * (150 + 20 * seed) * t) + 0.02 * rng.standard_normal(n)
    if silent:
        x = np.zeros(n)
    data = np.stack([x, 0.5 * x], axis=1) if channels == 2 else x
    sf.write(path, data.astype(np.float32), sr, subtype="PCM_16")
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def iemocap_tree(root: Path, dialogs: dict[str, list[tuple[str, str]]], sessions=(1, 2),
                 seconds: float = 0.25) -> Path:
    """IEMOCAP's layout: ``dialogs`` maps a dialogue name with ``{s}`` for the session
    (``Ses0{s}F_impro01``) to its (utterance suffix, emotion code) pairs; one WAV and one
    EmoEvaluation line per utterance."""
    for s in sessions:
        for dialog, utts in dialogs.items():
            dialog = dialog.format(s=s)
            lines = ["% header line", ""]
            for i, (utt, code) in enumerate(utts):
                uid = f"{dialog}_{utt}"
                lines.append(f"[{i}.1000 - {i}.9000]\t{uid}\t{code}\t[2.5000, 2.5000, 2.5000]")
                lines.append(f"C-E1:\t{code};\t()")
                write_wav(root / f"Session{s}" / "sentences" / "wav" / dialog / f"{uid}.wav", seconds=seconds)
            path = root / f"Session{s}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def wav():
    return write_wav


@pytest.fixture
def emodb_tree(tmp_path: Path) -> Path:
    """Three speakers, four emotions each, in ``wav/`` as distributed."""
    root = tmp_path / "emodb"
    for i, spk in enumerate(["03", "08", "11"]):
        for j, code in enumerate("WFTN"):
            write_wav(root / "wav" / f"{spk}a0{j}{code}a.wav", seed=i * 4 + j)
    return root
