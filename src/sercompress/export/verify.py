"""Read the weights back out of a .tflite file and check the variant's claim.

A compressed variant is only what its file shows. After export we read every
kernel (Conv2D / DepthwiseConv2D / FullyConnected weights) through the
profiler's flatbuffer reader (``profile.read_graph``, the one TFLite parser)
and measure, per kernel, the fraction of zeros, the number of distinct values
per output channel, the M:N pattern and the dtype. A file that does not show
what the recipe claims (prune-80 with < 79 % zeros, a broken 2:4 pattern, more
distinct values than clusters, float kernels in an "int8" file) is an
:class:`ArtifactError`.

Why distinct values are counted per output channel: the converter folds batch
norm into the preceding convolution (one scale per output channel) and int8
kernels are quantised per output channel, so a 16-cluster kernel legitimately
has up to 16 distinct values *in each output channel* but many more overall.
Scaling and rounding can only merge values, never split them, so
"<= clusters per output channel" is the exact, sound check for float, float16
and int8 files alike. TFLite stores kernels output-channel first (OHWI / OI),
and tfmot's M:N blocks run along the last (input-channel) axis of that layout.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ArtifactError, ProfileError
from ..profile.ops import KERNEL_OPS
from .types import Claim, ClaimCheck, KernelStats, Sizes, Verification

__all__ = [
    "KERNEL_OPS",
    "SPARSITY_TOLERANCE",
    "Claim",
    "artifact_sizes",
    "check_claim",
    "kernel_stats",
    "satisfies_m_by_n",
    "verify_tflite",
]

#: Allowed shortfall of measured sparsity against the target (prune-80 needs >= 79 %).
SPARSITY_TOLERANCE = 0.01


def kernel_stats(name: str, op: str, kernel: np.ndarray,
                 patterns: Sequence[tuple[int, int]] = ()) -> KernelStats:
    """Figures of one kernel stored output-channel first (TFLite layout)."""
    k = np.asarray(kernel)
    per_channel = k.reshape(k.shape[0], -1) if k.ndim > 1 else k.reshape(1, -1)
    if op == "DepthwiseConv2D":  # TFLite depthwise is [1, H, W, C]: channels last
        per_channel = k.reshape(-1, k.shape[-1]).T
    unique = max((len(np.unique(row)) for row in per_channel), default=0)
    zeros = int(k.size - np.count_nonzero(k))
    return KernelStats(name=name, op=op, shape=tuple(int(d) for d in k.shape), dtype=str(k.dtype),
                       size=int(k.size), zeros=zeros, sparsity=zeros / k.size if k.size else 0.0,
                       max_unique_per_channel=int(unique),
                       m_by_n={f"{m}:{n}": satisfies_m_by_n(k, (m, n)) for m, n in patterns})


def satisfies_m_by_n(kernel: np.ndarray, m_by_n: tuple[int, int]) -> bool:
    """At least m zeros in every block of n along the last axis (tail block zero-padded)."""
    m, n = m_by_n
    rows = np.asarray(kernel).reshape(-1, kernel.shape[-1])
    pad = (-rows.shape[1]) % n
    if pad:
        rows = np.pad(rows, ((0, 0), (0, pad)))
    blocks = rows.reshape(rows.shape[0], -1, n)
    return bool(np.all(np.count_nonzero(blocks, axis=-1) <= n - m))


def check_claim(kernels: Sequence[KernelStats], claim: Claim) -> ClaimCheck:
    """Compare the measured figures of the covered kernels with one claim; never raises."""
    covered = [k for k in kernels if _covered(k.name, claim.layers)]
    problems: list[str] = []
    if claim.layers is not None and not covered:
        problems.append(f"no kernel in the file matches the claimed layers {list(claim.layers)}")
    size = sum(k.size for k in covered)
    sparsity = sum(k.zeros for k in covered) / size if size else 0.0
    max_unique = max((k.max_unique_per_channel for k in covered), default=0)
    if claim.sparsity is not None and sparsity < claim.sparsity - SPARSITY_TOLERANCE:
        problems.append(f"pruned kernels are {sparsity:.1%} zeros, the recipe claims "
                        f"{claim.sparsity:.0%} (tolerance {SPARSITY_TOLERANCE:.0%})")
    if claim.m_by_n is not None:
        bad = [k.name for k in covered if not satisfies_m_by_n_stats(k, claim.m_by_n)]
        if bad:
            problems.append(f"{claim.m_by_n[0]}:{claim.m_by_n[1]} sparsity not satisfied in {bad[:3]}")
    if claim.clusters is not None and max_unique > claim.clusters:
        worst = max(covered, key=lambda k: k.max_unique_per_channel)
        problems.append(f"kernel {worst.name!r} has {max_unique} distinct values in an output "
                        f"channel, more than the {claim.clusters} clusters claimed")
    if claim.output_channels is not None:
        wrong = [f"{k.name} {_out_channels(k)}" for k in covered if _out_channels(k) != claim.output_channels]
        if wrong:
            problems.append(f"kernels {wrong[:3]} do not have the {claim.output_channels} output "
                            "channels claimed")
    if claim.integer_weights:
        floats = [k.name for k in covered if np.dtype(k.dtype).kind == "f"]
        if floats:
            problems.append(f"integer file has float kernels: {floats[:3]}")
    if claim.min_integer_fraction is not None and size:
        integer = sum(k.size for k in covered if np.dtype(k.dtype).kind in "iu") / size
        if integer < claim.min_integer_fraction:
            problems.append(f"only {integer:.0%} of kernel weights are stored as integers, "
                            f"expected at least {claim.min_integer_fraction:.0%}")
    return ClaimCheck(claim=claim, kernels=len(covered), sparsity=float(sparsity),
                      max_unique_per_channel=int(max_unique), problems=tuple(problems))


def _out_channels(stats: KernelStats) -> int:
    """Output channels of a kernel in TFLite layout (OHWI / OI; depthwise [1, H, W, C])."""
    return stats.shape[-1] if stats.op == "DepthwiseConv2D" else stats.shape[0]


def satisfies_m_by_n_stats(stats: KernelStats, m_by_n: tuple[int, int]) -> bool:
    return bool(stats.m_by_n.get(f"{m_by_n[0]}:{m_by_n[1]}", False))


def verify_tflite(path: str | Path, claims: Sequence[Claim]) -> Verification:
    """Read the kernels of ``path`` and check every claim; :class:`ArtifactError` if one fails."""
    graph = _read(path)
    patterns = tuple({c.m_by_n for c in claims if c.m_by_n is not None})
    kernels = [kernel_stats(name, op, data, patterns) for name, op, data in _kernels(graph)]
    if not kernels:
        raise ArtifactError("no Conv2D / FullyConnected kernels found in the file", path=path)
    result = verification(str(path), [check_claim(kernels, c) for c in claims], kernels)
    if not result.ok:
        raise ArtifactError("the file does not show its claim: " + "; ".join(result.problems), path=path)
    return result


def verification(artifact: str, checks: Sequence[ClaimCheck],
                 kernels: Sequence[KernelStats]) -> Verification:
    """The record of ``checks`` on a file's ``kernels``, with its totals."""
    problems = tuple(p for c in checks for p in c.problems)
    size = sum(k.size for k in kernels)
    return Verification(
        artifact=artifact, ok=not problems, problems=problems,
        sparsity=sum(k.zeros for k in kernels) / size if size else 0.0,
        max_unique_per_channel=max((k.max_unique_per_channel for k in kernels), default=0),
        weight_dtypes=tuple(sorted({k.dtype for k in kernels})), checks=tuple(checks),
        kernels=tuple(kernels))


def artifact_sizes(path: str | Path) -> Sizes:
    """Bytes on disk, gzip -9 bytes, and constant-weight bytes per dtype."""
    path = Path(path)
    raw = path.read_bytes()
    by_dtype: dict[str, int] = defaultdict(int)
    if path.suffix == ".tflite":
        seen: set[int] = set()
        for layer in _read(path).layers:
            for t in layer.weights:
                if t.data is not None and t.id not in seen:
                    seen.add(t.id)
                    by_dtype[t.dtype] += int(t.data.nbytes)
    else:
        by_dtype.update(_onnx_weight_bytes(path))
    return Sizes(file_bytes=len(raw), gzip_bytes=len(gzip.compress(raw, compresslevel=9)),
                 weight_bytes_by_dtype=dict(sorted(by_dtype.items())))


def _read(path: str | Path):
    from ..profile import read_graph

    try:
        return read_graph(path)
    except ProfileError as e:  # the reader's error for anything that is not a readable model
        raise ArtifactError(f"cannot read the artifact: {e.message}", path=path) from None


def _kernels(graph) -> list[tuple[str, str, np.ndarray]]:
    """(name, op, kernel array) of every kernel-bearing layer.

    The reader already folds constant Dequantize ops (float16 files) into the
    consuming layer's weights, so the dtype here is the dtype on disk.
    """
    return [(layer.weights[0].name or layer.name, layer.op, layer.weights[0].data)
            for layer in graph.layers
            if layer.op in KERNEL_OPS and layer.weights and layer.weights[0].data is not None]


def _covered(name: str, layers: tuple[str, ...] | None) -> bool:
    return layers is None or any(layer in name for layer in layers)


def _onnx_weight_bytes(path: Path) -> dict[str, int]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    by_dtype: dict[str, int] = defaultdict(int)
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        by_dtype[str(arr.dtype)] += int(arr.nbytes)
    return dict(by_dtype)
