"""Artifact verification: measured figures, and files that do not show their claim are refused."""

from __future__ import annotations

import numpy as np
import pytest

from sercompress.errors import ArtifactError
from sercompress.export.verify import (
    Claim,
    artifact_sizes,
    check_claim,
    kernel_stats,
    satisfies_m_by_n,
    verify_tflite,
)


def test_kernel_stats_counts_zeros_and_distinct_values_per_output_channel():
    # two output channels, each with 2 distinct values but 4 overall (as after BN folding)
    k = np.array([[[[0.0, 1.0]]], [[[2.0, 0.0]]]], dtype=np.float32).reshape(2, 1, 1, 2)
    s = kernel_stats("k", "Conv2D", k)
    assert (s.zeros, s.size, s.max_unique_per_channel) == (2, 4, 2)


def test_m_by_n_check_runs_along_the_last_axis():
    ok = np.array([[1, 0, 2, 0, 0, 3, 0, 4]], dtype=np.float32)
    bad = np.array([[1, 2, 3, 0, 0, 0, 0, 0]], dtype=np.float32)
    assert satisfies_m_by_n(ok, (2, 4)) and not satisfies_m_by_n(bad, (2, 4))
    # a tail block shorter than n is zero-padded, as tfmot does
    assert satisfies_m_by_n(np.ones((3, 1), np.float32), (2, 4))
    assert not satisfies_m_by_n(np.ones((3, 3), np.float32), (2, 4))


def test_check_claim_reports_each_broken_claim():
    rng = np.random.default_rng(0)
    dense = kernel_stats("m/conv/Conv2D", "Conv2D", rng.normal(size=(4, 3, 3, 8)).astype(np.float32), [(2, 4)])
    assert "zeros" in check_claim([dense], Claim(sparsity=0.8)).problems[0]
    assert "2:4" in check_claim([dense], Claim(m_by_n=(2, 4))).problems[0]
    assert "clusters" in check_claim([dense], Claim(clusters=16)).problems[0]
    assert "float kernels" in check_claim([dense], Claim(integer_weights=True)).problems[0]
    assert "no kernel" in check_claim([dense], Claim(sparsity=0.5, layers=("head",))).problems[0]
    int8 = kernel_stats("q", "Conv2D", np.where(rng.random((4, 72)) < 0.8, 0, rng.integers(-3, 4, (4, 72)))
                        .astype(np.int8))
    check = check_claim([int8], Claim(sparsity=0.75, clusters=7, integer_weights=True))
    assert not check.problems and check.max_unique_per_channel <= 7


@pytest.mark.slow
def test_unpruned_file_labelled_pruned_is_an_artifact_error(float_file):
    path = float_file
    with pytest.raises(ArtifactError, match="claims 80%") as err:
        verify_tflite(path, [Claim(sparsity=0.8)])
    assert err.value.path == path
    with pytest.raises(ArtifactError, match="2:4"):
        verify_tflite(path, [Claim(m_by_n=(2, 4), layers=("conv2",))])
    with pytest.raises(ArtifactError, match="distinct values"):
        verify_tflite(path, [Claim(clusters=16)])
    with pytest.raises(ArtifactError, match="float kernels"):
        verify_tflite(path, [Claim(integer_weights=True)])
    result = verify_tflite(path, [Claim(layers=("conv2", "classifier"))])
    assert result.ok and result.checks[0].kernels == 2 and result.sparsity < 0.01
    sizes = artifact_sizes(path)
    assert sizes.file_bytes == path.stat().st_size and 0 < sizes.gzip_bytes < sizes.file_bytes
    assert sizes.weight_bytes_by_dtype["float32"] >= 4 * (8 * 9 + 8 * 9 * 32 + 32 * 4)


def test_unreadable_file_is_an_artifact_error(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ArtifactError):
        verify_tflite(bad, [Claim()])
