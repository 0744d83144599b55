"""Write a one-op int8 SVDF .tflite (the keyword-spotting layer Keras has no layer for).

The TFLite converter only emits SVDF from hand-written TF graphs, so the file is written
with the flatbuffer builders Arm Vela ships (``ethosu.vela.tflite``), laid out as
TFLite Micro's int8 SVDF kernel expects: int8 input / feature weights / output, int16
time weights and state (a variable tensor), int32 bias.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np

_INT8, _INT16, _INT32 = 9, 7, 2


def write_svdf_tflite(path: Path, batch: int = 1, input_size: int = 16, units: int = 8,
                      rank: int = 2, memory: int = 10, seed: int = 0) -> Path:
    """An int8 SVDF model: ``[batch, input_size] -> [batch, units]``."""
    from ethosu.vela.tflite import (
        Buffer,
        Model,
        Operator,
        OperatorCode,
        QuantizationParameters,
        SubGraph,
        SVDFOptions,
        Tensor,
    )
    from ethosu.vela.tflite.BuiltinOperator import BuiltinOperator
    from ethosu.vela.tflite.BuiltinOptions import BuiltinOptions

    rng = np.random.default_rng(seed)
    filters = units * rank
    b = flatbuffers.Builder(4096)

    def vector(start, items, prepend):
        start(b, len(items))
        for item in reversed(items):
            prepend(item)
        return b.EndVector()

    # (name, shape, type, data or None, scale, zero point, variable)
    tensors = [
        ("input", (batch, input_size), _INT8, None, 0.05, 0, False),
        ("weights_feature", (filters, input_size), _INT8,
         rng.integers(-127, 128, (filters, input_size), dtype=np.int8), 0.01, 0, False),
        ("weights_time", (filters, memory), _INT16,
         rng.integers(-2000, 2000, (filters, memory), dtype=np.int16), 0.0005, 0, False),
        ("bias", (units,), _INT32, rng.integers(-100, 100, units, dtype=np.int32), 0.002 * 0.0005, 0,
         False),
        ("activation_state", (batch, filters * memory), _INT16, None, 0.002, 0, True),
        ("output", (batch, units), _INT8, None, 0.1, 0, False),
    ]
    buffers = [b""] + [t[3].tobytes() if t[3] is not None else b"" for t in tensors]
    buffer_offsets = []
    for data in buffers:
        data_vec = b.CreateByteVector(data) if data else None
        Buffer.Start(b)
        if data_vec is not None:
            Buffer.AddData(b, data_vec)
        buffer_offsets.append(Buffer.End(b))
    tensor_offsets = []
    for i, (name, shape, ttype, data, scale, zp, variable) in enumerate(tensors):
        name_off = b.CreateString(name)
        shape_off = vector(Tensor.StartShapeVector, list(shape), b.PrependInt32)
        scale_off = vector(QuantizationParameters.StartScaleVector, [scale], b.PrependFloat32)
        zp_off = vector(QuantizationParameters.StartZeroPointVector, [zp], b.PrependInt64)
        QuantizationParameters.Start(b)
        QuantizationParameters.AddScale(b, scale_off)
        QuantizationParameters.AddZeroPoint(b, zp_off)
        quant = QuantizationParameters.End(b)
        Tensor.Start(b)
        Tensor.AddShape(b, shape_off)
        Tensor.AddType(b, ttype)
        Tensor.AddBuffer(b, i + 1 if data is not None else 0)
        Tensor.AddName(b, name_off)
        Tensor.AddQuantization(b, quant)
        Tensor.AddIsVariable(b, variable)
        tensor_offsets.append(Tensor.End(b))
    SVDFOptions.Start(b)
    SVDFOptions.AddRank(b, rank)
    options = SVDFOptions.End(b)
    inputs = vector(Operator.StartInputsVector, [0, 1, 2, 3, 4], b.PrependInt32)
    outputs = vector(Operator.StartOutputsVector, [5], b.PrependInt32)
    Operator.Start(b)
    Operator.AddOpcodeIndex(b, 0)
    Operator.AddInputs(b, inputs)
    Operator.AddOutputs(b, outputs)
    Operator.AddBuiltinOptionsType(b, BuiltinOptions.SVDFOptions)
    Operator.AddBuiltinOptions(b, options)
    op = Operator.End(b)
    tensors_vec = vector(SubGraph.StartTensorsVector, tensor_offsets, b.PrependUOffsetTRelative)
    sg_inputs = vector(SubGraph.StartInputsVector, [0], b.PrependInt32)
    sg_outputs = vector(SubGraph.StartOutputsVector, [5], b.PrependInt32)
    ops_vec = vector(SubGraph.StartOperatorsVector, [op], b.PrependUOffsetTRelative)
    SubGraph.Start(b)
    SubGraph.AddTensors(b, tensors_vec)
    SubGraph.AddInputs(b, sg_inputs)
    SubGraph.AddOutputs(b, sg_outputs)
    SubGraph.AddOperators(b, ops_vec)
    subgraph = SubGraph.End(b)
    OperatorCode.Start(b)
    OperatorCode.AddDeprecatedBuiltinCode(b, BuiltinOperator.SVDF)
    OperatorCode.AddBuiltinCode(b, BuiltinOperator.SVDF)
    OperatorCode.AddVersion(b, 3)
    code = OperatorCode.End(b)
    codes_vec = vector(Model.StartOperatorCodesVector, [code], b.PrependUOffsetTRelative)
    subgraphs_vec = vector(Model.StartSubgraphsVector, [subgraph], b.PrependUOffsetTRelative)
    buffers_vec = vector(Model.StartBuffersVector, buffer_offsets, b.PrependUOffsetTRelative)
    Model.Start(b)
    Model.AddVersion(b, 3)
    Model.AddOperatorCodes(b, codes_vec)
    Model.AddSubgraphs(b, subgraphs_vec)
    Model.AddBuffers(b, buffers_vec)
    b.Finish(Model.End(b), file_identifier=b"TFL3")
    path = Path(path)
    path.write_bytes(bytes(b.Output()))
    return path
