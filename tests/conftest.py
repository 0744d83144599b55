"""Suite-wide pytest set-up: only the fuzz suite's Hypothesis profiles.

They are registered here, in the first conftest pytest loads, so that
``--hypothesis-profile fuzz-nightly`` finds them when the Hypothesis plugin
configures itself (before ``tests/fuzz/conftest.py`` is imported).
"""

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz-default", max_examples=5, **_COMMON)
settings.register_profile("fuzz-nightly", max_examples=300, **_COMMON)
