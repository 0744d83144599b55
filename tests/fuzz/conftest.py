"""Fuzz-suite fixtures and Hypothesis profiles.

Profiles (``--hypothesis-profile NAME`` or ``SERCOMPRESS_FUZZ_PROFILE=NAME``):

* ``fuzz-default`` (used by ``make test``): a few cases per target, under a minute;
* ``fuzz-nightly``: 300 cases per target and longer deadlines, for a nightly job.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, derandomize=False, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz-default", max_examples=5, **_COMMON)
settings.register_profile("fuzz-nightly", max_examples=300, **_COMMON)
_loaded = getattr(settings, "_current_profile", "") or ""   # set by --hypothesis-profile
FUZZ_PROFILE = os.environ.get("SERCOMPRESS_FUZZ_PROFILE") or (
    _loaded if _loaded.startswith("fuzz-") else "fuzz-default")


@pytest.fixture(scope="session")
def fuzz_dir() -> Path:
    with tempfile.TemporaryDirectory(prefix="sercompress-fuzz-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def fuzz_seeds(fuzz_dir) -> dict[str, Path]:
    """Every seed file (converting the tiny model needs TensorFlow: a few seconds, once)."""
    from .seeds import model_seeds, text_seeds

    return {**text_seeds(fuzz_dir / "seeds"), **model_seeds(fuzz_dir / "seeds")}
