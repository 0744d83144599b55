"""Measured latency on this machine: LiteRT (XNNPACK) or ONNX Runtime, batch 1.

One inference is never a measurement on a shared 2-core VM: every figure here
is a warm-up followed by at least :data:`MIN_RUNS` timed runs, reported as
median, p90, min, max and spread (IQR and p90/median), so a noisy run is
visible as such.

The runs happen in a fresh subprocess (``python -m sercompress.profile.host``),
for two reasons: the peak RSS is then the runtime's own (the child's
``VmHWM`` / ``ru_maxrss``, with the baseline before the model is loaded
reported beside it), not whatever our process has accumulated; and a runtime
crash on a bad artifact cannot take the caller down. Neither process imports
TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

from ..errors import ArtifactError, ProfileError
from .types import HostLatency

MIN_RUNS = 50
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
    cmd = [sys.executable, "-m", __name__, str(path), runtime, str(n_threads), str(runs), str(warmup)]
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


# ----------------------------------------------------------------- the subprocess side

def _rss_bytes(field: str) -> int:
    """VmRSS / VmHWM of this process from /proc (Linux), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _litert_runner(path: str, threads: int):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=path, num_threads=threads)
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], _random_input(np, d["shape"], d["dtype"]))
    return interp.invoke


def _onnx_runner(path: str, threads: int):
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    types = {"tensor(float)": np.float32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8,
             "tensor(int16)": np.int16, "tensor(float16)": np.float16}
    feeds = {i.name: _random_input(np, [d if isinstance(d, int) and d > 0 else 1 for d in i.shape],
                                   types.get(i.type, np.float32)) for i in sess.get_inputs()}
    return lambda: sess.run(None, feeds)


def _random_input(np: Any, shape: Any, dtype: Any):
    rng = np.random.default_rng(0)
    shape = [int(d) if int(d) > 0 else 1 for d in shape]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


def _child(path: str, runtime: str, threads: int, runs: int, warmup: int) -> dict[str, Any]:
    make = _litert_runner if runtime == "litert" else _onnx_runner
    if runtime == "litert":
        import ai_edge_litert.interpreter  # noqa: F401  (baseline includes the runtime)
    else:
        import onnxruntime  # noqa: F401
    baseline = _rss_bytes("VmRSS")
    run = make(path, threads)
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return {"samples_ms": samples, "peak_rss_bytes": _rss_bytes("VmHWM"),
            "baseline_rss_bytes": baseline}


if __name__ == "__main__":  # the measuring subprocess
    _p, _rt, _th, _runs, _wu = sys.argv[1:6]
    print(json.dumps(_child(_p, _rt, int(_th), int(_runs), int(_wu))))
