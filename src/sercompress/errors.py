"""Typed errors that carry the file and key a user has to fix.

The CLI turns any :class:`SercompressError` into one clear line on stderr and
exit code 2, never a traceback. Raise these for bad *input*; programming errors
stay ordinary exceptions.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SercompressError(Exception):
    """Base class: a problem with something the user gave us."""

    def __init__(self, message: str, *, path: str | Path | None = None, key: str | None = None):
        self.path = Path(path) if path is not None else None
        self.key = key
        self.message = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.key:
                where += f": key '{self.key}'"
            where += ": "
        elif self.key:
            where = f"key '{self.key}': "
        return f"{where}{self.message}"


class ConfigError(SercompressError):
    """A TOML file (run config, baseline, tolerance) is malformed or invalid."""


class RecipeError(ConfigError):
    """A compression recipe is invalid or asks for something tfmot cannot do."""


class ProfileError(SercompressError):
    """A hardware profile is invalid, unknown, or an artifact cannot be profiled."""


class ArtifactError(SercompressError):
    """An exported model file is missing, corrupt, or does not show its claim."""


class DataError(SercompressError):
    """A corpus directory, audio file or label is unusable."""


class UnusableAudio(DataError):
    """This one audio file cannot be used; the run skips it and reports it."""


class RunError(SercompressError):
    """A run directory is locked, incomplete, or inconsistent."""


class SummaryError(SercompressError):
    """A summary.json is missing, unreadable, or of another schema version."""


#: What decoding damaged bytes raises, whether inside a decoding library or in our reader
#: working on what it decoded: an offset past the end (``struct.error``), a count or index
#: read from the file (``IndexError``), sizes that do not agree (``ValueError``), a number
#: too large (``OverflowError``). Programming errors (``TypeError``, ``AttributeError``,
#: ``KeyError``, ``NameError``, ...) raised in our own code are deliberately not here: a bug
#: in the suite must surface as a bug, not be reported to the user as a corrupt file.
DECODE_ERRORS: tuple[type[Exception], ...] = (struct.error, IndexError, ValueError, OverflowError)


def is_damaged_input(exc: BaseException, decoders: tuple[str, ...] = ()) -> bool:
    """True if ``exc`` is what a damaged file causes: a decode error, or anything a decoder raised.

    ``decoders`` are top-level package names (``"flatbuffers"``, ``"onnx"``) whose own
    exceptions all mean "this input is malformed" (flatbuffers raises ``TypeError`` for a
    negative offset, for instance); they count only when raised inside that package.
    """
    if isinstance(exc, DECODE_ERRORS):
        return True
    tb = exc.__traceback__
    if tb is None or not decoders:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.split(".")[0] in decoders


@contextmanager
def reading(path: str | Path, what: str, error: type[SercompressError] = SercompressError, *,
            decoders: tuple[str, ...] = ()) -> Iterator[None]:
    """Around the parsing of one user file: every problem of the file becomes one error naming it.

    A :class:`SercompressError` raised without a file gets ``path``; what a damaged file
    causes (:func:`is_damaged_input`) becomes ``error("<what> (<type>: <message>)")``.
    Anything else is a bug in the suite and propagates unchanged, with its traceback.
    """
    try:
        yield
    except SercompressError as e:
        if e.path is None:
            raise type(e)(e.message, path=path, key=e.key) from None
        raise
    except Exception as e:  # sorted by is_damaged_input; the rest is re-raised
        if not is_damaged_input(e, decoders):
            raise
        raise error(f"{what} ({type(e).__name__}: {e})", path=path) from None
