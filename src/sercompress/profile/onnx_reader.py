"""Read an ``.onnx`` file into the neutral :class:`~sercompress.profile.graph.Graph`.

Shapes come from ``onnx.shape_inference``; an input with a symbolic dimension
(a batch size ``N``, say) makes every figure undefined, so it is refused with
a :class:`ProfileError` asking for ``--input-shape`` unless one is given.

Like the TFLite reader, constant-fed ``DequantizeLinear`` / ``Cast`` nodes
(QDQ int8 or float16 weights) are folded into their consumer so the consumer
reports its stored weights. Constant inputs are weights only on operators that
have weights (convolution, Gemm/MatMul, element-wise arithmetic, batch norm);
elsewhere they are shapes, axes, paddings or quantization parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ProfileError, reading
from .graph import Graph, InputShapes, Layer, Tensor, check_shape
from .onnx_inputs import fix_input_shapes, is_static
from .ops import is_weight

#: ONNX op type -> canonical op name (:mod:`.ops`). Resolved per node: a Conv with one
#: input channel per group is depthwise, with three spatial dims Conv3D; a Gemm / MatMul
#: whose B is computed is an activation x activation MatMul; Clip(0, 6) is Relu6.
CANONICAL: dict[str, str] = {
    "Conv": "Conv2D", "QLinearConv": "Conv2D", "ConvInteger": "Conv2D",
    "ConvTranspose": "TransposeConv2D",
    "Gemm": "FullyConnected", "MatMul": "FullyConnected", "QLinearMatMul": "FullyConnected",
    "MatMulInteger": "FullyConnected", "LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN",
    "AveragePool": "AveragePool2D", "MaxPool": "MaxPool2D",
    "GlobalAveragePool": "Mean", "ReduceMean": "Mean", "GlobalMaxPool": "ReduceMax",
    "ReduceSum": "ReduceSum", "ReduceMax": "ReduceMax", "ReduceMin": "ReduceMin",
    "ReduceProd": "ReduceProd", "Softmax": "Softmax", "LogSoftmax": "LogSoftmax",
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Max": "Maximum", "Min": "Minimum",
    "Pow": "Pow", "PRelu": "PRelu", "Relu": "Relu", "Clip": "Clip", "LeakyRelu": "LeakyRelu",
    "HardSwish": "HardSwish", "HardSigmoid": "HardSigmoid", "Sigmoid": "Logistic",
    "Tanh": "Tanh", "Elu": "Elu", "Gelu": "Gelu", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
    "Reciprocal": "Reciprocal", "Abs": "Abs", "Neg": "Neg", "Floor": "Floor", "Ceil": "Ceil",
    "Round": "Round", "Sin": "Sin", "Cos": "Cos", "Not": "Not", "Equal": "Equal",
    "Less": "Less", "LessOrEqual": "LessEqual", "Greater": "Greater",
    "GreaterOrEqual": "GreaterEqual", "And": "And", "Or": "Or", "Where": "Where",
    "ArgMax": "ArgMax", "ArgMin": "ArgMin",
    "Pad": "Pad", "Transpose": "Transpose", "Concat": "Concatenation", "Split": "Split",
    "Slice": "StridedSlice", "Tile": "Tile", "Resize": "Resize", "Upsample": "Resize",
    "SpaceToDepth": "SpaceToDepth", "DepthToSpace": "DepthToSpace", "Expand": "BroadcastTo",
    "ConstantOfShape": "Fill", "Gather": "Gather", "Cast": "Cast", "Shape": "Shape",
    "Range": "Range",
    "Reshape": "Reshape", "Flatten": "Reshape", "Unsqueeze": "Reshape", "Identity": "Reshape",
    "Dropout": "Reshape", "Squeeze": "Squeeze",
    "BatchNormalization": "BatchNorm", "LayerNormalization": "LayerNorm",
    "InstanceNormalization": "InstanceNorm",
    "QuantizeLinear": "Quantize", "DequantizeLinear": "Dequantize",
    "Sum": "AddN", "Mod": "Mod", "Sign": "Sign", "LpNormalization": "L2Norm", "LRN": "LRN",
    "LpPool": "LpPool", "TopK": "TopK", "GatherND": "GatherND", "OneHot": "OneHot",
    "NonZero": "NonZero", "Size": "Shape", "Erf": "Erf", "Softplus": "Softplus", "Selu": "Selu",
    "ScatterND": "ScatterND",
}

#: Quantized operators: the positions of their operands (activation or stored weight);
#: the other inputs are scales and zero points.
_QUANT_OPERANDS: dict[str, tuple[int, ...]] = {
    "QLinearConv": (0, 3, 8), "QLinearMatMul": (0, 3), "ConvInteger": (0, 1),
    "MatMulInteger": (0, 1), "QuantizeLinear": (0,), "DequantizeLinear": (0,),
}
#: Position of the kernel / B matrix of convolutions and matrix products.
_MATRIX_INPUT: dict[str, int] = {"QLinearConv": 3, "QLinearMatMul": 3}


def parse_onnx(path: str | Path, data: bytes, input_shape: InputShapes | None = None) -> Graph:
    """Parse ``data`` (the bytes of ``path``); ``ProfileError`` if not a usable ONNX model.

    ``input_shape`` fixes symbolic input dims: one shape for a single-input model, or
    ``{input name: shape}`` for any number of inputs.
    """
    path = Path(path)
    model = _load(path, data)
    fix_input_shapes(path, model, input_shape)
    import onnx

    with reading(path, "ONNX shape inference failed", ProfileError, decoders=("onnx",)):
        model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    with reading(path, "cannot read ONNX graph", ProfileError, decoders=("onnx", "google")):
        return _Builder(path, model).build(len(data))


def _load(path: Path, data: bytes) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.ModelProto.FromString(data)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise ProfileError(f"neither a TFLite flatbuffer nor an ONNX protobuf ({e})",
                           path=path) from None
    if model.ir_version <= 0 or not model.opset_import or not model.graph.node:
        raise ProfileError("neither a TFLite flatbuffer nor an ONNX model "
                           "(no ir_version / opset / nodes)", path=path)
    _check_text(path, model)
    return model


def _check_text(path: Path, model: Any) -> None:
    """Protobuf hands back a name that is not UTF-8 as bytes; refuse it here, not deep in a record."""
    g = model.graph
    names = [n for node in g.node for n in (node.name, node.op_type, node.domain, *node.input, *node.output)]
    names += [v.name for v in (*g.input, *g.output, *g.value_info, *g.initializer)]
    names += [a.name for node in g.node for a in node.attribute]
    if any(isinstance(n, bytes) for n in names):
        raise ProfileError("corrupt ONNX file: a node or tensor name is not UTF-8 text", path=path)


class _Builder:
    """Walks the ONNX nodes once, turning each into a Layer."""

    def __init__(self, path: Path, model: Any):
        from onnx import numpy_helper

        self.path = path
        self.graph = model.graph
        self.ids: dict[str, int] = {}
        self.info: dict[str, tuple[tuple[int, ...], str]] = {}
        for v in (*self.graph.input, *self.graph.value_info, *self.graph.output):
            shape = _shape(v)
            if shape is not None:
                self.info[v.name] = (shape, _dtype(v.type.tensor_type.elem_type))
        self.constants: dict[str, Tensor] = {}
        # external data lives beside the model, never relative to the working directory
        base_dir = str(path.resolve().parent)
        for init in self.graph.initializer:
            check_shape(init.name, tuple(init.dims), path)  # before any array is built
            self.constants[init.name] = self._constant(init.name, numpy_helper.to_array(init, base_dir))
        for node in self.graph.node:
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value":
                        check_shape(node.output[0], tuple(a.t.dims), path)
                        self.constants[node.output[0]] = self._constant(
                            node.output[0], numpy_helper.to_array(a.t, base_dir))
        self.folded = self._fold_constant_casts()
        self.consumed = {n for node in self.graph.node for n in node.input}
        self.consumed |= {v.name for v in self.graph.output}

    def build(self, file_bytes: int) -> Graph:
        layers: list[Layer] = []
        for node in self.graph.node:
            if node.op_type == "Constant" or (node.output and node.output[0] in self.folded):
                continue
            layers.append(self._layer(node, len(layers)))
        inputs = tuple(self._tensor(v.name) for v in self.graph.input if v.name not in self.constants)
        return Graph(path=self.path, format="onnx", layers=tuple(layers), inputs=inputs,
                     outputs=tuple(self._tensor(v.name) for v in self.graph.output),
                     file_bytes=file_bytes)

    def _id(self, name: str) -> int:
        return self.ids.setdefault(name, len(self.ids))

    def _constant(self, name: str, array: np.ndarray) -> Tensor:
        return Tensor(id=self._id(name), name=name, shape=tuple(int(d) for d in array.shape),
                      dtype=array.dtype.name, data=array)

    def _tensor(self, name: str) -> Tensor:
        if name in self.folded:
            return self.folded[name]
        if name in self.constants:
            return self.constants[name]
        if name not in self.info:
            raise ProfileError(f"shape of tensor '{name}' could not be inferred", path=self.path)
        shape, dtype = self.info[name]
        check_shape(name, shape, self.path)
        if any(d < 0 for d in shape):
            raise ProfileError(f"tensor '{name}' has an unknown or dynamic shape {shape}; pass "
                               "--input-shape", path=self.path, key="input_shape")
        return Tensor(id=self._id(name), name=name, shape=shape, dtype=dtype)

    def _fold_constant_casts(self) -> dict[str, Tensor]:
        """Outputs of DequantizeLinear / Cast nodes fed by a constant -> that constant."""
        folded: dict[str, Tensor] = {}
        for node in self.graph.node:  # ONNX nodes are topologically sorted
            if node.op_type == "QuantizeLinear" and all(n in self.constants for n in node.input if n):
                # QAT exports quantize float weights in the graph: store what a runtime would
                self.constants[node.output[0]] = self._quantized_constant(node)
                folded[node.output[0]] = self.constants[node.output[0]]
                continue
            if node.op_type not in ("DequantizeLinear", "Cast") or node.input[0] not in self.constants:
                continue
            t = self.constants[node.input[0]]
            if node.op_type == "DequantizeLinear":
                scale = self.constants.get(node.input[1])
                zp = self.constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
                axis = _attr(node, "axis", 1)
                t = Tensor(id=t.id, name=t.name, shape=t.shape, dtype=t.dtype, data=t.data,
                           scale=tuple(float(s) for s in np.ravel(scale.data)) if scale else (),
                           zero_point=tuple(int(z) for z in np.ravel(zp.data)) if zp else (),
                           quantized_dimension=int(axis) % max(len(t.shape), 1))
            folded[node.output[0]] = t
        return folded

    def _quantized_constant(self, node: Any) -> Tensor:
        """QuantizeLinear of a constant: round(x / scale) + zero point, in the zero point's dtype."""
        x = self.constants[node.input[0]].data.astype(np.float64)
        scale = self.constants[node.input[1]].data.astype(np.float64)
        zp_t = self.constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        zp = zp_t.data if zp_t is not None else np.zeros((), np.uint8)
        if scale.ndim == 1 and x.ndim > 1:  # per-axis
            shape = [1] * x.ndim
            shape[int(_attr(node, "axis", 1)) % x.ndim] = scale.size
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        info = np.iinfo(zp.dtype)
        q = np.clip(np.rint(x / scale) + zp.astype(np.int64), info.min, info.max).astype(zp.dtype)
        return self._constant(node.output[0], q)

    def _layer(self, node: Any, index: int) -> Layer:
        op = node.op_type
        positions = {i: self._tensor(n) for i, n in enumerate(node.input) if n
                     and (op not in _QUANT_OPERANDS or i in _QUANT_OPERANDS[op])}
        canonical = self._canonical(node, positions)
        inputs = [t for t in positions.values() if not t.is_constant]
        weights = [t for t in positions.values() if t.is_constant
                   and (op in _QUANT_OPERANDS or is_weight(canonical, t.dtype))]
        attrs: dict[str, Any] = {a.name: _attr(node, a.name) for a in node.attribute
                                 if a.type in (1, 2, 3, 6, 7)}  # FLOAT, INT, STRING, FLOATS, INTS
        matrix = positions.get(_MATRIX_INPUT.get(op, 1))
        if canonical in ("Conv2D", "DepthwiseConv2D", "Conv3D", "TransposeConv2D"):
            canonical = self._conv_attrs(node, matrix, positions.get(0), attrs, canonical)
        elif canonical in ("FullyConnected", "MatMul"):
            a = positions.get(0)
            trans_a = op == "Gemm" and attrs.get("transA", 0)
            attrs["reduction"] = int(a.shape[0] if trans_a else a.shape[-1]) if a and a.shape else 0
        elif canonical in ("LSTM", "GRU", "RNN"):
            x = positions.get(0)
            attrs["steps"] = _prod(x.shape[:2]) if x is not None else 0
            attrs["matrix_elements"] = sum(positions[i].size for i in (1, 2) if i in positions)
        elif canonical in ("AveragePool2D", "MaxPool2D", "LpPool"):
            attrs["kernel"] = tuple(int(v) for v in attrs.get("kernel_shape", (1, 1)))
        return Layer(index=index, op=canonical, raw_op=op, inputs=tuple(inputs),
                     weights=tuple(weights), outputs=self._outputs(node), attrs=attrs,
                     name=node.name or (node.output[0] if node.output else op))

    def _canonical(self, node: Any, positions: dict[int, Tensor]) -> str:
        op = node.op_type
        canonical = CANONICAL.get(op, "Unknown")
        if op == "Clip":
            return self._clip([n for n in node.input if n])
        matrix = positions.get(_MATRIX_INPUT.get(op, 1))
        if canonical == "FullyConnected" and (matrix is None or not matrix.is_constant):
            return "MatMul"  # activation x activation
        return canonical

    def _outputs(self, node: Any) -> tuple[Tensor, ...]:
        """Outputs; an unread one without an inferred shape (a Dropout mask) is left out."""
        return tuple(self._tensor(n) for n in node.output
                     if n and (n in self.consumed or n in self.info or n in self.constants))

    def _conv_attrs(self, node: Any, kernel: Tensor | None, x: Tensor | None,
                    attrs: dict[str, Any], canonical: str) -> str:
        """Kernel window and channels per group; one input channel per group is depthwise."""
        if kernel is None or len(kernel.shape) < 3:
            raise ProfileError(f"{node.op_type} node '{node.name}' has no readable kernel",
                               path=self.path)
        ks = kernel.shape  # Conv: (cout, cin / groups, k...); ConvTranspose: (cin, cout / groups, k...)
        groups = int(attrs.get("group", 1))
        if groups < 1:
            raise ProfileError(f"{node.op_type} node '{node.name}' has group={groups}",
                               path=self.path)
        attrs["kernel"] = tuple(int(d) for d in ks[2:])
        transposed = canonical == "TransposeConv2D"
        attrs["in_channels_per_group"] = int(ks[0]) // groups if transposed else int(ks[1])
        if transposed:
            return canonical
        if len(ks) == 5:
            return "Conv3D"
        cin = x.shape[1] if x is not None and len(x.shape) > 1 else 0
        if groups > 1 and groups == cin and ks[1] == 1:
            attrs["depth_multiplier"] = int(ks[0]) // groups
            return "DepthwiseConv2D"
        return "Conv2D"

    def _clip(self, names: list[str]) -> str:
        bounds = [float(np.ravel(self.constants[n].data)[0]) if n in self.constants else None
                  for n in names[1:3]]
        bounds += [None] * (2 - len(bounds))
        if bounds[0] == 0.0 and bounds[1] == 6.0:
            return "Relu6"
        if bounds[0] == 0.0 and bounds[1] is None:
            return "Relu"
        return "Clip"


def _attr(node: Any, name: str, default: Any = None) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _shape(value: Any) -> tuple[int, ...] | None:
    """Static dims (-1 where symbolic); None when the shape is not known at all."""
    if not value.type.tensor_type.HasField("shape"):
        return None
    dims = value.type.tensor_type.shape.dim
    return tuple(int(d.dim_value) if is_static(d) else -1 for d in dims)


def _dtype(elem_type: int) -> str:
    from onnx import helper

    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).name
    except KeyError:  # UNDEFINED or an element type this onnx does not know
        return "float32"


def _prod(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
