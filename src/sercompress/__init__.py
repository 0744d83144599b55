"""sercompress: hardware-aware compression and benchmarking of Light-SERNet.

Importing the package is cheap: it never imports TensorFlow. It only makes sure
that, *if* TensorFlow is imported later, it uses Keras 2 (``tf_keras``), which
is what the TensorFlow Model Optimization Toolkit requires.
"""

from __future__ import annotations

import os

# Must be set before TensorFlow is first imported anywhere in the process.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet; --verbose lowers it (tf_env)

__version__ = "0.1.0"

__all__ = ["__version__"]
