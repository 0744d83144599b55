"""Per-block precision: one .tflite whose chosen blocks run int16x8 and the rest int8.

Why it is written here: the TFLite converter quantizes a whole model to one activation
type (``mlir_quantize(inference_type=...)``); its only per-layer switch keeps layers in
*float* (``QuantizationDebugOptions(denylisted_nodes=...)``), which a microcontroller pays
for in float kernels. So the model is converted twice from the same graph and the same
calibration data, once ``int8`` (int8 I/O) and once ``int16x8``, and the two files are
spliced: each compute operator is taken, with its weights, bias and calibrated output
quantisation, from the file of its block's precision, and a ``QUANTIZE`` operator
(a requantisation that TFLite Micro, LiteRT and Vela all run) is inserted wherever a
tensor crosses from one precision to the other or to a scale its consumer was calibrated
for. An all-int8 assignment therefore gives the int8 file's operators and outputs, and an
all-int16 one the int16x8 file's (tested).

A block is a Keras layer name up to its first ``_`` (:func:`~sercompress.compress.channels.block_of`:
Light-SERNet's ``path1``-``path3``, ``paths`` (the concatenation), ``lflb1``-``lflb4``,
``head``, ``gap``, ``classifier``), read from the converter's tensor names; an operator
whose output name holds no layer (the final softmax) belongs to its input's block.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass

from ..errors import ArtifactError

#: operators that only convert between precisions: never matched, re-created where needed
_CONVERSIONS = ("QUANTIZE", "DEQUANTIZE")


@dataclass(frozen=True)
class _Source:
    """Where an activation comes from: a compute op's output (``op`` >= 0) or a graph input."""

    op: int
    index: int


def splice(int8_data: bytes, int16_data: bytes, int16_blocks: Collection[str]) -> bytes:
    """The mixed file: ops of ``int16_blocks`` from ``int16_data``, every other op from ``int8_data``.

    Both files must be conversions of one model (same compute operators in the same
    order); ``int8_data`` must have int8 input and output, which the mixed file keeps.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    m8 = flatbuffer_utils.read_model_from_bytearray(bytearray(int8_data))
    m16 = flatbuffer_utils.read_model_from_bytearray(bytearray(int16_data))
    c8, c16 = _compute_ops(m8), _compute_ops(m16)
    blocks = op_blocks(int8_data)
    # operator k of one file is operator k of the other: same kind and same block, in the same order
    if [_op_name(m8, m8.subgraphs[0].operators[i]) for i in c8] != \
            [_op_name(m16, m16.subgraphs[0].operators[i]) for i in c16] or blocks != op_blocks(int16_data):
        raise ArtifactError("mixed precision: the int8 and int16x8 conversions have different operators")
    unknown = sorted(set(int16_blocks) - set(blocks))
    if unknown:
        raise ArtifactError(f"mixed precision: no block(s) {unknown} in the model (blocks: {sorted(set(blocks))})")
    precision = [16 if b in int16_blocks else 8 for b in blocks]
    data = bytes(flatbuffer_utils.convert_object_to_bytearray(_Splicer(m8, m16, c8, c16).build(precision)))
    computed = int16_compute_blocks(data)
    if computed != set(int16_blocks):  # the file is the claim: read it back
        raise ArtifactError(f"mixed precision: the spliced file computes {sorted(computed)} in int16, "
                            f"not the {sorted(int16_blocks)} asked for")
    return data


def int16_compute_blocks(data: bytes) -> set[str]:
    """The blocks whose compute operators write int16 activations in a .tflite file."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    graph = model.subgraphs[0]
    return {block for block, i in zip(op_blocks(data), _compute_ops(model), strict=True)
            if graph.tensors[graph.operators[i].outputs[0]].type == schema.TensorType.INT16}


def op_blocks(int8_data: bytes) -> list[str]:
    """The block of each compute operator of a converted file, in file order."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(int8_data))
    graph = model.subgraphs[0]
    producer = {t: k for k, i in enumerate(_compute_ops(model)) for t in graph.operators[i].outputs}
    blocks: list[str] = []
    for i in _compute_ops(model):
        op = graph.operators[i]
        block = _block_of_tensor(graph.tensors[op.outputs[0]].name)
        if block is None:  # e.g. the output softmax: the block of what it reads
            feeds = [producer[t] for t in op.inputs if t in producer]
            block = blocks[feeds[0]] if feeds else "input"
        blocks.append(block)
    return blocks


def _block_of_tensor(name: bytes | str | None) -> str | None:
    """``b"light_sernet/path1_relu/Relu;...;light_sernet/path1_conv/Conv2D"`` -> ``"path1"``.

    A fused op lists its layers activation first and the layer holding the kernel last
    (``relu1/Relu;bn1/...;conv1/Conv2D``): the last named layer is the op's.
    """
    from ..compress.channels import block_of

    text = name.decode() if isinstance(name, bytes) else (name or "")
    for part in reversed(text.split(";")):
        pieces = part.split("/")
        if len(pieces) >= 2 and pieces[1]:
            return block_of(pieces[1])
    return None


def _op_name(model, op) -> str:
    from tensorflow.lite.python import schema_py_generated as schema

    code = model.operatorCodes[op.opcodeIndex]
    number = max(code.builtinCode, code.deprecatedBuiltinCode)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(number, str(number))


def _compute_ops(model) -> list[int]:
    """Indices of the first subgraph's operators that compute (not precision conversions)."""
    return [i for i, op in enumerate(model.subgraphs[0].operators) if _op_name(model, op) not in _CONVERSIONS]


class _Splicer:
    """Builds the mixed model (flatbuffer object API) op by op, in the int8 file's order."""

    def __init__(self, m8, m16, c8: list[int], c16: list[int]) -> None:
        from tensorflow.lite.python import schema_py_generated as schema

        self.schema = schema
        self.models = {8: m8, 16: m16}
        self.compute = {8: c8, 16: c16}
        # the int8 file's header, rebuilt piece by piece (a deep copy would copy every weight to discard it)
        self.out = copy.copy(m8)
        self.out.buffers = [schema.BufferT()]  # buffer 0: the empty sentinel
        self.out.operatorCodes = []
        self.out.signatureDefs = []  # they name the int8 file's tensor indices
        self.out.metadata = [copy.copy(entry) for entry in m8.metadata or []]
        for entry in self.out.metadata:  # runtime version, conversion metadata
            self.out.buffers.append(copy.deepcopy(m8.buffers[entry.buffer]))
            entry.buffer = len(self.out.buffers) - 1
        self.out.subgraphs = [copy.copy(m8.subgraphs[0])]
        self.graph = self.out.subgraphs[0]
        self.graph.tensors, self.graph.operators = [], []
        self._codes: dict[tuple, int] = {}
        #: (source, bits) -> (merged tensor index, tensor index in that model) of an emitted activation
        self.emitted: dict[_Source, tuple[int, int, int]] = {}
        self.requantized: dict[tuple[_Source, int, int], int] = {}

    def build(self, precision: list[int]):
        g8 = self.models[8].subgraphs[0]
        for k in range(len(g8.inputs)):
            bits = self._first_reader_bits(k, precision)
            t = self._quantized_input(bits, k)
            self.emitted[_Source(-1, k)] = (self._copy_tensor(bits, t), bits, t)
        self.graph.inputs = [self.emitted[_Source(-1, k)][0] for k in range(len(g8.inputs))]
        for k, bits in enumerate(precision):
            self._emit_op(k, bits)
        self.graph.outputs = [self.emitted[self._trace(8, t)][0] for t in g8.outputs]
        return self.out

    def _first_reader_bits(self, k: int, precision: list[int]) -> int:
        """The precision of the first compute op that reads graph input ``k``: the input is
        given in it, so an int16 first layer sees the features at int16 resolution."""
        graph = self.models[8].subgraphs[0]
        for j, i in enumerate(self.compute[8]):
            if any(t >= 0 and self._trace(8, t) == _Source(-1, k) for t in graph.operators[i].inputs):
                return precision[j]
        return 8

    def _quantized_input(self, bits: int, k: int) -> int:
        """Graph input ``k`` of the ``bits`` file as an integer tensor (after its QUANTIZE, if any)."""
        model = self.models[bits]
        graph = model.subgraphs[0]
        t = graph.inputs[k]
        for op in graph.operators:
            if _op_name(model, op) == "QUANTIZE" and op.inputs[0] == t:
                return op.outputs[0]
        return t

    def _emit_op(self, k: int, bits: int) -> None:
        model = self.models[bits]
        graph = model.subgraphs[0]
        op = copy.deepcopy(graph.operators[self.compute[bits][k]])
        op.opcodeIndex = self._code(model.operatorCodes[op.opcodeIndex])
        op.inputs = [t if t < 0 else self._activation(bits, t) if _is_activation(model, t)
                     else self._copy_tensor(bits, t) for t in op.inputs]
        outputs = []
        for j, t in enumerate(graph.operators[self.compute[bits][k]].outputs):
            merged = self._copy_tensor(bits, t)
            self.emitted[_Source(k, j)] = (merged, bits, t)
            outputs.append(merged)
        op.outputs = outputs
        self.graph.operators.append(op)

    def _activation(self, bits: int, tensor: int) -> int:
        """The merged tensor holding ``tensor`` of the ``bits`` file, requantized when needed."""
        source = self._trace(bits, tensor)
        merged, from_bits, from_tensor = self.emitted[source]
        if from_bits == bits and from_tensor == tensor:
            return merged
        want = self.models[bits].subgraphs[0].tensors[tensor]
        have = self.graph.tensors[merged]
        if want.type == have.type and _same_quantization(want, have):
            return merged
        key = (source, bits, tensor)
        if key not in self.requantized:
            target = self._copy_tensor(bits, tensor)
            name = want.name.decode() if isinstance(want.name, bytes) else str(want.name)
            self.graph.tensors[target].name = f"{name}/requantized_int{bits}".encode()
            self.graph.operators.append(self._quantize_op(merged, target))
            self.requantized[key] = target
        return self.requantized[key]

    def _trace(self, bits: int, tensor: int) -> _Source:
        """The compute op output (or graph input) ``tensor`` of the ``bits`` file derives from,
        following precision conversions back."""
        graph = self.models[bits].subgraphs[0]
        model = self.models[bits]
        while True:
            if tensor in graph.inputs:
                return _Source(-1, list(graph.inputs).index(tensor))
            i = next((i for i, op in enumerate(graph.operators) if tensor in op.outputs), None)
            if i is None:
                raise ArtifactError(f"mixed precision: tensor {tensor} of the int{bits} file has no producer")
            op = graph.operators[i]
            if _op_name(model, op) in _CONVERSIONS:
                tensor = op.inputs[0]
                continue
            k = self.compute[bits].index(i)
            return _Source(k, list(op.outputs).index(tensor))

    def _quantize_op(self, source: int, target: int):
        op = self.schema.OperatorT()
        code = self.schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = self.schema.BuiltinOperator.QUANTIZE
        code.version = 2  # QUANTIZE with an int16 side (TFLite's op_version.cc)
        op.opcodeIndex = self._code(code)
        op.inputs, op.outputs = [source], [target]
        return op

    def _code(self, code) -> int:
        key = (code.builtinCode, code.deprecatedBuiltinCode, code.customCode, code.version)
        if key not in self._codes:
            self._codes[key] = len(self.out.operatorCodes)
            self.out.operatorCodes.append(copy.deepcopy(code))
        return self._codes[key]

    def _copy_tensor(self, bits: int, tensor: int) -> int:
        model = self.models[bits]
        t = copy.deepcopy(model.subgraphs[0].tensors[tensor])
        data = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        if data is not None and len(data):
            buffer = self.schema.BufferT()
            buffer.data = data
            t.buffer = len(self.out.buffers)
            self.out.buffers.append(buffer)
        else:
            t.buffer = 0
        self.graph.tensors.append(t)
        return len(self.graph.tensors) - 1


def _is_activation(model, tensor: int) -> bool:
    """A tensor without constant data: computed at run time."""
    t = model.subgraphs[0].tensors[tensor]
    data = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
    return data is None or len(data) == 0


def _same_quantization(a, b) -> bool:
    qa, qb = a.quantization, b.quantization
    if qa is None or qb is None:
        return qa is qb
    return (list(qa.scale if qa.scale is not None else []) == list(qb.scale if qb.scale is not None else [])
            and list(qa.zeroPoint if qa.zeroPoint is not None else [])
            == list(qb.zeroPoint if qb.zeroPoint is not None else []))
