"""Host latency: warm-up then >= 50 timed runs in a subprocess, robust summary, peak RSS."""

from __future__ import annotations

import os

import pytest

from sercompress.errors import ArtifactError, ProfileError
from sercompress.profile.host import MIN_RUNS, measure, summarize


def _sane(r, runs=MIN_RUNS):
    assert r.runs == runs == len(r.samples_ms)
    assert 0 < r.min_ms <= r.median_ms <= r.p90_ms <= r.max_ms
    assert r.spread >= 1.0 and r.iqr_ms >= 0
    assert r.peak_rss_bytes >= r.baseline_rss_bytes > 10 * 2**20   # a Python + runtime process
    assert "samples_ms" not in r.to_dict() and len(r.to_dict(samples=True)["samples_ms"]) == runs


def test_litert_one_thread_and_all_threads(small_model):
    one = measure(small_model.int8, threads=1)
    _sane(one)
    assert one.runtime == "litert" and one.threads == 1
    every = measure(small_model.tflite, threads=None, runs=60, warmup=2)
    _sane(every, 60)
    assert every.threads == (os.cpu_count() or 1) and every.warmup == 2


def test_onnxruntime(small_model):
    r = measure(small_model.onnx)
    _sane(r)
    assert r.runtime == "onnxruntime"


def test_peak_rss_is_the_subprocess_own(small_model):
    """The figure must not grow with what the calling process holds."""
    ballast = b"\x01" * (300 * 2**20)   # 300 MiB, touched, in *this* process
    r = measure(small_model.int8)
    del ballast
    assert r.peak_rss_bytes < 300 * 2**20


def test_summary_statistics():
    s = summarize("m", "litert", 1, 1, [float(v) for v in range(1, 101)], 2000, 1000)
    assert s.median_ms == pytest.approx(50.5) and s.p90_ms == pytest.approx(90.1)
    assert s.min_ms == 1 and s.max_ms == 100 and s.iqr_ms == pytest.approx(49.5)
    assert s.spread == pytest.approx(90.1 / 50.5)


def test_bad_requests(tmp_path, small_model):
    with pytest.raises(ProfileError, match="at least 50"):
        measure(small_model.int8, runs=10)
    with pytest.raises(ProfileError, match="warm-up"):
        measure(small_model.int8, warmup=0)
    with pytest.raises(ArtifactError, match="file not found"):
        measure(tmp_path / "absent.tflite")
    weird = tmp_path / "model.bin"
    weird.write_bytes(small_model.int8.read_bytes())
    with pytest.raises(ArtifactError, match="cannot tell the runtime"):
        measure(weird)
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00" * 64)
    with pytest.raises(ArtifactError, match="litert could not run the model"):
        measure(corrupt)


def test_the_measuring_child_imports_nothing_of_the_package():
    """Its start-up is paid for every measurement, and its RSS must be the runtime's own."""
    import ast

    from sercompress.profile.host import CHILD_SCRIPT

    tree = ast.parse(CHILD_SCRIPT.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] if node.module else "." for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert not any(isinstance(node, ast.ImportFrom) and node.level > 0 for node in ast.walk(tree))
    assert "sercompress" not in imported
    assert imported <= {"__future__", "json", "sys", "time", "pathlib", "typing", "resource", "numpy",
                        "ai_edge_litert", "onnxruntime"}
