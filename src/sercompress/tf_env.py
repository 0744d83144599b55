"""The single place TensorFlow is imported and configured.

Stages that need TensorFlow call :func:`tf` / :func:`keras` instead of
importing it at module level, so that `profile`, `check`, `report` and
`compare` start in well under a second and never pull TensorFlow in.

Quiet by default: TensorFlow's C++ runtime writes notices to stderr while it
loads (oneDNN, "could not find cuda drivers", the CPU-feature guard) *before*
its log level is in force, a cuInit error on a machine without a GPU, and a
``NodeDef mentions attribute use_unbounded_threadpool`` warning after each
epoch. None of them concern the user; :func:`set_verbose` (``--verbose``)
shows them all.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from types import ModuleType

import sercompress  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

_VERBOSE_ENV = "SERCOMPRESS_VERBOSE"


def set_verbose(verbose: bool) -> None:
    """Show (or silence) TensorFlow's own logs; takes full effect only before TensorFlow loads."""
    os.environ[_VERBOSE_ENV] = "1" if verbose else "0"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    if "tensorflow" in sys.modules:  # too late for the C++ side; the Python loggers still obey
        _python_loggers(verbose)


def verbose() -> bool:
    return os.environ.get(_VERBOSE_ENV) == "1"


@lru_cache(maxsize=1)
def tf() -> ModuleType:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    loud = verbose()
    if not loud:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with contextlib.nullcontext() if loud else _stderr_silenced():
        import tensorflow as _tf
        import tf_keras  # noqa: F401  (loads more shared libraries, which log again)
    _python_loggers(loud)
    return _tf


@lru_cache(maxsize=1)
def keras() -> ModuleType:
    tf()
    import tf_keras

    return tf_keras


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; enable TF's deterministic ops.

    Determinism is what makes the committed CI reference report stable: a
    seeded run on one machine gives the same numbers twice.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    t = tf()
    keras().utils.set_random_seed(seed)
    if deterministic:
        t.config.experimental.enable_op_determinism()


def _python_loggers(verbose: bool) -> None:
    import logging

    level = logging.INFO if verbose else logging.ERROR
    logging.getLogger("tensorflow").setLevel(level)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.INFO if verbose else absl_logging.ERROR)


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Route file descriptor 2 to a temporary file while TensorFlow loads.

    The C++ notices are written before TF_CPP_MIN_LOG_LEVEL applies, straight
    to the descriptor, so only redirecting it silences them. If the import
    fails, what was written is replayed so the cause is not lost.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
