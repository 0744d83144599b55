"""Read a ``.tflite`` flatbuffer into the neutral :class:`~sercompress.profile.graph.Graph`.

Parsing uses the flatbuffer accessors Arm Vela ships (``ethosu.vela.tflite``),
which depend only on ``flatbuffers`` and NumPy: profiling an artifact never
imports TensorFlow. Only the first subgraph (the one the runtime invokes) is
read.

Two artifact shapes need care:

* float16 files keep weights as float16 constants behind a ``DEQUANTIZE``
  op. Those constant-fed dequantize ops are folded into their consumer, so the
  convolution reports its float16 kernel (and the parameters are not counted
  twice);
* dynamic-range files have int8 constant weights (with scales) feeding float
  operators; they are read as they are.

Integer constants on shape operators (the target shape of ``RESHAPE``, the
axes of ``MEAN``, the paddings of ``PAD``) are operator attributes, not
weights; the int32 bias of a quantized convolution is a weight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ProfileError, reading
from .graph import Graph, Layer, Tensor, check_shape
from .ops import is_weight

TFLITE_IDENTIFIER = b"TFL3"
#: Packages whose exceptions mean the flatbuffer is damaged (see errors.is_damaged_input).
_DECODERS = ("flatbuffers", "ethosu")

#: TFLite builtin operator name -> canonical op name (:mod:`.ops`). Only the mapping lives
#: here; what an op costs is the operator table's business.
CANONICAL: dict[str, str] = {
    "CONV_2D": "Conv2D", "DEPTHWISE_CONV_2D": "DepthwiseConv2D",
    "TRANSPOSE_CONV": "TransposeConv2D", "CONV_3D": "Conv3D",
    "FULLY_CONNECTED": "FullyConnected", "BATCH_MATMUL": "MatMul",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "LSTM", "LSTM": "LSTM",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "RNN", "RNN": "RNN", "SVDF": "SVDF",
    "BIDIRECTIONAL_SEQUENCE_LSTM": "LSTM", "BIDIRECTIONAL_SEQUENCE_RNN": "RNN",
    "AVERAGE_POOL_2D": "AveragePool2D", "MAX_POOL_2D": "MaxPool2D",
    "MEAN": "Mean", "SUM": "ReduceSum", "REDUCE_MAX": "ReduceMax", "REDUCE_MIN": "ReduceMin",
    "REDUCE_PROD": "ReduceProd", "SOFTMAX": "Softmax", "LOG_SOFTMAX": "LogSoftmax",
    "ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Maximum",
    "MINIMUM": "Minimum", "SQUARED_DIFFERENCE": "SquaredDifference", "POW": "Pow",
    "PRELU": "PRelu", "RELU": "Relu", "RELU6": "Relu6", "RELU_N1_TO_1": "Clip",
    "RELU_0_TO_1": "Clip", "LEAKY_RELU": "LeakyRelu", "HARD_SWISH": "HardSwish",
    "LOGISTIC": "Logistic", "TANH": "Tanh", "ELU": "Elu", "GELU": "Gelu", "EXP": "Exp",
    "LOG": "Log", "SQRT": "Sqrt", "RSQRT": "Rsqrt", "ABS": "Abs", "NEG": "Neg",
    "FLOOR": "Floor", "CEIL": "Ceil", "ROUND": "Round", "SIN": "Sin", "COS": "Cos",
    "LOGICAL_NOT": "Not", "EQUAL": "Equal", "NOT_EQUAL": "NotEqual", "LESS": "Less",
    "LESS_EQUAL": "LessEqual", "GREATER": "Greater", "GREATER_EQUAL": "GreaterEqual",
    "LOGICAL_AND": "And", "LOGICAL_OR": "Or", "SELECT": "Where", "SELECT_V2": "Where",
    "ARG_MAX": "ArgMax", "ARG_MIN": "ArgMin",
    "PAD": "Pad", "PADV2": "Pad", "MIRROR_PAD": "Pad", "TRANSPOSE": "Transpose",
    "CONCATENATION": "Concatenation", "SPLIT": "Split", "SPLIT_V": "Split",
    "SLICE": "StridedSlice", "STRIDED_SLICE": "StridedSlice", "UNPACK": "Unpack",
    "PACK": "Pack", "TILE": "Tile", "RESIZE_BILINEAR": "Resize",
    "RESIZE_NEAREST_NEIGHBOR": "Resize", "SPACE_TO_DEPTH": "SpaceToDepth",
    "DEPTH_TO_SPACE": "DepthToSpace", "BROADCAST_TO": "BroadcastTo", "FILL": "Fill",
    "GATHER": "Gather", "CAST": "Cast", "SHAPE": "Shape", "RANGE": "Range",
    "RESHAPE": "Reshape", "EXPAND_DIMS": "Reshape", "SQUEEZE": "Squeeze",
    "QUANTIZE": "Quantize", "DEQUANTIZE": "Dequantize",
    "ADD_N": "AddN", "FLOOR_MOD": "Mod", "FLOOR_DIV": "FloorDiv", "SIGN": "Sign",
    "SQUARE": "Square", "L2_NORMALIZATION": "L2Norm", "LOCAL_RESPONSE_NORMALIZATION": "LRN",
    "L2_POOL_2D": "LpPool", "TOPK_V2": "TopK", "GATHER_ND": "GatherND",
    "EMBEDDING_LOOKUP": "Gather", "ONE_HOT": "OneHot", "WHERE": "NonZero",
    "REVERSE_V2": "Reverse", "ZEROS_LIKE": "ZerosLike", "SPACE_TO_BATCH_ND": "SpaceToBatch",
    "BATCH_TO_SPACE_ND": "SpaceToBatch", "RANK": "Shape", "VAR_HANDLE": "Variable",
    "READ_VARIABLE": "Variable", "ASSIGN_VARIABLE": "Variable", "CALL_ONCE": "Variable",
    "REDUCE_ANY": "ReduceMax", "REDUCE_ALL": "ReduceMin", "SCATTER_ND": "ScatterND",
}

_POOLS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
#: Inputs that are shapes, not weights, although the op is weighted (TRANSPOSE_CONV's
#: output shape comes first).
_SHAPE_INPUTS: dict[str, tuple[int, ...]] = {"TRANSPOSE_CONV": (0,)}
#: Recurrent ops: (input positions of their gate matrices, whether the input is a sequence).
#: LSTM: input->gate 1-4, recurrent->gate 5-8, projection 16; RNN: 1, 2; SVDF: feature 1, time 2;
#: bidirectional ops: the forward then the backward set (auxiliary inputs not counted).
_RECURRENT: dict[str, tuple[tuple[int, ...], bool]] = {
    "BIDIRECTIONAL_SEQUENCE_LSTM": ((*range(1, 9), 16, *range(18, 26), 33), True),
    "BIDIRECTIONAL_SEQUENCE_RNN": ((1, 2, 5, 6), True),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ((1, 2, 3, 4, 5, 6, 7, 8, 16), True),
    "LSTM": ((1, 2, 3, 4, 5, 6, 7, 8, 16), False),
    "UNIDIRECTIONAL_SEQUENCE_RNN": ((1, 2), True), "RNN": ((1, 2), False),
    "SVDF": ((1, 2), False),
}

_TYPE_NAMES: dict[int, str] = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16",
    9: "int8", 10: "float64", 12: "uint64", 15: "uint32", 16: "uint16",
}
_TYPE_UNSUPPORTED: dict[int, str] = {
    5: "STRING", 8: "COMPLEX64", 11: "COMPLEX128", 13: "RESOURCE", 14: "VARIANT",
    17: "INT4", 18: "BFLOAT16",
}


def has_tflite_identifier(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] == TFLITE_IDENTIFIER


def parse_tflite(path: str | Path, data: bytes) -> Graph:
    """Parse ``data`` (the bytes of ``path``) into a Graph; ``ProfileError`` if corrupt."""
    if not has_tflite_identifier(data):
        raise ProfileError("not a TFLite flatbuffer (missing 'TFL3' identifier)", path=path)
    with reading(path, "corrupt or truncated TFLite file", ProfileError, decoders=_DECODERS):
        return _parse(Path(path), data)


def _parse(path: Path, data: bytes) -> Graph:
    from ethosu.vela.tflite.Model import Model

    model = Model.GetRootAs(data, 0)
    if model.SubgraphsLength() < 1:
        raise ProfileError("TFLite file has no subgraph", path=path)
    subgraph = model.Subgraphs(0)
    op_names = _operator_code_names(model)
    shared: dict[tuple[int, str, tuple[int, ...]], np.ndarray] = {}
    tensors = [_read_tensor(path, model, subgraph.Tensors(i), i, data, shared)
               for i in range(subgraph.TensorsLength())]
    ops = [subgraph.Operators(i) for i in range(subgraph.OperatorsLength())]
    folded = _constant_dequantize_outputs(ops, op_names, tensors)

    layers: list[Layer] = []
    for op in ops:
        raw = op_names[op.OpcodeIndex()]
        out_ids = [int(i) for i in _as_list(op.OutputsAsNumpy())]
        if raw == "DEQUANTIZE" and out_ids and out_ids[0] in folded:
            continue
        layers.append(_layer(op, raw, len(layers), tensors, folded))
    return Graph(
        path=path, format="tflite", layers=tuple(layers),
        inputs=tuple(tensors[int(i)] for i in _as_list(subgraph.InputsAsNumpy())),
        outputs=tuple(tensors[int(i)] for i in _as_list(subgraph.OutputsAsNumpy())),
        file_bytes=len(data), tensor_count=len(tensors),
    )


def _layer(op: Any, raw: str, index: int, tensors: list[Tensor], folded: dict[int, Tensor]) -> Layer:
    """One operator: activations, weights (constants; folded float16 ones too) and attributes."""
    canonical = CANONICAL.get(raw, "Unknown")
    out_ids = [int(i) for i in _as_list(op.OutputsAsNumpy()) if i >= 0]
    positions: dict[int, Tensor] = {}
    inputs, weights, shape_consts = [], [], []
    for pos, tid in enumerate(int(i) for i in _as_list(op.InputsAsNumpy())):
        if tid < 0:
            continue  # optional input left out (e.g. no bias)
        t = positions[pos] = folded.get(tid, tensors[tid])
        if not t.is_constant:
            inputs.append(t)
        elif pos in _SHAPE_INPUTS.get(raw, ()) or not is_weight(canonical, t.dtype):
            shape_consts.append(t)  # a target shape, axes, paddings: an attribute
        else:
            weights.append(t)
    attrs = _options(op, raw)
    attrs.update({f"const_{i}": tuple(int(v) for v in t.data.ravel()[:16])
                  for i, t in enumerate(shape_consts) if t.dtype in ("int32", "int64")})
    folded_ids = {t.id for t in folded.values()}
    if any(w.id in folded_ids for w in weights):
        attrs["dequantized_weights"] = True
    name = tensors[out_ids[0]].name if out_ids else raw
    if canonical in ("Conv2D", "DepthwiseConv2D", "TransposeConv2D", "Conv3D"):
        attrs.update(_conv_attrs(raw, canonical, name, weights, inputs))
    elif canonical in ("FullyConnected", "MatMul"):
        attrs["reduction"] = _reduction(raw, attrs, weights, inputs)
    elif raw in _RECURRENT:
        attrs.update(_recurrent_attrs(raw, positions))
    return Layer(index=index, op=canonical, raw_op=raw, inputs=tuple(inputs),
                 weights=tuple(weights), outputs=tuple(tensors[i] for i in out_ids),
                 attrs=attrs, name=name)


def _conv_attrs(raw: str, canonical: str, name: str, weights: list[Tensor],
                inputs: list[Tensor]) -> dict[str, Any]:
    """Kernel window and input channels per group from the filter (OHWI; CONV_3D: DHWIO)."""
    # the filter is normally a constant; a computed one is an activation input
    kernel = weights[0] if weights else inputs[-1 if raw == "TRANSPOSE_CONV" else 1] \
        if len(inputs) > 1 else None
    rank = 5 if raw == "CONV_3D" else 4
    if kernel is None or len(kernel.shape) != rank:
        raise ProfileError(f"{raw} '{name}' has no readable filter")
    ks = kernel.shape
    if raw == "CONV_3D":
        return {"kernel": tuple(int(d) for d in ks[:3]), "in_channels_per_group": int(ks[3])}
    depthwise = canonical == "DepthwiseConv2D"
    return {"kernel": (int(ks[1]), int(ks[2])), "in_channels_per_group": 1 if depthwise else int(ks[3])}


def _reduction(raw: str, attrs: dict[str, Any], weights: list[Tensor], inputs: list[Tensor]) -> int:
    """Length of the dot product behind each output element of a matrix product."""
    if raw == "BATCH_MATMUL" and inputs:
        a = inputs[0].shape
        return int(a[-2] if attrs.get("adj_x") else a[-1]) if a else 0
    matrix = weights[0] if weights else inputs[1] if len(inputs) > 1 else None
    return int(matrix.shape[-1]) if matrix is not None and matrix.shape else 0


def _recurrent_attrs(raw: str, positions: dict[int, Tensor]) -> dict[str, Any]:
    """Steps (time x batch) and the elements of the gate matrices each step multiplies."""
    matrices, sequence = _RECURRENT[raw]
    x = positions.get(0)
    shape = x.shape if x is not None else ()
    steps = (_prod(shape[:2]) if sequence else _prod(shape[:1])) if shape else 0
    return {"steps": int(steps),
            "matrix_elements": sum(positions[i].size for i in matrices if i in positions)}


def _operator_code_names(model: Any) -> list[str]:
    from ethosu.vela.tflite.BuiltinOperator import BuiltinOperator

    by_value = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    names = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        # Codes above 127 live in BuiltinCode; old files only fill the deprecated byte.
        value = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        if value == by_value.get("CUSTOM", 32) or value not in by_value:
            custom = code.CustomCode()
            names.append(f"CUSTOM:{custom.decode(errors='replace')}" if custom else f"BUILTIN_{value}")
        else:
            names.append(by_value[value])
    return names


def _read_tensor(path: Path, model: Any, t: Any, index: int, data: bytes,
                 shared: dict[tuple[int, str, tuple[int, ...]], np.ndarray]) -> Tensor:
    """One tensor; tensors on the same buffer share one array (the file stores it once)."""
    name = t.Name().decode(errors="replace") if t.Name() else f"tensor_{index}"
    ttype = int(t.Type())
    if ttype in _TYPE_UNSUPPORTED:
        raise ProfileError(f"tensor '{name}' has unsupported type {_TYPE_UNSUPPORTED[ttype]}",
                           path=path)
    dtype = _TYPE_NAMES.get(ttype)
    if dtype is None:
        raise ProfileError(f"tensor '{name}' has unknown type code {ttype}", path=path)
    shape = tuple(int(d) for d in _as_list(t.ShapeAsNumpy()))
    check_shape(name, shape, path)
    if any(d < 0 for d in shape):
        raise ProfileError(f"tensor '{name}' has a dynamic shape {shape}", path=path)
    if t.Sparsity() is not None:
        raise ProfileError(f"tensor '{name}' is sparse-encoded (TFLite EXPERIMENTAL_SPARSITY), "
                           "which the profiler does not decode", path=path)
    key = (int(t.Buffer()), dtype, shape)
    content = None if key in shared else _buffer_bytes(model, key[0], data)
    array = shared.get(key)
    if content is not None and len(content) > 0:
        array = np.frombuffer(content, dtype=dtype)  # a read-only view of the file's bytes
        if array.size != _prod(shape):
            raise ProfileError(f"tensor '{name}' holds {array.size} values for shape {shape}",
                               path=path)
        array = shared[key] = array.reshape(shape)
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    quantized_dimension = 0
    q = t.Quantization()
    if q is not None and q.ScaleLength() > 0:
        scale = tuple(float(s) for s in q.ScaleAsNumpy())
        zero_point = tuple(int(z) for z in _as_list(q.ZeroPointAsNumpy()))
        quantized_dimension = int(q.QuantizedDimension())
    return Tensor(id=index, name=name, shape=shape, dtype=dtype, data=array, scale=scale,
                  zero_point=zero_point, quantized_dimension=quantized_dimension,
                  is_variable=bool(t.IsVariable()))


def _buffer_bytes(model: Any, buffer_index: int, data: bytes) -> memoryview | None:
    if buffer_index <= 0 or buffer_index >= model.BuffersLength():
        return None  # buffer 0 is the empty sentinel: a non-constant tensor
    buf = model.Buffers(buffer_index)
    offset, size = int(buf.Offset()), int(buf.Size())
    if offset > 1 and size > 0:  # files > 2 GiB keep buffers after the flatbuffer
        if offset + size > len(data):
            raise ProfileError("buffer points past the end of the file (truncated?)")
        return memoryview(data)[offset:offset + size]
    if buf.DataIsNone():
        return None
    # A view into the file's bytes, never a copy: one buffer may back hundreds of tensors
    # (an 8 MiB buffer x 276 tensors was 2.3 GB when each took a copy); memory stays O(file).
    return memoryview(buf.DataAsNumpy())


def _constant_dequantize_outputs(ops: list[Any], op_names: list[str],
                                 tensors: list[Tensor]) -> dict[int, Tensor]:
    """Outputs of DEQUANTIZE ops fed by a constant -> that constant (float16/int8 weights)."""
    folded: dict[int, Tensor] = {}
    for op in ops:
        if op_names[op.OpcodeIndex()] != "DEQUANTIZE":
            continue
        ins, outs = _as_list(op.InputsAsNumpy()), _as_list(op.OutputsAsNumpy())
        if len(ins) == 1 and len(outs) == 1 and tensors[int(ins[0])].is_constant:
            folded[int(outs[0])] = tensors[int(ins[0])]
    return folded


def _options(op: Any, raw: str) -> dict[str, Any]:
    """The attributes the profile needs: kernel size, strides, depth multiplier, adj_x."""
    table = op.BuiltinOptions()
    if table is None:
        return {}
    if raw == "CONV_2D":
        from ethosu.vela.tflite.Conv2DOptions import Conv2DOptions as Opt
    elif raw == "DEPTHWISE_CONV_2D":
        from ethosu.vela.tflite.DepthwiseConv2DOptions import DepthwiseConv2DOptions as Opt
    elif raw in _POOLS:
        from ethosu.vela.tflite.Pool2DOptions import Pool2DOptions as Opt
    elif raw == "TRANSPOSE_CONV":
        from ethosu.vela.tflite.TransposeConvOptions import TransposeConvOptions as Opt
    elif raw == "BATCH_MATMUL":
        from ethosu.vela.tflite.BatchMatMulOptions import BatchMatMulOptions as Opt

        o = Opt()
        o.Init(table.Bytes, table.Pos)
        return {"adj_x": bool(o.AdjX()), "adj_y": bool(o.AdjY())}
    else:
        return {}
    o = Opt()
    o.Init(table.Bytes, table.Pos)
    attrs: dict[str, Any] = {"strides": (int(o.StrideH()), int(o.StrideW())),
                             "padding": "same" if int(o.Padding()) == 0 else "valid"}
    if raw == "TRANSPOSE_CONV":
        return attrs
    attrs["fused_activation"] = int(o.FusedActivationFunction())
    if raw in _POOLS:
        attrs["kernel"] = (int(o.FilterHeight()), int(o.FilterWidth()))
    else:
        attrs["dilations"] = (int(o.DilationHFactor()), int(o.DilationWFactor()))
    if raw == "DEPTHWISE_CONV_2D":
        attrs["depth_multiplier"] = int(o.DepthMultiplier())
    return attrs


def _as_list(values: Any) -> list[int]:
    """Vela's accessors return 0 for an absent vector."""
    if isinstance(values, int):
        return []
    return list(values)


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
