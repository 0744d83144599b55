"""TFLite Micro's whole tensor arena estimated from a graph: planned head + persistent tail.

When the TFLite Micro runtime cannot load a file (an ONNX model, an op it lacks)
the RAM figure must still be what TFLM *would* allocate, not just the activation
plan: the arena also holds, for the life of the interpreter,

* one ``TfLiteEvalTensor`` per tensor of the subgraph (constants included),
* one ``NodeAndRegistration`` per operator,
* a persistent ``TfLiteTensor`` (+ quantization struct) per graph input / output,
* each op's user data (for convolutions and per-channel fully connected layers a
  multiplier and a shift per output channel),
* variable tensors (LSTM / SVDF state),
* and the interpreter's own bookkeeping.

The sizes below are those of the 64-bit host build of TFLite Micro that
``sercompress.profile.tflm`` runs (pointers are 8 bytes): they were read from
its ``RecordingMicroAllocator`` breakdown on 128 single-op probe models
(every op class below x int8 per-channel / per-tensor / float32 x 4 and 16
channels) and the RAM zoo (``tests/profile/ram_zoo.py``); ``bench/profiler.py``
prints the estimate's error on every zoo model. A 32-bit MCU build has smaller
structs (4-byte pointers), so on a device the figure errs on the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .arena import ARENA_ALIGNMENT, align_up, plan_arena
from .graph import Graph, Layer
from .types import LayerProfile

EVAL_TENSOR_BYTES = 24          # TfLiteEvalTensor: data, dims pointers + type
NODE_BYTES = 64                 # NodeAndRegistration
IO_TENSOR_BYTES = 64            # persistent TfLiteTensor of a graph input / output
IO_QUANT_BYTES = 32             # TfLiteAffineQuantization + one-element zero-point array
PER_CHANNEL_BYTES = 8           # int32 multiplier + int32 shift per output channel
#: Interpreter bookkeeping (allocator objects, subgraph arrays, scratch handles):
#: least squares over the probes and the zoo, residuals within +-60 bytes.
FIXED_BYTES, PER_TENSOR_BYTES, PER_OP_BYTES, PER_PLANNED_BYTES = 496, 5, 38, -24

#: Op user data in bytes (TFLM reference kernels, 64-bit), measured on single-op probes
#: (each probe's persistent buffers minus the PERSISTENT_BASE_BYTES every model has).
#: Convolutions add PER_CHANNEL_BYTES per output channel on top (float ones too).
OP_DATA_BYTES: Mapping[str, int] = {
    "CONV_2D": 92, "DEPTHWISE_CONV_2D": 92, "TRANSPOSE_CONV": 96, "FULLY_CONNECTED": 80,
    "RELU": 40, "RELU6": 8, "LEAKY_RELU": 36, "LOGISTIC": 24, "TANH": 24, "SOFTMAX": 84,
    "MAX_POOL_2D": 32, "AVERAGE_POOL_2D": 32, "MEAN": 43, "PAD": 64, "PADV2": 64, "ADD": 64,
    "SUB": 64, "MUL": 36, "CONCATENATION": 80, "STRIDED_SLICE": 96, "SHAPE": 0, "PACK": 0,
    "RESHAPE": 0, "SQUEEZE": 0, "EXPAND_DIMS": 0, "QUANTIZE": 16, "DEQUANTIZE": 16,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": 636,
    # read off the MAC zoo's unrolled RNN / GRU, ELU and MAXIMUM models (tests/profile/zoo.py):
    # splits and min / max keep no op data; int8 ELU keeps a 256-entry lookup table
    "SPLIT": 0, "SPLIT_V": 0, "UNPACK": 0, "MAXIMUM": 0, "MINIMUM": 0, "ELU": 300,
}
PERSISTENT_BASE_BYTES = 32
#: An op missing from the table: the median of the table's non-zero entries.
DEFAULT_OP_DATA_BYTES = 60
_PER_CHANNEL_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"})
#: Relative error bound stated with the estimate: the largest error over the RAM zoo
#: (bench/profiler.py) rounded up; a figure outside the zoo's op mix may err more.
STATED_ERROR = 0.05


@dataclass(frozen=True)
class ArenaEstimate:
    """TFLM arena predicted from the graph (bytes); ``total_bytes`` is what a deployment reserves."""

    head_bytes: int          # planned activations + scratch buffers
    tail_bytes: int          # persistent part
    variable_bytes: int      # state tensors (inside the tail)
    total_bytes: int
    relative_error: float = STATED_ERROR


def estimate_arena(graph: Graph) -> ArenaEstimate:
    """Head (the greedy plan) plus the modelled persistent tail."""
    head = plan_arena(graph).peak_bytes
    tail, variables = persistent_bytes(graph)
    return ArenaEstimate(head, tail, variables, head + tail)


def persistent_bytes(graph: Graph) -> tuple[int, int]:
    """(tail bytes, of which variable tensors) TFLM keeps for the interpreter's lifetime."""
    tensors = graph.tensor_count or _distinct_tensors(graph)
    ops = len(graph.layers)
    io = (*graph.inputs, *graph.outputs)
    quantized_io = sum(1 for t in io if t.scale)
    planned = len({t.id for layer in graph.layers for t in (*layer.inputs, *layer.outputs)
                   if not t.is_constant and not t.is_variable})
    variables = {t.id: t for layer in graph.layers for t in layer.inputs if t.is_variable}
    variable_bytes = sum(align_up(t.nbytes, ARENA_ALIGNMENT) for t in variables.values())
    tail = (tensors * EVAL_TENSOR_BYTES + ops * NODE_BYTES + len(io) * IO_TENSOR_BYTES
            + quantized_io * IO_QUANT_BYTES + sum(op_data_bytes(layer) for layer in graph.layers)
            + variable_bytes + PERSISTENT_BASE_BYTES + FIXED_BYTES + PER_TENSOR_BYTES * tensors + PER_OP_BYTES * ops
            + PER_PLANNED_BYTES * planned)
    return max(tail, 0), variable_bytes


def op_data_bytes(layer: Layer) -> int:
    """Persistent user data of one op: its struct, plus per-channel requantization arrays."""
    raw = layer.raw_op
    base = OP_DATA_BYTES.get(raw, DEFAULT_OP_DATA_BYTES)
    channels = layer.outputs[0].shape[-1] if layer.outputs and layer.outputs[0].shape else 1
    if raw in _PER_CHANNEL_OPS:
        return base + PER_CHANNEL_BYTES * channels
    if raw == "FULLY_CONNECTED" and layer.weights and len(layer.weights[0].scale) > 1:
        return base + PER_CHANNEL_BYTES * channels
    if raw == "UNIDIRECTIONAL_SEQUENCE_LSTM" and layer.outputs[0].dtype == "float32":
        return base + 30   # the float cell keeps a few more parameters
    return base


def _distinct_tensors(graph: Graph) -> int:
    """Tensor count of a graph whose reader did not state it (ONNX): every distinct tensor."""
    return len({t.id for layer in graph.layers for t in (*layer.inputs, *layer.weights, *layer.outputs)}
               | {t.id for t in (*graph.inputs, *graph.outputs)})


# --------------------------------------------------------------------------- CMSIS-NN scratch

def cmsis_nn_scratch_bytes(layers: tuple[LayerProfile, ...]) -> int:
    """Largest scratch buffer CMSIS-NN's int8 kernels ask TFLite Micro for (DSP build, M4/M7/M33).

    TFLite Micro's Python runtime runs the reference kernels, so its measured arena has
    none of these. Each request lives during its op only, so the arena grows by at most
    the largest one, which is what this returns (a bound, not measured here). Sizes
    follow CMSIS-NN's ``*_get_buffer_size`` functions for the DSP extension:

    * ``arm_convolve_s8`` (any conv but 1x1): ``2 * cin * kh * kw`` int16 values;
    * ``arm_depthwise_conv_s8_opt`` (depthwise with multiplier 1, not the 3x3 fast path):
      ``cin * kh * kw`` int16 values;
    * ``arm_avgpool_s8``: an int32 per output column and channel.
    """
    largest = 0
    for layer in layers:
        if layer.activation_dtype != "int8" or not layer.input_shapes or not layer.output_shapes:
            continue
        cin = int(layer.input_shapes[0][-1]) if layer.input_shapes[0] else 1
        out = layer.output_shapes[0]
        cout = int(out[-1]) if out else 1
        size = 0
        if layer.op == "Conv2D" and layer.output_elements:
            taps = round(layer.macs / layer.output_elements)   # kh * kw * cin
            size = 0 if taps == cin else 2 * taps * 2
        elif layer.op == "DepthwiseConv2D" and layer.output_elements and cin == cout:
            area = round(layer.macs / layer.output_elements)
            size = 0 if area == 9 else cin * area * 2
        elif layer.op == "AveragePool2D" and len(out) >= 3:
            size = int(out[-2]) * cout * 4
        largest = max(largest, align_up(size, ARENA_ALIGNMENT) if size else 0)
    return largest
