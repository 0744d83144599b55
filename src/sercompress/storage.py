"""Atomic writes, content hashes and locks: how outputs are never half-written.

Every file the suite produces is written to a temporary name in the same
directory and renamed into place (``os.replace`` is atomic on POSIX), so a
killed process never leaves a partial file that later looks complete. Task
outputs are whole directories published the same way, with a ``DONE`` marker
written last.

The *store* (:func:`default_store`, ``--store``) keeps finished work units
(references, step checkpoints, variants, assessments) under their content
keys for every run directory of a user; a run directory receives hard links
to what it uses (:func:`link_tree`), so it stays self-contained. Linking is
safe because nothing here is ever modified in place: every writer renames a
new file over the old name, which leaves the other link untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import RunError

DONE_MARKER = "DONE"
#: environment variable naming the store directory (``--store`` overrides it)
STORE_ENV = "SERCOMPRESS_STORE"
#: how long a process waits for another one finishing the same store entry
STORE_WAIT_S = 6 * 3600.0
_LOCK_POLL_S = 0.5


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def content_hash(*parts: Any, length: int = 16) -> str:
    """Stable short hash of JSON-serialisable parts (dicts are key-sorted)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    For writers that insist on a file name (the TFLite converter, tf2onnx,
    ``model.save``). Works for files and directories.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp = tmpdir / path.name
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer did not create {tmp}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def is_done(directory: str | Path) -> bool:
    """A task directory is complete only when its DONE marker exists."""
    return (Path(directory) / DONE_MARKER).is_file()


def mark_done(directory: str | Path, info: dict[str, Any] | None = None) -> None:
    atomic_write_json(Path(directory) / DONE_MARKER, info or {})


@contextlib.contextmanager
def directory_lock(directory: str | Path, name: str = ".lock", wait_s: float = 0.0) -> Iterator[Path]:
    """Exclusive lock on a run directory, refusing a second writer.

    The lock file names the holder's pid; a lock whose pid is no longer alive
    is stale and taken over. ``wait_s`` > 0 waits that long for a live holder
    (store entries: the other process is computing what we want) before
    refusing.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = directory / name
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_pid(lock)
            if holder is not None and holder != os.getpid() and _pid_alive(holder):
                if time.monotonic() < deadline:
                    time.sleep(_LOCK_POLL_S)
                    continue
                raise RunError(
                    f"directory is being written by another process (pid {holder}); "
                    f"refusing to interleave. Remove {lock} if that process is gone.",
                    path=directory,
                ) from None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        break
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)


def _read_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_store() -> Path:
    """The user's store: ``$SERCOMPRESS_STORE``, else ``$XDG_CACHE_HOME/sercompress/store``
    (``~/.cache/sercompress/store``)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "sercompress" / "store"


@contextlib.contextmanager
def store_entry(path: str | Path) -> Iterator[Path]:
    """Hold a store entry while computing it; a second process waits for it, then reuses it.

    The lock sits beside the entry (``.NAME.lock``), so the entry directory
    itself keeps its own writer's lock.
    """
    path = Path(path)
    with directory_lock(path.parent, name=f".{path.name}.lock", wait_s=STORE_WAIT_S):
        yield path


def link_tree(src: str | Path, dest: str | Path) -> Path:
    """Publish the finished directory ``src`` at ``dest`` as hard links (copies across filesystems).

    Lock and temporary files are left out. An existing finished ``dest`` is
    kept; an unfinished one is replaced, atomically like every output.
    """
    src, dest = Path(src), Path(dest)
    if not is_done(src):
        raise RunError("store entry is not finished (no DONE marker)", path=src)
    if is_done(dest):
        return dest
    with atomic_path(dest) as tmp:
        shutil.copytree(src, tmp, copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns(".lock", ".*.lock", ".*.tmp"))
    return dest


def _link_or_copy(src: str, dest: str) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another filesystem, or links not allowed: a copy is as good
        shutil.copy2(src, dest)
