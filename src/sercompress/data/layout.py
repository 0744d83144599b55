"""Shared checks for corpus directories: present, non-empty, and recognisable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .types import Corpus, Skipped, Utterance


def require_dir(data_dir: str | Path | None, corpus: str) -> Path:
    """The user's ``--data-dir`` for a real corpus, which must exist and be non-empty."""
    if data_dir is None:
        raise DataError(f"corpus {corpus!r} is not embedded: pass --data-dir pointing at a local copy "
                        "(nothing is downloaded)", key="data_dir")
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise DataError(f"data directory for {corpus!r} does not exist", path=root, key="data_dir")
    if not root.is_dir():
        raise DataError(f"data directory for {corpus!r} is not a directory", path=root, key="data_dir")
    if not any(root.iterdir()):
        raise DataError(f"data directory for {corpus!r} is empty", path=root, key="data_dir")
    return root


def descend(root: Path, subdir: str) -> Path:
    """Accept both the corpus root and its audio sub-directory (``wav/``, ``AudioWAV/``)."""
    inner = root / subdir
    return inner if inner.is_dir() else root


def wav_files(directory: Path, recursive: bool = False) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in directory.glob(pattern)
                  if p.suffix.lower() == ".wav" and p.is_file() and not p.name.startswith("."))


def nothing_recognised(root: Path, corpus: str, layout: str) -> DataError:
    return DataError(f"no file in the {corpus} layout found (expected {layout})", path=root, key="data_dir")


#: What a layout reads from a matching file name: (emotion code, speaker), or None to ignore the file.
NameParser = Callable[["re.Match[str]"], "tuple[str, str] | None"]


@dataclass(frozen=True)
class NamedFiles:
    """A corpus whose file names carry the emotion code and the speaker (EMO-DB, RAVDESS, CREMA-D).

    Each corpus module declares one of these (a regular expression and a parser of its
    groups); the walk, the refusal of an unknown emotion code and the list of skipped files
    are the same for all of them.
    """

    name: str                        # the --dataset key: "cremad"
    corpus: str                      # as users know it: "CREMA-D"
    pattern: re.Pattern[str]
    example: str                     # a path relative to the root: "AudioWAV/1001_DFA_ANG_XX.wav"
    emotions: Mapping[str, str]      # code in the file name -> class name
    classes: tuple[str, ...]
    parse: NameParser
    subdir: str | None = None        # the audio sub-directory; None: every .wav below the root
    ignored_note: str = "file(s) ignored"

    def scan(self, data_dir: str | Path | None) -> Corpus:
        root = require_dir(data_dir, self.name)
        files = wav_files(descend(root, self.subdir)) if self.subdir else wav_files(root, recursive=True)
        utts, skipped, ignored = self.read(root, files)
        notes = (f"{ignored} {self.ignored_note}",) if ignored else ()
        return Corpus(self.name, root, self.classes, utts, skipped, notes=notes)

    def read(self, root: Path, files: Iterable[Path]) -> tuple[tuple[Utterance, ...], tuple[Skipped, ...], int]:
        """Utterances, skipped files (name not in the pattern) and the count of files ``parse`` declined."""
        utts: list[Utterance] = []
        skipped: list[Skipped] = []
        ignored = 0
        for path in files:
            m = self.pattern.match(path.name)
            if not m:
                skipped.append(Skipped(path, f"file name not in the {self.corpus} pattern "
                                             f"(e.g. {Path(self.example).name})"))
                continue
            parsed = self.parse(m)
            if parsed is None:
                ignored += 1
                continue
            code, speaker = parsed
            if code not in self.emotions:
                raise DataError(f"unknown {self.corpus} emotion code {code!r} (known: {sorted(self.emotions)})",
                                path=path)
            utts.append(Utterance(path, self.emotions[code], speaker, speaker))
        if not utts:
            raise nothing_recognised(root, self.corpus, self.example)
        return tuple(utts), tuple(skipped), ignored
