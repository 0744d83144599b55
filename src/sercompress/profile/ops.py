"""The operator table: every canonical op the profiler knows, and how it is costed.

One table, read by everyone who needs to know what an operator is. The TFLite
and ONNX readers only map their format's names onto these canonical names
(``tflite_reader.CANONICAL``, ``onnx_reader.CANONICAL``); the static profile
takes each op's MAC rule from here, the latency model its cost class, the
weight verifier its list of kernel-bearing ops. A test walks both readers'
mappings and fails on an op one format knows and the other does not, so a new
op cannot be taught to one side only (as ELU, SPLIT and UNPACK once were).

Per op:

* ``macs`` -- the MAC rule of :mod:`.static` (Arm Vela's convention where Vela has
  one): ``conv`` (kernel elements x input channels per group x output elements;
  depthwise, 3-D and transpose convolution too, the latter as Vela counts it, over
  the zero-upsampled input), ``pool`` (kernel elements x output elements), ``matmul``
  (reduction length x output elements), ``recurrent`` (gate matrix products:
  steps x gate-matrix elements, for LSTM / GRU / RNN / SVDF), ``reduce`` (one
  accumulate per input element), ``softmax`` (two passes), ``none``;
* ``cost`` -- the latency model's cost class;
* ``const_inputs`` -- what a constant input of the op is: ``weights`` (all of them,
  the int32 bias too), ``data`` (non-index constants are weights, int32/int64 ones
  are attributes: the operand of an ``Add``, say) or ``attrs`` (shapes, axes,
  paddings, clip bounds);
* ``role`` -- ``compute``, ``shape`` (int32 shape arithmetic a dynamic-batch
  reshape brings along, not part of the data path's dtypes) or ``conversion``
  (the boundary quantize / dequantize every runtime runs on the CPU).

``Unknown`` is the op of anything unmapped: it is never costed as zero silently
(the profile counts it and says its totals are a lower bound).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

MacRule = Literal["conv", "pool", "matmul", "recurrent", "reduce", "softmax", "none"]
CostClass = Literal["conv", "depthwise", "fully_connected", "elementwise", "pooling", "free",
                    "unknown"]
ConstInputs = Literal["weights", "data", "attrs"]
Role = Literal["compute", "shape", "conversion"]

UNKNOWN = "Unknown"


@dataclass(frozen=True)
class OpSpec:
    """What the profiler knows about one canonical operator."""

    name: str
    macs: MacRule
    cost: CostClass
    const_inputs: ConstInputs = "attrs"
    role: Role = "compute"
    kernel_first: bool = False  # weights[0] is one kernel stored output-channel first
    #: the one format that has this op, for ops the other format has no operator for
    only: Literal["tflite", "onnx"] | None = None


def _specs(macs: MacRule, cost: CostClass, names: str, **kw) -> dict[str, OpSpec]:
    return {n: OpSpec(n, macs, cost, **kw) for n in names.split()}


#: Canonical op name -> its spec. Grouped by how the op is costed.
OPS: Mapping[str, OpSpec] = {
    # weighted MAC ops
    **_specs("conv", "conv", "Conv2D", const_inputs="weights", kernel_first=True),
    **_specs("conv", "depthwise", "DepthwiseConv2D", const_inputs="weights", kernel_first=True),
    **_specs("conv", "conv", "TransposeConv2D Conv3D", const_inputs="weights"),
    **_specs("matmul", "fully_connected", "FullyConnected", const_inputs="weights",
             kernel_first=True),
    **_specs("matmul", "fully_connected", "MatMul", const_inputs="data"),
    **_specs("recurrent", "fully_connected", "LSTM RNN", const_inputs="weights"),
    # windows and reductions
    **_specs("pool", "pooling", "AveragePool2D MaxPool2D LpPool"),
    **_specs("reduce", "pooling", "Mean ReduceSum ReduceMax ReduceMin ReduceProd"),
    **_specs("softmax", "elementwise", "Softmax LogSoftmax"),
    # element-wise arithmetic with a possible constant operand
    **_specs("none", "elementwise",
             "Add Sub Mul Div Maximum Minimum Pow Mod AddN Concatenation", const_inputs="data"),
    **_specs("none", "elementwise", "PRelu", const_inputs="weights"),
    # activations and other per-element functions
    **_specs("none", "elementwise",
             "Relu Relu6 Clip LeakyRelu HardSwish Logistic Tanh Elu Gelu Exp Log "
             "Sqrt Abs Neg Floor Ceil Round Sin Cos Not Equal Less LessEqual "
             "Greater GreaterEqual And Or Where ArgMax ArgMin Sign L2Norm LRN TopK"),
    # data movement
    **_specs("none", "elementwise",
             "Pad Transpose Split Tile Resize SpaceToDepth DepthToSpace BroadcastTo Fill GatherND "
             "ScatterND OneHot NonZero"),
    # shape arithmetic of a dynamic-batch reshape (also data movement on real tensors)
    **_specs("none", "elementwise", "StridedSlice Cast Range", role="shape"),
    **_specs("none", "elementwise", "Gather", const_inputs="data", role="shape"),
    **_specs("none", "free", "Shape", role="shape"),
    **_specs("none", "free", "Reshape Squeeze"),
    **_specs("none", "elementwise", "Quantize Dequantize", role="conversion"),
    # ops of one format only. TFLite: SVDF has no ONNX operator; the converter emits
    # SQUARED_DIFFERENCE, RSQRT, NOT_EQUAL, SQUARE, FLOOR_DIV, PACK, UNPACK, REVERSE_V2,
    # ZEROS_LIKE and SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND where ONNX composes them
    # (Sub+Mul, Reciprocal(Sqrt), Not(Equal), Mul, Div+Floor, Concat of Unsqueeze,
    # Split+Squeeze, Slice with negative steps, ConstantOfShape, Reshape+Transpose);
    # resource variables (stateful TFLite Micro models) have no ONNX counterpart.
    **_specs("recurrent", "fully_connected", "SVDF", const_inputs="weights", only="tflite"),
    **_specs("none", "elementwise", "SquaredDifference FloorDiv", const_inputs="data",
             only="tflite"),
    **_specs("none", "elementwise",
             "Rsqrt NotEqual Unpack Square Reverse ZerosLike SpaceToBatch", only="tflite"),
    **_specs("none", "free", "Variable", only="tflite"),
    **_specs("none", "elementwise", "Pack", role="shape", only="tflite"),
    # ONNX: TFLite folds batch norm into the convolution, unrolls GRU, and lowers the rest
    # into the ops above
    **_specs("recurrent", "fully_connected", "GRU", const_inputs="weights", only="onnx"),
    **_specs("none", "elementwise", "BatchNorm LayerNorm InstanceNorm", const_inputs="weights",
             only="onnx"),
    **_specs("none", "elementwise", "HardSigmoid Reciprocal Erf Softplus Selu", only="onnx"),
    UNKNOWN: OpSpec(UNKNOWN, "none", "unknown"),
}

#: The names alone, for readers' and tests' membership checks.
CANONICAL_OPS: frozenset[str] = frozenset(OPS)
#: Ops whose first weight is the kernel the export verifier reads (output-channel first).
KERNEL_OPS: frozenset[str] = frozenset(n for n, s in OPS.items() if s.kernel_first)
#: Ops whose integer constants are weights too (the int32 bias of a quantized conv).
WEIGHTED_OPS: frozenset[str] = frozenset(n for n, s in OPS.items() if s.const_inputs == "weights")
#: Ops computing int32 shapes for a dynamic-batch reshape: not part of the data path's dtypes.
SHAPE_OPS: frozenset[str] = frozenset(n for n, s in OPS.items() if s.role == "shape")
#: Boundary conversions (float model input -> int8, int8 output -> float). Every runtime runs
#: them on the CPU, so they do not make an integer model a float one.
CONVERSION_OPS: frozenset[str] = frozenset(n for n, s in OPS.items() if s.role == "conversion")

# --- dtype rules -------------------------------------------------------------------------
#: Tensor dtypes that are indices, shapes or biases, never the compute dtype.
BOOKKEEPING_DTYPES: frozenset[str] = frozenset({"int32", "int64", "bool", "uint32", "uint64"})
#: Dtypes a runtime runs as another (uint8 kernels are the int8 ones, float64 is float32).
DTYPE_ALIASES: Mapping[str, str] = {"uint8": "int8", "float64": "float32"}
#: Constant dtypes that are indices (shapes, axes): attributes unless the op is weighted.
INDEX_DTYPES: frozenset[str] = frozenset({"int32", "int64"})


# --- which runtime runs an op ------------------------------------------------------------
#: TFLite builtin operators TFLite Micro has a kernel for: the ``Register_*`` kernels of the
#: installed ``tflite_micro`` runtime (``nm _runtime.so``, the build that measures arenas),
#: its custom-op kernels (signal library, detection post-processing, Ethos-U) left out. An
#: unknown op outside this list is one TFLite Micro cannot run, not one we cannot cost.
TFLM_BUILTINS: frozenset[str] = frozenset({
    "ABS", "ADD", "ADD_N", "ARG_MAX", "ARG_MIN", "ASSIGN_VARIABLE", "AVERAGE_POOL_2D",
    "BATCH_MATMUL", "BATCH_TO_SPACE_ND", "BROADCAST_ARGS", "BROADCAST_TO", "CALL_ONCE",
    "CAST", "CEIL", "CONCATENATION", "CONV_2D", "COS", "CUMSUM", "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "DYNAMIC_UPDATE_SLICE", "ELU",
    "EMBEDDING_LOOKUP", "EQUAL", "EXP", "EXPAND_DIMS", "FILL", "FLOOR", "FLOOR_DIV",
    "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GATHER_ND", "GREATER", "GREATER_EQUAL",
    "HARD_SWISH", "IF", "L2_NORMALIZATION", "L2_POOL_2D", "LEAKY_RELU", "LESS",
    "LESS_EQUAL", "LOG", "LOGICAL_AND", "LOGICAL_NOT", "LOGICAL_OR", "LOGISTIC",
    "LOG_SOFTMAX", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL", "NEG",
    "NOT_EQUAL", "PACK", "PAD", "PADV2", "PRELU", "QUANTIZE", "READ_VARIABLE", "REDUCE_ALL",
    "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "REVERSE_V2", "ROUND", "RSQRT", "SELECT_V2", "SHAPE", "SIN",
    "SLICE", "SOFTMAX", "SPACE_TO_BATCH_ND", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT",
    "SQUARE", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "SVDF",
    "TANH", "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNPACK",
    "VAR_HANDLE", "WHILE", "ZEROS_LIKE"
})


def runtime_lacks(runtime: str, fmt: str, raw_op: str) -> str:
    """Why ``runtime`` cannot run the format op ``raw_op`` of a ``fmt`` file; "" when it can.

    TFLite Micro (and the CPU side of a Vela device, which is TFLite Micro) runs its
    builtins; LiteRT runs every TFLite builtin but no custom op (Flex / user kernels are
    not linked in); ONNX Runtime runs the ops of the ONNX standard. Whether a TFLite
    runtime runs an ONNX op depends on how the file converts: not known here.
    """
    tflite_runtime = runtime in ("tflm", "vela", "litert")
    if fmt == "onnx":
        if tflite_runtime:
            return "an ONNX op: whether its .tflite conversion runs is not known (check the .tflite)"
        from onnx import defs

        return "" if defs.has(raw_op) else "not an ONNX standard op"
    if runtime == "onnxruntime":
        return "a TFLite op: ONNX Runtime reads .onnx"
    if raw_op.startswith("BUILTIN_"):
        return "an operator code with no name: a custom op without one, or newer than the schema"
    if runtime == "litert":
        return "a custom op: LiteRT has no kernel linked in for it" if raw_op.startswith("CUSTOM:") else ""
    return "" if raw_op in TFLM_BUILTINS else "not a TFLite Micro builtin"


def spec(op: str) -> OpSpec:
    """The spec of a canonical op; ``Unknown``'s for anything else."""
    return OPS.get(op, OPS[UNKNOWN])


def is_weight(op: str, dtype: str) -> bool:
    """Whether a constant input of ``dtype`` to ``op`` is a weight (else an attribute)."""
    rule = spec(op).const_inputs
    return rule == "weights" or (rule == "data" and dtype not in INDEX_DTYPES)
