"""Run one hostile case against one command and judge it: exit code, traceback, bounds, outputs.

A *target* is a command that reads one kind of file: the CLI with the mutated file in its
argument list, or (for readers whose CLI would go on to train) the library entry point the
CLI calls. A case passes when the command

* ends with an allowed exit code (0 or 2; 1 too for the gates ``check`` / ``compare``) or,
  for a library target, returns or raises a :class:`SercompressError`;
* prints no traceback (in process: no other exception escapes; in a child: none on stderr,
  no death by a signal);
* stays under the memory bound (in process: the growth of peak RSS, VmHWM reset per case; in a child: RLIMIT_AS, so an
  over-allocation is a MemoryError traceback, plus its peak RSS) and the CPU-time bound;
* leaves no half-written output: no temporary files, a report's four files all or none, a
  JUnit file absent or complete XML.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MEMORY_BOUND = 1 << 30        # 1 GiB over the interpreter's own footprint
TIME_BOUND_S = 30.0           # CPU seconds per case (the machine is shared and loaded)
REPORT_FILES = ("summary.json", "variants.csv", "summary.md", "index.html")


@dataclass(frozen=True)
class Target:
    """How one command reads one kind of file."""

    name: str
    kind: str                       # "tflite", "onnx", "wav", "toml", "json", "keras"
    seed: str                       # key of the seed file it mutates
    argv: Callable[[Path, Path], list[str]] | None = None    # (mutated file, scratch) -> CLI args
    call: Callable[[Path, Path], object] | None = None        # library entry point instead
    place: Callable[[Path, bytes, Path], Path] | None = None  # where the mutated bytes go
    codes: frozenset[int] = frozenset({0, 2})
    outputs: Callable[[Path], tuple[Path, tuple[str, ...]]] | None = None  # scratch -> (dir, files)
    slow: bool = False              # seconds per case (a runtime in a child): nightly and bench only


@dataclass
class Outcome:
    target: str
    case: str
    code: int | None = None
    traceback: str = ""
    peak_bytes: int = 0
    cpu_s: float = 0.0
    half_written: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def run_case(target: Target, seed_path: Path, data: bytes, scratch: Path, case: str,
             subprocess_mode: bool = False) -> Outcome:
    """Write ``data`` where the target reads it, run the target, judge the outcome."""
    scratch.mkdir(parents=True, exist_ok=True)
    path = target.place(seed_path, data, scratch) if target.place else _write(scratch / seed_path.name, data)
    out = Outcome(target.name, case)
    if subprocess_mode and target.argv is not None:
        _in_child(target, path, scratch, out)
    else:
        _in_process(target, path, scratch, out)
    _judge(target, scratch, out)
    return out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _in_process(target: Target, path: Path, scratch: Path, out: Outcome) -> None:
    from sercompress.cli import main
    from sercompress.errors import SercompressError

    stderr = io.StringIO()
    peak = PeakMemory()
    start = time.process_time()
    try:
        with peak, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            if target.argv is not None:
                out.code = main(target.argv(path, scratch))
            else:
                target.call(path, scratch)  # type: ignore[misc]
                out.code = 0
    except SystemExit as e:  # argparse usage errors
        out.code = int(e.code or 0)
    except SercompressError:
        out.code = 2
    except BaseException as e:  # noqa: BLE001 - the very thing the suite looks for
        out.traceback = f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        out.cpu_s = time.process_time() - start
        out.peak_bytes = peak.bytes
    if "Traceback" in stderr.getvalue():
        out.traceback = stderr.getvalue()[-300:]


class PeakMemory:
    """Peak resident memory added while the block runs, at no cost to the code measured.

    Linux resets the high-water mark (VmHWM) when 5 is written to /proc/self/clear_refs;
    the peak is then read back. Without that file, tracemalloc's peak (slower) is used.
    """

    def __init__(self) -> None:
        self.bytes = 0
        self._rss = 0
        self._proc = Path("/proc/self/clear_refs")

    def __enter__(self) -> PeakMemory:
        try:
            self._proc.write_text("5")
            self._rss = _status("VmRSS")
        except OSError:
            self._proc = None  # type: ignore[assignment]
            tracemalloc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self.bytes = max(_status("VmHWM") - self._rss, 0)
        else:
            self.bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


#: The CLI, then the child's own peak RSS (VmHWM: its own, not the forking parent's) on stderr.
_CHILD = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'PEAK_RSS={int(hwm) * 1024}\\n')\n"
    "atexit.register(_peak)\n"
    "from sercompress.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _in_child(target: Target, path: Path, scratch: Path, out: Outcome) -> None:
    """The CLI in a fresh interpreter under RLIMIT_AS: an over-allocation cannot hurt the host."""
    def limit() -> None:
        cap = MEMORY_BOUND + (768 << 20)   # + the interpreter, NumPy, ONNX and their mappings
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        resource.setrlimit(resource.RLIMIT_CPU, (int(TIME_BOUND_S) + 5, int(TIME_BOUND_S) + 10))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, *target.argv(path, scratch)],  # type: ignore[misc]
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    try:
        _, err = proc.communicate(timeout=TIME_BOUND_S * 4)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        out.problems.append("wall-clock timeout")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.code = proc.returncode
    out.cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    text = err.decode(errors="replace")
    peak = [line for line in text.splitlines() if line.startswith("PEAK_RSS=")]
    out.peak_bytes = int(peak[-1].split("=")[1]) if peak else 0
    if "Traceback" in text or proc.returncode < 0:
        out.traceback = text[-400:] or f"killed by signal {-proc.returncode}"


def _judge(target: Target, scratch: Path, out: Outcome) -> None:
    if out.traceback:
        out.problems.append(f"traceback: {out.traceback}")
    elif out.code not in target.codes:
        out.problems.append(f"exit code {out.code}")
    if out.peak_bytes > MEMORY_BOUND:
        out.problems.append(f"memory: peak {out.peak_bytes / 2**20:.0f} MiB")
    if out.cpu_s > TIME_BOUND_S and "timeout" not in " ".join(out.problems):
        out.problems.append(f"time: {out.cpu_s:.1f} s CPU")
    out.half_written = half_written(target, scratch)
    if out.half_written:
        out.problems.append(f"half-written: {out.half_written}")


def half_written(target: Target, scratch: Path) -> str:
    """Temporary files left behind, a partial report, or a JUnit file that is not whole XML."""
    leftovers = [p.name for p in scratch.rglob(".*.tmp")]
    if leftovers:
        return f"temporary files {leftovers}"
    if target.outputs is None:
        return ""
    directory, names = target.outputs(scratch)
    present = [n for n in names if (directory / n).exists()]
    if present and len(present) != len(names):
        return f"only {present} of {list(names)}"
    for n in present:
        if n.endswith(".xml"):
            import xml.etree.ElementTree as ET

            try:
                ET.parse(directory / n)
            except ET.ParseError as e:
                return f"{n} is not complete XML ({e})"
    return ""


def fresh(scratch: Path) -> Path:
    """An empty scratch directory for the next case."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return scratch


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {"cases": len(outcomes),
            "tracebacks": sum(bool(o.traceback) for o in outcomes),
            "bound_violations": sum(any(p.startswith(("memory", "time", "wall")) for p in o.problems)
                                    for o in outcomes),
            "half_written": sum(bool(o.half_written) for o in outcomes),
            "bad_exit_codes": sum(any(p.startswith("exit code") for p in o.problems) for o in outcomes)}
