"""Per-layer figures and totals of a neutral graph: parameters, MACs, bytes, arena.

MACs follow Arm Vela's convention (``npu_performance.measure_cycle_cost``); each
op's rule comes from the operator table (:mod:`.ops`):

* convolution (2-D, 1-D, 3-D, transpose) / fully connected / matmul: one MAC per
  kernel element per output element (``window * cin_per_group * out_elements``; a
  transpose conv counted over its zero-upsampled input, as Vela does);
* depthwise convolution, average and max pooling: ``window * out_elements``;
* ``MEAN`` and other reductions: one accumulate per input element;
* ``SOFTMAX``: two passes over the input (Vela's max-pool and reduce-sum);
* LSTM / GRU / RNN / SVDF: their gate matrix products, ``steps * gate-matrix
  elements`` (Vela lowers an LSTM into exactly these fully connected passes);
* element-wise ops, activations, data movement, (de)quantization: 0.

Effective MACs assume multiplications by zero weights are skipped: a weighted
layer's MACs scaled by its kernel's non-zero fraction.

What is not counted, though Vela's total includes it: the per-element passes Vela
runs on its pooling engine at one "MAC" per element -- memory copies for a
reshape, concat, pad or resize it cannot do in place, LUT / clamp activations and
rescales. On the generated zoo (``tests/profile/zoo.py``, ``bench/profiler.py``)
the MACs equal Vela's count of the same ops on all 53 int8 models; Vela's total
is higher by those passes on 26 of them (p90 8 %, max 40 % for a bilinear resize).
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable

import numpy as np

from .graph import Graph, Layer, Tensor
from .ops import KERNEL_OPS, SHAPE_OPS, UNKNOWN, spec
from .persistent import estimate_arena
from .types import LayerProfile, StaticProfile


def gzip_size(file_data: bytes) -> int:
    """Bytes of the file after ``gzip -9`` (what a compressed OTA update or flash image costs)."""
    return len(gzip.compress(file_data, compresslevel=9, mtime=0))


def profile_graph(graph: Graph, file_data: bytes, gzip_bytes: int | None = None) -> StaticProfile:
    layers = tuple(profile_layer(layer) for layer in graph.layers)
    arena = estimate_arena(graph)
    weight_bytes: Counter[str] = Counter()
    for layer in graph.layers:
        for w in layer.weights:
            weight_bytes[w.dtype] += w.nbytes
    weight_dtypes = sorted({w.dtype for layer in graph.layers for w in layer.weights})
    act_dtypes = sorted({t.dtype for layer in graph.layers if layer.op not in SHAPE_OPS
                         for t in layer.outputs} | {t.dtype for t in graph.inputs})
    return StaticProfile(
        path=str(graph.path),
        format=graph.format,
        file_bytes=graph.file_bytes,
        gzip_bytes=gzip_size(file_data) if gzip_bytes is None else gzip_bytes,
        layers=layers,
        params=sum(p.params for p in layers),
        nonzero_params=sum(p.nonzero_params for p in layers),
        macs=sum(p.macs for p in layers),
        effective_macs=sum(p.effective_macs for p in layers),
        weight_bytes_by_dtype=dict(sorted(weight_bytes.items())),
        constant_bytes=constant_bytes(graph),
        peak_ram_bytes=arena.head_bytes,
        arena_estimate_bytes=arena.total_bytes,
        input_shapes=tuple(t.shape for t in graph.inputs),
        weight_dtypes=tuple(weight_dtypes),
        activation_dtypes=tuple(act_dtypes),
        unknown_ops=tuple(sorted({p.raw_op for p in layers if not p.known})),
        unknown_op_count=sum(not p.known for p in layers),
    )


def profile_layer(layer: Layer) -> LayerProfile:
    params = sum(w.size for w in layer.weights)
    nonzero = sum(count_nonzero(w) for w in layer.weights)
    macs = layer_macs(layer)
    effective = macs
    if layer.op in KERNEL_OPS and layer.weights and layer.weights[0].size:
        kernel = layer.weights[0]
        effective = macs * count_nonzero(kernel) // kernel.size
    act_dtype = (layer.outputs or layer.inputs)[0].dtype if (layer.outputs or layer.inputs) else ""
    return LayerProfile(
        index=layer.index, op=layer.op, raw_op=layer.raw_op, name=layer.name,
        dtype=layer.weights[0].dtype if layer.weights else act_dtype,
        activation_dtype=act_dtype,
        input_shapes=tuple(t.shape for t in layer.inputs),
        output_shapes=tuple(t.shape for t in layer.outputs),
        params=params, nonzero_params=nonzero, macs=macs, effective_macs=effective,
        input_elements=sum(t.size for t in layer.inputs),
        output_elements=sum(t.size for t in layer.outputs),
        activation_bytes=sum(t.nbytes for t in layer.outputs),
        known=layer.op != UNKNOWN,
    )


def layer_macs(layer: Layer) -> int:
    """MACs of one layer by the rule the operator table gives its op (module docstring)."""
    return int(_MAC_RULES[spec(layer.op).macs](layer))


def _out(layer: Layer) -> int:
    return layer.outputs[0].size if layer.outputs else 0


def _window(layer: Layer) -> int:
    n = 1
    for k in layer.attrs.get("kernel", (1,)):
        n *= int(k)
    return n


def _input(layer: Layer) -> int:
    return int(layer.inputs[0].size) if layer.inputs else 0


def _matmul(layer: Layer) -> int:
    """Each output element is a dot product of the reduction length (K)."""
    k = layer.attrs.get("reduction")
    if k is None:  # a reader that did not say: K is the last dim of the weight matrix
        k = layer.weights[0].shape[-1] if layer.weights and layer.weights[0].shape else 0
    return _out(layer) * int(k)


_MAC_RULES: dict[str, Callable[[Layer], int]] = {
    "conv": lambda x: _out(x) * _window(x) * int(x.attrs.get("in_channels_per_group", 1)),
    "pool": lambda x: _out(x) * _window(x),
    "matmul": _matmul,
    "recurrent": lambda x: int(x.attrs.get("steps", 0)) * int(x.attrs.get("matrix_elements", 0)),
    "reduce": _input,
    "softmax": lambda x: 2 * _input(x),
    "none": lambda x: 0,
}


def count_nonzero(t: Tensor) -> int:
    """Elements whose real value is not zero (a quantized value equal to its zero point is 0).

    Memoised on the bytes viewed: a file may point hundreds of tensors at one buffer, and
    counting each again made the time grow with tensors x buffer size, not the file's size.
    """
    if t.data is None:
        return 0
    per_channel = len(t.zero_point) > 1  # only then does the shape change the count
    key = (t.data.__array_interface__["data"][0], t.data.nbytes, t.data.dtype.str, t.zero_point,
           (t.quantized_dimension, t.data.shape) if per_channel else ())
    if key not in _NONZERO:
        if len(_NONZERO) > 4096:
            _NONZERO.clear()
        _NONZERO[key] = (_count_nonzero(t, t.data), t.data)  # the array kept alive: its address is the key
    return _NONZERO[key][0]


_NONZERO: dict[tuple, tuple[int, np.ndarray]] = {}


def _count_nonzero(t: Tensor, data: np.ndarray) -> int:
    if t.zero_point and any(z != 0 for z in t.zero_point) and data.dtype.kind in "iu":
        zp = np.asarray(t.zero_point, dtype=np.int64)
        if zp.size > 1 and data.ndim:
            shape = [1] * data.ndim
            shape[t.quantized_dimension] = zp.size
            zp = zp.reshape(shape)
        return int(np.count_nonzero(data.astype(np.int64) != zp))
    return int(np.count_nonzero(data))


def constant_bytes(graph: Graph) -> int:
    """Bytes of all distinct constant tensors plus their quantization parameters.

    Shared constants (a bias used by two layers) are stored once, as in the file.
    Quantization parameters are counted as the schema stores them: a float32
    scale and an int64 zero point per channel.
    """
    seen: dict[int, Tensor] = {}
    for layer in graph.layers:
        for w in layer.weights:
            seen.setdefault(id(w.data), w)
    return sum(t.nbytes + 12 * len(t.scale) for t in seen.values())
