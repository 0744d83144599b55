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
from hypothesis import settings



def fuzz_profile() -> str:
    """$SERCOMPRESS_FUZZ_PROFILE, else a fuzz-* profile given with --hypothesis-profile, else fuzz-default.

    Called when the test module is collected (after Hypothesis has read its option); the
    profiles themselves are registered in tests/conftest.py, which pytest loads first.
    """
    loaded = settings.get_current_profile_name()
    return os.environ.get("SERCOMPRESS_FUZZ_PROFILE") or (
        loaded if loaded.startswith("fuzz-") else "fuzz-default")


@pytest.fixture(scope="session")
def fuzz_dir() -> Path:
    with tempfile.TemporaryDirectory(prefix="sercompress-fuzz-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def fuzz_seeds(fuzz_dir) -> dict[str, Path]:
    """Every seed file (converting the tiny model needs TensorFlow: a few seconds, once)."""
    from .seeds import model_seeds, text_seeds

    return {**text_seeds(fuzz_dir / "seeds"), **model_seeds(fuzz_dir / "seeds")}
