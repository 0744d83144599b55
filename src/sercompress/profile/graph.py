"""The neutral per-layer record both artifact readers produce.

The TFLite and ONNX readers are thin: each turns its file format into a
:class:`Graph` of :class:`Layer` records with canonical op names, and every
figure (MACs, parameters, sparsity, the arena plan, latency estimates) is
computed from this one representation, so the two formats give the same
totals for the same network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .ops import CANONICAL_OPS as _OPS

#: Canonical op names used across readers (the operator table, :mod:`.ops`). Anything else
#: is reported as ``"Unknown"`` with its format-specific name in ``raw_op``, never silently zero.
CANONICAL_OPS = _OPS

#: Shapes for a model's symbolic inputs: one shape for a single-input model, or
#: ``{input name: shape}`` for any number of inputs (``--input-shape [NAME=]DIMS``).
InputShapes = Sequence[int] | Mapping[str, Sequence[int]]


#: Bounds on shapes read from a file, checked before any size is multiplied or allocated.
#: TFLite kernels take at most 6 dims (reshape 8) and ONNX models of this field 4-5; a
#: tensor of 2**40 elements is terabytes, past any device, and keeps every byte sum of a
#: graph's tensors far inside int64 (no OverflowError, no silent numpy wrap-around).
MAX_RANK = 16
MAX_ELEMENTS = 2**40


def check_shape(name: str, shape: tuple[int, ...], path: Path | str | None) -> None:
    """Refuse a rank or element count no real model has, naming the tensor and the file."""
    from ..errors import ProfileError

    if len(shape) > MAX_RANK:
        raise ProfileError(f"tensor '{name}' has rank {len(shape)}, more than the {MAX_RANK} allowed",
                           path=path)
    n = 1
    for d in shape:
        n *= max(int(d), 1)
        if n > MAX_ELEMENTS:
            raise ProfileError(f"tensor '{name}' of shape {tuple(shape)} has more than the "
                               f"{MAX_ELEMENTS:,} elements allowed", path=path)


@dataclass(frozen=True)
class Tensor:
    """A tensor of the graph. ``data`` holds constant contents (weights, bias), else None."""

    id: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # NumPy dtype name: "float32", "int8", "int16", "int32", "float16", ...
    data: np.ndarray | None = field(default=None, compare=False, repr=False)
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    quantized_dimension: int = 0  # axis the per-channel scale / zero_point run along
    is_variable: bool = False     # runtime state (LSTM / SVDF): persistent, never planned

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= int(d)
        return n

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class Layer:
    """One operator: its activation inputs, constant weights (kernel first) and outputs."""

    index: int
    op: str
    raw_op: str
    inputs: tuple[Tensor, ...]
    weights: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    attrs: dict[str, Any] = field(default_factory=dict, compare=False)
    name: str = ""


@dataclass(frozen=True)
class Graph:
    path: Path
    format: Literal["tflite", "onnx"]
    layers: tuple[Layer, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    file_bytes: int
    tensor_count: int = 0          # every tensor of the (first) subgraph, constants included
