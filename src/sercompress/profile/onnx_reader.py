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

from ..errors import ProfileError
from .graph import Graph, Layer, Tensor

#: ONNX op type -> canonical op name (Conv is resolved per node: groups -> depthwise).
CANONICAL: dict[str, str] = {
    "Conv": "Conv2D", "QLinearConv": "Conv2D", "ConvInteger": "Conv2D",
    "Gemm": "FullyConnected", "MatMul": "FullyConnected", "QLinearMatMul": "FullyConnected",
    "MatMulInteger": "FullyConnected",
    "AveragePool": "AveragePool2D", "MaxPool": "MaxPool2D",
    "GlobalAveragePool": "Mean", "ReduceMean": "Mean",
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Concat": "Concatenation",
    "Reshape": "Reshape", "Flatten": "Reshape", "Unsqueeze": "Reshape", "Identity": "Reshape",
    "Dropout": "Reshape", "Squeeze": "Squeeze", "Transpose": "Transpose",
    "Softmax": "Softmax", "Relu": "Relu", "Sigmoid": "Logistic", "Tanh": "Tanh", "Pad": "Pad",
    "BatchNormalization": "BatchNorm", "QuantizeLinear": "Quantize",
    "DequantizeLinear": "Dequantize", "Shape": "Shape", "Gather": "Gather", "Cast": "Cast",
}

#: Where the weights of a quantized operator are (the rest are scales / zero points).
_QUANT_WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "QLinearConv": (3, 8), "QLinearMatMul": (3,), "ConvInteger": (1,), "MatMulInteger": (1,),
}
#: Operators whose constant inputs are weights (counted as parameters).
_WEIGHT_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div",
                         "BatchNormalization", "PRelu"})
#: The activation inputs of a quantized operator.
_QUANT_ACTIVATION_INPUTS: dict[str, tuple[int, ...]] = {
    "QLinearConv": (0,), "QLinearMatMul": (0,), "ConvInteger": (0,), "MatMulInteger": (0,),
    "QuantizeLinear": (0,), "DequantizeLinear": (0,),
}


def parse_onnx(path: str | Path, data: bytes, input_shape: Sequence[int] | None = None) -> Graph:
    """Parse ``data`` (the bytes of ``path``); ``ProfileError`` if not a usable ONNX model."""
    path = Path(path)
    model = _load(path, data)
    _fix_input_shapes(path, model, input_shape)
    try:
        import onnx

        model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as e:  # noqa: BLE001 - inference failures are the file's fault
        raise ProfileError(f"ONNX shape inference failed: {e}", path=path) from None
    try:
        return _Builder(path, model).build(len(data))
    except ProfileError:
        raise
    except Exception as e:  # noqa: BLE001
        raise ProfileError(f"cannot read ONNX graph ({type(e).__name__}: {e})", path=path) from None


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
    return model


def _fix_input_shapes(path: Path, model: Any, input_shape: Sequence[int] | None) -> None:
    """Fail on symbolic input dims, or overwrite them with ``input_shape``."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    for value in inputs:
        dims = value.type.tensor_type.shape.dim
        symbolic = [d.dim_param or "?" for d in dims if not (d.HasField("dim_value") and d.dim_value > 0)]
        if input_shape is not None:
            if len(inputs) != 1:
                raise ProfileError(f"--input-shape given but the model has {len(inputs)} inputs",
                                   path=path, key="input_shape")
            if len(input_shape) != len(dims):
                raise ProfileError(f"--input-shape {tuple(input_shape)} has rank {len(input_shape)}, "
                                   f"input '{value.name}' has rank {len(dims)}", path=path,
                                   key="input_shape")
            for d, n in zip(dims, input_shape):
                if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != int(n):
                    raise ProfileError(f"--input-shape {tuple(input_shape)} contradicts the fixed "
                                       f"dims of input '{value.name}'", path=path, key="input_shape")
                d.Clear()
                d.dim_value = int(n)
        elif symbolic:
            raise ProfileError(f"input '{value.name}' has symbolic dimensions {symbolic}; pass "
                               "--input-shape (e.g. 1,184,40,1) to profile it", path=path,
                               key="input_shape")


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
        for init in self.graph.initializer:
            self.constants[init.name] = self._constant(init.name, numpy_helper.to_array(init))
        for node in self.graph.node:
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value":
                        self.constants[node.output[0]] = self._constant(
                            node.output[0], numpy_helper.to_array(a.t))
        self.folded = self._fold_constant_casts()

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
        if any(d <= 0 for d in shape):
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
        names = [n for n in node.input if n]
        canonical = CANONICAL.get(op, "Unknown")
        inputs, weights = [], []
        if op in _QUANT_WEIGHT_INPUTS:
            weights = [self._tensor(node.input[i]) for i in _QUANT_WEIGHT_INPUTS[op]
                       if i < len(node.input) and node.input[i]]
        for i, name in enumerate(node.input):
            if not name:
                continue
            t = self._tensor(name)
            if op in _QUANT_ACTIVATION_INPUTS:
                if i in _QUANT_ACTIVATION_INPUTS[op] and not t.is_constant:
                    inputs.append(t)
            elif not t.is_constant:
                inputs.append(t)
            elif op in _WEIGHT_OPS:
                weights.append(t)
        attrs: dict[str, Any] = {a.name: _attr(node, a.name) for a in node.attribute
                                 if a.type in (1, 2, 3, 6, 7)}  # FLOAT, INT, STRING, FLOATS, INTS
        if canonical == "Conv2D":
            # the kernel is normally a (folded) constant; a computed one is the second input
            kernel = weights[0] if weights else inputs[1] if len(inputs) > 1 else None
            if kernel is None or len(kernel.shape) < 3:
                raise ProfileError(f"{op} node '{node.name}' has no readable kernel",
                                   path=self.path)
            canonical = self._conv_attrs(node, kernel, inputs, attrs)
        elif canonical in ("AveragePool2D", "MaxPool2D"):
            k = tuple(int(v) for v in attrs.get("kernel_shape", (1, 1)))
            attrs["kernel"] = k if len(k) == 2 else (k[0], 1)
        elif op == "Clip":
            canonical = self._clip(names)
        return Layer(index=index, op=canonical, raw_op=op, inputs=tuple(inputs),
                     weights=tuple(weights), outputs=tuple(self._tensor(n) for n in node.output if n),
                     attrs=attrs, name=node.name or (node.output[0] if node.output else op))

    def _conv_attrs(self, node: Any, kernel: Tensor, inputs: list[Tensor], attrs: dict[str, Any]) -> str:
        """Kernel size and channels per group; a conv with one input channel per group is depthwise."""
        ks = kernel.shape  # (cout, cin / groups, kh[, kw])
        attrs["kernel"] = (int(ks[2]), int(ks[3]) if len(ks) > 3 else 1)
        attrs["in_channels_per_group"] = int(ks[1])
        groups = int(attrs.get("group", 1))
        cin = inputs[0].shape[1] if inputs and len(inputs[0].shape) > 1 else 0
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
        return "Unknown"


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
    return tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in dims)


def _dtype(elem_type: int) -> str:
    from onnx import helper

    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).name
    except Exception:  # noqa: BLE001 - undefined element type
        return "float32"
