"""Measured latency on this machine: LiteRT (XNNPACK) or ONNX Runtime, batch 1.

One inference is never a measurement on a shared 2-core VM: every figure here
is a warm-up followed by at least :data:`MIN_RUNS` timed runs, reported as
median, p90, min, max and spread (IQR and p90/median), so a noisy run is
visible as such.

The runs happen in a fresh subprocess (:mod:`.host_child`, run as a script), for
two reasons: the peak RSS is then the runtime's own (the child's
``VmHWM`` / ``ru_maxrss``, with the baseline before the model is loaded
reported beside it), not whatever our process has accumulated; and a runtime
crash on a bad artifact cannot take the caller down. Neither process imports
TensorFlow, and the child imports nothing of sercompress (only the runtime and
NumPy): it starts in about 0.25 s instead of 0.5 s, which is most of what a
measurement of a small model costs (a run assesses about 30 files, 4 times each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

from ..errors import ArtifactError, ProfileError
from .types import HostLatency

MIN_RUNS = 50
#: the measuring subprocess, run by path so that it imports none of this package
CHILD_SCRIPT = Path(__file__).with_name("host_child.py")
HostRuntime = Literal["litert", "onnxruntime"]
_SUFFIX_RUNTIME: dict[str, HostRuntime] = {".tflite": "litert", ".onnx": "onnxruntime"}


def measure(path: str | Path, threads: int | None = 1, runs: int = MIN_RUNS, warmup: int = 5,
            runtime: HostRuntime | None = None, timeout_s: float = 600.0) -> HostLatency:
    """Time ``path`` at batch 1 in a subprocess; ``threads=None`` uses every core."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("file not found", path=path)
    if runs < MIN_RUNS:
        raise ProfileError(f"at least {MIN_RUNS} timed runs are needed for a median and p90, "
                           f"got {runs}", key="runs")
    if warmup < 1:
        raise ProfileError("at least one warm-up run is needed", key="warmup")
    runtime = runtime or _SUFFIX_RUNTIME.get(path.suffix)
    if runtime is None:
        raise ArtifactError(f"cannot tell the runtime from suffix '{path.suffix}' "
                            "(expected .tflite or .onnx)", path=path)
    n_threads = threads if threads is not None else (os.cpu_count() or 1)
    # -P: the script's directory (this package, with its types.py) must not shadow the standard library
    cmd = [sys.executable, "-P", str(CHILD_SCRIPT), str(path), runtime, str(n_threads), str(runs), str(warmup)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise ArtifactError(f"measurement did not finish within {timeout_s:g} s", path=path) from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ArtifactError(f"{runtime} could not run the model: {tail}", path=path)
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    return summarize(str(path), runtime, n_threads, warmup, raw["samples_ms"],
                     raw["peak_rss_bytes"], raw["baseline_rss_bytes"])


def summarize(path: str, runtime: str, threads: int, warmup: int, samples_ms: list[float],
              peak_rss_bytes: int, baseline_rss_bytes: int) -> HostLatency:
    import numpy as np

    s = np.asarray(samples_ms, dtype=np.float64)
    q25, median, q75, p90 = (float(v) for v in np.percentile(s, [25, 50, 75, 90]))
    return HostLatency(path=path, runtime=runtime, threads=threads, runs=int(s.size), warmup=warmup,
                       median_ms=median, p90_ms=p90, min_ms=float(s.min()), max_ms=float(s.max()),
                       mean_ms=float(s.mean()), iqr_ms=q75 - q25,
                       spread=p90 / median if median > 0 else float("inf"),
                       peak_rss_bytes=int(peak_rss_bytes), baseline_rss_bytes=int(baseline_rss_bytes),
                       samples_ms=tuple(float(v) for v in s))
