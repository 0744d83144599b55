"""Typed results of the static profile, consumed by latency estimation, fit and report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerProfile:
    index: int
    op: str
    raw_op: str
    name: str
    dtype: str                      # weight dtype if the layer has weights, else activation dtype
    activation_dtype: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int             # MACs when multiplications by zero weights are skipped
    input_elements: int
    output_elements: int
    activation_bytes: int           # bytes of the layer's outputs
    known: bool = True              # False for an unknown op (its figures are not zero-filled)


@dataclass(frozen=True)
class StaticProfile:
    path: str
    format: str                     # "tflite" | "onnx"
    file_bytes: int
    gzip_bytes: int
    layers: tuple[LayerProfile, ...]
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int
    weight_bytes_by_dtype: dict[str, int]
    constant_bytes: int             # all constant data (weights, biases, quant params)
    peak_ram_bytes: int             # tensor-arena plan of the activations
    input_shapes: tuple[tuple[int, ...], ...]
    weight_dtypes: tuple[str, ...]
    activation_dtypes: tuple[str, ...]
    unknown_ops: tuple[str, ...] = ()  # format names of the ops without a cost
    #: layers whose op is unknown: when > 0, ``macs`` / ``effective_macs`` are lower bounds
    unknown_op_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # ground truth (tflm, vela) when run

    @property
    def macs_are_lower_bound(self) -> bool:
        return self.unknown_op_count > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
