"""The measuring subprocess of :mod:`.host`: load one model, warm up, time ``runs`` inferences.

Run as a script (``python -P host_child.py PATH RUNTIME THREADS RUNS WARMUP``), never imported
by the package: it imports only the runtime and NumPy, so that its start-up (paid once per
measurement) and its resident memory are the runtime's own. Prints one JSON line: the samples in
milliseconds, the peak RSS and the RSS before the model was loaded.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


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


if __name__ == "__main__":
    _p, _rt, _th, _runs, _wu = sys.argv[1:6]
    print(json.dumps(_child(_p, _rt, int(_th), int(_runs), int(_wu))))
