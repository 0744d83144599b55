"""Arm Vela ground truth: compile an int8 .tflite for an Ethos-U NPU and read its estimates.

Vela is the vendor compiler; its summary gives cycles and time at the NPU
clock, SRAM and flash use, its MAC count (the convention :mod:`.static`
follows) and which operators it leaves to the CPU. It runs as the ``vela``
command in a subprocess in a temporary directory (it writes files and prints a
lot), and results are cached by the file's sha256 plus the options, because a
compile takes seconds.

Vela needs a system configuration and memory mode from a config ini; the ini
it ships (``Arm/vela.ini``) defines ``Ethos_U55_High_End_Embedded`` and
``Shared_Sram``, the defaults here.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pydantic import ValidationError

from ..errors import ProfileError
from ..records import write_record
from ..storage import content_hash, sha256_file
from .types import VelaResult

DEFAULT_ACCELERATOR = "ethos-u55-128"
DEFAULT_SYSTEM_CONFIG = "Ethos_U55_High_End_Embedded"
DEFAULT_MEMORY_MODE = "Shared_Sram"
DEFAULT_CONFIG = "Arm/vela.ini"
#: Bump when parsing changes so stale cache entries are not reused.
CACHE_VERSION = 4
TIMEOUT_S = 600

_WARNING = re.compile(r"^Warning \(supported operators\) operator: (\w+), ofm: '(.*)'")
_CPU_LINE = re.compile(r"^\s*CPU: (\w+) = (.*?)(?: \(outputs .*\))?$")
_COUNT = re.compile(r"^(CPU|NPU) operators = (\d+)")


def vela_executable() -> str:
    """The ``vela`` next to this interpreter (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).with_name("vela")
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("vela")
    if found is None:
        raise ProfileError("the 'vela' command (ethos-u-vela) is not installed")
    return found


def compile(path: str | Path, accelerator: str = DEFAULT_ACCELERATOR,
            system_config: str = DEFAULT_SYSTEM_CONFIG, memory_mode: str = DEFAULT_MEMORY_MODE,
            config: str = DEFAULT_CONFIG, cache_dir: str | Path | None = None) -> VelaResult:
    """Compile ``path`` with Vela and return its summary (cached by content and options)."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError("no such file", path=path)
    options = {"accelerator": accelerator, "system_config": system_config,
               "memory_mode": memory_mode, "config": config, "v": CACHE_VERSION}
    cache_file = None
    if cache_dir is not None:
        key = content_hash(sha256_file(path), options)
        cache_file = Path(cache_dir) / "vela" / f"{key}.json"
        cached = _read_cache(cache_file)
        if cached is not None:
            return cached
    result = _run(path, accelerator, system_config, memory_mode, config)
    if cache_file is not None:
        write_record(cache_file, result)
    return result


def _read_cache(cache_file: Path) -> VelaResult | None:
    try:
        return VelaResult.model_validate_json(cache_file.read_bytes())
    except (OSError, ValidationError):
        return None  # missing or stale: recompute


def _run(path: Path, accelerator: str, system_config: str, memory_mode: str, config: str) -> VelaResult:
    with tempfile.TemporaryDirectory(prefix="sercompress-vela-") as tmp:
        network = Path(tmp) / "network.tflite"
        shutil.copyfile(path, network)
        cmd = [vela_executable(), str(network), "--accelerator-config", accelerator,
               "--config", config, "--system-config", system_config, "--memory-mode", memory_mode,
               "--output-dir", str(Path(tmp) / "out"), "--show-cpu-operations"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
        except subprocess.TimeoutExpired:
            raise ProfileError(f"vela did not finish within {TIMEOUT_S} s", path=path) from None
        summaries = sorted((Path(tmp) / "out").glob("network_summary_*.csv"))
        if proc.returncode != 0 or not summaries:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ProfileError(f"vela failed (exit {proc.returncode}): {tail[0]}", path=path)
        with open(summaries[0], newline="") as f:
            row = next(csv.DictReader(f))
        optimised = Path(tmp) / "out" / "network_vela.tflite"
        if not optimised.is_file():
            raise ProfileError("vela wrote no optimised model (network_vela.tflite)", path=path)
        optimised_bytes = optimised.stat().st_size
    return _result(row, proc.stdout + "\n" + proc.stderr, accelerator, memory_mode, optimised_bytes)


def _result(row: dict[str, str], log: str, accelerator: str, memory_mode: str,
            optimised_bytes: int) -> VelaResult:
    counts = {"CPU": 0, "NPU": 0}
    fallbacks: list[str] = []
    for line in log.splitlines():
        if m := _COUNT.match(line):
            counts[m.group(1)] = int(m.group(2))
        elif m := _WARNING.match(line):
            fallbacks.append(f"{m.group(1)} '{m.group(2)}'")
    if counts["CPU"] and not fallbacks:  # no warning text: take the CPU list
        fallbacks = [f"{m.group(1)} '{m.group(2)}'" for line in log.splitlines()
                     if (m := _CPU_LINE.match(line))]
    kib = 1024.0
    return VelaResult(
        accelerator=accelerator,
        system_config=row["system_config"],
        memory_mode=row.get("memory_mode", memory_mode),
        clock_hz=float(row["core_clock"]),
        cycles=int(float(row["cycles_total"])),
        inference_ms=float(row["inference_time"]) * 1e3,
        sram_bytes=round(float(row["sram_memory_used"]) * kib),
        flash_bytes=round((float(row["off_chip_flash_memory_used"])
                           + float(row["on_chip_flash_memory_used"])) * kib),
        macs=int(float(row["nn_macs"])),
        cpu_op_count=counts["CPU"],
        npu_op_count=counts["NPU"],
        cpu_fallback_ops=tuple(fallbacks),
        dram_bytes=round(float(row.get("dram_memory_used") or 0.0) * kib),
        optimised_bytes=optimised_bytes,
    )
