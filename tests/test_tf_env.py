"""TensorFlow is quiet by default (its C++ notices, the cuInit error, per-epoch warnings) and loud with --verbose."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
#: load TensorFlow, train two epochs and predict (the per-epoch NodeDef warning comes from there),
#: convert to int8 TFLite and run it
SCRIPT = """
import sys
from sercompress import tf_env
tf_env.set_verbose(sys.argv[1] == "1")
import numpy as np
k = tf_env.keras()
m = k.Sequential([k.layers.Input((4,)), k.layers.Dense(2)])
m.compile("adam", "mse")
m.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=2, verbose=0)
m.predict(np.zeros((8, 4)), verbose=0)
# the int8 converter prints its settings and warns; LiteRT announces its XNNPACK delegate
import tempfile, pathlib
from sercompress.export.runtime import run_tflite
from sercompress.export.tflite import to_tflite
blob = to_tflite(m, "int8", representative=np.random.default_rng(0).normal(size=(16, 4)).astype("float32"))
path = pathlib.Path(tempfile.mkdtemp()) / "m.tflite"
path.write_bytes(blob)
run_tflite(path, np.zeros((2, 4), np.float32))
print("ok")
"""


def _run(verbose: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "SERCOMPRESS_"))}
    env["PYTHONPATH"] = SRC
    return subprocess.run([sys.executable, "-c", SCRIPT, "1" if verbose else "0"], env=env,
                          capture_output=True, text=True, timeout=300, check=True)


@pytest.mark.slow
def test_tensorflow_is_silent_by_default():
    r = _run(verbose=False)
    assert r.stdout.strip() == "ok"
    assert r.stderr == ""


def test_verbose_lowers_the_log_level_before_tensorflow_loads(monkeypatch):
    from sercompress import tf_env

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("SERCOMPRESS_VERBOSE", "0")
    tf_env.set_verbose(True)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and tf_env.verbose()
    tf_env.set_verbose(False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and not tf_env.verbose()


def test_tensorflow_libraries_root_logger_warnings_are_hidden_unless_verbose():
    import logging
    import os

    from sercompress.tf_env import _python_loggers

    def record(path: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord("root", level, path, 1, "so apply CQAT instead", None, None)

    tfmot = os.sep.join(["", "venv", "tensorflow_model_optimization", "x.py"])
    root = logging.getLogger()
    try:
        _python_loggers(False)
        assert not root.filter(record(tfmot)) and root.filter(record(tfmot, logging.ERROR))
        assert root.filter(record(os.sep.join(["", "src", "sercompress", "dataset.py"])))
        _python_loggers(True)
        assert root.filter(record(tfmot))
    finally:
        _python_loggers(False)
