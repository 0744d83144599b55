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
    with native_output_silenced():
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


#: /proc/cpuinfo flags of units that multiply bfloat16 natively (oneDNN uses them for bf16 convolutions)
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bfloat16 natively; without it bfloat16 is emulated and slower than float32."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(BF16_CPU_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy (e.g. "mixed_bfloat16") for the layers built inside; the previous one after."""
    mp = keras().mixed_precision
    previous = mp.global_policy()
    mp.set_global_policy(name)
    try:
        yield
    finally:
        mp.set_global_policy(previous)


class _WarningsOfTensorFlowLibraries:
    """A logging filter dropping records below ERROR that TensorFlow's own packages log on the root logger."""

    def filter(self, record: object) -> bool:
        import logging

        path = str(getattr(record, "pathname", ""))
        return getattr(record, "levelno", 0) >= logging.ERROR or not any(
            f"{os.sep}{pkg}{os.sep}" in path for pkg in ("tensorflow_model_optimization", "tensorflow", "tf_keras"))


def _python_loggers(verbose: bool) -> None:
    import logging
    import warnings

    level = logging.INFO if verbose else logging.ERROR
    logging.getLogger("tensorflow").setLevel(level)
    root = logging.getLogger()  # tfmot logs on the root logger ("... so apply CQAT instead")
    for f in [f for f in root.filters if isinstance(f, _WarningsOfTensorFlowLibraries)]:
        root.removeFilter(f)
    if not verbose:  # and e.g. the converter's "Statistics for quantized inputs were expected"
        root.addFilter(_WarningsOfTensorFlowLibraries())
        for module in (r"tensorflow(\.|$)", r"tf_keras(\.|$)", r"tensorflow_model_optimization(\.|$)"):
            warnings.filterwarnings("ignore", module=module)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.INFO if verbose else absl_logging.ERROR)


@contextlib.contextmanager
def native_output_silenced() -> Iterator[None]:
    """Unless verbose, route file descriptors 1 and 2 to a temporary file around native code.

    For C++ that writes to the descriptors directly, past every log level: TensorFlow's
    notices while it loads (before TF_CPP_MIN_LOG_LEVEL applies), the TFLite converter's
    ``fully_quantize: 0, inference_type: 6 ...`` and LiteRT's ``Created TensorFlow Lite
    XNNPACK delegate``. If the block fails, what was written is replayed on stderr so the
    cause is not lost. Wrap only native calls: Python output inside is captured too.
    """
    if verbose():
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as sink:
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        try:
            yield
        except BaseException:
            _restore(saved)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            _restore(saved)
            for copy in saved.values():
                os.close(copy)


def _restore(saved: dict[int, int]) -> None:
    for fd, copy in saved.items():
        os.dup2(copy, fd)
