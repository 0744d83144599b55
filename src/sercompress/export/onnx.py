"""Keras model -> ONNX bytes via tf2onnx.

ONNX is the second deployment format (ONNX Runtime on the host, and the
profiler's cross-check of the TFLite graph). Opset 17 is the floor the suite
promises; QAT models export with QuantizeLinear / DequantizeLinear pairs when
tf2onnx can map their fake-quant nodes, otherwise :class:`ArtifactError` says
why and the caller records it.
"""

from __future__ import annotations

from typing import Any

from ..errors import ArtifactError

DEFAULT_OPSET = 17
INPUT_NAME = "features"


def to_onnx(model: Any, opset: int = DEFAULT_OPSET) -> bytes:
    """Convert a tf_keras model to a serialized ONNX ModelProto (batch dim dynamic)."""
    if opset < DEFAULT_OPSET:
        raise ValueError(f"opset must be >= {DEFAULT_OPSET}, got {opset}")
    import tf2onnx  # heavy; imported only when exporting

    from ..tf_env import tf

    t = tf()
    shape = (None, *tuple(model.input_shape[1:]))
    spec = (t.TensorSpec(shape, t.float32, name=INPUT_NAME),)
    # tf2onnx numbers the nodes it inserts from one process-wide counter: without this reset a
    # file's bytes would depend on how many models the process converted before (a worker's history).
    # The module imported first takes a number when it loads, during the first conversion otherwise.
    import tf2onnx.rewriter.loop_rewriter_base

    tf2onnx.utils.INTERNAL_NAME = 1
    try:
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    except Exception as e:  # tf2onnx raises bare exceptions for unsupported graphs
        raise ArtifactError(f"ONNX export (opset {opset}) failed: {type(e).__name__}: {e}") from e
    return proto.SerializeToString()
