"""Shared checks for corpus directories: present, non-empty, and recognisable."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError


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
