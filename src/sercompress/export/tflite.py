"""Keras model -> TFLite flatbuffer bytes, with the converter's PTQ modes.

One function, :func:`to_tflite`, owns every converter switch so that the
compression runner, the profiler's test fixtures and the benchmarks all make
the same files. Modes follow the TFLite converter's post-training options:

``None``      plain float32 conversion (QAT models still become integer: the
              fake-quant nodes carry the ranges, see below).
``dynamic``   int8 weights, float activations (dynamic-range quantisation).
``float16``   float16 weights, dequantised at load time.
``int8``      full-integer: int8 weights and activations, calibrated on
              ``representative`` (required unless the model was trained with
              QAT, whose ranges are learnt). ``int8_io`` makes the input and
              output tensors int8 too (what an MCU wants).
``int16x8``   int16 activations, int8 weights (needs ``representative``).
``mixed``     ``int16x8`` in the Keras blocks ``int16_blocks`` (e.g. ``lflb1``), ``int8``
              elsewhere, with requantisations between them (:mod:`.mixed`); the input and
              output tensors are integers in the precision of the block reading / writing them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import ArtifactError

PtqMode = Literal["dynamic", "float16", "int8", "int16x8", "mixed"]
PTQ_MODES: tuple[str, ...] = ("dynamic", "float16", "int8", "int16x8", "mixed")
#: modes whose files TFLite Micro runs with integer kernels only
INTEGER_MODES: tuple[str, ...] = ("int8", "int16x8", "mixed")
#: Representative samples used for calibration: TFLite's docs suggest ~100-500.
MAX_REPRESENTATIVE = 200


def to_tflite(
    model: Any,
    mode: PtqMode | None = None,
    representative: np.ndarray | None = None,
    int8_io: bool = False,
    int16_blocks: Sequence[str] = (),
) -> bytes:
    """Convert a tf_keras model to TFLite flatbuffer bytes.

    ``representative`` is a float32 batch ``[N, *input_shape]`` (drawn from the
    training split, never the test split) used to calibrate activation ranges.
    """
    if mode is None and _is_quantization_aware(model):
        mode = "int8"  # a QAT model is only meaningful converted with its learnt ranges
    if (mode == "mixed") != bool(int16_blocks):
        raise ValueError("int16_blocks go with mode='mixed', and mode='mixed' needs them")
    if mode == "mixed":
        from .mixed import splice

        data = splice(convert_once(model, "int8", representative, int8_io=True),
                      convert_once(model, "int16x8", representative), int16_blocks)
    else:
        data = convert_once(model, mode, representative, int8_io)
    if mode in INTEGER_MODES:  # the integer files TFLite Micro runs: branch order for its arena
        from .oporder import smallest_arena_order

        data = smallest_arena_order(data)
    return data


def convert_once(model: Any, mode: PtqMode | None, representative: np.ndarray | None, int8_io: bool = False) -> bytes:
    """One run of the TFLite converter in ``mode`` (not ``mixed``), operators as it emits them."""
    from ..tf_env import tf

    if mode is not None and mode not in PTQ_MODES:
        raise ValueError(f"unknown PTQ mode {mode!r}; valid: {PTQ_MODES}")
    if int8_io and mode != "int8":
        raise ValueError("int8_io needs mode='int8'")
    t = tf()
    if _has_recurrent_loop(model):
        # A recurrent layer that is not unrolled converts only from a fixed-batch signature (with a
        # dynamic batch the converter fails on TensorListReserve): export it as deployed, at batch 1,
        # where a Keras LSTM fuses into one UNIDIRECTIONAL_SEQUENCE_LSTM op holding its weights once.
        spec = t.TensorSpec([1, *model.input_shape[1:]], model.inputs[0].dtype)
        fn = t.function(lambda x: model(x, training=False)).get_concrete_function(spec)
        converter = t.lite.TFLiteConverter.from_concrete_functions([fn], model)
    else:
        converter = t.lite.TFLiteConverter.from_concrete_functions([_inference_function(model)])
    if mode is not None:
        converter.optimizations = [t.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [t.float16]
    elif mode == "int8":
        if representative is not None:
            converter.representative_dataset = _representative(representative)
        elif not _is_quantization_aware(model):
            raise ValueError("mode='int8' needs representative data for a model without QAT")
        converter.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = t.int8
            converter.inference_output_type = t.int8
    elif mode == "int16x8":
        if representative is None:
            raise ValueError("mode='int16x8' needs representative data")
        converter.representative_dataset = _representative(representative)
        converter.target_spec.supported_ops = [
            t.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    from ..tf_env import native_output_silenced

    try:
        with native_output_silenced():  # the quantizer prints its settings from C++
            data = bytes(converter.convert())
    except Exception as e:  # the converter raises a zoo of types; name the mode
        raise ArtifactError(f"TFLite conversion (mode={mode}) failed: {e}") from e
    return data


def _inference_function(model: Any) -> Any:
    """The model's inference graph as one concrete function (input named as the model's input).

    Why not ``from_keras_model``: that path first saves the model as a Keras SavedModel, whose
    layer-by-layer serialisation traced every layer's functions and took 4 s of a 4.3 s float
    conversion of Light-SERNet (and 3.5 s of an int8 one) on one core. Converted from the frozen
    function, the operators, weights and outputs are the same; the file has no SignatureDef
    (TFLite Micro does not read one; LiteRT's ``get_input_details`` works as before).
    """
    from ..tf_env import tf

    t = tf()
    spec = t.TensorSpec([None, *model.input_shape[1:]], model.inputs[0].dtype, name=model.input_names[0])
    return t.function(lambda x: model(x, training=False)).get_concrete_function(spec)


def _representative(x: np.ndarray):
    """Generator factory the converter calls: one sample per step, batch of 1."""
    data = np.asarray(x, dtype=np.float32)[:MAX_REPRESENTATIVE]
    if data.ndim < 2 or len(data) == 0:
        raise ValueError("representative data must be a non-empty batch [N, ...]")

    def gen() -> Iterator[list[np.ndarray]]:
        for i in range(len(data)):
            yield [data[i : i + 1]]

    return gen


def _has_recurrent_loop(model: Any) -> bool:
    """True if any layer is a Keras RNN (LSTM, GRU, ...) that is not unrolled."""
    return any(hasattr(layer, "cell") and not getattr(layer, "unroll", True)
               for layer in getattr(model, "layers", ()))


def _is_quantization_aware(model: Any) -> bool:
    """True if any layer is a tfmot QuantizeWrapper / QuantizeLayer."""
    return any(type(layer).__name__.startswith("Quantize") for layer in getattr(model, "layers", ()))
