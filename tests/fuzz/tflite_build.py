"""Build small TFLite flatbuffers directly (Vela's generated schema, no TensorFlow).

For cases a converter never writes but a hostile file can: hundreds of tensors
sharing one buffer, ranks of 40 or 500, dims of 2**31 - 1. The files are real
flatbuffers with the ``TFL3`` identifier, read by the same code as any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FLOAT32, INT32 = 0, 2
ADD, RESHAPE, RELU = 0, 22, 19


@dataclass(frozen=True)
class T:
    shape: tuple[int, ...]
    buffer: int = 0          # 0 = no data (an activation)
    type: int = FLOAT32


def build_tflite(tensors: Sequence[T], buffers: Sequence[bytes], ops: Sequence[tuple[int, list[int], list[int]]],
                 inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
    """``ops`` are (builtin code, input tensor ids, output tensor ids); buffer 0 is added empty."""
    import flatbuffers
    from ethosu.vela.tflite import Buffer, Model, Operator, OperatorCode, SubGraph, Tensor

    b = flatbuffers.Builder(1024)

    def vector(start, items, prepend):
        start(b, len(items))
        for x in reversed(items):
            prepend(x)
        return b.EndVector()

    buf_offsets = []
    for data in [b"", *buffers]:
        vec = b.CreateNumpyVector(__import__("numpy").frombuffer(data, dtype="uint8")) if data else None
        Buffer.Start(b)
        if vec is not None:
            Buffer.AddData(b, vec)
        buf_offsets.append(Buffer.End(b))
    codes = sorted({code for code, _, _ in ops})
    code_offsets = []
    for code in codes:
        OperatorCode.Start(b)
        OperatorCode.AddDeprecatedBuiltinCode(b, min(code, 127))
        OperatorCode.AddBuiltinCode(b, code)
        OperatorCode.AddVersion(b, 1)
        code_offsets.append(OperatorCode.End(b))
    tensor_offsets = []
    for i, t in enumerate(tensors):
        name = b.CreateString(f"t{i}")
        shape = vector(Tensor.StartShapeVector, list(t.shape), b.PrependInt32)
        Tensor.Start(b)
        Tensor.AddShape(b, shape)
        Tensor.AddType(b, t.type)
        Tensor.AddBuffer(b, t.buffer)
        Tensor.AddName(b, name)
        tensor_offsets.append(Tensor.End(b))
    op_offsets = []
    for code, ins, outs in ops:
        iv = vector(Operator.StartInputsVector, ins, b.PrependInt32)
        ov = vector(Operator.StartOutputsVector, outs, b.PrependInt32)
        Operator.Start(b)
        Operator.AddOpcodeIndex(b, codes.index(code))
        Operator.AddInputs(b, iv)
        Operator.AddOutputs(b, ov)
        op_offsets.append(Operator.End(b))
    tv = vector(SubGraph.StartTensorsVector, tensor_offsets, b.PrependUOffsetTRelative)
    inv = vector(SubGraph.StartInputsVector, list(inputs), b.PrependInt32)
    outv = vector(SubGraph.StartOutputsVector, list(outputs), b.PrependInt32)
    opv = vector(SubGraph.StartOperatorsVector, op_offsets, b.PrependUOffsetTRelative)
    SubGraph.Start(b)
    SubGraph.AddTensors(b, tv)
    SubGraph.AddInputs(b, inv)
    SubGraph.AddOutputs(b, outv)
    SubGraph.AddOperators(b, opv)
    sg = SubGraph.End(b)
    sgv = vector(Model.StartSubgraphsVector, [sg], b.PrependUOffsetTRelative)
    cv = vector(Model.StartOperatorCodesVector, code_offsets, b.PrependUOffsetTRelative)
    bv = vector(Model.StartBuffersVector, buf_offsets, b.PrependUOffsetTRelative)
    Model.Start(b)
    Model.AddVersion(b, 3)
    Model.AddOperatorCodes(b, cv)
    Model.AddSubgraphs(b, sgv)
    Model.AddBuffers(b, bv)
    b.Finish(Model.End(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def shared_buffer_model(n_tensors: int, buffer_bytes: int) -> bytes:
    """A chain of ADDs, each adding a constant of a different shape on ONE shared buffer."""
    n = buffer_bytes // 4
    tensors = [T((1, n))]
    ops = []
    for i in range(n_tensors):
        const = len(tensors)
        tensors.append(T((1,) * (i % 5) + (n,), buffer=1))   # same bytes, a different shape
        out = len(tensors)
        tensors.append(T((1, n)))
        ops.append((ADD, [out - 2 if i else 0, const], [out]))
    return build_tflite(tensors, [bytes(buffer_bytes)], ops, [0], [len(tensors) - 1])


def shaped_model(shape: Sequence[int]) -> bytes:
    """One RELU whose input and output have ``shape`` (a rank or size a converter never writes)."""
    return build_tflite([T(tuple(shape)), T(tuple(shape))], [], [(RELU, [0], [1])], [0], [1])
