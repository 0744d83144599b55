"""Suite-wide pytest set-up: the fuzz suite's Hypothesis profiles and a private store.

The profiles are registered here, in the first conftest pytest loads, so that
``--hypothesis-profile fuzz-nightly`` finds them when the Hypothesis plugin
configures itself (before ``tests/fuzz/conftest.py`` is imported).

The store: tests must neither reuse nor fill the user's content-addressed store
(``~/.cache/sercompress/store``), where work of another code version could stand
in for what a test means to compute. Every test, and every subprocess it starts,
sees an empty store of its own session through ``$SERCOMPRESS_STORE``.
"""

import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

from sercompress.storage import STORE_ENV

_COMMON = dict(deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz-default", max_examples=5, **_COMMON)
settings.register_profile("fuzz-nightly", max_examples=300, **_COMMON)

_STORE = tempfile.mkdtemp(prefix="sercompress-test-store-")


def pytest_configure(config):
    os.environ[STORE_ENV] = _STORE


def pytest_unconfigure(config):
    shutil.rmtree(_STORE, ignore_errors=True)
